//! Parts of a reproduction test: one test per assertion of a sample, run beside the sample's whole test.
//!
//! A sample usually asserts all of an issue's examples in one test, so a change that gets two of three right fails
//! it as surely as one that gets none: selection cannot tell them apart, and no partial fix is seen to build on
//! (bench tasks 07, 08, 09 and 13, 2026-12-06: the chosen change fixed one part of a multi-part issue, and the one
//! kept test failed for every candidate alike). A part keeps the sample's imports and set-up and one of its
//! assertions. The whole test stays first: it is what a candidate prompt shows and what ships, and it alone checks
//! the assertions that already held on the base commit, so parts can only refine a verdict, never loosen it.

use crate::reproduce::Framework;

/// Parts at most per sample, and in all: each part is one more test run per candidate that fails its whole test
/// (about 0.2 s for a Python test on the host in bench task 07's log, more through Docker): a few carry the signal.
pub const MAX_PARTS_PER_TEST: usize = 3;
pub const MAX_PARTS: usize = 6;

/// The assertion code of each part of `assertions` (what the model wrote: imports, set-up and assertions): the same
/// code with every check statement but one replaced by an empty statement, so set-up, functions and loops stay as
/// written; at most [`MAX_PARTS_PER_TEST`], in the order written. A check statement is a line that starts an
/// assertion or an expected exception, at any depth (small models wrap them in `def test_…():`), with the lines
/// after it that are indented deeper or close its brackets. Empty when there are fewer than two, or for a Cargo test
/// (each part would be one more compile).
pub fn split(framework: &Framework, assertions: &str) -> Vec<String> {
    split_at_most(framework, assertions, MAX_PARTS_PER_TEST)
}

/// [`split`] with at most `most` parts.
pub fn split_at_most(framework: &Framework, assertions: &str, most: usize) -> Vec<String> {
    let empty = match framework {
        Framework::Cargo { .. } => return Vec::new(),
        Framework::Pytest | Framework::Unittest => "pass",
        Framework::NodeTest | Framework::Jest => ";",
    };
    let lines: Vec<&str> = assertions.lines().collect();
    let checks = checks(&lines);
    if checks.len() < 2 {
        return Vec::new();
    }
    checks
        .iter()
        .take(most)
        .map(|only| {
            let mut out: Vec<String> = Vec::with_capacity(lines.len());
            let mut at = 0;
            for check in &checks {
                out.extend(lines[at..check.start].iter().map(|l| (*l).to_owned()));
                if check == only {
                    out.extend(lines[check.start..check.end].iter().map(|l| (*l).to_owned()));
                } else {
                    out.push(format!("{}{empty}", check.indent));
                }
                at = check.end;
            }
            out.extend(lines[at..].iter().map(|l| (*l).to_owned()));
            out.join("\n")
        })
        .collect()
}

/// One check statement: lines `start..end`, and the whitespace it is indented by.
#[derive(Debug, PartialEq)]
struct Check {
    start: usize,
    end: usize,
    indent: String,
}

/// The check statements of `lines`, in order; a check inside another (an assertion in a `pytest.raises` block) is
/// part of it.
fn checks(lines: &[&str]) -> Vec<Check> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let body = line.trim_start();
        let depth = line.len() - body.len();
        if !starts_a_check(body) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        // Deeper lines, and a closing bracket at the same depth (`)` of a call split over lines, `}` of a block).
        while let Some(next) = lines.get(end) {
            let rest = next.trim_start();
            let next_depth = next.len() - rest.len();
            let continues = (!rest.is_empty() && next_depth > depth)
                || (next_depth == depth && rest.starts_with([')', ']', '}']))
                || (rest.is_empty()
                    && lines[end..]
                        .iter()
                        .find(|l| !l.trim().is_empty())
                        .is_some_and(|l| l.len() - l.trim_start().len() > depth));
            if !continues {
                break;
            }
            end += 1;
        }
        out.push(Check { start: i, end, indent: line[..depth].to_owned() });
        i = end;
    }
    out
}

/// A line (without its indentation) that starts an assertion or an expected exception.
fn starts_a_check(line: &str) -> bool {
    let line = line.strip_prefix("await ").unwrap_or(line);
    ["assert", "self.assert", "self.fail", "with pytest.raises", "with self.assertRaises", "pytest.raises(", "expect("]
        .iter()
        .any(|check| line.starts_with(check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_keeps_the_set_up_and_one_check() {
        let code = "from money import parse_amount\nimport pytest\n\nvalue = parse_amount(\"$1,234.50\")\n\
                    assert value == Decimal(\"1234.50\")\nassert parse_amount(\n    \"-$1,000,000\"\n) == -1000000\n\
                    with pytest.raises(ValueError):\n    parse_amount(\"12,34\")\n";
        let parts = split(&Framework::Pytest, code);
        assert_eq!(parts.len(), 3, "{parts:?}");
        let set_up = "from money import parse_amount\nimport pytest\n\nvalue = parse_amount(\"$1,234.50\")";
        assert_eq!(parts[0], format!("{set_up}\nassert value == Decimal(\"1234.50\")\npass\npass"));
        assert_eq!(parts[1], format!("{set_up}\npass\nassert parse_amount(\n    \"-$1,000,000\"\n) == -1000000\npass"));
        assert_eq!(
            parts[2],
            format!("{set_up}\npass\npass\nwith pytest.raises(ValueError):\n    parse_amount(\"12,34\")")
        );
    }

    #[test]
    fn checks_inside_the_functions_a_model_wrote_are_split_too() {
        let code = "from m import f\n\ndef test_f():\n    x = f(1)\n    assert x == 2\n\n    assert f(2) == 3\n\
                    \ndef test_raises():\n    with pytest.raises(ValueError):\n        f(None)\n        assert False\n\n\
                    test_f()\n";
        let parts = split(&Framework::Pytest, code);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(
            parts[1],
            "from m import f\n\ndef test_f():\n    x = f(1)\n    pass\n\n    assert f(2) == 3\n\ndef test_raises():\n    \
             pass\n\ntest_f()"
        );
        assert!(parts[2].contains("    with pytest.raises(ValueError):\n        f(None)\n        assert False\n"));
        assert!(parts[2].contains("    pass\n\n    pass\n"), "{}", parts[2]);
    }

    #[test]
    fn javascript_blocks_stay_whole_and_a_removed_check_is_an_empty_statement() {
        let code = "const assert = require('node:assert');\nconst { parse } = require('./query');\n\
                    assert.deepStrictEqual(parse('a=1&a=2'), { a: ['1', '2'] });\nassert.throws(() => {\n  \
                    parse(null);\n}, /TypeError/);\n";
        let parts = split(&Framework::NodeTest, code);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].ends_with("\n;\nassert.throws(() => {\n  parse(null);\n}, /TypeError/);"), "{}", parts[1]);
        assert!(parts.iter().all(|p| p.starts_with("const assert = require('node:assert');\nconst { parse }")));
        assert!(parts[0].ends_with("{ a: ['1', '2'] });\n;"), "{}", parts[0]);
    }

    #[test]
    fn what_cannot_be_split_gives_no_parts() {
        assert!(split(&Framework::Pytest, "from m import f\nassert f(1) == 2\n").is_empty(), "one assertion");
        let raises = "with pytest.raises(ValueError):\n    assert f(1) == 2\n";
        assert!(split(&Framework::Pytest, raises).is_empty(), "an assertion inside an expected exception is one check");
        let rust = "use c::f;\nassert_eq!(f(1), 2);\nassert_eq!(f(2), 3);\n";
        assert!(split(&Framework::Cargo { crate_name: "c".into() }, rust).is_empty(), "a compile per part");
        let many = (0..5).map(|i| format!("assert f({i}) == {i}\n")).collect::<String>();
        assert_eq!(split(&Framework::Unittest, &many).len(), MAX_PARTS_PER_TEST);
    }
}
