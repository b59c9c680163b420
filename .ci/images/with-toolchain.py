#!/usr/bin/env python3
"""Writes to stdout a root filesystem tarball with a Rust toolchain added, for `docker import -`.

The toolchain is the one rustup installed on the host, cut down to rustup's `minimal` profile
(the components rustc, cargo and rust-std) — the profile the official `rust:*-slim` images
install. Each component's file list is rustup's own manifest in lib/rustlib/, so nothing else of
the host's toolchain (docs, clippy, rustfmt) reaches the image. The files land where the
official image keeps them, under RUSTUP_HOME=/usr/local/rustup, and /usr/local/cargo/bin (on
PATH) holds links to the binaries.

    with-toolchain.py ROOTFS_TAR SYSROOT TOOLCHAIN_NAME | docker import - local/rust:...

Streaming keeps the disk free: neither the merged tree nor the merged tarball is ever written.
"""

import os
import sys
import tarfile

MINIMAL_PROFILE = ("rustc", "cargo", "rust-std")
HOST = "x86_64-unknown-linux-gnu"
RUSTUP_HOME = "usr/local/rustup"
CARGO_BIN = "usr/local/cargo/bin"
LINKED_BINARIES = ("cargo", "rustc", "rustdoc")


def component_files(sysroot):
    """Every path (relative to the sysroot) of the minimal profile's components."""
    paths = []
    for component in MINIMAL_PROFILE:
        manifest = os.path.join(sysroot, "lib", "rustlib", f"manifest-{component}-{HOST}")
        with open(manifest, encoding="utf-8") as lines:
            for line in lines:
                kind, _, path = line.strip().partition(":")
                if kind != "file":
                    sys.exit(f"{manifest}: unexpected entry {line.strip()!r}")
                paths.append(path)
    # rustup's own bookkeeping, so that `rustup` (if a user adds it) sees a normal toolchain.
    paths += [f"lib/rustlib/manifest-{c}-{HOST}" for c in MINIMAL_PROFILE]
    return paths


def directory(name, mtime):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = mtime
    return info


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rootfs_tar, sysroot, toolchain_name = sys.argv[1:]
    toolchain_dir = f"{RUSTUP_HOME}/toolchains/{toolchain_name}"
    mtime = os.stat(sysroot).st_mtime

    def owned_by_root(info):
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as out:
        # Directories already in the archive (names normalised: `tar -C dir .` writes "./usr").
        written = set()
        with tarfile.open(rootfs_tar, mode="r|") as rootfs:
            for member in rootfs:
                out.addfile(member, rootfs.extractfile(member) if member.isfile() else None)
                if member.isdir():
                    written.add(os.path.normpath(member.name))

        def parents(path):
            """Directory entries for every missing parent of path, outermost first."""
            parent = os.path.dirname(path)
            if parent and parent not in written:
                parents(parent)
                out.addfile(directory(parent, mtime))
                written.add(parent)

        for path in component_files(sysroot):
            arcname = f"{toolchain_dir}/{path}"
            parents(arcname)
            out.add(os.path.join(sysroot, path), arcname=arcname, filter=owned_by_root)
        parents(f"{CARGO_BIN}/cargo")
        for binary in LINKED_BINARIES:
            link = tarfile.TarInfo(f"{CARGO_BIN}/{binary}")
            link.type = tarfile.SYMTYPE
            link.linkname = f"/{toolchain_dir}/bin/{binary}"
            link.mode = 0o777
            out.addfile(link)


if __name__ == "__main__":
    main()
