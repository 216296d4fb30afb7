//! A reproduction test read from the issue itself, before any model call.
//!
//! A 1.5B model asked for a test of "the issue's own examples" checks the first example and drops the rest (bench
//! run 2026-12-07T030047Z: on task 15 the kept tests checked `8 / 4 / 2` only, and the chosen candidate fixed `/`
//! but left `10 - 3 - 2` wrong; on 09 no test checked the doubled quote the issue gives, and the candidate got it
//! wrong). The issue's examples, each made an assertion, check every case it lists. The code goes through the same
//! steps as a model's sample (imports, grounding, a run on the base commit), so a value the issue pastes as what
//! the code does now is made to expect the value the issue lists, or dropped.

use crate::grounding;

/// Phrases between a backticked call and a backticked value that say the value is what the call should give.
const SHOULD: &[&str] = &[
    "should give",
    "should return",
    "should be",
    "should equal",
    "should produce",
    "should yield",
    "must give",
    "must return",
    "must be",
];

/// Python test code (import lines, statements and `assert` lines) from `issue`'s examples, or `None` when it gives
/// no check:
/// - each `>>> expr` of a pasted session whose output is one line that reads as a literal becomes
///   `assert expr == output`; a line with no output (an assignment, a call) is kept as a statement when a check
///   follows it in its session, an import always; an expression whose output is a traceback or several lines is
///   left out;
/// - each backticked `call(...) == value` outside code blocks, on a line that says "expect", "should" or "must"
///   before it (an issue writes what happens now so too);
/// - a backticked call, one of [`SHOULD`], and a backticked value: `assert call == value`.
pub fn python(issue: &str) -> Option<String> {
    let issue = issue.replace("\r\n", "\n");
    let mut imports: Vec<String> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    for block in sessions(&issue) {
        let mut pending: Vec<String> = Vec::new();
        for (expr, output) in block {
            if expr.starts_with("import ") || (expr.starts_with("from ") && expr.contains(" import ")) {
                push_once(&mut imports, expr.to_owned());
                continue;
            }
            match output.as_slice() {
                [] => pending.push(expr.to_owned()),
                [line] => {
                    let expr = expr.strip_prefix("print(").and_then(|e| e.strip_suffix(')')).unwrap_or(expr);
                    if let Some(check) = check(expr, line) {
                        body.append(&mut pending);
                        push_once(&mut body, check);
                    }
                }
                // A traceback or a printout over lines: nothing to compare with.
                _ => {}
            }
        }
    }
    for check in inline_checks(&issue) {
        push_once(&mut body, check);
    }
    if !body.iter().any(|line| line.starts_with("assert ")) {
        return None;
    }
    Some(imports.into_iter().chain(body).map(|line| line + "\n").collect())
}

/// JavaScript test code from the issue's ```js blocks, or `None` when they give no check: a call or a
/// `console.log(x)` with a comment that says what is expected (`f(x); // expected: V`, `// actual: A expected: V`,
/// a `// expected: V` line below) becomes `assert.deepStrictEqual(x, V)`, and the block's other code lines stay as
/// its set-up. Comments that do not say "expected" or "should be" are taken off first: `// => V` marks what the
/// code does now as often as what it should do (bench task 05).
pub fn javascript(issue: &str) -> Option<String> {
    let issue = issue.replace("\r\n", "\n");
    let mut out: Vec<String> = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for line in issue.lines() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            match block.take() {
                Some(lines) => out.extend(checked(&lines.join("\n"))),
                None if ["js", "javascript", "node"].contains(&info.trim()) => block = Some(Vec::new()),
                None => block = None,
            }
            continue;
        }
        if let Some(lines) = block.as_mut() {
            let code = grounding::without_comment(line);
            let lower = line[code.len()..].to_lowercase();
            let says = lower.contains("expected") || lower.contains("should be");
            // A comment line that says nothing expected goes whole: left blank it would part a call from the
            // `// expected:` line below it.
            if says {
                lines.push(line.to_owned());
            } else if !code.trim().is_empty() {
                lines.push(code.trim_end().to_owned());
            }
        }
    }
    let asserts = out.iter().any(|line| line.trim_start().starts_with("assert."));
    asserts.then(|| out.into_iter().map(|line| line + "\n").collect())
}

/// A JavaScript block's lines with its expectations made assertions, printing and comment lines taken out; empty
/// when nothing became an assertion.
fn checked(block: &str) -> Vec<String> {
    let lines: Vec<String> = grounding::printed_expectations(block)
        .lines()
        .filter(|line| {
            let trimmed = line.trim_start();
            !trimmed.is_empty() && !trimmed.starts_with("//") && !trimmed.starts_with("console.log(")
        })
        .map(str::to_owned)
        .collect();
    if lines.iter().any(|line| line.trim_start().starts_with("assert.")) { lines } else { Vec::new() }
}

fn push_once(lines: &mut Vec<String>, line: String) {
    if !lines.contains(&line) {
        lines.push(line);
    }
}

/// `assert expr == value`, when `expr` is an expression (no assignment, no statement) and `value` reads as a
/// literal (`<Foo object at 0x..>` and names do not).
fn check(expr: &str, value: &str) -> Option<String> {
    let value = value.trim();
    let statement = ["assert ", "import ", "from ", "def ", "class ", "for ", "if ", "with ", "raise "]
        .iter()
        .any(|k| expr.starts_with(k));
    let literal = grounding::is_literal(value) && !value.starts_with('<');
    if statement || assigns(expr) || expr.is_empty() || !grounding::balanced(expr) || !literal {
        return None;
    }
    // `a, b == c` compares `b` alone: a session's `f(), g()` printed a tuple.
    let chars: Vec<char> = expr.chars().collect();
    let expr = if top_level(&chars, |i| chars[i] == ',') { format!("({expr})") } else { expr.to_owned() };
    Some(format!("assert {expr} == {value}"))
}

/// Whether `expr` assigns: an `=` outside brackets and strings that is not part of `==`, `!=`, `<=`, `>=` (a
/// keyword argument, `f(x=1)`, is inside brackets).
fn assigns(expr: &str) -> bool {
    let chars: Vec<char> = expr.chars().collect();
    top_level(&chars, |i| {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        chars[i] == '=' && chars.get(i + 1) != Some(&'=') && !matches!(prev, Some('=' | '!' | '<' | '>'))
    })
}

/// Whether `found(i)` holds for a char index `i` of `chars` outside brackets and strings.
fn top_level(chars: &[char], found: impl Fn(usize) -> bool) -> bool {
    let (mut depth, mut quote) = (0i32, None::<char>);
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) if c == q && (i == 0 || chars[i - 1] != '\\') => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ if depth == 0 && found(i) => return true,
                _ => {}
            },
        }
    }
    false
}

/// The pasted Python sessions of `text`: each block (a code fence, or `>>>` lines outside one) as its `>>> expr`
/// lines, each with the lines printed after it (none for a statement; a blank line or the fence ends them).
fn sessions(text: &str) -> Vec<Vec<(&str, Vec<&str>)>> {
    let mut blocks: Vec<Vec<(&str, Vec<&str>)>> = Vec::new();
    let mut current: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut printing = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            blocks.push(std::mem::take(&mut current));
            printing = false;
            continue;
        }
        if let Some(expr) = trimmed.strip_prefix(">>>") {
            current.push((expr.trim(), Vec::new()));
            printing = true;
        } else if trimmed.starts_with("...") {
            // A continuation line: the expression spans lines, which a one-line check cannot hold.
            if let Some(last) = current.last_mut() {
                last.1.push(trimmed);
            }
        } else if trimmed.is_empty() {
            printing = false;
        } else if printing && let Some(last) = current.last_mut() {
            last.1.push(trimmed);
        }
    }
    blocks.push(current);
    blocks.retain(|block| !block.is_empty());
    blocks
}

/// The checks the issue's prose states in backticks (outside code blocks), in order.
fn inline_checks(issue: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in issue.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // The odd pieces are the backticked spans.
        let pieces: Vec<&str> = line.split('`').collect();
        for i in (1..pieces.len()).step_by(2) {
            let span = pieces[i].trim();
            let before = pieces[..i].concat().to_lowercase();
            let says = ["expect", "should", "must"].iter().any(|w| before.contains(w));
            if says && let Some((expr, value)) = equality(span) {
                found.extend(check(expr, value));
                continue;
            }
            let Some(value) = pieces.get(i + 2).map(|v| v.trim()) else { continue };
            let between = pieces[i + 1].trim().to_lowercase();
            if SHOULD.contains(&between.as_str()) && is_call(span) {
                found.extend(check(span, value));
            }
        }
    }
    found
}

/// The two sides of `call(...) == value`, the call first.
fn equality(span: &str) -> Option<(&str, &str)> {
    let (left, right) = span.split_once("==")?;
    let (left, right) = (left.trim(), right.trim());
    if right.contains("==") {
        return None;
    }
    match (is_call(left), is_call(right)) {
        (true, false) => Some((left, right)),
        (false, true) => Some((right, left)),
        _ => None,
    }
}

/// `name(...)` or `a.b(...)`: a name, then an argument list that closes at the end.
fn is_call(text: &str) -> bool {
    let Some(open) = text.find('(') else { return false };
    let callee = &text[..open];
    !callee.is_empty()
        && callee.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && text.ends_with(')')
        && grounding::balanced(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_of_a_session_becomes_a_check() {
        let issue = "Wrong answers\n\n```python\n>>> from calc import evaluate\n>>> evaluate(\"10 - 3 - 2\")\n9\n>>> evaluate(\"8 / 4 / 2\")\n4.0\n```\n\nExpected `5` and `1.0`.\n";
        let code = python(issue).unwrap();
        assert_eq!(
            code,
            "from calc import evaluate\nassert evaluate(\"10 - 3 - 2\") == 9\nassert evaluate(\"8 / 4 / 2\") == 4.0\n"
        );
        // The grounding a model's sample goes through makes them expect what the issue lists.
        let (listed, changed) = grounding::expect_as_issue_lists(&code, issue);
        assert_eq!(changed, 2);
        assert!(listed.contains("== 5\n") && listed.contains("== 1.0\n"), "{listed}");
    }

    #[test]
    fn a_javascript_example_with_what_it_expects_becomes_a_test() {
        let issue = "Repeated keys\n\n```js\nconst { parseQuery } = require('./query');\nstringifyQuery({ tag: ['js'] });  // 'tag=js'\nparseQuery('tag=js&tag=node');\n// actual:   { tag: 'node' }\n// expected: { tag: ['js', 'node'] }\n```\n\n```js\nparseQuery('');   // actual: { '': '' }   expected: {}\n```\n";
        assert_eq!(
            javascript(issue).unwrap(),
            "const { parseQuery } = require('./query');\nstringifyQuery({ tag: ['js'] });\nassert.deepStrictEqual(parseQuery('tag=js&tag=node'), { tag: ['js', 'node'] });\nassert.deepStrictEqual(parseQuery(''), {});\n"
        );
        let now =
            "```js\nconst { truncate } = require('./text');\ntruncate('Hello world', 8); // => 'Hello wo…'\n```\n";
        assert_eq!(javascript(now), None, "`// =>` is what happens now as often as what should");
        assert_eq!(javascript("```python\nf(1)  # expected: 2\n```\n"), None, "another language");
    }

    #[test]
    fn assignments_are_told_from_comparisons_and_keyword_arguments() {
        assert!(assigns("x = f()") && assigns("a[0] += 1"));
        assert!(!assigns("f(x=1)") && !assigns("a == b") && !assigns("a != b") && !assigns("a <= b"));
        assert!(!assigns("f('=')") && !assigns("g(\"a=b\")"));
        assert_eq!(check("f(), g()", "(1, 2)").unwrap(), "assert (f(), g()) == (1, 2)", "a tuple is compared whole");
    }

    #[test]
    fn statements_come_before_the_check_that_needs_them_and_tracebacks_are_left_out() {
        let issue = "```python\n>>> inv = Inventory()\n>>> inv.add(\"apple\", 3)\n>>> inv.remove(\"apple\", 5)\nTraceback (most recent call last):\n  ...\nValueError: no\n>>> inv.quantity(\"apple\")\n3\n>>> inv.clear()\n```\n";
        assert_eq!(
            python(issue).unwrap(),
            "inv = Inventory()\ninv.add(\"apple\", 3)\nassert inv.quantity(\"apple\") == 3\n",
            "the raising call and the statement after the last check are left out"
        );
        assert_eq!(python("```python\n>>> x = f()\n>>> print(x)\n<F object at 0x1>\n```\n"), None, "no literal");
        assert_eq!(python("```python\n>>> report()\na\nb\n```\n"), None, "a printout over lines");
    }

    #[test]
    fn checks_the_prose_states_are_read_and_what_it_reports_is_not() {
        let issue = "`format_duration(5400)` gives `\"1h30m\"`, but `parse_duration(\"1h30m\") == 5400` is false.\n\nExpected `parse_duration(\"1h30m\") == 5400`, `parse_duration(\"2m15s\") == 135`.\n\nA doubled quote: `split_row('\"He said \"\"hi\"\"\",x')` should give `['He said \"hi\"', 'x']`.\n";
        assert_eq!(
            python(issue).unwrap(),
            "assert parse_duration(\"1h30m\") == 5400\nassert parse_duration(\"2m15s\") == 135\nassert split_row('\"He said \"\"hi\"\"\",x') == ['He said \"hi\"', 'x']\n"
        );
        assert_eq!(python("`f(1)` returns `2` but should return `3`\n"), None, "the phrase must sit between the spans");
        assert_eq!(
            python("```python\nassert f(1) == 3  # expected\n```\n"),
            None,
            "code blocks are the model's to read"
        );
    }
}
