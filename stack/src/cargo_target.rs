//! Where cargo put the running executable, so the harness can use the same place.
//!
//! A test executable lives in `<target-dir>[/<triple>]/<profile-dir>/deps/`, an example in
//! `…/<profile-dir>/examples/`; the workspace's binaries sit in `<profile-dir>` beside them.
//! Knowing the target directory, the triple and the profile lets [`crate::process`] have
//! cargo build the binaries with the same profile into the same place, and lets the e2e
//! crate's Python harness keep its environments under the same `target/` (so `cargo clean`
//! removes them too).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// The cargo output layout the running executable belongs to.
#[derive(Debug, Clone)]
pub struct CargoTarget {
    /// The target directory (`target/`, or `CARGO_TARGET_DIR`).
    pub dir: PathBuf,
    /// The `--target` triple, when the build was for an explicit one.
    pub triple: Option<String>,
    /// The `--profile` that builds into `<dir>[/<triple>]/<profile-dir>`; `None` for
    /// `debug/`, which `cargo test` fills with its default profiles (`test` for the tests,
    /// `dev` for the rest).
    pub profile: Option<String>,
}

impl CargoTarget {
    /// The layout of the running executable.
    pub fn of_current_exe() -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the running executable")?;
        Self::of_executable(&exe)
    }

    fn of_executable(exe: &Path) -> anyhow::Result<Self> {
        let parent = exe
            .parent()
            .with_context(|| format!("{} has no parent directory", exe.display()))?;
        let profile_dir = if parent
            .file_name()
            .is_some_and(|name| name == "deps" || name == "examples")
        {
            parent
                .parent()
                .with_context(|| format!("{} has no parent directory", parent.display()))?
        } else {
            parent
        };
        let above = profile_dir.parent().with_context(|| {
            format!("{} is not inside a target directory", profile_dir.display())
        })?;
        // Cargo tags both the target directory and each `<triple>/` directory in it as a
        // cache (CACHEDIR.TAG); with a triple, the directory above it is tagged as well.
        let (dir, triple) = match above.parent() {
            Some(grandparent) if grandparent.join("CACHEDIR.TAG").is_file() => (
                grandparent.to_path_buf(),
                above
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned()),
            ),
            _ => (above.to_path_buf(), None),
        };
        let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => None,
            Some(name) => Some(name.to_owned()),
        };
        Ok(Self {
            dir,
            triple,
            profile,
        })
    }

    /// The `cargo build` or `cargo test` arguments that build into this layout.
    pub fn build_args(&self) -> Vec<String> {
        let mut args = vec!["--target-dir".to_owned(), self.dir.display().to_string()];
        if let Some(profile) = &self.profile {
            args.extend(["--profile".to_owned(), profile.clone()]);
        }
        if let Some(triple) = &self.triple {
            args.extend(["--target".to_owned(), triple.clone()]);
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_executable_of_the_default_layout_builds_with_the_default_profiles() {
        let root = std::env::temp_dir().join(format!("e2e-layout-{}", std::process::id()));
        let deps = root.join("target").join("debug").join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::write(root.join("target").join("CACHEDIR.TAG"), "").unwrap();

        let layout = CargoTarget::of_executable(&deps.join("journeys-0123")).unwrap();
        assert_eq!(layout.dir, root.join("target"));
        assert_eq!(layout.triple, None);
        assert_eq!(
            layout.build_args(),
            ["--target-dir", &root.join("target").display().to_string()]
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_example_of_a_triple_layout_keeps_the_triple_and_the_profile() {
        let root = std::env::temp_dir().join(format!("e2e-layout-triple-{}", std::process::id()));
        let triple_dir = root.join("target").join("x86_64-unknown-linux-gnu");
        let examples = triple_dir.join("release").join("examples");
        std::fs::create_dir_all(&examples).unwrap();
        std::fs::write(root.join("target").join("CACHEDIR.TAG"), "").unwrap();
        std::fs::write(triple_dir.join("CACHEDIR.TAG"), "").unwrap();

        let layout = CargoTarget::of_executable(&examples.join("harness")).unwrap();
        assert_eq!(layout.dir, root.join("target"));
        assert_eq!(
            layout.build_args(),
            [
                "--target-dir",
                &root.join("target").display().to_string(),
                "--profile",
                "release",
                "--target",
                "x86_64-unknown-linux-gnu",
            ]
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
