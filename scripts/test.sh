#!/usr/bin/env bash
# The whole test suite (README's test command, and .ci/run): host-side checks
# of the CLI (fmt, clippy, cargo test) and every QEMU guest suite. Ends with
# one "N passed, N failed" line over all of it; exits non-zero on any failure.
# ESCGUARD_FLAVOR=kasan|kcsan (make test-kasan, make test-kcsan) runs it all
# on a clang-built sanitizer kernel instead of the GCC debug kernel.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ESCGUARD_ROOT"

passed=0 failed=0
record() { # name rc
  if [ "$2" -eq 0 ]; then echo "PASS $1"; passed=$((passed + 1))
  else echo "FAIL $1"; failed=$((failed + 1)); fi
}

eval "$(scripts/build-all.sh | tail -2)" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
[ -n "${IMAGE:-}" ] || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

log "module: rustfmt --check with the kernel's settings"
rustfmt --edition 2021 --config-path module/.rustfmt.toml --check module/main.rs; record module-fmt $?

log "CLI: cargo fmt --check, clippy -D warnings, cargo test"
( cd ctl && cargo fmt --check ); record ctl-fmt $?
( cd ctl && cargo clippy --all-targets --quiet -- -D warnings ); record ctl-clippy $?
( cd ctl && cargo test 2>&1 ) | tee build/cargo-test.log
cargo_rc=${PIPESTATUS[0]}
cp=$(awk '/^test result:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /^passed/) s+=$i} END {print s+0}' build/cargo-test.log)
cf=$(awk '/^test result:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /^failed/) s+=$i} END {print s+0}' build/cargo-test.log)
passed=$((passed + cp)); failed=$((failed + cf))
[ "$cargo_rc" -eq 0 ] || [ "$cf" -gt 0 ] || { echo "FAIL cargo-test (exit $cargo_rc)"; failed=$((failed + 1)); }

log "packaging: make install into a scratch root, systemd-analyze verify, loader script"
scripts/check-dist.sh "$KDIR" escguard.ko ctl/target/x86_64-unknown-linux-gnu/release/escguardctl | tee build/check-dist.result
p=$(tail -1 build/check-dist.result | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(tail -1 build/check-dist.result | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$p" ]; then echo "FAIL check-dist (no summary)"; failed=$((failed + 1))
else passed=$((passed + p)); failed=$((failed + f)); fi

log "guest-log gate: what fails a QEMU run, judged on saved logs"
scripts/check-log-gate.sh | tee build/check-log-gate.result
p=$(tail -1 build/check-log-gate.result | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(tail -1 build/check-log-gate.result | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$p" ]; then echo "FAIL check-log-gate (no summary)"; failed=$((failed + 1))
else passed=$((passed + p)); failed=$((failed + f)); fi

KERNEL="$KDIR/arch/x86/boot/bzImage"
SUITES=${ESCGUARD_SUITES:-foundation.sh install.sh detection.sh rules.sh bypass.sh redteam.sh redteam2.sh redteam3.sh redteam4.sh redteam5.sh redteam6.sh redteam7.sh redteam8.sh redteam9.sh redteam10.sh redteam11.sh hardening.sh stress.sh}
# The stress suite needs 4 vCPUs; CI runs it shortened (ESCGUARD_STRESS_PROCS
# process creations; `make stress` runs the long version).
# The sanitizer flavors (ESCGUARD_FLAVOR=kasan|kcsan) boot with their extra
# kernel command line (no5lvl) and longer timeouts; see scripts/env.sh.
scale=$(kernel_timeout_scale)
kappend=$(kernel_append)
suite_args() {
  case "$1" in
    # About 12 ms per process creation under TCG, plus boot and cycles.
    stress.sh) p=${ESCGUARD_STRESS_PROCS:-24000}
      echo "--smp 4 --timeout $(( (900 + p / 50) * scale )) --append escguard.stress=$p" ;;
    *) echo "--timeout $((900 * scale))" ;;
  esac
}
# Guests run ESCGUARD_JOBS at a time (default: one per CPU, at most 4):
# each is a single-threaded TCG QEMU, so one per host core, and each boots
# its own snapshot of the image. Results are printed in suite order.
jobs=${ESCGUARD_JOBS:-$(nproc)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
[ "$jobs" -le 4 ] || jobs=4
run_suite() { # suite
  local t0=$SECONDS
  # shellcheck disable=SC2046
  qemu/run-guest.sh --kernel "$KERNEL" --image "$IMAGE" --suite "$1" $(suite_args "$1") \
    ${kappend:+--append "$kappend"} \
    --log "build/$1.log" > "build/$1.result" 2>&1
  echo "==> QEMU suite $1 done in $((SECONDS - t0)) s: $(tail -1 "build/$1.result")"
}
# The longest suites start first, so that no core idles at the end.
start_order=$(for s in stress.sh rules.sh bypass.sh; do case " $SUITES " in *" $s "*) echo "$s" ;; esac; done
  for s in $SUITES; do case "$s" in stress.sh|rules.sh|bypass.sh) ;; *) echo "$s" ;; esac; done)
log "QEMU suites, $jobs at a time${ESCGUARD_FLAVOR:+ (kernel flavor $ESCGUARD_FLAVOR)}:" $start_order
for suite in $start_order; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  echo "==> QEMU suite $suite started"
  run_suite "$suite" &
done
wait
for suite in $SUITES; do
  log "QEMU suite $suite${ESCGUARD_FLAVOR:+ (kernel flavor $ESCGUARD_FLAVOR)}"
  cat "build/$suite.result"
  p=$(tail -1 "build/$suite.result" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(tail -1 "build/$suite.result" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then echo "FAIL $suite (runner gave no summary)"; failed=$((failed + 1)); continue; fi
  passed=$((passed + p)); failed=$((failed + f))
done

# The hardening and stress figures, gathered from the suites' output.
figs=$(for suite in $SUITES; do
  grep -E '^    \| (HARDENING|STRESS) ' "build/$suite.result" 2>/dev/null; done || true)
[ -z "$figs" ] || { echo "Figures:"; echo "$figs"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
