//! What the agent knows about a repository: its files, a compact map of paths and signatures, which files an
//! issue is about, and how to run its tests.

use std::collections::HashSet;
use std::path::Path;

use codingworker_llm::LlmClient;

const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", "__pycache__", ".venv", "venv", "dist", "build"];
const SOURCE_EXTENSIONS: &[&str] = &[
    "py", "rs", "js", "ts", "jsx", "tsx", "mjs", "go", "java", "rb", "c", "h", "cpp", "toml", "json", "md", "cfg",
    "txt",
];
const MAX_FILE_BYTES: u64 = 200 * 1024;

/// A text file of the repository.
#[derive(Debug, Clone)]
pub struct RepoFile {
    pub path: String,
    pub content: String,
    pub signatures: Vec<String>,
    pub is_test: bool,
}

impl RepoFile {
    pub fn tokens(&self) -> u32 {
        LlmClient::estimate_tokens(&self.content)
    }
}

/// Lists the repository's text files: `git ls-files` when it is a git checkout, else a walk.
pub fn load_files(root: &Path) -> Vec<RepoFile> {
    load_files_and_unreadable(root).0
}

/// The repository's text files (see [`crate::textfile`] for the form the model sees), and the source files that
/// cannot be shown, each with why: `(path, reason)`.
pub fn load_files_and_unreadable(root: &Path) -> (Vec<RepoFile>, Vec<(String, String)>) {
    let listed = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect());
    let paths: Vec<String> = listed.unwrap_or_else(|| walk(root));
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    let sources = paths
        .into_iter()
        .filter(|p| !p.split('/').any(|part| SKIP_DIRS.contains(&part)))
        .filter(|p| p.rsplit_once('.').is_some_and(|(_, ext)| SOURCE_EXTENSIONS.contains(&ext)));
    for path in sources {
        let full = root.join(&path);
        let Ok(meta) = std::fs::metadata(&full) else { continue };
        if !meta.is_file() {
            continue;
        }
        if meta.len() > MAX_FILE_BYTES {
            unreadable.push((
                path,
                format!("is {} KiB, over the {} KiB shown to the model", meta.len() / 1024, MAX_FILE_BYTES / 1024),
            ));
            continue;
        }
        match crate::textfile::read(&full) {
            Ok(Some(file)) => files.push(load_one(&path, &file.text)),
            Ok(None) => {}
            Err(e) => unreadable.push((path, e.reason)),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    unreadable.sort();
    (files, unreadable)
}

/// A file's record from its path and text.
pub fn load_one(path: &str, content: &str) -> RepoFile {
    RepoFile {
        path: path.to_owned(),
        content: content.to_owned(),
        signatures: signatures(path, content),
        is_test: is_test_path(path),
    }
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if !SKIP_DIRS.contains(&name.as_str()) && out.len() < 5000 {
                    stack.push(path);
                }
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

pub fn is_test_path(path: &str) -> bool {
    is_test_file_name(path) || path.split('/').any(|p| p == "tests" || p == "test" || p == "__tests__")
}

/// Whether the file's own name (not its directory) says it is a test: `test_x.py`, `x_test.py`, `x.test.js`,
/// `x.spec.ts`. A `conftest.py` or a helper in `tests/` is a test path without being named as one.
pub fn is_test_file_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("test_") || name.ends_with("_test.py") || name.contains(".test.") || name.contains(".spec.")
}

/// Top-level and method signatures, the part of a file a model needs to know it exists.
fn signatures(path: &str, content: &str) -> Vec<String> {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let prefixes: &[&str] = match ext {
        "py" => &["def ", "class ", "async def "],
        "rs" => &[
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "fn ",
            "pub struct ",
            "pub(crate) struct ",
            "struct ",
            "pub enum ",
            "pub(crate) enum ",
            "enum ",
            "impl ",
            "pub trait ",
            "trait ",
        ],
        "js" | "ts" | "jsx" | "tsx" | "mjs" => &["function ", "export ", "class ", "async function "],
        "go" => &["func ", "type "],
        _ => &[],
    };
    content
        .lines()
        .filter(|line| {
            let t = line.trim_start();
            prefixes.iter().any(|p| t.starts_with(p)) && line.len() - t.len() <= 4
        })
        .map(|line| line.trim_end().trim_end_matches('{').trim_end().to_owned())
        .collect()
}

/// Lower-case words of three or more characters, split on anything that is not part of an identifier.
pub fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| w.len() >= 3).map(str::to_lowercase).collect()
}

/// How strongly a file relates to the issue and the failing tests.
pub fn relevance(file: &RepoFile, issue_words: &HashSet<String>, failure: &str) -> i64 {
    let mut score = 0i64;
    if failure.contains(&file.path) {
        score += 50;
    }
    let path_words = words(&file.path.replace(['/', '.'], " "));
    score += 10 * path_words.intersection(issue_words).count() as i64;
    for signature in &file.signatures {
        let hits = words(signature).intersection(issue_words).count() as i64;
        score += 3 * hits;
    }
    if file.is_test {
        score -= 5;
    }
    score
}

/// Paths and signatures within `budget` tokens: every path, signatures of the most relevant files first.
pub fn repo_map(files: &[&RepoFile], budget: u32) -> String {
    let mut out = String::new();
    for file in files {
        let mut block = format!("{}\n", file.path);
        for signature in &file.signatures {
            block.push_str(&format!("  {}\n", signature.trim()));
        }
        let path_only = format!("{}\n", file.path);
        let candidate = if LlmClient::estimate_tokens(&out) + LlmClient::estimate_tokens(&block) <= budget {
            block
        } else {
            path_only
        };
        if LlmClient::estimate_tokens(&out) + LlmClient::estimate_tokens(&candidate) > budget {
            out.push_str("(more files not shown)\n");
            break;
        }
        out.push_str(&candidate);
    }
    out
}

/// How to run the project's tests, detected from its files.
/// The test command the repository's files suggest. `pytest_available` says whether pytest is importable where the
/// commands run (the sandbox image, or the host).
pub fn detect_test_command(root: &Path, files: &[RepoFile], pytest_available: bool) -> Option<Vec<String>> {
    let argv = |parts: &[&str]| Some(parts.iter().map(|s| (*s).to_owned()).collect());
    if root.join("Cargo.toml").exists() {
        return argv(&["cargo", "test", "--quiet"]);
    }
    if let Ok(text) = std::fs::read_to_string(root.join("package.json"))
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
        && value.pointer("/scripts/test").and_then(|t| t.as_str()).is_some_and(|t| !t.contains("no test specified"))
    {
        return argv(&["npm", "test", "--silent"]);
    }
    // Plain `assert` scripts with no package.json: node's runner takes them as given and fails on a non-zero exit.
    let js_tests: Vec<String> = files
        .iter()
        .filter(|f| f.is_test && (f.path.ends_with(".js") || f.path.ends_with(".cjs") || f.path.ends_with(".mjs")))
        .map(|f| f.path.clone())
        .collect();
    if !js_tests.is_empty() && !root.join("package.json").exists() {
        let mut command = vec!["node".to_owned(), "--test".to_owned()];
        command.extend(js_tests);
        return Some(command);
    }
    let python_tests = files.iter().any(|f| f.is_test && f.path.ends_with(".py"));
    if python_tests {
        if pytest_available {
            // No `-x`: every test runs, so a change is judged test by test (see `outcomes`).
            return argv(&["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]);
        }
        return argv(&["python3", "-m", "unittest"]);
    }
    None
}

/// The informative part of a test run's output: error and assertion lines plus the tail, within `max_chars`.
pub fn compact_failure(output: &str, max_chars: usize) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let keys = ["Error", "error", "assert", "FAIL", "File \"", "E   ", "panicked", "expected", "Expected", "!="];
    let mut picked: Vec<usize> =
        lines.iter().enumerate().filter(|(_, l)| keys.iter().any(|k| l.contains(k))).map(|(i, _)| i).collect();
    let tail_start = lines.len().saturating_sub(6);
    picked.extend(tail_start..lines.len());
    picked.sort_unstable();
    picked.dedup();
    let mut text = String::new();
    let mut previous: Option<usize> = None;
    for i in picked {
        if previous.is_some_and(|p| i > p + 1) {
            text.push_str("...\n");
        }
        text.push_str(lines[i].trim_end());
        text.push('\n');
        previous = Some(i);
    }
    if text.chars().count() > max_chars {
        let skip = text.chars().count() - max_chars;
        text = format!("...{}", text.chars().skip(skip).collect::<String>());
    }
    text
}

/// Scans one line of code for quoted strings and a line comment (`#` when `hash`, `//` when `slashes`): the byte
/// where the comment starts, if any, and whether byte `at` is inside a quoted string. A Rust lifetime (`'a`) opens
/// no string: a quoted one closes on the same line.
pub(crate) fn scan_line(line: &str, hash: bool, slashes: bool, at: usize) -> (Option<usize>, bool) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut at_in_string = false;
    for (i, c) in line.char_indices() {
        if i == at {
            at_in_string = quote.is_some();
        }
        match quote {
            Some(q) => {
                if !escaped && c == q {
                    quote = None;
                }
                escaped = !escaped && c == '\\';
            }
            None if c == '"' || c == '`' => quote = Some(c),
            None if c == '\'' && line[i + 1..].contains('\'') => quote = Some(c),
            None if (hash && c == '#') || (slashes && line[i..].starts_with("//")) => return (Some(i), at_in_string),
            None => {}
        }
    }
    (None, at_in_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> RepoFile {
        RepoFile {
            path: path.into(),
            content: content.into(),
            signatures: signatures(path, content),
            is_test: is_test_path(path),
        }
    }

    #[test]
    fn signatures_and_test_paths() {
        let f = file(
            "pkg/stats.py",
            "import x\n\ndef median(v):\n    pass\n\nclass Box:\n    def size(self):\n        def inner(): pass\n",
        );
        assert_eq!(f.signatures, vec!["def median(v):", "class Box:", "    def size(self):"]);
        assert!(is_test_path("tests/test_x.py") && is_test_path("test_stats.py") && is_test_path("a.test.js"));
        assert!(!is_test_path("stats.py"));
    }

    #[test]
    fn relevance_prefers_files_named_by_the_issue_and_the_failure() {
        let issue = words("median() is wrong for even lists");
        let stats = file("stats.py", "def median(values):\n");
        let other = file("report.py", "def render():\n");
        let test = file("test_stats.py", "def test_median():\n");
        assert!(relevance(&stats, &issue, "") > relevance(&other, &issue, ""));
        assert!(relevance(&stats, &issue, "") > relevance(&test, &issue, ""));
        assert!(relevance(&other, &issue, "File \"report.py\", line 3") > relevance(&stats, &issue, ""));
    }

    #[test]
    fn the_map_stays_within_its_budget() {
        let files: Vec<RepoFile> = (0..200).map(|i| file(&format!("m{i}.py"), &format!("def f{i}(a, b):\n"))).collect();
        let refs: Vec<&RepoFile> = files.iter().collect();
        let map = repo_map(&refs, 300);
        assert!(LlmClient::estimate_tokens(&map) <= 310, "{}", LlmClient::estimate_tokens(&map));
        assert!(map.starts_with("m0.py\n  def f0(a, b):"));
        assert!(map.contains("more files not shown"));
    }

    #[test]
    fn test_commands_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detect_test_command(dir.path(), &[], false), None);
        let py = vec![file("test_a.py", "")];
        assert_eq!(detect_test_command(dir.path(), &py, false).unwrap(), ["python3", "-m", "unittest"]);
        assert_eq!(detect_test_command(dir.path(), &py, true).unwrap()[..3], ["python3", "-m", "pytest"]);
        let js = vec![file("test_text.js", ""), file("text.js", "")];
        assert_eq!(detect_test_command(dir.path(), &js, false).unwrap(), ["node", "--test", "test_text.js"]);
        std::fs::write(dir.path().join("package.json"), r#"{"scripts":{"test":"node t.js"}}"#).unwrap();
        assert_eq!(detect_test_command(dir.path(), &[], false).unwrap()[0], "npm");
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").unwrap();
        assert_eq!(detect_test_command(dir.path(), &[], false).unwrap()[0], "cargo");
    }

    #[test]
    fn failures_are_compacted_to_what_matters() {
        let mut out = String::from("collecting\n");
        for i in 0..200 {
            out.push_str(&format!("noise line {i}\n"));
        }
        out.push_str("FAIL: test_even_length (test_stats.MedianTest)\nAssertionError: 3 != 2.5\n");
        out.push_str("Ran 5 tests\nFAILED (failures=1)\n");
        let compact = compact_failure(&out, 600);
        assert!(compact.contains("AssertionError: 3 != 2.5"));
        assert!(!compact.contains("noise line 50"));
        assert!(compact.len() <= 610);
    }
}
