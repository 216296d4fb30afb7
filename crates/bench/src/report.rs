//! Bench results: one record per task and agent, summaries, Markdown tables and run-to-run comparison.

use serde::{Deserialize, Serialize};

/// Why a task was not solved, in the categories the bench reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The model never produced an edit.
    NoEdit,
    /// Edits came back but could not be applied.
    MalformedEdit,
    /// Edits were applied but the tests (visible or hidden) fail.
    TestsFailed,
    /// The time budget ran out.
    Timeout,
    /// The agent repeated itself and stopped.
    Loop,
    /// The agent or the harness failed for another reason (see `detail`).
    Error,
}

impl Failure {
    pub fn as_str(&self) -> &'static str {
        match self {
            Failure::NoEdit => "no edit",
            Failure::MalformedEdit => "malformed edit",
            Failure::TestsFailed => "tests failed",
            Failure::Timeout => "timeout",
            Failure::Loop => "loop",
            Failure::Error => "error",
        }
    }
}

/// One agent on one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    pub task: String,
    pub difficulty: String,
    pub language: String,
    pub agent: String,
    pub solved: bool,
    pub wall_secs: f64,
    pub llm_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens the server reported as served from its cache, when it reports them.
    pub cached_prompt_tokens: Option<u64>,
    /// Candidate changes asked for (codingworker) or edit rounds (aider).
    pub rounds: u32,
    pub failure: Option<Failure>,
    /// A line on what happened, for the table.
    pub detail: String,
    /// What the agent claimed: codingworker's verdict key (`fixed`, `no_regressions`, `tests_fail`,
    /// `tests_not_run`); `None` when it published nothing, or for an agent that claims nothing (aider).
    #[serde(default)]
    pub verdict: Option<String>,
    /// The pushed branch's change against the base commit (`git diff`), kept so the claim can be re-checked.
    #[serde(default)]
    pub patch: Option<String>,
}

impl TaskResult {
    /// Completion tokens per second of wall time: how fast the whole attempt produced output.
    pub fn tokens_per_sec(&self) -> f64 {
        if self.wall_secs > 0.0 { self.completion_tokens as f64 / self.wall_secs } else { 0.0 }
    }

    /// A wrong claim: the verdict says `fixed` but the hidden tests fail.
    pub fn false_fixed(&self) -> bool {
        self.verdict.as_deref() == Some("fixed") && !self.solved
    }

    /// The other wrong claim: "nothing to change" (the tests written from the issue pass on the base commit) on a
    /// task whose hidden tests fail there. Every bench task has a real bug (the suite's own test checks that its
    /// original fails the hidden tests), so on the bench that verdict is always wrong.
    pub fn false_no_change(&self) -> bool {
        self.verdict.as_deref() == Some("no_change_needed") && !self.solved
    }
}

/// A whole bench run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub started_at: String,
    pub model: String,
    pub model_server: String,
    pub temperature: f32,
    pub suite: String,
    pub results: Vec<TaskResult>,
    /// Per agent, written with the results (recomputed from them on reading).
    #[serde(default)]
    pub summaries: Vec<AgentSummary>,
}

/// Totals for one agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgentSummary {
    pub agent: String,
    pub tasks: usize,
    pub solved: usize,
    /// Solved / tasks, 0-1.
    pub solve_rate: f64,
    /// Tasks whose verdict was `fixed` while the hidden tests fail: wrong claims. 0 for an agent without verdicts.
    #[serde(default)]
    pub false_fixed: usize,
    /// Tasks whose verdict was "nothing to change" while the hidden tests fail: wrong claims too.
    #[serde(default)]
    pub false_no_change: usize,
    /// Tasks with a `fixed` verdict, and their share of the tasks (0-1).
    #[serde(default)]
    pub fixed_verdicts: usize,
    #[serde(default)]
    pub fixed_share: f64,
    pub median_wall_secs: f64,
    /// 90th percentile of wall time per task (nearest rank).
    #[serde(default)]
    pub p90_wall_secs: f64,
    pub total_wall_secs: f64,
    pub llm_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens spent per solved task (all tasks' prompt tokens / solved), `None` when nothing was solved.
    pub prompt_tokens_per_solved: Option<f64>,
}

impl RunReport {
    /// Agents in the order they first appear.
    pub fn agents(&self) -> Vec<String> {
        let mut agents: Vec<String> = Vec::new();
        for r in &self.results {
            if !agents.contains(&r.agent) {
                agents.push(r.agent.clone());
            }
        }
        agents
    }

    pub fn summary(&self, agent: &str) -> AgentSummary {
        let results: Vec<&TaskResult> = self.results.iter().filter(|r| r.agent == agent).collect();
        let solved = results.iter().filter(|r| r.solved).count();
        let mut walls: Vec<f64> = results.iter().map(|r| r.wall_secs).collect();
        walls.sort_by(f64::total_cmp);
        let prompt_tokens: u64 = results.iter().map(|r| r.prompt_tokens).sum();
        let share = |n: usize| if results.is_empty() { 0.0 } else { n as f64 / results.len() as f64 };
        let fixed_verdicts = results.iter().filter(|r| r.verdict.as_deref() == Some("fixed")).count();
        AgentSummary {
            agent: agent.to_owned(),
            tasks: results.len(),
            solved,
            solve_rate: share(solved),
            false_fixed: results.iter().filter(|r| r.false_fixed()).count(),
            false_no_change: results.iter().filter(|r| r.false_no_change()).count(),
            fixed_verdicts,
            fixed_share: share(fixed_verdicts),
            median_wall_secs: median(&walls),
            p90_wall_secs: percentile(&walls, 0.9),
            total_wall_secs: walls.iter().sum(),
            llm_calls: results.iter().map(|r| r.llm_calls).sum(),
            prompt_tokens,
            completion_tokens: results.iter().map(|r| r.completion_tokens).sum(),
            prompt_tokens_per_solved: (solved > 0).then(|| prompt_tokens as f64 / solved as f64),
        }
    }

    /// The report as Markdown: totals per agent, then every task.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# CodingWorker bench\n\nModel `{}` at `{}`, temperature {}, suite `{}`, started {}.\n\n",
            self.model, self.model_server, self.temperature, self.suite, self.started_at
        );
        out.push_str(&summary_table(&self.agents().iter().map(|a| self.summary(a)).collect::<Vec<_>>()));
        out.push_str(
            "\n| task | difficulty | agent | verdict | solved (hidden tests) | right | wall s | LLM calls | prompt tok | \
             cached prompt tok | completion tok | tok/s | candidates / rounds | why not |\n",
        );
        out.push_str("|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for r in &self.results {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {:.1} | {} | {} |\n",
                r.task,
                r.difficulty,
                r.agent,
                r.verdict.as_deref().map_or("-".to_owned(), |v| v.replace('_', " ")),
                if r.solved { "yes" } else { "no" },
                // Whether the claim held: a `fixed` verdict needs the hidden tests to pass.
                match (r.verdict.as_deref(), r.solved) {
                    (Some("fixed"), true) => "yes",
                    (Some("fixed"), false) => "**no: false fixed**",
                    (Some("no_change_needed"), false) => "**no: false nothing to change**",
                    (Some(_), _) => "yes",
                    (None, _) => "-",
                },
                r.wall_secs,
                r.llm_calls,
                r.prompt_tokens,
                // Only some servers say how much of a prompt came from their cache.
                r.cached_prompt_tokens.map_or("not reported".to_owned(), |c| c.to_string()),
                r.completion_tokens,
                r.tokens_per_sec(),
                r.rounds,
                r.failure.map(|f| format!("{}: {}", f.as_str(), one_line(&r.detail, 80))).unwrap_or_default()
            ));
        }
        out
    }
}

fn summary_table(summaries: &[AgentSummary]) -> String {
    let mut out = String::from(
        "| agent | solved | solve rate | false fixed | false no change | fixed verdicts | median wall s | p90 wall s | total wall s | LLM calls | prompt tok | completion tok | prompt tok / solved |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in summaries {
        out.push_str(&format!(
            "| {} | {}/{} | {:.0}% | {} | {} | {} ({:.0}%) | {:.1} | {:.1} | {:.0} | {} | {} | {} | {} |\n",
            s.agent,
            s.solved,
            s.tasks,
            s.solve_rate * 100.0,
            s.false_fixed,
            s.false_no_change,
            s.fixed_verdicts,
            s.fixed_share * 100.0,
            s.median_wall_secs,
            s.p90_wall_secs,
            s.total_wall_secs,
            s.llm_calls,
            s.prompt_tokens,
            s.completion_tokens,
            s.prompt_tokens_per_solved.map(|t| format!("{t:.0}")).unwrap_or_else(|| "-".into())
        ));
    }
    out
}

/// Two runs side by side: totals of each, then per task which run solved it.
pub fn compare_markdown(a: &RunReport, b: &RunReport) -> String {
    let mut out =
        format!("# Bench comparison\n\nA: {} ({})\nB: {} ({})\n\n", a.started_at, a.model, b.started_at, b.model);
    let mut summaries: Vec<AgentSummary> = Vec::new();
    for (label, run) in [("A", a), ("B", b)] {
        for agent in run.agents() {
            let mut s = run.summary(&agent);
            s.agent = format!("{label}: {}", s.agent);
            summaries.push(s);
        }
    }
    out.push_str(&summary_table(&summaries));
    out.push_str("\n| task | agent | A solved | B solved | A wall s | B wall s |\n|---|---|---|---|---:|---:|\n");
    for ra in &a.results {
        let rb = b.results.iter().find(|r| r.task == ra.task && r.agent == ra.agent);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {} |\n",
            ra.task,
            ra.agent,
            yes_no(ra.solved),
            rb.map(|r| yes_no(r.solved)).unwrap_or("-"),
            ra.wall_secs,
            rb.map(|r| format!("{:.1}", r.wall_secs)).unwrap_or_else(|| "-".into())
        ));
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn one_line(text: &str, max: usize) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().replace('|', "/");
    if line.chars().count() > max { format!("{}…", line.chars().take(max).collect::<String>()) } else { line }
}

/// Nearest-rank percentile of sorted values (`q` in 0-1); 0 for none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(task: &str, agent: &str, solved: bool, wall: f64, prompt: u64) -> TaskResult {
        TaskResult {
            task: task.into(),
            difficulty: "easy".into(),
            language: "python".into(),
            agent: agent.into(),
            solved,
            wall_secs: wall,
            llm_calls: 1,
            prompt_tokens: prompt,
            completion_tokens: 50,
            cached_prompt_tokens: None,
            rounds: 1,
            failure: (!solved).then_some(Failure::TestsFailed),
            detail: if solved { String::new() } else { "hidden | test failed\nmore".into() },
            verdict: (agent == "codingworker").then(|| "fixed".into()),
            patch: None,
        }
    }

    fn report() -> RunReport {
        RunReport {
            started_at: "2026-11-24T10:00:00Z".into(),
            model: "qwen2.5-coder:1.5b".into(),
            model_server: "http://127.0.0.1:8089".into(),
            temperature: 0.0,
            suite: "bench/tasks".into(),
            results: vec![
                result("01", "codingworker", true, 10.0, 600),
                result("02", "codingworker", true, 30.0, 900),
                result("03", "codingworker", false, 20.0, 1500),
                result("01", "aider", true, 40.0, 2000),
                result("02", "aider", false, 50.0, 2500),
            ],
            summaries: Vec::new(),
        }
    }

    #[test]
    fn summaries_count_rates_medians_and_tokens_per_solved_task() {
        let r = report();
        assert_eq!(r.agents(), vec!["codingworker", "aider"]);
        let ours = r.summary("codingworker");
        assert_eq!((ours.solved, ours.tasks, ours.median_wall_secs), (2, 3, 20.0));
        assert_eq!(ours.prompt_tokens_per_solved, Some(1500.0));
        let peer = r.summary("aider");
        assert_eq!((peer.solved, peer.median_wall_secs), (1, 45.0));
        assert!((peer.solve_rate - 0.5).abs() < 1e-9);
        // Task 03 says `fixed` but fails the hidden tests: a wrong claim. aider claims nothing.
        assert_eq!((ours.false_fixed, ours.fixed_verdicts, peer.false_fixed), (1, 3, 0));
        assert_eq!((ours.p90_wall_secs, peer.p90_wall_secs), (30.0, 50.0));
        assert!(r.markdown().contains("**no: false fixed**"));
        // "Nothing to change" on a task with a real bug is wrong too.
        let mut no_change = report();
        no_change.results[2].verdict = Some("no_change_needed".into());
        assert_eq!(no_change.summary("codingworker").false_no_change, 1);
        assert!(no_change.markdown().contains("**no: false nothing to change**"));
        let none = RunReport { results: vec![result("x", "a", false, 1.0, 10)], ..report() };
        assert_eq!(none.summary("a").prompt_tokens_per_solved, None);
    }

    #[test]
    fn markdown_has_totals_and_a_row_per_task_without_breaking_the_table() {
        let md = report().markdown();
        assert!(md.contains("| codingworker | 2/3 | 67% | 1 | 0 | 3 (100%) | 20.0 | 30.0 |"), "{md}");
        assert!(md.contains("| aider | 1/2 | 50% | 0 | 0 | 0 (0%) | 45.0 | 50.0 |"), "{md}");
        assert!(md.contains("tests failed: hidden / test failed |"), "pipes in details are escaped: {md}");
        assert_eq!(md.matches("\n| 0").count(), 5);
    }

    #[test]
    fn runs_round_trip_through_json_and_compare() {
        let a = report();
        let json = serde_json::to_string(&a).unwrap();
        let mut b: RunReport = serde_json::from_str(&json).unwrap();
        b.results[2].solved = true;
        let md = compare_markdown(&a, &b);
        assert!(md.contains("| 03 | codingworker | no | yes |"), "{md}");
        assert!(md.contains("A: codingworker") && md.contains("B: codingworker"));
    }
}
