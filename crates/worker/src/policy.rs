//! What a change may not contain, whoever wrote it (the built-in agent, OpenHands, or a model obeying a prompt
//! injection in the issue): checked on the worktree before anything is committed or pushed.
//!
//! - Protected paths (`forge.protected_paths`): CI and automation configuration by default (`.github/`, other CI
//!   systems' files, `.gitmodules`), because a change there runs with the repository's secrets as soon as it is
//!   pushed, before any human review. Matched case-insensitively: macOS and Windows file systems are.
//! - Symbolic links that point outside the repository (or anywhere absolute).
//! - Files larger than `forge.max_file_bytes`: no fix needs one, and a flood must not reach the forge.

use std::path::Path;

/// Why the change cannot be published, one line per offending path; empty when it can.
pub fn refused_changes(root: &Path, changed: &[String], protected: &[String], max_file_bytes: u64) -> Vec<String> {
    let mut problems = Vec::new();
    for path in changed {
        let lower = path.to_ascii_lowercase();
        if let Some(rule) = protected.iter().find(|rule| is_under(&lower, &rule.to_ascii_lowercase())) {
            problems
                .push(format!("{path}: protected path (`{rule}` in forge.protected_paths); a human must change it"));
            continue;
        }
        let full = root.join(path);
        let Ok(meta) = std::fs::symlink_metadata(&full) else { continue }; // deleted: nothing to check
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full).unwrap_or_default();
            if !link_stays_inside(path, &target) {
                problems.push(format!("{path}: a symbolic link to {} outside the repository", target.display()));
            }
        } else if meta.len() > max_file_bytes {
            problems.push(format!("{path}: {} bytes, over forge.max_file_bytes ({max_file_bytes})", meta.len()));
        }
    }
    problems
}

/// `rule` ending in `/` protects a directory, otherwise one file (at any depth for bare names like `Jenkinsfile`
/// only at the root).
fn is_under(path: &str, rule: &str) -> bool {
    if rule.ends_with('/') { path.starts_with(rule) } else { path == rule }
}

/// A relative link target that, resolved from the link's directory, stays inside the repository.
fn link_stays_inside(link: &str, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = link.split('/').count() as i64 - 1;
    for component in target.components() {
        match component {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            std::path::Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn protected() -> Vec<String> {
        crate::config::ForgeSection::default().protected_paths
    }

    #[test]
    fn ci_configuration_is_protected_whatever_its_case() {
        let dir = tempfile::tempdir().unwrap();
        let changed: Vec<String> =
            [".github/workflows/ci.yml", ".GitHub/Workflows/x.yml", ".gitmodules", "src/app.py", "docs/github.md"]
                .map(String::from)
                .to_vec();
        let problems = refused_changes(dir.path(), &changed, &protected(), 1 << 20);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| p.contains("protected path")));
    }

    #[test]
    fn escaping_links_and_huge_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("leak")).unwrap();
        std::os::unix::fs::symlink("../../outside", dir.path().join("a/up")).unwrap();
        std::os::unix::fs::symlink("../README.md", dir.path().join("a/fine")).unwrap();
        std::fs::write(dir.path().join("big.bin"), vec![0u8; 2048]).unwrap();
        std::fs::write(dir.path().join("small.txt"), "ok").unwrap();
        let changed: Vec<String> =
            ["leak", "a/up", "a/fine", "big.bin", "small.txt", "gone.txt"].map(String::from).to_vec();
        let problems = refused_changes(dir.path(), &changed, &protected(), 1024);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("leak:") && problems[1].starts_with("a/up:") && problems[2].starts_with("big.bin:")
        );
    }
}
