//! Localisation on the bench suite, before any model call: for every task in `bench/tasks`, the three source files
//! ranked first from the issue alone (`context::likely_files`) hold a file that the task's reference fix changes.
//! A miss means the model never sees the code it must change, whatever it is asked.
//!
//! Known misses: none since 2026-12-07. 18 (a pound conversion in `units.py`, called by `dimensional.py`, called by
//! the frame in `builder.py`) and 20 (`slug.py`, called by `routes.py`, called by the frame in `site.py`) hit since
//! the strings the issue quotes point at the one file that holds them (`"lb"`, the docstring's `"Hello, World!"`).
//! 24 (`matcher.rs`) hits since 2026-12-06 (a meeting point of the calls of both functions the issue reports). A
//! known miss that starts to hit fails the test too, so the list stays true.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use codingworker_agent::context::{likely_files, scored};
use codingworker_agent::repo::load_files;

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The task's title, from `title = "…"` in task.toml (empty when there is none: issue.md repeats it anyway).
fn title(task: &Path) -> String {
    let toml = std::fs::read_to_string(task.join("task.toml")).unwrap_or_default();
    toml.lines()
        .find_map(|l| l.strip_prefix("title = "))
        .map(|t| t.trim().trim_matches('"').replace("\\\"", "\""))
        .unwrap_or_default()
}

const KNOWN_MISSES: [&str; 0] = [];

#[test]
fn every_bench_task_shows_a_file_its_reference_fix_changes() {
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/tasks");
    let mut tasks: Vec<PathBuf> = std::fs::read_dir(&suite).unwrap().map(|e| e.unwrap().path()).collect();
    tasks.sort();
    assert!(tasks.len() >= 24, "the bench suite is at {}", suite.display());
    let mut misses = Vec::new();
    let mut known = Vec::new();
    for task in &tasks {
        let issue = format!("{}\n\n{}", title(task), std::fs::read_to_string(task.join("issue.md")).unwrap());
        let mut changed = Vec::new();
        files_under(&task.join("reference"), &task.join("reference"), &mut changed);
        let likely = likely_files(&task.join("repo"), &issue, 3);
        let hit = changed.iter().any(|c| likely.contains(c));
        println!(
            "{} {:<40} likely {likely:?}, reference {changed:?}",
            if hit { "ok  " } else { "MISS" },
            task.display()
        );
        let id = task.file_name().unwrap().to_string_lossy().to_string();
        if hit && KNOWN_MISSES.contains(&id.as_str()) {
            known.push(id);
        }
        if !hit {
            let files = load_files(&task.join("repo"));
            let top: Vec<String> =
                scored(&files, &issue, "").iter().take(6).map(|(f, s)| format!("{} {s}", f.path)).collect();
            println!("     scores: {top:?}");
            misses.push(format!("{}: likely {likely:?}, the fix changes {changed:?}", task.display()));
        }
    }
    let unexpected: Vec<&String> = misses.iter().filter(|m| !KNOWN_MISSES.iter().any(|k| m.contains(k))).collect();
    assert!(unexpected.is_empty(), "localisation misses the fixed file:\n{unexpected:#?}");
    assert!(known.is_empty(), "these tasks are listed as known misses and now hit (update KNOWN_MISSES): {known:?}");
}
