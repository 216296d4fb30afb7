//! A reproduction check: a short script the model writes from the issue before it changes any code.
//!
//! Most issues ask for behaviour the existing tests do not cover, so the suite passes before and after a wrong fix
//! and tells a small model nothing. A check that fails now gives the edit loop the signal a failing test would: the
//! expected values in front of the model, and a way to tell a fix from an echo. A check that passes already, or
//! cannot even run, proves nothing and is dropped. The check is never committed.

use std::path::{Path, PathBuf};

/// The languages a check can be written in, decided by the project's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckLanguage {
    Python,
    JavaScript,
    Rust,
}

impl CheckLanguage {
    /// The language of the files the fix is likely to touch; a Cargo project is Rust whatever else it holds.
    pub fn detect(root: &Path, chosen: &[String]) -> Option<Self> {
        if root.join("Cargo.toml").is_file() {
            return Some(Self::Rust);
        }
        chosen.iter().find_map(|path| match path.rsplit_once('.').map(|(_, ext)| ext) {
            Some("py") => Some(Self::Python),
            Some("js" | "cjs") => Some(Self::JavaScript),
            _ => None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Python => "Python",
            Self::JavaScript => "JavaScript",
            Self::Rust => "Rust",
        }
    }

    /// Where the check lives, relative to the workspace root. The names are in the workspace's git excludes.
    pub fn path(self) -> &'static str {
        match self {
            Self::Python => ".codingworker_check.py",
            Self::JavaScript => ".codingworker_check.js",
            Self::Rust => "tests/codingworker_check.rs",
        }
    }

    pub fn command(self) -> Vec<String> {
        let argv: &[&str] = match self {
            Self::Python => &["python3", ".codingworker_check.py"],
            Self::JavaScript => &["node", ".codingworker_check.js"],
            Self::Rust => &["cargo", "test", "--quiet", "--offline", "--test", "codingworker_check"],
        };
        argv.iter().map(|s| (*s).to_owned()).collect()
    }

    /// What to ask for: the shape of a check the runner above can execute.
    pub fn request(self) -> &'static str {
        match self {
            Self::Python => {
                "Write a short Python script that reproduces the issue: import from the code above and assert the \
                 exact results the issue expects for its own examples (no other cases, no files), so the script \
                 fails now and passes once the issue is fixed. Reply with only the script in one ```python block."
            }
            Self::JavaScript => {
                "Write a short Node.js script that reproduces the issue: require the code above with a relative path \
                 and use assert.deepStrictEqual with the exact results the issue expects for its own examples (no \
                 other cases, no files), so the script fails now and passes once the issue is fixed. Reply with only \
                 the script in one ```js block."
            }
            Self::Rust => {
                "Write a Rust integration test that reproduces the issue: `use` the crate's public items and \
                 assert_eq! the exact results the issue expects for its own examples (no other cases), in one \
                 #[test] function, so it fails now and passes once the issue is fixed. Reply with only the test in \
                 one ```rust block."
            }
        }
    }

    /// Output that means the check itself is broken rather than the code under test.
    fn is_broken(self, output: &str) -> bool {
        let signs: &[&str] = match self {
            Self::Python => {
                &["SyntaxError", "IndentationError", "ModuleNotFoundError", "ImportError", "FileNotFoundError"]
            }
            Self::JavaScript => &["SyntaxError", "Cannot find module", "ReferenceError", "ENOENT"],
            Self::Rust => &["error[E", "error: expected", "could not compile"],
        };
        signs.iter().any(|sign| output.contains(sign))
    }
}

/// A check the model wrote, kept only once it is known to fail for the issue's reason.
#[derive(Debug, Clone)]
pub struct ReproCheck {
    pub language: CheckLanguage,
    pub code: String,
}

impl ReproCheck {
    /// The check's source from a model reply: the first fenced block, or the whole reply when it has none.
    pub fn from_reply(language: CheckLanguage, reply: &str) -> Option<Self> {
        let code = first_fenced_block(reply).unwrap_or_else(|| reply.trim().to_owned());
        let code = match language {
            // Models often write `fn main` or forget the attribute; either way the test harness must see a test.
            CheckLanguage::Rust if !code.contains("#[test]") => code.replacen("fn main()", "#[test]\nfn main()", 1),
            // Node has no global `assert`; models use it anyway.
            CheckLanguage::JavaScript
                if !code.contains("require('assert')")
                    && !code.contains("require(\"assert\")")
                    && !code.contains("node:assert") =>
            {
                format!("const assert = require('assert');\n{code}")
            }
            _ => code,
        };
        let asserts = match language {
            CheckLanguage::Python => code.contains("assert"),
            CheckLanguage::JavaScript => code.contains("assert"),
            CheckLanguage::Rust => code.contains("assert") && code.contains("#[test]"),
        };
        asserts.then_some(Self { language, code })
    }

    /// Writes the check into the workspace; the guard removes it again however the attempt ends.
    pub fn install(&self, root: &Path) -> std::io::Result<InstalledCheck> {
        let path = root.join(self.language.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, format!("{}\n", self.code.trim_end()))?;
        Ok(InstalledCheck { path })
    }

    /// Why a baseline run disqualifies the check, if it does.
    pub fn baseline_problem(&self, passed: bool, output: &str) -> Option<String> {
        if passed {
            Some("the check passes before any change, so it does not reproduce the issue".into())
        } else if self.language.is_broken(output) {
            Some("the check does not run (syntax, import or compile error)".into())
        } else {
            None
        }
    }
}

/// Removes the check file when dropped: it must never reach a commit.
#[derive(Debug)]
pub struct InstalledCheck {
    path: PathBuf,
}

impl Drop for InstalledCheck {
    fn drop(&mut self) {
        // Best effort: the file is also covered by the workspace's git excludes.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn first_fenced_block(reply: &str) -> Option<String> {
    let mut lines = reply.lines().skip_while(|l| !l.trim_start().starts_with("```"));
    lines.next()?;
    let body: Vec<&str> = lines.take_while(|l| !l.trim_start().starts_with("```")).collect();
    let text = body.join("\n");
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_the_project_and_the_chosen_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            CheckLanguage::detect(dir.path(), &["README.md".into(), "a/b.py".into()]),
            Some(CheckLanguage::Python)
        );
        assert_eq!(CheckLanguage::detect(dir.path(), &["text.js".into()]), Some(CheckLanguage::JavaScript));
        assert_eq!(CheckLanguage::detect(dir.path(), &["main.go".into()]), None);
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").unwrap();
        assert_eq!(CheckLanguage::detect(dir.path(), &["x.py".into()]), Some(CheckLanguage::Rust));
    }

    #[test]
    fn a_check_is_the_fenced_script_and_must_assert_something() {
        let reply =
            "Here is the script:\n```python\nfrom slug import slugify\nassert slugify('A B') == 'a-b'\n```\nDone.";
        let check = ReproCheck::from_reply(CheckLanguage::Python, reply).unwrap();
        assert_eq!(check.code, "from slug import slugify\nassert slugify('A B') == 'a-b'");
        assert!(ReproCheck::from_reply(CheckLanguage::Python, "```python\nprint(slugify('A'))\n```").is_none());
        let js = ReproCheck::from_reply(CheckLanguage::JavaScript, "```js\nassert.strictEqual(f(), 1);\n```").unwrap();
        assert!(js.code.starts_with("const assert = require('assert');\n"));
        let rust = ReproCheck::from_reply(CheckLanguage::Rust, "```rust\nfn main() {\n    assert_eq!(f(), 1);\n}\n```");
        assert!(rust.unwrap().code.starts_with("#[test]\nfn main()"));
    }

    #[test]
    fn only_a_check_that_fails_for_a_real_reason_is_kept() {
        let check = ReproCheck { language: CheckLanguage::Python, code: "assert False".into() };
        assert!(check.baseline_problem(true, "").is_some());
        assert!(check.baseline_problem(false, "  File \"x\", line 1\nSyntaxError: invalid syntax").is_some());
        assert!(check.baseline_problem(false, "ModuleNotFoundError: No module named 'slugs'").is_some());
        assert!(check.baseline_problem(false, "AssertionError").is_none());
        assert!(check.baseline_problem(false, "ValueError: invalid duration: '1h30m'").is_none());
    }

    #[test]
    fn an_installed_check_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let check = ReproCheck { language: CheckLanguage::Rust, code: "#[test]\nfn t() { assert!(true); }".into() };
        let installed = check.install(dir.path()).unwrap();
        let path = dir.path().join("tests/codingworker_check.rs");
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        drop(installed);
        assert!(!path.exists());
    }
}
