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

# The event stream: whole records; looking never erases; -n like tail(1);
# follow prints new events; one readable text line per event naming its
# container; clean Ctrl-C.
escguardctl mode monitor
drain_events
out=$(escguardctl tail --after "$(cut -d' ' -f2 /tmp/.ev_mark)" 2>&1); rc=$?
[ $rc = 0 ] && [ -z "$out" ] && pass tail-empty-returns-at-once || fail tail-empty-returns-at-once "rc=$rc $out"

# -f -n 0: only what comes after it started.
escguardctl tail --json -f -n 0 > /tmp/tail1 2>&1 &
tp=$!
sleep 1
run_container s1 "$NSENTER" priv-hostpid > /dev/null 2>&1
i=0; while ! grep -q '"seq"' /tmp/tail1 && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
sleep 1
kill -INT $tp; wait $tp; rc=$?
n_f=$(grep -c '"seq"' /tmp/tail1)
n_after=$(events_json | grep -c '"seq"')
[ $rc = 0 ] && [ "$n_f" -ge 1 ] && [ "$n_f" = "$n_after" ] && grep -q '"container":{[^}]*"id":"s1"' /tmp/tail1 \
	&& pass tail-follow-new-only || fail tail-follow-new-only "rc=$rc follow=$n_f held-after-mark=$n_after $(head -c 600 /tmp/tail1)"

# Looking never erases: a second look sees the same events.
a=$(events_json | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | tr '\n' ' ')
b=$(events_json | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | tr '\n' ' ')
[ -n "$a" ] && [ "$a" = "$b" ] && pass tail-looking-never-erases || fail tail-looking-never-erases "first [$a] second [$b]"

drain_events
run_container s2 "$NSENTER" priv-hostpid > /dev/null 2>&1
line=$(escguardctl tail -n 1)
echo "    | $line"
# (Caught at nsenter's first setns into a host namespace, whichever kind.)
echo "$line" | grep -qE '^20[0-9-]+T[0-9:.]+Z LOGGED namespace-escape at syscall: pid=[0-9]+ ppid=[0-9]+ uid=0 comm=nsenter container=runc:s2 .* ([a-z]+):[a-z]+:\[[0-9]+\]->[a-z]+:\[[0-9]+\]\(host\)' \
	&& pass tail-text-line || fail tail-text-line "$line"

# The event names the container's cgroup as the kernel saw it (runc's
# default cgroup is /<id>), the node, and the schema version.
ev=$(escguardctl tail --json -n 1)
cg_id=$(echo "$ev" | sed -n 's/.*"cgroup":{"id":\([0-9]*\),"path":"\([^"]*\)".*/\1/p')
cg_path=$(echo "$ev" | sed -n 's/.*"cgroup":{"id":\([0-9]*\),"path":"\([^"]*\)".*/\2/p')
echo "    | cgroup $cg_id $cg_path"
[ -n "$cg_id" ] && [ "$cg_id" != 0 ] && [ "${cg_path##*/}" = s2 ] && echo "$ev" | grep -q '"schema_version":1' \
	&& echo "$ev" | grep -q "\"origin_id\":$cg_id,\"origin_path\":\"/s2\"" \
	&& echo "$ev" | grep -q "\"hostname\":\"$(hostname)\"" \
	&& pass event-names-container || fail event-names-container "$(echo "$ev" | head -c 800)"

# -n N shows the last N held events, oldest first.
l3=$(escguardctl tail --json -n 3 | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | tr '\n' ' ')
last=$(escguardctl status --json | sed -n 's/.*"last_seq":\([0-9]*\).*/\1/p')
[ "$l3" = "$((last - 2)) $((last - 1)) $last " ] && pass tail-n-last || fail tail-n-last "got [$l3] last $last"

# Filters: a container by ID prefix or cgroup prefix (on a component
# boundary), the action.
all=$(escguardctl tail --json -n +1)
n_c=$(escguardctl tail --json -n +1 --container s2 | grep -c '"seq"')
n_c_ok=$(escguardctl tail --json -n +1 --container s2 | grep -c '"container":{"runtime":"runc","id":"s2"')
n_cg=$(escguardctl tail --json -n +1 --container /s2 | grep -c '"seq"')
n_none=$(escguardctl tail --json -n +1 --container /s | grep -c '"seq"')
n_k=$(escguardctl tail --json -n +1 --action killed | grep -c '"seq"')
n_k_ok=$(escguardctl tail --json -n +1 --action killed | grep -c '"action":"killed"')
n_kall=$(echo "$all" | grep -c '"action":"killed"')
echo "    | container s2: $n_c (/s2: $n_cg, /s: $n_none); killed: $n_k of $(echo "$all" | grep -c '"seq"')"
[ "$n_c" -ge 1 ] && [ "$n_c" = "$n_c_ok" ] && [ "$n_cg" = "$n_c" ] && [ "$n_none" = 0 ] \
	&& [ "$n_k" -ge 1 ] && [ "$n_k" = "$n_k_ok" ] && [ "$n_k" = "$n_kall" ] \
	&& pass tail-filters || fail tail-filters "c=$n_c/$n_c_ok cg=$n_cg none=$n_none killed=$n_k/$n_k_ok/$n_kall"

escguardctl tail -f > /dev/null 2>&1 &
tp=$!
sleep 1
kill -INT $tp; wait $tp; rc=$?
[ $rc = 0 ] && pass tail-ctrl-c-clean || fail tail-ctrl-c-clean "exit $rc"

dd if=/dev/escguard of=/dev/null bs=64 count=1 2>&1 | grep -q 'Invalid argument' \
	&& pass read-short-buffer-einval || fail read-short-buffer-einval

# A blocking read (no O_NONBLOCK) returns whole records; once a descriptor
# has read all held events, it sleeps until a new one arrives.
rec=$(( 2 * 8 + 10 * 4 + 2 * 9 * 8 + 3 * 24 + 16 + 4 * 256 + 32 + 4 * 4 + 8 + 256 + 16 ))
held=$(escguardctl status --json | sed -n 's/.*"retained":\([0-9]*\).*/\1/p')
( dd bs=$rec count="$held" of=/dev/null 2>/dev/null; dd of=/tmp/blockread bs=$((rec * 4)) count=1 2>/dev/null ) < /dev/escguard &
dp=$!
sleep 2
kill -0 $dp 2>/dev/null && blocked=yes || blocked=no
run_container s3 "$NSENTER" priv-hostpid > /dev/null 2>&1
i=0; while kill -0 $dp 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
kill $dp 2>/dev/null; wait $dp
size=$(stat -c %s /tmp/blockread 2>/dev/null)
[ "$blocked" = yes ] && [ -n "$size" ] && [ "$size" -ge "$rec" ] && [ $((size % rec)) = 0 ] && pass read-blocks-then-whole-records \
	|| fail read-blocks-then-whole-records "blocked=$blocked size=$size record $rec"

# A full ring with no durable writer attached keeps the newest events:
# 1100 distinct tasks escape (monitor mode); the ring (1024) overwrites the
# oldest and counts them; every reader sees the newest 1024 in order.
st() { escguardctl status --json | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
e0=$(st emitted); d0=$(st dropped); v0=$(st evicted)
out=$(run_container flood 'i=0; while [ $i -lt 1100 ]; do sh -c "echo 1 > /proc/escguard_test_payload; /bin/true"; i=$((i+1)); done; echo flood-done' 2>&1)
e1=$(st emitted); d1=$(st dropped); v1=$(st evicted); r=$(st retained); last=$(st last_seq)
escguardctl tail --json -n +1 > /tmp/all 2> /tmp/gap
n=$(grep -c '"seq"' /tmp/all)
first=$(head -1 /tmp/all | sed -n 's/.*"seq":\([0-9]*\).*/\1/p'); lastr=$(tail -1 /tmp/all | sed -n 's/.*"seq":\([0-9]*\).*/\1/p')
echo "    | flood: emitted +$((e1 - e0)), dropped +$((d1 - d0)), overwritten +$((v1 - v0)), held $r, read $n ($first..$lastr)"
if echo "$out" | grep -q flood-done && [ "$r" = 1024 ] && [ "$n" = 1024 ] && [ $((d1 - d0)) = 0 ] \
	&& [ $((v1 - v0)) -ge 76 ] && [ "$lastr" = "$last" ] && [ $((lastr - first + 1)) = 1024 ] && [ ! -s /tmp/gap ]; then
	pass ring-full-keeps-newest
else
	fail ring-full-keeps-newest "out=$(echo "$out" | tail -1) held=$r read=$n dropped+$((d1 - d0)) overwritten+$((v1 - v0)) seq $first..$lastr last $last gap: $(cat /tmp/gap)"
fi

# With a durable writer attached, an event it has not stored is never
# overwritten: a stalled writer (SIGSTOP) makes a full ring drop new events
# (counted); the writer, resumed, stores the 1024 it was owed and reports
# the gap.
rm -f /tmp/w.log
escguardctl tail --output /tmp/w.log -f 2> /tmp/w.err &
wp=$!
i=0; while ! escguardctl status --json | grep -q '"writer":true' && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
i=0; while [ "$(st queued)" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -STOP $wp
d0=$(st dropped); l0=$(st last_seq)
out=$(run_container flood2 'i=0; while [ $i -lt 1100 ]; do sh -c "echo 1 > /proc/escguard_test_payload; /bin/true"; i=$((i+1)); done; echo flood-done' 2>&1)
d1=$(st dropped); q=$(st queued)
lines0=$(wc -l < /tmp/w.log)
kill -CONT $wp
i=0; while [ "$(st queued)" != 0 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
# The dropped events were the newest: the next stored one shows the gap.
run_container flood3 'sh -c "echo 1 > /proc/escguard_test_payload; /bin/true"' > /dev/null 2>&1
i=0; while [ "$(st queued)" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -INT $wp; wait $wp; wrc=$?
new=$(awk -v l="$l0" -F'"seq":' '{split($2, a, ","); if (a[1] + 0 > l) n++} END {print n + 0}' /tmp/w.log)
echo "    | stalled writer: dropped +$((d1 - d0)), unstored $q, logged after stall $new, writer rc $wrc, stderr: $(cat /tmp/w.err)"
if [ $((d1 - d0)) -ge 76 ] && [ "$q" = 1024 ] && [ "$new" = 1025 ] && [ "$wrc" = 0 ] \
	&& grep -q "$((d1 - d0)) events missing before seq" /tmp/w.err; then
	pass writer-stall-drops-new-keeps-unstored
else
	fail writer-stall-drops-new-keeps-unstored "dropped+$((d1 - d0)) unstored $q logged $new rc $wrc"
fi
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
# Its row names the container: the cgroup's id is the cgroup directory's
# inode number, its path runc's default /<id>.
row=$(echo "$tl" | grep "\"pid\":$cpid,")
want_id=$(stat -c %i /sys/fs/cgroup/long 2>/dev/null)
echo "$row" | grep -q "\"cgroup\":{\"id\":$want_id,\"path\":\"/long\"}" \
	&& echo "$row" | grep -q '"container":{"runtime":"runc","id":"long"' \
	&& escguardctl tasks | grep -E "^ +$cpid " | grep -q ' runc:long$' \
	&& pass tasks-row-names-container || fail tasks-row-names-container "want cgroup id $want_id: $row"
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
# (One verdict per escaping task above: the scenarios, s1-s3, two floods
# of 1100 and the one after the stall.)
echo "$st" | grep -q '"verdicts":2214,' && pass status-counts-verdicts || fail status-counts-verdicts "$st"

rmmod escguard_test_payload
ok rmmod-after-detection unload
