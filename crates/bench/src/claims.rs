//! Re-checking a stored `fixed` claim: the pushed branch must hold a test that fails on the base commit and passes
//! on the head.
//!
//! The bench stores each pushed change as a patch against the task's `repo/`. For a `fixed` verdict the check
//! rebuilds the base, adds only the patch's test files (by the agent's own rule for what a test is: the regression test the pull request ships) and runs them:
//! they must fail. Then it applies the whole patch and runs them again: they must pass. A patch that changes no
//! test was fixed by the repository's own tests, which must then fail on the base and pass on the head.

use std::path::Path;
use std::time::Duration;

use codingworker_sandbox::{CommandSpec, HostExecutor};

use crate::{BenchTask, copy_tree};

/// Files a `git diff` touches (`diff --git a/X b/X`), in order.
pub fn patch_files(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter_map(|l| l.strip_prefix("diff --git a/"))
        .filter_map(|rest| rest.split(" b/").nth(1).map(str::to_owned))
        .collect()
}

/// The command that runs `tests` (all of the repository's tests when empty) for a task's language.
fn command(language: &str, tests: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = match language {
        "javascript" => vec!["node".into(), "--test".into()],
        "rust" => {
            let mut argv: Vec<String> = ["cargo", "test", "--offline", "--quiet"].map(String::from).to_vec();
            for test in tests.iter().filter_map(|t| t.strip_prefix("tests/")?.strip_suffix(".rs")) {
                argv.extend(["--test".to_owned(), test.to_owned()]);
            }
            return argv;
        }
        _ => ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"].map(String::from).to_vec(),
    };
    argv.extend(tests.iter().cloned());
    argv
}

async fn run(dir: &Path, argv: &[String]) -> Result<(bool, String), String> {
    let mut spec = CommandSpec::new(argv, dir.to_path_buf(), Duration::from_secs(300));
    spec.env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    let out = HostExecutor::new().run(&spec).await.map_err(|e| e.to_string())?;
    Ok((out.success(), out.combined_tail(1500)))
}

fn git(dir: &Path, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Bench", "-c", "user.email=bench@localhost"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// The base with the patch applied to `only` (all files when `None`), in `dir`.
fn checkout(task: &BenchTask, patch: &str, only: Option<&[String]>, dir: &Path) -> Result<(), String> {
    copy_tree(&task.dir.join("repo"), dir).map_err(|e| e.to_string())?;
    git(dir, &["init", "--quiet"], None)?;
    let mut args = vec!["apply".to_owned()];
    if let Some(files) = only {
        if files.is_empty() {
            return Ok(());
        }
        args.extend(files.iter().map(|f| format!("--include={f}")));
    }
    args.push("-".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git(dir, &args, Some(patch))
}

/// Checks that `patch` holds a fail-to-pass test for `task`: the patch's test files (or, without any, the
/// repository's tests) fail on the base commit and pass with the whole patch. `Err` says what did not hold.
pub async fn check_fixed_claim(task: &BenchTask, patch: &str, work: &Path) -> Result<(), String> {
    let tests: Vec<String> =
        patch_files(patch).into_iter().filter(|f| codingworker_agent::repo::is_test_path(f)).collect();
    // A claim by the repository's own tests: run those. `node --test` alone collects only its own name patterns
    // (`*.test.js`, `test/`), not a `test_query.js` the agent ran by name (bench task 11).
    let run_files = if tests.is_empty() && task.language == "javascript" {
        codingworker_agent::repo::load_files(&task.dir.join("repo"))
            .into_iter()
            .filter(|f| f.is_test && f.path.ends_with(".js"))
            .map(|f| f.path)
            .collect()
    } else {
        tests.clone()
    };
    let argv = command(&task.language, &run_files);
    let base = work.join("base");
    checkout(task, patch, Some(&tests), &base)?;
    let (passed, output) = run(&base, &argv).await?;
    if passed {
        return Err(format!(
            "{}: `{}` passes on the base commit, so it shows no fix:\n{output}",
            task.id,
            argv.join(" ")
        ));
    }
    let head = work.join("head");
    checkout(task, patch, None, &head)?;
    let (passed, output) = run(&head, &argv).await?;
    if !passed {
        return Err(format!("{}: `{}` fails with the change:\n{output}", task.id, argv.join(" ")));
    }
    Ok(())
}
