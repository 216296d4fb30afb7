//! Reproduction tests: short tests written from the issue's own examples, in the repository's framework and layout.
//!
//! Most issues describe behaviour no existing test covers, so the suite passes before and after a wrong change and
//! tells nothing. The model writes only the imports and assertions (what small models do reliably); this module wraps
//! them into a test file of the repository's framework (pytest or unittest, `node --test` or jest, a Cargo
//! integration test) at a path where that framework finds it. A test is kept only when it runs and fails on the base
//! commit for a reason in the code under test; one that passes already, or that is broken itself (syntax, import,
//! name errors, an API that does not exist), proves nothing and is dropped. The test that shows the fix ships in the
//! pull request as a regression test.
//!
//! A first round gets at most a third of the search budget. When the search then ends with nothing able to judge a
//! candidate (a green suite, no test kept) and time is left, a second round asks for more samples, and a test kept
//! there judges the candidates so far and those still to come.

use std::path::{Path, PathBuf};

use crate::repo::RepoFile;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::repo::compact_failure;
use crate::select::Evaluated;
use crate::{
    Agent, AgentError, AgentEvent, AgentOutcome, Call, Search, candidate_prefix, candidates, code_section, examples,
    grounding, imports, issue_section, issue_tests,
};

/// The test framework reproduction tests are written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framework {
    Pytest,
    Unittest,
    NodeTest,
    Jest,
    /// A Cargo integration test; the crate's name as code `use`s it.
    Cargo {
        crate_name: String,
    },
}

/// Where and how reproduction tests are written and run in one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub framework: Framework,
    /// The directory (relative, `""` for the root) where the repository keeps its tests.
    pub dir: String,
    /// A JavaScript repository's own package (from its `package.json`), which an issue's example `require`s by name.
    pub package: Option<NpmPackage>,
}

/// A JavaScript repository's own package: its `name` and the file its `main` points at (relative to the root,
/// `index.js` when `package.json` gives none), so a test that `require`s the package by name loads the checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmPackage {
    pub name: String,
    pub main: String,
}

impl NpmPackage {
    /// The package described by `manifest` (a `package.json`'s text), or `None` without a usable `name`.
    pub fn from_manifest(manifest: &str) -> Option<NpmPackage> {
        let json: serde_json::Value = serde_json::from_str(manifest).ok()?;
        let name = json.get("name")?.as_str()?.trim();
        if name.is_empty() || name.starts_with('.') || name.contains(['\'', '"', '\\']) {
            return None;
        }
        let main = json.get("main").and_then(|m| m.as_str()).unwrap_or("index.js");
        let main = main.trim().trim_start_matches("./");
        let main = if main.is_empty() { "index.js" } else { main };
        Some(NpmPackage { name: name.to_owned(), main: main.to_owned() })
    }

    /// `line` with each `require` of the package by name (`'tidylog'`, `'tidylog/src/time'`) made a path from a test
    /// file `up` (`"../"` per directory) below the root: the issue's example requires the published package, which is
    /// not installed in the checkout, and the test died of `Cannot find module` (bench task 23, 2026-12-07T062700Z:
    /// all six samples broken, no test kept, the fix went out as a draft).
    fn localise(&self, line: &str, up: &str) -> String {
        let mut line = line.to_owned();
        for quote in ['\'', '"'] {
            let whole = format!("require({quote}{}{quote})", self.name);
            line = line.replace(&whole, &format!("require({quote}{up}{}{quote})", self.main));
            let sub = format!("require({quote}{}/", self.name);
            line = line.replace(&sub, &format!("require({quote}{up}"));
        }
        line
    }
}

impl Layout {
    /// The layout the repository's own tests use, or `None` for a language without support.
    pub fn detect(root: &Path, files: &[RepoFile], pytest_available: bool) -> Option<Layout> {
        if let Ok(manifest) = std::fs::read_to_string(root.join("Cargo.toml")) {
            let crate_name = package_name(&manifest)?.replace('-', "_");
            return Some(Layout { framework: Framework::Cargo { crate_name }, dir: "tests".into(), package: None });
        }
        let tests = |ext: &[&str]| -> Vec<&RepoFile> {
            files.iter().filter(|f| f.is_test && ext.iter().any(|e| f.path.ends_with(e))).collect()
        };
        let python = tests(&[".py"]);
        let javascript = tests(&[".js", ".cjs"]);
        let sources = |ext: &str| files.iter().filter(|f| !f.is_test && f.path.ends_with(ext)).count();
        if !javascript.is_empty() || (python.is_empty() && root.join("package.json").is_file() && sources(".js") > 0) {
            let jest = std::fs::read_to_string(root.join("package.json")).is_ok_and(|p| p.contains("jest"));
            let framework = if jest { Framework::Jest } else { Framework::NodeTest };
            let dir = common_dir(&javascript).unwrap_or_else(|| "test".into());
            let package = std::fs::read_to_string(root.join("package.json"))
                .ok()
                .and_then(|manifest| NpmPackage::from_manifest(&manifest));
            return Some(Layout { framework, dir, package });
        }
        if python.is_empty() && sources(".py") == 0 {
            return None;
        }
        // A suite written with unittest only is kept that way; pytest runs unittest files too.
        let unittest_only = !python.is_empty()
            && python.iter().all(|f| f.content.contains("unittest") && !f.content.contains("pytest"))
            && !root.join("conftest.py").is_file();
        let framework = if pytest_available && !unittest_only { Framework::Pytest } else { Framework::Unittest };
        let dir = common_dir(&python)
            .unwrap_or_else(|| if root.join("tests").is_dir() { "tests".into() } else { String::new() });
        Some(Layout { framework, dir, package: None })
    }

    pub fn language(&self) -> &'static str {
        match self.framework {
            Framework::Pytest | Framework::Unittest => "Python",
            Framework::NodeTest | Framework::Jest => "JavaScript",
            Framework::Cargo { .. } => "Rust",
        }
    }

    /// The Markdown fence's language tag for its tests.
    pub fn fence(&self) -> &'static str {
        match self.framework {
            Framework::Pytest | Framework::Unittest => "python",
            Framework::NodeTest | Framework::Jest => "js",
            Framework::Cargo { .. } => "rust",
        }
    }

    /// The path of the `index`-th reproduction test for issue `issue` (0 is the plain name), relative to the root.
    pub fn path(&self, issue: u64, index: usize) -> String {
        let suffix = if index == 0 { String::new() } else { format!("_{}", index + 1) };
        let name = match self.framework {
            Framework::Pytest | Framework::Unittest => format!("test_issue_{issue}{suffix}.py"),
            Framework::NodeTest | Framework::Jest => format!("issue-{issue}{}.test.js", suffix.replace('_', "-")),
            Framework::Cargo { .. } => format!("issue_{issue}{suffix}.rs"),
        };
        if self.dir.is_empty() { name } else { format!("{}/{name}", self.dir) }
    }

    /// The command that runs one reproduction test file alone.
    pub fn command(&self, path: &str) -> Vec<String> {
        let argv: Vec<&str> = match &self.framework {
            Framework::Pytest => vec!["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", path],
            Framework::Unittest => vec!["python3", path],
            Framework::NodeTest => vec!["node", "--test", path],
            Framework::Jest => vec!["npx", "--no-install", "jest", path],
            Framework::Cargo { .. } => {
                let name = path.trim_start_matches("tests/").trim_end_matches(".rs");
                return ["cargo", "test", "--quiet", "--offline", "--test", name].map(String::from).to_vec();
            }
        };
        argv.into_iter().map(String::from).collect()
    }

    /// Extra environment for that command: a test run as a script finds the repository's modules from the root
    /// (and from `src/`, the other common place).
    pub fn env(&self) -> Vec<(String, String)> {
        match self.framework {
            Framework::Unittest => vec![("PYTHONPATH".into(), ".:src".into())],
            _ => Vec::new(),
        }
    }

    /// What to ask the model for: the assertions only; the file around them is ours.
    pub fn request(&self) -> String {
        match &self.framework {
            Framework::Pytest | Framework::Unittest => "Write a short Python test for the issue: the import lines \
                 for the code above (from the module's import path) and `assert` lines that check the exact results \
                 the issue expects for its own examples, so they fail now and pass once the issue is fixed. No \
                 functions, no classes, no other cases. Reply with only the code in one ```python block."
                .to_owned(),
            Framework::NodeTest | Framework::Jest => "Write a short JavaScript test for the issue: `require` lines \
                 for the code above with paths from the repository root (like require('./lib/name')) and \
                 assert.deepStrictEqual lines that check the exact results the issue expects for its own examples, \
                 so they fail now and pass once the issue is fixed. No functions, no other cases. Reply with only \
                 the code in one ```js block."
                .to_owned(),
            Framework::Cargo { crate_name } => format!(
                "Write a short Rust test for the issue: `use {crate_name}::...;` lines for the public items above \
                 and assert_eq! lines that check the exact results the issue expects for its own examples, so they \
                 fail now and pass once the issue is fixed. No functions, no other cases. Reply with only the code \
                 in one ```rust block."
            ),
        }
    }

    /// The whole test file around the model's `code` (its imports and assertions), or `None` when the code asserts
    /// nothing.
    pub fn wrap(&self, issue: u64, path: &str, code: &str) -> Option<String> {
        let code = code.replace("\r\n", "\n");
        // `pytest.raises`, `assert.throws` and `#[should_panic]` check too: "raises X" is a common expectation.
        if !["assert", "raises", "throws", "should_panic"].iter().any(|check| code.contains(check)) {
            return None;
        }
        let header = format!("Regression test for issue #{issue}, written by CodingWorker from the issue's examples.");
        Some(match &self.framework {
            Framework::Pytest | Framework::Unittest => wrap_python(&self.framework, issue, &header, &code),
            Framework::NodeTest | Framework::Jest => {
                let depth = path.matches('/').count();
                let up = if depth == 0 { "./".to_owned() } else { "../".repeat(depth) };
                let (imports, body) = split_header(&code, |l| l.contains("require("));
                let imports: Vec<String> = imports
                    .iter()
                    .filter(|l| !l.contains("require('assert')") && !l.contains("require(\"assert\")"))
                    .filter(|l| !l.contains("node:assert") && !l.contains("node:test"))
                    .map(|l| {
                        let l = l
                            .replace("require('./", &format!("require('{up}"))
                            .replace("require(\"./", &format!("require(\"{up}"));
                        match &self.package {
                            Some(package) => package.localise(&l, &up),
                            None => l,
                        }
                    })
                    .collect();
                let runner =
                    if self.framework == Framework::Jest { "" } else { "const test = require('node:test');\n" };
                format!(
                    "// {header}\n{runner}const assert = require('node:assert');\n{}\ntest('issue #{issue}', () => {{\n{}\n}});\n",
                    lines_with_newline(&imports),
                    indent(&body, "  ")
                )
            }
            Framework::Cargo { .. } => {
                let (imports, body) = split_header(&code, |l| l.starts_with("use ") || l.starts_with("extern crate"));
                let body: Vec<String> = body
                    .into_iter()
                    .filter(|l| !l.starts_with("#[test]") && !l.starts_with("fn ") && l.trim() != "}")
                    .collect();
                format!(
                    "//! {header}\n{}\n#[test]\nfn issue_{issue}() {{\n{}\n}}\n",
                    lines_with_newline(&imports),
                    indent(&body, "    ")
                )
            }
        })
    }

    /// Why a base-commit run disqualifies a test, or `None` when it failed for a reason in the code under test.
    /// `issue` is the issue's text: an error the issue itself reports is the bug, not a broken test.
    pub fn base_problem(&self, passed: bool, timed_out: bool, output: &str, issue: &str) -> Option<String> {
        if timed_out {
            // For an issue about a hang the timeout is the bug, and a change that lets the test finish and pass
            // fixes it (a new user's issue, 2026-12-06: the only test that showed it was dropped as broken).
            if reports_a_hang(issue) {
                return None;
            }
            return Some("the test did not finish on the base commit".into());
        }
        if passed {
            return Some("the test passes before any change, so it does not reproduce the issue".into());
        }
        if let Some(error) = expected_errors(issue).into_iter().find(|e| raised(output, e)) {
            // The issue wants the error raised and the test dies of it: the code already does what is asked.
            return Some(format!("the test fails with the {error} the issue asks for, so it does not reproduce it"));
        }
        let mut broken: Vec<&str> = match self.framework {
            Framework::Pytest | Framework::Unittest => vec![
                "SyntaxError",
                "IndentationError",
                "ModuleNotFoundError",
                "ImportError",
                "FileNotFoundError",
                // Reading standard input, which a test run does not give (bench task 19, 2026-12-06: a sample called
                // `main(["--tail", "0"])` with no file, died reading stdin, and a change that returned before the
                // read passed it: a false `fixed`).
                "UnsupportedOperation: not readable",
                "reading from stdin while output is captured",
                "fixture '",
                "no tests ran",
                "Ran 0 tests",
            ],
            Framework::NodeTest | Framework::Jest => vec!["SyntaxError", "Cannot find module", "ENOENT"],
            Framework::Cargo { .. } => vec!["error[E", "error: expected", "could not compile"],
        };
        // Errors a wrong test makes as often as a bug does: they count as broken unless the issue names them.
        for error in ["NameError", "ReferenceError", "TypeError", "is not a function", "has no attribute"] {
            if !issue.contains(error) {
                broken.push(error);
            }
        }
        broken
            .iter()
            .find(|sign| output.contains(**sign))
            .map(|sign| format!("the test itself is broken ({sign} on the base commit)"))
    }
}

/// Whether the issue says the code hangs: "hangs", "never returns", "infinite loop", "stuck" and the like, as words
/// ("change" holds no "hang").
fn reports_a_hang(issue: &str) -> bool {
    let lower = issue.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    const WORDS: [&str; 9] = ["hang", "hangs", "hung", "hanging", "freezes", "frozen", "stuck", "forever", "deadlock"];
    const PHRASES: [&str; 5] = ["infinite loop", "never return", "never finish", "never terminate", "never end"];
    words.iter().any(|w| WORDS.contains(w)) || PHRASES.iter().any(|p| lower.contains(p))
}

/// Python code with the interpreter's `>>> ` and `... ` prompts taken off its lines: a model that copies the issue's
/// session writes them (bench task 15, 2026-12-04: two samples of `>>> assert ...` died of `SyntaxError`).
pub(crate) fn without_prompts(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for line in code.lines() {
        let trimmed = line.trim_start();
        let bare = trimmed.strip_prefix(">>> ").or_else(|| trimmed.strip_prefix("... ")).unwrap_or(line);
        out.push_str(if trimmed == ">>>" || trimmed == "..." { "" } else { bare });
        out.push('\n');
    }
    out
}

/// `from src.pkg import x` as `from pkg import x` when the repository has a `src/` package and no test of its own
/// imports through `src.`: the shipped test must import the way the project's tests do (its `src/` is on the path,
/// not in the name), or it breaks under the project's own `pytest` while passing under `python -m pytest`.
pub(crate) fn follow_src_imports(code: &str, files: &[RepoFile]) -> String {
    let own_tests_use_src = files
        .iter()
        .filter(|f| f.is_test && f.path.ends_with(".py"))
        .any(|f| f.content.lines().any(|l| l.trim_start().starts_with("from src.") || l.contains("import src.")));
    let src_layout = files.iter().any(|f| f.path.starts_with("src/") && f.path.ends_with(".py"));
    if own_tests_use_src || !src_layout {
        return code.to_owned();
    }
    code.lines()
        .map(|line| match line.strip_prefix("from src.") {
            Some(rest) => format!("from {rest}"),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Root-relative `require('./x')` lines of a JavaScript test made to load a file that exists and exports what the
/// line takes from it. A small model names a module by its file name alone (`require('./logger')` for
/// `src/logger.js`) or the file that defines a name rather than the one that exports it (bench task 23,
/// 2026-12-07: `const { createLogger } = require('./logger')`, where `src/index.js` exports it; the sample died of
/// `Cannot find module` and was dropped). The one source file that exports every destructured name wins (the one
/// the path's file name matches when several do); without destructured names, the one file of that name. A line
/// that already resolves and exports its names, or with no single answer, is left as written.
pub(crate) fn follow_js_requires(code: &str, files: &[RepoFile]) -> String {
    let sources: Vec<&RepoFile> =
        files.iter().filter(|f| !f.is_test && [".js", ".cjs"].iter().any(|e| f.path.ends_with(e))).collect();
    if sources.is_empty() || !code.contains("require(") {
        return code.to_owned();
    }
    let mut out: Vec<String> = Vec::new();
    for line in code.lines() {
        out.push(match relocated_require(line, &sources) {
            Some(line) => line,
            None => line.to_owned(),
        });
    }
    let mut text = out.join("\n");
    if code.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `line` with its root-relative `require` pointed at the file [`follow_js_requires`] picks, or `None` to keep it.
fn relocated_require(line: &str, sources: &[&RepoFile]) -> Option<String> {
    let quote = ['\'', '"'].into_iter().find(|q| line.contains(&format!("require({q}./")))?;
    let open = format!("require({quote}./");
    let start = line.find(&open)? + open.len();
    let len = line[start..].find(quote)?;
    let wanted = &line[start..start + len];
    let names = destructured(line);
    let exports_all = |f: &RepoFile| !names.is_empty() && names.iter().all(|n| exports(&f.content, n));
    let resolved = sources.iter().find(|f| {
        let path = f.path.trim_end_matches(".js").trim_end_matches(".cjs");
        path == wanted || f.path == wanted || path == format!("{wanted}/index")
    });
    if let Some(file) = resolved
        && (names.is_empty() || exports_all(file))
    {
        return None;
    }
    let stem = wanted.rsplit('/').next().unwrap_or(wanted).trim_end_matches(".js");
    let named = |f: &&&RepoFile| f.path.trim_end_matches(".js").rsplit('/').next() == Some(stem);
    let found: Vec<&&RepoFile> = if names.is_empty() {
        sources.iter().filter(named).collect()
    } else {
        let exporting: Vec<&&RepoFile> = sources.iter().filter(|f| exports_all(f)).collect();
        let by_name: Vec<&&RepoFile> = exporting.iter().copied().filter(named).collect();
        if by_name.len() == 1 { by_name } else { exporting }
    };
    let [file] = found[..] else { return None };
    let target = file.path.trim_end_matches(".js");
    Some(format!("{}{target}{}", &line[..start], &line[start + len..]))
}

/// The names a `const { a, b: c } = require(...)` line takes from the module (`a`, `b`); empty for other shapes.
fn destructured(line: &str) -> Vec<String> {
    let Some((left, _)) = line.split_once("= require(") else { return Vec::new() };
    let Some(open) = left.find('{') else { return Vec::new() };
    let Some(close) = left.rfind('}') else { return Vec::new() };
    left.get(open + 1..close)
        .unwrap_or_default()
        .split(',')
        .filter_map(|item| item.split(':').next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
        .map(str::to_owned)
        .collect()
}

/// Whether a CommonJS module's `content` exports `name`: `exports.name =`, or `name` as a word in the text from its
/// first `module.exports` on.
fn exports(content: &str, name: &str) -> bool {
    if content.contains(&format!("exports.{name} ")) || content.contains(&format!("exports.{name}=")) {
        return true;
    }
    content.find("module.exports").is_some_and(|at| crate::variants::mentions(&content[at..], name))
}

/// Errors the issue expects to be raised: `X` in "should raise X", "raises `X`", "throws X" (names ending in Error
/// or Exception), in its prose. Code is not read (a traceback's `raise ValueError(...)` line says where the error
/// comes from today, not what is wanted), and an error the issue shows being raised today (a traceback ending in
/// `X: ...`) is the symptom: a test dying of it reproduces the issue.
fn expected_errors(issue: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in issue.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced && !trimmed.starts_with("raise ") && !trimmed.starts_with("throw ") {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let raised_today = |name: &str| issue.lines().any(|l| l.trim_start().starts_with(&format!("{name}:")));
    let words: Vec<&str> =
        prose.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    // (error, whether the words before its "raise" say it stays as it is: "should still raise X").
    let named: Vec<(&str, bool)> = (1..words.len())
        .filter(|&i| matches!(words[i - 1].to_lowercase().as_str(), "raise" | "raises" | "throw" | "throws"))
        .filter(|&i| words[i].ends_with("Error") || words[i].ends_with("Exception"))
        .map(|i| (words[i], kept_behaviour(&words[i.saturating_sub(4)..i])))
        .collect();
    // An error the issue says is *still* raised (for junk input) is behaviour it keeps; when the same error is also
    // the symptom (a new user's issue, 2026-12-06: `int(':8080')` dies of `ValueError`, and junk "should still
    // raise ValueError"), a test dying of it reproduces the bug, so it is never an error the issue asks for.
    let kept = |name: &str| named.iter().any(|&(n, still)| still && n == name);
    named.iter().filter(|&&(name, _)| !kept(name) && !raised_today(name)).map(|&(name, _)| name.to_owned()).collect()
}

/// Whether the words before a "raise" say the error stays as it is: "should still raise", "continue to raise".
fn kept_behaviour(before: &[&str]) -> bool {
    before.iter().any(|w| matches!(w.to_lowercase().as_str(), "still" | "keep" | "keeps" | "continue" | "continues"))
}

/// The run died of `error` (a traceback's last line or pytest's `E` line), rather than an assertion.
fn raised(output: &str, error: &str) -> bool {
    !output.contains("AssertionError")
        && output.lines().any(|l| {
            let l = l.trim_start_matches(['E', ' ']);
            l.starts_with(&format!("{error}:")) || l == error || l.starts_with(&format!("{error}("))
        })
}

fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().strip_prefix('=')?.trim().trim_matches('"');
            return Some(value.to_owned());
        }
    }
    None
}

/// The directory holding most of `tests` (the shortest on a tie).
fn common_dir(tests: &[&RepoFile]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for file in tests {
        let dir = file.path.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default();
        *counts.entry(dir).or_default() += 1;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.len().cmp(&a.0.len()))).map(|(dir, _)| dir)
}

/// The model's code with an `if __name__ == "__main__":` block opened up: its lines run unconditionally, one level
/// less indented. Inside the wrapper the block ran only when the file ran as a script, so under pytest or `python -m
/// unittest` the test passed on anything (bench run of 2026-12-04, task 03: the shipped test failed on the base as a
/// script and passed there under the project's pytest; the stored-claim check caught it). A runner it starts
/// (`unittest.main()`, `pytest.main()`) is left out: the wrapper is the runner.
fn without_main_block(code: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // The `if` line's indentation, and how much deeper the block's first line sits.
    let mut block: Option<(usize, Option<usize>)> = None;
    for line in code.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some((level, depth)) = &mut block {
            if line.trim().is_empty() {
                continue;
            }
            if indent > *level {
                let cut = *depth.get_or_insert(indent - *level);
                let trimmed = line.trim_start();
                if !trimmed.starts_with("unittest.main(") && !trimmed.starts_with("pytest.main(") {
                    out.push(format!("{}{trimmed}", " ".repeat(indent.saturating_sub(cut))));
                }
                continue;
            }
            block = None;
        }
        let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace('\'', "\"");
        if squeezed == "if__name__==\"__main__\":" {
            block = Some((indent, None));
            continue;
        }
        out.push(line.to_owned());
    }
    out.join("\n")
}

fn wrap_python(framework: &Framework, issue: u64, header: &str, code: &str) -> String {
    let code = without_main_block(code);
    let (imports, mut body) =
        split_header(&code, |l| (l.starts_with("import ") || l.starts_with("from ")) && !l.starts_with(' '));
    // A model that wrote functions anyway (`test_x()`, `check()`): keep them and call those that take no argument
    // and are not called already, or their assertions never run and the test passes on anything.
    let functions: Vec<String> = body
        .iter()
        .filter_map(|l| l.strip_prefix("def ")?.strip_suffix("):")?.strip_suffix('(').map(str::to_owned))
        .filter(|name| !body.iter().any(|l| !l.starts_with("def ") && l.contains(&format!("{name}("))))
        .collect();
    body.extend(functions.iter().map(|name| format!("{name}()")));
    // Unittest methods written loose (`def test_x(self):`) or a whole `class T(unittest.TestCase)`: run them with a
    // test case as `self`, or they never run and the test passes on anything (bench task 15, 2026-12-04: samples of
    // these shapes "passed" on the base commit and, with one that copied the issue's wrong outputs, made a false
    // "nothing to change").
    let this = if *framework == Framework::Unittest { "self" } else { "unittest.TestCase()" };
    let methods: Vec<String> = body
        .iter()
        .filter_map(|l| l.strip_prefix("def ")?.strip_suffix("(self):").map(str::to_owned))
        .filter(|name| !body.iter().any(|l| !l.starts_with("def ") && l.contains(&format!("{name}("))))
        .collect();
    body.extend(methods.iter().map(|name| format!("{name}({this})")));
    let cases: Vec<String> = body
        .iter()
        .filter_map(|l| {
            let (name, bases) = l.strip_prefix("class ")?.split_once('(')?;
            bases.contains("TestCase").then(|| name.trim().to_owned())
        })
        .collect();
    for case in &cases {
        body.push(format!("for _name in sorted(n for n in dir({case}) if n.startswith(\"test\")):"));
        body.push(format!("    getattr({case}(_name), _name)()"));
    }
    // `pytest.raises` without its import is the commonest slip of a small model: a NameError would drop the test.
    let mut imports = imports;
    let unittest_imported = imports.iter().any(|l| l.trim() == "import unittest");
    if *framework != Framework::Unittest && body.iter().any(|l| l.contains("unittest.")) && !unittest_imported {
        imports.insert(0, "import unittest".to_owned());
    }
    if body.iter().any(|l| l.contains("pytest.")) && !imports.iter().any(|l| l.trim() == "import pytest") {
        imports.insert(0, "import pytest".to_owned());
    }
    let imports = lines_with_newline(&imports);
    match framework {
        Framework::Unittest => format!(
            "\"\"\"{header}\"\"\"\nimport unittest\n{imports}\n\nclass Issue{issue}Test(unittest.TestCase):\n    \
             def test_issue_{issue}(self):\n{}\n\n\nif __name__ == \"__main__\":\n    unittest.main()\n",
            indent(&body, "        ")
        ),
        _ => format!(
            "\"\"\"{header}\"\"\"\n{imports}\n\ndef test_issue_{issue}():\n{}\n\n\nif __name__ == \"__main__\":\n    \
             test_issue_{issue}()\n",
            indent(&body, "    ")
        ),
    }
}

/// Splits code into its import lines (by `is_import`) and the rest, dropping blank lines at either end.
fn split_header(code: &str, is_import: impl Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
    let mut imports = Vec::new();
    let mut body = Vec::new();
    for line in code.lines() {
        if is_import(line) {
            imports.push(line.trim_end().to_owned());
        } else {
            body.push(line.trim_end().to_owned());
        }
    }
    while body.first().is_some_and(|l| l.trim().is_empty()) {
        body.remove(0);
    }
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    if body.is_empty() {
        body.push("pass".into());
    }
    (imports, body)
}

fn lines_with_newline(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn indent(lines: &[String], prefix: &str) -> String {
    lines
        .iter()
        .map(|l| if l.trim().is_empty() { String::new() } else { format!("{prefix}{l}") })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which samples one round of reproduction asks for, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// The first sample's number. The first time a prompt (with its hints) is asked, in any round, it is answered
    /// greedily; every other sample is drawn with its own seed.
    pub first: u32,
    pub count: u32,
    /// Time since the search started after which no sample starts.
    pub until: std::time::Duration,
    /// What earlier rounds' samples did wrong: a second round starts from it.
    pub lessons: Lessons,
}

/// What the samples of a reproduction round did wrong, and so what later samples are told; carried into a second
/// round, whose samples would otherwise repeat the first round's greedy answers word for word (bench task 19,
/// 2026-12-06: all three samples of the second round were the first round's, 20 s for nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lessons {
    /// A sample only repeated the issue's pasted session.
    echoed: bool,
    /// A sample opened a file that is not there.
    no_file: bool,
    /// A sample called the code wrongly.
    miscalled: bool,
    /// The prompts (with their hints) that had their greedy sample.
    greedy: HashSet<String>,
}

/// What a second round of reproduction works from.
#[derive(Debug, Clone, Copy)]
pub struct SecondLook<'a> {
    /// The repository map of the candidate prompts.
    pub map: &'a str,
    /// The base run's failing output (compacted), empty when it passed.
    pub failure: &'a str,
    pub issue: u64,
    pub started: Instant,
    /// What the first round's samples did wrong.
    pub lessons: &'a Lessons,
}

/// Search time kept for candidates after a second round of reproduction: about one candidate and its tests on a
/// CPU (a candidate took 25-60 s in the bench of 2026-12-03).
const CANDIDATE_RESERVE: std::time::Duration = std::time::Duration::from_secs(60);

/// What the reproduction step found.
#[derive(Debug, Default)]
pub struct Reproduction {
    /// Tests that fail on the base commit for a reason in the code.
    pub kept: Vec<ReproTest>,
    /// Tests that ran and passed on the base commit (with their output): evidence that the code already does what
    /// the issue's examples ask.
    pub passing: Vec<ReproTest>,
    /// Samples whose test passed on the base commit, a repeat of a passing test included.
    pub samples_passing: u32,
    /// What the samples did wrong, for a later round.
    pub lessons: Lessons,
}

impl Reproduction {
    /// Nothing to change: no test fails, and every one of the `samples` asked for (at least two) wrote a test that
    /// passes on the base commit. One broken or misread sample is reason enough to do the work: a wrong "nothing to
    /// change" loses a real fix (the bench measured one where a test of the example that already worked and a
    /// helper that was never called outvoted a broken third sample).
    pub fn nothing_to_change(&self, samples: u32) -> bool {
        self.kept.is_empty() && !self.passing.is_empty() && samples >= 2 && self.samples_passing >= samples
    }
}

/// How many samples `tests` hold: their whole tests, not counting parts.
pub fn samples(tests: &[ReproTest]) -> usize {
    tests.iter().filter(|t| t.part_of.is_none()).count()
}

/// A reproduction test the model wrote, kept because it fails on the base commit for the issue's reason.
#[derive(Debug, Clone)]
pub struct ReproTest {
    /// Relative to the repository root.
    pub path: String,
    /// The whole file.
    pub code: String,
    /// What the model wrote (imports and assertions): what a candidate prompt shows, at a fraction of the tokens.
    pub assertions: String,
    /// Its failing output on the base commit, compacted.
    pub base_output: String,
    /// For a part (one assertion of a sample, [`crate::parts`]): the path of the sample's whole test.
    pub part_of: Option<String>,
}

impl ReproTest {
    /// Writes the test into the workspace; the guard removes it when dropped unless it was kept for the commit.
    pub fn install(&self, root: &Path) -> std::io::Result<Installed> {
        let path = root.join(&self.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &self.code)?;
        Ok(Installed { path: Some(path) })
    }

    /// This test in the form of the repository's own tests of its language (CRLF, tab indentation), for the one
    /// that ships: a reviewer's diff and linters see the repository's style, not ours (a new user's CRLF, tab-indented
    /// repository, 2026-12-06, got an LF, four-space test). The nearest test file of the same extension sets the
    /// form, one named as a test first (a `conftest.py` with no indented line says nothing of tabs); unchanged
    /// when none reads.
    pub fn in_house_style(&self, root: &Path, files: &[RepoFile]) -> ReproTest {
        let ext = self.path.rsplit_once('.').map_or("", |(_, e)| e);
        let dir = |path: &str| path.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_owned());
        let sibling = files
            .iter()
            .filter(|f| f.is_test && f.path != self.path && f.path.ends_with(&format!(".{ext}")))
            .min_by_key(|f| (dir(&f.path) != dir(&self.path), !crate::repo::is_test_file_name(&f.path), f.path.len()));
        match sibling.map(|f| crate::textfile::read(&root.join(&f.path))) {
            Some(Ok(Some(form))) => ReproTest { code: form.new_file_like(&self.code), ..self.clone() },
            _ => self.clone(),
        }
    }

    /// The assertion lines without whitespace or module qualifiers (`intervals.merge(…)` is `merge(…)`): two
    /// samples that check the same thing are one test.
    pub fn fingerprint(&self) -> String {
        let mut lines: Vec<String> = self
            .assertions
            .lines()
            .filter(|l| l.contains("assert"))
            .map(|l| grounding::unqualified(l).split_whitespace().collect::<String>())
            .collect();
        lines.sort();
        lines.join("\n")
    }
}

/// A test file installed for a run; removed when dropped unless [`Installed::keep`] is called.
#[derive(Debug)]
pub struct Installed {
    path: Option<PathBuf>,
}

impl Installed {
    /// Leaves the file in the workspace (the regression test that ships in the pull request).
    pub fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            // Best effort: a leftover would show in the diff, which the worker refuses to publish unexplained.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The first fenced block of a reply, or the whole reply when it has none.
pub fn code_of_reply(reply: &str) -> String {
    let mut lines = reply.lines().skip_while(|l| !l.trim_start().starts_with("```"));
    if lines.next().is_none() {
        return reply.trim().to_owned();
    }
    lines.take_while(|l| !l.trim_start().starts_with("```")).collect::<Vec<_>>().join("\n")
}

impl Agent<'_> {
    /// Asks for reproduction tests and keeps those that fail on the base commit for a reason in the code; no
    /// sample starts once `round.until` of the search has passed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn reproduce(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        issue: u64,
        map: &str,
        started: Instant,
        round: Round,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Reproduction, AgentError> {
        let prompt =
            format!("{}{}\n{}", code_section(&search.shown, map), issue_section(search.issue_text), layout.request());
        let mut kept: Vec<ReproTest> = Vec::new();
        let mut passing = Reproduction::default();
        // Each test's fingerprint: whether it passed on the base commit (not by echoing the issue's session), and
        // whether it echoed the session.
        let mut fingerprints: HashMap<String, (bool, bool)> = HashMap::new();
        // Echoed session, missing file, wrong call: each sets what later samples are told.
        let Lessons { mut echoed, mut no_file, mut miscalled, mut greedy } = round.lessons;
        let examples = examples::calling_examples(&search.shown, search.files, search.issue_text);
        // An issue that names none of the shown functions gives no call to copy: the suite's calls are shown from
        // the first sample (bench task 19: its issue is a command line).
        let uncalled = examples::issue_names_none(&search.shown, search.issue_text);
        // The first round starts with the test the issue's own examples make, which costs no model call.
        let mut from_issue = match layout.framework {
            _ if round.first > 0 => None,
            Framework::Pytest | Framework::Unittest => issue_tests::python(search.issue_text),
            Framework::NodeTest | Framework::Jest => issue_tests::javascript(search.issue_text),
            Framework::Cargo { .. } => None,
        };
        // The model's samples run in full after a kept test read from the issue: they check what the issue says in
        // prose, which its examples miss (bench task 16, 2026-12-07T172853Z, with one sample after it: the only kept
        // test was the pasted example, a candidate that fixed that case alone was claimed `fixed`, and the hidden
        // test of the case the issue describes in words failed).
        let suite: Vec<&str> = search.files.iter().filter(|f| f.is_test).map(|f| f.content.as_str()).collect();
        let suite = grounding::suite_claims(&suite);
        let mut sample = round.first;
        loop {
            let read = from_issue.take();
            let done = read.is_none() && sample >= round.first + round.count;
            if done || samples(&kept) >= self.settings.max_reproduction_tests || started.elapsed() >= round.until {
                break;
            }
            let from_issue_read = read.is_some();
            let written = match read {
                Some(code) => code,
                None => {
                    sample += 1;
                    let shown = if miscalled || uncalled { &examples[..] } else { &[] };
                    let hints = Hints { echoed, no_file, miscalled, examples: shown };
                    let reply = self.sample(&prompt, sample - 1, hints, &mut greedy, outcome, on_event).await?;
                    code_of_reply(&reply)
                }
            };
            let path = layout.path(issue, kept.len());
            let mut code = follow_src_imports(&grounding::printed_expectations(&written), search.files);
            if matches!(layout.framework, Framework::NodeTest | Framework::Jest) {
                code = follow_js_requires(&code, search.files);
            }
            if matches!(layout.framework, Framework::Pytest | Framework::Unittest) {
                code = imports::add_missing_imports(&without_prompts(&code), search.files, search.issue_text);
            }
            // Before grounding, which drops a check that copies a wrong result the issue pasted: where the issue
            // lists the right results in order, or gives one in a comment beside the call, the check is made to
            // expect that instead.
            let (code, corrected) = grounding::expect_as_issue_lists(&code, search.issue_text);
            let (code, aligned) = grounding::expect_as_issue_comments(&code, search.issue_text);
            let (assertions, invented) = grounding::keep_grounded(&code, search.issue_text);
            let (assertions, contradicting) = grounding::keep_consistent_with_suite(&assertions, &suite);
            if layout.wrap(issue, &path, &assertions).is_none() {
                let detail = if invented > 0 {
                    "every assertion expects a value the issue never gives, or the opposite of what it shows".into()
                } else if contradicting > 0 {
                    "every assertion expects another value than the repository's own tests do for the same call".into()
                } else if from_issue_read {
                    "the issue's examples give no check to run".into()
                } else {
                    "the reply asserted nothing".into()
                };
                on_event(AgentEvent::Reproduction { path, kept: false, detail });
                continue;
            }
            let assertions =
                self.settle_conflicts(search, layout, issue, &path, assertions, &mut kept, on_event).await?;
            let Some(code) = layout.wrap(issue, &path, &assertions) else {
                let detail =
                    "its only assertion expects what the base commit already does, and another sample says otherwise"
                        .into();
                on_event(AgentEvent::Reproduction { path, kept: false, detail });
                continue;
            };
            let mut test =
                ReproTest { path: path.clone(), code, assertions, base_output: String::new(), part_of: None };
            if let Some(&(passed, echo)) = fingerprints.get(&test.fingerprint()) {
                // Another sample that says the same counts as agreement on what the code does, and a sample that
                // repeats a test that echoed the session echoed it too.
                passing.samples_passing += u32::from(passed && !from_issue_read);
                echoed |= echo && !from_issue_read;
                on_event(AgentEvent::Reproduction {
                    path,
                    kept: false,
                    detail: "the same test as an earlier sample".into(),
                });
                continue;
            }
            if search.files.iter().any(|f| f.path == path) {
                on_event(AgentEvent::Reproduction { path, kept: false, detail: "a file of that name exists".into() });
                continue;
            }
            if let (codingworker_sandbox::Executor::Host(_), Some(detail)) =
                (self.executor, crate::host::refuse_test(&test.code, search.files))
            {
                on_event(AgentEvent::Reproduction { path, kept: false, detail });
                continue;
            }
            on_event(AgentEvent::Running { what: format!("reproduction test {path} on the base commit") });
            let (run, passed) = self.run_alone(search, layout, &test).await?;
            let problem =
                layout.base_problem(run.suite.passed, run.suite.timed_out, &run.suite.output, search.issue_text);
            // A test broken by its own set-up (a file it opens, a name it never imports) says nothing of the code:
            // a later sample asserting the same with a working set-up is not its duplicate (bench task 03,
            // 2026-12-04: the one sample that built its input in place was dropped as a repeat of one that opened a
            // file that does not exist).
            // A test that only repeats the issue's pasted session passes on the base by construction: it says
            // nothing of whether the code is right, so it is no evidence for "nothing to change".
            let echo = passed && grounding::only_echoes(&test.assertions, search.issue_text);
            // What the test read from the issue did is no lesson for the model's samples, and no sample's vote.
            echoed |= echo && !from_issue_read;
            let evidence = passed && !echo && !from_issue_read;
            if passed || problem.is_none() {
                fingerprints.insert(test.fingerprint(), (passed && !echo, echo));
            }
            if evidence {
                test.base_output = compact_failure(&run.suite.output, 400);
                passing.samples_passing += 1;
                passing.passing.push(test.clone());
            }
            if let Some(mut problem) = problem {
                let missing = !passed && opens_a_missing_file(&run.suite.output);
                no_file |= missing && !from_issue_read;
                miscalled |= !passed && !missing && !from_issue_read && calls_wrongly(&run.suite.output);
                if echo {
                    problem.push_str(" (it expects what the issue's pasted session shows the code doing now)");
                }
                on_event(AgentEvent::Reproduction { path, kept: false, detail: problem });
                continue;
            }
            test.base_output = compact_failure(&run.suite.output, 400);
            on_event(AgentEvent::Reproduction {
                path,
                kept: true,
                detail: format!(
                    "{} test{}, fails on the base commit{}{}{}{}",
                    layout.language(),
                    if from_issue_read { " read from the issue's examples" } else { "" },
                    match invented {
                        0 => String::new(),
                        n => format!(" ({n} assertion(s) the issue does not back dropped)"),
                    },
                    match contradicting {
                        0 => String::new(),
                        n => format!(" ({n} assertion(s) the repository's tests contradict dropped)"),
                    },
                    match corrected {
                        0 => String::new(),
                        n => format!(
                            " ({n} assertion(s) that copied a result the issue pasted now expect the one it lists)"
                        ),
                    },
                    match aligned {
                        0 => String::new(),
                        n => format!(" ({n} assertion(s) now expect the value the issue's example gives for the call)"),
                    }
                ),
            });
            let parts = self.failing_parts(search, layout, issue, &test, &kept, on_event).await?;
            kept.push(test);
            kept.extend(parts);
        }
        passing.kept = kept;
        passing.lessons = Lessons { echoed, no_file, miscalled, greedy };
        Ok(passing)
    }
}

/// Added to the reproduction request after a sample copied the issue's session output (bench task 15, 2026-12-04:
/// all three samples asserted the wrong results the issue pasted, though it lists the expected ones after). At the
/// end of the prompt, so the cached prefix still serves it.
const SESSION_HINT: &str = "\nThe outputs the issue pastes from running the code are what the code gives now, \
                            which the issue says is wrong: assert the results the issue expects instead.";

/// Added to the reproduction request after a sample failed opening a file that does not exist (bench task 19,
/// 2026-12-04: the issue runs `logscan --tail 0 app.log`, and all six samples ran the command line on an `app.log`
/// no repository holds, so no test was kept and the verdict could only be `no regressions`).
const FILE_HINT: &str = "\nThe test cannot open files the repository does not have: call the function that does the \
                         work with data made in the test (a list, a string) instead.";

/// What earlier samples did wrong, and so what the next one is told.
struct Hints<'a> {
    /// A sample only repeated the issue's pasted session.
    echoed: bool,
    /// A sample opened a file that is not there.
    no_file: bool,
    /// A sample called the code wrongly.
    miscalled: bool,
    /// The suite's own calls of the code, shown after a sample called it wrongly or when the issue names no function
    /// of the code; empty otherwise.
    examples: &'a [String],
}

/// The reproduction prompt with the hints earlier samples called for, at its end so the cached prefix still serves.
fn hinted(prompt: &str, hints: Hints<'_>) -> String {
    let mut out = prompt.to_owned();
    if hints.echoed {
        out.push_str(SESSION_HINT);
    }
    if hints.no_file {
        out.push_str(FILE_HINT);
    }
    if !hints.examples.is_empty() {
        let lead = if hints.miscalled { "\nAn earlier test called the code wrongly." } else { "" };
        out.push_str(&format!(
            "{lead}\nThe repository's own tests call the code like this:\n```\n{}\n```\n\
             Call it the same way, with the values of the issue's example.",
            hints.examples.join("\n")
        ));
    }
    out
}

/// Whether a test run's output shows a call that does not fit the code: wrong arguments, a missing attribute or
/// method (Python's `TypeError`/`AttributeError`, Node's "is not a function", rustc's E0061/E0599).
fn calls_wrongly(output: &str) -> bool {
    ["TypeError", "AttributeError", "is not a function", "error[E0061]", "error[E0599]"]
        .iter()
        .any(|m| output.contains(m))
}

/// Whether a test run's output shows it opening a file that does not exist (Python's `FileNotFoundError`,
/// Node's `ENOENT`, Rust's `NotFound`).
fn opens_a_missing_file(output: &str) -> bool {
    ["FileNotFoundError", "ENOENT", "kind: NotFound", "No such file or directory"].iter().any(|m| output.contains(m))
}

/// Runs on the base commit that settle which of two conflicting assertions to drop, at most, per sample: each is a
/// test run (a second for Python or JavaScript, a compile for Rust).
const MAX_PROBES: usize = 4;

/// The index of a probe's file among the reproduction test paths: far past any test kept.
const PROBE_INDEX: usize = 98;

/// An assertion's checked expression and expected literal, compared without whitespace, module qualifiers or the
/// kind of quotes.
fn claim_key(claim: &grounding::Claim) -> (String, String) {
    let squeeze = |text: &str| text.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace('"', "'");
    (squeeze(&grounding::unqualified(&claim.actual)), squeeze(&claim.expected))
}

impl Agent<'_> {
    /// One model sample of a reproduction test: greedy the first time a prompt (with its hints) is asked, drawn
    /// with seed `7 + sample` after.
    async fn sample(
        &self,
        prompt: &str,
        sample: u32,
        hints: Hints<'_>,
        greedy: &mut HashSet<String>,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<String, AgentError> {
        let asked = hinted(prompt, hints);
        // A prompt not asked before (the first, or one a hint changed) has a greedy answer not seen yet, and the
        // likeliest one is the one to try first (bench task 19, 2026-12-05: samples at 0.8 ignored the suite's
        // calls they were shown); asked again, greedy decoding would only repeat it.
        let fresh = greedy.insert(asked.clone());
        let temperature = if fresh { self.settings.temperature } else { candidates::SAMPLE_TEMPERATURE };
        self.ask(
            // Imports and a few assertions: more is a small model rambling, at 50 ms a token.
            Call { round: 0, purpose: "reproduction test", temperature, seed: 7 + u64::from(sample), max_tokens: 300 },
            asked,
            outcome,
            on_event,
        )
        .await
    }

    /// Two samples that expect different results of one expression cannot both be right. A small model copies the
    /// issue's "returns X" as often as its "expected Y" (bench task 05, 2026-12-04: one sample asserted the truncated
    /// string the issue reports as wrong, and the right change failed that test); the assertion the base commit
    /// already satisfies is the one that writes down the reported behaviour, so it goes: from the new sample
    /// (`code`, returned without it) or from the kept test it conflicts with. When neither or both hold on the base,
    /// both stay. At most [`MAX_PROBES`] runs.
    #[allow(clippy::too_many_arguments)]
    async fn settle_conflicts(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        issue: u64,
        path: &str,
        mut code: String,
        kept: &mut [ReproTest],
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<String, AgentError> {
        let mut probes = 0;
        for claim in grounding::claims(&code) {
            let (actual, expected) = claim_key(&claim);
            // Parts repeat their whole test's claims: the whole settles them.
            for test in kept.iter_mut().filter(|t| t.part_of.is_none()) {
                let rival = grounding::claims(&test.assertions).into_iter().find(|other| {
                    let (other_actual, other_expected) = claim_key(other);
                    other_actual == actual && other_expected != expected
                });
                let Some(rival) = rival else { continue };
                if probes + 2 > MAX_PROBES {
                    return Ok(code);
                }
                probes += 2;
                let new_holds =
                    self.holds_on_base(search, layout, issue, &grounding::only_check(&code, claim.line)).await?;
                let old_holds = self
                    .holds_on_base(search, layout, issue, &grounding::only_check(&test.assertions, rival.line))
                    .await?;
                if new_holds && !old_holds {
                    code = grounding::without_checks(&code, |line| line == claim.line);
                    on_event(AgentEvent::AssertionDropped {
                        path: path.to_owned(),
                        assertion: format!("{} == {}", claim.actual, claim.expected),
                        why: format!(
                            "the base commit gives that already, and {} expects {}",
                            test.path, rival.expected
                        ),
                    });
                    break;
                }
                if old_holds && !new_holds {
                    let assertions = grounding::without_checks(&test.assertions, |line| line == rival.line);
                    // The dropped line passed on the base, so the test still fails there as it did.
                    if let Some(wrapped) = layout.wrap(issue, &test.path, &assertions) {
                        on_event(AgentEvent::AssertionDropped {
                            path: test.path.clone(),
                            assertion: format!("{} == {}", rival.actual, rival.expected),
                            why: format!("the base commit gives that already, and {path} expects {}", claim.expected),
                        });
                        test.code = wrapped;
                        test.assertions = assertions;
                    }
                }
            }
        }
        Ok(code)
    }

    /// The parts of a kept `test` ([`crate::parts`]) that fail on the base commit for a reason in the code, each at
    /// its own path after those of `kept`; none unless two or more do (one failing part says no more than the whole
    /// test), and none that repeats a part kept earlier.
    async fn failing_parts(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        issue: u64,
        test: &ReproTest,
        kept: &[ReproTest],
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<ReproTest>, AgentError> {
        let room = crate::parts::MAX_PARTS.saturating_sub(kept.iter().filter(|t| t.part_of.is_some()).count());
        let pieces = crate::parts::split(&layout.framework, &test.assertions);
        if room < 2 || pieces.is_empty() {
            return Ok(Vec::new());
        }
        on_event(AgentEvent::Running {
            what: format!("{} assertions of {} one by one on the base commit", pieces.len(), test.path),
        });
        let mut parts: Vec<ReproTest> = Vec::new();
        for piece in pieces {
            if parts.len() >= room {
                break;
            }
            let path = layout.path(issue, kept.len() + 1 + parts.len());
            let Some(code) = layout.wrap(issue, &path, &piece) else { continue };
            let mut part = ReproTest {
                path,
                code,
                assertions: piece,
                base_output: String::new(),
                part_of: Some(test.path.clone()),
            };
            let seen = kept.iter().chain(&parts).any(|t| t.part_of.is_some() && t.fingerprint() == part.fingerprint());
            if seen || search.files.iter().any(|f| f.path == part.path) {
                continue;
            }
            let (run, passed) = self.run_alone(search, layout, &part).await?;
            let problem =
                layout.base_problem(run.suite.passed, run.suite.timed_out, &run.suite.output, search.issue_text);
            if !passed && problem.is_none() {
                part.base_output = compact_failure(&run.suite.output, 400);
                parts.push(part);
            }
        }
        if parts.len() < 2 {
            return Ok(Vec::new());
        }
        for part in &parts {
            on_event(AgentEvent::Reproduction {
                path: part.path.clone(),
                kept: true,
                detail: format!("one assertion of {}, fails on the base commit", test.path),
            });
        }
        Ok(parts)
    }

    /// Whether a test of `code` alone passes on the base commit (`false` when it cannot be written or run).
    async fn holds_on_base(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        issue: u64,
        code: &str,
    ) -> Result<bool, AgentError> {
        let path = layout.path(issue, PROBE_INDEX);
        let Some(wrapped) = layout.wrap(issue, &path, code) else { return Ok(false) };
        if search.files.iter().any(|f| f.path == path) {
            return Ok(false);
        }
        let probe =
            ReproTest { path, code: wrapped, assertions: code.to_owned(), base_output: String::new(), part_of: None };
        Ok(self.run_alone(search, layout, &probe).await?.1)
    }

    /// Runs `test` alone on the base commit (installed for the run, removed after) and says whether it passed:
    /// ran, collected something, and did not time out.
    pub(crate) async fn run_alone(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        test: &ReproTest,
    ) -> Result<(crate::TestRun, bool), AgentError> {
        let _installed = test.install(search.workdir)?;
        let run = self.run_tests(search.workdir, &layout.command(&test.path), &layout.env()).await?;
        let passed = run.suite.passed && !run.suite.empty && !run.suite.timed_out;
        Ok((run, passed))
    }
}

impl Agent<'_> {
    /// A search that ended with nothing able to show a fix (a green suite and no reproduction test kept) has usually
    /// spent a fraction of its budget on one candidate that breaks nothing. The rest goes to more reproduction
    /// samples; when one is kept, the candidates so far run again against it and the search goes on, so a right
    /// change can be told from a wrong one. Returns the candidates as they stand (unchanged when no test was kept or
    /// too little time is left).
    pub(crate) async fn reproduce_again(
        &self,
        search: &mut Search<'_>,
        look: SecondLook<'_>,
        evaluated: Vec<Evaluated>,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<Evaluated>, AgentError> {
        let budget = self.settings.search_budget;
        let elapsed = look.started.elapsed();
        let Some(layout) = search.layout.clone() else { return Ok(evaluated) };
        if self.settings.reproduction_samples == 0 || elapsed + CANDIDATE_RESERVE * 2 > budget {
            return Ok(evaluated);
        }
        on_event(AgentEvent::Running {
            what: format!(
                "more reproduction tests from the issue: no test shows a fix yet, and {} s of the search budget are left",
                budget.saturating_sub(elapsed).as_secs()
            ),
        });
        let round = Round {
            first: self.settings.reproduction_samples,
            count: self.settings.reproduction_samples,
            until: budget.saturating_sub(CANDIDATE_RESERVE),
            lessons: look.lessons.clone(),
        };
        let found =
            self.reproduce(search, &layout, look.issue, look.map, look.started, round, outcome, on_event).await?;
        if found.kept.is_empty() {
            return Ok(evaluated);
        }
        search.reproductions = found.kept;
        outcome.reproduction_tests = samples(&search.reproductions);
        search.prefix = candidate_prefix(search, look.map, look.failure);
        let mut again: Vec<Evaluated> = Vec::with_capacity(evaluated.len());
        for earlier in evaluated {
            let same = again.iter().find(|e| e.candidate.files == earlier.candidate.files).cloned();
            let result = match same {
                Some(mut same) => {
                    same.candidate = earlier.candidate;
                    same
                }
                None => {
                    on_event(AgentEvent::Running {
                        what: format!(
                            "the tests with candidate {} again, with the new reproduction test(s)",
                            earlier.candidate.number
                        ),
                    });
                    self.evaluate(search, earlier.candidate).await?
                }
            };
            again.push(result);
        }
        let start = outcome.candidates;
        self.search(search, look.started, again, start, outcome, on_event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_prompts_copied_into_a_sample_are_taken_off() {
        let copied = ">>> from calc import evaluate\n>>> assert evaluate('1 - 1 - 1') == -1\n>>> for x in [1]:\n...     \
                      assert x\n...\nprint('>>> kept')\n";
        assert_eq!(
            without_prompts(copied),
            "from calc import evaluate\nassert evaluate('1 - 1 - 1') == -1\nfor x in [1]:\n    assert x\n\nprint('>>> kept')\n"
        );
    }

    #[test]
    fn a_test_dying_of_the_error_the_issue_asks_for_does_not_reproduce_it() {
        let layout = Layout { framework: Framework::Pytest, dir: String::new(), package: None };
        let issue = "rectangle should reject negative sides\n`rectangle(-1, 2)` should raise `ValueError`.";
        let died = "E       ValueError: negative side\nFAILED test_issue_7.py::test_issue_7";
        let problem = layout.base_problem(false, false, died, issue).unwrap();
        assert!(problem.contains("the ValueError the issue asks for"), "{problem}");
        // An assertion that fails is a reproduction, even when the issue names an error.
        let asserted = "E       AssertionError: assert 6 == 7\nFAILED";
        assert_eq!(layout.base_problem(false, false, asserted, issue), None);
        // The issue's traceback shows the error raised today for the input it is about: dying of it reproduces the
        // issue, even though the issue wants the error kept for junk input.
        let symptom = "parse_duration rejects \"1h30m\"\n```python\n>>> parse_duration(\"1h30m\")\nTraceback (most recent \
                       call last):\n  File \"durations.py\", line 15, in parse_duration\n    raise ValueError(f\"invalid\")\n\
                       ValueError: invalid duration: '1h30m'\n```\nJunk such as `\"h\"` should still raise `ValueError`.";
        assert_eq!(layout.base_problem(false, false, died, symptom), None);
        assert!(expected_errors("```\nraise KeyError(k)\n```\nIt crashes.").is_empty(), "code is not prose");
        assert_eq!(expected_errors("Unknown keys should raise KeyError, not return None."), ["KeyError"]);
        // Named as what junk input still raises, the error is kept behaviour, not the change asked for, even when the
        // issue shows the bug in prose only.
        let kept = "`parse_port(\"host:\")` raises ValueError from `int('')`; it should return None. Junk such as \
                    `\"a:b\"` should still raise ValueError.";
        assert!(expected_errors(kept).is_empty(), "{:?}", expected_errors(kept));
        assert_eq!(
            expected_errors("Negative sizes should raise ValueError; zero should still raise KeyError."),
            ["ValueError"]
        );
        let wrapped = layout.wrap(
            7,
            "test_issue_7.py",
            "from shapes import rectangle\nwith pytest.raises(ValueError):\n    rectangle(-1, 2)",
        );
        assert!(
            wrapped.unwrap().contains("import pytest\nfrom shapes import rectangle\n"),
            "the forgotten import is added"
        );
        // A helper the model defined and forgot to call is called: its assertions must run.
        let helper =
            "from config import parse\n\ndef check_functionality():\n    assert parse('a = 1') == {'a': '1'}\n";
        let wrapped = layout.wrap(7, "test_issue_7.py", helper).unwrap();
        assert!(
            wrapped.trim_end().ends_with("check_functionality()\n\n\nif __name__ == \"__main__\":\n    test_issue_7()"),
            "{wrapped}"
        );
        let called = "def check(x):\n    assert x\n\ncheck(1)\n";
        assert_eq!(
            layout.wrap(7, "t.py", called).unwrap().matches("check(").count(),
            2,
            "one with an argument is left as written"
        );
        // `pytest.raises` is a check.
        assert!(
            layout
                .wrap(7, "test_issue_7.py", "import pytest\nwith pytest.raises(ValueError):\n    rectangle(-1, 2)")
                .is_some()
        );
    }

    fn file(path: &str, content: &str) -> RepoFile {
        crate::repo::load_one(path, content)
    }

    #[test]
    fn a_require_by_file_name_alone_loads_the_file_that_exports_the_names() {
        let files = [
            file(
                "src/index.js",
                "const { Logger } = require('./logger');\nfunction createLogger() {}\nmodule.exports = { createLogger, Logger };\n",
            ),
            file("src/logger.js", "class Logger {}\nmodule.exports = { Logger };\n"),
            file("src/time.js", "exports.now = () => 1;\n"),
            file("test/logger.test.js", "module.exports = { createLogger };\n"),
        ];
        let code = "const { createLogger } = require('./logger');\nconst { Logger } = require(\"./logger\");\n\
                    const time = require('./time');\nconst { now } = require('./src/time');\nassert.ok(1);\n";
        let rewritten = follow_js_requires(code, &files);
        assert_eq!(
            rewritten,
            "const { createLogger } = require('./src/index');\nconst { Logger } = require(\"./src/logger\");\n\
             const time = require('./src/time');\nconst { now } = require('./src/time');\nassert.ok(1);\n"
        );
        // Nothing exports the name, or nothing is named so: as written.
        let unknown = "const { nothing } = require('./logger');\nconst x = require('./missing');";
        assert_eq!(follow_js_requires(unknown, &files), unknown);
        assert_eq!(destructured("const { a, b: c } = require('./x');"), ["a", "b"]);
        assert!(exports("module.exports = { createLogger, Logger };", "Logger"));
        assert!(!exports("module.exports = { createLoggers };", "createLogger"));
    }

    #[test]
    fn imports_through_src_follow_the_repositorys_own_tests() {
        let code = "from src.shopcalc.pricing import bulk_price\nassert bulk_price(250, 10) == 2250";
        let package = file("src/shopcalc/pricing.py", "def bulk_price(a, b): ...");
        let plain = file("tests/test_pricing.py", "from shopcalc.pricing import bulk_price\n");
        let through_src = file("tests/test_pricing.py", "from src.shopcalc.pricing import bulk_price\n");
        let rewritten = follow_src_imports(code, &[package.clone(), plain]);
        assert!(rewritten.starts_with("from shopcalc.pricing import bulk_price\n"), "{rewritten}");
        assert_eq!(follow_src_imports(code, &[package, through_src]), code);
        assert_eq!(follow_src_imports(code, &[file("shopcalc.py", "")]), code, "no src/ layout");
    }

    #[test]
    fn nothing_to_change_needs_every_sample_to_pass() {
        let test = ReproTest {
            path: "t.py".into(),
            code: String::new(),
            assertions: String::new(),
            base_output: String::new(),
            part_of: None,
        };
        let found = |samples_passing| Reproduction {
            kept: Vec::new(),
            passing: vec![test.clone()],
            samples_passing,
            lessons: Lessons::default(),
        };
        assert!(found(3).nothing_to_change(3));
        assert!(!found(2).nothing_to_change(3), "a broken third sample is reason enough to do the work");
        assert!(!found(1).nothing_to_change(1), "one sample is never enough");
        let failing = Reproduction { kept: vec![test.clone()], ..found(3) };
        assert!(!failing.nothing_to_change(3));
    }

    #[test]
    fn the_layout_follows_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let py = vec![
            file("src/pkg/a.py", ""),
            file("tests/unit/test_a.py", "import pytest\n"),
            file("tests/unit/test_b.py", ""),
        ];
        let layout = Layout::detect(dir.path(), &py, true).unwrap();
        assert_eq!(layout, Layout { framework: Framework::Pytest, dir: "tests/unit".into(), package: None });
        assert_eq!(layout.path(12, 0), "tests/unit/test_issue_12.py");
        assert_eq!(layout.path(12, 1), "tests/unit/test_issue_12_2.py");
        let unittest = vec![file("calc.py", ""), file("test_calc.py", "import unittest\n")];
        let layout = Layout::detect(dir.path(), &unittest, true).unwrap();
        assert_eq!(layout, Layout { framework: Framework::Unittest, dir: String::new(), package: None });
        assert_eq!(layout.command("test_issue_3.py"), ["python3", "test_issue_3.py"]);
        let js = vec![file("lib/store.js", ""), file("test/store.test.js", "")];
        let layout = Layout::detect(dir.path(), &js, false).unwrap();
        assert_eq!((layout.framework.clone(), layout.path(4, 0)), (Framework::NodeTest, "test/issue-4.test.js".into()));
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"semver-lite\"\n").unwrap();
        let layout = Layout::detect(dir.path(), &js, false).unwrap();
        assert_eq!(layout.framework, Framework::Cargo { crate_name: "semver_lite".into() });
        assert_eq!(layout.command(&layout.path(9, 0)), ["cargo", "test", "--quiet", "--offline", "--test", "issue_9"]);
    }

    #[test]
    fn python_assertions_become_a_test_of_the_framework() {
        let code = "from calc import double\nassert double(2) == 4, double(2)\n";
        let pytest = Layout { framework: Framework::Pytest, dir: "tests".into(), package: None };
        let text = pytest.wrap(7, "tests/test_issue_7.py", code).unwrap();
        assert!(text.contains("from calc import double\n\n\ndef test_issue_7():\n    assert double(2) == 4"), "{text}");
        let unittest = Layout { framework: Framework::Unittest, dir: String::new(), package: None };
        let text = unittest.wrap(7, "test_issue_7.py", code).unwrap();
        assert!(
            text.contains("class Issue7Test(unittest.TestCase):\n    def test_issue_7(self):\n        assert"),
            "{text}"
        );
        assert!(text.contains("unittest.main()"));
        assert!(pytest.wrap(7, "x.py", "print(double(2))").is_none(), "no assertion, no test");
        let functions = "from calc import double\n\ndef test_double():\n    assert double(2) == 4\n";
        let text = pytest.wrap(7, "tests/test_issue_7.py", functions).unwrap();
        assert!(text.contains("    def test_double():\n        assert double(2) == 4\n    test_double()"), "{text}");
    }

    #[test]
    fn a_main_block_the_model_wrote_runs_under_every_runner() {
        let code = "import config\n\ndef test_parse():\n    assert config.parse(\"a = 1\") == {'a': '1'}\n\nif __name__ == '__main__':\n    test_parse()\n    assert config.parse(\" \") == {}\n    unittest.main()\nassert config.parse(\"\") == {}\n";
        let text = Layout { framework: Framework::Pytest, dir: String::new(), package: None }
            .wrap(3, "test_issue_3.py", code)
            .unwrap();
        assert!(!text.contains("unittest.main()"), "the wrapper is the runner: {text}");
        assert!(text.contains("    test_parse()\n"), "the function is called unconditionally: {text}");
        assert_eq!(text.matches("test_parse()\n").count(), 1, "and once: {text}");
        assert!(text.contains("    assert config.parse(\" \") == {}\n"), "a check in the block runs too: {text}");
        assert!(text.contains("assert config.parse(\"\") == {}"), "what follows the block stays: {text}");
        assert_eq!(text.matches("__main__").count(), 1, "only the wrapper's own: {text}");
    }

    #[test]
    fn unittest_methods_and_cases_the_model_wrote_loose_are_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("calc.py"), "def evaluate(text):\n    return 9\n").unwrap();
        let method =
            "from calc import evaluate\n\ndef test_chain(self):\n    self.assertEqual(evaluate(\"10 - 3 - 2\"), 5)\n";
        let case = "from calc import evaluate\nimport unittest\n\nclass CalcTests(unittest.TestCase):\n    \
                    def test_chain(self):\n        self.assertEqual(evaluate(\"10 - 3 - 2\"), 5)\n";
        for framework in [Framework::Unittest, Framework::Pytest] {
            let layout = Layout { framework: framework.clone(), dir: String::new(), package: None };
            for code in [method, case] {
                let text = layout.wrap(15, "test_issue_15.py", code).unwrap();
                std::fs::write(dir.path().join("test_issue_15.py"), &text).unwrap();
                let run = std::process::Command::new("python3")
                    .arg("test_issue_15.py")
                    .current_dir(dir.path())
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&run.stderr);
                // 9 != 5: the assertion ran (a test that never runs its assertions would pass).
                assert!(!run.status.success() && stderr.contains("9 != 5"), "{framework:?}\n{text}\n{stderr}");
            }
        }
    }

    #[test]
    fn javascript_requires_are_rewritten_relative_to_the_test_file() {
        let layout = Layout { framework: Framework::NodeTest, dir: "test/unit".into(), package: None };
        let code = "const assert = require('assert');\nconst { parse } = require('./lib/query');\nassert.deepStrictEqual(parse('a=1&a=2'), { a: ['1', '2'] });";
        let text = layout.wrap(11, "test/unit/issue-11.test.js", code).unwrap();
        assert!(text.contains("require('../../lib/query')"), "{text}");
        assert!(text.contains("const test = require('node:test');"));
        assert!(text.contains("test('issue #11', () => {\n  assert.deepStrictEqual"), "{text}");
        assert_eq!(text.matches("require('node:assert')").count(), 1);
    }

    #[test]
    fn a_require_of_the_repositorys_own_package_by_name_loads_the_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = r#"{ "name": "tidylog", "version": "3.0.1", "main": "./src/index.js" }"#;
        std::fs::write(dir.path().join("package.json"), manifest).unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(dir.path().join("test")).unwrap();
        let index = "module.exports = { level: (o) => o.logLevel || 'info' };\n";
        std::fs::write(dir.path().join("src/index.js"), index).unwrap();
        std::fs::write(dir.path().join("src/time.js"), "module.exports = { now: () => 'then' };\n").unwrap();
        let files = vec![file("src/index.js", index), file("test/log.test.js", "")];
        let layout = Layout::detect(dir.path(), &files, false).unwrap();
        let package = NpmPackage { name: "tidylog".into(), main: "src/index.js".into() };
        assert_eq!(layout.package, Some(package));
        let code = "const { level } = require('tidylog');\nconst { now } = require(\"tidylog/src/time\");\n\
                    assert.deepStrictEqual(now(), 'then');\nassert.deepStrictEqual(level({ level: 'warn' }), 'warn');";
        let text = layout.wrap(1, "test/issue-1.test.js", code).unwrap();
        assert!(text.contains("require('../src/index.js')") && text.contains("require(\"../src/time\")"), "{text}");
        std::fs::write(dir.path().join("test/issue-1.test.js"), &text).unwrap();
        let run = std::process::Command::new("node")
            .args(["--test", "test/issue-1.test.js"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let output = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        // It fails on the assertion about the bug, not on a module it cannot find.
        assert!(!run.status.success() && output.contains("'warn'"), "{text}\n{output}");
        assert!(!output.contains("Cannot find module"), "{output}");
        // Names that could break out of the string literal, and a manifest without `main`.
        assert_eq!(NpmPackage::from_manifest(r#"{ "name": "a'b" }"#), None);
        assert_eq!(NpmPackage::from_manifest(r#"{ "name": "x" }"#).map(|p| p.main), Some("index.js".into()));
        assert_eq!(NpmPackage::from_manifest("not json"), None);
    }

    #[test]
    fn rust_assertions_become_an_integration_test() {
        let layout =
            Layout { framework: Framework::Cargo { crate_name: "caldate".into() }, dir: "tests".into(), package: None };
        let text = layout.wrap(6, "tests/issue_6.rs", "use caldate::is_leap;\nassert!(!is_leap(1900));").unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("use ")).count(), 1);
        assert!(text.contains("#[test]\nfn issue_6() {\n    assert!(!is_leap(1900));\n}"), "{text}");
    }

    #[test]
    fn only_a_test_that_fails_for_a_reason_in_the_code_is_kept() {
        let layout = Layout { framework: Framework::Pytest, dir: String::new(), package: None };
        let keep = |out: &str, issue: &str| layout.base_problem(false, false, out, issue).is_none();
        assert!(layout.base_problem(true, false, "", "").is_some());
        assert!(layout.base_problem(false, true, "", "").is_some());
        assert!(layout.base_problem(false, true, "", "Make the change: parse() must accept tabs").is_some());
        assert_eq!(layout.base_problem(false, true, "", "wrap() hangs forever on a long word"), None);
        assert_eq!(layout.base_problem(false, true, "", "An infinite loop in `tokenize`"), None);
        assert!(!keep("E   ModuleNotFoundError: No module named 'slugs'", ""));
        assert!(!keep("E   NameError: name 'slugfy' is not defined", ""));
        assert!(keep("E   AssertionError: assert 5 == 4", ""));
        assert!(keep("E   ValueError: month must be in 1..12", ""));
        assert!(keep("E   TypeError: unsupported operand", "it crashes with TypeError: unsupported operand"));
        assert!(!keep("E   TypeError: parse() got an unexpected keyword argument 'strict'", "parse is wrong"));
        // A test that reads standard input fails for want of input, not for the code.
        assert!(!keep("E   io.UnsupportedOperation: not readable", "--tail 0 prints the whole log"));
        assert!(!keep("E   OSError: pytest: reading from stdin while output is captured!  Consider using `-s`.", ""));
    }

    #[test]
    fn the_shipped_test_takes_the_form_of_the_repositorys_tests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/test_discounts.py"), "def test_a():\r\n\tassert True\r\n").unwrap();
        // A conftest.py with no indented line, nearer by the length of its path, says nothing of tabs.
        std::fs::write(dir.path().join("tests/conftest.py"), "import sys\r\n").unwrap();
        let test_file = |path: &str, content: &str| RepoFile {
            path: path.into(),
            content: content.into(),
            signatures: Vec::new(),
            is_test: true,
        };
        let files = [
            test_file("tests/conftest.py", "import sys\n"),
            test_file("tests/test_discounts.py", "def test_a():\n    assert True\n"),
        ];
        let test = ReproTest {
            path: "tests/test_issue_1.py".into(),
            code: "def test_issue_1():\n    assert f(1) == 2\n".into(),
            assertions: String::new(),
            base_output: String::new(),
            part_of: None,
        };
        assert_eq!(test.in_house_style(dir.path(), &files).code, "def test_issue_1():\r\n\tassert f(1) == 2\r\n");
        // No test of that language: our form.
        let rust = ReproTest { path: "tests/issue_1.rs".into(), ..test.clone() };
        assert_eq!(rust.in_house_style(dir.path(), &files).code, test.code);
    }

    #[test]
    fn an_installed_test_is_removed_unless_kept() {
        let dir = tempfile::tempdir().unwrap();
        let test = ReproTest {
            path: "tests/test_issue_1.py".into(),
            code: "x\n".into(),
            assertions: String::new(),
            base_output: String::new(),
            part_of: None,
        };
        drop(test.install(dir.path()).unwrap());
        assert!(!dir.path().join("tests/test_issue_1.py").exists());
        test.install(dir.path()).unwrap().keep();
        assert!(dir.path().join("tests/test_issue_1.py").exists());
    }

    #[test]
    fn samples_that_assert_the_same_thing_are_one_test() {
        let test = |assertions: &str| ReproTest {
            path: String::new(),
            code: String::new(),
            assertions: assertions.into(),
            base_output: String::new(),
            part_of: None,
        };
        let a = test("import intervals\nassert intervals.merge([(9, 10), (10, 11)]) == [(9, 11)]\nassert f(1.5) == 2");
        let b = test("from intervals import merge\nassert f(1.5)==2\nassert merge([(9, 10), (10, 11)]) == [(9, 11)]");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert!(a.fingerprint().contains("f(1.5)==2"), "decimals stay: {}", a.fingerprint());
        assert_ne!(a.fingerprint(), test("assert merge([(1, 2)]) == [(1, 2)]").fingerprint());
    }

    #[test]
    fn replies_give_their_fenced_code() {
        assert_eq!(code_of_reply("Here:\n```python\nassert f() == 1\n```\nDone."), "assert f() == 1");
        assert_eq!(code_of_reply("assert f() == 1"), "assert f() == 1");
    }

    #[test]
    fn hints_follow_what_earlier_samples_did_wrong() {
        let examples = vec!["assert last_records(iter(range(10)), 3) == [7, 8, 9]".to_owned()];
        let plain = hinted("P", Hints { echoed: false, no_file: false, miscalled: false, examples: &[] });
        assert_eq!(plain, "P");
        let shown = hinted("P", Hints { echoed: false, no_file: true, miscalled: true, examples: &examples });
        assert!(shown.starts_with(&format!("P{FILE_HINT}")), "{shown}");
        assert!(shown.contains("called the code wrongly"), "{shown}");
        let unnamed = hinted("P", Hints { echoed: false, no_file: false, miscalled: false, examples: &examples });
        assert!(unnamed.starts_with("P\nThe repository's own tests call the code like this:"), "{unnamed}");
        assert!(shown.contains("```\nassert last_records(iter(range(10)), 3) == [7, 8, 9]\n```"), "{shown}");
        assert!(calls_wrongly("E   AttributeError: 'list' object has no attribute 'files'"));
        assert!(calls_wrongly("TypeError: store.flush is not a function"));
        assert!(!calls_wrongly("AssertionError: assert [1] == []"));
    }
}
