//! No import cycle between the source files of any crate in the workspace.
//!
//! Two files that import each other (directly or round a loop) cannot be read, tested or
//! moved one at a time: each is half of the other. Every target Cargo knows (libraries,
//! binaries, tests, benchmarks) is read with [`crate::module_graph`], and each strongly
//! connected set of more than one file is reported with the lines that close it.
//!
//! Only the crates' own code counts: a `#[cfg(test)]` module may reach any part of its
//! crate (a unit test of a configuration that builds the whole server), which ties no
//! production file to another.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::module_graph::{Edge, read_crate};
use crate::repo;

/// Cycles that exist on purpose for now, as pairs of files relative to the root; the
/// edges between the two files of an entry are left out of the check. An entry must still
/// close a cycle: one that no longer does fails the test, so the list only shrinks.
const ALLOWED_CYCLES: &[(&str, &str)] = &[];

/// The strongly connected sets of files with more than one file (Tarjan's algorithm).
pub fn cycles(edges: &[Edge]) -> Vec<BTreeSet<PathBuf>> {
    let mut successors: BTreeMap<&Path, Vec<&Path>> = BTreeMap::new();
    for edge in edges {
        successors.entry(&edge.from).or_default().push(&edge.to);
        successors.entry(&edge.to).or_default();
    }
    let mut tarjan = Tarjan {
        successors: &successors,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for node in successors.keys() {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.found
}

struct Tarjan<'g> {
    successors: &'g BTreeMap<&'g Path, Vec<&'g Path>>,
    index: BTreeMap<&'g Path, usize>,
    low: BTreeMap<&'g Path, usize>,
    stack: Vec<&'g Path>,
    on_stack: BTreeSet<&'g Path>,
    next: usize,
    found: Vec<BTreeSet<PathBuf>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, node: &'g Path) {
        self.index.insert(node, self.next);
        self.low.insert(node, self.next);
        self.next += 1;
        self.stack.push(node);
        self.on_stack.insert(node);
        for &next in &self.successors[node] {
            if !self.index.contains_key(next) {
                self.visit(next);
                let low = self.low[node].min(self.low[next]);
                self.low.insert(node, low);
            } else if self.on_stack.contains(next) {
                let low = self.low[node].min(self.index[next]);
                self.low.insert(node, low);
            }
        }
        if self.low[node] == self.index[node] {
            let mut component = BTreeSet::new();
            while let Some(member) = self.stack.pop() {
                self.on_stack.remove(member);
                component.insert(member.to_owned());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                self.found.push(component);
            }
        }
    }
}

/// A cycle for a person: its files and the lines that tie them together.
pub fn describe(component: &BTreeSet<PathBuf>, edges: &[Edge]) -> String {
    let mut text = String::from("these files import each other:\n");
    for edge in edges {
        if component.contains(&edge.from) && component.contains(&edge.to) {
            text.push_str(&format!(
                "  {}:{} uses {}\n",
                repo::relative(&edge.from),
                edge.line,
                repo::relative(&edge.to)
            ));
        }
    }
    text
}

fn is_allowed(edge: &Edge, (a, b): (&str, &str)) -> bool {
    let (from, to) = (repo::relative(&edge.from), repo::relative(&edge.to));
    (from == a && to == b) || (from == b && to == a)
}

#[test]
fn no_source_file_imports_a_file_that_imports_it_back() {
    let mut problems = Vec::new();
    let mut used_entries = BTreeSet::new();
    let (mut crates, mut files, mut edges_seen) = (0, BTreeSet::new(), 0);
    for target in repo::targets() {
        let graph = read_crate(&target.root_file)
            .unwrap_or_else(|error| panic!("{} ({}): {error}", target.package, target.kind));
        crates += 1;
        files.extend(graph.files.iter().cloned());
        edges_seen += graph.edges.len();
        for (i, &entry) in ALLOWED_CYCLES.iter().enumerate() {
            if cycles(&graph.edges).iter().any(|component| {
                [entry.0, entry.1]
                    .iter()
                    .all(|file| component.contains(&repo::root().join(file)))
            }) {
                used_entries.insert(i);
            }
        }
        let edges: Vec<Edge> = graph
            .edges
            .iter()
            .filter(|edge| !ALLOWED_CYCLES.iter().any(|&entry| is_allowed(edge, entry)))
            .cloned()
            .collect();
        for component in cycles(&edges) {
            problems.push(format!(
                "{} ({} `{}`): {}",
                target.package,
                target.kind,
                target.name,
                describe(&component, &edges)
            ));
        }
    }
    for (i, (a, b)) in ALLOWED_CYCLES.iter().enumerate() {
        if !used_entries.contains(&i) {
            problems.push(format!(
                "{a} and {b} no longer import each other: remove their entry from ALLOWED_CYCLES"
            ));
        }
    }
    println!(
        "import cycles: {crates} crate targets, {} files, {edges_seen} file-to-file imports \
         outside test code, {} problems",
        files.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_cycle_through_a_re_export_is_found_with_its_lines() {
    let fixture = crate::fixture::Fixture::new(
        "cycle",
        &[
            ("lib.rs", "//! x\nmod a;\nmod b;\npub use b::Thing;\n"),
            (
                "a.rs",
                "//! x\npub fn helper() {}\nfn f(_: crate::Thing) {}\n",
            ),
            (
                "b.rs",
                "//! x\npub struct Thing;\nfn g() {\n    super::a::helper();\n}\n",
            ),
        ],
    );
    let graph = fixture.graph();

    let found = cycles(&graph.edges);

    assert_eq!(found.len(), 1, "{:?}", graph.edges);
    let names: Vec<String> = found[0]
        .iter()
        .map(|file| {
            file.strip_prefix(fixture.dir())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["a.rs", "b.rs"]);
    let text = describe(&found[0], &graph.edges);
    assert!(text.contains("a.rs:3 uses"), "{text}");
    assert!(text.contains("b.rs:4 uses"), "{text}");
}

#[test]
fn a_facade_that_re_exports_its_children_closes_no_cycle() {
    let fixture = crate::fixture::Fixture::new(
        "facade",
        &[
            ("lib.rs", "//! x\nmod state;\n"),
            (
                "state/mod.rs",
                "//! x\nmod app;\nmod clock;\npub use app::App;\npub use clock::Clock;\n",
            ),
            ("state/clock.rs", "//! x\npub struct Clock;\n"),
            (
                "state/app.rs",
                "//! x\nuse super::Clock;\npub struct App(Clock);\n",
            ),
        ],
    );
    assert!(cycles(&fixture.graph().edges).is_empty());
}
