//! Edits parsed from plain model text and applied leniently but safely.
//!
//! Small models drift from any format: paths land in odd places, closing markers go missing, indentation inside
//! SEARCH gets dropped. Parsing accepts all of that; applying refuses anything ambiguous or outside the workspace.

use std::path::{Component, Path, PathBuf};

/// One change the model asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Edit {
    /// Replace `search` with `replace` in `path` (an empty `search` creates a new file).
    Replace { path: String, search: String, replace: String },
    /// The complete new contents of `path`.
    WholeFile { path: String, content: String },
}

impl Edit {
    pub fn path(&self) -> &str {
        match self {
            Edit::Replace { path, .. } | Edit::WholeFile { path, .. } => path,
        }
    }
}

fn marker(line: &str, ch: char) -> bool {
    let t = line.trim();
    let n = t.chars().take_while(|&c| c == ch).count();
    (5..=9).contains(&n)
}

fn is_search_start(line: &str) -> bool {
    marker(line, '<') && line.to_ascii_uppercase().contains("SEARCH")
}

fn is_divider(line: &str) -> bool {
    let t = line.trim();
    marker(t, '=') && t.chars().all(|c| c == '=')
}

fn is_replace_end(line: &str) -> bool {
    marker(line, '>')
}

fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

/// Extracts a file path from a line such as `path/to/x.py`, `**x.py**`, `File: x.py`, `# x.py`, or a fence info
/// string like ```` ```python x.py ````.
pub fn path_in_line(line: &str) -> Option<String> {
    let mut t = line.trim();
    t = t.trim_start_matches("```").trim();
    for prefix in ["#", "//", "File:", "file:", "Path:", "path:", "Filename:", "filename:"] {
        t = t.strip_prefix(prefix).unwrap_or(t).trim();
    }
    let candidate = t.split_whitespace().rev().find(|w| looks_like_path(clean_token(w)))?;
    Some(clean_token(candidate).to_owned())
}

fn clean_token(word: &str) -> &str {
    word.trim_matches(|c: char| matches!(c, '*' | '`' | '"' | '\'' | ':' | ',' | '(' | ')' | '[' | ']'))
}

fn looks_like_path(word: &str) -> bool {
    let Some((stem, ext)) = word.rsplit_once('.') else { return false };
    !stem.is_empty()
        && !ext.is_empty()
        && ext.len() <= 6
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && !word.ends_with('.')
}

/// Parses SEARCH/REPLACE blocks, or whole-file fenced blocks when there are none. `known_files` lets a fenced
/// block without any path be matched to the shown file it resembles most.
pub fn parse_edits(reply: &str, known_files: &[(String, String)]) -> Vec<Edit> {
    let text = split_inline_fences(&reply.replace("\r\n", "\n"));
    let lines: Vec<&str> = text.lines().collect();
    let replaces = parse_search_replace(&lines);
    if !replaces.is_empty() {
        return replaces;
    }
    // Explicit Change:/To: headings are a stronger sign than a block that merely resembles a file.
    let pairs = parse_change_pairs(&lines, known_files);
    if !pairs.is_empty() {
        return pairs;
    }
    let whole = parse_whole_files(&lines, known_files);
    if !whole.is_empty() {
        return whole;
    }
    parse_inline_replacements(&lines, known_files)
}

/// "Replace `old` with `new`" in prose, as a replacement where exactly one shown file holds `old` exactly once.
fn parse_inline_replacements(lines: &[&str], known_files: &[(String, String)]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if !(lower.contains("replace") || lower.contains("change")) {
            continue;
        }
        let parts: Vec<&str> = line.split('`').collect();
        // Odd parts are quoted; the words between the first two quotes must say "with" or "to".
        let (Some(old), Some(between), Some(new)) = (parts.get(1), parts.get(2), parts.get(3)) else { continue };
        // "`a` with `b`", "`a` line with `b`", "`a` to `b`".
        let between = between.trim().to_ascii_lowercase();
        let words: Vec<&str> = between.split_whitespace().collect();
        let joins = words.len() <= 3 && words.last().is_some_and(|w| ["with", "to", "by"].contains(w));
        if old.trim().is_empty() || old == new || !joins {
            continue;
        }
        let mut holders = known_files.iter().filter(|(_, text)| text.matches(old).count() == 1);
        let in_one_place = known_files.iter().map(|(_, text)| text.matches(old).count()).sum::<usize>() == 1;
        if let (Some((path, _)), true) = (holders.next(), in_one_place) {
            edits.push(Edit::Replace { path: path.clone(), search: (*old).to_owned(), replace: (*new).to_owned() });
        }
    }
    edits
}

/// `To: ```python` opens a block after text on the same line; put the fence on its own line so it is seen.
fn split_inline_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        let trimmed = line.trim_end();
        match trimmed.find("```") {
            Some(at) if at > 0 && !trimmed[..at].trim().is_empty() && trimmed.matches("```").count() == 1 => {
                let fence = &trimmed[at..];
                let info_is_word = fence[3..].chars().all(|c| c.is_ascii_alphanumeric() || "+-_.".contains(c));
                if info_is_word {
                    out.push_str(trimmed[..at].trim_end());
                    out.push('\n');
                    out.push_str(fence);
                } else {
                    out.push_str(line);
                }
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The fenced blocks of a reply with the line right before each.
fn fenced_blocks<'l>(lines: &[&'l str]) -> Vec<(Option<&'l str>, Vec<&'l str>)> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_fence(lines[i]) {
            i += 1;
            continue;
        }
        let before = lines[..i].iter().rev().find(|l| !l.trim().is_empty()).copied();
        let start = i + 1;
        i = start;
        while i < lines.len() && !is_fence(lines[i]) {
            i += 1;
        }
        blocks.push((before, lines[start..i.min(lines.len())].to_vec()));
        i += 1;
    }
    blocks
}

/// "Change: ```old``` To: ```new```", the way small models like to answer, read as a replacement in the one shown
/// file that holds the old lines.
fn parse_change_pairs(lines: &[&str], known_files: &[(String, String)]) -> Vec<Edit> {
    let heading = |line: Option<&str>, words: &[&str]| {
        line.map(|l| l.trim().trim_start_matches(['#', '*', '-', ' ']).to_ascii_lowercase())
            .is_some_and(|l| words.iter().any(|w| l.starts_with(w)) && l.len() < 60)
    };
    let blocks = fenced_blocks(lines);
    let mut edits = Vec::new();
    for pair in blocks.windows(2) {
        let [(old_intro, old), (new_intro, new)] = pair else { continue };
        if !heading(*old_intro, &["change", "replace", "from", "before", "old", "original"])
            || !heading(*new_intro, &["to", "with", "after", "new", "becomes", "by"])
        {
            continue;
        }
        let search = join(old);
        let Some(first) = old.iter().map(|l| l.trim()).find(|l| !l.is_empty()) else { continue };
        let mut holders = known_files.iter().filter(|(_, text)| text.lines().any(|l| l.trim() == first));
        if let (Some((path, text)), None) = (holders.next(), holders.next()) {
            let replace = join(new);
            let defines = new.iter().map(|l| l.trim()).find(|l| !l.is_empty()).is_some_and(crate::merge::is_definition);
            // A "Change:" block that misquotes the file but a "To:" block that is a whole definition: the
            // definition replaces its namesake.
            if replace_lenient(text, &search, &replace).is_err() && defines {
                edits.push(Edit::WholeFile { path: path.clone(), content: replace });
            } else {
                edits.push(Edit::Replace { path: path.clone(), search, replace });
            }
        }
    }
    edits
}

fn parse_search_replace(lines: &[&str]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut last_path: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if !is_search_start(line) {
            // A path on a short line names the file for the blocks that follow; long prose only mentions files.
            if line.split_whitespace().count() <= 8
                && let Some(p) = path_in_line(line)
            {
                last_path = Some(p);
            }
            i += 1;
            continue;
        }
        i += 1;
        let mut search = Vec::new();
        while i < lines.len() && !is_divider(lines[i]) && !is_replace_end(lines[i]) {
            search.push(lines[i]);
            i += 1;
        }
        if i < lines.len() && is_divider(lines[i]) {
            i += 1;
        }
        let mut replace = Vec::new();
        while i < lines.len() && !is_replace_end(lines[i]) && !is_search_start(lines[i]) {
            // An unterminated block often ends at the closing fence.
            if is_fence(lines[i]) && lines[i + 1..].iter().all(|l| !is_replace_end(l)) {
                break;
            }
            replace.push(lines[i]);
            i += 1;
        }
        if i < lines.len() && is_replace_end(lines[i]) {
            i += 1;
        }
        if let Some(path) = &last_path {
            edits.push(Edit::Replace { path: path.clone(), search: join(&search), replace: join(&replace) });
        }
    }
    edits
}

fn join(lines: &[&str]) -> String {
    if lines.is_empty() { String::new() } else { format!("{}\n", lines.join("\n")) }
}

fn parse_whole_files(lines: &[&str], known_files: &[(String, String)]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_fence(lines[i]) {
            i += 1;
            continue;
        }
        let info_path = path_in_line(lines[i]);
        // The line right before the fence names the file when it ends with the path ("stats.py",
        // "... in stats.py:"); a sentence that merely mentions one ("Line 3 in stats.py must change:") does not.
        let before_path = lines[..i].iter().rev().find(|l| !l.trim().is_empty()).and_then(|l| {
            let last = l.split_whitespace().last()?;
            let path = path_in_line(l)?;
            clean_token(last).trim_end_matches([':', '.']).ends_with(path.as_str()).then_some(path)
        });
        i += 1;
        let start = i;
        while i < lines.len() && !is_fence(lines[i]) {
            i += 1;
        }
        let mut body: Vec<&str> = lines[start..i.min(lines.len())].to_vec();
        i += 1;
        let mut path = info_path.or(before_path);
        // A bare path of a shown file as the block's first line is the model naming the file inside the fence (bench
        // task 18, 2026-12-07: `src/shipwise/units.py` opened the block and the candidate died of a NameError); as
        // code it would never run, so it names the file and is not part of it.
        if let Some(named) = body.first().and_then(|first| shown_path_line(first, known_files)) {
            path = path.or(Some(named));
            body.remove(0);
        }
        if path.is_none()
            && let Some(first) = body.first()
            && (first.trim_start().starts_with('#') || first.trim_start().starts_with("//"))
            && let Some(p) = path_in_line(first)
        {
            path = Some(p);
            body.remove(0);
        }
        let content = join(&body);
        let path = path
            .or_else(|| most_similar_file(&content, known_files))
            .or_else(|| crate::merge::file_defining_first_name_of(&content, known_files));
        if let Some(path) = path
            && !content.trim().is_empty()
        {
            edits.push(Edit::WholeFile { path, content });
        }
    }
    edits
}

/// The shown file that `line` is nothing but the path of (`src/pkg/units.py`, or its tail `pkg/units.py`, bold or in
/// backticks), if any; a line of code such as `math.pi` names no shown file.
fn shown_path_line(line: &str, known_files: &[(String, String)]) -> Option<String> {
    let word = clean_token(line.trim());
    if word.is_empty() || !looks_like_path(word) {
        return None;
    }
    known_files
        .iter()
        .map(|(path, _)| path)
        .find(|path| *path == word || path.ends_with(&format!("/{word}")) || word.ends_with(&format!("/{path}")))
        .cloned()
}

/// The known file sharing the most non-blank lines with `content`, if it shares a meaningful number.
pub fn most_similar_file(content: &str, known_files: &[(String, String)]) -> Option<String> {
    let lines: std::collections::HashSet<&str> = content.lines().map(str::trim).filter(|l| l.len() > 3).collect();
    known_files
        .iter()
        .map(|(path, text)| {
            let shared = text.lines().map(str::trim).filter(|l| l.len() > 3 && lines.contains(l)).count();
            (shared, path)
        })
        .filter(|(shared, _)| *shared >= 3)
        .max_by_key(|(shared, _)| *shared)
        .map(|(_, path)| path.clone())
}

/// Why an edit was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub path: String,
    pub reason: String,
}

/// No edit may make a file larger than this (1 MiB; source files are far smaller).
pub const MAX_EDITED_FILE_BYTES: usize = 1024 * 1024;

/// Checks that `path` stays inside `root` (no absolute paths, `..`, `.git` or escaping symlinks).
pub fn safe_path(root: &Path, path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(path);
    if path.is_empty() || relative.is_absolute() {
        return Err("the path must be relative to the repository".into());
    }
    for component in relative.components() {
        match component {
            // Any case: on case-insensitive file systems (macOS, Windows) `.GIT` is `.git`.
            Component::Normal(part) if part.eq_ignore_ascii_case(".git") => {
                return Err("files under .git cannot be edited".into());
            }
            Component::Normal(_) | Component::CurDir => {}
            _ => return Err("the path must stay inside the repository".into()),
        }
    }
    let full = root.join(relative);
    // Resolve the deepest existing ancestor so a symlink cannot point the write elsewhere.
    let mut existing = full.as_path();
    while !existing.exists() {
        existing = existing.parent().unwrap_or(root);
    }
    let resolved = existing.canonicalize().map_err(|e| format!("cannot resolve the path: {e}"))?;
    let root = root.canonicalize().map_err(|e| format!("cannot resolve the repository: {e}"))?;
    if !resolved.starts_with(&root) {
        return Err("the path leaves the repository through a symlink".into());
    }
    Ok(full)
}

/// Applies one edit under `root`; returns the edited path.
pub fn apply_edit(root: &Path, edit: &Edit) -> Result<String, Rejection> {
    let reject = |reason: String| Rejection { path: edit.path().to_owned(), reason };
    let full = safe_path(root, edit.path()).map_err(reject)?;
    let file = crate::textfile::read(&full).map_err(|e| reject(format!("the file {}; it is not edited", e.reason)))?;
    let new_content = match (edit, file.as_ref().map(|f| f.text.clone())) {
        (Edit::WholeFile { content, .. }, Some(old)) => {
            if let Some(line) = placeholder_line(&old, content) {
                return Err(reject(format!(
                    "the reply leaves code out (`{line}`); send each changed function complete"
                )));
            }
            match crate::merge::merge_definitions(&old, content) {
                Some(merged) => merged,
                None => {
                    let substantial = |text: &str| text.lines().filter(|l| l.trim().len() > 1).count();
                    let defines = content.lines().any(|l| crate::merge::is_definition(l.trim()));
                    if substantial(content) * 3 < substantial(&old) && !defines {
                        return Err(reject(
                            "the block is a fragment of the file; give whole functions or the whole file".into(),
                        ));
                    }
                    restore_elided_ends(&old, content)
                }
            }
        }
        (Edit::WholeFile { content, .. }, None) => content.clone(),
        (Edit::Replace { search, replace, .. }, None) => {
            if search.trim().is_empty() {
                replace.clone()
            } else {
                return Err(reject("the file does not exist (use an empty SEARCH to create it)".into()));
            }
        }
        (Edit::Replace { search, replace, .. }, Some(old)) => {
            if search.trim().is_empty() {
                return Err(reject(
                    "an empty SEARCH would overwrite an existing file; quote the lines to change".into(),
                ));
            }
            replace_lenient(&old, search, replace).map_err(reject)?
        }
    };
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).map_err(|e| reject(format!("cannot create the directory: {e}")))?;
    }
    // Back in the file's own form: encoding, BOM, line endings, indentation, final newline.
    let bytes = match &file {
        Some(file) => file.encode(&new_content).map_err(reject)?,
        None => new_content.into_bytes(),
    };
    if bytes.len() > MAX_EDITED_FILE_BYTES {
        // A flood (a prompt injection asking for huge output) must not reach the disk, the next prompt or a push.
        return Err(reject(format!(
            "the edit would make the file {} bytes, over the {MAX_EDITED_FILE_BYTES}-byte limit for one file",
            bytes.len()
        )));
    }
    std::fs::write(&full, bytes).map_err(|e| reject(format!("cannot write: {e}")))?;
    Ok(edit.path().to_owned())
}

/// A line standing for code the model left out (`# ... rest unchanged`, a bare `...`), which the file does not
/// have: applying such a reply would delete that code.
fn placeholder_line(old: &str, new: &str) -> Option<String> {
    const MARKERS: [&str; 6] = ["...", "rest of", "unchanged", "remains the same", "existing code", "same as before"];
    let old_lines: std::collections::HashSet<&str> = old.lines().map(str::trim).collect();
    new.lines()
        .map(str::trim)
        .find(|line| {
            let comment = ["#", "//", "/*", "*"].iter().find_map(|c| line.strip_prefix(c));
            let elides = match comment {
                Some(text) => MARKERS.iter().any(|m| text.to_lowercase().contains(m)),
                None => *line == "..." || *line == "…",
            };
            elides && !old_lines.contains(line)
        })
        .map(str::to_owned)
}

/// Small models often send "the complete file" without its imports, or only the function they changed. When the
/// reply starts (or ends) inside the file's structure, the top-level code before (or after) it was left out, not
/// deleted, and is kept. Anything ambiguous leaves the reply as it is.
pub fn restore_elided_ends(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let significant = |line: &str| line.trim().len() >= 4;
    let unique_in_old = |line: &str| {
        let mut hits = old_lines.iter().enumerate().filter(|(_, l)| l.trim() == line.trim()).map(|(i, _)| i);
        match (hits.next(), hits.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    };
    let new_set: std::collections::HashSet<&str> = new_lines.iter().map(|l| l.trim()).collect();
    // The left-out part must really be absent from the reply, or it was moved rather than elided.
    let absent = |part: &[&str]| part.iter().filter(|l| significant(l)).all(|l| !new_set.contains(l.trim()));

    let mut prefix: &[&str] = &[];
    let first_anchor =
        new_lines.iter().enumerate().find(|(_, l)| significant(l)).and_then(|(k, l)| Some((k, unique_in_old(l)?)));
    let first_anchor = first_anchor.or_else(|| {
        // A changed first line (a new signature) anchors on the next line the file has.
        let mut lines = new_lines.iter().enumerate().filter(|(_, l)| significant(l));
        let (_, head) = lines.next()?;
        let (k, l) = lines.next()?;
        (is_top_level_start(head) && !is_top_level_start(l)).then_some((k, unique_in_old(l)?))
    });
    if let Some((k, i)) = first_anchor {
        let before: Vec<&str> = new_lines[..k].iter().copied().filter(|l| significant(l)).collect();
        let start = match before.as_slice() {
            // The reply starts at the anchor, or inside a block: everything above the anchor was left out.
            [] => Some(i),
            [head] if is_top_level_start(head) => Some(unit_start(&old_lines, i)),
            _ => None,
        };
        if let Some(start) = start
            && old_lines[..start].iter().any(|l| !l.trim().is_empty())
            && absent(&old_lines[..start])
        {
            prefix = &old_lines[..start];
        }
    }

    let mut suffix: &[&str] = &[];
    let last_anchor = new_lines
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, l)| significant(l))
        .find_map(|(k, l)| Some((k, unique_in_old(l)?)));
    if let Some((k, j)) = last_anchor
        && !new_lines[k + 1..].iter().any(|l| is_top_level_start(l))
    {
        let mut end = next_unit(&old_lines, j);
        // The blank lines that separated the units come along with the kept part.
        while end > j + 1 && old_lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        let rest = &old_lines[end..];
        if rest.iter().any(|l| !l.trim().is_empty()) && absent(rest) {
            suffix = rest;
        }
    }
    if prefix.is_empty() && suffix.is_empty() {
        return new.to_owned();
    }
    let mut merged: Vec<&str> = prefix.to_vec();
    merged.extend(new_lines.iter().copied());
    merged.extend(suffix.iter().copied());
    format!("{}\n", merged.join("\n").trim_end())
}

/// A line that starts a top-level statement: not indented, not blank, not only closing brackets.
pub(crate) fn is_top_level_start(line: &str) -> bool {
    !line.is_empty()
        && !line.starts_with([' ', '\t'])
        && !line.trim().chars().all(|c| matches!(c, '}' | ')' | ']' | ';' | ','))
}

/// Where the top-level statement holding line `i` starts.
fn unit_start(lines: &[&str], i: usize) -> usize {
    (0..=i).rev().find(|&n| is_top_level_start(lines[n])).unwrap_or(0)
}

/// Where the top-level statement after the one holding line `i` starts, or the end.
fn next_unit(lines: &[&str], i: usize) -> usize {
    (i + 1..lines.len()).find(|&n| is_top_level_start(lines[n])).unwrap_or(lines.len())
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Replaces `search` in `content`: exactly when possible, else line by line ignoring surrounding whitespace,
/// re-indenting the replacement to where the match was found. Several matches are refused, never guessed.
pub fn replace_lenient(content: &str, search: &str, replace: &str) -> Result<String, String> {
    let content_n = content.replace("\r\n", "\n");
    let exact_count = content_n.matches(search).count();
    if exact_count == 1 {
        return Ok(content_n.replacen(search, replace, 1));
    }
    if exact_count > 1 {
        return Err(format!("the SEARCH text occurs {exact_count} times; include more lines so it is unique"));
    }
    let search_lines: Vec<&str> = search.lines().collect();
    let first = search_lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let last = search_lines.iter().rposition(|l| !l.trim().is_empty()).map_or(0, |p| p + 1);
    let search_lines = &search_lines[first..last.max(first)];
    if search_lines.is_empty() {
        return Err("the SEARCH block is empty".into());
    }
    let file_lines: Vec<&str> = content_n.lines().collect();
    let matches: Vec<usize> = (0..file_lines.len().saturating_sub(search_lines.len() - 1))
        .filter(|&start| search_lines.iter().enumerate().all(|(k, s)| file_lines[start + k].trim() == s.trim()))
        .collect();
    let start = match matches.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "the SEARCH lines were not found (first line: `{}`); copy them exactly from the file",
                search_lines[0].trim()
            ));
        }
        many => return Err(format!("the SEARCH lines match {} places; include more lines", many.len())),
    };
    let target_indent = indent_of(file_lines[start]);
    let search_indent = indent_of(search_lines[0]);
    let replace_lines: Vec<&str> = replace.lines().collect();
    let replace_indent = replace_lines.iter().find(|l| !l.trim().is_empty()).map_or("", |l| indent_of(l));
    // Shift the replacement by however far the SEARCH was off, unless the model already indented it right.
    let shifted: Vec<String> = replace_lines
        .iter()
        .map(|line| {
            if line.trim().is_empty() || replace_indent == target_indent {
                (*line).to_owned()
            } else if let Some(rest) = line.strip_prefix(search_indent) {
                format!("{target_indent}{rest}")
            } else {
                format!("{target_indent}{}", line.trim_start())
            }
        })
        .collect();
    let mut out: Vec<String> = file_lines[..start].iter().map(|l| (*l).to_owned()).collect();
    out.extend(shifted);
    out.extend(file_lines[start + search_lines.len()..].iter().map(|l| (*l).to_owned()));
    let mut text = out.join("\n");
    if content_n.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLUG: &str = "import re\n\n_NON = re.compile('x')\n\n\ndef slugify(t):\n    return _NON.sub('-', t)\n\n\ndef unique(t):\n    return slugify(t) + '-2'\n";

    #[test]
    fn a_whole_file_without_its_imports_keeps_them() {
        let reply =
            "def slugify(t):\n    return _NON.sub('-', t.lower())\n\n\ndef unique(t):\n    return slugify(t) + '-2'\n";
        let merged = restore_elided_ends(SLUG, reply);
        assert_eq!(merged, SLUG.replace("sub('-', t)", "sub('-', t.lower())"));
    }

    #[test]
    fn a_single_function_reply_keeps_the_rest_of_the_file() {
        let reply = "def slugify(t):\n    return _NON.sub('-', t.lower())\n";
        let merged = restore_elided_ends(SLUG, reply);
        assert!(merged.starts_with("import re\n") && merged.contains("t.lower()") && merged.contains("def unique"));
        assert_eq!(merged.matches("def slugify").count(), 1);
    }

    #[test]
    fn complete_or_reordered_replies_are_taken_as_they_are() {
        let complete = SLUG.replace("t)\n", "t.lower())\n");
        assert_eq!(restore_elided_ends(SLUG, &complete), complete);
        // The imports moved below, not dropped: nothing is added back.
        let moved = "def slugify(t):\n    return _NON.sub('-', t)\nimport re\n_NON = re.compile('x')\n";
        assert_eq!(restore_elided_ends(SLUG, moved), moved);
        // A first line that is new gives no anchor above; the function left out below is still kept.
        let new_top = "import os\ndef slugify(t):\n    return t\n";
        assert_eq!(
            restore_elided_ends(SLUG, new_top),
            format!("{new_top}\n\ndef unique(t):\n    return slugify(t) + '-2'\n")
        );
    }

    const FILE: &str = "def median(values):\n    ordered = sorted(values)\n    middle = len(ordered) // 2\n    return ordered[middle]\n";

    fn known() -> Vec<(String, String)> {
        vec![("stats.py".into(), FILE.into()), ("test_stats.py".into(), "import unittest\n".into())]
    }

    #[test]
    fn search_replace_with_path_line() {
        let reply = "Here is the fix:\n\nstats.py\n<<<<<<< SEARCH\n    return ordered[middle]\n=======\n    return 1\n>>>>>>> REPLACE\n";
        let edits = parse_edits(reply, &known());
        assert_eq!(
            edits,
            vec![Edit::Replace {
                path: "stats.py".into(),
                search: "    return ordered[middle]\n".into(),
                replace: "    return 1\n".into()
            }]
        );
    }

    #[test]
    fn path_in_fence_info_crlf_and_unterminated_block() {
        let reply = "```python src/stats.py\r\n<<<<<<< SEARCH\r\nx = 1\r\n=======\r\nx = 2\r\n```";
        let edits = parse_edits(reply, &[]);
        assert_eq!(
            edits,
            vec![Edit::Replace { path: "src/stats.py".into(), search: "x = 1\n".into(), replace: "x = 2\n".into() }]
        );
    }

    #[test]
    fn markdown_decorated_paths_and_long_markers() {
        let reply = "**File: `pkg/a.py`**\n```python\n<<<<<<<<< SEARCH\na\n=========\nb\n>>>>>>>>> REPLACE\n```\n\n### pkg/b.py\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE";
        let paths: Vec<String> = parse_edits(reply, &[]).iter().map(|e| e.path().to_owned()).collect();
        assert_eq!(paths, vec!["pkg/a.py", "pkg/b.py"]);
    }

    #[test]
    fn a_fenced_whole_file_without_any_path_is_matched_to_the_shown_file() {
        let reply = format!("```python\n{}    # fixed\n```\n", FILE);
        let edits = parse_edits(&reply, &known());
        assert!(matches!(&edits[..], [Edit::WholeFile { path, .. }] if path == "stats.py"), "{edits:?}");
    }

    #[test]
    fn whole_file_with_path_before_the_fence_or_in_a_comment() {
        let edits = parse_edits("stats.py:\n```python\nx = 1\n```", &[]);
        assert_eq!(edits, vec![Edit::WholeFile { path: "stats.py".into(), content: "x = 1\n".into() }]);
        let edits = parse_edits("```\n# lib/util.py\ny = 2\n```", &[]);
        assert_eq!(edits, vec![Edit::WholeFile { path: "lib/util.py".into(), content: "y = 2\n".into() }]);
    }

    #[test]
    fn a_shown_files_path_on_the_first_line_inside_the_fence_names_the_file() {
        let shown = vec![("src/shipwise/units.py".to_owned(), "FACTOR = 2.2\n".to_owned())];
        let edits = parse_edits("```\nsrc/shipwise/units.py\nFACTOR = 0.45\n```", &shown);
        assert_eq!(
            edits,
            vec![Edit::WholeFile { path: "src/shipwise/units.py".into(), content: "FACTOR = 0.45\n".into() }]
        );
        let edits = parse_edits("units.py:\n```python\n**shipwise/units.py**\nFACTOR = 0.45\n```", &shown);
        assert_eq!(edits, vec![Edit::WholeFile { path: "units.py".into(), content: "FACTOR = 0.45\n".into() }]);
        // A first line that is code, or the path of a file not shown, stays in the file.
        let edits = parse_edits("```python src/shipwise/units.py\nmath.pi\nFACTOR = 2.2\n```", &shown);
        assert_eq!(
            edits,
            vec![Edit::WholeFile { path: "src/shipwise/units.py".into(), content: "math.pi\nFACTOR = 2.2\n".into() }]
        );
    }

    #[test]
    fn change_to_pairs_become_replacements_in_the_file_that_holds_the_old_lines() {
        let reply = "The median is wrong.\n\nChange:\n```python\n    return ordered[middle]\n```\nTo:\n```python\n    return (ordered[middle] + ordered[~middle]) / 2\n```\n";
        let edits = parse_edits(reply, &known());
        assert_eq!(
            edits,
            vec![Edit::Replace {
                path: "stats.py".into(),
                search: "    return ordered[middle]\n".into(),
                replace: "    return (ordered[middle] + ordered[~middle]) / 2\n".into()
            }]
        );
        // Old lines that no shown file holds give nothing to apply.
        assert!(parse_edits(&reply.replace("ordered[middle]\n```\nTo", "nowhere\n```\nTo"), &known()).is_empty());
    }

    #[test]
    fn a_snippet_after_a_sentence_that_mentions_the_file_is_not_the_file() {
        let reply = "Line 3 in stats.py must change. The line should be:\n```python\n    return ordered[middle]\n```\n";
        assert!(parse_edits(reply, &known()).is_empty());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stats.py"), FILE.repeat(3)).unwrap();
        let fragment = Edit::WholeFile { path: "stats.py".into(), content: "    middle = len(ordered) // 3\n".into() };
        assert!(apply_edit(dir.path(), &fragment).unwrap_err().reason.contains("fragment"));
    }

    #[test]
    fn a_fence_after_text_on_the_same_line_still_opens_a_block() {
        let reply = "Change: compute the middle properly.\n\nTo: ```python\ndef median(values):\n    ordered = sorted(values)\n    middle = len(ordered) // 2\n    return ordered[middle - 1]\n```\n";
        let edits = parse_edits(reply, &known());
        assert!(
            matches!(&edits[..], [Edit::WholeFile { path, content }] if path == "stats.py" && content.contains("middle - 1")),
            "{edits:?}"
        );
        // Inline code with three backticks inside prose is left alone.
        assert_eq!(split_inline_fences("say ```x``` here\n"), "say ```x``` here\n");
    }

    #[test]
    fn replace_x_with_y_in_prose_is_a_replacement_when_x_is_in_one_place() {
        let reply = "Change: Replace the line `middle = len(ordered) // 2` with `middle = (len(ordered) - 1) // 2`.";
        let edits = parse_edits(reply, &known());
        assert_eq!(
            edits,
            vec![Edit::Replace {
                path: "stats.py".into(),
                search: "middle = len(ordered) // 2".into(),
                replace: "middle = (len(ordered) - 1) // 2".into()
            }]
        );
        assert!(parse_edits("Replace `nothing like this` with `x`.", &known()).is_empty());
        assert!(parse_edits("Use `median` and `sorted` here.", &known()).is_empty());
    }

    #[test]
    fn a_misquoted_change_block_before_a_whole_definition_replaces_the_definition() {
        let reply = "Change:\n```\ndef median(values):\n    return sorted(values)[len(values) // 2 - 1]\n```\nTo:\n```\ndef median(values):\n    ordered = sorted(values)\n    return ordered[(len(ordered) - 1) // 2]\n```\n";
        let edits = parse_edits(reply, &known());
        assert!(
            matches!(&edits[..], [Edit::WholeFile { path, content }] if path == "stats.py" && content.starts_with("def median")),
            "{edits:?}"
        );
    }

    #[test]
    fn prose_only_gives_no_edits() {
        assert!(parse_edits("I think the problem is in the median function. You should fix it.", &known()).is_empty());
    }

    #[test]
    fn dropped_indentation_in_search_is_matched_and_the_replacement_reindented() {
        let out = replace_lenient(FILE, "middle = len(ordered) // 2\nreturn ordered[middle]\n", "middle = len(ordered) // 2\nif len(ordered) % 2 == 0:\n    return (ordered[middle - 1] + ordered[middle]) / 2\nreturn ordered[middle]\n").unwrap();
        assert!(out.contains("\n    if len(ordered) % 2 == 0:\n        return (ordered[middle - 1]"), "{out}");
        assert!(out.ends_with("    return ordered[middle]\n"));
    }

    #[test]
    fn trailing_whitespace_and_a_correctly_indented_replacement() {
        let out = replace_lenient(FILE, "  return ordered[middle]   \n", "    return ordered[middle - 1]\n").unwrap();
        assert!(out.ends_with("    return ordered[middle - 1]\n"), "{out}");
    }

    #[test]
    fn ambiguous_and_missing_matches_are_refused() {
        let text = "x = 1\ny = 2\nx = 1\n";
        assert!(replace_lenient(text, "x = 1\n", "x = 3\n").unwrap_err().contains("2 times"));
        assert!(replace_lenient(text, "  x = 1  \n", "x = 3\n").unwrap_err().contains("2 places"));
        assert!(replace_lenient(text, "z = 9\n", "").unwrap_err().contains("not found"));
    }

    #[test]
    fn unsafe_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["/etc/passwd", "../outside.py", "a/../../x", ".git/config", ""] {
            let edit = Edit::WholeFile { path: bad.into(), content: "x".into() };
            assert!(apply_edit(dir.path(), &edit).is_err(), "{bad} must be refused");
        }
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
            let edit = Edit::WholeFile { path: "link/evil.py".into(), content: "x".into() };
            assert!(apply_edit(dir.path(), &edit).unwrap_err().reason.contains("symlink"));
        }
    }

    #[test]
    fn truncated_whole_files_are_refused_and_new_files_created() {
        let dir = tempfile::tempdir().unwrap();
        let long: String = (0..20).map(|i| format!("line_{i} = {i}\n")).collect();
        std::fs::write(dir.path().join("big.py"), &long).unwrap();
        let edit =
            Edit::WholeFile { path: "big.py".into(), content: "line_0 = 0\n# ... rest of the file unchanged\n".into() };
        assert!(apply_edit(dir.path(), &edit).is_err());
        let create = Edit::Replace { path: "new/mod.py".into(), search: String::new(), replace: "z = 1\n".into() };
        apply_edit(dir.path(), &create).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("new/mod.py")).unwrap(), "z = 1\n");
    }
}
