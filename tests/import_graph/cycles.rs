//! Finding import cycles at every level of a module tree: among the files of one folder, and
//! among folders (a folder's files counted together), so that both "file A and file B import
//! each other" and "module `config` imports `sink`, which imports `config`" are caught.

use crate::modules::Import;
use std::collections::{BTreeMap, BTreeSet};

/// A cycle among the members of one module: each step names the member and what it takes
/// from the next.
#[derive(Debug)]
pub struct Cycle {
    /// The module whose members form the cycle (empty: the crate root).
    pub within: Vec<String>,
    /// Every member caught in the cycles, which may be more than one walk shows.
    pub members: Vec<String>,
    /// One closed walk through them, with the names each member takes from the next.
    pub steps: Vec<(String, Vec<String>)>,
}

/// Edges between members of one module, with the names each edge takes.
type Edges = BTreeMap<(String, String), Vec<String>>;

/// The members of `within` that `path` falls under: the module itself is `(self)`.
fn member(within: &[String], path: &[String]) -> String {
    path.get(within.len())
        .cloned()
        .unwrap_or_else(|| "(self)".into())
}

/// Every cycle among siblings, at every level of the tree.
pub fn cycles(imports: &BTreeSet<Import>) -> Vec<Cycle> {
    // For each import, the deepest module containing both ends: there the two ends are
    // different members, and that is where the edge counts.
    let mut groups: BTreeMap<Vec<String>, Edges> = BTreeMap::new();
    for import in imports {
        let common = import
            .from
            .iter()
            .zip(&import.to)
            .take_while(|(a, b)| a == b)
            .count();
        let within = import.from[..common].to_vec();
        let (a, b) = (member(&within, &import.from), member(&within, &import.to));
        groups
            .entry(within)
            .or_default()
            .entry((a, b))
            .or_default()
            .push(import.name.clone());
    }
    let mut found = Vec::new();
    for (within, edges) in groups {
        for component in strongly_connected(&edges) {
            let steps = walk(&component, &edges);
            found.push(Cycle {
                within: within.clone(),
                members: component.into_iter().collect(),
                steps,
            });
        }
    }
    found
}

/// Components of more than one member (Kosaraju, small graphs).
fn strongly_connected(edges: &Edges) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |start: &String, forward: bool| {
        let mut seen = BTreeSet::from([start.clone()]);
        let mut stack = vec![start.clone()];
        while let Some(n) = stack.pop() {
            for (a, b) in edges.keys() {
                let (x, y) = if forward { (a, b) } else { (b, a) };
                if *x == n && seen.insert(y.clone()) {
                    stack.push(y.clone());
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut components = Vec::new();
    for node in nodes {
        if done.contains(node) {
            continue;
        }
        let both: BTreeSet<String> = reach(node, true)
            .intersection(&reach(node, false))
            .cloned()
            .collect();
        done.extend(both.iter().cloned());
        if both.len() > 1 {
            components.push(both);
        }
    }
    components
}

/// One closed walk through a component, for the message.
fn walk(component: &BTreeSet<String>, edges: &Edges) -> Vec<(String, Vec<String>)> {
    let start = component.iter().next().cloned().unwrap_or_default();
    let mut steps = Vec::new();
    let mut at = start.clone();
    let mut visited = BTreeSet::new();
    while visited.insert(at.clone()) {
        let next = edges
            .iter()
            .find(|((a, b), _)| {
                *a == at && component.contains(b) && (!visited.contains(b) || *b == start)
            })
            .or_else(|| {
                edges
                    .iter()
                    .find(|((a, b), _)| *a == at && component.contains(b))
            });
        let Some(((_, b), names)) = next else { break };
        let mut names = names.clone();
        names.sort();
        names.dedup();
        steps.push((at.clone(), names));
        at = b.clone();
    }
    steps.push((at, Vec::new()));
    steps
}
