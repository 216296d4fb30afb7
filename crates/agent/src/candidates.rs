//! Candidates: several changes for one issue, each written from the same cached prompt.
//!
//! A small model is weak in one shot but often right in one of several: the first candidate is greedy in the
//! configured edit format, the second greedy in the other format (a differently shaped answer), then samples at a
//! higher temperature alternate the formats, and up to two revisions are asked for with test output: one that builds
//! on a partial fix (some of the issue's tests pass with it, nothing breaks; the reply applies on top of it), else
//! the best failing candidate written again differently. Every prompt starts with the same bytes (system prompt,
//! code, failing output, reproduction tests, issue) and differs only in its closing request, so the server's prefix
//! cache serves all but the first and a sample costs its output tokens.
//!
//! A candidate is applied to the worktree only long enough to capture the files it produces; the worktree is put
//! back byte for byte before the next one, so every candidate starts from the base commit (or, for a revision
//! that builds on a partial fix, from that fix).

use std::path::Path;

use crate::EditFormat;
use crate::edits::{Edit, apply_edit, parse_edits};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use codingworker_llm::LlmClient;

use crate::select::{self, Evaluated};
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Call, Search, first_path, repo, resolve_path};

/// Temperature of the sampled candidates: varied enough to give a small model's other answers, low enough that they
/// stay on topic (0.7-0.8 is what CodeT and Agentless sample at).
pub const SAMPLE_TEMPERATURE: f32 = 0.8;

/// How the `index`-th candidate (0-based) is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub temperature: f32,
    pub format: EditFormat,
    pub seed: u64,
    /// Ask again with the best failing candidate and its test output.
    pub revise: bool,
}

impl Plan {
    /// Greedy in the configured format, greedy in the other (`alternate`), one revision, then samples alternating
    /// formats, with a second revision at index [`BUILD_ON_AGAIN`] (a sample unless a partial fix is there to build
    /// on). `base_temperature` is the configured one (a retried attempt samples hotter).
    pub fn nth(index: u32, primary: EditFormat, alternate: EditFormat, base_temperature: f32) -> Plan {
        let (temperature, format, revise) = match index {
            0 => (base_temperature, primary, false),
            1 => (base_temperature, alternate, false),
            2 | BUILD_ON_AGAIN => (base_temperature, primary, true),
            n if n % 2 == 1 => (SAMPLE_TEMPERATURE.max(base_temperature), primary, false),
            _ => (SAMPLE_TEMPERATURE.max(base_temperature), alternate, false),
        };
        Plan { temperature, format, seed: 42 + u64::from(index), revise }
    }

    pub fn describe(&self) -> String {
        let kind = if self.revise {
            "revision"
        } else if self.temperature == 0.0 {
            "greedy"
        } else {
            "sample"
        };
        format!("{kind}, {:?}, temperature {:.1}", self.format, self.temperature)
    }
}

/// The plan index of the second revision: after two samples of each format, time for a partial fix among them to
/// be built on.
pub const BUILD_ON_AGAIN: u32 = 6;

/// One candidate change: the files it writes, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// 1-based, in the order generated.
    pub number: u32,
    pub origin: String,
    /// Repository path and new contents of every file it changes.
    pub files: Vec<(String, String)>,
    /// Lines added plus removed against the base: the tie-break (smaller wins).
    pub diff_lines: usize,
}

/// Files with their whole new contents, and the problems met on the way (edits refused or not applicable).
pub type Captured = (Vec<(String, String)>, Vec<String>);

/// The edits of `reply` applied to the worktree, their result captured, and the worktree restored. Edits to
/// `frozen` paths (tests, reproduction tests) are refused with a reason; with `keep_inline_tests`, so is a source
/// file whose inline tests ([`inline_tests_kept`]) lose or change a line. `Err` when nothing usable came of it.
pub fn capture(
    workdir: &Path,
    reply: &str,
    shown: &[(String, String)],
    frozen: &dyn Fn(&Edit) -> Option<String>,
    resolve: &dyn Fn(&Edit) -> Edit,
    keep_inline_tests: bool,
) -> Result<Captured, String> {
    let edits = parse_edits(reply, shown);
    if edits.is_empty() {
        return Err("the reply contained no edit in either format".into());
    }
    let mut problems = Vec::new();
    let mut snapshot: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    for edit in &edits {
        let edit = resolve(edit);
        if let Some(reason) = frozen(&edit) {
            problems.push(reason);
            continue;
        }
        let path = edit.path().to_owned();
        if !snapshot.iter().any(|(p, _)| *p == path) {
            snapshot.push((path.clone(), std::fs::read(workdir.join(&path)).ok()));
        }
        match apply_edit(workdir, &edit) {
            Ok(applied) => {
                if !touched.contains(&applied) {
                    touched.push(applied);
                }
            }
            Err(rejection) => problems.push(format!("{}: {}", rejection.path, rejection.reason)),
        }
    }
    let mut changed = Vec::new();
    for path in &touched {
        let before = snapshot.iter().find(|(p, _)| p == path).and_then(|(_, b)| b.as_deref());
        let after = crate::textfile::read_text(&workdir.join(path)).unwrap_or_default();
        // A file rewritten to what it was, give or take trailing whitespace, is not a change.
        let before = before.and_then(|b| crate::textfile::decode(b).ok()).map(|f| f.text);
        let same = before.as_deref().is_some_and(|b| normalized(b) == normalized(&after));
        if same {
            continue;
        }
        if keep_inline_tests && before.as_deref().is_some_and(|b| !inline_tests_kept(b, &after)) {
            problems.push(format!(
                "{path}: the change edits or removes the file's own tests; tests decide whether the fix works, so \
                 they are not edited unless the issue asks"
            ));
            continue;
        }
        changed.push((path.clone(), after));
    }
    restore(workdir, &snapshot);
    if changed.is_empty() {
        if problems.is_empty() {
            problems.push("the edits left every file as it was".into());
        }
        return Err(problems.join("; "));
    }
    Ok((changed, problems))
}

/// Puts files back as they were (`None`: the file did not exist).
pub fn restore(workdir: &Path, snapshot: &[(String, Option<Vec<u8>>)]) {
    for (path, bytes) in snapshot {
        let full = workdir.join(path);
        let _ = match bytes {
            Some(bytes) => std::fs::write(&full, bytes),
            None => std::fs::remove_file(&full),
        };
    }
}

/// Writes a candidate's files into the worktree and returns what they were, for [`restore`].
pub fn install(workdir: &Path, files: &[(String, String)]) -> std::io::Result<Vec<(String, Option<Vec<u8>>)>> {
    let mut snapshot = Vec::new();
    for (path, content) in files {
        let full = workdir.join(path);
        snapshot.push((path.clone(), std::fs::read(&full).ok()));
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::textfile::write_text(&full, content).map_err(std::io::Error::other)?;
    }
    Ok(snapshot)
}

/// Lines added plus removed, by a line-multiset difference (enough to rank small changes).
pub fn diff_lines(workdir: &Path, files: &[(String, String)]) -> usize {
    files
        .iter()
        .map(|(path, new)| {
            let old = crate::textfile::read_text(&workdir.join(path)).unwrap_or_default();
            let mut counts: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
            for line in old.lines() {
                *counts.entry(line.trim_end()).or_default() += 1;
            }
            for line in new.lines() {
                *counts.entry(line.trim_end()).or_default() -= 1;
            }
            counts.values().map(|v| v.unsigned_abs() as usize).sum::<usize>()
        })
        .sum()
}

/// A compact unified-style view of a candidate for a revision prompt: the changed lines only.
pub fn sketch(workdir: &Path, files: &[(String, String)]) -> String {
    let mut out = String::new();
    for (path, new) in files {
        let old = crate::textfile::read_text(&workdir.join(path)).unwrap_or_default();
        let old_lines: std::collections::HashSet<&str> = old.lines().map(str::trim_end).collect();
        let new_lines: std::collections::HashSet<&str> = new.lines().map(str::trim_end).collect();
        out.push_str(&format!("{path}\n"));
        for line in old.lines().filter(|l| !new_lines.contains(l.trim_end())) {
            out.push_str(&format!("- {line}\n"));
        }
        for line in new.lines().filter(|l| !old_lines.contains(l.trim_end())) {
            out.push_str(&format!("+ {line}\n"));
        }
    }
    out
}

/// Whether every file of a change existed and differs from what it was only in comments, trailing whitespace or
/// blank lines. Leading whitespace counts: in Python it is code.
pub fn only_comments_changed(workdir: &Path, files: &[(String, String)]) -> bool {
    !files.is_empty()
        && files.iter().all(|(path, new)| {
            crate::textfile::read_text(&workdir.join(path))
                .is_some_and(|old| without_comments(path, &old) == without_comments(path, new))
        })
}

/// An issue about comments or their spelling, where a comment-only change is the fix.
fn mentions_comments(issue: &str) -> bool {
    let lower = issue.to_lowercase();
    ["comment", "typo", "spelling", "misspell"].iter().any(|w| lower.contains(w))
}

/// The lines of `text` with line comments cut off (`#` in Python and shell-like files, `//` elsewhere; not inside a
/// string), trailing whitespace trimmed and blank lines dropped.
fn without_comments(path: &str, text: &str) -> Vec<String> {
    let hash = [".py", ".pyi", ".sh", ".rb", ".pl", ".r", ".toml", ".yaml", ".yml", ".cfg", ".ini"]
        .iter()
        .any(|ext| path.to_lowercase().ends_with(ext));
    text.lines()
        .map(|line| {
            line[..repo::scan_line(line, hash, !hash, usize::MAX).0.unwrap_or(line.len())].trim_end().to_owned()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// Lines around a candidate's changes as its files now read (three lines of context, overlapping runs merged, `...`
/// between runs), each file in a fenced block under its path.
pub fn excerpt(workdir: &Path, files: &[(String, String)]) -> String {
    const CONTEXT: usize = 3;
    let mut out = String::new();
    for (path, new) in files {
        let old = crate::textfile::read_text(&workdir.join(path)).unwrap_or_default();
        let old_lines: HashSet<&str> = old.lines().map(str::trim_end).collect();
        let lines: Vec<&str> = new.lines().collect();
        let mut shown = vec![false; lines.len()];
        for (i, line) in lines.iter().enumerate() {
            if !old_lines.contains(line.trim_end()) {
                let end = (i + CONTEXT + 1).min(lines.len());
                shown[i.saturating_sub(CONTEXT)..end].iter_mut().for_each(|s| *s = true);
            }
        }
        out.push_str(&format!("{path}\n```\n"));
        let mut gap = false;
        for (line, shown) in lines.iter().zip(&shown) {
            if *shown {
                if gap {
                    out.push_str("...\n");
                }
                out.push_str(line);
                out.push('\n');
                gap = false;
            } else {
                gap = true;
            }
        }
        out.push_str("```\n");
    }
    out
}

/// Whether every line of `before`'s inline tests is still in `after`'s, in order (blank lines aside): tests may be
/// added, none changed or removed. Inline tests are Rust's `#[cfg(test)] mod ... { ... }`, to its closing brace;
/// a `#[cfg(test)]` on anything else (an import) is not a test. On bench task 12 (2026-12-07) the shipped candidate
/// rewrote the assertion of `src/lib.rs`'s `orders_numerically` to the value the issue reports as the bug.
pub fn inline_tests_kept(before: &str, after: &str) -> bool {
    let mut after = inline_tests(after).into_iter();
    inline_tests(before).into_iter().all(|line| after.any(|l| l == line))
}

/// The trimmed, non-blank lines of every `#[cfg(test)]` module of `text`, attribute to closing brace.
fn inline_tests(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let module = lines[i].starts_with("#[cfg(test)]")
            && lines.get(i + 1).is_some_and(|l| l.starts_with("mod ") || l.starts_with("pub mod "));
        if !module {
            i += 1;
            continue;
        }
        // `mod tests;` keeps its tests in another file: the module here is the attribute and that line.
        if lines[i + 1].ends_with(';') {
            out.extend_from_slice(&lines[i..i + 2]);
            i += 2;
            continue;
        }
        // From the `mod` line to the one that closes its brace (braces in a test's strings are rare; one there
        // moves the end by a few lines).
        let mut depth = 0i64;
        let body = lines[i + 1..].iter().position(|line| {
            depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            line.contains('}') && depth <= 0
        });
        let end = body.map_or(lines.len(), |at| i + 1 + at + 1);
        out.extend_from_slice(&lines[i..end]);
        i = end;
    }
    out
}

/// Text with trailing whitespace removed from every line and from the end.
pub fn normalized(text: &str) -> String {
    text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_owned()
}

/// The file the `index`-th candidate's request names. A small model edits the file the request names (bench task
/// 23, 2026-12-04: all ten candidates edited `src/index.js`, the first file shown, while the bug sat in
/// `src/options.js`), so with several source files shown, every other sample names the next of the others in turn;
/// the greedy pair, the revision and the odd samples keep the first, the most likely one.
pub fn target_path(shown: &[(String, String)], index: u32) -> &str {
    let sources: Vec<&str> =
        shown.iter().map(|(path, _)| path.as_str()).filter(|path| !repo::is_test_path(path)).collect();
    if index < 4 || index % 2 == 1 || sources.len() < 2 {
        return first_path(shown);
    }
    let others = sources.len() - 1;
    sources[1 + ((index as usize - 4) / 2) % others]
}

/// The progress line of the last candidate run (`place`: its place among its kind, see `AgentEvent::Candidate`),
/// with the leading group.
pub(crate) fn progress(
    search: &Search<'_>,
    evaluated: &[Evaluated],
    place: String,
    duplicate_of: Option<u32>,
) -> Option<AgentEvent> {
    let last = evaluated.last()?;
    let (leading_passes, leading_size) =
        select::groups(evaluated).first().map_or((0, 0), |g| (g.passes, g.members.len()));
    Some(AgentEvent::Candidate {
        number: last.candidate.number,
        place,
        origin: last.candidate.origin.clone(),
        files: last.candidate.files.iter().map(|f| f.0.clone()).collect(),
        verdict: last.verdict.label(),
        passes: last.passes(),
        total_tests: search.total_tests(),
        duplicate_of,
        reproduction_tests: crate::reproduce::samples(&search.reproductions),
        leading_passes,
        leading_size,
    })
}

/// Why a search stopped before its maximum when the leader is settled.
const SETTLED: &str = "the leading candidate cannot be overtaken by the candidates still allowed";

impl Agent<'_> {
    /// Generates and runs candidates until the budget, the maximum, or a settled choice. `evaluated` holds the
    /// candidates of an earlier part of the search (run against the current tests), `start` the plan index to go
    /// on from (0 for a new search).
    pub(crate) async fn search(
        &self,
        search: &Search<'_>,
        started: Instant,
        mut evaluated: Vec<Evaluated>,
        start: u32,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<Evaluated>, AgentError> {
        let shown_tokens: u32 = search.shown.iter().map(|(_, text)| LlmClient::estimate_tokens(text)).sum();
        let primary = self.settings.edit_format;
        let alternate = primary.alternate(shown_tokens);
        let max = self.settings.max_candidates.max(1);
        // Past `max`, samples go on only while nothing is fixed (see `AgentSettings::extra_candidates`).
        let limit = max + self.settings.extra_candidates;
        let remaining = max.saturating_sub(start);
        if !evaluated.is_empty()
            && select::settled(&evaluated, search.base.as_ref(), remaining, search.reproductions.len())
        {
            on_event(AgentEvent::SearchStopped { reason: SETTLED.into() });
            return Ok(evaluated);
        }
        let mut seen_prompts: HashSet<String> = HashSet::new();
        let mut last_problem = String::from("the model's reply contained no edit");
        let resolve = |edit: &Edit| resolve_path(edit, search.files, &search.shown);
        let frozen = |edit: &Edit| search.frozen(edit);
        // What a candidate cost, its model call and its test run: a suite with a hanging test spends its per-test limit on
        // every run (a new user's repository, 2026-12-06: counting the call alone, the search stopped at "-1 s left").
        let mut candidate_secs: Vec<f64> = Vec::new();
        let mut variants_tried = false;
        // Times each change (by [`change_key`]: a duplicate is the same change) has been built on.
        let mut built_on: HashMap<u64, u32> = HashMap::new();
        for index in start..limit {
            if index >= max && evaluated.iter().any(|e| e.verdict.is_fixed()) {
                break;
            }
            // A call that would end past the budget is not started: the budget is what the user waits.
            let typical = mean(&candidate_secs);
            let remaining = self.settings.search_budget.as_secs_f64() - started.elapsed().as_secs_f64();
            if remaining < typical && (!evaluated.is_empty() || index >= 2) {
                on_event(AgentEvent::SearchStopped {
                    reason: format!(
                        "the search budget of {} s is spent ({remaining:.0} s left, a candidate takes about {typical:.0} s)",
                        self.settings.search_budget.as_secs()
                    ),
                });
                break;
            }
            let mut plan = Plan::nth(index, primary, alternate, self.settings.temperature);
            // A partial fix not yet built on is built on next, whatever the plan says: it is nearer a fix than any
            // fresh sample (bench task 07, 2026-12-06: a revision passed 3 of 5 tests and four samples followed
            // before the plan's second revision). Its second try samples: greedy would repeat the first.
            if index >= 2
                && let Some(times) = partial_to_build_on(&evaluated, &built_on).map(|p| built_on_times(&built_on, p))
            {
                let temperature = if times == 0 {
                    self.settings.temperature
                } else {
                    SAMPLE_TEMPERATURE.max(self.settings.temperature)
                };
                plan = Plan { revise: true, temperature, ..plan };
            }
            let revision = plan.revise.then(|| revision(&evaluated, &built_on, index)).flatten();
            if plan.revise && revision.is_none() {
                // Nothing to revise yet: one more sample instead.
                plan = Plan { revise: false, temperature: SAMPLE_TEMPERATURE, ..plan };
            }
            let mut prompt = format!("{}{}", search.prefix, plan.format.request(target_path(&search.shown, index)));
            let mut base_files: Vec<(String, String)> = Vec::new();
            if let Some(revision) = &revision {
                prompt.push_str(&revision.request(search.workdir));
                if let Revision::BuildOn(partial) = revision {
                    *built_on.entry(change_key(partial)).or_default() += 1;
                    base_files = partial.candidate.files.clone();
                }
            }
            if plan.temperature == 0.0 && !seen_prompts.insert(prompt.clone()) {
                // Greedy decoding answers the same request the same way: asking again only costs time.
                continue;
            }
            outcome.candidates += 1;
            let number = outcome.candidates;
            let call = Call {
                round: number,
                purpose: "candidate",
                temperature: plan.temperature,
                seed: plan.seed,
                max_tokens: plan.format.max_tokens(shown_tokens),
            };
            let asked = Instant::now();
            let reply = self.ask(call, prompt, outcome, on_event).await?;
            let (files, _problems) = match capture_on(search.workdir, &base_files, &reply, search, &frozen, &resolve) {
                Ok(captured) => captured,
                Err(problem) => {
                    candidate_secs.push(asked.elapsed().as_secs_f64());
                    on_event(AgentEvent::EditRejected { round: number, reason: problem.clone() });
                    last_problem = problem;
                    continue;
                }
            };
            if let (codingworker_sandbox::Executor::Host(_), Some(reason)) =
                (self.executor, crate::host::refuse_change(search.workdir, &files))
            {
                candidate_secs.push(asked.elapsed().as_secs_f64());
                on_event(AgentEvent::EditRejected { round: number, reason: reason.clone() });
                last_problem = reason;
                continue;
            }
            if only_comments_changed(search.workdir, &files) && !mentions_comments(search.issue_text) {
                // A do-nothing change passes whatever passed before and would ship as a `no regressions` draft
                // (a new user's run, 2026-12-06: the chosen change deleted a comment).
                candidate_secs.push(asked.elapsed().as_secs_f64());
                let reason = "the change alters only comments or blank lines, so it cannot change what the code does";
                on_event(AgentEvent::EditRejected { round: number, reason: reason.into() });
                last_problem = reason.into();
                continue;
            }
            let origin = match &revision {
                Some(Revision::BuildOn(partial)) => {
                    format!("{}, on candidate {}", plan.describe(), partial.candidate.number)
                }
                _ => plan.describe(),
            };
            let candidate = Candidate { number, origin, diff_lines: diff_lines(search.workdir, &files), files };
            let duplicate = evaluated
                .iter()
                .find(|e| e.candidate.files == candidate.files)
                .map(|e| (e.clone(), e.candidate.number));
            let (result, duplicate_of) = match duplicate {
                Some((mut earlier, of)) => {
                    earlier.candidate = candidate;
                    (earlier, Some(of))
                }
                None => {
                    on_event(AgentEvent::Running { what: format!("the tests with candidate {number}") });
                    (self.evaluate(search, candidate).await?, None)
                }
            };
            if let Some(Revision::BuildOn(partial)) = &revision {
                spend_if_no_progress(&mut built_on, partial, &result);
            }
            evaluated.push(result);
            candidate_secs.push(asked.elapsed().as_secs_f64());
            // The running number counts variants and earlier rounds too; the place counts the model's own samples
            // against the most it may write ("candidate 11 of 10" read as a broken limit).
            let place = if index < max {
                format!("model candidate {} of at most {max}", index + 1)
            } else {
                format!("model candidate {} of at most {limit} (nothing is fixed yet)", index + 1)
            };
            if let Some(event) = progress(search, &evaluated, place, duplicate_of) {
                on_event(event);
            }
            // Once the greedy pair and the revision show no fix, the variants run: a test run each and no model
            // call, so they go before the samples rather than after, when the budget may be spent (bench tasks 04
            // and 23, 2026-12-05: at 26 s a call, the fixing variant ran with 8 s left, or not at all).
            if !variants_tried && index >= 2 && !evaluated.iter().any(|e| e.verdict.is_fixed()) {
                variants_tried = true;
                let until = (started.elapsed() + VARIANTS_EARLY).min(self.settings.search_budget);
                evaluated = self.try_variants(search, started, until, evaluated, outcome, on_event).await?;
            }
            let remaining = max.saturating_sub(index + 1);
            if select::settled(&evaluated, search.base.as_ref(), remaining, search.reproductions.len()) {
                on_event(AgentEvent::SearchStopped { reason: SETTLED.into() });
                break;
            }
        }
        if evaluated.is_empty() {
            return Err(AgentError::NoUsableEdit { candidates: outcome.candidates, last_problem });
        }
        Ok(evaluated)
    }
}

/// What a revision asks for.
enum Revision {
    /// A candidate that makes some of the tests that fail on the base pass, and breaks nothing: the issue asks for
    /// more than one thing and a small model writes one of them at a time (bench tasks 07 and 10: the commas parsed
    /// but no `ValueError`; the stock checked in `remove` but not in `fulfil`). Its change stays and the reply is
    /// applied on top.
    BuildOn(Evaluated),
    /// The best candidate that still fails, to be written again differently, from the base.
    Differently(Evaluated),
}

impl Revision {
    /// The closing request's tail: the earlier change and what still fails.
    fn request(&self, workdir: &Path) -> String {
        match self {
            // The changed code as it now reads, not as a diff: the edit applies to it, and a small model shown
            // `+ ` lines answers with `+ ` lines (bench task 10, 2026-12-06: a reply that was the diff, no edit).
            Revision::BuildOn(partial) => format!(
                "\n\nAn earlier change fixed part of the issue and is kept. With it the code reads:\n{}This still fails:\n```\n{}\n```\nKeep that change and add what is still missing.",
                excerpt(workdir, &partial.candidate.files),
                partial.failure.trim_end()
            ),
            Revision::Differently(worst) => format!(
                "\n\nAn earlier change did not fix it:\n```\n{}```\nIt fails with:\n```\n{}\n```\nFix the code again, differently.",
                sketch(workdir, &worst.candidate.files),
                worst.failure.trim_end()
            ),
        }
    }
}

/// The revision to ask for at plan `index`: building on the best partial fix not yet built on, else (first revision
/// only) rewriting the best failing candidate. `None`: nothing to revise.
fn revision(evaluated: &[Evaluated], built_on: &HashMap<u64, u32>, index: u32) -> Option<Revision> {
    if let Some(partial) = partial_to_build_on(evaluated, built_on) {
        return Some(Revision::BuildOn(partial.clone()));
    }
    if index >= BUILD_ON_AGAIN {
        return None;
    }
    evaluated.iter().filter(|e| !e.verdict.is_fixed()).max_by_key(|e| e.passes()).cloned().map(Revision::Differently)
}

/// Tries at building on one partial fix: a reply that gives no usable edit (bench task 07, 2026-12-06: a fragment of
/// a function) gets one more.
pub const BUILD_ONS: u32 = 2;

/// The partial fix to build on next: the one passing most tests (then the smaller diff, then the one built on less)
/// among those built on fewer than [`BUILD_ONS`] times.
fn partial_to_build_on<'a>(evaluated: &'a [Evaluated], built_on: &HashMap<u64, u32>) -> Option<&'a Evaluated> {
    evaluated.iter().filter(|e| e.is_partial() && built_on_times(built_on, e) < BUILD_ONS).max_by_key(|e| {
        (e.passes(), std::cmp::Reverse(e.candidate.diff_lines), std::cmp::Reverse(built_on_times(built_on, e)))
    })
}

/// A revision built on `partial` that passes no more tests than it is no step nearer a fix: it is not built on in
/// turn, or a chain of revisions asks the same thing again and again (bench, 2026-12-06T134809Z: on 11 four
/// revisions in a chain each passed 2 of 7, on 05 three passed 2 of 5, on 16 three passed 3 of 4). A reply that
/// repeats the partial fix is left alone: it is that fix, whose second try samples.
fn spend_if_no_progress(built_on: &mut HashMap<u64, u32>, partial: &Evaluated, revision: &Evaluated) {
    let key = change_key(revision);
    if key != change_key(partial) && revision.passes() <= partial.passes() {
        built_on.insert(key, BUILD_ONS);
    }
}

fn built_on_times(built_on: &HashMap<u64, u32>, candidate: &Evaluated) -> u32 {
    built_on.get(&change_key(candidate)).copied().unwrap_or(0)
}

/// What a candidate changes, as a key: a revision that repeats a partial fix is that fix, not a new one to build on.
fn change_key(candidate: &Evaluated) -> u64 {
    let mut hasher = DefaultHasher::new();
    candidate.candidate.files.hash(&mut hasher);
    hasher.finish()
}

/// [`capture`] with `base_files` (a partial fix being built on) in the worktree first; the result holds them too,
/// overridden by what the reply changed. A reply whose edits do not apply on top (a search block copied from the
/// base) is applied to the base instead.
fn capture_on(
    workdir: &Path,
    base_files: &[(String, String)],
    reply: &str,
    search: &Search<'_>,
    frozen: &dyn Fn(&Edit) -> Option<String>,
    resolve: &dyn Fn(&Edit) -> Edit,
) -> Result<Captured, String> {
    let keep = !crate::talks_about_tests(search.issue_text);
    if base_files.is_empty() {
        return capture(workdir, reply, &search.shown, frozen, resolve, keep);
    }
    let snapshot = install(workdir, base_files).map_err(|e| format!("could not install the earlier change: {e}"))?;
    let on_top = capture(workdir, reply, &search.shown, frozen, resolve, keep);
    restore(workdir, &snapshot);
    match on_top {
        Ok((changed, problems)) => {
            let mut files: Vec<(String, String)> =
                base_files.iter().filter(|(path, _)| !changed.iter().any(|(p, _)| p == path)).cloned().collect();
            files.extend(changed);
            Ok((files, problems))
        }
        Err(_) => capture(workdir, reply, &search.shown, frozen, resolve, keep),
    }
}

/// Time the variants may take when they run among the candidates: six Python runs fit, and a Rust crate's
/// compiles (10 s or more each) do not take all the model's time; what is left of them runs after the candidates.
const VARIANTS_EARLY: std::time::Duration = std::time::Duration::from_secs(30);

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_alternates_formats_and_samples_after_the_greedy_pair() {
        let plans: Vec<Plan> = (0..6).map(|i| Plan::nth(i, EditFormat::ChangeTo, EditFormat::WholeFile, 0.0)).collect();
        assert_eq!((plans[0].format, plans[0].temperature), (EditFormat::ChangeTo, 0.0));
        assert_eq!((plans[1].format, plans[1].temperature), (EditFormat::WholeFile, 0.0));
        assert!(plans[2].revise);
        assert!(plans[3..].iter().all(|p| p.temperature == SAMPLE_TEMPERATURE && !p.revise));
        assert_ne!(plans[3].format, plans[4].format);
        let seeds: std::collections::HashSet<u64> = plans.iter().map(|p| p.seed).collect();
        assert_eq!(seeds.len(), 6, "every sample has its own seed");
    }

    #[test]
    fn a_partial_fix_is_built_on_twice_at_most_and_a_repeat_of_it_counts_as_it() {
        use crate::verdict::SuiteRun;
        let base = SuiteRun { passed: true, empty: false, output: String::new(), timed_out: false, results: None };
        let with = |number: u32, text: &str, repro: &[bool]| {
            let candidate = Candidate {
                number,
                origin: String::new(),
                files: vec![("m.py".to_owned(), text.to_owned())],
                diff_lines: 1,
            };
            let repro: Vec<(String, bool)> = repro.iter().enumerate().map(|(i, p)| (format!("t{i}"), *p)).collect();
            Evaluated::new(candidate, Some(&base), Some(base.clone()), &repro)
        };
        let mut list = vec![with(1, "a", &[false, false]), with(2, "b", &[true, false])];
        let mut built_on = HashMap::new();
        assert_eq!(partial_to_build_on(&list, &built_on).map(|e| e.candidate.number), Some(2));
        *built_on.entry(change_key(&list[1])).or_default() += 1;
        // The revision repeated the partial fix: the same change, built on once already, still has a try left.
        list.push(with(3, "b", &[true, false]));
        let change = |e: &Evaluated| e.candidate.files[0].1.clone();
        assert_eq!(partial_to_build_on(&list, &built_on).map(change).as_deref(), Some("b"));
        *built_on.entry(change_key(&list[2])).or_default() += 1;
        assert!(partial_to_build_on(&list, &built_on).is_none(), "two tries per change");
        list.push(with(4, "c", &[true, false]));
        assert_eq!(partial_to_build_on(&list, &built_on).map(|e| e.candidate.number), Some(4));
        assert!(matches!(revision(&list, &built_on, 7), Some(Revision::BuildOn(e)) if e.candidate.number == 4));
        // A revision on 4 that passes no more than 4 is not built on; one that passes more is.
        let sideways = with(5, "d", &[false, true]);
        spend_if_no_progress(&mut built_on, &list[3], &sideways);
        list.push(sideways);
        *built_on.entry(change_key(&list[3])).or_default() += 2;
        assert!(partial_to_build_on(&list, &built_on).is_none(), "no progress, nothing to build on");
        let repeat = with(6, "c", &[true, false]);
        spend_if_no_progress(&mut built_on, &list[3], &repeat);
        assert_eq!(built_on_times(&built_on, &repeat), 2, "a repeat of the partial fix is that fix");
        let onward = with(7, "e", &[true, true]);
        spend_if_no_progress(&mut built_on, &list[3], &onward);
        assert_eq!(built_on_times(&built_on, &onward), 0, "it passes more: built on in turn");
    }

    #[test]
    fn samples_name_the_other_source_files_in_turn() {
        let file = |p: &str| (p.to_owned(), String::new());
        let shown = [file("src/index.js"), file("test/logger.test.js"), file("src/logger.js"), file("src/options.js")];
        let named: Vec<&str> = (0..10).map(|i| target_path(&shown, i)).collect();
        assert_eq!(
            named,
            [
                "src/index.js",
                "src/index.js",
                "src/index.js",
                "src/index.js",
                "src/logger.js",
                "src/index.js",
                "src/options.js",
                "src/index.js",
                "src/logger.js",
                "src/index.js",
            ]
        );
        assert!((0..10).all(|i| target_path(&shown[..2], i) == "src/index.js"), "one source file: always it");
    }

    #[test]
    fn a_change_of_comments_only_does_nothing_and_one_of_code_or_indentation_does() {
        let dir = tempfile::tempdir().unwrap();
        let py = "def f(x):  # double it\n    # a comment\n    return x + x  # '#' stays\n";
        std::fs::write(dir.path().join("m.py"), py).unwrap();
        std::fs::write(dir.path().join("m.rs"), "#[inline]\nfn f<'a>(x: &'a str) -> &'a str { x } // ok\n").unwrap();
        let change = |path: &str, text: &str| vec![(path.to_owned(), text.to_owned())];
        let same = "def f(x):\n\n    return x + x  # twice, '#' and all\n";
        assert!(only_comments_changed(dir.path(), &change("m.py", same)));
        assert!(!only_comments_changed(dir.path(), &change("m.py", "def f(x):\n    return x * 3\n")));
        // A `#` inside a string is code, and so is indentation.
        std::fs::write(dir.path().join("s.py"), "MARK = \"a # b\"\n").unwrap();
        assert!(!only_comments_changed(dir.path(), &change("s.py", "MARK = \"a # c\"\n")));
        assert!(only_comments_changed(dir.path(), &change("s.py", "MARK = \"a # b\"  # the mark\n")));
        assert!(!only_comments_changed(dir.path(), &change("m.py", "def f(x):\n  return x + x\n")));
        // In Rust `#` starts an attribute, not a comment; `//` does.
        assert!(only_comments_changed(
            dir.path(),
            &change("m.rs", "#[inline]\nfn f<'a>(x: &'a str) -> &'a str { x }\n")
        ));
        assert!(!only_comments_changed(dir.path(), &change("m.rs", "fn f<'a>(x: &'a str) -> &'a str { x }\n")));
        assert!(!only_comments_changed(dir.path(), &change("new.py", "# only a comment\n")), "a new file is a change");
        assert!(mentions_comments("Typo in the comment of parse()") && !mentions_comments("parse() drops the sign"));
    }

    #[test]
    fn a_candidate_is_captured_and_the_worktree_restored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("calc.py"), "def double(x):\r\n    return x + x + 1\r\n").unwrap();
        let reply = "calc.py\n<<<<<<< SEARCH\n    return x + x + 1\n=======\n    return x + x\n>>>>>>> REPLACE\n";
        let shown = vec![("calc.py".to_owned(), "def double(x):\r\n    return x + x + 1\r\n".to_owned())];
        let (files, problems) = capture(dir.path(), reply, &shown, &|_| None, &|e| e.clone(), true).unwrap();
        assert!(problems.is_empty());
        assert_eq!(files.len(), 1);
        assert!(files[0].1.contains("return x + x\r\n") || files[0].1.contains("return x + x\n"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("calc.py")).unwrap(),
            "def double(x):\r\n    return x + x + 1\r\n"
        );
        assert_eq!(diff_lines(dir.path(), &files), 2);
        let refused =
            capture(dir.path(), reply, &shown, &|e| Some(format!("{} is frozen", e.path())), &|e| e.clone(), true);
        assert_eq!(refused.unwrap_err(), "calc.py is frozen");
    }

    #[test]
    fn a_change_that_edits_a_files_own_tests_is_refused_and_one_that_adds_a_test_is_not() {
        let lib = "pub fn f() -> u8 { 1 }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() {\n        assert_eq!(super::f(), 2);\n    }\n}\n";
        let with = |from: &str, to: &str| lib.replace(from, to);
        assert!(inline_tests_kept(lib, &with("{ 1 }", "{ 2 }")));
        let added = with("mod tests {\n", "mod tests {\n    #[test]\n    fn two() {}\n\n");
        assert!(inline_tests_kept(lib, &added));
        assert!(!inline_tests_kept(lib, &with("f(), 2)", "f(), 1)")), "an assertion made to agree with the code");
        assert!(!inline_tests_kept(lib, "pub fn f() -> u8 { 2 }\n"), "the tests removed");
        assert!(inline_tests_kept("def f():\n    return 1\n", "def f():\n    return 2\n"), "no inline tests");
        // A test-only import is not a test module, and code after a test module is code.
        let gated = "#[cfg(test)]\nuse std::fmt;\n\npub fn f() -> u8 { 1 }\n";
        assert!(inline_tests_kept(gated, &gated.replace("{ 1 }", "{ 2 }")));
        let middle = format!("{lib}\npub fn g() -> u8 {{ 3 }}\n");
        assert!(inline_tests_kept(&middle, &middle.replace("{ 3 }", "{ 4 }")));
        assert!(!inline_tests_kept(&middle, &middle.replace("f(), 2)", "f(), 1)")));
        // `mod tests;` keeps its tests in another file: the code after it is code, the declaration stays.
        let external = "#[cfg(test)]\nmod tests;\n\npub fn g() -> u8 {\n    3\n}\n";
        assert!(inline_tests_kept(external, &external.replace("    3", "    4")));
        assert!(!inline_tests_kept(external, &external.replace("mod tests;\n", "")), "the declaration removed");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lib.rs"), lib).unwrap();
        let shown = vec![("lib.rs".to_owned(), lib.to_owned())];
        let reply = "lib.rs\n<<<<<<< SEARCH\n        assert_eq!(super::f(), 2);\n=======\n        assert_eq!(super::f(), 1);\n>>>>>>> REPLACE\n";
        let refused = capture(dir.path(), reply, &shown, &|_| None, &|e| e.clone(), true).unwrap_err();
        assert!(refused.contains("own tests"), "{refused}");
        assert_eq!(std::fs::read_to_string(dir.path().join("lib.rs")).unwrap(), lib);
        assert!(capture(dir.path(), reply, &shown, &|_| None, &|e| e.clone(), false).is_ok(), "the issue asks");
    }

    #[test]
    fn a_new_file_is_removed_again() {
        let dir = tempfile::tempdir().unwrap();
        let reply = "new.py\n```python\nx = 1\n```\n";
        let (files, _) = capture(dir.path(), reply, &[], &|_| None, &|e| e.clone(), true).unwrap();
        assert_eq!(files, [("new.py".to_owned(), "x = 1\n".to_owned())]);
        assert!(!dir.path().join("new.py").exists());
        let snapshot = install(dir.path(), &files).unwrap();
        assert!(dir.path().join("new.py").exists());
        restore(dir.path(), &snapshot);
        assert!(!dir.path().join("new.py").exists());
    }
}
