# Shared settings for escguard's scripts; sourced, not run.
# The kernel's Rust must be Debian's rustc-web pair, never the rustup toolchain
# (different rustc => E0514 when loading crates, and rustup has no rust-src).
export PATH="$HOME/.cargo/bin:$PATH"
ESCGUARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ESCGUARD_CACHE="${ESCGUARD_CACHE:-$HOME/.cache/escguard}"
KRUSTC=/usr/bin/rustc
KBINDGEN="$(command -v bindgen || echo "$HOME/.cargo/bin/bindgen")"
KRUST_LIB_SRC=/usr/lib/rustlib/src/rust/library
KMAKEFLAGS=(RUSTC="$KRUSTC" BINDGEN="$KBINDGEN" RUST_LIB_SRC="$KRUST_LIB_SRC")

kernel_version() { dpkg-query -W -f='${Version}' linux-source-6.12; }

# Bump when scripts/build-kernel.sh changes what it builds (not its messages).
KERNEL_RECIPE=1

# Cache key: kernel package version + config fragment + toolchain versions +
# recipe version. Any change gives a new build directory.
# ESCGUARD_FLAVOR=bench adds qemu/kernel-bench.config (no debug checks).
kernel_fragments() {
  echo "$ESCGUARD_ROOT/qemu/kernel.config"
  [ "${ESCGUARD_FLAVOR:-test}" != bench ] || echo "$ESCGUARD_ROOT/qemu/kernel-bench.config"
}

kernel_key() {
  {
    kernel_version; echo "recipe $KERNEL_RECIPE"
    [ "${ESCGUARD_FLAVOR:-test}" = test ] || echo "flavor $ESCGUARD_FLAVOR"
    kernel_fragments | xargs cat
    "$KRUSTC" --version; "$KBINDGEN" --version; gcc --version | head -1
  } | sha256sum | cut -c1-12
}

kernel_src_dir() { echo "$ESCGUARD_CACHE/src-$(kernel_version)"; }
kernel_build_dir() {
  local f=""
  [ "${ESCGUARD_FLAVOR:-test}" = test ] || f="$ESCGUARD_FLAVOR-"
  echo "$ESCGUARD_CACHE/kernel-$f$(kernel_version)-$(kernel_key)"
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
