# Foundation suite: module load/unload, device node, CLI status and errors,
# real runc containers, and a load/unload loop under fork load.
. /tests/lib.sh

ok insmod insmod "$KO"

if [ -c /dev/escguard ] && [ "$(stat -c %a /dev/escguard)" = 600 ] && [ "$(stat -c %u /dev/escguard)" = 0 ]; then
	pass device-node-0600
else
	fail device-node-0600 "$(ls -l /dev/escguard 2>&1)"
fi

out=$(escguardctl status 2>&1); rc=$?
v=$(cat /tests/VERSION 2>/dev/null)
# The module's ABI major must be escguardctl's (both come from the header).
abi=$(escguardctl status --json | sed -n 's/.*"ctl_abi":{"major":\([0-9]*\).*/\1/p')
if [ $rc = 0 ] && [ -n "$abi" ] && echo "$out" | grep -q "^module *escguard $v (ABI $abi\." && echo "$out" | grep -q '^mode *enforce$'; then
	pass status-text
else
	fail status-text "rc=$rc: $out"
fi
echo "$out" | sed 's/^/    | /'

out=$(escguardctl status --json 2>&1); rc=$?
case "$out" in
	'{"module_version":"'"$v"'","module_abi":{"major":'"$abi"','*'"ctl_abi":{"major":'"$abi"','*'"mode":"enforce"'*'"opens":'*'}') [ $rc = 0 ] && pass status-json || fail status-json "rc=$rc" ;;
	*) fail status-json "rc=$rc: $out" ;;
esac
echo "    | $out"

# Counters move: each status call opens the device once.
o1=$(escguardctl status --json | sed 's/.*"opens":\([0-9]*\).*/\1/')
o2=$(escguardctl status --json | sed 's/.*"opens":\([0-9]*\).*/\1/')
[ "$o2" -gt "$o1" ] 2>/dev/null && pass status-counters || fail status-counters "opens $o1 -> $o2"

# Unix conventions: errors on stderr, nothing on stdout, distinct exit codes.
expect_rc status-nonroot-denied 5 su -s /bin/sh nobody -c 'escguardctl status'
expect_rc status-not-escguard-device 6 escguardctl status --device /dev/null
if [ -z "$(escguardctl status --device /nonexistent 2>/dev/null)" ] && escguardctl status --device /nonexistent 2>&1 | grep -q '^escguardctl: .*/nonexistent does not exist'; then
	pass errors-on-stderr
else
	fail errors-on-stderr "stdout not empty or message unclear"
fi
expect_rc usage-error 2 escguardctl status --bogus
escguardctl --help | grep -q 'Exit status' && pass help-explains || fail help-explains

# Device node missing while loaded: 4. Moved back afterwards so devtmpfs
# still removes its own node at rmmod.
mv /dev/escguard /dev/escguard.hidden
expect_rc status-device-missing 4 escguardctl status
mv /dev/escguard.hidden /dev/escguard

# A real container: runs in its own pid namespace and cannot see the host's
# marker file.
out=$(run_container ctr1 'echo hello-from-container pid=$$; cat /host-marker 2>&1; echo done' 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q 'hello-from-container pid=1' && ! echo "$out" | grep -q 'host-only marker' && echo "$out" | grep -q done; then
	pass runc-run-workload
else
	fail runc-run-workload "rc=$rc: $(echo "$out" | tr '\n' ' ')"
fi

# A fork/exec workload inside a container completes.
out=$(run_container ctr2 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo loops=$i' 2>&1)
echo "$out" | grep -q 'loops=200' && pass runc-fork-exec-loop || fail runc-fork-exec-loop "$out"

# Locked at load: rmmod fails until the host admin unlocks.
expect_rc rmmod-refused-while-locked 1 rmmod escguard
ok unlock escguardctl unlock
ok rmmod rmmod escguard
[ ! -e /dev/escguard ] && pass device-removed || fail device-removed
expect_rc status-not-loaded 3 escguardctl status

# 50 load/unload cycles while 4 shells fork and exec as fast as they can.
for w in 1 2 3 4; do
	( while [ ! -f /tmp/stop-forks ]; do /bin/true; done ) &
done
cycles=0 errs=""
while [ $cycles -lt 50 ]; do
	insmod "$KO" || { errs="insmod@$cycles"; break; }
	escguardctl status >/dev/null || { errs="status@$cycles"; break; }
	escguardctl unlock || { errs="unlock@$cycles"; break; }
	rmmod escguard || { errs="rmmod@$cycles"; break; }
	cycles=$((cycles + 1))
done
touch /tmp/stop-forks; wait
[ -z "$errs" ] && [ $cycles = 50 ] && ! loaded && pass load-unload-50-under-forks || fail load-unload-50-under-forks "cycles=$cycles $errs"
