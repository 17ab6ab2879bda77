#!/usr/bin/env bash
# make bench: build everything and run the benchmark suite in the guest.
# BENCH_N (default 20000) fork loops and BENCH_OC_N (200000) open/close
# loops x BENCH_ROUNDS (3) per mode; the table
# scaling uses BENCH_SCALE_N (5000) iterations at BENCH_SIZES threads;
# BENCH_PARAMS: module parameters (e.g. open_hook=ftrace).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ESCGUARD_ROOT"
# The production-like kernel flavor: debug checks off (see qemu/kernel-bench.config).
export ESCGUARD_FLAVOR=bench
export ESCGUARD_BENCH_CONF="N=${BENCH_N:-20000} OC_N=${BENCH_OC_N:-200000} ROUNDS=${BENCH_ROUNDS:-3} SCALE_N=${BENCH_SCALE_N:-5000} SIZES=\"${BENCH_SIZES:-100 10000 100000}\" PARAMS=\"${BENCH_PARAMS:-}\""
eval "$(scripts/build-all.sh | tail -2)"
[ -n "${IMAGE:-}" ] || die "build failed"
qemu/run-guest.sh --kernel "$KDIR/arch/x86/boot/bzImage" --image "$IMAGE" \
  --suite bench.sh --log build/bench.log --mem 6144 --timeout 5400 \
  | tee build/bench.result | grep -E '^BENCH|passed'
