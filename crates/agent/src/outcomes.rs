//! Per-test results read from a test run's output, so a change can be judged test by test.
//!
//! Judged as a whole, a repository with one unrelated failing test can never show a fix: the suite is red before and
//! after. Read test by test, a test that failed on the base and passes with the change is fail-to-pass, a test that
//! passed and now fails is a regression, and a test that failed before and still fails is the repository's own.
//!
//! The runners' default output names only the failing tests, so that is what is read, with the runner's own counts:
//! - pytest: the short summary's `FAILED id - …` and `ERROR id - …` lines, and the last line's `N failed, M passed,
//!   K errors …`;
//! - unittest: `FAIL: test (module.Class.test)` and `ERROR: …` headers, `Ran N tests` and `FAILED (failures=F,
//!   errors=E)`;
//! - cargo test: the names listed under the last `failures:` heading of each test binary, and the `test result:`
//!   lines' counts summed over the binaries;
//! - TAP (`node --test`): `not ok N - name` lines, `# tests N` and `# fail F`.
//!
//! Results count only when they are complete: the failing tests read are as many as the runner says failed. Anything
//! else (a cut output, a crash, an unknown runner) gives `None`, and the suite is judged as a whole.

use std::collections::BTreeSet;

/// One run's results: how many tests ran, and which failed (failed or errored), by the runner's own test ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestResults {
    /// Tests the runner counted (passed, failed, errored and skipped).
    pub total: usize,
    pub failing: BTreeSet<String>,
}

/// The results in `output`, when a known runner's complete results are in it.
pub fn parse(output: &str) -> Option<TestResults> {
    pytest(output).or_else(|| unittest(output)).or_else(|| cargo(output)).or_else(|| tap(output))
}

fn complete(total: usize, failed: usize, failing: BTreeSet<String>) -> Option<TestResults> {
    (total > 0 && failing.len() == failed).then_some(TestResults { total, failing })
}

/// pytest's closing line, `3 failed, 10 passed, 1 skipped in 0.12s` (with or without `=` rules around it).
fn pytest(output: &str) -> Option<TestResults> {
    let last = output.lines().rev().map(|l| l.trim().trim_matches('=').trim()).find(|l| !l.is_empty())?;
    let (counts, time) = last.rsplit_once(" in ")?;
    if !time.trim_end_matches(|c: char| c == ')' || c.is_ascii_digit() || ":. hms(".contains(c)).is_empty() {
        return None;
    }
    let (mut total, mut failed) = (0, 0);
    for part in counts.split(", ") {
        let (n, kind) = part.split_once(' ')?;
        let n: usize = n.parse().ok()?;
        match kind {
            "failed" | "error" | "errors" => {
                failed += n;
                total += n;
            }
            "passed" | "skipped" | "xfailed" | "xpassed" => total += n,
            "deselected" | "warning" | "warnings" | "rerun" => {}
            _ => return None,
        }
    }
    let failing = output
        .lines()
        .filter_map(|l| l.strip_prefix("FAILED ").or_else(|| l.strip_prefix("ERROR ")))
        .map(|rest| rest.split(" - ").next().unwrap_or(rest).trim().to_owned())
        .collect();
    complete(total, failed, failing)
}

/// unittest's `Ran N tests` and `OK` or `FAILED (failures=F, errors=E, skipped=S)`.
fn unittest(output: &str) -> Option<TestResults> {
    let ran = output.lines().rev().find_map(|l| l.strip_prefix("Ran ")?.split(' ').next()?.parse::<usize>().ok())?;
    let status = output.lines().rev().map(str::trim).find(|l| l.starts_with("OK") || l.starts_with("FAILED"))?;
    let mut failed = 0;
    if let Some(inner) = status.strip_prefix("FAILED (").and_then(|s| s.strip_suffix(')')) {
        for part in inner.split(", ") {
            let (kind, n) = part.split_once('=')?;
            if matches!(kind, "failures" | "errors" | "unexpected successes") {
                failed += n.parse::<usize>().ok()?;
            }
        }
    }
    let failing = output
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL: ").or_else(|| l.strip_prefix("ERROR: ")))
        .map(|rest| rest.trim().to_owned())
        .collect();
    complete(ran, failed, failing)
}

/// cargo test's `test result: FAILED. 3 passed; 1 failed; 0 ignored; …` per binary, and each binary's list of failing
/// tests (the indented names under the `failures:` heading that comes right before its result line).
fn cargo(output: &str) -> Option<TestResults> {
    let (mut total, mut failed, mut seen) = (0, 0, false);
    let mut failing = BTreeSet::new();
    let mut listed: Vec<String> = Vec::new();
    let mut in_list = false;
    for line in output.lines() {
        if line == "failures:" {
            // The heading comes twice per failing binary: before the output of each test, and before the list.
            listed.clear();
            in_list = true;
            continue;
        }
        if in_list {
            match line.strip_prefix("    ") {
                Some(name) if !name.is_empty() && !name.contains(' ') => listed.push(name.to_owned()),
                _ if line.trim().is_empty() => {}
                _ => in_list = false,
            }
        }
        let Some(result) = line.strip_prefix("test result: ") else { continue };
        seen = true;
        in_list = false;
        let counts = result.split_once(". ").map_or(result, |(_, c)| c);
        for part in counts.split("; ") {
            let Some((n, kind)) = part.split_once(' ') else { continue };
            let Ok(n) = n.parse::<usize>() else { continue };
            match kind {
                "failed" => {
                    failed += n;
                    total += n;
                }
                "passed" | "ignored" => total += n,
                _ => {}
            }
        }
        failing.extend(listed.drain(..));
    }
    if !seen {
        return None;
    }
    complete(total, failed, failing)
}

/// TAP as `node --test` prints it: `not ok 2 - name` (indented for subtests), `# tests N`, `# fail F`.
fn tap(output: &str) -> Option<TestResults> {
    let count = |key: &str| output.lines().rev().find_map(|l| l.trim().strip_prefix(key)?.trim().parse::<usize>().ok());
    let (total, failed) = (count("# tests ")?, count("# fail ")?);
    let failing = output
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("not ok "))
        .filter(|rest| !rest.contains("# TODO") && !rest.contains("# SKIP"))
        .map(|rest| rest.split_once(" - ").map_or(rest, |(_, name)| name).trim().to_owned())
        .collect();
    complete(total, failed, failing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(results: &TestResults) -> Vec<&str> {
        results.failing.iter().map(String::as_str).collect()
    }

    #[test]
    fn pytest_short_summary_and_counts() {
        let out = "..F.E\n=== FAILURES ===\n___ test_b ___\nassert 1 == 2\n=== short test summary info ===\n\
                   FAILED tests/test_a.py::test_b - assert 1 == 2\nERROR tests/test_a.py::test_c - fixture 'x' not found\n\
                   1 failed, 3 passed, 1 error in 0.05s\n";
        let results = parse(out).unwrap();
        assert_eq!(results.total, 5);
        assert_eq!(failing(&results), ["tests/test_a.py::test_b", "tests/test_a.py::test_c"]);
        let green = parse("....\n4 passed in 0.01s\n").unwrap();
        assert_eq!((green.total, green.failing.len()), (4, 0));
        let ruled = parse("==== 2 passed, 1 skipped, 3 warnings in 1.20s ====\n").unwrap();
        assert_eq!(ruled.total, 3);
    }

    #[test]
    fn a_cut_or_stopped_run_is_not_read() {
        // Two failed, one named (the output was cut): judged as a whole.
        assert_eq!(parse("FAILED t.py::a - x\n2 failed, 1 passed in 0.1s\n"), None);
        assert_eq!(parse("collected 3 items\nKilled\n"), None);
        assert_eq!(parse("no tests ran in 0.01s\n"), None);
        assert_eq!(parse("Ran 0 tests in 0.000s\n\nOK\n"), None);
    }

    #[test]
    fn unittest_headers_and_counts() {
        let out = "..F\n======\nFAIL: test_even (test_stats.StatsTest.test_even)\n------\nTraceback ...\n\
                   AssertionError: 2 != 2.5\n\n------\nRan 3 tests in 0.001s\n\nFAILED (failures=1)\n";
        let results = parse(out).unwrap();
        assert_eq!(results.total, 3);
        assert_eq!(failing(&results), ["test_even (test_stats.StatsTest.test_even)"]);
        let ok = parse("...\n------\nRan 3 tests in 0.001s\n\nOK (skipped=1)\n").unwrap();
        assert_eq!((ok.total, ok.failing.len()), (3, 0));
    }

    #[test]
    fn cargo_lists_per_binary_summed() {
        let out = "running 2 tests\n.F\nfailures:\n\n---- tests::leap stdout ----\nthread 'tests::leap' panicked at \
                   src/lib.rs:9:5:\nassertion failed\n\nfailures:\n    tests::leap\n\ntest result: FAILED. 1 passed; \
                   1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\nrunning 1 test\n.\ntest \
                   result: ok. 1 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let results = parse(out).unwrap();
        assert_eq!(results.total, 4);
        assert_eq!(failing(&results), ["tests::leap"]);
    }

    #[test]
    fn tap_from_node_test() {
        let out = "TAP version 13\nok 1 - keeps short text\nnot ok 2 - cuts at the limit\n  ---\n  ...\n1..2\n\
                   # tests 2\n# pass 1\n# fail 1\n";
        let results = parse(out).unwrap();
        assert_eq!((results.total, failing(&results)), (2, vec!["cuts at the limit"]));
    }
}
