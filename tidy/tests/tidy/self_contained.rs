//! The repository is self-contained: no tracked file points at the team's shared folder,
//! which sits beside the repository on the machine it was written on and which a clone
//! does not have. What the code and docs need from there belongs in the repository.

use crate::repo;

/// The ways a file could point at the shared folder. Built from pieces, so that this file
/// does not contain what it looks for.
fn forbidden() -> [String; 3] {
    [
        ["..", "shared"].join("/"),
        ["", "work", "shared"].join("/"),
        // The shelf's own folder names, however the path to it is written.
        ["shared", "reference"].join("/"),
    ]
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let root = repo::root();
    let forbidden = forbidden();
    let mut found = Vec::new();
    for file in repo::tracked_files() {
        // Binary files (images, archives) are not read as text.
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if let Some(pattern) = forbidden.iter().find(|p| line.contains(p.as_str())) {
                found.push(format!("{}:{}: `{pattern}`", file.display(), number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these lines point at a folder outside the repository; carry what they need into it:\n  {}",
        found.join("\n  ")
    );
}
