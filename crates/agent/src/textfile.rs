//! Files as the agent reads and writes them. The model sees one form of every file: UTF-8 text with `\n` line
//! endings, no byte-order mark, and leading tabs shown as four spaces each (small models write spaces). A change is
//! written back in the form the file had: its encoding (UTF-8, UTF-16 LE/BE, or an 8-bit encoding kept byte for
//! byte as Latin-1), its byte-order mark, each unchanged line's own ending and indentation, the file's usual
//! ending and indentation character on new lines, and its final newline or lack of one. A diff then shows only the
//! lines the change needs.
//!
//! A file that cannot be read this way (NUL bytes that are not UTF-16, or over the size limit) is [`Unreadable`]:
//! the agent names it to the model and in the log, and refuses edits to it with the reason.

use std::path::Path;

/// Spaces a leading tab is shown as, and how many spaces of a new line become one tab again.
const TAB_WIDTH: usize = 4;

/// Why a file is not shown to the model or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// Not UTF-8 and no NUL bytes: ISO-8859-1, Windows-1252 or another 8-bit encoding. Decoding as Latin-1 maps
    /// every byte to one character and back, so unchanged bytes stay exactly as they were whatever the encoding.
    Latin1,
}

/// One line of the file as it is on disk (decoded) and as the model sees it.
#[derive(Debug, Clone)]
struct Line {
    /// The line's text as in the file, without its ending.
    raw: String,
    /// `"\r\n"`, `"\n"`, `"\r"` (classic Mac), or `""` for a last line without a newline.
    ending: &'static str,
}

/// A decoded file: the text the model sees and what it takes to write a changed version back in the same form.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The model's view: `\n` endings, no BOM, leading tabs as spaces in a tab-indented file.
    pub text: String,
    encoding: Encoding,
    bom: bool,
    /// Indented lines mostly start with a tab.
    tabs: bool,
    lines: Vec<Line>,
}

/// `line` with each four leading spaces as a tab (the rest of its indentation kept).
fn retab(line: &str) -> String {
    let indent = line.len() - line.trim_start_matches(['\t', ' ']).len();
    let width: usize = line[..indent].chars().map(|c| if c == '\t' { TAB_WIDTH } else { 1 }).sum();
    format!("{}{}{}", "\t".repeat(width / TAB_WIDTH), " ".repeat(width % TAB_WIDTH), &line[indent..])
}

/// Reads `path`: `Ok(None)` when it does not exist.
pub fn read(path: &Path) -> Result<Option<TextFile>, Unreadable> {
    match std::fs::read(path) {
        Ok(bytes) => decode(&bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Unreadable { reason: format!("cannot be read: {e}") }),
    }
}

/// The model's view of `path`, or `None` when it does not exist or is unreadable.
pub fn read_text(path: &Path) -> Option<String> {
    read(path).ok().flatten().map(|file| file.text)
}

/// Writes `text` (in the model's form) to `path`, in the form the file has now; a new file is written as given.
pub fn write_text(path: &Path, text: &str) -> Result<(), String> {
    let bytes = match read(path).map_err(|u| u.reason)? {
        Some(existing) => existing.encode(text)?,
        None => text.as_bytes().to_vec(),
    };
    std::fs::write(path, bytes).map_err(|e| format!("cannot write: {e}"))
}

/// Decodes a file's bytes. Errors: NUL bytes in something that is not UTF-16 (a binary file).
pub fn decode(bytes: &[u8]) -> Result<TextFile, Unreadable> {
    let (encoding, bom, body) = sniff(bytes);
    let decoded = match encoding {
        Encoding::Utf8 => match std::str::from_utf8(body) {
            Ok(text) if !text.contains('\0') => text.to_owned(),
            Ok(_) => return Err(binary()),
            // Not UTF-8: an 8-bit encoding, unless it is binary.
            Err(_) if body.contains(&0) => return Err(binary()),
            Err(_) => return decode_latin1(bytes),
        },
        Encoding::Utf16Le | Encoding::Utf16Be => decode_utf16(body, encoding)?,
        Encoding::Latin1 => body.iter().map(|&b| char::from(b)).collect(),
    };
    Ok(TextFile::from_decoded(&decoded, encoding, bom))
}

fn decode_latin1(bytes: &[u8]) -> Result<TextFile, Unreadable> {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    Ok(TextFile::from_decoded(&text, Encoding::Latin1, false))
}

fn binary() -> Unreadable {
    Unreadable { reason: "holds NUL bytes and is not UTF-16 text (a binary file?)".into() }
}

/// The encoding, whether a byte-order mark says so, and the bytes after the mark.
fn sniff(bytes: &[u8]) -> (Encoding, bool, &[u8]) {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (Encoding::Utf8, true, rest),
        [0xFF, 0xFE, rest @ ..] => (Encoding::Utf16Le, true, rest),
        [0xFE, 0xFF, rest @ ..] => (Encoding::Utf16Be, true, rest),
        _ => {
            // UTF-16 without a mark: ASCII text then has a NUL in every other byte.
            let pairs = bytes.len() / 2;
            let zeros_at = |odd: usize| bytes.iter().skip(odd).step_by(2).filter(|&&b| b == 0).count();
            if pairs >= 2 && bytes.len().is_multiple_of(2) && zeros_at(1) * 10 >= pairs * 9 && zeros_at(0) == 0 {
                (Encoding::Utf16Le, false, bytes)
            } else if pairs >= 2 && bytes.len().is_multiple_of(2) && zeros_at(0) * 10 >= pairs * 9 && zeros_at(1) == 0 {
                (Encoding::Utf16Be, false, bytes)
            } else {
                (Encoding::Utf8, false, bytes)
            }
        }
    }
}

fn decode_utf16(body: &[u8], encoding: Encoding) -> Result<String, Unreadable> {
    if !body.len().is_multiple_of(2) {
        return Err(Unreadable { reason: "is UTF-16 with an odd number of bytes".into() });
    }
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if encoding == Encoding::Utf16Le { u16::from_le_bytes(pair) } else { u16::from_be_bytes(pair) }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| Unreadable { reason: "is not valid UTF-16 text".into() })
}

impl TextFile {
    fn from_decoded(decoded: &str, encoding: Encoding, bom: bool) -> Self {
        let mut lines = Vec::new();
        let mut rest = decoded;
        while !rest.is_empty() {
            let (line, ending, next) = match rest.find(['\n', '\r']) {
                Some(i) if rest[i..].starts_with("\r\n") => (&rest[..i], "\r\n", &rest[i + 2..]),
                Some(i) if rest[i..].starts_with('\r') => (&rest[..i], "\r", &rest[i + 1..]),
                Some(i) => (&rest[..i], "\n", &rest[i + 1..]),
                None => (rest, "", ""),
            };
            lines.push(Line { raw: line.to_owned(), ending });
            rest = next;
        }
        let starts = |c: char| lines.iter().filter(|l| l.raw.starts_with(c)).count();
        let tabs = starts('\t') > starts(' ');
        let mut file = Self { text: String::new(), encoding, bom, tabs, lines };
        file.text = file
            .lines
            .iter()
            .map(|l| format!("{}{}", file.view(&l.raw), if l.ending.is_empty() { "" } else { "\n" }))
            .collect();
        file
    }

    /// How the model sees one line of this file.
    fn view(&self, raw: &str) -> String {
        if !self.tabs {
            return raw.to_owned();
        }
        let indent = raw.len() - raw.trim_start_matches(['\t', ' ']).len();
        let expanded: String =
            raw[..indent].chars().map(|c| if c == '\t' { " ".repeat(TAB_WIDTH) } else { c.to_string() }).collect();
        format!("{expanded}{}", &raw[indent..])
    }

    /// A new line (from the model) in this file's indentation: in a tab-indented file each four leading spaces
    /// become a tab.
    fn unview(&self, line: &str) -> String {
        if self.tabs { retab(line) } else { line.to_owned() }
    }

    /// The ending new lines get: the file's most common one (`\n` for a file without line breaks).
    fn usual_ending(&self) -> &'static str {
        let count = |ending: &str| self.lines.iter().filter(|l| l.ending == ending).count();
        let (crlf, lf, cr) = (count("\r\n"), count("\n"), count("\r"));
        if cr > crlf && cr > lf {
            "\r"
        } else if crlf > lf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// `text` (a new file, `\n` endings and spaces) in the form of this one, a sibling: its usual line ending and,
    /// when it is tab-indented, tabs for each four leading spaces. For the regression test that ships beside the
    /// repository's own tests; written as UTF-8 whatever this file's encoding.
    pub fn new_file_like(&self, text: &str) -> String {
        let ending = self.usual_ending();
        text.lines().map(|line| format!("{}{ending}", self.unview(line))).collect()
    }

    /// `text` (the model's form of a changed file) in this file's form. Unchanged lines keep their own bytes;
    /// a new line takes the ending of the line before it (the file's usual one at the start). Errors: a character
    /// the file's encoding cannot hold.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, String> {
        let old: Vec<String> = self.lines.iter().map(|l| self.view(&l.raw)).collect();
        let new: Vec<&str> = text
            .split_inclusive('\n')
            .map(|l| l.strip_suffix('\n').unwrap_or(l))
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let old_refs: Vec<&str> = old.iter().map(String::as_str).collect();
        let mut out: Vec<(String, &'static str)> = Vec::with_capacity(new.len());
        let mut ending = self.usual_ending();
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_refs, &new) {
            match op {
                similar::DiffOp::Equal { old_index, len, .. } => {
                    for line in &self.lines[old_index..old_index + len] {
                        let kept = if line.ending.is_empty() { self.usual_ending() } else { line.ending };
                        out.push((line.raw.clone(), kept));
                        ending = kept;
                    }
                }
                similar::DiffOp::Delete { .. } => {}
                similar::DiffOp::Insert { new_index, new_len, .. } => {
                    for line in &new[new_index..new_index + new_len] {
                        out.push((self.unview(line), ending));
                    }
                }
                // A line rewritten in place keeps the ending and the indentation character of the line it replaces.
                similar::DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                    for (i, line) in new[new_index..new_index + new_len].iter().enumerate() {
                        let replaced = self.lines.get(old_index + i).filter(|_| i < old_len);
                        if let Some(old) = replaced {
                            ending = if old.ending.is_empty() { self.usual_ending() } else { old.ending };
                        }
                        let tabbed = replaced.is_some_and(|old| old.raw.starts_with('\t'));
                        out.push((if tabbed { retab(line) } else { self.unview(line) }, ending));
                    }
                }
            }
        }
        // The file's last line keeps its final newline, or its lack of one, whatever the model sent.
        let final_newline = self.lines.last().is_none_or(|l| !l.ending.is_empty());
        if let (false, Some(last)) = (final_newline, out.last_mut()) {
            last.1 = "";
        }
        let joined: String = out.iter().map(|(line, ending)| format!("{line}{ending}")).collect();
        self.encode_chars(&joined)
    }

    fn encode_chars(&self, text: &str) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::with_capacity(text.len() + 3);
        match self.encoding {
            Encoding::Utf8 => {
                if self.bom {
                    bytes.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
                }
                bytes.extend_from_slice(text.as_bytes());
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let le = self.encoding == Encoding::Utf16Le;
                let units = self.bom.then_some(0xFEFF_u16).into_iter().chain(text.encode_utf16());
                for unit in units {
                    bytes.extend_from_slice(&if le { unit.to_le_bytes() } else { unit.to_be_bytes() });
                }
            }
            Encoding::Latin1 => {
                for c in text.chars() {
                    let byte = u8::try_from(u32::from(c)).map_err(|_| {
                        format!("the file is in an 8-bit encoding (kept byte for byte) that cannot hold `{c}`")
                    })?;
                    bytes.push(byte);
                }
            }
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Decodes `before`, lets `change` edit the model's view, and returns the bytes written back.
    fn round_trip(before: &[u8], change: impl Fn(&str) -> String) -> Vec<u8> {
        let file = decode(before).unwrap();
        file.encode(&change(&file.text)).unwrap()
    }

    fn fix(text: &str) -> String {
        text.replace("a - b", "a + b")
    }

    #[test]
    fn crlf_stays_crlf_and_only_the_changed_line_differs() {
        let before = b"def add(a, b):\r\n    return a - b\r\n\r\nX = 1\r\n";
        assert!(!decode(before).unwrap().text.contains('\r'), "the model sees LF");
        let after = round_trip(before, fix);
        assert_eq!(after, b"def add(a, b):\r\n    return a + b\r\n\r\nX = 1\r\n");
    }

    #[test]
    fn mixed_endings_keep_each_lines_own() {
        let before = b"a = 1\r\nb = 2\ndef add(a, b):\r\n    return a - b\nc = 3\r\n";
        let after = round_trip(before, |t| fix(t).replace("c = 3\n", "c = 3\nd = 4\n"));
        assert_eq!(after, b"a = 1\r\nb = 2\ndef add(a, b):\r\n    return a + b\nc = 3\r\nd = 4\r\n");
    }

    #[test]
    fn a_rewritten_line_keeps_its_own_ending() {
        let before = b"a = 1\r\nx = a - b\ny = 2\r\n";
        assert_eq!(round_trip(before, fix), b"a = 1\r\nx = a + b\ny = 2\r\n");
    }

    #[test]
    fn classic_mac_endings_are_lines_too() {
        let before = b"def double(x):\r    return x + 2\r";
        assert_eq!(decode(before).unwrap().text, "def double(x):\n    return x + 2\n");
        assert_eq!(round_trip(before, |t| t.replace("x + 2", "x * 2")), b"def double(x):\r    return x * 2\r");
    }

    #[test]
    fn the_one_tab_indented_line_of_a_spaces_file_keeps_its_tab() {
        let before = b"def inc(x):\n    return x + 1\n\n\ndef dec(x):\n\treturn x + 1\n";
        let after = round_trip(before, |t| t.replace("\treturn x + 1", "    return x - 1"));
        assert_eq!(after, b"def inc(x):\n    return x + 1\n\n\ndef dec(x):\n\treturn x - 1\n");
    }

    #[test]
    fn no_final_newline_stays_without_one() {
        let before = b"def add(a, b):\n    return a - b";
        assert_eq!(round_trip(before, |t| format!("{}\n", fix(t))), b"def add(a, b):\n    return a + b");
        let with = b"x = 1\n";
        assert_eq!(round_trip(with, |t| t.trim_end().replace('1', "2")), b"x = 2\n");
    }

    #[test]
    fn tabs_come_back_as_tabs() {
        let before = b"def add(a, b):\n\tif a:\n\t\treturn a - b\n\treturn b\n";
        let file = decode(before).unwrap();
        assert_eq!(file.text, "def add(a, b):\n    if a:\n        return a - b\n    return b\n");
        let after = file.encode(&file.text.replace("        return a - b\n", "        c = a + b\n        return c\n"));
        assert_eq!(after.unwrap(), b"def add(a, b):\n\tif a:\n\t\tc = a + b\n\t\treturn c\n\treturn b\n");
    }

    #[test]
    fn two_and_four_space_indents_are_left_as_the_model_keeps_them() {
        for before in [&b"def f(a):\n  if a:\n    return a - 1\n"[..], b"def f(a):\n    if a:\n        return a - 1\n"]
        {
            let after = round_trip(before, |t| t.replace("a - 1", "a + 1"));
            assert_eq!(after, before.iter().map(|&b| if b == b'-' { b'+' } else { b }).collect::<Vec<u8>>());
        }
    }

    #[test]
    fn a_new_file_takes_a_siblings_endings_and_tabs() {
        let sibling = decode(b"def test_a():\r\n\tassert f(1) == 2\r\n").unwrap();
        assert_eq!(
            sibling.new_file_like("def test_b():\n    if x:\n        assert f(2) == 3\n"),
            "def test_b():\r\n\tif x:\r\n\t\tassert f(2) == 3\r\n"
        );
        let plain = decode(b"def test_a():\n    assert True\n").unwrap();
        assert_eq!(plain.new_file_like("a\n    b\n"), "a\n    b\n");
    }

    #[test]
    fn a_utf8_bom_is_kept() {
        let before = b"\xEF\xBB\xBFname = 'caf\xC3\xA9'\nx = a - b\n";
        let file = decode(before).unwrap();
        assert!(file.text.starts_with("name"), "the model does not see the BOM");
        assert_eq!(file.encode(&fix(&file.text)).unwrap(), b"\xEF\xBB\xBFname = 'caf\xC3\xA9'\nx = a + b\n");
    }

    #[test]
    fn utf16_with_and_without_bom_round_trips() {
        let text = "x = a - b\r\ny = 'é'\r\n";
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for before in [le, be] {
            let file = decode(&before).unwrap();
            assert_eq!(file.text, "x = a - b\ny = 'é'\n");
            let after = file.encode(&fix(&file.text)).unwrap();
            assert_eq!(after.len(), before.len());
            assert_eq!(decode(&after).unwrap().text, "x = a + b\ny = 'é'\n");
            assert_eq!(after.first(), before.first(), "BOM and byte order kept");
        }
    }

    #[test]
    fn latin1_is_kept_byte_for_byte_and_a_character_it_cannot_hold_is_refused() {
        let before = b"# -*- coding: latin-1 -*-\nGREETING = 'Ol\xE1'\nx = a - b\n";
        let file = decode(before).unwrap();
        assert!(file.text.contains("Olá"), "{}", file.text);
        assert_eq!(
            file.encode(&fix(&file.text)).unwrap(),
            b"# -*- coding: latin-1 -*-\nGREETING = 'Ol\xE1'\nx = a + b\n"
        );
        let err = file.encode(&file.text.replace("Olá", "Olá €")).unwrap_err();
        assert!(err.contains("cannot hold `€`"), "{err}");
    }

    #[test]
    fn binary_is_unreadable_with_a_reason() {
        let err = decode(b"\x7fELF\x00\x01\x02garbage\x00").unwrap_err();
        assert!(err.reason.contains("NUL"), "{err:?}");
    }

    #[test]
    fn an_empty_file_takes_what_the_model_writes() {
        assert_eq!(round_trip(b"", |_| "x = 1\n".into()), b"x = 1\n");
    }
}
