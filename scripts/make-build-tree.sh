#!/usr/bin/env bash
# Makes a packaged kernel build tree from a built kernel, the way a
# distribution's linux-headers package is made: the kernel's own
# scripts/package/install-extmod-build (Makefiles, include/, scripts/,
# Module.symvers, .config; no fs/, no sources), plus the Rust artifacts
# that 6.12's packaging leaves out and that every out-of-tree Rust module
# needs (rust/*.rmeta, the macros proc-macro library): without them rustc
# fails with "E0463: can't find crate for `core`". Distributions that
# enable CONFIG_RUST ship these too (Armbian's kernel-rust headers, for one).
#   scripts/make-build-tree.sh KDIR OUT
# escguard then builds with: make -C OUT M=<escguard source> modules
set -euo pipefail
. "$(dirname "$0")/env.sh"
KDIR="$1" OUT="$2"
[ -f "$KDIR/Module.symvers" ] || die "$KDIR is not a built kernel tree (no Module.symvers)"
src=$(readlink -f "$KDIR/source" 2>/dev/null || echo "$KDIR")
rm -rf "$OUT"; mkdir -p "$OUT"
# install-extmod-build reads the tree's config from the current directory and
# the sources from $srctree; CC = HOSTCC, so no host program is rebuilt.
( cd "$KDIR" && srctree="$src" SRCARCH=x86 CC=cc HOSTCC=cc sh "$src/scripts/package/install-extmod-build" "$OUT" )
cp -a "$KDIR/.config" "$OUT/.config"
mkdir -p "$OUT/rust"
cp -a "$KDIR"/rust/*.rmeta "$KDIR"/rust/*.so "$OUT/rust/"
echo "$OUT"
