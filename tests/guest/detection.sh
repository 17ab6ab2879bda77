# Detection core suite: real escapes from real runc containers are killed
# before they read the host-only marker, with exactly the expected event;
# monitor mode reports without killing; benign container work stays silent.
. /tests/lib.sh
MARK='host-only marker'

insmod "$KO" || { fail detection-insmod; exit 0; }
insmod /tests/escguard_test_payload.ko || fail payload-insmod

# This suite tests the detection core's verdict; the preset rules (which
# would stop some of these escapes at an earlier step, e.g. mounting the
# host's disk) have their own suite, rules.sh.
escguardctl rules disable block_device_mount host_block_device sensitive_mount > /dev/null || fail rules-disable

# Every hook is an ftrace_ops of escguard's own (never a kprobe, which
# debugfs' kprobes/enabled could switch off), running in ordinary context;
# the hooks that can refuse a call declare IPMODIFY (" I"; all but fork,
# exec, exit, the pid swap and the namespace switch); the open hook is
# an ftrace direct call on security_file_open (open_hook reads back the
# mode in effect).
EF=/sys/kernel/debug/tracing/enabled_functions
hooks=$(grep -c '(escguard_hook_func' $EF)
ipmod=$(grep '(escguard_hook_func' $EF | grep -c ' I ')
core=$(grep -E '^(wake_up_new_task|finalize_exec|exit_files|exchange_tids) ' $EF | grep -c '(escguard_hook_func')
kps=$(grep -c . /sys/kernel/debug/kprobes/list)
open_direct=$(grep -A1 '^security_file_open ' $EF | grep -c 'direct-->escguard_open_tramp')
probes=$(escguardctl status --json | sed 's/.*"probes":\([0-9]*\).*/\1/')
if [ "$core" != 4 ] || [ "$kps" != 0 ] || [ "$open_direct" != 1 ] || [ "$((hooks + 1))" != "$probes" ] \
	|| [ "$ipmod" != "$((hooks - 5))" ] \
	|| [ "$(cat /sys/module/escguard/parameters/open_hook)" != direct ]; then
	fail hooks-ftrace-ops "hooks=$hooks ipmodify=$ipmod core=$core kprobes=$kps open_direct=$open_direct probes=$probes: $(grep escguard $EF | head -5)"
else
	pass hooks-ftrace-ops
fi

# escape NAME MODE VARIANT 'command' REASON
#   Runs the command in a container; in enforce mode the escaping command
#   must die by SIGKILL (rc=137) without printing the marker, and exactly
#   one "killed" event with REASON must be queued. In monitor mode the
#   marker is printed (the escape happened) and exactly one "logged" event.
escape() {
	_name="$1" _mode="$2" _variant="$3" _cmd="$4" _reason="$5"
	escguardctl mode "$_mode" || { fail "$_name" "cannot set mode"; return; }
	drain_events
	_k0=$(kills)
	_out=$(run_container "$_name" "$_cmd; echo rc=\$?" "$_variant" 2>&1)
	_ev=$(events_json)
	_n=$(printf '%s\n' "$_ev" | grep -c '"seq"')
	_k1=$(kills)
	echo "$_ev" | sed 's/^/    | /' | cut -c1-400
	if [ "$_mode" = enforce ]; then
		if echo "$_out" | grep -q "$MARK"; then fail "$_name" "marker was read: $_out"; return; fi
		echo "$_out" | grep -q 'rc=137' || { fail "$_name" "command not SIGKILLed: $(echo "$_out" | tr '\n' ' ')"; return; }
		[ "$_n" = 1 ] || { fail "$_name" "expected 1 event, got $_n"; return; }
		echo "$_ev" | grep -q '"action":"killed"' || { fail "$_name" "event not 'killed'"; return; }
		[ "$_k1" -gt "$_k0" ] || { fail "$_name" "kill counter did not move"; return; }
	else
		echo "$_out" | grep -q "$MARK" || { fail "$_name" "escape did not run in monitor mode: $(echo "$_out" | tr '\n' ' ')"; return; }
		[ "$_n" = 1 ] || { fail "$_name" "expected 1 event, got $_n"; return; }
		echo "$_ev" | grep -q '"action":"logged"' || { fail "$_name" "event not 'logged'"; return; }
		[ "$_k1" = "$_k0" ] || { fail "$_name" "monitor mode killed"; return; }
	fi
	echo "$_ev" | grep -q "\"reason\":\"$_reason\"" || { fail "$_name" "reason is not $_reason"; return; }
	pass "$_name"
}

# 1. setns into the host's namespaces (host pid ns shared, CAP_SYS_ADMIN).
NSENTER='nsenter -t 1 -m -u -i -n -p cat /host-marker'
escape escape-nsenter-enforce enforce priv-hostpid "$NSENTER" namespace-escape
escape escape-nsenter-monitor monitor priv-hostpid "$NSENTER" namespace-escape

# 2. Mount the host's root block device, chroot into it, run a command.
MOUNT='mkdir -p /dev/h && mount /dev/vda /dev/h && chroot /dev/h cat /host-marker'
escape escape-hostdisk-chroot-enforce enforce priv "$MOUNT" root-escape
escape escape-hostdisk-chroot-monitor monitor priv "$MOUNT" root-escape

# 3. Kernel-exploit payload from an unprivileged container: switch to init's
#    creds, namespaces and root, then run a command.
EXPLOIT="sh -c 'echo 1 > /proc/escguard_test_payload; cat /host-marker'"
escape escape-kernel-exploit-enforce enforce '' "$EXPLOIT" namespace-escape
escape escape-kernel-exploit-monitor monitor '' "$EXPLOIT" namespace-escape

# 3b. The same end state written directly (a write primitive changing the
#     task's nsproxy pointer: no function a hook sees): caught at the next
#     exec or open instead.
RAWEXPLOIT="sh -c 'echo raw > /proc/escguard_test_payload; cat /host-marker'"
escape escape-kernel-exploit-raw-enforce enforce '' "$RAWEXPLOIT" namespace-escape
escape escape-kernel-exploit-raw-monitor monitor '' "$RAWEXPLOIT" namespace-escape

# 4. The same payload in a non-leader thread, which then execs: de_thread()
#    gives it the leader's pid; the escape must still be caught.
TEXPLOIT='egtest thread-exec /bin/cat /host-marker /proc/escguard_test_payload'
escape escape-thread-exec-enforce enforce '' "$TEXPLOIT" namespace-escape
escape escape-thread-exec-monitor monitor '' "$TEXPLOIT" namespace-escape

# The event stream: whole records, non-blocking drain, follow with -n,
# one readable text line per event, clean Ctrl-C.
escguardctl mode monitor
drain_events
out=$(escguardctl tail 2>&1); rc=$?
[ $rc = 0 ] && [ -z "$out" ] && pass tail-empty-returns-at-once || fail tail-empty-returns-at-once "rc=$rc $out"

escguardctl tail --json -f -n 1 > /tmp/tail1 2>&1 &
tp=$!
sleep 1
run_container s1 "$NSENTER" priv-hostpid > /dev/null 2>&1
i=0; while kill -0 $tp 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
kill $tp 2>/dev/null; wait $tp; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"seq"' /tmp/tail1)" = 1 ] && pass tail-follow-n1 || fail tail-follow-n1 "rc=$rc $(cat /tmp/tail1)"

run_container s2 "$NSENTER" priv-hostpid > /dev/null 2>&1
line=$(escguardctl tail)
echo "    | $line"
# (Caught at nsenter's first setns into a host namespace, whichever kind.)
echo "$line" | grep -qE '^20[0-9-]+T[0-9:.]+Z LOGGED namespace-escape at syscall: pid=[0-9]+ ppid=[0-9]+ uid=0 comm=nsenter .* ([a-z]+):[a-z]+:\[[0-9]+\]->[a-z]+:\[[0-9]+\]\(host\)' \
	&& pass tail-text-line || fail tail-text-line "$line"

escguardctl tail -f > /dev/null 2>&1 &
tp=$!
sleep 1
kill -INT $tp; wait $tp; rc=$?
[ $rc = 0 ] && pass tail-ctrl-c-clean || fail tail-ctrl-c-clean "exit $rc"

dd if=/dev/escguard of=/dev/null bs=64 count=1 2>&1 | grep -q 'Invalid argument' \
	&& pass read-short-buffer-einval || fail read-short-buffer-einval

# A blocking read (no O_NONBLOCK) sleeps until an event arrives, then
# returns exactly one whole record.
rec=$(( 2 * 8 + 10 * 4 + 2 * 9 * 8 + 3 * 24 + 16 + 4 * 256 + 32 + 4 * 4 ))
dd if=/dev/escguard of=/tmp/blockread bs=$((rec * 4)) count=1 2>/dev/null &
dp=$!
sleep 2
kill -0 $dp 2>/dev/null && blocked=yes || blocked=no
run_container s3 "$NSENTER" priv-hostpid > /dev/null 2>&1
i=0; while kill -0 $dp 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
kill $dp 2>/dev/null; wait $dp
size=$(stat -c %s /tmp/blockread 2>/dev/null)
[ "$blocked" = yes ] && [ "$size" = "$rec" ] && pass read-blocks-then-one-record \
	|| fail read-blocks-then-one-record "blocked=$blocked size=$size want $rec"

# A full ring drops and counts, and never blocks a hook: 1100 distinct tasks
# escape (monitor mode) with nobody reading; the ring keeps the first 1024.
drain_events
s0=$(escguardctl status --json)
out=$(run_container flood 'i=0; while [ $i -lt 1100 ]; do sh -c "echo 1 > /proc/escguard_test_payload; /bin/true"; i=$((i+1)); done; echo flood-done' 2>&1)
s1=$(escguardctl status --json)
q=$(echo "$s1" | sed 's/.*"queued":\([0-9]*\).*/\1/')
d0=$(echo "$s0" | sed 's/.*"dropped":\([0-9]*\).*/\1/'); d1=$(echo "$s1" | sed 's/.*"dropped":\([0-9]*\).*/\1/')
e0=$(echo "$s0" | sed 's/.*"emitted":\([0-9]*\).*/\1/'); e1=$(echo "$s1" | sed 's/.*"emitted":\([0-9]*\).*/\1/')
echo "    | flood: queued $q, emitted +$((e1 - e0)), dropped +$((d1 - d0))"
if echo "$out" | grep -q flood-done && [ "$q" = 1024 ] && [ $((e1 - e0)) = 1024 ] && [ $((d1 - d0)) = 76 ]; then
	pass ring-full-drops-and-counts
else
	fail ring-full-drops-and-counts "out=$(echo "$out" | tail -1) queued=$q emitted+$((e1 - e0)) dropped+$((d1 - d0))"
fi
# The reader sees whole records in order and the gap where events were lost
# (one more event after the ring drained a little: make room by reading one).
escguardctl tail --json -n 1 > /dev/null
run_container s4 "$NSENTER" priv-hostpid > /dev/null 2>&1
escguardctl tail --json > /tmp/all 2> /tmp/gap
n=$(grep -c '"seq"' /tmp/all)
[ "$n" = 1024 ] && grep -q '^escguardctl: 76 events lost before seq' /tmp/gap && pass tail-reports-gap \
	|| fail tail-reports-gap "read $n, stderr: $(cat /tmp/gap)"
escguardctl mode enforce

# benign NAME: the command must succeed (print "ok-done") with no event and
# no kill.
benign() {
	_name="$1"; shift
	drain_events
	_k0=$(kills)
	_out=$("$@" 2>&1)
	_n=$(events_json | grep -c '"seq"')
	_k1=$(kills)
	if ! echo "$_out" | grep -q ok-done; then fail "$_name" "did not finish: $(echo "$_out" | tail -3 | tr '\n' ' ')"
	elif [ "$_n" != 0 ] || [ "$_k1" != "$_k0" ]; then fail "$_name" "$_n events, kills $_k0 -> $_k1"
	else pass "$_name"; fi
}

benign benign-fork-exec-loop run_container b1 'i=0; while [ $i -lt 300 ]; do /bin/true; ls / > /dev/null; i=$((i+1)); done; echo ok-done'
benign benign-shell-script run_container b2 'for d in /bin /etc /proc/self; do ls $d | wc -l; done; (echo sub; sh -c "echo nested") ; cat /etc/passwd > /dev/null; echo ok-done'
benign benign-thread-exec run_container b5 'egtest thread-exec /bin/echo ok-done'
benign benign-hostnet-container run_container b3 'ip link > /dev/null; i=0; while [ $i -lt 50 ]; do /bin/true; i=$((i+1)); done; echo ok-done' hostnet
benign benign-nested-unshare-chroot run_container b4 'unshare -m -u -p -f sh -c "mount -t tmpfs t /mnt; hostname nested; echo in-nested" && mkdir -p /dev/c/bin && cp /bin/busybox /dev/c/bin/ && chroot /dev/c /bin/busybox true && chroot / /bin/true && echo ok-done' priv

# runc exec into a running container, several times; and a host process
# entering it with nsenter.
make_bundle long 'sleep 600'
runc run -d --bundle /run/bundles/long long > /tmp/long.log 2>&1
cpid=$(runc state long | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
exec_thrice() {
	for i in 1 2 3; do runc exec long sh -c 'ls / > /dev/null; /bin/true; echo exec-ok' || return 1; done
	echo ok-done
}
benign benign-runc-exec exec_thrice
benign benign-host-nsenter-into-container nsenter -t "$cpid" -m -u -i -n -p sh -c 'ls / > /dev/null; /bin/true; echo ok-done'
# The table: the container's processes are of container lineage with a
# settled origin; this shell is host lineage.
tl=$(escguardctl tasks --json)
echo "$tl" | grep "\"pid\":$cpid," | grep -q '"lineage":"container","origin":{"pid":[0-9]*,"settled":true' \
	&& pass tasks-container-lineage || fail tasks-container-lineage "$(echo "$tl" | grep "\"pid\":$cpid,")"
echo "$tl" | grep "\"pid\":$$," | grep -q '"lineage":"host"' \
	&& pass tasks-host-lineage || fail tasks-host-lineage "$(echo "$tl" | grep "\"pid\":$$,")"
escguardctl tasks | head -3 | sed 's/^/    | /'

runc kill long KILL; sleep 1; runc delete -f long

# No entry outlives its task, and every live task is tracked (up to the few
# processes of this very check, which start or end around the listing).
escguardctl tasks --json | sed 's/^{"pid":\([0-9]*\),.*/\1/' > /tmp/tracked
ls -d /proc/[0-9]*/task/[0-9]* | sed 's|.*/||' | sort -n > /tmp/live
stale=0; for p in $(cat /tmp/tracked); do [ -d /proc/$p ] || stale=$((stale + 1)); done
missing=0; for p in $(cat /tmp/live); do grep -qx "$p" /tmp/tracked || missing=$((missing + 1)); done
[ $stale -le 3 ] && [ $missing -le 3 ] && pass table-matches-live-tasks \
	|| fail table-matches-live-tasks "$stale stale entries, $missing live tasks untracked ($(wc -l < /tmp/tracked) tracked, $(wc -l < /tmp/live) live)"

# Counters add up and the status shows the table.
st=$(escguardctl status --json)
echo "    | $st" | cut -c1-600
echo "$st" | grep -q '"verdicts":1114,' && pass status-counts-verdicts || fail status-counts-verdicts "$st"

rmmod escguard_test_payload
ok rmmod-after-detection unload
