//! Minimal `major.minor.patch` version numbers.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// Parse a version such as `"1.4.0"`.
    pub fn parse(s: &str) -> Result<Version, String> {
        let err = || format!("invalid version: {s}");
        let parts: Vec<&str> = s.trim().split('.').collect();
        if parts.len() != 3 {
            return Err(err());
        }
        let num = |p: &str| p.parse::<u64>().map_err(|_| err());
        Ok(Version {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            patch: num(parts[2])?,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The highest valid version in `tags`; invalid tags are skipped.
pub fn latest(tags: &[&str]) -> Option<Version> {
    tags.iter().filter_map(|t| Version::parse(t).ok()).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_version() {
        let v = Version::parse("1.4.0").unwrap();
        assert_eq!(v, Version { major: 1, minor: 4, patch: 0 });
        assert_eq!(v.to_string(), "1.4.0");
    }

    #[test]
    fn orders_numerically() {
        assert_eq!(latest(&["1.9.0", "1.10.0", "junk"]).unwrap().to_string(), "1.10.0");
    }
}
