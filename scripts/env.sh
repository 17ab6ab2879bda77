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

# Flavors: test (default; GCC, debug checks), bench (GCC, no debug checks),
# kasan and kcsan (clang, sanitizers on top of the test flavor's checks).
# The sanitizer flavors are built with clang/lld/llvm 22 (LLVM=-22): the
# LLVM that rustc-web is built on, so that the C and the Rust side of the
# kernel are instrumented by the same sanitizer runtime ABI. The module and
# the test-only modules must then be built with the same LLVM=-22.
KLLVM=-22
flavor_is_clang() {
  case "${ESCGUARD_FLAVOR:-test}" in kasan|kcsan) return 0 ;; *) return 1 ;; esac
}
case "${ESCGUARD_FLAVOR:-test}" in
  test|bench|kasan|kcsan) ;;
  *) printf 'error: unknown ESCGUARD_FLAVOR=%s (test, bench, kasan, kcsan)\n' "$ESCGUARD_FLAVOR" >&2; exit 2 ;;
esac
if flavor_is_clang; then KMAKEFLAGS+=(LLVM="$KLLVM"); fi

# Extra kernel command line for the guest. The sanitizer kernels boot with
# no5lvl: under QEMU TCG -cpu max (5-level paging) the core kernel itself
# reports "BUG: KASAN: wild-memory-access in do_raw_spin_lock" during
# identify_cpu, before any module loads; with 4-level paging it does not.
kernel_append() {
  if flavor_is_clang; then echo "no5lvl"; fi
}
# Guest suite timeouts are multiplied by this: the sanitizers slow every
# instrumented access (the hardening suite alone takes about 14 minutes
# on the KASAN kernel, against a default timeout of 15).
kernel_timeout_scale() {
  if flavor_is_clang; then echo 3; else echo 1; fi
}

kernel_version() { dpkg-query -W -f='${Version}' linux-source-6.12; }

# Bump when scripts/build-kernel.sh changes what it builds (not its messages).
KERNEL_RECIPE=1

# Cache key: kernel package version + config fragment + toolchain versions +
# recipe version. Any change gives a new build directory.
# ESCGUARD_FLAVOR=bench adds qemu/kernel-bench.config (no debug checks),
# kasan adds qemu/kernel-kasan.config, kcsan qemu/kernel-kcsan.config.
kernel_fragments() {
  echo "$ESCGUARD_ROOT/qemu/kernel.config"
  case "${ESCGUARD_FLAVOR:-test}" in
    bench|kasan|kcsan) echo "$ESCGUARD_ROOT/qemu/kernel-$ESCGUARD_FLAVOR.config" ;;
  esac
}

kernel_key() {
  {
    kernel_version; echo "recipe $KERNEL_RECIPE"
    [ "${ESCGUARD_FLAVOR:-test}" = test ] || echo "flavor $ESCGUARD_FLAVOR"
    kernel_fragments | xargs cat
    "$KRUSTC" --version; "$KBINDGEN" --version; gcc --version | head -1
    # Only the clang flavors hash the clang/lld version: the test and bench
    # keys (and their cached trees) stay what they were.
    if flavor_is_clang; then "clang$KLLVM" --version | head -1; "ld.lld$KLLVM" --version; fi
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
