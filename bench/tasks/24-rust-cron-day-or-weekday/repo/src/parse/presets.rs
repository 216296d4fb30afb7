use crate::error::ParseError;

const PRESETS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

pub(crate) fn expand(name: &str) -> Result<&'static str, ParseError> {
    let lower = name.to_ascii_lowercase();
    PRESETS
        .iter()
        .find(|(preset, _)| *preset == lower)
        .map(|(_, expression)| *expression)
        .ok_or_else(|| ParseError::UnknownPreset(name.to_string()))
}
