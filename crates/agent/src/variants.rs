//! Boundary variants: each comparison of a function the failing test calls, flipped at its boundary.
//!
//! Off-by-one comparisons (`<` where `<=` was meant) are among the commonest bugs users file ("touching intervals
//! stay separate", "the last page is empty"), and the one edit a 1.5B model rarely writes: on bench task 04
//! (2026-12-04) ten candidates rewrote the loop, none changed `start < merged[-1][1]` to `<=`. A variant costs a
//! test run and no model call, so once the model's candidates have shown no fix, the comparisons of the functions
//! a kept reproduction test calls are flipped one at a time and run like any candidate. Only a test that failed on
//! the base commit and passes with the variant, with nothing broken, can make one win; a variant never claims more
//! than a model-written candidate would.

use std::time::{Duration, Instant};

use crate::candidates::{self, Candidate, diff_lines};
use crate::repo::RepoFile;
use crate::select::Evaluated;
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Search};

/// Variants tried per attempt, at most: a test run each (a second for a small Python suite, a compile for Rust).
pub const MAX_VARIANTS: usize = 6;

/// One flipped comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub path: String,
    /// The whole file with the comparison flipped.
    pub content: String,
    /// 1-based line of the comparison.
    pub line: usize,
    pub from: &'static str,
    pub to: &'static str,
    /// The function the comparison is in.
    pub function: String,
}

impl Variant {
    pub fn describe(&self) -> String {
        format!(
            "boundary variant: `{}` to `{}` in {} ({}, line {})",
            self.from, self.to, self.function, self.path, self.line
        )
    }
}

/// The comparisons flipped at their boundary: only binary operators written with a space on each side, which
/// leaves generics (`Vec<u8>`), arrows, shifts and HTML alone.
const FLIPS: [(&str, &str); 4] = [(" <= ", " < "), (" >= ", " > "), (" < ", " <= "), (" > ", " >= ")];

/// The variants of the functions named in `called` that `files` define (non-test files only), in the order the
/// names are given and then by line; at most `max`.
pub fn boundary_variants(files: &[RepoFile], called: &[String], max: usize) -> Vec<Variant> {
    let mut variants = Vec::new();
    for name in called {
        for file in files.iter().filter(|f| !f.is_test) {
            let Some(lines) = function_lines(&file.content, name) else { continue };
            for index in lines {
                variants.extend(flips_on_line(file, index, name));
            }
        }
    }
    variants.dedup_by(|a, b| a.content == b.content && a.path == b.path);
    variants.truncate(max);
    variants
}

/// Each comparison of line `index` (0-based) of `file` flipped, one variant each.
fn flips_on_line(file: &RepoFile, index: usize, function: &str) -> Vec<Variant> {
    let text: Vec<&str> = file.content.split_inclusive('\n').collect();
    let Some(line) = text.get(index) else { return Vec::new() };
    let code = line.trim_start();
    if code.starts_with('#') || code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
        return Vec::new();
    }
    let mut found: Vec<(usize, Variant)> = Vec::new();
    for (from, to) in FLIPS {
        for (at, _) in line.match_indices(from).filter(|(at, _)| !in_string_or_comment(line, *at)) {
            let flipped = format!("{}{to}{}", &line[..at], &line[at + from.len()..]);
            let mut content = String::with_capacity(file.content.len() + 1);
            for (i, l) in text.iter().enumerate() {
                content.push_str(if i == index { &flipped } else { l });
            }
            let variant = Variant {
                path: file.path.clone(),
                content,
                line: index + 1,
                from: from.trim(),
                to: to.trim(),
                function: function.to_owned(),
            };
            found.push((at, variant));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, v)| v).collect()
}

/// Whether byte `at` of `line` is inside a quoted string or after a `#`/`//` comment mark.
fn in_string_or_comment(line: &str, at: usize) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if i >= at {
            return quote.is_some();
        }
        match quote {
            Some(q) => {
                if !escaped && c == q {
                    quote = None;
                }
                escaped = !escaped && c == '\\';
            }
            None if c == '"' || c == '`' => quote = Some(c),
            // A Rust lifetime (`'a`) is no string; a Python or JavaScript one is closed on the same line.
            None if c == '\'' && line[i + 1..].contains('\'') => quote = Some(c),
            None if c == '#' || line[i..].starts_with("//") => return true,
            None => {}
        }
    }
    false
}

/// The 0-based lines of function `name`'s definition in `content`, its signature first (Python by indentation,
/// JavaScript and Rust by braces). `None` when the file does not define it.
fn function_lines(content: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let lines: Vec<&str> = content.lines().collect();
    let start = lines.iter().position(|l| declares(l.trim_start(), name))?;
    Some(crate::context::definition_extent(&lines, start))
}

/// A line that defines function `name`: `def`, `fn`, `function`, an arrow or function assigned to it, or a method.
fn declares(line: &str, name: &str) -> bool {
    let rest = line
        .trim_start_matches("export ")
        .trim_start_matches("pub(crate) ")
        .trim_start_matches("pub ")
        .trim_start_matches("async ")
        .trim_start_matches("static ");
    let after = |prefix: &str| rest.strip_prefix(prefix).and_then(|r| r.strip_prefix(name));
    let opens = |r: &str| r.starts_with('(') || r.starts_with('<');
    if ["def ", "fn ", "function "].iter().any(|k| after(k).is_some_and(opens)) {
        return true;
    }
    if ["const ", "let ", "var ", "exports.", "module.exports."]
        .iter()
        .any(|k| after(k).is_some_and(|r| r.trim_start().starts_with('=')))
    {
        return true;
    }
    // A method or object property: `name(a, b) {`.
    rest.strip_prefix(name).is_some_and(|r| r.starts_with('(') && r.trim_end().ends_with('{'))
}

/// The functions a test calls, in order of first call, without the test framework's own.
pub fn called_names(test_code: &str) -> Vec<String> {
    const SKIP: &[&str] = &[
        "assert",
        "assert_eq",
        "assert_ne",
        "assertEqual",
        "assertTrue",
        "assertFalse",
        "assertRaises",
        "equal",
        "strictEqual",
        "deepStrictEqual",
        "deepEqual",
        "test",
        "it",
        "describe",
        "expect",
        "print",
        "len",
        "list",
        "dict",
        "set",
        "tuple",
        "str",
        "int",
        "float",
        "bool",
        "sorted",
        "range",
        "require",
        "raises",
        "vec",
        "Some",
        "Ok",
        "Err",
        "unwrap",
        "main",
        "format",
        "println",
        "String",
        "from",
        "to_string",
    ];
    // A function the test defines itself (`def check(`, `fn check(`) is not the code's.
    let defined = |name: &str| ["def ", "fn ", "function "].iter().any(|k| test_code.contains(&format!("{k}{name}(")));
    crate::context::calls_in_order(test_code)
        .into_iter()
        .filter(|name| !SKIP.contains(&name.as_str()) && !name.starts_with("test") && !defined(name))
        .collect()
}

impl Agent<'_> {
    /// Runs the boundary variants of the functions the kept reproduction tests call, when no candidate so far is
    /// `fixed` and a reproduction test can judge one; stops at the first variant that is `fixed` or when the next
    /// run would end past the search budget. Returns the candidates with the variants run added.
    pub(crate) async fn try_variants(
        &self,
        search: &Search<'_>,
        started: Instant,
        mut evaluated: Vec<Evaluated>,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<Evaluated>, AgentError> {
        if search.reproductions.is_empty() || evaluated.iter().any(|e| e.verdict.is_fixed()) {
            return Ok(evaluated);
        }
        let mut called: Vec<String> = Vec::new();
        for test in &search.reproductions {
            for name in called_names(&test.assertions) {
                if !called.contains(&name) {
                    called.push(name);
                }
            }
        }
        let variants = boundary_variants(search.files, &called, MAX_VARIANTS);
        if variants.is_empty() {
            return Ok(evaluated);
        }
        on_event(AgentEvent::Running {
            what: format!(
                "{} boundary variant(s) of {}: no candidate shows a fix, so each comparison is flipped and tested",
                variants.len(),
                called.join(", ")
            ),
        });
        let mut last_run = Duration::ZERO;
        for (i, variant) in variants.into_iter().enumerate() {
            if started.elapsed() + last_run > self.settings.search_budget {
                on_event(AgentEvent::SearchStopped {
                    reason: format!(
                        "the search budget of {} s is spent before the boundary variants ({} run)",
                        self.settings.search_budget.as_secs(),
                        i
                    ),
                });
                break;
            }
            let files = vec![(variant.path.clone(), variant.content.clone())];
            let number = outcome.candidates + i as u32 + 1;
            let candidate =
                Candidate { number, origin: variant.describe(), diff_lines: diff_lines(search.workdir, &files), files };
            if evaluated.iter().any(|e| e.candidate.files == candidate.files) {
                continue;
            }
            on_event(AgentEvent::Running { what: format!("the tests with {}", variant.describe()) });
            let run_started = Instant::now();
            let result = self.evaluate(search, candidate).await?;
            last_run = run_started.elapsed();
            let fixed = result.verdict.is_fixed();
            evaluated.push(result);
            if let Some(event) = candidates::progress(search, &evaluated, number, None) {
                on_event(event);
            }
            if fixed {
                break;
            }
        }
        Ok(evaluated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> RepoFile {
        crate::repo::load_one(path, content)
    }

    #[test]
    fn each_comparison_of_the_called_function_is_flipped_once() {
        let source = "def other(a):\n    return a < 1\n\n\ndef merge(xs):\n    out = []\n    for s, e in xs:\n        \
                      if s > e:\n            raise ValueError('a > b')\n        if out and s < out[-1][1]:  # a < b\n            \
                      out[-1] = (out[-1][0], e)\n    return out\n";
        let files = [file("intervals.py", source), file("test_intervals.py", "def merge(xs):\n    return xs < 1\n")];
        let variants = boundary_variants(&files, &["merge".to_owned()], MAX_VARIANTS);
        let described: Vec<String> = variants.iter().map(Variant::describe).collect();
        assert_eq!(
            described,
            [
                "boundary variant: `>` to `>=` in merge (intervals.py, line 8)",
                "boundary variant: `<` to `<=` in merge (intervals.py, line 10)",
            ]
        );
        assert!(variants[1].content.contains("if out and s <= out[-1][1]:  # a < b\n"));
        assert_eq!(variants[1].content.lines().count(), source.lines().count());
        assert!(variants[1].content.contains("return a < 1"), "another function is left alone");
        assert!(boundary_variants(&files, &["absent".to_owned()], MAX_VARIANTS).is_empty());
        assert_eq!(boundary_variants(&files, &["merge".to_owned()], 1).len(), 1);
    }

    #[test]
    fn braces_bound_javascript_and_rust_functions_and_generics_stay() {
        let js = "function clamp(n, max) {\r\n  if (n >= max) {\r\n    return max;\r\n  }\r\n  return n;\r\n}\r\n\
                  function later(x) {\r\n  return x > 1;\r\n}\r\n";
        let variants = boundary_variants(&[file("src/clamp.js", js)], &["clamp".to_owned()], MAX_VARIANTS);
        assert_eq!(variants.len(), 1);
        assert!(variants[0].content.contains("  if (n > max) {\r\n"), "line endings kept");
        assert!(variants[0].content.contains("return x > 1;"));
        let rust = "pub fn last_page(total: usize, per: usize) -> Vec<usize> {\n    let s: &'static str = \"a < b\";\n    \
                    if total % per > 0 { vec![1] } else { vec![] }\n}\n";
        let variants = boundary_variants(&[file("src/lib.rs", rust)], &["last_page".to_owned()], MAX_VARIANTS);
        let described: Vec<String> = variants.iter().map(Variant::describe).collect();
        assert_eq!(described, ["boundary variant: `>` to `>=` in last_page (src/lib.rs, line 3)"]);
    }

    #[test]
    fn the_names_a_test_calls_leave_out_the_framework_and_its_own_helpers() {
        let test = "from intervals import merge_intervals\n\ndef test_touching():\n    \
                    assert merge_intervals([(9, 10), (10, 11)]) == [(9, 11)]\n    assert len(free_slots([])) == 0\n";
        assert_eq!(called_names(test), ["merge_intervals", "free_slots"]);
        let js = "assert.deepStrictEqual(parse('a=1&a=2'), { a: ['1', '2'] });\n";
        assert_eq!(called_names(js), ["parse"]);
    }
}
