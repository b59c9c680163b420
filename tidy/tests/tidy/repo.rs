//! The repository the tests read: its root, its tracked files, and its crates' targets as
//! Cargo sees them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (tidy's parent folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tidy lives in the workspace root")
        .to_owned()
}

/// `path` relative to the workspace root, for messages.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The files git tracks, relative to the root. Outside a git checkout (a source archive),
/// every file below the root except `target/` and dot-folders.
pub fn tracked_files() -> Vec<PathBuf> {
    let root = root();
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached"])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|output| output.status.success());
    match listed {
        Some(output) => output
            .stdout
            .split(|byte| *byte == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            // A file deleted in the working tree but not yet in the index is not there.
            .filter(|name| root.join(name).is_file())
            .collect(),
        None => {
            let mut files = Vec::new();
            walk(&root, &root, &mut files);
            files
        }
    }
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || (dir == root && name == "target") {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_owned());
        }
    }
}

/// One compiled target of a workspace crate: a library, a binary, a test or a benchmark.
#[derive(Debug, Clone)]
pub struct Target {
    /// The package's name, e.g. `fake-auth0`.
    pub package: String,
    /// `lib`, `bin`, `test`, `bench`, `example`.
    pub kind: String,
    /// The target's name.
    pub name: String,
    /// The crate root file, absolute.
    pub root_file: PathBuf,
}

/// Every target of every workspace member, from `cargo metadata`.
pub fn targets() -> Vec<Target> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let mut targets = Vec::new();
    for package in metadata["packages"].as_array().expect("a package list") {
        let package_name = package["name"].as_str().unwrap_or_default();
        for target in package["targets"].as_array().expect("a target list") {
            let kinds = target["kind"].as_array().expect("target kinds");
            // A build script is not part of the crate's module tree.
            let Some(kind) = kinds
                .iter()
                .filter_map(|k| k.as_str())
                .find(|k| *k != "custom-build")
            else {
                continue;
            };
            targets.push(Target {
                package: package_name.to_owned(),
                kind: kind.to_owned(),
                name: target["name"].as_str().unwrap_or_default().to_owned(),
                root_file: PathBuf::from(target["src_path"].as_str().unwrap_or_default()),
            });
        }
    }
    assert!(!targets.is_empty(), "cargo metadata lists no target");
    targets
}
