//! Time limits of test runs. The base commit's run gets the configured ceiling (`agent.test_timeout_secs`); every
//! later run gets a limit derived from how long that one took, so a candidate that makes a test loop forever costs
//! seconds, not the attempt. When the base run itself does not finish, a Python suite is run again with a per-test
//! limit, so one hanging test fails (and names itself) instead of hiding every other result.

use std::time::Duration;

/// The shortest limit a later run gets: process start-up, a container exec and a slow CPU all fit in it.
const MIN_RUN_LIMIT: Duration = Duration::from_secs(30);

/// A later run's limit: three times the base run plus 10 s, at least 30 s, at most `ceiling`.
pub fn run_limit(base_run: Duration, ceiling: Duration) -> Duration {
    (base_run * 3 + Duration::from_secs(10)).max(MIN_RUN_LIMIT).min(ceiling)
}

/// The per-test limit of a suite whose base run did not finish: a quarter of the ceiling, between 5 and 30 s.
pub fn per_test_limit(ceiling: Duration) -> Duration {
    (ceiling / 4).clamp(Duration::from_secs(5), Duration::from_secs(30))
}

/// Why a run was stopped, naming the command and the limit.
pub fn timed_out(command: &[String], limit: Duration) -> String {
    format!("`{}` did not finish in {} s", command.join(" "), limit.as_secs())
}

/// Runs a test module under Python with a per-test alarm: each pytest test call and each unittest test gets
/// `limit` seconds, then fails with an error that says so; the rest of the suite goes on. argv: limit, module,
/// the module's own arguments.
const PER_TEST_LIMIT_PY: &str = r#"
import runpy, signal, sys, unittest
limit, module = int(sys.argv[1]), sys.argv[2]
sys.argv = [module] + sys.argv[3:]
class TestTimeout(Exception):
    pass
def _alarm(signum, frame):
    raise TestTimeout("this test ran longer than %d s (CodingWorker's per-test limit) and was stopped" % limit)
signal.signal(signal.SIGALRM, _alarm)
_run = unittest.TestCase.run
def _limited(self, result=None):
    signal.alarm(limit)
    try:
        return _run(self, result)
    finally:
        signal.alarm(0)
unittest.TestCase.run = _limited
if module == "pytest":
    import pytest
    class _PerTestLimit:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item):
            signal.alarm(limit)
            try:
                yield
            finally:
                signal.alarm(0)
    sys.exit(pytest.main(sys.argv[1:], plugins=[_PerTestLimit()]))
runpy.run_module(module, run_name="__main__", alter_sys=True)
"#;

/// `command` with a per-test limit, when it is a Python test runner this knows: `python3 -m pytest|unittest ...` or
/// `pytest ...`. `None` for anything else.
pub fn with_per_test_limit(command: &[String], limit: Duration) -> Option<Vec<String>> {
    let (python, module, rest) = match command {
        [python, flag, module, rest @ ..] if is_python(python) && flag == "-m" => (python.clone(), module, rest),
        [runner, rest @ ..] if runner == "pytest" || runner == "py.test" => ("python3".to_owned(), runner, rest),
        _ => return None,
    };
    let module = match module.as_str() {
        "pytest" | "py.test" => "pytest",
        "unittest" => "unittest",
        _ => return None,
    };
    let mut wrapped = vec![python, "-c".into(), PER_TEST_LIMIT_PY.trim_start().into()];
    wrapped.push(limit.as_secs().max(1).to_string());
    wrapped.push(module.into());
    wrapped.extend(rest.iter().cloned());
    Some(wrapped)
}

fn is_python(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    name == "python" || name.strip_prefix("python3").is_some_and(|v| v.is_empty() || v.starts_with('.'))
}

/// A command for people: the per-test wrapper shown as the command it wraps.
pub fn display(command: &[String]) -> String {
    match command {
        [python, flag, script, limit, module, rest @ ..] if flag == "-c" && script.starts_with("import runpy") => {
            let rest = if rest.is_empty() { String::new() } else { format!(" {}", rest.join(" ")) };
            format!("{python} -m {module}{rest} (each test limited to {limit} s)")
        }
        _ => command.join(" "),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn later_runs_are_limited_by_the_base_run() {
        let ceiling = Duration::from_secs(120);
        assert_eq!(run_limit(Duration::from_secs(1), ceiling), Duration::from_secs(30));
        assert_eq!(run_limit(Duration::from_secs(20), ceiling), Duration::from_secs(70));
        assert_eq!(run_limit(Duration::from_secs(100), ceiling), ceiling);
        assert_eq!(per_test_limit(ceiling), Duration::from_secs(30));
        assert_eq!(per_test_limit(Duration::from_secs(8)), Duration::from_secs(5));
    }

    #[test]
    fn python_runners_get_a_per_test_limit_and_others_do_not() {
        let limit = Duration::from_secs(10);
        let wrapped = with_per_test_limit(&argv("python3 -m pytest -q tests"), limit).unwrap();
        assert_eq!(&wrapped[3..], &argv("10 pytest -q tests")[..]);
        assert_eq!(display(&wrapped), "python3 -m pytest -q tests (each test limited to 10 s)");
        assert!(with_per_test_limit(&argv("pytest -x"), limit).is_some());
        assert!(with_per_test_limit(&argv("/usr/bin/python3.11 -m unittest"), limit).is_some());
        for other in ["npm test", "cargo test", "python3 -m tox", "sh -c pytest"] {
            assert!(with_per_test_limit(&argv(other), limit).is_none(), "{other}");
        }
    }

    /// The wrapper against a real Python: a hanging test fails with the limit's message, the others still run.
    #[test]
    fn a_hanging_unittest_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("test_x.py"),
            "import unittest\nclass T(unittest.TestCase):\n    def test_hangs(self):\n        while True:\n            pass\n    \
             def test_ok(self):\n        self.assertEqual(1, 1)\n",
        )
        .unwrap();
        let wrapped = with_per_test_limit(&argv("python3 -m unittest"), Duration::from_secs(1)).unwrap();
        let out = std::process::Command::new(&wrapped[0]).args(&wrapped[1..]).current_dir(dir.path()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("Ran 2 tests") && stderr.contains("per-test limit"), "{stderr}");
    }
}
