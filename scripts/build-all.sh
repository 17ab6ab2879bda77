#!/usr/bin/env bash
# Everything the guest needs, from a fresh clone: toolchain, cached kernel,
# escguard.ko (no warnings allowed), static escguardctl, guest disk.
# Prints the paths it produced as shell assignments on the last lines
# (KDIR=, IMAGE=) for callers that `eval` them.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ESCGUARD_ROOT"

"$ESCGUARD_ROOT/scripts/install-deps.sh" >&2
"$ESCGUARD_ROOT/scripts/build-kernel.sh" >&2
KDIR="$(kernel_build_dir)"

log "building escguard.ko against $KDIR"
make -s module KDIR="$KDIR" 2>&1 | tee build-module.log >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || die "module build failed"
if grep -qiE 'warning' build-module.log; then die "module build printed warnings (see build-module.log)"; fi
rm -f build-module.log

log "building the test-only payload module"
# Same as the Makefile's module target: objects of another tree are cleaned.
if [ "$(cat tests/kmod/.kdir-stamp 2>/dev/null)" != "$KDIR" ]; then
    make -s -C "$KDIR" M="$ESCGUARD_ROOT/tests/kmod" "${KMAKEFLAGS[@]}" clean >/dev/null
    echo "$KDIR" > tests/kmod/.kdir-stamp
fi
# KMAKEFLAGS carries LLVM=-22 for the clang-built flavors (scripts/env.sh).
make -s -C "$KDIR" M="$ESCGUARD_ROOT/tests/kmod" "${KMAKEFLAGS[@]}" modules >&2

log "building the test-only skewed escguards (vfs_private.h that does not match the kernel)"
# From the sources make install-dkms ships, in a scratch tree: the guest
# suite proves that each load-time layout check refuses its skew
# (module/vfs_private.h says which member each moves).
rm -rf build/skew; make -s install-dkms DESTDIR="$ESCGUARD_ROOT/build/skew" >/dev/null
skew_src=$(echo "$ESCGUARD_ROOT"/build/skew/usr/src/escguard-*)
for n in 1 2 3 4 5 6 7 8; do
    make -s -C "$KDIR" M="$skew_src" "${KMAKEFLAGS[@]}" KCFLAGS=-DESCGUARD_TEST_VFS_SKEW=$n modules >&2
    cp "$skew_src/escguard.ko" "$ESCGUARD_ROOT/build/skew/escguard_skew$n.ko"
done
# Only helpers.c reads vfs_private.h; kbuild rebuilds it when KCFLAGS changes.
for n in 2 3 4 5 6 7 8; do
    ! cmp -s build/skew/escguard_skew$((n - 1)).ko build/skew/escguard_skew$n.ko || die "skewed test modules $((n - 1)) and $n are identical"
done

log "building the static fuzzer"
mkdir -p "$ESCGUARD_ROOT/build/fuzz"
gcc -static -O2 -Wall -Wextra -Werror -I "$ESCGUARD_ROOT/include" -o "$ESCGUARD_ROOT/build/fuzz/fuzz" "$ESCGUARD_ROOT/tests/fuzz/fuzz.c" -lpthread >&2 || die "fuzzer build failed"

log "building the static rules probe (egprobe)"
mkdir -p "$ESCGUARD_ROOT/build/progs"
gcc -static -O2 -Wall -Wextra -Werror -I "$ESCGUARD_ROOT/include" -o "$ESCGUARD_ROOT/build/progs/egprobe" "$ESCGUARD_ROOT/tests/progs/egprobe.c" >&2 || die "egprobe build failed"

log "building the static benchmark driver"
mkdir -p "$ESCGUARD_ROOT/build/bench"
gcc -static -O2 -Wall -o "$ESCGUARD_ROOT/build/bench/bench" "$ESCGUARD_ROOT/tests/bench/bench.c" -lpthread 2>&1 \
  | grep -v 'Using .* in statically linked' >&2 || true
ln -sf bench "$ESCGUARD_ROOT/build/bench/true"
echo "${ESCGUARD_BENCH_CONF:-N=20000 OC_N=200000 ROUNDS=3 SCALE_N=5000 SIZES=\"100 10000 100000\"}" > "$ESCGUARD_ROOT/build/bench/conf"

log "building static escguardctl"
make -s ctl-static >&2
CTL="$ESCGUARD_ROOT/ctl/target/x86_64-unknown-linux-gnu/release/escguardctl"

mkdir -p "$ESCGUARD_ROOT/build"
KDIR="$KDIR" "$ESCGUARD_ROOT/scripts/build-guest.sh" "$ESCGUARD_ROOT/build/guest.img" "$ESCGUARD_ROOT/escguard.ko" "$CTL" \
  "$ESCGUARD_ROOT/tests/kmod/escguard_test_payload.ko" "$ESCGUARD_ROOT/tests/kmod/escguard_test_direct.ko" \
  "$ESCGUARD_ROOT"/build/skew/escguard_skew[1-8].ko >&2
echo "KDIR=$(printf %q "$KDIR")"
echo "IMAGE=$(printf %q "$ESCGUARD_ROOT/build/guest.img")"
