//! The verdict: what the tests show about a change, and nothing more.
//!
//! `fixed` needs a fail-to-pass test: one that fails on the base commit and passes with the change, while every test
//! that passed on the base still passes. Tests that passed before and after prove nothing about the issue, so a
//! change with only those is `no regressions`, never `fixed`. The rule is applied here and nowhere else; the worker,
//! the pull request, the dashboard and the bench read the result.

use crate::select::{self, Evaluated};
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Search, candidates};
use serde::{Deserialize, Serialize};

use crate::outcomes::TestResults;

/// What the tests show about the chosen change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// A test that failed on the base commit passes with the change, and nothing that passed breaks. `by` names the
    /// fail-to-pass tests: the repository's test command, or the reproduction test files written from the issue.
    Fixed { by: Vec<String> },
    /// The tests that passed on the base commit still pass (any that failed there may still fail); no test shows
    /// the issue fixed.
    NoRegressions,
    /// The repository's tests, or every reproduction test, still fail with the change.
    TestsFail,
    /// Nothing could be run.
    TestsNotRun { reason: String },
}

impl Verdict {
    /// The label used in the store, `/metrics`, the dashboard and the bench.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Fixed { .. } => "fixed",
            Verdict::NoRegressions => "no regressions",
            Verdict::TestsFail => "tests fail",
            Verdict::TestsNotRun { .. } => "tests not run",
        }
    }

    /// The store's and the metrics' key: `fixed`, `no_regressions`, `tests_fail`, `tests_not_run`.
    pub fn key(&self) -> &'static str {
        match self {
            Verdict::Fixed { .. } => "fixed",
            Verdict::NoRegressions => "no_regressions",
            Verdict::TestsFail => "tests_fail",
            Verdict::TestsNotRun { .. } => "tests_not_run",
        }
    }

    pub fn is_fixed(&self) -> bool {
        matches!(self, Verdict::Fixed { .. })
    }

    /// Ordering used to choose between candidates: higher is better.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Verdict::Fixed { .. } => 3,
            Verdict::NoRegressions => 2,
            Verdict::TestsNotRun { .. } => 1,
            Verdict::TestsFail => 0,
        }
    }
}

/// One run of the repository's test command.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    pub passed: bool,
    /// No test was collected: nothing was checked.
    pub empty: bool,
    pub output: String,
    /// The run hit its time limit.
    pub timed_out: bool,
    /// Per-test results, when the runner's output holds them complete.
    pub results: Option<TestResults>,
}

impl SuiteRun {
    /// Passed with at least one test collected.
    pub fn green(&self) -> bool {
        self.passed && !self.empty
    }

    /// Every test failing here also fails in `other`, and nothing `other` ran is missing: read test by test, so it
    /// needs both runs' results (else only a green run qualifies).
    pub fn fails_no_more_than(&self, other: &SuiteRun) -> bool {
        match (&self.results, &other.results) {
            (Some(mine), Some(theirs)) => mine.total >= theirs.total && mine.failing.is_subset(&theirs.failing),
            _ => self.green(),
        }
    }
}

/// What a run with the change shows against the base run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SuiteView {
    /// Tests ran with the change.
    pub ran: bool,
    /// Something that passed on the base fails (or no longer runs) with the change.
    pub regression: bool,
    /// Tests that fail on the base and pass with the change: test ids, or "the repository's tests" when the suite
    /// is read as a whole.
    pub fail_to_pass: Vec<String>,
    /// Tests that fail on the base and still fail with the change (read test by test only): the repository's own
    /// failures, which the change neither caused nor fixed.
    pub still_failing: Vec<String>,
}

/// The suite's evidence for a change. Test by test when both runs' results are complete and count the same tests
/// (a change cannot add or drop a test: candidates never edit tests); else the suite as a whole, where a run that
/// is not green is a regression.
pub fn suite_view(base: Option<&SuiteRun>, head: Option<&SuiteRun>) -> SuiteView {
    let Some(head) = head else { return SuiteView::default() };
    let ran = !head.empty;
    if let Some(base) = base
        && let (Some(before), Some(after)) = (&base.results, &head.results)
        && before.total == after.total
    {
        return SuiteView {
            ran,
            regression: !after.failing.is_subset(&before.failing),
            fail_to_pass: before.failing.difference(&after.failing).cloned().collect(),
            still_failing: before.failing.intersection(&after.failing).cloned().collect(),
        };
    }
    let regression = (!head.green() && !head.empty) || base.is_some_and(|b| b.green() && !head.green());
    let fixed_whole = base.is_some_and(|b| !b.passed && !b.empty) && head.green();
    SuiteView {
        ran,
        regression,
        fail_to_pass: if fixed_whole { vec!["the repository's tests".to_owned()] } else { Vec::new() },
        still_failing: Vec::new(),
    }
}

/// The verdict for a change, from the base run of the repository's tests, the run with the change, and for each
/// reproduction test (each failed on the base commit, or it would not have been kept) its name and whether it passes
/// with the change. The suite is read test by test when it can be ([`suite_view`]): a test that failed before and
/// still fails is then the repository's own and does not stand in the way of `fixed` or `no regressions`.
pub fn judge(base: Option<&SuiteRun>, head: Option<&SuiteRun>, reproductions: &[(String, bool)]) -> Verdict {
    if let (Some(base), Some(head)) = (base, head)
        && head.empty
        && base.empty
        && reproductions.is_empty()
    {
        return Verdict::TestsNotRun { reason: "the test command collected no tests".into() };
    }
    let view = suite_view(base, head);
    // A kept reproduction test that still fails: by the issue's own examples, as far as they were written down, the
    // change is at most partial. Another test passing does not make it `fixed`.
    if view.regression || reproductions.iter().any(|(_, passed)| !passed) {
        return Verdict::TestsFail;
    }
    let mut by = view.fail_to_pass;
    by.extend(reproductions.iter().map(|(name, _)| name.clone()));
    if !by.is_empty() {
        return Verdict::Fixed { by };
    }
    if view.ran {
        Verdict::NoRegressions
    } else {
        Verdict::TestsNotRun { reason: "no test command was configured or detected".into() }
    }
}

impl Agent<'_> {
    /// Puts the chosen candidate in the worktree, adds the regression test that shows the fix, and records the
    /// verdict. The suite is run once more with the regression test in place: a test that passes alone but not in
    /// the suite is not shipped, and the verdict says only what remains shown.
    pub(crate) async fn conclude(
        &self,
        search: &Search<'_>,
        evaluated: Vec<Evaluated>,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<(), AgentError> {
        let Some(index) = select::choose(&evaluated) else {
            return Err(AgentError::NoUsableEdit {
                candidates: outcome.candidates,
                last_problem: "no candidate ran".into(),
            });
        };
        let groups = select::groups(&evaluated);
        outcome.candidates_run = evaluated.len() as u32;
        outcome.agreeing = groups.iter().find(|g| g.members.contains(&index)).map_or(1, |g| g.members.len() as u32);
        let chosen = &evaluated[index];
        outcome.origin = chosen.candidate.origin.clone();
        candidates::install(search.workdir, &chosen.candidate.files)?;
        outcome.changed_files = chosen.candidate.files.iter().map(|(p, _)| p.clone()).collect();
        outcome.tests_ran = chosen.suite.as_ref().is_some_and(|s| !s.empty);
        outcome.test_output_tail = chosen.failure.clone();
        outcome.verdict = chosen.verdict.clone();
        // Parts are checks within their whole test, which is cited instead (and is what ships).
        if let Verdict::Fixed { by } = &mut outcome.verdict {
            by.retain(|name| !search.reproductions.iter().any(|t| t.part_of.is_some() && t.path == *name));
        }
        outcome.still_failing = chosen.view.still_failing.clone();
        outcome.breaks_suite = chosen.view.regression;
        outcome.reproduction_results = search
            .reproductions
            .iter()
            .zip(&chosen.reproductions)
            // Parts are checks within a whole test, not tests of their own to report.
            .filter(|(t, _)| t.part_of.is_none())
            .map(|(t, passed)| (t.path.clone(), *passed))
            .collect();
        let showing =
            search.reproductions.iter().zip(&chosen.reproductions).find(|(_, passed)| **passed).map(|(t, _)| t);
        if let (true, Some(test), Verdict::Fixed { .. }) = (self.settings.add_regression_test, showing, &chosen.verdict)
        {
            let test = test.in_house_style(search.workdir, search.files);
            let installed = test.install(search.workdir)?;
            let suite_ok = match &search.test_command {
                Some(command) => {
                    on_event(AgentEvent::Running { what: format!("the tests with the change and {}", test.path) });
                    let run = self.run_tests(search.workdir, command, &[]).await?.suite;
                    run.empty || chosen.suite.as_ref().is_none_or(|without| run.fails_no_more_than(without))
                }
                None => true,
            };
            if suite_ok {
                installed.keep();
                // The verdict cites what a reviewer can run: the suite's tests and the shipped test. The other
                // reproduction tests that pass stay in `reproduction_results` (a fresh user's pull request cited a
                // second one that was nowhere in it).
                if let Verdict::Fixed { by } = &mut outcome.verdict {
                    by.retain(|name| *name == test.path || !search.reproductions.iter().any(|t| t.path == *name));
                }
                outcome.regression_test = Some(test.path.clone());
                outcome.changed_files.push(test.path.clone());
            } else {
                drop(installed);
                on_event(AgentEvent::Reproduction {
                    path: test.path.clone(),
                    kept: false,
                    detail: "passes alone but not inside the repository's suite; not shipped".into(),
                });
                outcome.verdict = judge(search.base.as_ref(), chosen.suite.as_ref(), &[]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(passed: bool) -> SuiteRun {
        SuiteRun { passed, empty: false, output: String::new(), timed_out: false, results: None }
    }

    fn empty() -> SuiteRun {
        SuiteRun { passed: false, empty: true, output: String::new(), timed_out: false, results: None }
    }

    #[test]
    fn tests_green_before_and_after_prove_nothing() {
        assert_eq!(judge(Some(&run(true)), Some(&run(true)), &[]), Verdict::NoRegressions);
    }

    #[test]
    fn a_suite_red_on_the_base_and_green_with_the_change_is_fixed() {
        let verdict = judge(Some(&run(false)), Some(&run(true)), &[]);
        assert!(verdict.is_fixed(), "{verdict:?}");
    }

    #[test]
    fn a_reproduction_test_that_now_passes_is_fixed_only_without_regressions() {
        let repro = [("tests/test_issue_7.py".to_owned(), true)];
        assert_eq!(
            judge(Some(&run(true)), Some(&run(true)), &repro),
            Verdict::Fixed { by: vec!["tests/test_issue_7.py".into()] }
        );
        assert_eq!(judge(Some(&run(true)), Some(&run(false)), &repro), Verdict::TestsFail, "a regression");
    }

    #[test]
    fn a_reproduction_test_still_failing_is_tests_fail_even_with_a_green_suite() {
        let repro = [("tests/test_issue_7.py".to_owned(), false)];
        assert_eq!(judge(Some(&run(true)), Some(&run(true)), &repro), Verdict::TestsFail);
        // One example of the issue passes, another still fails: a partial change is not `fixed`.
        let partial = [("test_issue_7.py".to_owned(), true), ("test_issue_7_2.py".to_owned(), false)];
        assert_eq!(judge(Some(&run(true)), Some(&run(true)), &partial), Verdict::TestsFail);
        assert_eq!(judge(Some(&run(false)), Some(&run(true)), &partial), Verdict::TestsFail, "even with a suite fix");
    }

    #[test]
    fn a_suite_still_red_is_tests_fail() {
        assert_eq!(judge(Some(&run(false)), Some(&run(false)), &[]), Verdict::TestsFail);
    }

    #[test]
    fn no_tests_is_not_run_and_reproduction_tests_alone_can_show_a_fix() {
        assert!(matches!(judge(None, None, &[]), Verdict::TestsNotRun { .. }));
        assert!(matches!(judge(Some(&empty()), Some(&empty()), &[]), Verdict::TestsNotRun { .. }));
        assert!(judge(None, None, &[("t.js".into(), true)]).is_fixed());
        assert_eq!(judge(None, None, &[("t.js".into(), false)]), Verdict::TestsFail);
    }

    /// A run read test by test: `total` tests, these failing.
    fn read(passed: bool, total: usize, failing: &[&str]) -> SuiteRun {
        let results = TestResults { total, failing: failing.iter().map(|t| (*t).to_owned()).collect() };
        SuiteRun { results: Some(results), ..run(passed) }
    }

    #[test]
    fn read_test_by_test_a_repositorys_own_failure_stands_in_the_way_of_nothing() {
        let base = read(false, 5, &["t.py::test_network", "t.py::test_issue"]);
        // The issue's test passes, the unrelated one still fails: fixed by that test, the other named as still failing.
        let head = read(false, 5, &["t.py::test_network"]);
        assert_eq!(judge(Some(&base), Some(&head), &[]), Verdict::Fixed { by: vec!["t.py::test_issue".into()] });
        assert_eq!(suite_view(Some(&base), Some(&head)).still_failing, ["t.py::test_network"]);
        // Nothing changes: no regressions (and not tests fail, as the suite read whole would say).
        assert_eq!(judge(Some(&base), Some(&base), &[]), Verdict::NoRegressions);
        let with_repro = [("test_issue_3.py".to_owned(), true)];
        assert!(judge(Some(&base), Some(&base), &with_repro).is_fixed());
        // A test that passed breaks: tests fail, whatever else passes now.
        let broke = read(false, 5, &["t.py::test_network", "t.py::test_parse"]);
        assert_eq!(judge(Some(&base), Some(&broke), &with_repro), Verdict::TestsFail);
    }

    #[test]
    fn runs_that_cannot_be_matched_test_by_test_are_read_whole() {
        let base = read(false, 5, &["t.py::a"]);
        // Another count of tests (a collection error, a stopped run): the suite as a whole, still red, fails.
        assert_eq!(judge(Some(&base), Some(&read(false, 3, &[])), &[]), Verdict::TestsFail);
        assert_eq!(judge(Some(&base), Some(&run(false)), &[]), Verdict::TestsFail);
        assert!(judge(Some(&base), Some(&run(true)), &[]).is_fixed());
        // A regression test added to the suite: more tests, no new failure.
        let without = read(false, 5, &["t.py::a"]);
        assert!(read(false, 6, &["t.py::a"]).fails_no_more_than(&without));
        assert!(!read(false, 6, &["t.py::a", "test_issue_3.py::test_x"]).fails_no_more_than(&without));
        assert!(!run(false).fails_no_more_than(&without));
    }

    #[test]
    fn labels_and_keys() {
        assert_eq!(Verdict::NoRegressions.label(), "no regressions");
        assert_eq!(Verdict::TestsFail.key(), "tests_fail");
        let json = serde_json::to_string(&Verdict::Fixed { by: vec!["x".into()] }).unwrap();
        assert_eq!(json, r#"{"kind":"fixed","by":["x"]}"#);
    }
}
