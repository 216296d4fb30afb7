//! How the repository's own tests call the code shown to the model: one-line assertions from its test files.
//!
//! A 1.5B model asked for a reproduction test guesses how to call the code when the issue shows only a command
//! line (bench task 19, 2026-12-05: every sample called `scan([...])` with the argv list, where `scan` takes parsed
//! arguments, and died of `AttributeError`/`TypeError`, so no test was kept). The suite already holds working
//! calls (`assert last_records(iter(range(10)), 3) == [7, 8, 9]`); shown after such a failure, they give the
//! model a call to copy with the issue's values.

use crate::repo::RepoFile;

/// At most this many example lines: about 150 prompt tokens, a few seconds on a CPU.
pub const MAX_EXAMPLES: usize = 6;

/// Up to [`MAX_EXAMPLES`] one-line assertions from the test files in `files` that call a function defined in
/// `shown` (path, content), those nearest the issue's words first (the line and its test's name); empty when
/// there are none.
pub fn calling_examples(shown: &[(String, String)], files: &[RepoFile], issue: &str) -> Vec<String> {
    let defined: Vec<String> = shown.iter().flat_map(|(_, content)| definitions(content)).collect();
    if defined.is_empty() {
        return Vec::new();
    }
    // The title states the bug; the body adds cases (bench task 19: the title's `--tail` should put the suite's
    // `last_records` calls before its `at_least(..., "warn")` ones from the body's second example).
    let title_words = words(issue.lines().next().unwrap_or_default());
    let issue_words = words(issue);
    let mut found: Vec<(usize, String)> = Vec::new();
    for file in files.iter().filter(|f| f.is_test) {
        let mut test_name = "";
        for line in file.content.lines() {
            let trimmed = line.trim();
            if let Some(name) = test_name_of(trimmed) {
                test_name = name;
            }
            if !is_example(trimmed) || !defined.iter().any(|name| calls(trimmed, name)) {
                continue;
            }
            let context = words(&format!("{test_name} {trimmed}"));
            let score = issue_words.iter().filter(|w| context.contains(w)).count()
                + 2 * title_words.iter().filter(|w| context.contains(w)).count();
            if !found.iter().any(|(_, l)| l == trimmed) {
                found.push((score, trimmed.to_owned()));
            }
        }
    }
    // Stable: equal scores keep the files' order.
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    // A call that shares no word with the issue is the one a small model copies wrong when it sits beside one that
    // does (bench task 19, 2026-12-07T203051Z: shown `last_records` and `first_records` calls, the only kept test
    // asserted `first_records(iter(range(2)), 5)`, so the zero-count variant of `last_records` was never tried).
    let relevant = found.first().is_some_and(|f| f.0 > 0);
    found.into_iter().filter(|f| !relevant || f.0 > 0).take(MAX_EXAMPLES).map(|(_, line)| line).collect()
}

/// Whether `issue` names no function defined in `shown` (path, content): its examples are command lines or prose,
/// so a model asked for a test has no call to copy (bench task 19: `logscan --tail 0 app.log`) and is better shown
/// the suite's calls from its first sample. False when `shown` defines nothing.
pub fn issue_names_none(shown: &[(String, String)], issue: &str) -> bool {
    let defined: Vec<String> = shown.iter().flat_map(|(_, content)| definitions(content)).collect();
    !defined.is_empty()
        && !defined.iter().any(|name| {
            issue.match_indices(name.as_str()).any(|(at, _)| {
                let word = |c: char| c.is_alphanumeric() || c == '_';
                issue[..at].chars().next_back().is_none_or(|c| !word(c))
                    && issue[at + name.len()..].chars().next().is_none_or(|c| !word(c))
            })
        })
}

/// The names of the functions `code` defines: Python `def`, JavaScript `function`, Rust `fn`.
fn definitions(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            let line = line.strip_prefix("async ").unwrap_or(line);
            let line = line.strip_prefix("export ").unwrap_or(line);
            let rest = ["def ", "function ", "fn "].iter().find_map(|k| line.strip_prefix(k))?;
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            // Private helpers and tests are not what a test of the issue calls.
            (!name.is_empty() && !name.starts_with('_') && !name.starts_with("test")).then_some(name)
        })
        .collect()
}

/// The name of a test a line starts: `def test_x(`, `fn test_x(`, `test('x', ...` or `it('x', ...`.
fn test_name_of(line: &str) -> Option<&str> {
    let line = line.strip_prefix("async ").unwrap_or(line);
    if let Some(rest) = line.strip_prefix("def ").or_else(|| line.strip_prefix("fn ")) {
        return rest.split('(').next().filter(|n| n.starts_with("test"));
    }
    let rest = line.strip_prefix("test(").or_else(|| line.strip_prefix("it("))?;
    rest.split(',').next()
}

/// A whole assertion on one line, short enough to read at a glance.
fn is_example(line: &str) -> bool {
    line.starts_with("assert") && line.len() <= 160 && line.matches('(').count() == line.matches(')').count()
}

/// Whether `line` calls `name` (not `other_name(` or `x.name_more(`).
fn calls(line: &str, name: &str) -> bool {
    let pattern = format!("{name}(");
    line.match_indices(&pattern)
        .any(|(at, _)| line[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_')))
}

/// The lowercase words of three or more letters in `text`, split at anything else (`test_tail` is `test`, `tail`).
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !["the", "and", "with", "for", "assert", "test", "should"].contains(&w.as_str()))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str, is_test: bool) -> RepoFile {
        RepoFile { path: path.into(), content: content.into(), signatures: Vec::new(), is_test }
    }

    #[test]
    fn the_suites_calls_of_shown_functions_nearest_the_issue_come_first() {
        let shown = vec![(
            "src/pkg/select.py".to_owned(),
            "def first_records(records, n):\n    pass\n\ndef last_records(records, n):\n    pass\n\
             def _helper():\n    pass\n"
                .to_owned(),
        )];
        let files = vec![
            file(
                "tests/test_select.py",
                "from pkg.select import first_records, last_records\n\ndef test_head():\n    \
                 assert first_records(iter(range(10)), 3) == [0, 1, 2]\n\ndef test_tail():\n    \
                 assert last_records(iter(range(10)), 3) == [7, 8, 9]\n    \
                 assert my_last_records(1) == 2\n    assert _helper() is None\n",
                true,
            ),
            file("src/pkg/cli.py", "assert last_records([], 1) == []\n", false),
        ];
        let got = calling_examples(&shown, &files, "--tail 0 prints the whole log");
        assert_eq!(got, vec!["assert last_records(iter(range(10)), 3) == [7, 8, 9]".to_owned()]);
        // With no call nearer the issue than another, all of them are shown.
        let got = calling_examples(&shown, &files, "the select module misbehaves");
        assert_eq!(
            got,
            vec![
                "assert first_records(iter(range(10)), 3) == [0, 1, 2]".to_owned(),
                "assert last_records(iter(range(10)), 3) == [7, 8, 9]".to_owned(),
            ]
        );
        assert!(calling_examples(&[], &files, "tail").is_empty());
        assert!(issue_names_none(&shown, "--tail 0 prints the whole log"));
        assert!(!issue_names_none(&shown, "`last_records(x, 0)` returns everything"));
        assert!(issue_names_none(&shown, "my_last_records is wrong"));
        assert!(!issue_names_none(&[], "anything"));
    }

    #[test]
    fn javascript_and_rust_definitions_and_tests_are_read() {
        assert_eq!(
            definitions("export function parseQuery(qs) {\npub fn parse(s: &str) {}\nasync def fetch(x):\n"),
            vec!["parseQuery", "parse", "fetch"]
        );
        assert_eq!(test_name_of("test('repeated keys', () => {"), Some("'repeated keys'"));
        assert_eq!(test_name_of("fn test_parse() {"), Some("test_parse"));
        assert_eq!(test_name_of("fn parse() {"), None);
        assert!(calls("assert.deepStrictEqual(parseQuery('a=1'), { a: '1' });", "parseQuery"));
        assert!(!calls("assert reparseQuery(1)", "parseQuery"));
    }
}
