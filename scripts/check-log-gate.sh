#!/usr/bin/env bash
# The guest-log gate's own test: qemu/run-guest.sh --judge on saved guest
# logs (tests/fixtures/log-gate/NAME.pass.log must pass, NAME.fail.log must
# fail), so that a change to what fails a run (sanitizer reports, the KCSAN
# escguard/core split, lockdep, kmemleak, a missing end marker) is tested
# without booting a guest. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
for f in tests/fixtures/log-gate/*.log; do
  name=$(basename "$f" .log)
  want=${name##*.}
  out=$(qemu/run-guest.sh --judge "$f" 2>&1); rc=$?
  if { [ "$want" = pass ] && [ $rc -eq 0 ]; } || { [ "$want" = fail ] && [ $rc -eq 1 ]; }; then
    echo "PASS log-gate ${name%.*} (judged: $([ $rc -eq 0 ] && echo pass || echo fail))"
    passed=$((passed + 1))
  else
    echo "FAIL log-gate ${name%.*} (want $want, run-guest exit $rc; $(head -1 "$f" | sed 's/^# //'))"
    echo "$out" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
