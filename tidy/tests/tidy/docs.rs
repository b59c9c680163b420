//! Every `.rs` file under a `src/` folder opens with a `//!` comment: a reader who opens
//! any module learns first why it exists.

use crate::repo;

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let root = repo::root();
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in repo::tracked_files() {
        let in_src = file.components().any(|part| part.as_os_str() == "src");
        if !in_src || file.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
        let first = text.lines().find(|line| !line.trim().is_empty());
        if !first.is_some_and(|line| line.trim_start().starts_with("//!")) {
            missing.push(file.display().to_string());
        }
    }
    assert!(checked > 0, "no source file found under the workspace root");
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` doc saying why they exist:\n  {}",
        missing.join("\n  ")
    );
}
