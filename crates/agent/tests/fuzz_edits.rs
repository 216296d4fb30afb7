//! Property-based fuzzing of the edit parser and of applying edits (proptest): any model reply parses without a
//! panic, and no edit, whatever its path or content, writes outside the repository, into `.git`, or a file over
//! the size limit. Cases per property: PROPTEST_CASES (default 2,000 here).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use codingworker_agent::edits::{Edit, MAX_EDITED_FILE_BYTES, apply_edit, parse_edits, safe_path};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

const KNOWN: &str = "def median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n";

/// Lines a model reply is made of: edit markers, fences, paths (some hostile), code and prose, shuffled.
fn reply_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<<<<<<< SEARCH".to_owned()),
        Just("=======".to_owned()),
        Just(">>>>>>> REPLACE".to_owned()),
        Just("```python".to_owned()),
        Just("```".to_owned()),
        Just("stats.py".to_owned()),
        Just("Change:".to_owned()),
        Just("To:".to_owned()),
        Just("../../etc/passwd.txt".to_owned()),
        Just(".git/config.txt".to_owned()),
        Just("    return ordered[len(ordered) // 2]".to_owned()),
        Just("def median(values):".to_owned()),
        ".{0,60}",
    ]
}

/// Paths a hostile reply might name.
fn any_path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}(/[a-z]{1,8}){0,3}\\.(py|rs|txt)",
        Just("../outside.txt".to_owned()),
        Just("a/../../outside.txt".to_owned()),
        Just("/tmp/absolute.txt".to_owned()),
        Just(".git/hooks/pre-commit".to_owned()),
        Just(".GIT/config".to_owned()),
        Just("link/through.txt".to_owned()),
        Just("./stats.py".to_owned()),
        ".{0,30}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_reply_parses_without_panicking(lines in prop::collection::vec(reply_line(), 0..40)) {
        let reply = lines.join("\n");
        let known = vec![("stats.py".to_owned(), KNOWN.to_owned())];
        let _ = parse_edits(&reply, &known);
    }

    #[test]
    fn no_edit_writes_outside_the_repository_or_into_git(
        path in any_path(),
        content in ".{0,200}",
        whole in any::<bool>(),
    ) {
        let sandbox = tempfile::tempdir().unwrap();
        let root = sandbox.path().join("repo");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("stats.py"), KNOWN).unwrap();
        // A symlink out of the repository, which an edit must not write through.
        std::os::unix::fs::symlink(sandbox.path(), root.join("link")).unwrap();
        let edit = if whole {
            Edit::WholeFile { path: path.clone(), content }
        } else {
            Edit::Replace { path: path.clone(), search: "return ordered".into(), replace: content }
        };
        let before = snapshot(sandbox.path(), &root);
        let result = apply_edit(&root, &edit);
        prop_assert_eq!(snapshot(sandbox.path(), &root), before, "something outside the repository changed");
        prop_assert!(std::fs::read_dir(root.join(".git")).unwrap().next().is_none(), ".git was written");
        if result.is_ok() {
            prop_assert!(safe_path(&root, &path).is_ok());
        }
    }

}

proptest! {
    // Each case writes a megabyte: a few hundred cover the boundary.
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_edit_makes_a_file_over_the_limit(extra in (MAX_EDITED_FILE_BYTES - 16)..(MAX_EDITED_FILE_BYTES + 64)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stats.py"), KNOWN).unwrap();
        let edit = Edit::WholeFile { path: "stats.py".into(), content: "x".repeat(extra) };
        let result = apply_edit(dir.path(), &edit);
        let size = std::fs::metadata(dir.path().join("stats.py")).unwrap().len() as usize;
        prop_assert!(size <= MAX_EDITED_FILE_BYTES, "{size}");
        // The file keeps its final newline, which the reply lacks: one byte more on disk.
        prop_assert_eq!(result.is_ok(), extra < MAX_EDITED_FILE_BYTES);
    }
}

/// Every file outside `repo` under `dir`, with its content.
fn snapshot(dir: &std::path::Path, repo: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.starts_with(repo) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().flatten().map(|e| e.path()));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
        }
    }
    files.sort();
    files
}
