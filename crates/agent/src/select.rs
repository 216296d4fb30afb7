//! Selection: run every candidate, group them by what they pass, and choose by agreement.
//!
//! Candidates that pass the same set of tests (the repository's suite, each reproduction test) form a group; a group
//! scores its size times the tests it passes (CodeT's dual execution agreement, as Agentless reranks patches). The
//! verdict ranks first, so a change that shows a fix beats one that merely breaks nothing; below `fixed` the tests
//! passed count before the score; ties go to the smaller diff. The search stops early once a candidate is fixed by a
//! test that existed before the issue, or once the leading group cannot be overtaken by the candidates still to come.

use crate::candidates::Candidate;
use crate::repo::compact_failure;
use crate::verdict::{SuiteRun, SuiteView, Verdict, judge, suite_view};
use crate::{Agent, AgentError, Search, candidates};

/// A candidate with its test results.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub candidate: Candidate,
    /// The repository's suite with the change, when there is a test command.
    pub suite: Option<SuiteRun>,
    /// Per reproduction test (in the order kept): passes with the change.
    pub reproductions: Vec<bool>,
    pub verdict: Verdict,
    /// What the suite shows against the base run.
    pub view: SuiteView,
    /// The first failing output with the change (suite, else a reproduction test), compacted; empty when all pass.
    pub failure: String,
    /// Every guard test (what the issue says stays as it is) passes with the change; true when there is none.
    pub guards_hold: bool,
}

impl Evaluated {
    pub fn new(
        candidate: Candidate,
        base: Option<&SuiteRun>,
        suite: Option<SuiteRun>,
        repro: &[(String, bool)],
    ) -> Self {
        let verdict = judge(base, suite.as_ref(), repro);
        let view = suite_view(base, suite.as_ref());
        Self {
            candidate,
            suite,
            reproductions: repro.iter().map(|(_, passed)| *passed).collect(),
            verdict,
            view,
            failure: String::new(),
            guards_hold: true,
        }
    }

    /// The same with the guard tests' result: a change that breaks what the issue says stays as it is shows no fix,
    /// whatever else it passes.
    pub fn guarded(mut self, hold: bool) -> Self {
        self.guards_hold = hold;
        if !hold && self.verdict.is_fixed() {
            self.verdict = Verdict::TestsFail;
        }
        self
    }

    /// The suite holds with the change (ran, nothing that passed on the base fails), when there is a suite.
    fn suite_holds(&self) -> Option<bool> {
        self.suite.as_ref().map(|_| self.view.ran && !self.view.regression)
    }

    /// The pass set: what the candidate's group is keyed by.
    fn signature(&self) -> (Option<bool>, Vec<String>, Vec<bool>, bool) {
        (self.suite_holds(), self.view.fail_to_pass.clone(), self.reproductions.clone(), self.guards_hold)
    }

    /// Tests passed: the suite counts as one when it holds, plus each of its fail-to-pass tests and each reproduction
    /// test that passes.
    pub fn passes(&self) -> usize {
        usize::from(self.suite_holds() == Some(true))
            + self.view.fail_to_pass.len()
            + self.reproductions.iter().filter(|p| **p).count()
    }

    /// A partial fix: not fixed, breaks nothing, and some test that fails on the base passes with it.
    pub fn is_partial(&self) -> bool {
        !self.verdict.is_fixed()
            && self.suite_holds() != Some(false)
            && (self.reproductions.iter().any(|p| *p) || !self.view.fail_to_pass.is_empty())
    }

    /// Fixed by the repository's own tests (a test red on the base passes now, nothing broke): no search can do
    /// better.
    pub fn fixed_by_existing_tests(&self) -> bool {
        self.verdict.is_fixed() && !self.view.fail_to_pass.is_empty()
    }
}

/// A group of candidates with one pass set.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Indexes into the evaluated list.
    pub members: Vec<usize>,
    pub passes: usize,
    pub score: usize,
    pub rank: u8,
}

/// The groups, best first: by verdict, then score and tests passed (for `fixed` groups score first, below it tests
/// passed first), then the smallest diff among their members.
pub fn groups(evaluated: &[Evaluated]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, e) in evaluated.iter().enumerate() {
        match groups.iter_mut().find(|g| evaluated[g.members[0]].signature() == e.signature()) {
            Some(group) => group.members.push(i),
            None => groups.push(Group { members: vec![i], passes: e.passes(), score: 0, rank: e.verdict.rank() }),
        }
    }
    for group in &mut groups {
        group.score = group.members.len() * group.passes;
    }
    let smallest = |g: &Group| g.members.iter().map(|&i| evaluated[i].candidate.diff_lines).min().unwrap_or(usize::MAX);
    // On a tied score the group that passes more tests wins: a greedy answer sampled again joins its own group, so
    // three copies passing one test tie with one change passing three (bench task 16, 2026-12-06: the variant that
    // fixes the bug lost that tie to a smaller wrong diff).
    // Below `fixed` no group shows the issue fixed, and agreement among changes that all fail something is weak
    // evidence: the change that passes more of the issue's tests is the better bet for the tests the issue implies
    // (bench task 05, 2026-12-06: four copies of one change passing 2 of 5 outranked a single one passing 3 of 5).
    let fixed_rank = (Verdict::Fixed { by: Vec::new() }).rank();
    groups.sort_by(|a, b| {
        let by_agreement = b.score.cmp(&a.score).then(b.passes.cmp(&a.passes));
        let by_passes = b.passes.cmp(&a.passes).then(b.score.cmp(&a.score));
        b.rank
            .cmp(&a.rank)
            .then(if a.rank >= fixed_rank { by_agreement } else { by_passes })
            .then(smallest(a).cmp(&smallest(b)))
    });
    groups
}

/// The chosen candidate: the smallest diff of the best group (the earliest on a tie).
pub fn choose(evaluated: &[Evaluated]) -> Option<usize> {
    let best = groups(evaluated).into_iter().next()?;
    best.members.into_iter().min_by_key(|&i| (evaluated[i].candidate.diff_lines, i))
}

/// Whether the search can stop with `remaining` candidates still allowed: a fix by a pre-existing test, or a
/// leading fixed group that no other group, nor a new one, could overtake even if every remaining candidate joined it.
///
/// Without a test that fails on the base (a green suite and no reproduction test), no candidate can be shown fixed:
/// the first that breaks nothing is as good as any later one, so that settles it too.
pub fn settled(evaluated: &[Evaluated], base: Option<&SuiteRun>, remaining: u32, reproductions: usize) -> bool {
    if evaluated.iter().any(Evaluated::fixed_by_existing_tests) {
        return true;
    }
    let groups = groups(evaluated);
    let Some(leader) = groups.first() else { return false };
    let base_red = base.is_some_and(|b| !b.passed && !b.empty);
    if !base_red && reproductions == 0 {
        return leader.rank >= Verdict::NoRegressions.rank();
    }
    if leader.rank < (Verdict::Fixed { by: Vec::new() }).rank() {
        return false;
    }
    let total_tests = most_passes(base, reproductions);
    let remaining = remaining as usize;
    let best_rival = groups[1..]
        .iter()
        .map(|g| (g.members.len() + remaining) * g.passes)
        .chain(std::iter::once(remaining * total_tests))
        .max()
        .unwrap_or(0);
    leader.score > best_rival
}

/// The most tests a candidate can pass ([`Evaluated::passes`]): the suite as one, each test that fails on the base
/// (a fail-to-pass test; the whole suite as one when its results cannot be read test by test), and each reproduction
/// test. Counting the base's failing tests keeps a progress line from reading "passes 9/8" (bench task 02, whose
/// repository has a failing test of its own).
pub fn most_passes(base: Option<&SuiteRun>, reproductions: usize) -> usize {
    let base_failing = base.map_or(0, |b| match &b.results {
        Some(results) => results.failing.len(),
        None => usize::from(!b.passed && !b.empty),
    });
    usize::from(base.is_some()) + base_failing + reproductions
}

impl Agent<'_> {
    /// Runs the repository's tests and every reproduction test with the candidate in place, then puts the worktree
    /// back as it was.
    pub(crate) async fn evaluate(&self, search: &Search<'_>, candidate: Candidate) -> Result<Evaluated, AgentError> {
        let snapshot = candidates::install(search.workdir, &candidate.files)?;
        let runs = self.run_candidate_tests(search).await;
        candidates::restore(search.workdir, &snapshot);
        let (suite, repro, guards_hold, failure) = runs?;
        let mut evaluated = Evaluated::new(candidate, search.base.as_ref(), suite, &repro).guarded(guards_hold);
        evaluated.failure = failure;
        Ok(evaluated)
    }

    async fn run_candidate_tests(
        &self,
        search: &Search<'_>,
    ) -> Result<(Option<SuiteRun>, Vec<(String, bool)>, bool, String), AgentError> {
        let mut failure = String::new();
        let suite = match &search.test_command {
            Some(command) => {
                let run = self.run_tests(search.workdir, command, &[]).await?.suite;
                if !run.passed {
                    failure = compact_failure(&run.output, 1200);
                }
                Some(run)
            }
            None => None,
        };
        let mut repro = Vec::new();
        if let Some(layout) = &search.layout {
            for test in &search.reproductions {
                // A part of a whole test that passed passes too: its statements are a subset of the whole's.
                if let Some(whole) = &test.part_of
                    && repro.iter().any(|(path, passed): &(String, bool)| path == whole && *passed)
                {
                    repro.push((test.path.clone(), true));
                    continue;
                }
                let _installed = test.install(search.workdir)?;
                let run = self.run_tests(search.workdir, &layout.command(&test.path), &layout.env()).await?;
                if !run.suite.passed && failure.is_empty() {
                    failure = compact_failure(&run.suite.output, 1000);
                }
                repro.push((test.path.clone(), run.suite.passed));
            }
        }
        let mut guards_hold = true;
        if let Some(layout) = &search.layout {
            for guard in &search.guards {
                let _installed = guard.install(search.workdir)?;
                let run = self.run_tests(search.workdir, &layout.command(&guard.path), &layout.env()).await?;
                if !run.suite.passed {
                    guards_hold = false;
                    if failure.is_empty() {
                        failure = format!(
                            "{} (what the issue says stays as it is) fails: {}",
                            guard.path,
                            compact_failure(&run.suite.output, 1000)
                        );
                    }
                }
            }
        }
        Ok((suite, repro, guards_hold, failure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(passed: bool) -> SuiteRun {
        SuiteRun { passed, empty: false, output: String::new(), timed_out: false, results: None }
    }

    fn candidate(number: u32, diff_lines: usize) -> Candidate {
        Candidate { number, origin: String::new(), files: vec![(format!("f{number}"), String::new())], diff_lines }
    }

    fn evaluated(number: u32, diff: usize, base: &SuiteRun, green: bool, repro: &[bool]) -> Evaluated {
        let repro: Vec<(String, bool)> = repro.iter().enumerate().map(|(i, p)| (format!("t{i}"), *p)).collect();
        Evaluated::new(candidate(number, diff), Some(base), Some(suite(green)), &repro)
    }

    #[test]
    fn the_group_that_agrees_most_wins_and_ties_go_to_the_smaller_diff() {
        let base = suite(true);
        let list = vec![
            evaluated(1, 4, &base, true, &[true, false]),
            evaluated(2, 9, &base, true, &[true, true]),
            evaluated(3, 2, &base, true, &[true, false]),
            evaluated(4, 7, &base, true, &[true, true]),
            evaluated(5, 1, &base, false, &[true, true]),
        ];
        // {2,4}: 2 members x 3 passes = 6 beats {1,3}: 2 x 2 = 4; 5 regresses the suite.
        assert_eq!(choose(&list), Some(3), "candidate 4 has the smaller diff of the winning group");
        let groups = groups(&list);
        assert_eq!((groups[0].score, groups[0].members.clone()), (6, vec![1, 3]));
        assert_eq!(groups.last().unwrap().rank, 0, "a regression ranks last");
    }

    #[test]
    fn on_a_tied_score_the_group_that_passes_more_tests_wins() {
        let base = suite(true);
        let list = vec![
            evaluated(1, 1, &base, true, &[false, false, false]),
            evaluated(2, 1, &base, true, &[false, false, false]),
            evaluated(3, 1, &base, true, &[false, false, false]),
            evaluated(4, 2, &base, true, &[true, true, false]),
        ];
        // 3 members x 1 pass (the suite) = 3 ties 1 x 3; the bigger diff passes two of the issue's three tests.
        assert_eq!(choose(&list), Some(3));
    }

    #[test]
    fn without_a_fix_the_change_that_passes_more_beats_a_bigger_group() {
        let base = suite(true);
        // Each still fails a reproduction test, so none is fixed: four copies pass 3 (the suite and two reproduction
        // tests), a single change passes 4.
        let mut list: Vec<Evaluated> =
            (1..=4).map(|n| evaluated(n, 1, &base, true, &[true, true, false, false])).collect();
        list.push(evaluated(5, 4, &base, true, &[true, true, true, false]));
        assert!(list.iter().all(|e| !e.verdict.is_fixed()));
        assert_eq!(choose(&list), Some(4), "4 x 3 = 12 outscores 1 x 4, but no group is fixed");
    }

    #[test]
    fn a_fix_beats_a_bigger_group_that_shows_nothing() {
        let base = suite(true);
        let list = vec![
            evaluated(1, 1, &base, true, &[false]),
            evaluated(2, 1, &base, true, &[false]),
            evaluated(3, 1, &base, true, &[false]),
            evaluated(4, 3, &base, true, &[true]),
        ];
        assert_eq!(choose(&list), Some(3));
        assert!(list[3].verdict.is_fixed());
    }

    #[test]
    fn the_search_stops_on_a_fix_by_an_existing_test_or_an_unbeatable_lead() {
        let red = suite(false);
        let fixed_by_suite = vec![evaluated(1, 1, &red, true, &[])];
        assert!(settled(&fixed_by_suite, Some(&red), 5, 0));
        let green = suite(true);
        let one = vec![evaluated(1, 1, &green, true, &[true, true])];
        assert!(!settled(&one, Some(&green), 5, 2), "5 more could form a bigger group");
        let four: Vec<Evaluated> = (1..=4).map(|n| evaluated(n, 1, &green, true, &[true, true])).collect();
        assert!(settled(&four, Some(&green), 2, 2), "4 x 3 = 12 > (0 + 2) x 3");
        let unfixed: Vec<Evaluated> = (1..=6).map(|n| evaluated(n, 1, &green, true, &[false])).collect();
        assert!(!settled(&unfixed, Some(&green), 1, 1), "no fix yet: keep looking");
        let nothing_can_show_a_fix = vec![evaluated(1, 1, &green, true, &[])];
        assert!(settled(&nothing_can_show_a_fix, Some(&green), 5, 0), "green before, no reproduction test");
        let broken = vec![evaluated(1, 1, &green, false, &[])];
        assert!(!settled(&broken, Some(&green), 5, 0), "a regression is worth another try");
    }

    #[test]
    fn with_an_unrelated_failing_test_the_candidate_that_passes_the_issues_test_wins_and_settles() {
        let read = |failing: &[&str]| SuiteRun {
            passed: false,
            results: Some(crate::outcomes::TestResults {
                total: 4,
                failing: failing.iter().map(|t| (*t).to_owned()).collect(),
            }),
            ..suite(false)
        };
        let base = read(&["test_net", "test_issue"]);
        let list = vec![
            Evaluated::new(candidate(1, 1), Some(&base), Some(read(&["test_net", "test_issue"])), &[]),
            Evaluated::new(candidate(2, 5), Some(&base), Some(read(&["test_net"])), &[]),
            Evaluated::new(candidate(3, 1), Some(&base), Some(read(&["test_net", "test_other"])), &[]),
        ];
        assert_eq!(list[0].verdict, Verdict::NoRegressions, "still red, but only where it was red before");
        assert_eq!(list[2].verdict, Verdict::TestsFail);
        assert_eq!(choose(&list), Some(1));
        assert!(settled(&list, Some(&base), 3, 0), "fixed by a test that existed before");
    }

    #[test]
    fn no_candidate_passes_more_tests_than_the_most_there_are() {
        let red = SuiteRun {
            passed: false,
            results: Some(crate::outcomes::TestResults { total: 3, failing: ["test_a".to_owned()].into() }),
            ..suite(false)
        };
        let green_read = SuiteRun {
            passed: true,
            results: Some(crate::outcomes::TestResults { total: 3, failing: Default::default() }),
            ..suite(true)
        };
        let fixed = Evaluated::new(candidate(1, 1), Some(&red), Some(green_read), &[("t0".to_owned(), true)]);
        assert_eq!(fixed.passes(), 3, "the suite, its fail-to-pass test and the reproduction test");
        assert_eq!(most_passes(Some(&red), 1), 3);
        let whole = Evaluated::new(candidate(2, 1), Some(&suite(false)), Some(suite(true)), &[]);
        assert_eq!((whole.passes(), most_passes(Some(&suite(false)), 0)), (2, 2), "a red suite read as a whole");
        assert_eq!(most_passes(Some(&suite(true)), 2), 3);
        assert_eq!(most_passes(None, 2), 2);
    }
}
