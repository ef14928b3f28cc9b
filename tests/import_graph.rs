//! The workspace's import rule, checked on every test run: no import cycles, neither between
//! files of one folder nor between folders, in any crate (ARCHITECTURE.md says why).
//!
//! Cargo already forbids cycles between crates; inside a crate it allows any, so this test
//! reads each crate's module tree from its root file and resolves every `crate::`, `super::`
//! and `self::` path (in `use` trees and in code, through `use` declarations) to the file
//! defining the name. Test code (`#[cfg(test)]` items and the `tests/` folders) is left out.

#[path = "import_graph/cycles.rs"]
mod cycles;
#[path = "import_graph/modules.rs"]
mod modules;
#[path = "import_graph/source.rs"]
mod source;

use cycles::{cycles, Cycle};
use modules::Crate;
use std::path::{Path, PathBuf};

/// Root files of every crate target in the workspace.
fn crate_roots() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![workspace.to_path_buf(), workspace.join("testkit")];
    if let Ok(entries) = std::fs::read_dir(workspace.join("crates")) {
        let mut crates: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        crates.sort();
        dirs.extend(crates);
    }
    dirs.iter()
        .flat_map(|d| [d.join("src/lib.rs"), d.join("src/main.rs")])
        .filter(|p| p.is_file())
        .collect()
}

fn describe(root: &Path, cycle: &Cycle) -> String {
    let within = if cycle.within.is_empty() {
        "the crate root".to_string()
    } else {
        cycle.within.join("::")
    };
    let steps: Vec<String> = cycle
        .steps
        .iter()
        .map(|(member, names)| {
            if names.is_empty() {
                member.clone()
            } else {
                format!("{member} (takes {})", names.join(", "))
            }
        })
        .collect();
    format!(
        "{}: in {within}, among {}: {}",
        root.display(),
        cycle.members.join(", "),
        steps.join(" -> ")
    )
}

#[test]
fn no_crate_has_an_import_cycle() {
    let mut problems = Vec::new();
    let roots = crate_roots();
    assert!(
        roots.len() >= 4,
        "expected the workspace's crate roots, found {roots:?}"
    );
    for root in &roots {
        let krate = Crate::read(root).unwrap_or_else(|e| panic!("reading {}: {e}", root.display()));
        assert!(
            krate.modules.len() > 1 || root.ends_with("main.rs"),
            "{} has no modules",
            root.display()
        );
        for cycle in cycles(&krate.imports()) {
            problems.push(describe(root, &cycle));
        }
    }
    assert!(
        problems.is_empty(),
        "import cycles (break each by moving the shared names to a file both can import):\n{}",
        problems.join("\n")
    );
}

/// The checker itself: a made-up crate with one cycle between files of a folder and one
/// between folders must show both, and the same crate without them shows none.
#[test]
fn the_check_finds_cycles_between_files_and_between_folders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("src/lib.rs", "pub mod config;\npub mod sink;\n");
    write(
        "src/config/mod.rs",
        "mod raw;\nmod check;\npub use raw::Raw;\nuse crate::sink::Mode;\n",
    );
    write(
        "src/config/raw.rs",
        "use super::check::Problem;\n// use super::nothing::Here;\npub struct Raw;\n",
    );
    write(
        "src/config/check.rs",
        "pub struct Problem;\nfn f() { let _ = super::raw::Raw; }\n",
    );
    write("src/sink/mod.rs", "pub enum Mode {}\nfn s(_: crate::config::Raw) {}\n#[cfg(test)]\nmod tests { use crate::config::check::Problem; }\n");
    let krate = Crate::read(&dir.path().join("src/lib.rs")).expect("reads");
    let found: Vec<String> = cycles(&krate.imports())
        .iter()
        .map(|c| describe(Path::new("x"), c))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found.iter().any(|c| c.contains(
            "in config, among check, raw: check (takes Raw) -> raw (takes Problem) -> check"
        )),
        "{found:#?}"
    );
    assert!(found.iter().any(|c| c.contains("in the crate root, among config, sink: config (takes Mode) -> sink (takes Raw) -> config")), "{found:#?}");

    write("src/config/check.rs", "pub struct Problem;\n");
    write("src/sink/mod.rs", "pub enum Mode {}\n");
    let krate = Crate::read(&dir.path().join("src/lib.rs")).expect("reads");
    assert!(cycles(&krate.imports()).is_empty());
}
