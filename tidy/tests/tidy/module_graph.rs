//! A crate's file-level import graph, read from its sources with `syn`.
//!
//! Starting at a crate root, `mod` declarations give the module tree and the file of each
//! module. Every path in a file that names something of the crate (`crate::…`, `super::…`,
//! `self::…`, a child module, or a name a `use` brought in) is resolved to the module that
//! defines it, following `use` re-exports, so that a facade `mod.rs` which re-exports its
//! children is not mistaken for the file that defines what it re-exports. Each path that
//! lands in another file is an edge `from file:line → to file`. Paths inside macro calls
//! are found by scanning their tokens for `crate::`, `super::` and `self::`.
//!
//! A `mod` declaration alone is not an edge: declaring a child is not using it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::Visit;

/// One import: `from` (at `line`) uses something defined in `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: PathBuf,
    pub line: usize,
    pub to: PathBuf,
}

/// A path whose first segment is not the crate's: another crate, or a name of `std`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalUse {
    pub file: PathBuf,
    pub line: usize,
    /// The path's first segment, e.g. `axum`.
    pub root: String,
}

/// The import graph of one crate.
#[derive(Debug, Default)]
pub struct Graph {
    /// Every source file of the crate.
    pub files: BTreeSet<PathBuf>,
    /// Edges between different files made by the crate's own code, the first use of each
    /// (from, to) pair.
    pub edges: Vec<Edge>,
    /// Edges made only by test code (`#[cfg(test)]` modules and items), which may reach
    /// any part of their crate.
    pub test_edges: Vec<Edge>,
    /// Paths into other crates.
    pub external: Vec<ExternalUse>,
}

/// Reads the crate rooted at `root_file` (a `lib.rs`, `main.rs`, or a test's root file).
pub fn read_crate(root_file: &Path) -> Result<Graph, String> {
    let mut tree = Tree::default();
    let dir = root_file
        .parent()
        .ok_or_else(|| format!("{} has no parent folder", root_file.display()))?
        .to_owned();
    tree.add_file(None, String::new(), root_file.to_owned(), dir, false)?;
    Ok(tree.graph())
}

#[derive(Debug, Default)]
struct Tree {
    modules: Vec<Module>,
}

#[derive(Debug)]
struct Module {
    parent: Option<usize>,
    /// The file this module is written in (an inline module's is its parent's).
    file: PathBuf,
    /// Where the files of its child modules are.
    dir: PathBuf,
    children: BTreeMap<String, usize>,
    /// Names defined by items of this module (other than `use` and `mod`).
    items: HashSet<String>,
    /// `use` bindings: the name they bind (`None` for a glob) and the path they name.
    imports: Vec<(Option<String>, Vec<String>)>,
    /// Every path used here, with its line and whether only test code uses it.
    paths: Vec<(Vec<String>, usize, bool)>,
    /// Whether the module is compiled for tests only.
    test: bool,
}

impl Tree {
    fn new_module(
        &mut self,
        parent: Option<usize>,
        name: String,
        file: PathBuf,
        dir: PathBuf,
        test: bool,
    ) -> usize {
        let id = self.modules.len();
        self.modules.push(Module {
            parent,
            file,
            dir,
            children: BTreeMap::new(),
            items: HashSet::new(),
            imports: Vec::new(),
            paths: Vec::new(),
            test,
        });
        if let Some(parent) = parent {
            self.modules[parent].children.insert(name, id);
        }
        id
    }

    fn add_file(
        &mut self,
        parent: Option<usize>,
        name: String,
        file: PathBuf,
        dir: PathBuf,
        test: bool,
    ) -> Result<usize, String> {
        let text = std::fs::read_to_string(&file)
            .map_err(|error| format!("{}: {error}", file.display()))?;
        let parsed =
            syn::parse_file(&text).map_err(|error| format!("{}: {error}", file.display()))?;
        let id = self.new_module(parent, name, file, dir, test);
        self.add_items(id, &parsed.items)?;
        Ok(id)
    }

    fn add_items(&mut self, module: usize, items: &[syn::Item]) -> Result<(), String> {
        for item in items {
            let test = self.modules[module].test || is_test_only(item_attrs(item));
            match item {
                syn::Item::Mod(declared) => self.add_mod(module, declared, test)?,
                syn::Item::Use(used) => {
                    let mut expanded = Vec::new();
                    expand_use(&used.tree, &mut Vec::new(), &mut expanded);
                    let line = used.use_token.span.start().line;
                    for (binding, path) in expanded {
                        self.modules[module].paths.push((path.clone(), line, test));
                        self.modules[module].imports.push((binding, path));
                    }
                }
                other => {
                    if let Some(name) = defined_name(other) {
                        self.modules[module].items.insert(name);
                    }
                    let mut collector = PathCollector::default();
                    collector.visit_item(other);
                    let paths = collector
                        .paths
                        .into_iter()
                        .map(|(path, line)| (path, line, test));
                    self.modules[module].paths.extend(paths);
                }
            }
        }
        Ok(())
    }

    fn add_mod(
        &mut self,
        module: usize,
        declared: &syn::ItemMod,
        test: bool,
    ) -> Result<(), String> {
        let name = declared.ident.to_string();
        let parent_dir = self.modules[module].dir.clone();
        if let Some((_, items)) = &declared.content {
            let file = self.modules[module].file.clone();
            let child = self.new_module(
                Some(module),
                name.clone(),
                file,
                parent_dir.join(&name),
                test,
            );
            return self.add_items(child, items);
        }
        let file = match path_attribute(&declared.attrs) {
            Some(path) => parent_dir.join(path),
            None => {
                let flat = parent_dir.join(format!("{name}.rs"));
                if flat.exists() {
                    flat
                } else {
                    parent_dir.join(&name).join("mod.rs")
                }
            }
        };
        // A `mod.rs` keeps its children beside it; `a/b.rs` keeps them in `a/b/`.
        let dir = if file.file_name().is_some_and(|f| f == "mod.rs") {
            file.parent().map(Path::to_owned).unwrap_or_default()
        } else {
            file.with_extension("")
        };
        self.add_file(Some(module), name, file, dir, test)?;
        Ok(())
    }

    /// The module a path used in `from` lands in, if it is this crate's.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Option<usize> {
        if depth > 16 {
            return None;
        }
        let (first, rest) = path.split_first()?;
        let (mut current, rest) = match first.as_str() {
            "crate" => (0, rest),
            "self" => (from, rest),
            "super" => {
                let mut current = self.modules[from].parent?;
                let mut rest = rest;
                while rest.first().is_some_and(|s| s == "super") {
                    current = self.modules[current].parent?;
                    rest = &rest[1..];
                }
                (current, rest)
            }
            name => {
                if self.modules[from].children.contains_key(name) {
                    (from, path)
                } else if let Some(target) = self
                    .follow_import(from, name, depth)
                    .or_else(|| self.follow_glob(from, name, depth))
                {
                    (target, rest)
                } else {
                    return None;
                }
            }
        };
        for segment in rest {
            let module = &self.modules[current];
            if let Some(&child) = module.children.get(segment) {
                current = child;
            } else if module.items.contains(segment) {
                return Some(current);
            } else if let Some(target) = self.follow_import(current, segment, depth) {
                current = target;
            } else if let Some(target) = self.follow_glob(current, segment, depth) {
                current = target;
            } else {
                // A name no item here declares that we can see (one a macro defines): the
                // path ends in this module.
                return Some(current);
            }
        }
        Some(current)
    }

    /// Where a name that `module` brings in with an explicit `use` is defined.
    fn follow_import(&self, module: usize, name: &str, depth: usize) -> Option<usize> {
        self.modules[module]
            .imports
            .iter()
            .find(|(binding, _)| binding.as_deref() == Some(name))
            .and_then(|(_, path)| self.resolve(module, path, depth + 1))
    }

    /// Where a name that `module` brings in with a glob `use` is defined.
    fn follow_glob(&self, module: usize, name: &str, depth: usize) -> Option<usize> {
        self.modules[module]
            .imports
            .iter()
            .filter(|(binding, _)| binding.is_none())
            .filter_map(|(_, path)| self.resolve(module, path, depth + 1))
            .find_map(|target| {
                let target_module = &self.modules[target];
                if target_module.items.contains(name) {
                    Some(target)
                } else if let Some(&child) = target_module.children.get(name) {
                    Some(child)
                } else {
                    self.follow_import(target, name, depth + 1)
                }
            })
    }

    fn graph(&self) -> Graph {
        let mut graph = Graph::default();
        let mut seen = HashSet::new();
        for (id, module) in self.modules.iter().enumerate() {
            graph.files.insert(module.file.clone());
            for (path, line, test) in &module.paths {
                match self.resolve(id, path, 0) {
                    Some(target) => {
                        let to = &self.modules[target].file;
                        if *to == module.file
                            || !seen.insert((module.file.clone(), to.clone(), *test))
                        {
                            continue;
                        }
                        let edge = Edge {
                            from: module.file.clone(),
                            line: *line,
                            to: to.clone(),
                        };
                        if *test {
                            graph.test_edges.push(edge);
                        } else {
                            graph.edges.push(edge);
                        }
                    }
                    // A one-segment path is a local name (a variable, a type in scope);
                    // a crate is named by a longer one or by a `use`.
                    None if path.len() > 1 => {
                        let root = &path[0];
                        if !["crate", "self", "super", "Self"].contains(&root.as_str())
                            && !module.items.contains(root)
                        {
                            graph.external.push(ExternalUse {
                                file: module.file.clone(),
                                line: *line,
                                root: root.clone(),
                            });
                        }
                    }
                    None => {}
                }
            }
        }
        graph.edges.sort();
        graph.test_edges.sort();
        // A file used by its own code need not be listed again for its tests.
        let production: HashSet<(PathBuf, PathBuf)> = graph
            .edges
            .iter()
            .map(|edge| (edge.from.clone(), edge.to.clone()))
            .collect();
        graph
            .test_edges
            .retain(|edge| !production.contains(&(edge.from.clone(), edge.to.clone())));
        graph
    }
}

/// The name an item defines, if it defines one that paths can name.
fn defined_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(item) => &item.ident,
        syn::Item::Enum(item) => &item.ident,
        syn::Item::Fn(item) => &item.sig.ident,
        syn::Item::Macro(item) => item.ident.as_ref()?,
        syn::Item::Static(item) => &item.ident,
        syn::Item::Struct(item) => &item.ident,
        syn::Item::Trait(item) => &item.ident,
        syn::Item::TraitAlias(item) => &item.ident,
        syn::Item::Type(item) => &item.ident,
        syn::Item::Union(item) => &item.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// An item's attributes.
fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(item) => &item.attrs,
        syn::Item::Enum(item) => &item.attrs,
        syn::Item::ExternCrate(item) => &item.attrs,
        syn::Item::Fn(item) => &item.attrs,
        syn::Item::ForeignMod(item) => &item.attrs,
        syn::Item::Impl(item) => &item.attrs,
        syn::Item::Macro(item) => &item.attrs,
        syn::Item::Mod(item) => &item.attrs,
        syn::Item::Static(item) => &item.attrs,
        syn::Item::Struct(item) => &item.attrs,
        syn::Item::Trait(item) => &item.attrs,
        syn::Item::TraitAlias(item) => &item.attrs,
        syn::Item::Type(item) => &item.attrs,
        syn::Item::Union(item) => &item.attrs,
        syn::Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

/// Whether `#[cfg(test)]` or `#[cfg(all(test, …))]` compiles the item for tests only.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    fn needs_test(tokens: TokenStream) -> bool {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        match tokens.as_slice() {
            [TokenTree::Ident(ident)] => ident == "test",
            [TokenTree::Ident(all), TokenTree::Group(group)] if all == "all" => group
                .stream()
                .into_iter()
                .any(|token| matches!(&token, TokenTree::Ident(ident) if ident == "test")),
            _ => false,
        }
    }
    attrs.iter().any(|attr| match &attr.meta {
        syn::Meta::List(list) if list.path.is_ident("cfg") => needs_test(list.tokens.clone()),
        _ => false,
    })
}

/// The value of a `#[path = "…"]` attribute.
fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(meta) if meta.path.is_ident("path") => match &meta.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(path),
                ..
            }) => Some(path.value()),
            _ => None,
        },
        _ => None,
    })
}

/// The bindings of a `use` tree: each with the name it binds (`None` for `*`) and the
/// full path it names (`self` in a group names the group's module).
fn expand_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Option<String>, Vec<String>)>,
) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            expand_use(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let ident = name.ident.to_string();
            if ident == "self" {
                out.push((prefix.last().cloned(), prefix.clone()));
            } else {
                let mut path = prefix.clone();
                path.push(ident.clone());
                out.push((Some(ident), path));
            }
        }
        syn::UseTree::Rename(rename) => {
            let mut path = prefix.clone();
            let ident = rename.ident.to_string();
            if ident != "self" {
                path.push(ident);
            }
            out.push((Some(rename.rename.to_string()), path));
        }
        syn::UseTree::Glob(_) => out.push((None, prefix.clone())),
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                expand_use(tree, prefix, out);
            }
        }
    }
}

/// Collects the paths used inside one item (its body included).
#[derive(Default)]
struct PathCollector {
    paths: Vec<(Vec<String>, usize)>,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if let Some(first) = path.segments.first() {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.paths.push((segments, first.ident.span().start().line));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, used: &'ast syn::ItemUse) {
        // A `use` inside a function body.
        let mut expanded = Vec::new();
        expand_use(&used.tree, &mut Vec::new(), &mut expanded);
        let line = used.use_token.span.start().line;
        self.paths
            .extend(expanded.into_iter().map(|(_, path)| (path, line)));
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        scan_tokens(mac.tokens.clone(), &mut self.paths);
        syn::visit::visit_macro(self, mac);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(in crate::x)` restricts who may see an item; it does not use `x`.
    }
}

/// Finds `crate::…`, `super::…` and `self::…` paths in a macro's tokens.
fn scan_tokens(tokens: TokenStream, out: &mut Vec<(Vec<String>, usize)>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut index = 0;
    while index < tokens.len() {
        match &tokens[index] {
            TokenTree::Group(group) => scan_tokens(group.stream(), out),
            TokenTree::Ident(ident)
                if ["crate", "super", "self"].contains(&ident.to_string().as_str()) =>
            {
                let line = ident.span().start().line;
                let mut segments = vec![ident.to_string()];
                let mut next = index + 1;
                while let (
                    Some(TokenTree::Punct(a)),
                    Some(TokenTree::Punct(b)),
                    Some(TokenTree::Ident(name)),
                ) = (tokens.get(next), tokens.get(next + 1), tokens.get(next + 2))
                {
                    if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':' {
                        break;
                    }
                    segments.push(name.to_string());
                    next += 3;
                }
                if segments.len() > 1 {
                    out.push((segments, line));
                }
                index = next;
                continue;
            }
            _ => {}
        }
        index += 1;
    }
}
