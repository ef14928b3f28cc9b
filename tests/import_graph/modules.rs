//! One crate's module tree, found by following `mod name;` from its root file, and the
//! file-to-file imports resolved on it (through `use` declarations to the defining file).

use crate::source::{facts, sanitize, FileFacts};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module of the crate: its path from the root (empty for the root) and its file.
#[derive(Debug)]
pub struct Module {
    /// Module path, e.g. `["sink", "kusto"]`.
    pub path: Vec<String>,
    /// What the file declares and uses.
    pub facts: FileFacts,
}

/// A crate's modules, indexed by module path.
#[derive(Debug, Default)]
pub struct Crate {
    /// Every module with its own file.
    pub modules: BTreeMap<Vec<String>, Module>,
}

/// One import between two files of a crate: `from` takes `name` from `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    /// Module path of the importing file.
    pub from: Vec<String>,
    /// Module path of the file the name is defined in.
    pub to: Vec<String>,
    /// The name taken (or the module's last segment when a module itself is named).
    pub name: String,
}

impl Crate {
    /// Reads the crate whose root file is `root` (a `lib.rs` or `main.rs`).
    pub fn read(root: &Path) -> Result<Crate, String> {
        let mut krate = Crate::default();
        let mut pending = vec![(Vec::new(), root.to_path_buf())];
        while let Some((path, file)) = pending.pop() {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let facts = facts(&sanitize(&text));
            for child in &facts.children {
                let child_file = child_file(&file, child)
                    .ok_or_else(|| format!("{}: no file for `mod {child};`", file.display()))?;
                let mut child_path = path.clone();
                child_path.push(child.clone());
                pending.push((child_path, child_file));
            }
            krate.modules.insert(path.clone(), Module { path, facts });
        }
        Ok(krate)
    }

    /// Every import from one file of the crate to another.
    pub fn imports(&self) -> BTreeSet<Import> {
        let mut imports = BTreeSet::new();
        for module in self.modules.values() {
            for path in &module.facts.paths {
                if let Some((to, name)) = self.resolve(&module.path, path, 0) {
                    if to != module.path {
                        imports.insert(Import {
                            from: module.path.clone(),
                            to,
                            name,
                        });
                    }
                }
            }
        }
        imports
    }

    /// The module whose file defines what `path` (written in module `at`) names.
    fn resolve(
        &self,
        at: &[String],
        path: &[String],
        depth: usize,
    ) -> Option<(Vec<String>, String)> {
        let mut module: Vec<String> = at.to_vec();
        let mut rest = path;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                module.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    module.pop()?;
                    rest = &rest[1..];
                }
            }
            Some(first) if self.modules.contains_key(&child_of(at, first)) => {}
            _ => return None, // another crate, or a name in scope: not a file of this crate
        }
        while let Some(next) = rest.first() {
            let mut child = module.clone();
            child.push(next.clone());
            if !self.modules.contains_key(&child) {
                break;
            }
            module = child;
            rest = &rest[1..];
        }
        let Some(name) = rest.first() else {
            let name = module.last().cloned().unwrap_or_else(|| "crate".into());
            return Some((module, name));
        };
        let facts = &self.modules.get(&module)?.facts;
        if !facts.defined.contains(name) && depth < 8 {
            if let Some(source) = facts.brought.get(name) {
                // Passed on from elsewhere: the dependency is on where it comes from, which
                // may be another crate (then it is no edge of this one).
                return self.resolve(&module, source, depth + 1);
            }
        }
        Some((module, name.clone()))
    }
}

fn child_of(module: &[String], name: &str) -> Vec<String> {
    let mut child = module.to_vec();
    child.push(name.to_string());
    child
}

/// Where `mod child;` declared in `file` lives.
fn child_file(file: &Path, child: &str) -> Option<PathBuf> {
    let stem = file.file_stem()?.to_str()?;
    let dir = file.parent()?;
    let base = if matches!(stem, "lib" | "main" | "mod") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    [
        base.join(format!("{child}.rs")),
        base.join(child).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}
