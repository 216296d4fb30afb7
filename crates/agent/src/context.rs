//! Localisation: which files the issue is about, before any model call.
//!
//! In a repository of dozens of files the prompt can show two or three. The evidence, strongest first: the frames of
//! a traceback in the issue or the failing tests (the innermost frame most), the functions and classes the issue
//! names and which file defines them, the strings the issue quotes that only one or two files hold, the words of the
//! issue in paths and signatures, the import graph (a file the innermost frame imports is where a bad value often
//! comes from) and one step along calls (what the issue's function calls, and what is called where a command-line
//! flag the issue names is read; most where several of them meet). A decoy module with a similar name loses to the
//! one that defines what the issue calls.

use std::collections::{HashMap, HashSet};

use crate::repo::repo_map;
use crate::repo::{RepoFile, relevance, words};
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Call, edits};

/// Points for the innermost traceback frame, for any other frame, for each name of the issue a file defines, and for
/// a file imported by the innermost frame's file or by a failing test. Chosen so one frame outweighs the words of
/// a path, and a definition outweighs a similar file name (a decoy).
const INNERMOST_FRAME: i64 = 60;
const FRAME: i64 = 30;
const DEFINES_NAME: i64 = 25;
const IMPORTED: i64 = 12;
/// Points for a file that defines a function called by a function the issue names, or on a line that reads a
/// command-line flag the issue names (once per file): a call is nearer the bug than an import. And for a file that
/// declares such a flag.
const CALLED: i64 = 8;
const DECLARES_FLAG: i64 = 12;
/// Points more for a file called into by two or more of those: where the paths of the symptoms meet. Bench task 24
/// (2026-12-06): the issue reports `matches` and `next_after` wrong, both call `day_matches`, and the bug is there;
/// with `CALLED` alone its file ranked below the files defining the issue's types. Chosen so a meeting point
/// outranks one definition (25) plus an import.
const MEETING: i64 = 40;
/// A callee defined in more files than this is too common a name to point anywhere.
const MAX_DEFINERS: usize = 2;
/// Points for a source file that holds, in quotes, a string the issue quotes (`"lb"` in `Parcel(20, "lb")`, the
/// `"Hello, World!"` of a docstring), once per such string, when at most [`MAX_QUOTERS`] source files hold it: the
/// code that names a unit or documents an example handles it, however many calls it is from any frame. Bench tasks
/// 18 (the pound factor in `units.py`, two calls below the traceback) and 20 (`slug.py`, whose docstring gives the
/// issue's ASCII example). 30 is what 18 needed (at 20, `units.py` stayed below the top three); the bench
/// localisation test pins every task's ranking with it.
const QUOTED: i64 = 30;
const MAX_QUOTERS: usize = 2;

/// Files ranked by how likely the fix is in them, best first.
pub fn rank<'f>(files: &'f [RepoFile], issue_text: &str, failure: &str) -> Vec<&'f RepoFile> {
    scored(files, issue_text, failure).into_iter().map(|(file, _)| file).collect()
}

/// [`rank`] with each file's score (points as the constants above give them), best first.
pub fn scored<'f>(files: &'f [RepoFile], issue_text: &str, failure: &str) -> Vec<(&'f RepoFile, i64)> {
    let issue_words = words(issue_text);
    let mut scores: HashMap<&str, i64> =
        files.iter().map(|f| (f.path.as_str(), relevance(f, &issue_words, failure))).collect();
    let mut innermost: Vec<&str> = Vec::new();
    let is_test = |path: &str| files.iter().any(|f| f.path == path && f.is_test);
    for text in [issue_text, failure] {
        // A failing test's own frame (where its assertion is) says where the test is, not the bug: the innermost
        // frame outside the tests is.
        let frames: Vec<&str> = traceback_frames(text, files).into_iter().filter(|p| !is_test(p)).collect();
        if let Some(last) = frames.last() {
            innermost.push(last);
        }
        let n = frames.len();
        for (i, path) in frames.into_iter().enumerate() {
            *scores.entry(path).or_default() += if i + 1 == n { INNERMOST_FRAME } else { FRAME };
        }
    }
    let names = issue_names(issue_text);
    let mut definers = Vec::new();
    for file in files {
        let defined = names.iter().filter(|name| defines(file, name)).count() as i64;
        *scores.entry(&file.path).or_default() += DEFINES_NAME * defined;
        // Functions do the work a user sees go wrong; the classes an example builds are mostly data, and hopping
        // from each of them would raise half the package.
        if names.iter().any(|name| name.starts_with(|c: char| c.is_lowercase() || c == '_') && defines(file, name)) {
            definers.push(file.path.as_str());
        }
    }
    // One hop along the import graph from the innermost frames, the failing tests and the files that define the
    // functions the issue calls: the function a user names is often only the messenger of a helper's bad value.
    let mut sources: Vec<&str> = innermost;
    sources.extend(definers);
    sources.extend(files.iter().filter(|f| f.is_test && failure.contains(&f.path)).map(|f| f.path.as_str()));
    let mut neighbours = HashSet::new();
    for source in sources {
        if let Some(file) = files.iter().find(|f| f.path == source) {
            neighbours.extend(imports(file, files));
        }
    }
    for path in neighbours {
        *scores.entry(path).or_default() += IMPORTED;
    }
    for (path, points) in call_hops(files, issue_text, &names) {
        *scores.entry(path).or_default() += points;
    }
    for (path, points) in quoted_strings(files, issue_text) {
        *scores.entry(path).or_default() += points;
    }
    let mut ranked: Vec<(&RepoFile, i64)> =
        files.iter().map(|f| (f, scores.get(f.path.as_str()).copied().unwrap_or(0))).collect();
    ranked.sort_by_key(|(f, score)| (std::cmp::Reverse(*score), f.path.len()));
    ranked
}

/// The `count` source files (not tests) of the repository at `root` most likely to hold the fix, best first, as
/// repository-relative paths: [`rank`] on the issue alone, for an agent that reads the repository itself.
/// Empty when nothing of the issue points anywhere (every score 0).
pub fn likely_files(root: &std::path::Path, issue_text: &str, count: usize) -> Vec<String> {
    let files = crate::repo::load_files(root);
    let issue_words = words(issue_text);
    // A ranking with nothing behind it is file order; naming those files would only mislead.
    if issue_names(issue_text).is_empty() && !files.iter().any(|f| relevance(f, &issue_words, "") > 0) {
        return Vec::new();
    }
    let ranked = rank(&files, issue_text, "");
    // Code, not the prose and settings files the repository map also holds: a fix goes in code.
    let is_code = |path: &str| {
        path.rsplit_once('.').is_some_and(|(_, ext)| !matches!(ext, "md" | "txt" | "toml" | "json" | "cfg"))
    };
    ranked.into_iter().filter(|f| !f.is_test && is_code(&f.path)).take(count).map(|f| f.path.clone()).collect()
}

/// Points along calls: the files that define what the issue's own functions call, and, for each command-line flag
/// the issue names (`--tail`), the files that declare it and the files that define what is called where its value
/// is read (`last_records(records, args.tail)`). A user reports the entry point; the bug is often one call away.
fn call_hops<'f>(files: &'f [RepoFile], issue_text: &str, names: &HashSet<String>) -> Vec<(&'f str, i64)> {
    // Each caller is labelled by its file and what it is (a function, a flag), so a meeting point counts callers.
    let mut callers: Vec<(&RepoFile, String, String)> = Vec::new();
    let mut points: Vec<(&str, i64)> = Vec::new();
    // Each flag as code declares it (either quote) and as code reads its value.
    let flags: Vec<([String; 2], String)> = issue_flags(issue_text)
        .into_iter()
        .map(|flag| ([format!("\"--{flag}\""), format!("'--{flag}'")], format!(".{}", flag.replace('-', "_"))))
        .collect();
    for file in files.iter().filter(|f| !f.is_test) {
        for name in names.iter().filter(|n| n.starts_with(|c: char| c.is_lowercase() || c == '_')) {
            if defines(file, name)
                && let Some(body) = definition_body(&file.content, name)
            {
                callers.push((file, format!("{}:{name}", file.path), body));
            }
        }
        for (declared, attribute) in &flags {
            if !declared.iter().any(|d| file.content.contains(d.as_str())) {
                continue;
            }
            points.push((file.path.as_str(), DECLARES_FLAG));
            let reading: Vec<&str> = file.content.lines().filter(|l| reads_attribute(l, attribute)).collect();
            callers.push((file, format!("{}:{attribute}", file.path), reading.join("\n")));
        }
    }
    let mut called: HashMap<&str, HashSet<String>> = HashMap::new();
    for (caller, label, body) in callers {
        for callee in called_names(&body) {
            let definers: Vec<&RepoFile> =
                files.iter().filter(|f| f.path != caller.path && defines(f, &callee)).collect();
            if definers.len() <= MAX_DEFINERS {
                for definer in definers {
                    called.entry(definer.path.as_str()).or_default().insert(label.clone());
                }
            }
        }
    }
    points.extend(called.into_iter().map(|(path, by)| (path, if by.len() > 1 { CALLED + MEETING } else { CALLED })));
    points
}

/// Points for the source files that hold a string the issue quotes, [`QUOTED`] per string, for the strings that at
/// most [`MAX_QUOTERS`] source files hold (a string in many files points nowhere).
fn quoted_strings<'f>(files: &'f [RepoFile], issue_text: &str) -> Vec<(&'f str, i64)> {
    let sources: Vec<&RepoFile> = files.iter().filter(|f| !f.is_test).collect();
    let mut points = Vec::new();
    for quote in issue_quotes(issue_text) {
        let forms = [format!("\"{quote}\""), format!("'{quote}'")];
        let holders: Vec<&str> = sources
            .iter()
            .filter(|f| forms.iter().any(|form| f.content.contains(form.as_str())))
            .map(|f| f.path.as_str())
            .collect();
        if holders.len() <= MAX_QUOTERS {
            points.extend(holders.into_iter().map(|path| (path, QUOTED)));
        }
    }
    points
}

/// The strings the issue puts in double quotes, each line on its own (an apostrophe is not a quote): `Parcel(20,
/// "lb", dim_unit="in")` gives `lb` and `in`. Only strings of 2 to 60 characters with a letter or digit in them.
fn issue_quotes(text: &str) -> HashSet<String> {
    let mut quotes = HashSet::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split('"').collect();
        // An odd part is inside quotes only when its closing quote is on the line too.
        for (i, part) in parts.iter().enumerate() {
            let length = part.chars().count();
            if i % 2 == 1
                && i + 1 < parts.len()
                && (2..=60).contains(&length)
                && part.chars().any(char::is_alphanumeric)
                && part.trim() == *part
            {
                quotes.insert((*part).to_owned());
            }
        }
    }
    quotes
}

/// Long command-line flags the issue names (`--tail 0`, `--dry-run`), without the dashes.
fn issue_flags(text: &str) -> HashSet<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '(' | ')' | ',' | '='))
        .filter_map(|w| w.strip_prefix("--"))
        .map(|w| w.trim_end_matches(['.', ':', ';']))
        .filter(|w| w.len() >= 2 && w.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(str::to_owned)
        .collect()
}

/// Whether `line` reads `attribute` (`.tail`), not a longer name (`.tail_lines`).
fn reads_attribute(line: &str, attribute: &str) -> bool {
    line.match_indices(attribute)
        .any(|(at, _)| !line[at + attribute.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The body of `name`'s definition in `content`: the indented block under a Python `def`, or the braces after a
/// JavaScript or Rust function's signature. `None` when it is not found.
fn definition_body(content: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = content.lines().collect();
    let start = lines.iter().position(|l| declares(l, FUNCTION_KEYWORDS.iter(), name))?;
    let extent = definition_extent(&lines, start);
    // A one-line function keeps its line: the calls are on it.
    Some(if extent.len() == 1 { lines[start].to_owned() } else { lines[start + 1..extent.end].join("\n") })
}

/// The lines (0-based, the signature's first) of the definition that starts at line `start`: the indented block
/// under a Python `def`, or up to the brace that closes a JavaScript or Rust function.
pub(crate) fn definition_extent(lines: &[&str], start: usize) -> std::ops::Range<usize> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let head = lines[start];
    if head.trim_end().ends_with(':') || !head.contains('{') && !lines[start..].iter().take(3).any(|l| l.contains('{'))
    {
        let body = lines[start + 1..].iter().take_while(|l| l.trim().is_empty() || indent(l) > indent(head)).count();
        return start..start + 1 + body;
    }
    let mut depth = 0i32;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        if opened && depth <= 0 {
            return start..i + 1;
        }
    }
    start..lines.len()
}

/// Names called in `code`: the identifier before each `(` (`a.b(`, `m::f(` and `new C(` give `b`, `f`, `C`).
fn called_names(code: &str) -> HashSet<String> {
    calls_in_order(code).into_iter().collect()
}

/// The names called in `code`, each once, in order of first call: identifiers of three or more characters that
/// start with a letter or `_`, right before a `(`.
pub(crate) fn calls_in_order(code: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in code.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if c == '('
            && word.len() >= 3
            && word.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && !names.contains(&word)
        {
            names.push(std::mem::take(&mut word));
        }
        word.clear();
    }
    names
}

/// Repository files named by traceback frames in `text`, outermost first: Python's `File "…", line N`, Node's
/// `at fn (…:L:C)`, Rust's `panicked at src/x.rs:L:C` and `--> src/x.rs:L:C`. Windows paths and absolute prefixes
/// are matched by their longest suffix that is a repository path.
pub fn traceback_frames<'f>(text: &str, files: &'f [RepoFile]) -> Vec<&'f str> {
    let mut frames = Vec::new();
    let mut node_style = false;
    for line in text.lines() {
        let line = line.trim();
        let raw = if let Some(rest) = line.strip_prefix("File \"") {
            rest.split('"').next()
        } else if let Some(rest) = line.strip_prefix("at ") {
            node_style = true;
            let inner = rest.rsplit_once('(').map_or(rest, |(_, r)| r.trim_end_matches(')'));
            Some(strip_position(inner))
        } else {
            let rust = line
                .find("panicked at ")
                .map(|p| p + "panicked at ".len())
                .or_else(|| line.find("--> ").map(|p| p + 4));
            rust.map(|pos| strip_position(line[pos..].trim_end_matches(':').split_whitespace().next().unwrap_or("")))
        };
        if let Some(path) = raw.and_then(|raw| match_path(raw, files))
            && frames.last() != Some(&path)
        {
            frames.push(path);
        }
    }
    // Node prints the innermost frame first.
    if node_style {
        frames.reverse();
    }
    frames
}

fn strip_position(frame: &str) -> &str {
    let mut text = frame;
    for _ in 0..2 {
        if let Some((head, tail)) = text.rsplit_once(':')
            && !tail.is_empty()
            && tail.chars().all(|c| c.is_ascii_digit())
        {
            text = head;
        }
    }
    text
}

/// The repository path `raw` (absolute, relative or Windows) refers to: the longest path that is a suffix of it.
fn match_path<'f>(raw: &str, files: &'f [RepoFile]) -> Option<&'f str> {
    let normal = raw.replace('\\', "/");
    files
        .iter()
        .filter(|f| normal == f.path || normal.ends_with(&format!("/{}", f.path)))
        .max_by_key(|f| f.path.len())
        .map(|f| f.path.as_str())
}

/// Identifiers the issue names as code: in backticks, before a `(`, or after `def`/`fn`/`function`/`class`.
pub fn issue_names(text: &str) -> HashSet<String> {
    let mut names = HashSet::new();
    let is_ident = |w: &str| {
        w.len() >= 3
            && w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && w.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    for (i, chunk) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let last = chunk.split(['(', ' ']).next().unwrap_or("").rsplit(['.', ':']).next().unwrap_or("");
            if is_ident(last) {
                names.insert(last.to_owned());
            }
        }
    }
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if c == '(' && is_ident(&word) && !matches!(word.as_str(), "and" | "for" | "the" | "not" | "with" | "print") {
            names.insert(word.clone());
        }
        word.clear();
    }
    for keyword in ["def ", "fn ", "function ", "class "] {
        for part in text.split(keyword).skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if is_ident(&name) {
                names.insert(name);
            }
        }
    }
    names
}

/// What starts a function's definition in Python, Rust and JavaScript.
const FUNCTION_KEYWORDS: [&str; 9] = [
    "def ",
    "async def ",
    "fn ",
    "pub fn ",
    "pub(crate) fn ",
    "pub(super) fn ",
    "function ",
    "async function ",
    "export function ",
];

/// Whether `line` (indentation aside) is one of `keywords` followed by exactly `name`.
fn declares<'k>(line: &str, mut keywords: impl Iterator<Item = &'k &'k str>, name: &str) -> bool {
    let line = line.trim_start();
    keywords.any(|k| {
        line.strip_prefix(k).is_some_and(|rest| {
            rest.starts_with(name) && !rest[name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
    })
}

/// Whether `file` defines `name` (a function, method, class, struct or constant of that name).
fn defines(file: &RepoFile, name: &str) -> bool {
    if file.is_test {
        return false;
    }
    file.signatures.iter().any(|s| {
        let kinds = ["class ", "struct ", "pub struct ", "enum ", "pub enum "];
        declares(s, FUNCTION_KEYWORDS.iter().chain(&kinds), name)
    }) || file.content.contains(&format!("{name} = "))
        && file
            .content
            .lines()
            .any(|l| l.starts_with(&format!("{name} = ")) || l.starts_with(&format!("exports.{name} =")))
}

/// Repository files that `file` imports: Python `import`/`from` (absolute, relative, or under `src/`), JavaScript
/// `require`/`import` of relative paths, Rust `mod` and `use crate::`.
pub fn imports<'f>(file: &RepoFile, files: &'f [RepoFile]) -> Vec<&'f str> {
    let dir = file.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut wanted: Vec<String> = Vec::new();
    let ext = file.path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    for line in file.content.lines().map(str::trim) {
        match ext {
            "py" => {
                let module = if let Some(rest) = line.strip_prefix("from ") {
                    rest.split_whitespace().next()
                } else {
                    line.strip_prefix("import ").and_then(|r| r.split([',', ' ']).next())
                };
                let Some(module) = module else { continue };
                let dots = module.chars().take_while(|c| *c == '.').count();
                let rest = module[dots..].replace('.', "/");
                let base = if dots == 0 {
                    rest
                } else {
                    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
                    for _ in 1..dots {
                        parts.pop();
                    }
                    let prefix = parts.join("/");
                    [prefix.as_str(), rest.as_str()]
                        .iter()
                        .filter(|p| !p.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/")
                };
                // `from pkg import mod` may name a module too.
                if let Some(names) = line.split(" import ").nth(1).filter(|_| line.starts_with("from ")) {
                    for name in names.split(',').map(|n| n.split_whitespace().next().unwrap_or("")) {
                        if !name.is_empty() {
                            wanted.push(format!("{base}/{name}.py"));
                        }
                    }
                }
                wanted.push(format!("{base}.py"));
                wanted.push(format!("{base}/__init__.py"));
            }
            "js" | "cjs" | "mjs" | "ts" => {
                for quote in ['\'', '"'] {
                    for part in line
                        .split(&format!("require({quote}"))
                        .skip(1)
                        .chain(line.split(&format!("from {quote}")).skip(1))
                    {
                        let target = part.split(quote).next().unwrap_or("");
                        if target.starts_with('.') {
                            let joined = normalize(&format!("{dir}/{target}"));
                            wanted.push(format!("{joined}.js"));
                            wanted.push(format!("{joined}/index.js"));
                            wanted.push(joined);
                        }
                    }
                }
            }
            "rs" => {
                if let Some(name) = line.strip_prefix("mod ").or_else(|| line.strip_prefix("pub mod ")) {
                    let name = name.trim_end_matches(';');
                    let base = if file.path.ends_with("lib.rs")
                        || file.path.ends_with("main.rs")
                        || file.path.ends_with("mod.rs")
                    {
                        dir.to_owned()
                    } else {
                        file.path.trim_end_matches(".rs").to_owned()
                    };
                    wanted.push(normalize(&format!("{base}/{name}.rs")));
                    wanted.push(normalize(&format!("{base}/{name}/mod.rs")));
                } else if let Some(path) =
                    line.strip_prefix("use crate::").or_else(|| line.strip_prefix("pub use crate::"))
                {
                    let parts: Vec<&str> =
                        path.split("::").take_while(|p| p.chars().all(|c| c.is_alphanumeric() || c == '_')).collect();
                    for n in 1..=parts.len() {
                        let joined = parts[..n].join("/");
                        wanted.push(format!("src/{joined}.rs"));
                        wanted.push(format!("src/{joined}/mod.rs"));
                    }
                }
            }
            _ => {}
        }
    }
    files
        .iter()
        .filter(|f| f.path != file.path)
        .filter(|f| {
            wanted.iter().any(|w| f.path == *w || f.path.ends_with(&format!("/{w}")) && f.path.starts_with("src/"))
        })
        .map(|f| f.path.as_str())
        .collect()
}

/// `a/./b/../c` -> `a/c`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

impl Agent<'_> {
    /// Files to show in full: the best ranked that fit the budget; if even the best does not fit, the model picks
    /// from the map.
    pub(crate) async fn choose_files(
        &self,
        ranked: &[&RepoFile],
        issue_text: &str,
        failure: &str,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<String>, AgentError> {
        let budget = self.settings.context_file_tokens;
        let mut chosen = Vec::new();
        let mut used = 0u32;
        // Prose files only earn their tokens when the issue names them.
        let is_prose = |f: &RepoFile| {
            [".md", ".txt", ".rst", ".cfg", ".toml", ".json"].iter().any(|ext| f.path.ends_with(ext))
                && !issue_text.contains(&f.path)
        };
        // A small model given passing tests tends to echo them back; show a test only when it is failing or the
        // issue is about tests.
        let wanted_test =
            |f: &RepoFile| !f.is_test || failure.contains(&f.path) || issue_text.to_lowercase().contains("test");
        let eligible: Vec<&&RepoFile> =
            ranked.iter().filter(|f| !f.content.trim().is_empty() && !is_prose(f) && wanted_test(f)).collect();
        for file in &eligible {
            if used + file.tokens() <= budget && chosen.len() < 3 {
                used += file.tokens();
                chosen.push(file.path.clone());
            }
        }
        let best_fits = eligible.first().is_none_or(|f| f.tokens() <= budget);
        if best_fits && !chosen.is_empty() {
            return Ok(chosen);
        }
        let map = repo_map(ranked, self.settings.repo_map_tokens * 2);
        let prompt = format!(
            "Issue:\n<issue>\n{issue_text}\n</issue>\n\nRepository files:\n{map}\nWhich files must change to fix the \
             issue? Reply with at most 2 paths, one per line, nothing else."
        );
        let call = Call {
            round: 0,
            purpose: "choose files",
            temperature: self.settings.temperature,
            seed: 42,
            max_tokens: 100,
        };
        let reply = self.ask(call, prompt, outcome, on_event).await?;
        let named: Vec<String> = reply
            .lines()
            .filter_map(edits::path_in_line)
            .filter(|p| ranked.iter().any(|f| f.path == *p))
            .take(2)
            .collect();
        Ok(if named.is_empty() { chosen } else { named })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> RepoFile {
        crate::repo::load_one(path, content)
    }

    #[test]
    fn traceback_frames_in_python_node_rust_and_windows_form() {
        let files = vec![
            file("src/shop/billing.py", ""),
            file("src/shop/calutils.py", ""),
            file("lib/store.js", ""),
            file("src/parse/version.rs", ""),
        ];
        let python = "Traceback (most recent call last):\n  File \"C:\\Users\\me\\proj\\src\\shop\\billing.py\", line 13, in billing_dates\n  File \"/home/x/src/shop/calutils.py\", line 7\nValueError: x";
        assert_eq!(traceback_frames(python, &files), ["src/shop/billing.py", "src/shop/calutils.py"]);
        let node =
            "TypeError: x\n    at notify (/app/lib/store.js:14:9)\n    at Object.<anonymous> (/app/test/a.test.js:3:1)";
        assert_eq!(traceback_frames(node, &files), ["lib/store.js"]);
        let rust = "thread 'main' panicked at src/parse/version.rs:31:14:\nindex out of bounds";
        assert_eq!(traceback_frames(rust, &files), ["src/parse/version.rs"]);
    }

    #[test]
    fn likely_files_are_sources_the_issue_points_at_or_none() {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in [
            ("src/pkg/core.py", "def parse_duration(text):\n    return 0\n"),
            ("src/pkg/durations_old.py", "def legacy():\n    return 1\n"),
            ("tests/test_core.py", "from pkg.core import parse_duration\n"),
            ("README.md", "parse_duration('1h') gives a duration\n"),
        ] {
            std::fs::create_dir_all(dir.path().join(path).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(path), text).unwrap();
        }
        let likely = likely_files(dir.path(), "`parse_duration('1h')` returns 0", 2);
        assert_eq!(likely[0], "src/pkg/core.py");
        assert_eq!(likely, ["src/pkg/core.py", "src/pkg/durations_old.py"], "code only, no tests or README");
        assert!(likely_files(dir.path(), "It is slow sometimes.", 2).is_empty());
    }

    #[test]
    fn the_file_that_defines_what_the_issue_calls_beats_a_decoy() {
        let files = vec![
            file("src/app/date_parse.py", "def parse_date(text):\n    return text\n"),
            file("src/app/dateparse.py", "def parse_duration(text):\n    return text\n"),
            file("tests/test_dates.py", "from app.date_parse import parse_date\n"),
        ];
        let ranked = rank(&files, "parse_duration('1h30m') returns the wrong value", "");
        assert_eq!(ranked[0].path, "src/app/dateparse.py");
        let ranked = rank(&files, "`parse_date` drops the timezone", "");
        assert_eq!(ranked[0].path, "src/app/date_parse.py");
    }

    #[test]
    fn the_innermost_frame_and_its_imports_rank_first() {
        let files = vec![
            file("src/shop/billing.py", "from shop.calutils import add_months\n\ndef billing_dates(s):\n    pass\n"),
            file("src/shop/calutils.py", "from .constants import MONTHS\n\ndef add_months(d, m):\n    pass\n"),
            file("src/shop/constants.py", "MONTHS = 12\n"),
            file("src/shop/report.py", "def billing_report():\n    pass\n"),
        ];
        let issue = "billing_dates crashes\n  File \"src/shop/billing.py\", line 3, in billing_dates\n  File \"src/shop/calutils.py\", line 4, in add_months\nValueError";
        let ranked: Vec<&str> = rank(&files, issue, "").iter().map(|f| f.path.as_str()).collect();
        assert_eq!(ranked[0], "src/shop/calutils.py");
        assert_eq!(ranked[1], "src/shop/billing.py");
        assert_eq!(ranked[2], "src/shop/constants.py", "imported by the innermost frame's file: {ranked:?}");
    }

    #[test]
    fn a_helper_imported_by_the_function_the_issue_names_beats_a_decoy_of_similar_name() {
        let files = vec![
            file(
                "src/mail/report/body.py",
                "from mail.text.units import pretty_size\n\ndef build_body(msg):\n    pass\n",
            ),
            file("src/mail/text/units.py", "def pretty_size(n):\n    pass\n"),
            file("src/mail/ui/units_fmt.py", "def pretty_size_ui(n):\n    pass\n"),
            file("src/mail/ui/table.py", "def table(rows):\n    pass\n"),
            file("src/mail/model.py", "from mail.ui.table import table\n\nclass Message:\n    pass\n"),
        ];
        let issue = "`build_body(Message())` prints sizes like '-,1 KB' for a negative size";
        let ranked: Vec<&str> = rank(&files, issue, "").iter().map(|f| f.path.as_str()).collect();
        let at = |path: &str| ranked.iter().position(|r| *r == path).unwrap();
        // The two definers first, then the helper the function imports, above the decoy of similar name.
        assert!(at("src/mail/report/body.py") < 2 && at("src/mail/model.py") < 2, "{ranked:?}");
        assert_eq!(at("src/mail/text/units.py"), 2, "imported by the file defining build_body: {ranked:?}");
        // Had the class's file lent its imports a hop, table.py would tie units.py and win on its shorter path.
        assert!(
            at("src/mail/ui/table.py") > at("src/mail/text/units.py"),
            "a class's imports earn nothing: {ranked:?}"
        );
    }

    #[test]
    fn a_failing_tests_own_frame_does_not_outrank_the_code_it_tests() {
        let files = vec![
            file("stats.py", "def median(values):\n    return values[0]\n"),
            file("test_stats.py", "import unittest\nfrom stats import median\n"),
        ];
        let failure = "FAIL: test_even (test_stats.T)\nTraceback (most recent call last):\n  File \"test_stats.py\", line 9, in test_even\n    self.assertEqual(median([1, 2, 3, 4]), 2.5)\nAssertionError: 2 != 2.5";
        let ranked = rank(&files, "median() is wrong for lists with an even number of items", failure);
        assert_eq!(ranked[0].path, "stats.py");
    }

    #[test]
    fn imports_resolve_in_python_javascript_and_rust() {
        let files = vec![
            file("src/pkg/__init__.py", ""),
            file("src/pkg/core.py", "from . import util\nfrom pkg.money import fmt\nimport pkg.tax\n"),
            file("src/pkg/util.py", ""),
            file("src/pkg/money.py", ""),
            file("src/pkg/tax.py", ""),
            file("lib/index.js", "const s = require('./store');\nconst q = require(\"../lib/query\");\n"),
            file("lib/store.js", ""),
            file("lib/query.js", ""),
            file("src/lib.rs", "mod parse;\nuse crate::fmt::render;\n"),
            file("src/parse/mod.rs", ""),
            file("src/fmt.rs", ""),
        ];
        let of = |p: &str| {
            let mut v = imports(files.iter().find(|f| f.path == p).unwrap(), &files);
            v.sort();
            v
        };
        assert_eq!(
            of("src/pkg/core.py"),
            ["src/pkg/__init__.py", "src/pkg/money.py", "src/pkg/tax.py", "src/pkg/util.py"]
        );
        assert_eq!(of("lib/index.js"), ["lib/query.js", "lib/store.js"]);
        assert_eq!(of("src/lib.rs"), ["src/fmt.rs", "src/parse/mod.rs"]);
    }

    #[test]
    fn a_flag_the_issue_names_leads_to_the_function_that_reads_it() {
        let files = vec![
            file(
                "src/tool/cli.py",
                "from tool.select import last_records\nfrom tool.level import at_least\n\ndef build():\n    p.add_argument(\"--level\")\n    p.add_argument(\"--tail\", type=int)\n\ndef scan(args):\n    if args.level:\n        r = at_least(r, args.level)\n    if args.tail_lines:\n        r = head(r)\n    elif args.tail is not None:\n        r = last_records(r, args.tail)\n",
            ),
            file("src/tool/select.py", "def last_records(records, n):\n    return list(records)[-n:]\n"),
            file("src/tool/level.py", "def at_least(records, level):\n    return records\n"),
            file("src/tool/levels.py", "def level_rank(level):\n    return 0\n"),
            file("src/tool/reader.py", "def head(records):\n    return records\n"),
        ];
        assert_eq!(issue_flags("`--tail 0` prints all; same with --level=warn --tail 0. --x"), set(&["tail", "level"]));
        let ranked: Vec<&str> = rank(&files, "--tail 0 prints the whole log, with --level warn too", "")
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert!(ranked[..3].contains(&"src/tool/select.py"), "{ranked:?}");
        assert!(!ranked[..3].contains(&"src/tool/reader.py"), "`.tail_lines` is another flag: {ranked:?}");
    }

    #[test]
    fn what_the_named_function_calls_outranks_what_it_only_imports() {
        let files = vec![
            file(
                "src/inv/export.py",
                "from inv.money import format_money\nfrom inv.tax import rate\n\ndef render_text(doc):\n    return format_money(doc.total)\n\ndef other():\n    return rate()\n",
            ),
            file("src/inv/money.py", "def format_money(amount):\n    return str(amount)\n"),
            file("src/inv/tax.py", "def rate():\n    return 0\n"),
        ];
        let ranked: Vec<&str> =
            rank(&files, "`render_text(doc)` prints -,250.00", "").iter().map(|f| f.path.as_str()).collect();
        assert_eq!(ranked, ["src/inv/export.py", "src/inv/money.py", "src/inv/tax.py"]);
    }

    #[test]
    fn where_the_functions_the_issue_reports_meet_outranks_the_types_it_builds() {
        let files = vec![
            file(
                "src/schedule/mod.rs",
                "mod matcher;\nuse crate::time::DateTime;\npub struct Schedule {}\nimpl Schedule {\n    pub fn matches(&self, t: DateTime) -> bool {\n        matcher::day_matches(self, t)\n    }\n    pub fn next_after(&self, t: DateTime) -> DateTime {\n        search::next_after(self, t)\n    }\n}\n",
            ),
            file(
                "src/schedule/search.rs",
                "pub(crate) fn next_after(s: &Schedule, t: DateTime) -> DateTime {\n    if day_matches(s, t) { t } else { t }\n}\n",
            ),
            file(
                "src/schedule/matcher.rs",
                "pub(crate) fn day_matches(s: &Schedule, t: DateTime) -> bool {\n    true\n}\n",
            ),
            file(
                "src/time/datetime.rs",
                "pub struct DateTime {}\nimpl DateTime {\n    pub fn parse(s: &str) -> DateTime {}\n}\n",
            ),
        ];
        let issue = "`Schedule::matches` and `next_after` are wrong for a `DateTime` on a Friday.";
        let scores = scored(&files, issue, "");
        let score = |path: &str| scores.iter().find(|(f, _)| f.path == path).map(|(_, s)| *s).unwrap_or_default();
        let shown: Vec<(&str, i64)> = scores.iter().map(|(f, s)| (f.path.as_str(), *s)).collect();
        assert!(score("src/schedule/matcher.rs") > score("src/time/datetime.rs"), "{shown:?}");
    }

    #[test]
    fn calls_are_followed_in_a_crlf_tab_indented_package_under_src() {
        let files = vec![
            file(
                "src/pkg/cli.py",
                "from pkg.pick import last\r\n\r\ndef main(args):\r\n\tp.add_argument('--tail-count')\r\n\tif args.tail_count is not None:\r\n\t\treturn last(args.tail_count)\r\n",
            ),
            file("src/pkg/pick.py", "def last(n):\r\n\treturn [][-n:]\r\n"),
            file("src/pkg/other.py", "def first(n):\r\n\treturn []\r\n"),
            file("src/pkg/report.py", "def report(rows):\r\n\treturn rows\r\n"),
        ];
        let ranked: Vec<&str> =
            rank(&files, "`--tail-count 0` prints everything", "").iter().map(|f| f.path.as_str()).collect();
        assert_eq!(&ranked[..2], ["src/pkg/cli.py", "src/pkg/pick.py"], "{ranked:?}");
        let body = definition_body(&files[0].content, "main").unwrap();
        assert_eq!(called_names(&body), set(&["add_argument", "last"]));
    }

    #[test]
    fn a_definition_body_in_python_javascript_and_rust() {
        let python = "def a(x):\n    y = b(x)\n\n    return c(y)\n\ndef d():\n    e()\n";
        assert_eq!(definition_body(python, "a").as_deref(), Some("    y = b(x)\n\n    return c(y)\n"));
        let js = "class C {\n  isEnabled(key) {\n    return evaluate(key);\n  }\n}\nfunction f(o = {}) {\n  return new Logger(norm(o));\n}\n";
        assert_eq!(definition_body(js, "f").as_deref(), Some("  return new Logger(norm(o));\n}"));
        assert_eq!(called_names(&definition_body(js, "f").unwrap()), set(&["Logger", "norm"]));
        let rust = "impl S {\n    pub fn matches(&self, t: T) -> bool {\n        self.m.contains(t.minute) && matcher::day_matches(self, t.date)\n    }\n}\n";
        assert_eq!(called_names(&definition_body(rust, "matches").unwrap()), set(&["contains", "day_matches"]));
        assert_eq!(definition_body(python, "missing"), None);
        let one_line = "function g(x) { return norm(x); }\n";
        assert_eq!(called_names(&definition_body(one_line, "g").unwrap()), set(&["norm"]));
    }

    fn set(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_string_the_issue_quotes_leads_to_the_one_file_that_holds_it() {
        let issue = "Crash for pounds:\n```python\nparcel = Parcel(20, \"lb\", dim_unit=\"in\")\nprint(build_quote(parcel, carrier=\"postal\"))\n```\nI don't think \"it's\" right.";
        assert_eq!(
            issue_quotes(issue),
            ["lb", "in", "postal", "it's"].into_iter().map(String::from).collect::<HashSet<_>>()
        );
        let files = vec![
            file("src/ship/units.py", "FACTORS = {\"kg\": 1.0, \"lb\": 2.2, 'in': 2.54}\n"),
            file("src/ship/a.py", "CARRIER = \"postal\"\n"),
            file("src/ship/b.py", "CARRIER = 'postal'\n"),
            file("src/ship/c.py", "DEFAULT = \"postal\"\n"),
            file("tests/test_units.py", "assert to_kg(1, \"lb\") == 0.45\n"),
        ];
        let points = quoted_strings(&files, issue);
        // Two strings only units.py holds; "postal" is in three files and points nowhere; tests do not count.
        assert_eq!(points, [("src/ship/units.py", QUOTED), ("src/ship/units.py", QUOTED)]);
    }

    #[test]
    fn names_come_from_code_spans_calls_and_definitions() {
        let names = issue_names("`Invoice.total` is wrong; slugify(\"A B\") and def parse_args are too (see the docs)");
        assert!(names.contains("total") && names.contains("slugify") && names.contains("parse_args"), "{names:?}");
        assert!(!names.contains("see"));
    }
}
