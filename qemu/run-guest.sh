#!/usr/bin/env bash
# Boot the test kernel with the guest disk, run one guest suite, and judge it.
#   qemu/run-guest.sh --kernel BZIMAGE --image IMG --suite NAME [--log FILE]
#                     [--timeout SEC] [--smp N] [--mem MB] [--append 'k=v ...']
#   qemu/run-guest.sh --judge LOG      (judge a saved guest log; no boot)
# (--append may be given more than once; the words accumulate.)
# Prints the guest's ESCGUARD-TEST lines as they come, then a verdict:
# every PASS/FAIL line counts; a missing end marker (hang, crash, timeout)
# and any kernel WARNING/BUG/lockdep/atomic-sleep/kmemleak report in the log
# are failures too, and so are the sanitizer flavors' KASAN and UBSAN reports.
# KCSAN reports fail the run only when they involve escguard (see below).
# Ends with "N passed, N failed"; exits 1 on any failure.
#
# Acceleration: single-threaded TCG by default (KVM guests hang at kernel
# decompression on these machines; multi-threaded TCG oopses guests while runc
# creates cgroups). ESCGUARD_KVM=1 first proves a KVM boot works, else falls
# back to TCG.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

kernel="" image="" suite="" logf="" judge="" timeout=900 smp=2 mem=1536 verbose=0 append=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --suite) suite="$2"; shift 2 ;;
    --log) logf="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --smp) smp="$2"; shift 2 ;;
    --mem) mem="$2"; shift 2 ;;
    --append) append="${append:+$append }$2"; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --judge) judge="$2"; shift 2 ;;
    *) echo "run-guest: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "$judge" ]; then
  [ -f "$judge" ] || { echo "run-guest: no such log: $judge" >&2; exit 2; }
  # The derived files (.clean, .kcsan, .bad) go to a scratch directory.
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  logf="$work/$(basename "$judge")"; cp "$judge" "$logf"
else
  [ -f "$kernel" ] && [ -f "$image" ] && [ -n "$suite" ] || {
    echo "run-guest: need --kernel, --image and --suite" >&2; exit 2; }
  logf="${logf:-$(dirname "$image")/$suite.log}"

  # ESCGUARD_ICOUNT=SHIFT (benchmarks): the guest clock counts executed
  # instructions (2^SHIFT ns each) instead of host time, so timings are
  # instruction counts: deterministic, free of host noise, and not distorted
  # by what TCG emulates slowly (see README, Performance).
  icount=()
  if [ -n "${ESCGUARD_ICOUNT:-}" ]; then
    icount=(-icount "shift=$ESCGUARD_ICOUNT,sleep=off")
  fi

  # A guest too wedged to report its own stall (qemu/init.sh prints tasks
  # and stacks after escguard.stall quiet seconds) is looked at from
  # outside: when the log has not grown for that long plus a minute, each
  # vCPU's instruction pointer is read from QEMU's monitor and named from
  # the kernel's System.map, appended to the log when the guest ends; once.
  sysmap="$(dirname "$kernel")/../../../System.map"
  wedge_watch() { # monitor-socket log quiet-seconds
    local size=-1 quiet=0 now
    while sleep 10; do
      [ -S "$1" ] || continue
      now=$(stat -c %s "$2" 2>/dev/null || echo 0)
      if [ "$now" != "$size" ]; then size=$now quiet=0; continue; fi
      quiet=$((quiet + 10))
      [ "$quiet" -ge "$3" ] || continue
      { echo "run-guest: no guest output for ${quiet}s; vCPU instruction pointers:"
        python3 - "$1" "$sysmap" "$2" <<'PY'
import bisect, os, re, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
s.sendall(b"info registers -a\n")
time.sleep(2)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
syms = []
if os.path.exists(sys.argv[2]):
    for line in open(sys.argv[2]):
        a, _, name = line.split()[:3]
        syms.append((int(a, 16), name))
    syms.sort()
keys = [a for a, _ in syms]
# KASLR: the guest printed where _text is (qemu/init.sh).
slide = 0
m = re.search(rb"kernel _text at ([0-9a-f]+)", open(sys.argv[3], "rb").read())
text = [a for a, n in syms if n == "_text"]
if m and text:
    slide = int(m.group(1), 16) - text[0]
for cpu, m in enumerate(re.finditer(rb"RIP=([0-9a-f]+)", out)):
    rip = int(m.group(1), 16)
    i = bisect.bisect_right(keys, rip - slide) - 1
    if rip < 0xffff800000000000:
        where = "(user space)"
    else:
        where = "%s+0x%x" % (syms[i][1], rip - slide - syms[i][0]) if i >= 0 else "?"
    print("run-guest:   cpu %d RIP %x %s" % (cpu, rip, where))
PY
      } > "$2.wedge"
      return
    done
  }

  # Two UARTs on one output: the kernel's console is ttyS0, the guest's
  # programs write to ttyS1 (qemu/init.sh). A kernel report printed while a
  # program holds its UART's port lock (a KCSAN race found inside the tty
  # write path) would otherwise flush the console into the same lock and
  # deadlock the CPU, with interrupts off and nothing printed: the KCSAN
  # hardening hang (2026-12-04), read off the wedged guest's stack.
  boot() { # accel timeout suite log
    # The disk is used read-write by the guest; a snapshot keeps the image
    # pristine for the next run.
    local mon="$4.mon" watcher
    rm -f "$mon"
    wedge_watch "$mon" "$4" $(( $2 / 3 + 60 )) &
    watcher=$!
    timeout -k 10 "$2" qemu-system-x86_64 \
      -accel "$1" ${icount[@]+"${icount[@]}"} -cpu max -smp "$smp" -m "$mem" \
      -kernel "$kernel" \
      -append "console=ttyS0 root=/dev/vda rw rootfstype=ext4 init=/init panic=-1 oops=panic quiet loglevel=5 escguard.suite=$3 escguard.stall=$(( $2 / 3 )) $append" \
      -drive "file=$image,format=raw,if=virtio,snapshot=on" \
      -nic none -display none -monitor "unix:$mon,server=on,wait=off" -no-reboot \
      -chardev stdio,id=con,mux=on,signal=off -serial chardev:con -serial chardev:con \
      </dev/null 2>&1 | tee "$4" | show
    kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; rm -f "$mon"
    # (Appended only now: tee writes the log at its own offset.)
    [ -f "$4.wedge" ] && { cat "$4.wedge" >> "$4"; cat "$4.wedge" >&2; rm -f "$4.wedge"; }
  }

  # What reaches the terminal: test and guest lines plus kernel alarms, or with
  # --verbose everything the guest prints except the final dmesg dump.
  show() {
    if [ "$verbose" = 1 ]; then
      awk '/^ESCGUARD-GUEST: dmesg begin/{skip=1} !skip{print; fflush()} /^ESCGUARD-GUEST: dmesg end/{skip=0}'
    else
      grep --line-buffered -E '^ESCGUARD-(TEST|GUEST)|^BENCH|^    \||^\[ *[0-9.]+\] (WARNING|BUG|Kernel panic|Oops)'
    fi
  }

  accel="tcg,thread=single"
  if [ "${ESCGUARD_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
    echo "run-guest: ESCGUARD_KVM=1: probing a KVM boot" >&2
    probe_log="$(mktemp)"
    boot kvm 60 __probe__ "$probe_log" >/dev/null
    if grep -q '^ESCGUARD-GUEST: done' "$probe_log"; then accel=kvm
    else echo "run-guest: KVM boot failed; using TCG" >&2; fi
    rm -f "$probe_log"
  fi

  echo "run-guest: booting suite $suite ($accel${ESCGUARD_ICOUNT:+, icount shift=$ESCGUARD_ICOUNT}, $smp cpus, timeout ${timeout}s, log $logf)" >&2
  start=$(date +%s)
  boot "$accel" "$timeout" "$suite" "$logf"
  echo "run-guest: guest ended after $(( $(date +%s) - start ))s" >&2
fi

# The console can interleave kernel messages into a line; strip CRs first.
tr -d '\r' < "$logf" > "$logf.clean"
passed=$(grep -c '^ESCGUARD-TEST: PASS ' "$logf.clean")
failed=$(grep -c '^ESCGUARD-TEST: FAIL ' "$logf.clean")

if ! grep -q '^ESCGUARD-GUEST: done' "$logf.clean"; then
  echo "ESCGUARD-TEST: FAIL guest-completed (no end marker: hang, crash or timeout; see $logf)"
  failed=$((failed + 1))
fi

# Kernel reports that fail the run whatever the tests said. KASAN reports
# ("BUG: KASAN: slab-use-after-free in ...") and UBSAN reports ("UBSAN:
# array-index-out-of-bounds in ...") from the kasan flavor always fail it,
# wherever they are: a memory error in the core kernel is as fatal to the run
# as one in escguard, and the kasan kernel boots clean (with no5lvl).
bad='WARNING:|BUG:|KASAN:|UBSAN|Oops|Kernel panic|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|scheduling while atomic|unreferenced object|list_add corruption|list_del corruption|hung_task|soft lockup|INFO: task .* blocked'

# KCSAN reports fail the run only when they involve escguard's code (see
# kcsan-classify.awk). The core kernel has data races of its own that KCSAN
# reports under TCG (timer migration, timekeeping, blake2s_update); those are
# listed here but are not failures.
awk -f "$here/kcsan-classify.awk" "$logf.clean" > "$logf.kcsan"
if [ -s "$logf.kcsan" ]; then
  # Each report is in the log twice (console, then the final dmesg dump).
  echo "run-guest: KCSAN reports (escguard = has an escguard frame, fails the run;"
  echo "run-guest:   core = core kernel only, listed, not a failure):"
  cut -f2- "$logf.kcsan" | sort | uniq -c | sed 's/^/    /'
fi
# The gate below sees the escguard KCSAN headers, not the core-kernel ones.
awk -F'\t' '$2 == "core" {print $1}' "$logf.kcsan" > "$logf.kcsan-core"

if grep -nE "$bad" "$logf.clean" | awk -F: -v f="$logf.kcsan-core" 'BEGIN {while ((getline l < f) > 0) skip[l] = 1} !($1 in skip)' > "$logf.bad" \
   && [ -s "$logf.bad" ]; then
  echo "ESCGUARD-TEST: FAIL kernel-log-clean ($(wc -l < "$logf.bad") report lines, first:)"
  head -5 "$logf.bad" | sed 's/^/    /'
  failed=$((failed + 1))
else
  echo "ESCGUARD-TEST: PASS kernel-log-clean"
  passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
