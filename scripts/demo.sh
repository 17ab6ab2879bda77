#!/usr/bin/env bash
# The main job: build everything from a fresh clone (toolchain, cached kernel,
# module, CLI, guest disk), boot the guest with escguard and show it at work.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ESCGUARD_ROOT"
eval "$(scripts/build-all.sh | tail -2)"
[ -n "${IMAGE:-}" ] || die "build failed"
exec qemu/run-guest.sh --verbose --kernel "$KDIR/arch/x86/boot/bzImage" \
  --image "$IMAGE" --suite demo.sh --log build/demo.log
