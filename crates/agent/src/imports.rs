//! A Python reproduction test that calls a function of the code under test without importing it.
//!
//! A 1.5B model writes `import config` and then calls `get_int(...)` bare, or imports nothing at all (bench task 03,
//! 2026-12-04: 2 of 6 samples died of a `NameError` and were dropped, one of them otherwise right). When a name is
//! called bare and the test neither defines nor imports it, it is no builtin, and exactly one source module of the
//! repository defines it at top level, the import is added: the test then checks what it was written to check.
//! An import line of the issue's own example that binds the name comes first: it is what the user ran (bench task 17,
//! 2026-12-06: a sample called `Decimal("250.00")` after `import decimal`, the issue's `from decimal import Decimal`
//! left out, and died of a `NameError`).

use std::collections::HashSet;

use crate::repo::RepoFile;

/// Names a test may call without importing them: Python's builtins that tests use, and its keywords that can stand
/// before a parenthesis.
const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "bytes",
    "callable",
    "chr",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "hasattr",
    "hash",
    "id",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "object",
    "open",
    "ord",
    "pow",
    "print",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "and",
    "as",
    "assert",
    "await",
    "elif",
    "else",
    "for",
    "if",
    "in",
    "is",
    "lambda",
    "not",
    "or",
    "return",
    "while",
    "with",
    "yield",
];

/// `code` with an import line in front for every function or class it calls bare and never binds: the import line
/// of the issue's text (`issue`) that binds the name, else `from <module> import <name>` when only one source module
/// defines it; `code` unchanged when there is none, or when a star import may bind anything.
pub fn add_missing_imports(code: &str, files: &[RepoFile], issue: &str) -> String {
    let Some(bound) = bound_names(code) else { return code.to_owned() };
    let issue_imports = issue_import_lines(issue);
    let mut added: Vec<String> = Vec::new();
    for name in called_names(code) {
        let builtin = BUILTINS.contains(&name.as_str()) || name.ends_with("Error") || name.ends_with("Exception");
        let binds = |line: &String| bound_names(line).is_some_and(|b| b.contains(&name));
        if bound.contains(&name) || builtin || added.iter().any(binds) {
            continue;
        }
        if let Some(line) = issue_imports.iter().find(|line| binds(line)) {
            added.push(line.clone());
            continue;
        }
        let definers: Vec<&RepoFile> = files
            .iter()
            .filter(|f| !f.is_test && f.path.ends_with(".py") && defines_top_level(&f.content, &name))
            .collect();
        if let [file] = definers.as_slice() {
            added.push(format!("from {} import {name}", module_of(&file.path)));
        }
    }
    if added.is_empty() {
        return code.to_owned();
    }
    format!("{}\n{code}", added.join("\n"))
}

/// The import lines of an issue's code (`import x`, `from x import y`, an interpreter's `>>> ` prompt taken off),
/// one per statement; a parenthesised import that spans lines is left out.
fn issue_import_lines(issue: &str) -> Vec<String> {
    issue
        .lines()
        .map(|l| l.trim().trim_start_matches(">>> ").trim())
        .filter(|l| {
            let import = l.starts_with("import ") || (l.starts_with("from ") && l.contains(" import "));
            import && !l.contains('(') && !l.contains('*') && !l.contains(';')
        })
        .map(|l| code_part(l).trim_end().to_owned())
        .collect()
}

/// The module path of a source file: `src/shop/cart.py` is `shop.cart` (a `src/` layout puts `src/` on the path),
/// `pkg/__init__.py` is `pkg`.
fn module_of(path: &str) -> String {
    let path = path.strip_prefix("src/").unwrap_or(path);
    let path = path.strip_suffix(".py").unwrap_or(path);
    let path = path.strip_suffix("/__init__").unwrap_or(path);
    path.replace('/', ".")
}

/// Whether a module defines `name` at top level (a function or a class).
fn defines_top_level(content: &str, name: &str) -> bool {
    content.lines().any(|line| {
        let rest = line.strip_prefix("async ").unwrap_or(line);
        ["def ", "class "].iter().any(|keyword| {
            rest.strip_prefix(keyword)
                .and_then(|r| r.strip_prefix(name))
                .is_some_and(|r| r.starts_with('(') || r.starts_with(':'))
        })
    })
}

/// The names the test binds: imported, defined, assigned, loop or `with`/`except` targets, parameters. `None` when a
/// star import may bind any name.
fn bound_names(code: &str) -> Option<HashSet<String>> {
    let mut bound = HashSet::new();
    for line in code.lines().map(|l| code_part(l.trim())) {
        if let Some(rest) = line.strip_prefix("from ") {
            let (_, names) = rest.split_once(" import ")?;
            if names.trim() == "*" {
                return None;
            }
            bound.extend(names.trim_matches(|c| c == '(' || c == ')' || c == ' ').split(',').map(alias));
        } else if let Some(rest) = line.strip_prefix("import ") {
            bound.extend(rest.split(',').map(|m| alias(m).split('.').next().unwrap_or_default().to_owned()));
        } else if let Some(rest) = line.strip_prefix("def ").or_else(|| line.strip_prefix("class ")) {
            let (name, params) = rest.split_once('(').unwrap_or((rest.trim_end_matches(':'), ""));
            bound.insert(name.trim().to_owned());
            bound.extend(params.split([',', ')']).map(|p| identifier_prefix(p.trim())));
        } else {
            for keyword in [" as ", "for "] {
                if let Some((_, after)) = line.split_once(keyword) {
                    let target = after.split([':', ' ']).next().unwrap_or_default();
                    bound.extend(target.split(',').map(|t| t.trim().to_owned()));
                }
            }
            if let Some(targets) = assignment_targets(&line) {
                bound.extend(targets);
            }
        }
    }
    bound.retain(|name| !name.is_empty());
    Some(bound)
}

/// `x` of `x`, `y as x` or `y`.
fn alias(item: &str) -> String {
    let item = item.trim();
    item.rsplit_once(" as ").map_or(item, |(_, name)| name).trim().to_owned()
}

/// The leading identifier of `text` (`x` of `x: int = 1`).
fn identifier_prefix(text: &str) -> String {
    text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The names left of a plain `=` (`a, b = ...`, `x: int = ...`), or `None` when the line assigns nothing.
fn assignment_targets(line: &str) -> Option<Vec<String>> {
    let bytes = line.as_bytes();
    let at = (0..bytes.len()).find(|&i| {
        bytes[i] == b'='
            && bytes.get(i + 1) != Some(&b'=')
            && (i == 0 || !matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>'))
    })?;
    let left = &line[..at];
    let names: Vec<String> = left.split(',').map(|t| identifier_prefix(t.trim())).collect();
    let plain = left.split(',').all(|t| {
        let t = t.trim();
        let name = identifier_prefix(t);
        !name.is_empty() && (t == name || t[name.len()..].trim_start().starts_with(':'))
    });
    plain.then_some(names)
}

/// The part of a line before a `#` comment, with every string's contents blanked (`"a(b)"` reads `""`).
fn code_part(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        match quote {
            Some(q) => {
                if !escaped && c == q {
                    quote = None;
                    out.push(c);
                }
                escaped = !escaped && c == '\\';
            }
            None if c == '#' => break,
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// Names called bare (`f(` not preceded by `.` or a `def`), in order of first call.
fn called_names(code: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in code.lines().map(|l| code_part(l.trim())) {
        if line.starts_with("def ") || line.starts_with("class ") {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let starts = (chars[i].is_alphabetic() || chars[i] == '_')
                && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '.'));
            if !starts {
                i += 1;
                continue;
            }
            let end =
                (i..chars.len()).find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_')).unwrap_or(chars.len());
            if chars.get(end) == Some(&'(') {
                let name: String = chars[i..end].iter().collect();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            i = end;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, content: &str) -> RepoFile {
        RepoFile { path: path.into(), content: content.into(), signatures: Vec::new(), is_test: false }
    }

    #[test]
    fn a_function_called_bare_is_imported_from_the_one_module_that_defines_it() {
        let files = [
            source(
                "config.py",
                "def parse_config(text):\n    pass\n\n\ndef get_int(cfg, s, k, default=None):\n    pass\n",
            ),
            source("src/shop/cart.py", "class Cart:\n    pass\n"),
        ];
        let code = "import config\n\ncfg = config.parse_config(\"[server]\\nport = 9000\")\nassert get_int(cfg, \"server\", \"port\") == 9000\n";
        assert_eq!(add_missing_imports(code, &files, ""), format!("from config import get_int\n{code}"));
        let nothing_imported = "c = Cart()\nassert len(c.items()) == 0\n";
        assert_eq!(
            add_missing_imports(nothing_imported, &files, ""),
            format!("from shop.cart import Cart\n{nothing_imported}")
        );
    }

    #[test]
    fn a_name_the_issues_example_imports_is_imported_as_the_issue_does() {
        let files = [source("src/invoicing/export/text_export.py", "def render_text(doc):\n    pass\n")];
        let issue = "To reproduce:\n\n```python\nfrom decimal import Decimal\n>>> from invoicing import CreditNote, \
                     render_text\n```\n";
        let code = "import decimal\ncn = CreditNote(Decimal(\"250.00\"))\nassert render_text(cn) == \"-250.00\"\n";
        assert_eq!(
            add_missing_imports(code, &files, issue),
            format!("from invoicing import CreditNote, render_text\nfrom decimal import Decimal\n{code}")
        );
        // Without the issue's lines, only what one module of the repository defines can be imported.
        assert_eq!(
            add_missing_imports(code, &files, ""),
            format!("from invoicing.export.text_export import render_text\n{code}")
        );
        assert_eq!(issue_import_lines("from a import (b,\n    c)\nimport os  # paths\n"), ["import os"]);
    }

    #[test]
    fn what_the_test_binds_builtins_and_ambiguous_names_are_left_alone() {
        let files = [source("a.py", "def total(x):\n    pass\n"), source("b.py", "def total(x):\n    pass\n")];
        for code in [
            "from a import total\nassert total([1]) == 1\n",
            "def total(x):\n    return 1\nassert total([1]) == 1\n",
            "total = lambda x: 1\nassert total([1]) == 1\n",
            "assert total([1]) == 1\n",
            "from a import *\nassert total([1]) == 1\n",
            "assert sorted(\"total(1)\") == []  # total(2)\n",
        ] {
            assert_eq!(add_missing_imports(code, &files, ""), code, "{code}");
        }
        assert_eq!(module_of("pkg/__init__.py"), "pkg");
        assert!(defines_top_level("async def fetch(url):\n", "fetch"));
        assert!(!defines_top_level("    def fetch(self):\n", "fetch"));
    }
}
