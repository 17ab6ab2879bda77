#!/usr/bin/env bash
# Install everything escguard's build and tests need on Debian 12.
# Idempotent: packages already present and a bindgen of the pinned version are
# left alone, so a second run costs a few seconds.
set -euo pipefail

BINDGEN_VERSION=0.73.2

PKGS=(
  linux-source-6.12
  rustc-web rust-web-src          # kernel Rust: /usr/bin/rustc + library source
  libclang-dev clang llvm lld     # bindgen's libclang; LLVM tools
  build-essential flex bison bc libelf-dev libssl-dev dwarves
  cpio kmod e2fsprogs xz-utils
  busybox-static qemu-system-x86
  runc util-linux
)
# The sanitizer kernel flavors (ESCGUARD_FLAVOR=kasan|kcsan, make test-kasan /
# test-kcsan) are built with clang 22: the LLVM of rustc-web (1.96, LLVM 22),
# from bookworm's own archive (1:22.1.8-1~deb12u1). `make test` does not need
# them, so a cold CI run does not download them.
case "${ESCGUARD_FLAVOR:-test}" in
  kasan|kcsan) PKGS+=(clang-22 lld-22 llvm-22) ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "==> Debian packages: all present"
fi

# bindgen-cli from crates.io, pinned: 0.73.x passes `make rustavailable` on 6.12.
export PATH="$HOME/.cargo/bin:$PATH"
if command -v bindgen >/dev/null && bindgen --version | grep -q " ${BINDGEN_VERSION}\$"; then
  echo "==> bindgen ${BINDGEN_VERSION}: present"
else
  echo "==> cargo install bindgen-cli ${BINDGEN_VERSION} (about a minute)"
  cargo install --locked --quiet bindgen-cli --version "${BINDGEN_VERSION}"
fi

# The static CLI for the guest is built for the gnu target with crt-static.
rustup target list --installed 2>/dev/null | grep -q x86_64-unknown-linux-gnu || true
echo "==> toolchain ready: $(/usr/bin/rustc --version), $(bindgen --version)"
