//! The verdict: what the tests show about a change, and nothing more.
//!
//! `fixed` needs a fail-to-pass test: one that fails on the base commit and passes with the change, while every test
//! that passed on the base still passes. Tests that passed before and after prove nothing about the issue, so a
//! change with only those is `no regressions`, never `fixed`. The rule is applied here and nowhere else; the worker,
//! the pull request, the dashboard and the bench read the result.

use crate::select::{self, Evaluated};
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Search, candidates};
use serde::{Deserialize, Serialize};

/// What the tests show about the chosen change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// A test that failed on the base commit passes with the change, and nothing that passed breaks. `by` names the
    /// fail-to-pass tests: the repository's test command, or the reproduction test files written from the issue.
    Fixed { by: Vec<String> },
    /// The repository's tests pass before and after; no test shows the issue fixed.
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
}

impl SuiteRun {
    /// Passed with at least one test collected.
    pub fn green(&self) -> bool {
        self.passed && !self.empty
    }
}

/// The verdict for a change, from the base run of the repository's tests, the run with the change, and for each
/// reproduction test (each failed on the base commit, or it would not have been kept) its name and whether it passes
/// with the change.
pub fn judge(base: Option<&SuiteRun>, head: Option<&SuiteRun>, reproductions: &[(String, bool)]) -> Verdict {
    match (base, head) {
        (Some(base), Some(head)) if head.empty && base.empty && reproductions.is_empty() => {
            Verdict::TestsNotRun { reason: "the test command collected no tests".into() }
        }
        // Something that passed on the base breaks with the change (the whole suite is the unit: a suite green on
        // the base and red with the change has a regression).
        (Some(base), Some(head)) if base.green() && !head.green() => Verdict::TestsFail,
        (_, Some(head)) if !head.green() && !head.empty => Verdict::TestsFail,
        _ => {
            let mut by = Vec::new();
            // A suite that failed on the base and passes whole with the change: its failing tests are fail-to-pass.
            if let (Some(base), Some(head)) = (base, head)
                && !base.passed
                && !base.empty
                && head.green()
            {
                by.push("the repository's tests".to_owned());
            }
            by.extend(reproductions.iter().filter(|(_, passed)| *passed).map(|(name, _)| name.clone()));
            if !by.is_empty() {
                return Verdict::Fixed { by };
            }
            if !reproductions.is_empty() && head.is_none_or(|h| h.empty) {
                // Only reproduction tests ran, and none passes.
                return Verdict::TestsFail;
            }
            match head {
                Some(head) if head.green() => {
                    if reproductions.is_empty() {
                        Verdict::NoRegressions
                    } else {
                        // The suite is fine but the issue's own examples still fail.
                        Verdict::TestsFail
                    }
                }
                _ => Verdict::TestsNotRun { reason: "no test command was configured or detected".into() },
            }
        }
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
        candidates::install(search.workdir, &chosen.candidate.files)?;
        outcome.changed_files = chosen.candidate.files.iter().map(|(p, _)| p.clone()).collect();
        outcome.tests_ran = chosen.suite.as_ref().is_some_and(|s| !s.empty);
        outcome.test_output_tail = chosen.failure.clone();
        outcome.verdict = chosen.verdict.clone();
        let showing =
            search.reproductions.iter().zip(&chosen.reproductions).find(|(_, passed)| **passed).map(|(t, _)| t);
        if let (true, Some(test), Verdict::Fixed { .. }) = (self.settings.add_regression_test, showing, &chosen.verdict)
        {
            let installed = test.install(search.workdir)?;
            let suite_ok = match &search.test_command {
                Some(command) => {
                    on_event(AgentEvent::Running { what: format!("the tests with the change and {}", test.path) });
                    let run = self.run_tests(search.workdir, command, &[]).await?.suite;
                    run.green() || run.empty
                }
                None => true,
            };
            if suite_ok {
                installed.keep();
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
        SuiteRun { passed, empty: false, output: String::new(), timed_out: false }
    }

    fn empty() -> SuiteRun {
        SuiteRun { passed: false, empty: true, output: String::new(), timed_out: false }
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

    #[test]
    fn labels_and_keys() {
        assert_eq!(Verdict::NoRegressions.label(), "no regressions");
        assert_eq!(Verdict::TestsFail.key(), "tests_fail");
        let json = serde_json::to_string(&Verdict::Fixed { by: vec!["x".into()] }).unwrap();
        assert_eq!(json, r#"{"kind":"fixed","by":["x"]}"#);
    }
}
