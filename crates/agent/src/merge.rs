//! Merging a reply that holds only some definitions of a file into that file.
//!
//! Asked for "each function you change", a small model sends a few definitions instead of the whole file, which
//! saves most of the output tokens (the slowest part on a laptop). Each definition replaces the one of the same name,
//! at the top level or as a method inside a class or `impl`; a new definition goes next to its neighbour in the
//! reply; a new import joins the file's imports. Whatever cannot be placed with certainty gives `None`, and the
//! caller treats the reply as a whole file.

use std::collections::{BTreeMap, HashSet};

use crate::edits::is_top_level_start;

/// A top-level statement with the comments, decorators and attributes right above it.
#[derive(Debug)]
struct Unit {
    name: Option<String>,
    import: bool,
    start: usize,
    /// Exclusive, without trailing blank lines.
    end: usize,
}

fn is_attachment(trimmed: &str) -> bool {
    ["#", "//", "/*", "*", "@"].iter().any(|p| trimmed.starts_with(p)) && !trimmed.starts_with("#include")
}

fn is_import(trimmed: &str) -> bool {
    trimmed.starts_with("import ")
        || (trimmed.starts_with("from ") && trimmed.contains(" import "))
        || trimmed.starts_with("use ")
        || trimmed.starts_with("pub use ")
        || trimmed.starts_with("extern crate ")
        || trimmed.starts_with("#include")
        || (["const ", "let ", "var "].iter().any(|k| trimmed.starts_with(k)) && trimmed.contains("require("))
}

fn identifier(text: &str) -> Option<String> {
    let name: String = text.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$').collect();
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

fn strip_modifiers(mut text: &str) -> &str {
    const MODIFIERS: [&str; 12] = [
        "export default ",
        "export ",
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "async ",
        "unsafe ",
        "static ",
        "extern \"C\" ",
        "default ",
        "get ",
        "set ",
    ];
    while let Some(rest) = MODIFIERS.iter().find_map(|m| text.strip_prefix(m)) {
        text = rest.trim_start();
    }
    text
}

/// The name a line defines: `def f`, `class C`, `function f`, `fn f`, `impl T`, `NAME = …`, `module.exports`.
fn definition_name(trimmed: &str) -> Option<String> {
    if trimmed.starts_with("module.exports") {
        return Some("module.exports".into());
    }
    let text = strip_modifiers(trimmed);
    if let Some(rest) = text.strip_prefix("impl").filter(|r| r.starts_with([' ', '<'])) {
        return Some(format!("impl {}", rest.trim_end_matches('{').trim()));
    }
    const KEYWORDS: [&str; 15] = [
        "def ",
        "class ",
        "function* ",
        "function ",
        "fn ",
        "struct ",
        "enum ",
        "trait ",
        "type ",
        "mod ",
        "const ",
        "let ",
        "var ",
        "interface ",
        "macro_rules! ",
    ];
    for keyword in KEYWORDS {
        if let Some(rest) = text.strip_prefix(keyword) {
            let rest = rest.trim_start();
            // `const fn f` and `const function` name the function, not a constant.
            return match rest.strip_prefix("fn ") {
                Some(after) => identifier(after.trim_start()),
                None => identifier(rest),
            };
        }
    }
    // A Python module-level assignment, `NAME = …` or `NAME: type = …`.
    let name = identifier(text)?;
    let after = text[name.len()..].trim_start();
    let assigns = (after.starts_with('=') && !after.starts_with("=="))
        || (after.starts_with(':') && !after.starts_with("::") && after.contains('='));
    assigns.then_some(name)
}

/// The name of a method definition on an indented line (`def f`, `fn f`, or a JavaScript `f(args) {`).
fn method_name(trimmed: &str) -> Option<String> {
    let text = strip_modifiers(trimmed);
    for keyword in ["def ", "fn ", "function "] {
        if let Some(rest) = text.strip_prefix(keyword) {
            return identifier(rest.trim_start());
        }
    }
    let name = identifier(text)?;
    const NOT_METHODS: [&str; 8] = ["if", "for", "while", "switch", "catch", "return", "function", "with"];
    let is_js_method =
        text[name.len()..].starts_with('(') && text.ends_with('{') && !NOT_METHODS.contains(&name.as_str());
    is_js_method.then_some(name)
}

fn split_units(lines: &[&str]) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut attached_from: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if !is_top_level_start(line) {
            continue;
        }
        let trimmed = line.trim();
        if is_attachment(trimmed) {
            attached_from.get_or_insert(i);
            continue;
        }
        let import = is_import(trimmed);
        // A dedented JavaScript method (`set(key) {`) is still a definition.
        let name = if import { None } else { definition_name(trimmed).or_else(|| method_name(trimmed)) };
        units.push(Unit { name, import, start: attached_from.take().unwrap_or(i), end: 0 });
    }
    let starts: Vec<usize> = units.iter().map(|u| u.start).skip(1).chain([lines.len()]).collect();
    for (unit, next) in units.iter_mut().zip(starts) {
        let mut end = next;
        while end > unit.start + 1 && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        unit.end = end;
    }
    units
}

fn indent_len(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The block of the method `name` inside `lines[range]`: its first line (with attached comments), its end
/// (exclusive) and its indentation. `None` unless exactly one such method exists.
fn find_method(lines: &[&str], range: std::ops::Range<usize>, name: &str) -> Option<(usize, usize, String)> {
    let mut hits = range.clone().filter(|&i| {
        let line = lines[i];
        indent_len(line) > 0 && method_name(line.trim()).as_deref() == Some(name)
    });
    let at = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let head = lines[at];
    let indent = &head[..indent_len(head)];
    let mut start = at;
    while start > range.start
        && indent_len(lines[start - 1]) == indent.len()
        && is_attachment(lines[start - 1].trim())
        && !lines[start - 1].trim().is_empty()
    {
        start -= 1;
    }
    let end = if head.trim_end().ends_with(':') {
        // Python: the block runs until a line indented no deeper than the `def`.
        let mut end = (at + 1..range.end)
            .find(|&i| !lines[i].trim().is_empty() && indent_len(lines[i]) <= indent.len())
            .unwrap_or(range.end);
        while end > at + 1 && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        end
    } else if head.trim_end().ends_with('{') {
        // Brace languages: the block closes at the `}` on the `fn`'s own indentation.
        (at + 1..range.end).find(|&i| indent_len(lines[i]) == indent.len() && lines[i].trim().starts_with('}'))? + 1
    } else {
        return None;
    };
    Some((start, end, indent.to_owned()))
}

/// `block` moved to `indent`, keeping its inner indentation.
fn reindent(block: &[&str], indent: &str) -> Vec<String> {
    let base = block.iter().find(|l| !l.trim().is_empty()).map_or(0, |l| indent_len(l));
    block
        .iter()
        .map(|line| {
            if line.trim().is_empty() {
                String::new()
            } else if indent_len(line) >= base {
                format!("{indent}{}", &line[base..])
            } else {
                format!("{indent}{}", line.trim_start())
            }
        })
        .collect()
}

/// A class, `impl`, trait or module: a unit whose methods can be replaced one by one.
fn is_container(lines: &[&str], unit: &Unit) -> bool {
    let Some(head) = lines[unit.start..unit.end].iter().map(|l| l.trim()).find(|l| !is_attachment(l)) else {
        return false;
    };
    let head = strip_modifiers(head);
    ["class ", "impl ", "impl<", "trait ", "mod "].iter().any(|k| head.starts_with(k))
}

/// The method definitions directly inside a container unit (a class or `impl`), by name.
fn methods_of(lines: &[&str], unit: &Unit) -> Vec<(String, usize, usize)> {
    if !is_container(lines, unit) {
        return Vec::new();
    }
    let inner: Vec<usize> = (unit.start + 1..unit.end).filter(|&i| indent_len(lines[i]) > 0).collect();
    let Some(depth) = inner.iter().filter(|&&i| !lines[i].trim().is_empty()).map(|&i| indent_len(lines[i])).min()
    else {
        return Vec::new();
    };
    let mut methods = Vec::new();
    for &i in &inner {
        if indent_len(lines[i]) == depth
            && let Some(name) = method_name(lines[i].trim())
            && let Some((start, end, _)) = find_method(lines, i..unit.end, &name)
        {
            methods.push((name, start, end));
        }
    }
    methods
}

/// Merges `reply` into `old` definition by definition, or `None` when the reply is a whole file or cannot be
/// placed with certainty.
pub fn merge_definitions(old: &str, reply: &str) -> Option<String> {
    let old_lines: Vec<&str> = old.lines().collect();
    let mut reply_lines: Vec<&str> = reply.lines().collect();
    while reply_lines.first().is_some_and(|l| l.trim().is_empty()) {
        reply_lines.remove(0);
    }
    // A reply of methods only, still indented as inside their class: read them as top-level definitions.
    let dedented: Vec<String>;
    if !reply_lines.is_empty() && reply_lines.iter().all(|l| l.trim().is_empty() || indent_len(l) > 0) {
        dedented = reindent(&reply_lines, "");
        reply_lines = dedented.iter().map(String::as_str).collect();
    }
    let old_units = split_units(&old_lines);
    let reply_units = split_units(&reply_lines);

    let old_names: Vec<&str> = old_units.iter().filter_map(|u| u.name.as_deref()).collect();
    let reply_names: Vec<&str> = reply_units.iter().filter_map(|u| u.name.as_deref()).collect();
    let unique = |names: &[&str]| names.iter().collect::<HashSet<_>>().len() == names.len();
    if reply_names.is_empty() || !unique(&old_names) || !unique(&reply_names) {
        return None;
    }
    let old_unit = |name: &str| old_units.iter().find(|u| u.name.as_deref() == Some(name));
    let keeps_all_methods = |reply_unit: &Unit, old: &Unit| {
        let new_methods = methods_of(&reply_lines, reply_unit);
        methods_of(&old_lines, old).iter().all(|(m, _, _)| new_methods.iter().any(|(n, _, _)| n == m))
    };
    // Every definition of the file is in the reply, and every method of its classes: it is the whole file.
    let whole = old_names.iter().all(|n| reply_names.contains(n))
        && reply_units.iter().all(|u| match u.name.as_deref().and_then(old_unit) {
            Some(target) => keeps_all_methods(u, target),
            None => true,
        });
    if whole {
        return None;
    }

    // Replacements keyed by their first old line: (end, new lines). Insertions keyed by the old line they precede.
    let mut replacements: BTreeMap<usize, (usize, Vec<String>)> = BTreeMap::new();
    let mut insertions: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let separator = old_units
        .windows(2)
        .find(|w| w[0].name.is_some() && w[1].name.is_some())
        .map_or(1, |w| w[1].start.saturating_sub(w[0].end));
    let blank_lines = || vec![String::new(); separator];

    let mut placed: Vec<Option<(usize, usize)>> = Vec::with_capacity(reply_units.len());
    for unit in &reply_units {
        let block = &reply_lines[unit.start..unit.end];
        let Some(name) = unit.name.as_deref() else {
            placed.push(None);
            continue;
        };
        if let Some(target) = old_unit(name) {
            let new_methods = methods_of(&reply_lines, unit);
            let keeps_all = keeps_all_methods(unit, target);
            if new_methods.is_empty() && !keeps_all {
                return None;
            }
            if keeps_all {
                replacements.insert(target.start, (target.end, block.iter().map(|l| l.to_string()).collect()));
            } else {
                // A class or impl sent with only the methods that changed: replace just those.
                for (method, start, end) in &new_methods {
                    let (old_start, old_end, indent) = find_method(&old_lines, target.start..target.end, method)?;
                    replacements.insert(old_start, (old_end, reindent(&reply_lines[*start..*end], &indent)));
                }
            }
            placed.push(Some((target.start, target.end)));
        } else if let Some((start, end, indent)) = unique_method(&old_lines, &old_units, name) {
            replacements.insert(start, (end, reindent(block, &indent)));
            placed.push(Some((start, end)));
        } else {
            placed.push(None);
        }
    }
    if placed.iter().all(Option::is_none) {
        return None;
    }

    let old_text: HashSet<&str> = old_lines.iter().map(|l| l.trim()).collect();
    let mut new_imports = Vec::new();
    for (k, unit) in reply_units.iter().enumerate() {
        if placed[k].is_some() {
            continue;
        }
        let block = &reply_lines[unit.start..unit.end];
        if unit.import {
            new_imports.extend(block.iter().filter(|l| !old_text.contains(l.trim())).map(|l| l.to_string()));
            continue;
        }
        if unit.name.is_none() {
            // An unnamed statement the file already has is context, not a change; any other cannot be placed.
            if block.iter().all(|l| l.trim().is_empty() || old_text.contains(l.trim())) {
                continue;
            }
            return None;
        }
        // A new definition goes after the nearest placed one above it in the reply, else before the next one.
        let lines: Vec<String> = block.iter().map(|l| l.to_string()).collect();
        if let Some((_, end)) = placed[..k].iter().rev().flatten().next() {
            let mut text = blank_lines();
            text.extend(lines);
            insertions.entry(*end).or_default().extend(text);
        } else if let Some((start, _)) = placed[k + 1..].iter().flatten().next() {
            let mut text = lines;
            text.extend(blank_lines());
            insertions.entry(*start).or_default().extend(text);
        }
    }
    if !new_imports.is_empty() {
        if let Some(last) = old_units.iter().rfind(|u| u.import) {
            insertions.entry(last.end).or_default().extend(new_imports);
        } else {
            let first = old_units.iter().find(|u| u.name.is_some()).map_or(0, |u| u.start);
            new_imports.push(String::new());
            insertions.entry(first).or_default().splice(0..0, new_imports);
        }
    }

    // Overlapping replacements would mean two definitions claim the same lines.
    let mut covered_until = 0;
    for (start, (end, _)) in &replacements {
        if *start < covered_until {
            return None;
        }
        covered_until = *end;
    }
    let mut merged: Vec<String> = Vec::with_capacity(old_lines.len() + reply_lines.len());
    let mut i = 0;
    while i < old_lines.len() {
        if let Some(lines) = insertions.get(&i) {
            merged.extend(lines.iter().cloned());
        }
        if let Some((end, lines)) = replacements.get(&i) {
            merged.extend(lines.iter().cloned());
            i = *end;
            continue;
        }
        merged.push(old_lines[i].to_owned());
        i += 1;
    }
    if let Some(lines) = insertions.get(&old_lines.len()) {
        merged.extend(lines.iter().cloned());
    }
    let mut text = merged.join("\n");
    if old.ends_with('\n') {
        text.push('\n');
    }
    Some(text)
}

/// A line that starts a function, class or type (not an assignment, which a quoted fragment may well start with).
pub fn is_definition(trimmed: &str) -> bool {
    let text = strip_modifiers(trimmed);
    ["def ", "class ", "fn ", "function ", "function* ", "struct ", "enum ", "trait ", "impl ", "impl<"]
        .iter()
        .any(|k| text.starts_with(k))
        || (method_name(trimmed).is_some() && !text.starts_with("const ") && !text.starts_with("let "))
}

/// The one known file that defines (at any depth) the first name `block` defines, for a block sent without a path.
pub fn file_defining_first_name_of(block: &str, known_files: &[(String, String)]) -> Option<String> {
    let name = block
        .lines()
        .map(str::trim)
        .filter(|l| is_definition(l))
        .find_map(|l| definition_name(l).or_else(|| method_name(l)))?;
    let defines = |text: &str| {
        text.lines().map(str::trim).any(|l| definition_name(l).or_else(|| method_name(l)).as_deref() == Some(&name))
    };
    let mut holders = known_files.iter().filter(|(_, text)| defines(text));
    match (holders.next(), holders.next()) {
        (Some((path, _)), None) => Some(path.clone()),
        _ => None,
    }
}

/// A method of exactly one top-level container of the file, found by name.
fn unique_method(lines: &[&str], units: &[Unit], name: &str) -> Option<(usize, usize, String)> {
    let mut found = units.iter().filter_map(|u| find_method(lines, u.start..u.end, name));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = "import math\n\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n\n\ndef median(xs):\n    s = sorted(xs)\n    return s[len(s) // 2]\n\n\ndef spread(xs):\n    return max(xs) - min(xs)\n";

    #[test]
    fn one_changed_function_replaces_only_its_namesake() {
        let reply =
            "def median(xs):\n    s = sorted(xs)\n    n = len(s)\n    return (s[n // 2] + s[(n - 1) // 2]) / 2\n";
        let merged = merge_definitions(STATS, reply).unwrap();
        assert_eq!(
            merged,
            STATS.replace(
                "    return s[len(s) // 2]\n",
                "    n = len(s)\n    return (s[n // 2] + s[(n - 1) // 2]) / 2\n"
            )
        );
    }

    #[test]
    fn two_functions_apart_keep_the_one_between_and_new_imports_and_helpers_are_placed() {
        let reply = "import statistics\n\ndef mean(xs):\n    return statistics.fmean(xs)\n\n\ndef _check(xs):\n    assert xs\n\n\ndef spread(xs):\n    _check(xs)\n    return max(xs) - min(xs)\n";
        let merged = merge_definitions(STATS, reply).unwrap();
        assert!(merged.starts_with("import math\nimport statistics\n\n\ndef mean(xs):\n    return statistics.fmean(xs)\n\n\ndef _check(xs):\n"), "{merged}");
        assert!(merged.contains("def median(xs):\n    s = sorted(xs)\n"), "{merged}");
        assert!(merged.ends_with("def spread(xs):\n    _check(xs)\n    return max(xs) - min(xs)\n"), "{merged}");
    }

    #[test]
    fn whole_files_and_unplaceable_replies_are_left_to_the_caller() {
        assert_eq!(merge_definitions(STATS, &STATS.replace("max(xs)", "max(*xs)")), None);
        assert_eq!(merge_definitions(STATS, "def unknown(x):\n    return x\n"), None);
        assert_eq!(merge_definitions(STATS, "print('hello')\n"), None);
        let twice = "def mean(xs):\n    return 1\n\ndef mean(xs):\n    return 2\n";
        assert_eq!(merge_definitions(STATS, twice), None);
    }

    const INVENTORY: &str = "class Inventory:\n    def __init__(self):\n        self._stock = {}\n\n    def remove(self, sku, qty):\n        self._stock[sku] -= qty\n\n    def quantity(self, sku):\n        return self._stock.get(sku, 0)\n";

    #[test]
    fn a_method_alone_or_in_a_partial_class_replaces_that_method() {
        let expected = INVENTORY.replace(
            "        self._stock[sku] -= qty\n",
            "        if qty > self.quantity(sku):\n            raise ValueError(sku)\n        self._stock[sku] -= qty\n",
        );
        let indented = "    def remove(self, sku, qty):\n        if qty > self.quantity(sku):\n            raise ValueError(sku)\n        self._stock[sku] -= qty\n";
        assert_eq!(merge_definitions(INVENTORY, indented).unwrap(), expected);
        let dedented = reindent(&indented.lines().collect::<Vec<_>>(), "").join("\n");
        assert_eq!(merge_definitions(INVENTORY, &dedented).unwrap(), expected);
        let partial_class = format!("class Inventory:\n{indented}");
        assert_eq!(merge_definitions(INVENTORY, &partial_class).unwrap(), expected);
    }

    #[test]
    fn a_block_without_a_path_belongs_to_the_file_defining_its_name() {
        let known = vec![("stats.py".to_owned(), STATS.to_owned()), ("inventory.py".to_owned(), INVENTORY.to_owned())];
        assert_eq!(file_defining_first_name_of("def median(xs):\n    return 0\n", &known).as_deref(), Some("stats.py"));
        assert_eq!(
            file_defining_first_name_of("    def remove(self):\n        pass\n", &known).as_deref(),
            Some("inventory.py")
        );
        assert_eq!(file_defining_first_name_of("def nowhere():\n    pass\n", &known), None);
    }

    #[test]
    fn rust_impl_methods_and_javascript_class_methods() {
        let rust = "use std::fmt;\n\npub struct V(u8);\n\nimpl V {\n    pub fn parse(s: &str) -> V {\n        V(s.len() as u8)\n    }\n\n    pub fn zero() -> V {\n        V(0)\n    }\n}\n";
        let reply = "impl V {\n    pub fn parse(s: &str) -> V {\n        V(s.trim().len() as u8)\n    }\n}\n";
        let merged = merge_definitions(rust, reply).unwrap();
        assert_eq!(merged, rust.replace("V(s.len()", "V(s.trim().len()"));

        let js = "class Store {\n  get(key) {\n    return this.state[key];\n  }\n\n  set(key, value) {\n    this.state[key] = value;\n  }\n}\n\nmodule.exports = { Store };\n";
        let reply =
            "  set(key, value) {\n    if (this.state[key] === value) return;\n    this.state[key] = value;\n  }\n";
        let merged = merge_definitions(js, reply).unwrap();
        assert_eq!(
            merged,
            js.replace("  set(key, value) {\n", "  set(key, value) {\n    if (this.state[key] === value) return;\n")
        );
    }
}
