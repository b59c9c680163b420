//! Small crates written to a temporary folder, so the checks can be shown to find what
//! they look for.

use std::path::{Path, PathBuf};

use crate::module_graph::{Graph, read_crate};

/// A crate written to a temporary folder; removed when dropped.
pub struct Fixture(PathBuf);

impl Fixture {
    /// Writes `files` (path, text) under a fresh folder named after `name`.
    pub fn new(name: &str, files: &[(&str, &str)]) -> Fixture {
        let dir = std::env::temp_dir().join(format!("tidy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Fixture(dir)
    }

    /// The fixture's folder.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// The import graph of the crate rooted at the fixture's `lib.rs`.
    pub fn graph(&self) -> Graph {
        read_crate(&self.0.join("lib.rs")).unwrap()
    }

    /// The edges as `from:line -> to`, with paths relative to the fixture.
    pub fn edges(&self) -> Vec<String> {
        self.graph()
            .edges
            .iter()
            .map(|edge| {
                format!(
                    "{}:{} -> {}",
                    edge.from.strip_prefix(&self.0).unwrap().display(),
                    edge.line,
                    edge.to.strip_prefix(&self.0).unwrap().display()
                )
            })
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
