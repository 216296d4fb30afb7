//! Guard tests: what the issue says must stay as it is, checked on every candidate.
//!
//! A reproduction test is kept only when it fails on the base commit, so it checks what the issue asks to change and
//! nothing of what the issue asks to keep (bench task 08, 2026-12-06: the issue says junk such as `"1h30"` should
//! still raise `ValueError`; the 16th candidate summed every unit it found, passed all five reproduction tests, was
//! claimed `fixed`, and accepted `"1h30"`). When the issue says something keeps working or is still rejected, one
//! more greedy sample asks for a test of just that. It is kept only when it passes on the base commit (it states what
//! the code does now) and none of its checks repeats an output the issue pasted (that shows the bug).
//!
//! A candidate that fails a kept guard cannot be `fixed`. Guards do not count as tests passed in selection and do not
//! ship, so a guard that is wrong costs a claim and search time, never the choice of change.

use crate::reproduce::{Framework, Layout, ReproTest};
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Call, Search, grounding, imports, reproduce};

/// Phrases with which an issue says that some behaviour stays as it is (compared in lowercase).
const KEEP_PHRASES: &[&str] = &[
    "keep working",
    "keeps working",
    "still work",
    "should still",
    "must still",
    "still raise",
    "still reject",
    "still return",
    "still throw",
    "still fail",
    "still be an error",
    "still be errors",
    "continue to work",
    "work today",
    "works today",
    "already work",
    "as before",
    "don't want to break",
    "do not want to break",
    "without breaking",
    "must not change",
    "should not change",
];

/// The index of a guard's file among the reproduction test paths: past any test kept, before the probes' (98).
const GUARD_INDEX: usize = 90;

/// Guards at most when the model's test is split into its checks: each is one more test run per candidate (about
/// 0.2 s for a Python test on the host).
const MAX_GUARD_PARTS: usize = 6;

/// Whether the issue says some behaviour stays as it is: the cue for a guard sample.
pub fn asks_to_keep(issue: &str) -> bool {
    let issue = issue.to_lowercase();
    KEEP_PHRASES.iter().any(|phrase| issue.contains(phrase))
}

/// What to ask the model for, or `None` for a framework without guards (a Rust test is one more compile for every
/// candidate).
pub fn request(framework: &Framework) -> Option<String> {
    let rejected = match framework {
        Framework::Pytest => "`with pytest.raises(TheError):` around the call (and `import pytest`)",
        Framework::Unittest => "`with self.assertRaises(TheError):` around the call",
        Framework::NodeTest | Framework::Jest => "`assert.throws(() => theCall(...))`",
        Framework::Cargo { .. } => return None,
    };
    let (language, checks, fence) = match framework {
        Framework::NodeTest | Framework::Jest => ("JavaScript", "assert.deepStrictEqual lines", "js"),
        _ => ("Python", "`assert` lines", "python"),
    };
    Some(format!(
        "The issue also says what must stay as it is. Write a short {language} test of only that: the import lines \
         for the code above and {checks} for the inputs the issue says work today or must keep working, with the \
         results they give now, and for inputs it says must still be rejected, {rejected}. Nothing the issue asks to \
         change. Reply with only the code in one ```{fence} block."
    ))
}

impl Agent<'_> {
    /// One greedy sample of a guard test when the issue says something stays as it is. Returned when it runs and
    /// passes on the base commit; when it does not (a small model mixes in a check of what the issue asks to change),
    /// each of its checks alone that passes there. Events say what was kept and why a sample was not.
    pub(crate) async fn guard(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        issue: u64,
        prompt_prefix: &str,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<ReproTest>, AgentError> {
        let Some(request) = request(&layout.framework) else { return Ok(Vec::new()) };
        if !asks_to_keep(search.issue_text) {
            return Ok(Vec::new());
        }
        let call = Call { round: 0, purpose: "guard test", temperature: 0.0, seed: 7, max_tokens: 300 };
        let reply = self.ask(call, format!("{prompt_prefix}\n{request}"), outcome, on_event).await?;
        let path = layout.path(issue, GUARD_INDEX);
        let mut code = reproduce::follow_src_imports(&reproduce::code_of_reply(&reply), search.files);
        if matches!(layout.framework, Framework::NodeTest | Framework::Jest) {
            code = reproduce::follow_js_requires(&code, search.files);
        }
        if matches!(layout.framework, Framework::Pytest | Framework::Unittest) {
            code = imports::add_missing_imports(&reproduce::without_prompts(&code), search.files, search.issue_text);
        }
        let not_kept = |detail: &str| AgentEvent::Reproduction {
            path: path.clone(),
            kept: false,
            detail: format!("guard of what the issue keeps: {detail}"),
        };
        if grounding::echoes_any(&code, search.issue_text) {
            on_event(not_kept("it expects an output the issue pasted, which is what the bug does"));
            return Ok(Vec::new());
        }
        let Some(wrapped) = layout.wrap(issue, &path, &code) else {
            on_event(not_kept("the reply checked nothing"));
            return Ok(Vec::new());
        };
        if search.files.iter().any(|f| f.path == path) {
            on_event(not_kept("a file of that name exists"));
            return Ok(Vec::new());
        }
        let test = ReproTest {
            path: path.clone(),
            code: wrapped,
            assertions: code,
            base_output: String::new(),
            part_of: None,
        };
        if let (codingworker_sandbox::Executor::Host(_), Some(detail)) =
            (self.executor, crate::host::refuse_test(&test.code, search.files))
        {
            on_event(not_kept(&detail));
            return Ok(Vec::new());
        }
        on_event(AgentEvent::Running { what: format!("guard test {path} on the base commit") });
        let (_, passed) = self.run_alone(search, layout, &test).await?;
        let kept = if passed { vec![test] } else { self.passing_parts(search, layout, issue, &test).await? };
        if kept.is_empty() {
            on_event(not_kept("neither it nor any of its checks alone passes on the base commit"));
        }
        for guard in &kept {
            on_event(AgentEvent::Reproduction {
                path: guard.path.clone(),
                kept: true,
                detail: "guard of what the issue keeps: passes on the base commit, and a candidate that fails it is \
                         not fixed"
                    .into(),
            });
        }
        Ok(kept)
    }

    /// The checks of `test` that pass alone on the base commit, each as a test of its own.
    async fn passing_parts(
        &self,
        search: &Search<'_>,
        layout: &Layout,
        issue: u64,
        test: &ReproTest,
    ) -> Result<Vec<ReproTest>, AgentError> {
        let mut kept = Vec::new();
        for (i, piece) in
            crate::parts::split_at_most(&layout.framework, &test.assertions, MAX_GUARD_PARTS).into_iter().enumerate()
        {
            let path = layout.path(issue, GUARD_INDEX + 1 + i);
            let Some(code) = layout.wrap(issue, &path, &piece) else { continue };
            if search.files.iter().any(|f| f.path == path) {
                continue;
            }
            let part = ReproTest { path, code, assertions: piece, base_output: String::new(), part_of: None };
            if self.run_alone(search, layout, &part).await?.1 {
                kept.push(part);
            }
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issue_that_says_what_stays_asks_for_a_guard() {
        assert!(asks_to_keep("Single units work today and should keep working; junk should still raise ValueError."));
        assert!(asks_to_keep("Things like \"1..2\" should still be errors."));
        assert!(asks_to_keep("I don't want to break the links that already work"));
        assert!(!asks_to_keep("parse_duration rejects compound durations like \"1h30m\""));
        assert!(!asks_to_keep("--tail 0 should print nothing, like tail -n 0."));
    }

    #[test]
    fn the_request_names_the_frameworks_check_for_a_rejection_and_rust_has_none() {
        assert!(request(&Framework::Pytest).unwrap().contains("pytest.raises"));
        assert!(request(&Framework::Unittest).unwrap().contains("self.assertRaises"));
        assert!(request(&Framework::NodeTest).unwrap().contains("assert.throws"));
        assert!(request(&Framework::Cargo { crate_name: "x".into() }).is_none());
    }
}
