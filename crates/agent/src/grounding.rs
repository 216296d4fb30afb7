//! Reproduction-test assertions must take their expected values from the issue.
//!
//! A 1.5B model asked for tests "from the issue's own examples" adds cases of its own and guesses their results
//! (bench run 2 of 2026-11-30: tasks 01 and 06 kept a test asserting a value the issue never gave, so a right
//! change ended `tests fail`). An assertion whose expected side is a literal with a string or number that appears
//! nowhere in the issue is such a guess, and is dropped before the test is run; so is a truth assertion written
//! the other way round from one the issue shows. [`only_echoes`] tells a test that merely repeats what the issue's
//! pasted session printed.

/// The model's test code with every ungrounded assertion removed, and how many were removed.
///
/// An assertion is one line, `assert a == b` (Python), `assert.*Equal(a, b)` (JavaScript) or `assert_eq!(a, b)`
/// (Rust). Its expected side is the one that is a literal (strings, numbers, lists and the like, `None`, `Some(..)`);
/// it is grounded when each string and number in it occurs in `issue`. Lines whose sides are both literals or both
/// expressions, lines split over several lines, and every other line are kept as they are. A dropped Python line
/// becomes `pass` at its indentation, so a block it was alone in stays valid.
pub fn keep_grounded(code: &str, issue: &str) -> (String, usize) {
    let numbers = numbers_in(issue);
    let actuals = reported_actuals(issue);
    let mut dropped = 0;
    let mut out = String::with_capacity(code.len());
    for line in code.lines() {
        let trimmed = line.trim_start();
        // Models copy the issue's `// fails: returns 28` after the assertion; the check is what comes before.
        let code = without_comment(trimmed);
        let trimmed = code.trim_end();
        let grounded = !contradicts_issue(trimmed, issue)
            && expected_side(trimmed).is_none_or(|expected| {
                // The wrong value the issue reports is not what a fix makes (bench task 16, 2026-12-04: a kept test
                // asserted `// actual: [...]` and then the expected value, so no change could pass it).
                if actuals.contains(&session_key(expected)) {
                    return false;
                }
                // A value the model worked out (`(3 + 2.5) / 2`) is a guess unless the issue writes it so (the
                // demo, 2026-12-04: a kept test expected 2.75 for a median the issue gives as 2.5).
                if arithmetic(expected) {
                    let squeeze = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
                    return squeeze(issue).contains(&squeeze(expected));
                }
                atoms(expected).iter().all(|atom| match atom {
                    Atom::Text(text) => issue.contains(text.as_str()),
                    Atom::Number(n) => numbers.iter().any(|m| (m - n.abs()).abs() < 1e-9),
                })
            });
        if grounded {
            out.push_str(line);
        } else {
            dropped += 1;
            if trimmed.starts_with("assert ") {
                out.push_str(&line[..line.len() - trimmed.len()]);
                out.push_str("pass");
            } else {
                continue;
            }
        }
        out.push('\n');
    }
    (out, dropped)
}

/// `code` with each printed value that a comment says what to expect of made an assertion: `console.log(seen);`
/// followed by `// expected: [ 'a', 'b' ]` (on its line or one of the next two) becomes
/// `assert.deepStrictEqual(seen, [ 'a', 'b' ]);`, and Python's `print(f(x))  # expected: 3` becomes
/// `assert f(x) == 3`. Issues show their examples so, and a model that copies one asserts nothing (bench task 16,
/// 2026-12-05: the one sample that copied the issue's example, expected value included, was dropped for it).
/// Other lines are kept as they are; the assertion is grounded like any other afterwards.
pub fn printed_expectations(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = String::with_capacity(code.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        let assertion = printed(line).and_then(|(indent, call, printed, js)| {
            let expected = example_comments(&lines, i, call).find_map(expectation)?;
            Some(if js {
                format!("{indent}assert.deepStrictEqual({printed}, {expected});")
            } else {
                format!("{indent}assert {printed} == {expected}")
            })
        });
        out.push_str(assertion.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The comments that go with the example `call` on `lines[i]`: the rest of its own line, then the comment lines
/// right below it, two at most (`store.set(k, 1);` above a `console.log` is not meant).
fn example_comments<'l>(lines: &[&'l str], i: usize, call: &str) -> impl Iterator<Item = &'l str> {
    let after = lines[i].trim_start()[call.len()..].trim_start().trim_start_matches(';').trim_start();
    let below = lines.iter().skip(i + 1).take(2).map(|l| l.trim_start());
    std::iter::once(after).chain(below.take_while(|l| l.starts_with("//") || l.starts_with('#')))
}

/// A `console.log(x)` or `print(x)` line, or a bare call statement such as `parseQuery('');` (an issue shows
/// `f(x);  // expected: V` as often as a printed value): its indentation, the code as written, the expression whose
/// value is meant and whether it is JavaScript. `None` for anything else or a print of several arguments.
fn printed(line: &str) -> Option<(&str, &str, &str, bool)> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let code = without_comment(trimmed).trim_end().trim_end_matches(';').trim_end();
    let (open, js) = if trimmed.starts_with("console.log(") {
        ("console.log(".len(), true)
    } else if trimmed.starts_with("print(") {
        ("print(".len(), false)
    } else {
        let comment = trimmed[code.len()..].trim_start().trim_start_matches(';').trim_start();
        let js = comment.starts_with("//") || trimmed[code.len()..].trim_start().starts_with(';');
        return bare_call(code).then_some((indent, code, code, js));
    };
    let inner = code.strip_suffix(')')?.get(open..)?.trim();
    let single = !inner.is_empty() && balanced(inner) && split_top(inner, ',').len() == 1;
    single.then_some((indent, code, inner, js))
}

/// Whether `code` is one call and nothing else: `f(x)` or `a.b(x, y)`, no assignment, keyword or statement around it.
fn bare_call(code: &str) -> bool {
    let Some(open) = code.find('(') else { return false };
    let callee = &code[..open];
    let keyword = ["return", "await", "new", "throw", "assert", "print", "if", "for", "while"]
        .iter()
        .any(|k| callee == *k || callee.starts_with(&format!("{k} ")));
    !callee.is_empty()
        && !keyword
        && callee.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$')
        && closing(code, open) == Some(code.len() - 1)
}

/// The byte index of the parenthesis that closes the one at `open`, strings skipped.
fn closing(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c, _) in places(code).into_iter().filter(|&(i, _, place)| i >= open && place == Place::Code) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The value a comment gives as expected: `// expected: V`, `# expected V`, `// should be V`, `// => V`; `None`
/// unless `V` reads as a literal (a string, number, list, object, boolean or null).
fn expectation(comment: &str) -> Option<&str> {
    let body = comment.strip_prefix("//").or_else(|| comment.strip_prefix('#'))?.trim_start();
    let lower = body.to_ascii_lowercase();
    // `// actual: A   expected: V` gives both on one line; the expected part is the one meant.
    let (body, lower) = match lower.find("expected:") {
        Some(at) if lower.starts_with("actual") || lower.starts_with("got") => (&body[at..], &lower[at..]),
        _ => (body, lower.as_str()),
    };
    let marker = ["expected:", "expected", "expect:", "should be", "=>"].into_iter().find(|m| lower.starts_with(m))?;
    let value = body[marker.len()..].trim().trim_end_matches(';').trim();
    let literal = value.starts_with(['[', '{', '\'', '"', '-', '`'])
        || value.starts_with(|c: char| c.is_ascii_digit())
        || ["true", "false", "null", "undefined", "True", "False", "None"].contains(&value);
    (literal && balanced(value)).then_some(value)
}

/// The values the issue labels as what happens now (`// actual: V`, `got: V`, up to a following "expected"),
/// squeezed by [`session_key`]; a value it also labels as expected is left out.
fn reported_actuals(issue: &str) -> Vec<String> {
    let after = |line: &str, markers: &[&str]| -> Option<String> {
        let lower = line.to_ascii_lowercase();
        let at = markers.iter().filter_map(|m| {
            let at = lower.find(m)?;
            let word_start = lower[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            word_start.then_some(at + m.len())
        });
        let start = at.min()?;
        let end = lower[start..].find("expected").map_or(line.len(), |e| start + e);
        let value = line[start..end].trim().trim_end_matches([';', ',']).trim();
        (!value.is_empty()).then(|| session_key(value))
    };
    let expected: Vec<String> = issue.lines().filter_map(|l| after(l, &["expected:"])).collect();
    let mut actuals: Vec<String> =
        issue.lines().filter_map(|l| after(l, &["actual:", "got:"])).filter(|a| !expected.contains(a)).collect();
    actuals.extend(session_actuals(issue));
    actuals
}

/// What an interpreter session pasted before the issue says what it expected printed, when the text from there on
/// never gives that value: what the code does now, which no fix makes (bench task 10, 2026-12-06: the session shows
/// `inv.quantity("apple")` / `-2`, a kept sample asserted `inv.remove("apple", 5) == -2`, and the right change failed
/// it). The expectation starts at a line that begins with "Expected"; without one nothing is read as an actual.
/// A session after that line shows what is expected (task 09 pastes one), and a value the rest repeats (task 08's
/// `'1h30m'`, what `format_duration` rightly prints) may be either, so neither counts. Squeezed by [`session_key`].
fn session_actuals(issue: &str) -> Vec<String> {
    let lines: Vec<&str> = issue.lines().collect();
    let Some(marker) = lines.iter().copied().position(starts_expected) else {
        return Vec::new();
    };
    let before = lines[..marker].join("\n");
    let after = lines[marker..].join("\n");
    session_lines(&before)
        .into_iter()
        .map(|(_, printed)| printed)
        .filter(|printed| !after.contains(printed.trim_matches(|c| c == '"' || c == '\'')))
        .map(session_key)
        .collect()
}

/// Whether a line of the issue begins what it expects ("Expected", "**Expected:**", "- expected"), where what the
/// code does now ends.
fn starts_expected(line: &str) -> bool {
    line.trim_start_matches(|c: char| c.is_whitespace() || "*_#->".contains(c)).to_lowercase().starts_with("expected")
}

/// What the issue expects instead of each output its pasted sessions show, when it lists the values in order: the
/// first line beginning "Expected" whose first sentence holds, in backticks, as many plain values (no names, no
/// arithmetic) as the sessions before it print outputs (bench task 15, 2026-12-07: four `>>> evaluate(...)` lines
/// with the wrong results, then "Expected `5`, `2`, `1.0` and `20.0`"; every sample of the model copied the wrong
/// results, so no test was kept). Each entry is the session's (expression, output), squeezed by [`session_key`],
/// and the expected value as the issue writes it. Empty when the counts differ or there is no such line.
fn expected_instead(issue: &str) -> Vec<((String, String), String)> {
    let lines: Vec<&str> = issue.lines().collect();
    let Some(marker) = lines.iter().copied().position(starts_expected) else {
        return Vec::new();
    };
    // Backticked spans are the odd pieces between backticks; the sentence ends at a ". " outside them.
    let mut values = Vec::new();
    for (i, piece) in lines[marker].split('`').enumerate() {
        if i % 2 == 1 {
            values.push(piece.trim());
        } else if piece.contains(". ") || piece.trim_end().ends_with('.') {
            break;
        }
    }
    let session = session_outputs(&lines[..marker].join("\n"));
    let plain = |value: &&str| is_literal(value) && !arithmetic(value);
    if session.is_empty() || values.len() != session.len() || !values.iter().all(plain) {
        return Vec::new();
    }
    session.into_iter().zip(values.into_iter().map(str::to_owned)).collect()
}

/// `code` with each one-line equality check that expects what the issue's session printed for the same expression
/// made to expect what the issue lists instead ([`expected_instead`]), and how many checks were changed. The value
/// is the issue's own, so the check stays grounded; without such a list `code` comes back as it was.
pub fn expect_as_issue_lists(code: &str, issue: &str) -> (String, usize) {
    let instead = expected_instead(issue);
    if instead.is_empty() {
        return (code.to_owned(), 0);
    }
    replace_expected(code, |actual, expected| {
        instead
            .iter()
            .find(|(shown, _)| echoes_session(actual, expected, std::slice::from_ref(shown)))
            .map(|(_, wanted)| wanted.clone())
    })
}

/// `code` with each one-line equality check of an expression whose expected value the issue's own example gives in
/// a comment (`parseQuery('a=1&a=2');` then `// expected: { a: ['1', '2'] }`, see [`commented_expectations`]) made to
/// expect that value when it expects another, and how many checks were changed. A small model copies the call and
/// guesses the result (bench task 11, 2026-12-07: a kept sample asserted `{ tag: 'js', page: '2' }` where the issue
/// says `{ tag: ['js', 'node'], page: '2' }`, so no candidate could pass it); the issue's value keeps the check
/// grounded. An expression the issue gives two different values is left alone (its state may differ between them).
pub fn expect_as_issue_comments(code: &str, issue: &str) -> (String, usize) {
    let wanted = commented_expectations(issue);
    if wanted.is_empty() {
        return (code.to_owned(), 0);
    }
    replace_expected(code, |actual, expected| {
        let (_, value) = wanted.iter().find(|(key, _)| *key == session_key(actual))?;
        (!same_value(value, expected)).then(|| value.clone())
    })
}

/// What the issue's examples say a call gives: each print or bare call of the issue with a comment that says
/// "expected" or "should be" and gives a plain value (on its line or one of the two comment lines below it), as
/// (expression squeezed by [`session_key`], the value as the issue writes it). A bare `// => V` is not read: issues
/// mark what happens now so as often (bench task 05: `truncate('Hello world', 8); // => 'Hello wo…'`, the bug).
/// Expressions the issue gives two different values are left out.
fn commented_expectations(issue: &str) -> Vec<(String, String)> {
    let says_expected = |comment: &&str| {
        let lower = comment.to_ascii_lowercase();
        lower.contains("expected") || lower.contains("should be")
    };
    let lines: Vec<&str> = issue.lines().collect();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut conflicting = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((_, call, shown, _)) = printed(line) else { continue };
        let Some(value) = example_comments(&lines, i, call).filter(says_expected).find_map(expectation) else {
            continue;
        };
        if !is_literal(value) || arithmetic(value) {
            continue;
        }
        let key = session_key(shown);
        match found.iter().find(|(k, _)| *k == key) {
            Some((_, earlier)) if !same_value(earlier, value) => conflicting.push(key),
            Some(_) => {}
            None => found.push((key, value.to_owned())),
        }
    }
    found.retain(|(key, _)| !conflicting.contains(key));
    found
}

/// Two literals write the same value: equal but for whitespace and the kind of quotes, or the same number (`4` and
/// `4.0`).
fn same_value(a: &str, b: &str) -> bool {
    let (a, b) = (session_key(a), session_key(b));
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

/// `code` with the expected side of each one-line equality check replaced by what `wanted(actual, expected)` gives
/// (the line kept as it is for `None`), and how many were replaced.
fn replace_expected(code: &str, wanted: impl Fn(&str, &str) -> Option<String>) -> (String, usize) {
    let mut changed = 0;
    let mut out = String::with_capacity(code.len());
    for line in code.lines() {
        let check = without_comment(line.trim_start());
        let replaced = sides(check).and_then(|(actual, expected)| {
            let value = wanted(actual, expected)?;
            // `expected` is a slice of `line`: its offset says where to put the issue's value.
            let start = expected.as_ptr() as usize - line.as_ptr() as usize;
            Some(format!("{}{value}{}", &line[..start], &line[start + expected.len()..]))
        });
        changed += usize::from(replaced.is_some());
        out.push_str(replaced.as_deref().unwrap_or(line));
        out.push('\n');
    }
    (out, changed)
}

/// Each `>>> expr` (Python) or, inside a fence, `> expr` (Node) of a pasted interpreter session in `text`, with the
/// line printed after it, both as written (trimmed).
fn session_lines(text: &str) -> Vec<(&str, &str)> {
    let mut fenced = false;
    let mut lines = text.lines().map(str::trim).peekable();
    let mut found = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let Some(expr) = line.strip_prefix(">>> ").or_else(|| line.strip_prefix("> ").filter(|_| fenced)) else {
            continue;
        };
        let Some(&output) = lines.peek() else { continue };
        if output.is_empty() || output.starts_with('>') || output.starts_with("...") || output.starts_with("```") {
            continue;
        }
        found.push((expr, output));
    }
    found
}

/// A truth assertion the issue writes the other way round: `assert!(!f(x))` where the issue shows
/// `assert!(f(x))` (bench run of 2026-12-03, task 06: a kept test asserted the opposite of the issue's own example,
/// so the right change failed it), or `assert not f(x)` against `assert f(x)`, and the reverse.
fn contradicts_issue(line: &str, issue: &str) -> bool {
    let squeeze = |text: &str| text.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let line = squeeze(line.trim_end_matches(';'));
    let issue = squeeze(issue);
    let opposite = if let Some(inner) = line.strip_prefix("assert!(").and_then(|l| l.strip_suffix(')')) {
        match inner.strip_prefix('!') {
            Some(positive) => format!("assert!({positive})"),
            None => format!("assert!(!{inner})"),
        }
    } else if let Some(rest) = line.strip_prefix("assert") {
        // Python, squeezed: `assert not x` is `assertnotx`, a message after the comma is not part of it.
        let check = split_top(rest, ',').into_iter().next().unwrap_or_default();
        if check.is_empty() || check.starts_with('.') || check.starts_with('(') || check.starts_with('_') {
            return false;
        }
        match check.strip_prefix("not") {
            Some(positive) if !positive.is_empty() => format!("assert{positive}"),
            _ => format!("assertnot{check}"),
        }
    } else {
        return false;
    };
    issue.contains(&opposite)
}

/// Whether every equality check of `code` (at least one) expects exactly what a pasted interpreter session in the
/// issue printed for the same expression. Such a test passing on the base commit is no evidence that nothing needs
/// changing: an issue pastes what the code does now (bench task 15, 2026-12-04: samples copied `>>>
/// evaluate("10 - 3 - 2")` / `9`, the wrong result the issue reports, into `assert evaluate("10 - 3 - 2") == 9`,
/// and a false "nothing to change" followed). A session may also show what is expected (task 01 pastes both), so
/// such a test is not dropped, only not counted as evidence that the code is right.
pub fn only_echoes(code: &str, issue: &str) -> bool {
    let session = session_outputs(issue);
    let claims = claims(code);
    !claims.is_empty() && claims.iter().all(|claim| echoes_session(&claim.actual, &claim.expected, &session))
}

/// Whether any equality check of `code` expects what a pasted interpreter session in the issue printed for the same
/// expression: for a guard test, which must pass on the base commit, such a check would pin the bug in place.
pub fn echoes_any(code: &str, issue: &str) -> bool {
    let session = session_outputs(issue);
    claims(code).iter().any(|claim| echoes_session(&claim.actual, &claim.expected, &session))
}

/// What pasted interpreter sessions in the issue show: each `>>> expr` (Python) or, inside a fence, `> expr` (Node)
/// with the line printed after it, both squeezed by [`session_key`].
fn session_outputs(issue: &str) -> Vec<(String, String)> {
    session_lines(issue)
        .into_iter()
        .map(|(expr, output)| {
            let expr = expr.trim().trim_end_matches(';');
            let expr = expr.strip_prefix("print(").and_then(|e| e.strip_suffix(')')).unwrap_or(expr);
            (session_key(expr), session_key(output))
        })
        .collect()
}

/// Text compared without whitespace outside strings, module qualifiers (`calc.evaluate(` is `evaluate(`) or the
/// kind of quotes.
fn session_key(text: &str) -> String {
    let text = unqualified(text);
    places(&text)
        .into_iter()
        .filter(|&(_, c, place)| !(place == Place::Code && c.is_whitespace()))
        .map(|(_, c, place)| if matches!(place, Place::Open | Place::Close) { '"' } else { c })
        .collect()
}

/// An expected value that a session printed for the same expression; numbers compare by value (`4` and `4.0`).
fn echoes_session(actual: &str, expected: &str, session: &[(String, String)]) -> bool {
    let actual = session_key(actual);
    session.iter().any(|(expr, shown)| *expr == actual && same_value(shown, expected))
}

/// `a.b.c(x)` -> `c(x)`: drops every `name.` where the name starts with a letter (decimals stay).
pub(crate) fn unqualified(text: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == '.' && word.chars().next().is_some_and(|w| w.is_alphabetic() || w == '_') {
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out + &word
}

/// One equality assertion of a test: the expression it checks and the literal it expects, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// 0-based line of the code.
    pub line: usize,
    pub actual: String,
    pub expected: String,
}

/// The one-line equality assertions of `code` whose expected side is a literal (the lines [`keep_grounded`] judges).
pub fn claims(code: &str) -> Vec<Claim> {
    code.lines()
        .enumerate()
        .filter_map(|(line, text)| {
            let (actual, expected) = sides(without_comment(text.trim_start()))?;
            Some(Claim { line, actual: actual.to_owned(), expected: expected.to_owned() })
        })
        .collect()
}

/// `code` without the one-line equality checks that contradict one of `suite_claims` (the repository's tests', from
/// [`suite_claims`]): the same self-contained expression checked there against another value. The suite passes on the base commit and a
/// change may not break it, so such a check could pass only with a regression, and never as `fixed` (bench task 19,
/// 2026-12-07: a kept sample asserted `last_records(iter(range(10)), 3) == []` where `test_tail` asserts
/// `[7, 8, 9]`, and the right change was left at `tests fail`). Returns the code and how many checks it lost.
///
/// An expression is self-contained when every name in it is called or is a literal name: `f(iter(range(3)), 2)`
/// is, while `f(records, 2)` or `inv.total()` reads a variable that may differ between the two tests.
pub fn keep_consistent_with_suite(code: &str, suite_claims: &[(String, String)]) -> (String, usize) {
    let contradicting: Vec<usize> = claims(code)
        .into_iter()
        .filter(|claim| self_contained(&claim.actual))
        .filter(|claim| {
            let key = session_key(&claim.actual);
            let theirs: Vec<&str> =
                suite_claims.iter().filter(|(k, _)| *k == key).map(|(_, expected)| expected.as_str()).collect();
            !theirs.is_empty() && !theirs.iter().any(|expected| same_value(expected, &claim.expected))
        })
        .map(|claim| claim.line)
        .collect();
    if contradicting.is_empty() {
        return (code.to_owned(), 0);
    }
    (without_checks(code, |line| contradicting.contains(&line)), contradicting.len())
}

/// The self-contained one-line equality checks of `suite` (test files' contents), as (expression's key, expected
/// value): what [`keep_consistent_with_suite`] compares a sample with, read once per reproduction round.
pub fn suite_claims(suite: &[&str]) -> Vec<(String, String)> {
    suite
        .iter()
        .flat_map(|file| claims(file))
        .filter(|claim| self_contained(&claim.actual))
        .map(|claim| (session_key(&claim.actual), claim.expected))
        .collect()
}

/// Whether `expression` calls something and every name in it (outside its strings) is called or is one of
/// [`LITERAL_NAMES`]. A method of a value the expression makes (`Decimal("1").quantize(...)`) counts as called.
fn self_contained(expression: &str) -> bool {
    let bare = strip_strings(expression);
    let mut calls = 0;
    let all = names(&bare).all(|(word, tail)| {
        let called = tail.trim_start().starts_with('(');
        calls += usize::from(called);
        called || LITERAL_NAMES.contains(&word)
    });
    all && calls > 0
}

/// Whether a line of test code checks something (and so may be taken out of it).
fn is_check(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("assert") || line.starts_with("expect(")
}

/// `code` without the checks on the lines for which `drop` holds. The line count stays, so a line number still
/// names the same line: a Python `assert` becomes `pass` at its indentation (a block it was alone in stays valid),
/// any other check an empty line.
pub fn without_checks(code: &str, drop: impl Fn(usize) -> bool) -> String {
    let mut out = String::with_capacity(code.len());
    for (index, line) in code.lines().enumerate() {
        if drop(index) && is_check(line) {
            let trimmed = line.trim_start();
            if trimmed.starts_with("assert ") {
                out.push_str(&line[..line.len() - trimmed.len()]);
                out.push_str("pass");
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// `code` with one check only, the one on line `keep`: what the base commit does for that one expression.
pub fn only_check(code: &str, keep: usize) -> String {
    without_checks(code, |line| line != keep)
}

/// Whether a literal computes its value: `+`, `*` or `/` outside its strings, or a `-` after a number or bracket.
fn arithmetic(literal: &str) -> bool {
    let bare: String = strip_strings(literal).chars().filter(|c| !c.is_whitespace()).collect();
    let chars: Vec<char> = bare.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        matches!(c, '+' | '*' | '/')
            || *c == '-' && i > 0 && (chars[i - 1].is_ascii_digit() || matches!(chars[i - 1], ')' | ']'))
    })
}

/// The literal side of a one-line equality assertion, or `None` when the line is not one or no side is decidable.
fn expected_side(line: &str) -> Option<&str> {
    sides(line).map(|(_, expected)| expected)
}

/// The checked expression and the literal expected of a one-line equality assertion, or `None` when the line is
/// not one or no side is decidable.
fn sides(line: &str) -> Option<(&str, &str)> {
    let line = line.trim().trim_end_matches(';');
    let (first, second) = if let Some(rest) = line.strip_prefix("assert ") {
        // `assert a == b, "message"`: the message is not part of the check.
        let check = split_top(rest, ',').into_iter().next()?;
        let sides = split_top_str(check, "==");
        let [a, b] = sides.as_slice() else { return None };
        (*a, *b)
    } else {
        let open = [
            "assert.strictEqual(",
            "assert.deepStrictEqual(",
            "assert.equal(",
            "assert.deepEqual(",
            "assert_eq!(",
            "self.assertEqual(",
        ]
        .iter()
        .find(|prefix| line.starts_with(**prefix))?;
        let inner = line[open.len()..].strip_suffix(')')?;
        let args = split_top(inner, ',');
        let (a, b) = (args.first()?, args.get(1)?);
        (*a, *b)
    };
    let (first, second) = (first.trim(), second.trim());
    match (is_literal(first), is_literal(second)) {
        (false, true) => Some((first, second)),
        (true, false) => Some((second, first)),
        _ => None,
    }
}

/// Names that may appear in a literal: constants and constructors of plain values in the three languages.
const LITERAL_NAMES: &[&str] = &[
    "True",
    "False",
    "None",
    "true",
    "false",
    "null",
    "undefined",
    "NaN",
    "Infinity",
    "Some",
    "Ok",
    "Err",
    "vec",
    "String",
    "from",
    "to_string",
    "to_owned",
    "into",
    "b",
    "r",
    "f",
    "u",
];

/// A side is a literal when, outside its strings, every name in it is one of [`LITERAL_NAMES`] and it has no
/// comparison left (an unbalanced or chained line is not decided here).
pub(crate) fn is_literal(side: &str) -> bool {
    if side.is_empty() || !balanced(side) {
        return false;
    }
    names(&strip_strings(side)).all(|(word, tail)| {
        // An object's key (`{ a: 1 }`) is a name, not a call; a path (`Kind::A`) is not a plain value.
        let key = tail.trim_start().starts_with(':') && !tail.trim_start().starts_with("::");
        key || LITERAL_NAMES.contains(&word)
    })
}

/// Each name in `code` (a word that starts with a letter or `_`; numbers such as `1e9` are not names), with the
/// text after it.
fn names(code: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = code;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| c.is_alphanumeric() || c == '_')?;
        let after = &rest[start..];
        let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        let (word, tail) = after.split_at(end);
        rest = tail;
        Some((word, tail))
    })
    .filter(|(word, _)| word.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
}

enum Atom {
    Text(String),
    Number(f64),
}

/// The strings (their contents, non-empty) and numbers of a literal.
fn atoms(literal: &str) -> Vec<Atom> {
    let mut atoms: Vec<Atom> = strings(literal).into_iter().filter(|s| !s.is_empty()).map(Atom::Text).collect();
    atoms.extend(numbers_in(&strip_strings(literal)).into_iter().map(Atom::Number));
    atoms
}

/// Every number written in `text`, unsigned (`3`, `0.5`, `1,000` and `1_000` read as 1000), skipping digits inside
/// words such as `v2` or `utf8`. The sign is not read: an issue writes "-3" as often as "minus 3" or "3 less".
fn numbers_in(text: &str) -> Vec<f64> {
    let chars: Vec<char> = text.chars().collect();
    let mut numbers = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit() && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if !starts {
            i += 1;
            continue;
        }
        let mut digits = String::new();
        while let Some(&c) = chars.get(i) {
            let digit_next = chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() {
                digits.push(c);
            } else if c == '.' && digit_next && !digits.contains('.') {
                digits.push('.');
            } else if !(c == '_' && digit_next || c == ',' && next_three_digits(&chars, i + 1)) {
                break;
            }
            i += 1;
        }
        if let Ok(value) = digits.parse::<f64>() {
            numbers.push(value);
        }
    }
    numbers
}

/// `1,000` groups thousands; `[1,2]` lists two numbers.
fn next_three_digits(chars: &[char], from: usize) -> bool {
    chars.len() >= from + 3
        && chars[from..from + 3].iter().all(char::is_ascii_digit)
        && !chars.get(from + 3).is_some_and(char::is_ascii_digit)
}

/// Where a character of a line stands: in code, opening or closing a quoted string, or inside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Code,
    Open,
    Inside,
    Close,
}

/// Each character of `text` (byte index, char) with its [`Place`]; strings are `'..'`, `".."` or backquoted, with
/// backslash escapes.
fn places(text: &str) -> Vec<(usize, char, Place)> {
    let mut out = Vec::with_capacity(text.len());
    let (mut quote, mut escaped) = (None::<char>, false);
    for (i, c) in text.char_indices() {
        let place = match quote {
            Some(q) if !escaped && c == q => {
                quote = None;
                Place::Close
            }
            Some(_) => {
                escaped = !escaped && c == '\\';
                Place::Inside
            }
            None if matches!(c, '\'' | '"' | '`') => {
                quote = Some(c);
                Place::Open
            }
            None => Place::Code,
        };
        out.push((i, c, place));
    }
    out
}

/// The contents of the quoted strings in `text`, escapes left as written.
fn strings(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (_, c, place) in places(text) {
        match place {
            Place::Open => found.push(String::new()),
            Place::Inside => found.last_mut().into_iter().for_each(|s| s.push(c)),
            Place::Code | Place::Close => {}
        }
    }
    found
}

/// The line without a trailing `// ...` or `# ...` comment (outside strings).
pub(crate) fn without_comment(line: &str) -> &str {
    places(line)
        .into_iter()
        .find(|&(i, c, place)| place == Place::Code && (c == '#' || line[i..].starts_with("//")))
        .map_or(line, |(i, _, _)| &line[..i])
}

/// `text` with each quoted string replaced by `""`.
fn strip_strings(text: &str) -> String {
    let mut out = String::new();
    for (_, c, place) in places(text) {
        match place {
            Place::Code => out.push(c),
            Place::Close => out.push_str("\"\""),
            Place::Open | Place::Inside => {}
        }
    }
    out
}

pub(crate) fn balanced(text: &str) -> bool {
    let bare = strip_strings(text);
    let mut depth = 0i32;
    for c in bare.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `text` split at `sep` where it is outside strings and brackets.
fn split_top(text: &str, sep: char) -> Vec<&str> {
    let mut buf = [0u8; 4];
    split_top_str(text, sep.encode_utf8(&mut buf))
}

fn split_top_str<'a>(text: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c, place) in places(text) {
        if place != Place::Code || i < start {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ if depth == 0 && text[i..].starts_with(sep) => {
                parts.push(&text[start..i]);
                start = i + sep.len();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bench task 15's issue: a session of wrong results, then the right ones listed in order.
    const LISTED: &str = "Chains are wrong:\n\n```python\n>>> from calc import evaluate\n>>> evaluate(\"10 - 3 - 2\")\n9\n\
                          >>> evaluate(\"8 / 4 / 2\")\n4.0\n```\n\nExpected `5` and `1.0`, i.e. left to right. \
                          Precedence is fine (`2 + 3 * 4` gives 14).";

    #[test]
    fn a_check_that_copies_the_sessions_wrong_result_expects_the_value_the_issue_lists() {
        let code = "import calc\nassert calc.evaluate(\"10 - 3 - 2\") == 9\nassert evaluate('8 / 4 / 2') == 4.0  # now\n\
                    assert evaluate(\"2 + 3 * 4\") == 14\n";
        let (fixed, changed) = expect_as_issue_lists(code, LISTED);
        assert_eq!(changed, 2);
        assert_eq!(
            fixed,
            "import calc\nassert calc.evaluate(\"10 - 3 - 2\") == 5\nassert evaluate('8 / 4 / 2') == 1.0  # now\n\
             assert evaluate(\"2 + 3 * 4\") == 14\n"
        );
        // The expected value on the left, in JavaScript.
        let js = "assert.strictEqual(9, evaluate(\"10 - 3 - 2\"));";
        assert_eq!(expect_as_issue_lists(js, LISTED), ("assert.strictEqual(5, evaluate(\"10 - 3 - 2\"));\n".into(), 1));
    }

    #[test]
    fn without_a_list_as_long_as_the_session_no_check_is_changed() {
        let code = "assert evaluate(\"10 - 3 - 2\") == 9\n";
        // One value for two outputs (task 13 lists more values than its session prints).
        let short = LISTED.replace("`5` and `1.0`", "`5`");
        assert_eq!(expect_as_issue_lists(code, &short), (code.into(), 0));
        // Values that name the call (task 08) are not a list of results.
        let named =
            LISTED.replace("`5` and `1.0`", "`evaluate(\"10 - 3 - 2\") == 5` and `evaluate(\"8 / 4 / 2\") == 1.0`");
        assert_eq!(expect_as_issue_lists(code, &named), (code.into(), 0));
        // "Expected" on a line of its own, the values in a block after it (task 01).
        let block = LISTED.replace("Expected `5` and `1.0`, i.e. left to right.", "Expected:\n\n`5`, `1.0`");
        assert_eq!(expect_as_issue_lists(code, &block), (code.into(), 0));
        // The values of the list's first sentence only: later ones are other cases.
        assert_eq!(expected_instead(LISTED).len(), 2);
    }

    /// Bench task 11's issue: the call, what it gives now and what it should give, in comments.
    const COMMENTED: &str = "parseQuery keeps the last value only:\n\n```js\nconst { parseQuery } = require('./query');\n\
                             parseQuery('tag=js&tag=node&page=2');\n// actual:   { tag: 'node', page: '2' }\n\
                             // expected: { tag: ['js', 'node'], page: '2' }\n```\n\nAlso:\n\n```js\n\
                             parseQuery('');   // actual: { '': '' }   expected: {}\n```\n";

    #[test]
    fn a_check_of_a_call_the_issue_gives_the_expected_value_of_expects_that_value() {
        let code = "assert.deepStrictEqual(parseQuery('tag=js&tag=node&page=2'), { tag: 'js', page: '2' });\n\
                    assert.deepStrictEqual(query.parseQuery(\"tag=js&tag=node&page=2\"), {tag: ['js', 'node'], page: '2'});\n\
                    assert.deepStrictEqual(parseQuery(''), { '': '' });\n\
                    assert.deepStrictEqual(parseQuery('?'), {});\n";
        let (fixed, changed) = expect_as_issue_comments(code, COMMENTED);
        assert_eq!(changed, 2, "{fixed}");
        assert_eq!(
            fixed,
            "assert.deepStrictEqual(parseQuery('tag=js&tag=node&page=2'), { tag: ['js', 'node'], page: '2' });\n\
             assert.deepStrictEqual(query.parseQuery(\"tag=js&tag=node&page=2\"), {tag: ['js', 'node'], page: '2'});\n\
             assert.deepStrictEqual(parseQuery(''), {});\n\
             assert.deepStrictEqual(parseQuery('?'), {});\n",
            "the same value in other quotes and spacing stays; a call the issue gives no value for stays"
        );
        let py = "assert evaluate('8 / 4 / 2') == 2\nassert evaluate('1 + 1') == 3\n";
        let issue = "```python\nprint(evaluate('8 / 4 / 2'))  # expected: 1.0\n```\n";
        assert_eq!(
            expect_as_issue_comments(py, issue),
            ("assert evaluate('8 / 4 / 2') == 1.0\nassert evaluate('1 + 1') == 3\n".into(), 1)
        );
    }

    #[test]
    fn a_call_the_issue_gives_two_values_or_none_changes_no_check() {
        let code = "assert.deepStrictEqual(inv.quantity('apple'), 1);\n";
        let twice = "```js\ninv.quantity('apple'); // expected: 3\ninv.remove('apple', 2);\ninv.quantity('apple'); // expected: 1\n```\n";
        assert_eq!(expect_as_issue_comments(code, twice), (code.into(), 0));
        let without = "Removing makes `inv.quantity('apple')` go negative.";
        assert_eq!(expect_as_issue_comments(code, without), (code.into(), 0));
        assert!(commented_expectations(COMMENTED).len() == 2);
        // Task 05: `// =>` marks what the code does now, and the expected block's comments name no expectation.
        let arrows = "```js\ntruncate('Hello world', 8);  // => 'Hello wo…'   (9 characters)\n```\n\
                      Expected:\n```js\ntruncate('Hello world', 8);  // 'Hello w…'\n```\n";
        let check = "assert.strictEqual(truncate('Hello world', 8), 'Hello w…');\n";
        assert_eq!(expect_as_issue_comments(check, arrows), (check.into(), 0));
        let named = "```js\nparseQuery('a=1'); // expected: makeQuery(1)\n```\n";
        assert!(commented_expectations(named).is_empty(), "a value that calls something is not plain");
    }

    #[test]
    fn claims_name_the_checked_expression_and_the_expected_literal() {
        let code = "from text import truncate\nassert truncate('Hello world', 8) == 'Hello w…'  # was 'Hello wo…'\n\
                    assert.deepStrictEqual(truncate('Hello world', 8, '...'), 'Hello...');\nassert f(x) == g(y)\n";
        let claims = claims(code);
        let found: Vec<(usize, &str, &str)> =
            claims.iter().map(|c| (c.line, c.actual.as_str(), c.expected.as_str())).collect();
        assert_eq!(
            found,
            [(1, "truncate('Hello world', 8)", "'Hello w…'"), (2, "truncate('Hello world', 8, '...')", "'Hello...'")]
        );
    }

    #[test]
    fn a_check_that_contradicts_the_suite_is_taken_out() {
        let suite = ["def test_tail():\n    assert last_records(iter(range(10)), 3) == [7, 8, 9]\n    \
                      assert total == 5\n"];
        let code = "def test_issue():\n    assert last_records(iter(range(10)),3) == []\n    \
                    assert last_records(iter(range(10)), 0) == []\n    assert last_records(iter(range(10)), 3) == [7,8,9]\n    \
                    assert total == 6\n";
        let (kept, dropped) = keep_consistent_with_suite(code, &suite_claims(&suite));
        assert_eq!(dropped, 1);
        assert_eq!(
            kept,
            "def test_issue():\n    pass\n    assert last_records(iter(range(10)), 0) == []\n    \
             assert last_records(iter(range(10)), 3) == [7,8,9]\n    assert total == 6\n"
        );
        assert!(self_contained("parseQuery('a=1&b=2')"));
        assert!(self_contained("Decimal(\"1.5\").quantize(Decimal(\"0.1\"))"));
        assert!(!self_contained("last_records(records, 3)"));
        assert!(!self_contained("inv.quantity('apple')"));
        assert!(!self_contained("42"));
        let js = ["assert.deepStrictEqual(parseQuery('a=1'), { a: '1' });\n"];
        let (_, dropped) =
            keep_consistent_with_suite("assert.deepStrictEqual(parseQuery('a=1'), {});\n", &suite_claims(&js));
        assert_eq!(dropped, 1);
    }

    #[test]
    fn a_check_is_taken_out_without_moving_the_other_lines() {
        let python = "def test_x():\n    assert f(1) == 2\n    assert f(2) == 3\n";
        assert_eq!(without_checks(python, |l| l == 1), "def test_x():\n    pass\n    assert f(2) == 3\n");
        assert_eq!(only_check(python, 1), "def test_x():\n    assert f(1) == 2\n    pass\n");
        let js = "const { t } = require('./t');\nassert.strictEqual(t(1), 'a');\nassert.strictEqual(t(2), 'b');\n";
        assert_eq!(only_check(js, 2), "const { t } = require('./t');\n\nassert.strictEqual(t(2), 'b');\n");
    }

    const ISSUE: &str = "slugify(\"Hello World\") returns 'Hello-World'; expected 'hello-world'. \
                         Totals over 1,000 should read 1,234.50 and paginate(10) gives 3 pages.";

    #[test]
    fn an_assertion_of_a_value_the_issue_never_gave_is_dropped() {
        let code = "from slug import slugify\n\
                    assert slugify(\"Hello World\") == \"hello-world\"\n\
                    assert slugify(\"Hello, World!\") == \"hello-world!\"\n";
        let (kept, dropped) = keep_grounded(code, ISSUE);
        assert_eq!(dropped, 1);
        assert_eq!(kept, "from slug import slugify\nassert slugify(\"Hello World\") == \"hello-world\"\npass\n");
    }

    #[test]
    fn what_a_session_printed_before_the_expectation_is_the_bug_not_a_value_to_assert() {
        let issue = "Stock goes negative\n```python\n>>> inv.remove(\"apple\", 5)\n>>> inv.quantity(\"apple\")\n-2\n\
                     >>> fmt(5400)\n'1h30m'\n```\nExpected: `remove` raises ValueError, stock stays at 3, and \
                     parse('1h30m') == 5400.\n```python\n>>> split('a,\"b, c\"')\n['a', 'b, c']\n```\n";
        let code = "assert inv.remove(\"apple\", 5) == -2\nassert inv.quantity(\"apple\") == 3\n\
                    assert fmt(5400) == '1h30m'\nassert split('a,\"b, c\"') == ['a', 'b, c']\n";
        let (kept, dropped) = keep_grounded(code, issue);
        assert_eq!(dropped, 1, "{kept}");
        assert!(kept.starts_with("pass\n") && kept.contains("== 3") && kept.contains("== '1h30m'"), "{kept}");
        assert!(kept.contains("['a', 'b, c']"), "a session after the expectation shows what is expected: {kept}");
        // Without a line that starts with "Expected", a session is not read as the bug.
        let (_, dropped) = keep_grounded(code, &issue.replace("Expected:", "Wanted:"));
        assert_eq!(dropped, 0);
    }

    #[test]
    fn numbers_are_compared_by_value_and_thousands_are_read() {
        assert!(numbers_in("1,234.50 and [1,2] v2 -3").iter().any(|n| (n - 1234.5).abs() < 1e-9));
        let (_, dropped) = keep_grounded("assert pages(10) == 3\nassert fmt(1234.5) == '1,234.50'\n", ISSUE);
        assert_eq!(dropped, 0);
        let (_, dropped) = keep_grounded("assert pages(11) == 4\n", ISSUE);
        assert_eq!(dropped, 1);
        assert_eq!(numbers_in("[1,2]"), vec![1.0, 2.0]);
    }

    #[test]
    fn javascript_and_rust_assertions_read_their_expected_argument() {
        let (kept, dropped) = keep_grounded(
            "const { slugify } = require('./slug');\n\
             assert.strictEqual(slugify('Hello World'), 'hello-world');\n\
             assert.deepStrictEqual(parse('a=1'), { a: ['7'] });\n",
            ISSUE,
        );
        assert_eq!(dropped, 1, "{kept}");
        assert!(kept.contains("'hello-world'") && !kept.contains("deepStrictEqual"), "{kept}");
        let (kept, dropped) =
            keep_grounded("    assert_eq!(pages(10), Some(3));\n    assert_eq!(pages(0), Some(9));\n", ISSUE);
        assert_eq!(dropped, 1);
        assert_eq!(kept, "    assert_eq!(pages(10), Some(3));\n");
    }

    #[test]
    fn what_cannot_be_decided_is_kept() {
        for line in [
            "assert slugify('A') == slugify('a')",
            "assert result == expected",
            "assert slugify('x') != 'nowhere'",
            "with pytest.raises(ValueError):",
            "assert merge([(1, 2),",
            "assert is_leap(2000) is True",
            "assert slugify('a') == 'a' == b",
        ] {
            let (kept, dropped) = keep_grounded(line, ISSUE);
            assert_eq!((kept.trim_end(), dropped), (line, 0));
        }
    }

    #[test]
    fn a_test_that_repeats_a_pasted_session_is_told_apart() {
        let issue = "Chains are wrong:\n\n```python\n>>> from calc import evaluate\n>>> evaluate(\"10 - 3 - 2\")\n9\n\
                     >>> evaluate('8 / 4 / 2')\n4.0\n>>> print(evaluate(\"1+1\"))\n2\n```\n\nExpected `5` and `1.0`.\n\
                     ```js\n> fmt(1000)\n'1000'\n```\n> quoted prose(1)\n3\n";
        assert!(only_echoes("from calc import evaluate\nassert evaluate(\"10 - 3 - 2\") == 9\n", issue));
        assert!(only_echoes("assert calc.evaluate('8 / 4 / 2') == 4\nassert evaluate('1+1') == 2\n", issue));
        assert!(!only_echoes("assert evaluate(\"10 - 3 - 2\") == 9\nassert evaluate(\"8 / 4 / 2\") == 1.0\n", issue));
        assert!(!only_echoes("assert evaluate('1 + 1') == 2\n", issue), "strings are compared as written");
        assert!(!only_echoes("import calc\n", issue), "nothing checked is no echo");
        assert!(only_echoes("assert.strictEqual(fmt(1000), \"1000\");\n", issue), "a Node session in a fence");
        // A Markdown quote is no session.
        assert_eq!(session_outputs(issue).len(), 4);
        // The same expression shown twice (as it is, and as expected): each output is what a session printed.
        let both =
            ">>> slugify(\"Hello World\")\n'Hello-World'\n\nExpected:\n>>> slugify(\"Hello World\")\n'hello-world'\n";
        assert!(only_echoes("assert slugify('Hello World') == 'hello-world'\n", both));
        // Grounding keeps them: a session may show what is expected.
        assert_eq!(keep_grounded("assert slugify('Hello World') == 'hello-world'\n", both).1, 0);
    }

    #[test]
    fn an_assertion_the_other_way_round_from_the_issue_is_dropped() {
        let issue = "```rust\nassert!(is_leap_year(2000));              // fails: returns false\n```\n\
                     ```python\n>>> assert not is_blank('x')\n```";
        let (kept, dropped) = keep_grounded(
            "assert!(!is_leap_year(2000));\nassert!(is_leap_year(2000));\nassert!(!is_leap_year(1900));\n",
            issue,
        );
        assert_eq!(dropped, 1, "{kept}");
        assert_eq!(kept, "assert!(is_leap_year(2000));\nassert!(!is_leap_year(1900));\n");
        let (kept, dropped) = keep_grounded("assert is_blank('x')\nassert not is_blank('x')\n", issue);
        assert_eq!((kept.as_str(), dropped), ("pass\nassert not is_blank('x')\n", 1));
        assert!(!contradicts_issue("assert_eq!(f(2000), true);", issue));
        // The issue's own comment copied after it changes nothing.
        let (_, dropped) = keep_grounded("assert!(!is_leap_year(2000));   // fails: returns false\n", issue);
        assert_eq!(dropped, 1);
        let (_, dropped) = keep_grounded("assert_eq!(days(2000, 2), 31);   // fails: returns 28\n", issue);
        assert_eq!(dropped, 1, "31 is nowhere in the issue");
        assert_eq!(without_comment("assert f('#x') == 'a//b'  # note"), "assert f('#x') == 'a//b'  ");
    }

    #[test]
    fn a_value_the_model_worked_out_is_grounded_only_as_the_issue_writes_it() {
        let issue = "`median([4, 1, 3, 2])` returns `3`, but it should return `2.5` (that is (2 + 3) / 2).";
        let code = "self.assertEqual(median([4, 1, 3, 2]), (3 + 2.5) / 2)\nself.assertEqual(median([4, 1, 3, 2]), (2 + 3) / 2)\n\
                    assert median([4, 1, 3, 2]) == 2.5\nassert f(2) == [-2, 3]\n";
        let (kept, dropped) = keep_grounded(code, issue);
        assert_eq!(dropped, 1, "{kept}");
        assert!(!kept.contains("(3 + 2.5)") && kept.contains("(2 + 3) / 2") && kept.contains("[-2, 3]"));
        assert!(arithmetic("(3 + 2.5) / 2") && arithmetic("4-1") && !arithmetic("[-2, 3]") && !arithmetic("'a+b'"));
    }

    #[test]
    fn constants_and_empty_strings_need_no_grounding() {
        let (_, dropped) = keep_grounded("assert is_leap(1900) == False\nassert strip('  ') == ''\n", "no values");
        assert_eq!(dropped, 0);
    }

    #[test]
    fn a_printed_value_with_an_expected_comment_becomes_an_assertion() {
        let js = "const seen = [];\nstore.set('count', 1);\nconsole.log(seen); // actual:   [ 'once:count' ]\n\
                  // expected: [ 'once:count', 'sub:count=1' ]\n  console.log(f(1, 2)); // expected: 3\nconsole.log(a, b); // expected: 3\n\
                  console.log(total) // => 12\nconsole.log(x); // looks wrong\n";
        let got = printed_expectations(js);
        assert!(got.contains("\nassert.deepStrictEqual(seen, [ 'once:count', 'sub:count=1' ]);\n"), "{got}");
        assert!(got.contains("\n  assert.deepStrictEqual(f(1, 2), 3);\n"), "{got}");
        assert!(got.contains("\nconsole.log(a, b); // expected: 3\n"), "several arguments stay: {got}");
        assert!(got.contains("\nassert.deepStrictEqual(total, 12);\n"), "{got}");
        assert!(got.contains("console.log(x); // looks wrong\n"), "no expected value, no assertion");
        let py = "from calc import evaluate\nprint(evaluate(\"10 - 3 - 2\"))  # expected: 5\nprint(\"done\")\n";
        assert_eq!(
            printed_expectations(py),
            "from calc import evaluate\nassert evaluate(\"10 - 3 - 2\") == 5\nprint(\"done\")\n"
        );
    }

    #[test]
    fn a_bare_call_with_an_expected_comment_becomes_an_assertion() {
        let js = "parseQuery('');   // actual: { '': '' }   expected: {}\n\
                  parseQuery('tag=js&tag=node');\n// actual:   { tag: 'node' }\n// expected: { tag: ['js', 'node'] }\n\
                  store.set('count', 1);\nconsole.log(seen);\n// expected: [1]\n\
                  const x = f(1); // expected: 3\nf(1).g(2); // expected: 3\n";
        let got = printed_expectations(js);
        assert!(got.starts_with("assert.deepStrictEqual(parseQuery(''), {});\n"), "{got}");
        assert!(got.contains("\nassert.deepStrictEqual(parseQuery('tag=js&tag=node'), { tag: ['js', 'node'] });\n"));
        assert!(got.contains("\nstore.set('count', 1);\nassert.deepStrictEqual(seen, [1]);\n"), "{got}");
        assert!(got.contains("\nconst x = f(1); // expected: 3\nf(1).g(2); // expected: 3\n"), "{got}");
        let py = "slugify('A B')  # expected: 'a-b'\nreturn f(2)  # expected: 4\n";
        assert_eq!(printed_expectations(py), "assert slugify('A B') == 'a-b'\nreturn f(2)  # expected: 4\n");
    }

    #[test]
    fn an_assertion_of_the_value_the_issue_reports_as_actual_is_dropped() {
        let issue = "console.log(seen);\n// actual:   [ 'once:count', 'sub:count=2' ]\n\
                     // expected: [ 'once:count', 'sub:count=1', 'sub:count=2' ]\n\
                     parseQuery('');   // actual: { '': '' }   expected: {}\n";
        let code = "assert.deepStrictEqual(seen, ['once:count', 'sub:count=2']);\n\
                    assert.deepStrictEqual(seen, ['once:count', 'sub:count=1', 'sub:count=2']);\n\
                    assert.deepStrictEqual(parseQuery('?'), {'': ''});\nassert.deepStrictEqual(parseQuery(''), {});\n";
        let (kept, dropped) = keep_grounded(code, issue);
        assert_eq!(dropped, 2, "{kept}");
        assert_eq!(
            kept,
            "assert.deepStrictEqual(seen, ['once:count', 'sub:count=1', 'sub:count=2']);\n\
             assert.deepStrictEqual(parseQuery(''), {});\n"
        );
        assert_eq!(reported_actuals("got: 3, expected: 3\nforgot: 4\n"), Vec::<String>::new());
    }
}
