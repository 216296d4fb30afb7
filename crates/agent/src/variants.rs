//! Variants: small mechanical changes to the functions a failing reproduction test reaches, run like candidates.
//!
//! Two bug shapes users file often are edits a 1.5B model rarely writes. Off-by-one comparisons (`<` where `<=`
//! was meant: "touching intervals stay separate", "the last page is empty"): on bench task 04 (2026-12-04) ten
//! candidates rewrote the loop, none changed `start < merged[-1][1]` to `<=`. And an option read under another name
//! than the one users pass ("the `level` option is ignored" while the code reads `options.logLevel`): on task 23 the
//! samples that opened `src/options.js` rewrote the function around that read. A variant costs a test run and no
//! model call, so once the model's candidates have shown no fix, the variants of the functions a kept reproduction
//! test reaches are run one at a time like any candidate. Only a test that failed on the base commit and passes with
//! the variant, with nothing broken, can make one win; a variant never claims more than a model-written candidate.
//! (Three more shapes came later: a loop over a collection its callbacks change, `xs[-n:]` for "the last n", which
//! is everything when `n` is 0, and a cut to a limit that a suffix then overruns.)

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::candidates::{self, Candidate, diff_lines};
use crate::repo::RepoFile;
use crate::select::Evaluated;
use crate::{Agent, AgentError, AgentEvent, AgentOutcome, Search};

/// Variants tried per attempt, at most: a test run each (a second for a small Python suite, a compile for Rust).
pub const MAX_VARIANTS: usize = 6;

/// Name variants among them, at most: each needs a name the issue passes that the code reads under a longer or
/// shorter spelling, which few lines have.
const MAX_NAME_VARIANTS: usize = 2;

/// Copy variants among them, at most.
const MAX_COPY_VARIANTS: usize = 2;

/// Zero-count variants among them, at most.
const MAX_ZERO_COUNT_VARIANTS: usize = 2;

/// Fit variants among them, at most.
const MAX_FIT_VARIANTS: usize = 2;

/// What a variant changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A comparison flipped at its boundary (`<` to `<=`).
    Boundary,
    /// A property or key read under the name the issue passes (`options.logLevel` to `options.level`).
    Name,
    /// A loop over a collection made to iterate over a copy (`for (const fn of list.slice())`), for a callback
    /// that changes the collection while it is walked.
    Copy,
    /// A slice of the last `n` made empty for `n` = 0 (`xs[-n:]` is all of `xs` when `n` is 0).
    ZeroCount,
    /// A cut to `n` that a suffix is then appended to, made to leave room for the suffix
    /// (`text.slice(0, max) + ellipsis` to `text.slice(0, max - ellipsis.length) + ellipsis`).
    Fit,
}

/// One variant of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub path: String,
    /// The whole file with the line changed.
    pub content: String,
    /// 1-based line of the change.
    pub line: usize,
    pub kind: Kind,
    pub from: String,
    pub to: String,
    /// The function the line is in.
    pub function: String,
}

impl Variant {
    /// `boundary variant: ...` or `name variant: ...`: the prefix names the kind (the summary of the outcome keys on
    /// it), the rest says what changed where.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            Kind::Boundary => format!("boundary variant: `{}` to `{}`", self.from, self.to),
            Kind::Name => format!("name variant: `{}` read as `{}`, the name the issue passes", self.from, self.to),
            Kind::Copy => format!("copy variant: the loop walks `{}`, a copy of `{}`", self.to, self.from),
            Kind::ZeroCount => format!("zero-count variant: `{}` as `{}`", self.from, self.to),
            Kind::Fit => format!("fit variant: `{}` as `{}`, leaving room for what is appended", self.from, self.to),
        };
        format!("{what} in {} ({}, line {})", self.function, self.path, self.line)
    }
}

/// A function a test reaches: its file, its 0-based lines (signature first) and its name.
struct Reached<'f> {
    file: &'f RepoFile,
    lines: Range<usize>,
    name: String,
}

/// The functions named in `called` that the non-test `files` define, then the functions those call (one level
/// down: `createLogger` calls `normalizeOptions`, where the option is read), each once, in that order.
fn reached<'f>(files: &'f [RepoFile], called: &[String]) -> Vec<Reached<'f>> {
    let mut out: Vec<Reached<'f>> = Vec::new();
    let find = |name: &str, out: &mut Vec<Reached<'f>>| {
        for file in files.iter().filter(|f| !f.is_test) {
            let Some(lines) = function_lines(&file.content, name) else { continue };
            if !out.iter().any(|r| r.file.path == file.path && r.lines.start == lines.start) {
                out.push(Reached { file, lines, name: name.to_owned() });
            }
        }
    };
    for name in called {
        find(name, &mut out);
    }
    let direct = out.len();
    for i in 0..direct {
        let body: Vec<&str> = out[i].file.content.lines().skip(out[i].lines.start).take(out[i].lines.len()).collect();
        let body = body.join("\n");
        for callee in crate::context::calls_in_order(&body) {
            find(&callee, &mut out);
        }
    }
    out
}

/// The variants of the functions `called` reaches in `files`, at most `max`: name variants first (they need the
/// issue to pass a name the code spells otherwise, so they are few and pointed), then boundary variants, each
/// kind in the order the functions are reached and then by line.
pub fn variants(files: &[RepoFile], called: &[String], issue_text: &str, max: usize) -> Vec<Variant> {
    let reached = reached(files, called);
    let mut out = name_variants(&reached, issue_text);
    out.truncate(MAX_NAME_VARIANTS);
    let mut copies: Vec<Variant> = reached.iter().flat_map(copy_variants).collect();
    copies.truncate(MAX_COPY_VARIANTS);
    out.extend(copies);
    let mut zero: Vec<Variant> = reached.iter().flat_map(zero_count_variants).collect();
    zero.truncate(MAX_ZERO_COUNT_VARIANTS);
    out.extend(zero);
    let mut fits: Vec<Variant> = reached.iter().flat_map(fit_variants).collect();
    fits.truncate(MAX_FIT_VARIANTS);
    out.extend(fits);
    for r in &reached {
        for index in r.lines.clone() {
            out.extend(flips_on_line(r.file, index, &r.name));
        }
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    out.retain(|v| {
        let key = (v.path.clone(), v.content.clone());
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    out.truncate(max);
    out
}

/// `file` with line `index` (0-based) replaced by `line` (which keeps its own line ending).
fn with_line(file: &RepoFile, index: usize, line: &str) -> String {
    let mut content = String::with_capacity(file.content.len() + 16);
    for (i, l) in file.content.split_inclusive('\n').enumerate() {
        content.push_str(if i == index { line } else { l });
    }
    content
}

/// The comparisons flipped at their boundary: only binary operators written with a space on each side, which
/// leaves generics (`Vec<u8>`), arrows, shifts and HTML alone.
const FLIPS: [(&str, &str); 4] = [(" <= ", " < "), (" >= ", " > "), (" < ", " <= "), (" > ", " >= ")];

/// Each comparison of line `index` (0-based) of `file` flipped, one variant each.
fn flips_on_line(file: &RepoFile, index: usize, function: &str) -> Vec<Variant> {
    let text: Vec<&str> = file.content.split_inclusive('\n').collect();
    let Some(line) = text.get(index) else { return Vec::new() };
    let code = line.trim_start();
    if code.starts_with('#') || code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
        return Vec::new();
    }
    let mut found: Vec<(usize, Variant)> = Vec::new();
    for (from, to) in FLIPS {
        for (at, _) in line.match_indices(from).filter(|(at, _)| !in_string_or_comment(line, *at)) {
            let flipped = format!("{}{to}{}", &line[..at], &line[at + from.len()..]);
            let variant = Variant {
                path: file.path.clone(),
                content: with_line(file, index, &flipped),
                line: index + 1,
                kind: Kind::Boundary,
                from: from.trim().to_owned(),
                to: to.trim().to_owned(),
                function: function.to_owned(),
            };
            found.push((at, variant));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, v)| v).collect()
}

/// Each read of a property or key in the `reached` functions whose name is a longer or shorter spelling of a name
/// the issue's code passes (`options.logLevel` where the issue passes `{ level: 'warn' }`, `opts.get("log_level")`
/// where it calls `f(level="warn")`), read under the issue's name instead. The code's spelling must not appear in
/// the issue: an issue that names `logLevel` itself is about something else.
fn name_variants(reached: &[Reached<'_>], issue_text: &str) -> Vec<Variant> {
    let keys = issue_keys(issue_text);
    let mut out = Vec::new();
    if keys.is_empty() {
        return out;
    }
    for r in reached {
        let text: Vec<&str> = r.file.content.split_inclusive('\n').collect();
        for index in r.lines.clone() {
            let Some(line) = text.get(index) else { continue };
            for (name, range) in property_reads(line) {
                if mentions(issue_text, name) {
                    continue;
                }
                for key in keys.iter().filter(|k| spells_alike(name, k)) {
                    let renamed = format!("{}{key}{}", &line[..range.start], &line[range.end..]);
                    out.push(Variant {
                        path: r.file.path.clone(),
                        content: with_line(r.file, index, &renamed),
                        line: index + 1,
                        kind: Kind::Name,
                        from: name.to_owned(),
                        to: key.clone(),
                        function: r.name.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Each loop of `r` over a plain collection (a name or attribute path: `list`, `self._handlers`) that calls its
/// element in the next three lines, made to walk a copy: JavaScript's `for (const x of list)` as `list.slice()`, Python's `for x in items:` as `list(items)`.
/// A callback that subscribes or unsubscribes while the loop runs skips or repeats an element of the original
/// (bench task 16: a `once` listener removed itself during `emit`, and the next listener was skipped).
fn copy_variants(r: &Reached<'_>) -> Vec<Variant> {
    let text: Vec<&str> = r.file.content.split_inclusive('\n').collect();
    let mut out = Vec::new();
    for index in r.lines.clone() {
        let Some(line) = text.get(index) else { continue };
        let Some((range, copy, element)) = loop_collection(line) else { continue };
        // Only a loop that calls what it walks: a plain loop over data changes nothing while it runs.
        let body = text.iter().skip(index + 1).take(3).any(|l| l.contains(&format!("{element}(")));
        if !body {
            continue;
        }
        let collection = &line[range.clone()];
        let walked = copy.replace("{}", collection);
        let changed = format!("{}{walked}{}", &line[..range.start], &line[range.end..]);
        out.push(Variant {
            path: r.file.path.clone(),
            content: with_line(r.file, index, &changed),
            line: index + 1,
            kind: Kind::Copy,
            from: collection.to_owned(),
            to: walked,
            function: r.name.clone(),
        });
    }
    out
}

/// Each slice of the last `n` items in `r` whose count is a plain name, made empty when the count is 0: Python's
/// `xs[-n:]` as `(xs[-n:] if n else xs[:0])`, JavaScript's `xs.slice(-n)` as `(n ? xs.slice(-n) : xs.slice(0, 0))`.
/// `-0` is `0`, so the slice of "the last 0" is the whole sequence: `tail -n 0` printing everything (bench task 19,
/// where every candidate special-cased the command line and left `last_records(records, 0)` returning all).
fn zero_count_variants(r: &Reached<'_>) -> Vec<Variant> {
    let python = r.file.path.ends_with(".py");
    let javascript = [".js", ".mjs", ".cjs", ".ts"].iter().any(|e| r.file.path.ends_with(e));
    if !python && !javascript {
        return Vec::new();
    }
    let (opening, close) = if python { ("[-", ":]") } else { (".slice(-", ")") };
    let text: Vec<&str> = r.file.content.split_inclusive('\n').collect();
    let mut out = Vec::new();
    for index in r.lines.clone() {
        let Some(line) = text.get(index) else { continue };
        for (at, _) in line.match_indices(opening) {
            let count_start = at + opening.len();
            let count_len = line[count_start..].bytes().take_while(|b| is_ident(*b) || *b == b'.').count();
            let count = &line[count_start..count_start + count_len];
            if !plain_name(count)
                || !line[count_start + count_len..].starts_with(close)
                || in_string_or_comment(line, at)
            {
                continue;
            }
            let Some(start) = receiver_start(line, at) else { continue };
            let end = count_start + count_len + close.len();
            let (receiver, slice) = (&line[start..at], &line[start..end]);
            let guarded = if python {
                format!("({slice} if {count} else {receiver}[:0])")
            } else {
                format!("({count} ? {slice} : {receiver}.slice(0, 0))")
            };
            out.push(Variant {
                path: r.file.path.clone(),
                content: with_line(r.file, index, &format!("{}{guarded}{}", &line[..start], &line[end..])),
                line: index + 1,
                kind: Kind::ZeroCount,
                from: slice.to_owned(),
                to: guarded,
                function: r.name.clone(),
            });
        }
    }
    out
}

/// Each cut of a text to a count that a suffix is appended to in `r`, both plain names, made to leave room for the
/// suffix: JavaScript's `s.slice(0, n) + tail` (or `.substring(0, n)`) as `s.slice(0, n - tail.length) + tail`,
/// Python's `s[:n] + tail` as `s[:n - len(tail)] + tail`. A limit that the appended ellipsis overruns is a bug users
/// file ("truncate() returns strings longer than maxLength", bench task 05, which the model fixed in 6 of 15 runs).
fn fit_variants(r: &Reached<'_>) -> Vec<Variant> {
    let python = r.file.path.ends_with(".py");
    let javascript = [".js", ".mjs", ".cjs", ".ts"].iter().any(|e| r.file.path.ends_with(e));
    let cuts: &[(&str, &str)] = match (python, javascript) {
        (true, _) => &[("[:", "]"), ("[0:", "]")],
        (_, true) => &[(".slice(0, ", ")"), (".substring(0, ", ")"), (".slice(0,", ")")],
        _ => return Vec::new(),
    };
    let text: Vec<&str> = r.file.content.split_inclusive('\n').collect();
    let mut out = Vec::new();
    for index in r.lines.clone() {
        let Some(line) = text.get(index) else { continue };
        for (opening, close) in cuts {
            for (at, _) in line.match_indices(opening) {
                if at == 0 || !(is_ident(line.as_bytes()[at - 1]) || b")]".contains(&line.as_bytes()[at - 1])) {
                    continue;
                }
                let count_start = at + opening.len();
                let count_len = line[count_start..].bytes().take_while(|b| is_ident(*b) || *b == b'.').count();
                let count = &line[count_start..count_start + count_len];
                let after = &line[count_start + count_len..];
                let Some(rest) = after.strip_prefix(close) else { continue };
                let Some(joined) = rest.trim_start().strip_prefix('+') else { continue };
                let joined = joined.trim_start();
                let suffix_len = joined.bytes().take_while(|b| is_ident(*b) || *b == b'.').count();
                let suffix = &joined[..suffix_len];
                let called = joined[suffix_len..].trim_start().starts_with(['(', '[']);
                if !plain_name(count)
                    || !plain_name(suffix)
                    || called
                    || count == suffix
                    || in_string_or_comment(line, at)
                {
                    continue;
                }
                let room =
                    if python { format!("{count} - len({suffix})") } else { format!("{count} - {suffix}.length") };
                let end = count_start + count_len;
                let changed = format!("{}{room}{}", &line[..count_start], &line[end..]);
                out.push(Variant {
                    path: r.file.path.clone(),
                    content: with_line(r.file, index, &changed),
                    line: index + 1,
                    kind: Kind::Fit,
                    from: format!("{opening}{count}{close}").trim_start_matches('.').to_owned(),
                    to: format!("{opening}{room}{close}").trim_start_matches('.').to_owned(),
                    function: r.name.clone(),
                });
            }
        }
    }
    out
}

/// Whether `text` (identifier characters and dots, as the slice scans collect them) is a name or attribute path,
/// not a number literal or a path cut short (`n`, `self.limit`; not `3`, not `opts.`).
fn plain_name(text: &str) -> bool {
    !text.is_empty() && !text.starts_with(|c: char| c.is_ascii_digit()) && !text.ends_with('.')
}

/// Where the expression that ends at byte `end` of `line` starts: names, attributes and calls or subscripts with
/// balanced brackets (`list(records)`, `self.items`, `rows[1]`). `None` when there is none.
fn receiver_start(line: &str, end: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = end;
    while i > 0 {
        let b = bytes[i - 1];
        if is_ident(b) || b == b'.' {
            i -= 1;
        } else if b == b')' || b == b']' {
            let (close, open) = (b, if b == b')' { b'(' } else { b'[' });
            let mut depth = 0usize;
            loop {
                i = i.checked_sub(1)?;
                if bytes[i] == close {
                    depth += 1;
                } else if bytes[i] == open {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
        } else {
            break;
        }
    }
    (i < end && (is_ident(bytes[i]) || bytes[i] == b'(' || bytes[i] == b'[')).then_some(i)
}

/// The byte range of the collection a `for` line walks, the pattern of its copy (`{}` stands for it) and the
/// loop's element name; `None` unless the collection is a plain name or attribute path (a call, a range or a
/// literal is left alone) and the element a single name.
fn loop_collection(line: &str) -> Option<(Range<usize>, &'static str, &str)> {
    let code = line.trim_end();
    let indent = code.len() - code.trim_start().len();
    let rest = &code[indent..];
    let (start, end, copy, element) = if let Some(head) = rest.strip_prefix("for (") {
        let of = head.find(" of ")?;
        let close = head.rfind(')')?;
        let element = head[..of].rsplit(' ').next()?;
        (indent + 5 + of + 4, indent + 5 + close, "{}.slice()", element)
    } else if rest.starts_with("for ") && rest.ends_with(':') {
        let at = rest.find(" in ")?;
        (indent + at + 4, code.len() - 1, "list({})", rest[4..at].trim())
    } else {
        return None;
    };
    let collection = line.get(start..end)?.trim();
    let plain =
        |name: &str| !name.is_empty() && name.bytes().all(is_ident) && !name.starts_with(|c: char| c.is_ascii_digit());
    if !collection.split('.').all(plain) || !plain(element) {
        return None;
    }
    let start = start + (line[start..end].len() - line[start..end].trim_start().len());
    Some((start..start + collection.len(), copy, element))
}

/// The names the issue's code passes as object keys (`{ name: 'api', level: 'warn' }`) or keyword arguments
/// (`load(path, strict=True)`), in code fences and backtick spans only, each once.
fn issue_keys(issue_text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for region in code_regions(issue_text) {
        let bytes = region.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !(bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') || i > 0 && is_ident(bytes[i - 1]) {
                i += 1;
                continue;
            }
            let end = i + bytes[i..].iter().take_while(|b| is_ident(**b)).count();
            let before = region[..i].trim_end().bytes().last();
            let opens = matches!(before, None | Some(b'{' | b',' | b'('));
            let key = match (bytes.get(end), bytes.get(end + 1)) {
                (Some(b':'), Some(b' ')) => opens,
                (Some(b'='), next) => opens && before.is_some() && next != Some(&b'='),
                _ => false,
            };
            let word = &region[i..end];
            if key && word.len() >= 3 && !keys.iter().any(|k| k == word) {
                keys.push(word.to_owned());
            }
            i = end;
        }
    }
    keys
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The code in `text`: the inside of each ``` fence and of each `span` outside them.
fn code_regions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, part) in text.split("```").enumerate() {
        if i % 2 == 1 {
            out.push(part);
        } else {
            out.extend(part.split('`').skip(1).step_by(2));
        }
    }
    out
}

/// The properties and keys `line` reads, with the byte range of each name: `a.name` (not a call `a.name(`),
/// `a["name"]`, `a.get("name"` (either quote), outside strings and comments.
fn property_reads(line: &str) -> Vec<(&str, Range<usize>)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    for (at, _) in line.match_indices('.') {
        let after_receiver = at > 0 && (is_ident(bytes[at - 1]) || matches!(bytes[at - 1], b')' | b']'));
        let start = at + 1;
        let end = start + bytes[start..].iter().take_while(|b| is_ident(**b)).count();
        let named = end > start && !bytes[start].is_ascii_digit();
        if after_receiver && named && bytes.get(end) != Some(&b'(') && !in_string_or_comment(line, at) {
            out.push((&line[start..end], start..end));
        }
    }
    for opening in ["[\"", "['", ".get(\"", ".get('"] {
        for (at, _) in line.match_indices(opening) {
            let start = at + opening.len();
            let end = start + bytes[start..].iter().take_while(|b| is_ident(**b)).count();
            let closed = bytes.get(end) == Some(&bytes[start - 1]);
            if end > start && closed && !in_string_or_comment(line, at) {
                out.push((&line[start..end], start..end));
            }
        }
    }
    out.sort_by_key(|(_, range)| range.start);
    out
}

/// Two spellings of one name: different, and one holds the other once case and `_` are set aside (`logLevel` and
/// `level`, `log_level` and `level`), both of three or more characters.
fn spells_alike(code_name: &str, key: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    let (a, b) = (norm(code_name), norm(key));
    code_name != key && a.len() >= 3 && b.len() >= 3 && a != b && (a.contains(&b) || b.contains(&a))
}

/// Whether `text` holds `word` as a whole word (case kept: `LOG_LEVEL` does not mention `logLevel`).
pub(crate) fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].bytes().last().is_none_or(|b| !is_ident(b));
        let after = text.as_bytes().get(at + word.len()).is_none_or(|b| !is_ident(*b));
        before && after
    })
}

/// Whether byte `at` of `line` is inside a quoted string or after a `#`/`//` comment mark.
fn in_string_or_comment(line: &str, at: usize) -> bool {
    let (comment, in_string) = crate::repo::scan_line(line, true, true, at);
    in_string || comment.is_some_and(|start| start < at)
}

/// The 0-based lines of function `name`'s definition in `content`, its signature first (Python by indentation,
/// JavaScript and Rust by braces). `None` when the file does not define it.
fn function_lines(content: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let lines: Vec<&str> = content.lines().collect();
    let start = lines.iter().position(|l| declares(l.trim_start(), name))?;
    Some(crate::context::definition_extent(&lines, start))
}

/// A line that defines function `name`: `def`, `fn`, `function`, an arrow or function assigned to it, or a method.
fn declares(line: &str, name: &str) -> bool {
    let rest = line
        .trim_start_matches("export ")
        .trim_start_matches("pub(crate) ")
        .trim_start_matches("pub ")
        .trim_start_matches("async ")
        .trim_start_matches("static ");
    let after = |prefix: &str| rest.strip_prefix(prefix).and_then(|r| r.strip_prefix(name));
    let opens = |r: &str| r.starts_with('(') || r.starts_with('<');
    if ["def ", "fn ", "function "].iter().any(|k| after(k).is_some_and(opens)) {
        return true;
    }
    if ["const ", "let ", "var ", "exports.", "module.exports."]
        .iter()
        .any(|k| after(k).is_some_and(|r| r.trim_start().starts_with('=')))
    {
        return true;
    }
    // A method or object property: `name(a, b) {`.
    rest.strip_prefix(name).is_some_and(|r| r.starts_with('(') && r.trim_end().ends_with('{'))
}

/// The functions a test calls, in order of first call, without the test framework's own.
pub fn called_names(test_code: &str) -> Vec<String> {
    const SKIP: &[&str] = &[
        "assert",
        "assert_eq",
        "assert_ne",
        "assertEqual",
        "assertTrue",
        "assertFalse",
        "assertRaises",
        "equal",
        "strictEqual",
        "deepStrictEqual",
        "deepEqual",
        "test",
        "it",
        "describe",
        "expect",
        "print",
        "len",
        "list",
        "dict",
        "tuple",
        "str",
        "int",
        "float",
        "bool",
        "sorted",
        "range",
        // `set` stays: Python's builtin is seldom what a test checks, and `store.set(...)` is the code's.
        "require",
        "raises",
        "vec",
        "Some",
        "Ok",
        "Err",
        "unwrap",
        "main",
        "format",
        "println",
        "String",
        "from",
        "to_string",
    ];
    // A function the test defines itself (`def check(`, `fn check(`) is not the code's.
    let defined = |name: &str| ["def ", "fn ", "function "].iter().any(|k| test_code.contains(&format!("{k}{name}(")));
    crate::context::calls_in_order(test_code)
        .into_iter()
        .filter(|name| !SKIP.contains(&name.as_str()) && !name.starts_with("test") && !defined(name))
        .collect()
}

/// The functions the kept reproduction tests call, in order, each once.
fn called_by_reproductions(search: &Search<'_>) -> Vec<String> {
    let mut called: Vec<String> = Vec::new();
    for test in &search.reproductions {
        for name in called_names(&test.assertions) {
            if !called.contains(&name) {
                called.push(name);
            }
        }
    }
    called
}

impl Agent<'_> {
    /// Runs the variants of the functions the kept reproduction tests reach, when no candidate so far is `fixed`
    /// and a reproduction test can judge one; stops at the first variant that is `fixed` or when the next run would
    /// end past `until` (time since `started`). A variant run before is not run again. Returns the candidates with
    /// the variants run added; each counts as a candidate in `outcome`.
    pub(crate) async fn try_variants(
        &self,
        search: &Search<'_>,
        started: Instant,
        until: Duration,
        mut evaluated: Vec<Evaluated>,
        outcome: &mut AgentOutcome,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Vec<Evaluated>, AgentError> {
        if evaluated.iter().any(|e| e.verdict.is_fixed()) {
            return Ok(evaluated);
        }
        let called = called_by_reproductions(search);
        let pending: Vec<(Variant, Vec<(String, String)>)> =
            variants(search.files, &called, search.issue_text, MAX_VARIANTS)
                .into_iter()
                .map(|v| {
                    let files = vec![(v.path.clone(), v.content.clone())];
                    (v, files)
                })
                .filter(|(_, files)| !evaluated.iter().any(|e| &e.candidate.files == files))
                .collect();
        if pending.is_empty() {
            return Ok(evaluated);
        }
        on_event(AgentEvent::Running {
            what: format!(
                "{} variant(s) of the code {} reaches: no candidate shows a fix, so comparisons flipped at their \
                 boundary, names read as the issue passes them, loops over a copy, slices of the last 0 made empty and \
                 cuts that leave room for what is appended are tested, one at a time",
                pending.len(),
                called.join(", ")
            ),
        });
        let total = pending.len();
        let mut last_run = Duration::ZERO;
        for (i, (variant, files)) in pending.into_iter().enumerate() {
            if started.elapsed() + last_run > until {
                let reason = format!("{i} of {total} variant(s) run before the time for them ran out");
                on_event(if until < self.settings.search_budget {
                    AgentEvent::Running { what: format!("the model's samples; {reason}, the rest follow them") }
                } else {
                    AgentEvent::SearchStopped { reason: format!("the search budget is spent: {reason}") }
                });
                break;
            }
            outcome.candidates += 1;
            let number = outcome.candidates;
            let candidate =
                Candidate { number, origin: variant.describe(), diff_lines: diff_lines(search.workdir, &files), files };
            on_event(AgentEvent::Running { what: format!("the tests with {}", variant.describe()) });
            let run_started = Instant::now();
            let result = self.evaluate(search, candidate).await?;
            last_run = run_started.elapsed();
            let fixed = result.verdict.is_fixed();
            evaluated.push(result);
            if let Some(event) = candidates::progress(search, &evaluated, format!("variant {} of {total}", i + 1), None)
            {
                on_event(event);
            }
            if fixed {
                break;
            }
        }
        Ok(evaluated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> RepoFile {
        crate::repo::load_one(path, content)
    }

    #[test]
    fn a_slice_of_the_last_n_is_made_empty_for_zero() {
        let source = "def last_records(records, n):\n    \"\"\"The last n records.\"\"\"\n    if n < 0:\n        \
                      raise ValueError('no')\n    return list(records)[-n:]\n\n\ndef first(xs):\n    return xs[-1]\n";
        let files = [file("src/logscan/select.py", source)];
        let found: Vec<Variant> = variants(&files, &["last_records".to_owned()], "", MAX_VARIANTS)
            .into_iter()
            .filter(|v| v.kind == Kind::ZeroCount)
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].content.contains("    return (list(records)[-n:] if n else list(records)[:0])\n"));
        assert_eq!(
            found[0].describe(),
            "zero-count variant: `list(records)[-n:]` as `(list(records)[-n:] if n else \
                                          list(records)[:0])` in last_records (src/logscan/select.py, line 5)"
        );

        let js = "function tail(lines, count) {\n  return this.lines.slice(-count);\n}\n";
        let found = variants(&[file("src/tail.js", js)], &["tail".to_owned()], "", MAX_VARIANTS);
        assert!(found[0].content.contains("return (count ? this.lines.slice(-count) : this.lines.slice(0, 0));"));
        // A literal count, a string and a slice to a name are left alone.
        let other = "def f(xs, n):\n    a = xs[-1:]\n    b = '[-n:]'\n    return xs[-n:n]\n";
        assert!(variants(&[file("m.py", other)], &["f".to_owned()], "", MAX_VARIANTS).is_empty());
        assert_eq!(receiver_start("x = a.b(c[1])", 13), Some(4));
        assert_eq!(receiver_start("x = (1)", 7), Some(4));
        assert_eq!(receiver_start("x = ", 4), None);
    }

    #[test]
    fn a_cut_that_a_suffix_is_appended_to_leaves_room_for_it() {
        let js = "function truncate(text, maxLength, ellipsis = '…') {\n  if (text.length <= maxLength) {\n    \
                  return text;\n  }\n  return text.slice(0, maxLength) + ellipsis;\n}\n";
        let fits = |path: &str, source: &str, called: &str| -> Vec<Variant> {
            variants(&[file(path, source)], &[called.to_owned()], "", MAX_VARIANTS)
                .into_iter()
                .filter(|v| v.kind == Kind::Fit)
                .collect()
        };
        let found = fits("text.js", js, "truncate");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].content.contains("  return text.slice(0, maxLength - ellipsis.length) + ellipsis;\n"));
        assert_eq!(
            found[0].describe(),
            "fit variant: `slice(0, maxLength)` as `slice(0, maxLength - ellipsis.length)`, leaving room for what is \
             appended in truncate (text.js, line 5)"
        );
        let python = "def shorten(text, width, marker='...'):\n    if len(text) <= width:\n        return text\n    \
                      return text[:width] + marker\n";
        let found = fits("src/pkg/text.py", python, "shorten");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].content.contains("    return text[:width - len(marker)] + marker\n"), "{found:?}");
        // A literal count, a call appended, and a cut with nothing appended are left alone.
        let other = "def f(s, n, g):\n    a = s[:3] + g\n    b = s[:n] + g(s)\n    return s[:n]\n";
        assert!(fits("m.py", other, "f").is_empty());
    }

    #[test]
    fn each_comparison_of_the_called_function_is_flipped_once() {
        let source = "def other(a):\n    return a < 1\n\n\ndef merge(xs):\n    out = []\n    for s, e in xs:\n        \
                      if s > e:\n            raise ValueError('a > b')\n        if out and s < out[-1][1]:  # a < b\n            \
                      out[-1] = (out[-1][0], e)\n    return out\n";
        let files = [file("intervals.py", source), file("test_intervals.py", "def merge(xs):\n    return xs < 1\n")];
        let found = variants(&files, &["merge".to_owned()], "", MAX_VARIANTS);
        let described: Vec<String> = found.iter().map(Variant::describe).collect();
        assert_eq!(
            described,
            [
                "boundary variant: `>` to `>=` in merge (intervals.py, line 8)",
                "boundary variant: `<` to `<=` in merge (intervals.py, line 10)",
            ]
        );
        assert!(found[1].content.contains("if out and s <= out[-1][1]:  # a < b\n"));
        assert_eq!(found[1].content.lines().count(), source.lines().count());
        assert!(found[1].content.contains("return a < 1"), "another function is left alone");
        assert!(variants(&files, &["absent".to_owned()], "", MAX_VARIANTS).is_empty());
        assert_eq!(variants(&files, &["merge".to_owned()], "", 1).len(), 1);
    }

    #[test]
    fn braces_bound_javascript_and_rust_functions_and_generics_stay() {
        let js = "function clamp(n, max) {\r\n  if (n >= max) {\r\n    return max;\r\n  }\r\n  return n;\r\n}\r\n\
                  function later(x) {\r\n  return x > 1;\r\n}\r\n";
        let found = variants(&[file("src/clamp.js", js)], &["clamp".to_owned()], "", MAX_VARIANTS);
        assert_eq!(found.len(), 1);
        assert!(found[0].content.contains("  if (n > max) {\r\n"), "line endings kept");
        assert!(found[0].content.contains("return x > 1;"));
        let rust = "pub fn last_page(total: usize, per: usize) -> Vec<usize> {\n    let s: &'static str = \"a < b\";\n    \
                    if total % per > 0 { vec![1] } else { vec![] }\n}\n";
        let found = variants(&[file("src/lib.rs", rust)], &["last_page".to_owned()], "", MAX_VARIANTS);
        let described: Vec<String> = found.iter().map(Variant::describe).collect();
        assert_eq!(described, ["boundary variant: `>` to `>=` in last_page (src/lib.rs, line 3)"]);
    }

    #[test]
    fn the_names_a_test_calls_leave_out_the_framework_and_its_own_helpers() {
        let test = "from intervals import merge_intervals\n\ndef test_touching():\n    \
                    assert merge_intervals([(9, 10), (10, 11)]) == [(9, 11)]\n    assert len(free_slots([])) == 0\n";
        assert_eq!(called_names(test), ["merge_intervals", "free_slots"]);
        let js = "assert.deepStrictEqual(parse('a=1&a=2'), { a: ['1', '2'] });\n";
        assert_eq!(called_names(js), ["parse"]);
    }

    #[test]
    fn an_option_read_under_another_name_than_the_issue_passes_is_read_as_the_issue_names_it() {
        let options = "const DEFAULTS = { level: 'info' };\r\n\r\nfunction normalizeOptions(options = {}) {\r\n  \
                       const level = String(options.logLevel || DEFAULTS.level); // not options.logLevel()\r\n  \
                       return { level, name: options.name || '' };\r\n}\r\n";
        let index = "const { normalizeOptions } = require('./options');\n\nfunction createLogger(options = {}) {\n  \
                     return new Logger(normalizeOptions(options));\n}\n";
        let files = [file("src/options.js", options), file("src/index.js", index)];
        let issue = "createLogger ignores the level option\n\n```js\nconst log = createLogger({ name: 'api', level: 'warn' });\n\
                     ```\n\nOutput:\n```\n{\"level\":\"info\",\"msg\":\"x\"}\n```\nNote: `LOG_LEVEL=warn` works.";
        let found = variants(&files, &["createLogger".to_owned()], issue, MAX_VARIANTS);
        let described: Vec<String> = found.iter().map(Variant::describe).collect();
        assert_eq!(
            described,
            [
                "name variant: `logLevel` read as `level`, the name the issue passes in normalizeOptions (src/options.js, line 4)"
            ]
        );
        assert_eq!(found[0].content, options.replacen("options.logLevel ||", "options.level ||", 1), "CRLF kept");
        // An issue that names the code's spelling itself is about something else.
        let names_it = format!("{issue}\nThe docs say `logLevel`.");
        assert!(variants(&files, &["createLogger".to_owned()], &names_it, MAX_VARIANTS).is_empty());
    }

    #[test]
    fn keyword_arguments_name_python_keys_and_prose_names_nothing() {
        let source = "def load(path, **opts):\n    strict = opts.get(\"strict_mode\", False)\n    \
                      return parse(path, strict)\n\n\ndef parse(path, strict):\n    return cfg['max_depth'] if strict else 0\n";
        let files = [file("pkg/config.py", source)];
        let issue = "`load(\"a.toml\", strict=True)` accepts bad files.\n```python\n>>> load(\"a.toml\", strict=True, depth=2)\n\
                     >>> a == b\n```\nExpected: strict mode, depth: 2";
        assert_eq!(issue_keys(issue), ["strict", "depth"]);
        let found = variants(&files, &["load".to_owned()], issue, MAX_VARIANTS);
        let described: Vec<String> = found.iter().map(Variant::describe).collect();
        assert_eq!(
            described,
            [
                "name variant: `strict_mode` read as `strict`, the name the issue passes in load (pkg/config.py, line 2)",
                "name variant: `max_depth` read as `depth`, the name the issue passes in parse (pkg/config.py, line 7)",
            ]
        );
        assert!(found[0].content.contains("opts.get(\"strict\", False)"));
        assert!(found[1].content.contains("cfg['depth'] if strict"));
        assert!(issue_keys("Expected: the level, name: x").is_empty(), "prose outside code names no keys");
    }

    #[test]
    fn a_loop_over_a_collection_walks_a_copy_and_other_loops_stay() {
        let js = "class Emitter {\n  emit(event, ...args) {\n    const list = this.listeners.get(event);\n    \
                  for (const fn of list) {\n      fn(...args);\n    }\n    for (let i = 0; i < 3; i++) {}\n    \
                  for (const x of items()) {}\n    return true;\n  }\n}\n";
        let store = "class Store {\n  set(key, value) {\n    this.events.emit('change', key, value);\n  }\n}\n";
        let files = [file("emitter.js", js), file("store.js", store)];
        let found = variants(&files, &["set".to_owned()], "", MAX_VARIANTS);
        let described: Vec<String> = found.iter().map(Variant::describe).collect();
        assert_eq!(
            described[0],
            "copy variant: the loop walks `list.slice()`, a copy of `list` in emit (emitter.js, line 4)"
        );
        assert!(found[0].content.contains("    for (const fn of list.slice()) {\n"));
        assert!(found.iter().all(|v| v.kind != Kind::Copy || v.line == 4), "a call or a counter loop is left alone");
        let py = "def notify(self, event):\n    for handler in self._handlers:\n        handler(event)\n    \
                  for i in range(3):\n        pass\n";
        let found = variants(&[file("bus.py", py)], &["notify".to_owned()], "", MAX_VARIANTS);
        assert_eq!(found.len(), 1);
        assert!(found[0].content.contains("    for handler in list(self._handlers):\n"));
    }
}
