# Hardening suite: who may talk to escguard, the unload lock, load-time
# parameters and resource caps with their fail-mode, hostile ioctl/read input
# (fuzzer), and the crash-only durable log writer.
. /tests/lib.sh
MARK='host-only marker'

# Lines "HARDENING name value" are the figures printed at the end.
figure() { echo "HARDENING $1 $2" >> /tmp/figures; }
: > /tmp/figures

json_field() { sed -n "s/.*\"$1\":\([0-9a-z]*\).*/\1/p"; }
st() { escguardctl status --json | json_field "$1"; }
tracked() { escguardctl status --json | sed -n 's/.*"tasks":{"host":\([0-9]*\),"container":\([0-9]*\)}.*/\1 \2/p' | awk '{print $1 + $2}'; }
live_threads() { ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null | wc -l; }

# start_container NAME 'command' [VARIANT]: runc run in the background; sets
# CPID to the container's init pid once it runs.
start_container() {
	make_bundle "$1" "$2" "${3:-}" || return 1
	runc run --bundle "/run/bundles/$1" "$1" > "/tmp/$1.out" 2>&1 &
	CPID=""
	_i=0
	while [ $_i -lt 100 ]; do
		CPID=$(runc state "$1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
		[ -n "$CPID" ] && [ "$CPID" != 0 ] && [ -e "/proc/$CPID/root/bin" ] && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}
stop_container() { runc kill "$1" KILL 2>/dev/null; sleep 0.3; runc delete -f "$1" 2>/dev/null; wait 2>/dev/null; }

insmod "$KO" || { fail hardening-insmod; exit 0; }
DEV=$(cat /sys/class/misc/escguard/dev)

# ---- Who may talk to escguard ------------------------------------------

# A privileged container makes its own node for the device and opens it: the
# open is refused, reported, and in enforce mode the opener is killed.
device_from_container() { # name mode
	escguardctl mode "$2"; drain_events
	_t0=$(st tamper)
	_out=$(run_container "$1" "mknod /dev/eg c ${DEV%%:*} ${DEV##*:} && { dd if=/dev/eg of=/dev/null bs=4096 count=1 2>&1; echo open-rc=\$?; }" priv 2>&1)
	_ev=$(events_json)
	echo "$_ev" | sed 's/^/    | /' | cut -c1-300
	_t1=$(st tamper)
	_want=logged _rc=1
	[ "$2" = enforce ] && _want=killed _rc=137
	if echo "$_out" | grep -q "open-rc=$_rc" && [ "$(printf '%s\n' "$_ev" | grep -c '"reason":"tamper"')" = 1 ] \
		&& echo "$_ev" | grep -q "\"hook\":\"device\".*\"action\":\"$_want\".*\"comm\":\"dd\".*\"target\":\"open\"" \
		&& [ "$_t1" -gt "$_t0" ]; then
		pass "$1"
	else
		fail "$1" "out: $(echo "$_out" | tr '\n' ' ') events: $_ev"
	fi
}
device_from_container device-open-from-container-enforce enforce
device_from_container device-open-from-container-monitor monitor
escguardctl mode enforce

# A descriptor the host admin opened is no key once its holder enters a
# container: the read from inside is refused (and killed in enforce mode).
start_container holder 'sleep 1000' || fail passed-fd-refused "container did not start"
drain_events
out=$(exec 3</dev/escguard; nsenter -t "$CPID" -p -m -u -i -n dd bs=4096 count=1 of=/dev/null <&3 2>&1; echo rc=$?)
ev=$(events_json)
if echo "$out" | grep -q 'rc=137' && echo "$ev" | grep -q '"reason":"tamper","action":"killed".*"target":"read"'; then
	pass passed-fd-refused-in-container
else
	fail passed-fd-refused-in-container "out: $(echo "$out" | tr '\n' ' ') events: $ev"
fi
stop_container holder

# A container unloading escguard: refused (the module is locked) and killed.
unload_from_container() { # name mode
	escguardctl mode "$2"; drain_events
	_out=$(run_container "$1" 'rmmod escguard; echo rmmod-rc=$?' priv 2>&1)
	_ev=$(events_json)
	echo "$_ev" | sed 's/^/    | /' | cut -c1-300
	_want=logged _rc=1
	[ "$2" = enforce ] && _want=killed _rc=137
	if loaded && echo "$_out" | grep -q "rmmod-rc=$_rc" \
		&& echo "$_ev" | grep -q "\"hook\":\"unload\",\"reason\":\"tamper\",\"action\":\"$_want\".*\"target\":\"delete_module escguard\"" \
		&& [ "$(st locked)" = true ]; then
		pass "$1"
	else
		fail "$1" "loaded=$(loaded && echo y) out: $(echo "$_out" | tr '\n' ' ') events: $_ev"
	fi
}
unload_from_container unload-from-container-enforce enforce
unload_from_container unload-from-container-monitor monitor
# Even after the host admin unlocked, a container's attempt locks it again.
escguardctl unlock
[ "$(st locked)" = false ] && pass unlock-by-host-admin || fail unlock-by-host-admin
unload_from_container unload-from-container-after-unlock-relocks enforce
escguardctl mode enforce

# kernel.ftrace_enabled=0 would switch off every ftrace-based hook (the open
# callback and all kprobes) without unloading anything. The open hook is a
# permanent ftrace_ops: while escguard is loaded the kernel refuses the write,
# from a privileged container (whose /proc/sys is writable) and the host.
o0=$(st open)
out=$(run_container ftrace-off 'echo 0 > /proc/sys/kernel/ftrace_enabled; echo write-rc=$?' priv 2>&1)
hout=$( (echo 0 > /proc/sys/kernel/ftrace_enabled) 2>&1; echo host-rc=$?)
cat /etc/hostname > /dev/null
if echo "$out" | grep -q 'write-rc=1' && echo "$hout" | grep -q 'host-rc=1' \
	&& [ "$(cat /proc/sys/kernel/ftrace_enabled)" = 1 ] && [ "$(st open)" -gt "$o0" ]; then
	pass ftrace-disable-refused
else
	fail ftrace-disable-refused "container: $(echo "$out" | tr '\n' ' ') host: $hout enabled=$(cat /proc/sys/kernel/ftrace_enabled)"
	echo 1 > /proc/sys/kernel/ftrace_enabled
fi

# Host users: the events group may read status and events, nothing more;
# everyone else is refused. Reloaded with events_gid.
NGID=$(id -g nobody)
unload
if insmod "$KO" events_gid="$NGID" && chgrp "$NGID" /dev/escguard && [ "$(stat -c %a /dev/escguard)" = 640 ]; then
	pass events-gid-node-0640
else
	fail events-gid-node-0640 "$(ls -l /dev/escguard 2>&1)"
fi
expect_rc group-reader-status 0 su -s /bin/sh nobody -c 'escguardctl status'
expect_rc group-reader-tail 0 su -s /bin/sh nobody -c 'escguardctl tail --json'
# Looking, never acknowledging: a group member cannot be the durable writer.
expect_rc group-reader-not-writer 5 su -s /bin/sh nobody -c 'escguardctl tail --output /tmp/nobody.log'
expect_rc group-reader-no-mode 5 su -s /bin/sh nobody -c 'escguardctl mode monitor'
expect_rc group-reader-no-tasks 5 su -s /bin/sh nobody -c 'escguardctl tasks'
expect_rc group-reader-no-unlock 5 su -s /bin/sh nobody -c 'escguardctl unlock'
[ "$(st mode)" = '"enforce"' ] || [ "$(escguardctl status --json | sed -n 's/.*"mode":"\([a-z]*\)".*/\1/p')" = enforce ] \
	&& pass group-reader-changed-nothing || fail group-reader-changed-nothing
escguardctl status | grep -q 'group '"$NGID" && pass status-shows-readers || fail status-shows-readers
unload

# ---- Parameters and resource caps ----------------------------------------

for bad in max_tasks=10 max_tasks=99999999 ring_events=1 ring_events=100000; do
	klog_mark
	if insmod "$KO" "$bad" 2>/dev/null; then
		fail "param-rejected-$bad" "loaded"; unload
	elif klog_since | grep -q "escguard: ${bad%%=*}=${bad#*=} is outside"; then
		pass "param-rejected-$bad"
	else
		fail "param-rejected-$bad" "no clear message: $(klog_since | tail -2)"
	fi
done

insmod "$KO" ring_events=16 && [ "$(st capacity)" = 16 ] && pass ring-events-param || fail ring-events-param
unload

# The open hook: an ftrace direct call by default; an ftrace callback when
# asked (open_hook=ftrace) or when security_file_open() already has a direct
# call, as a BPF fentry program would hold. Either way every open is judged:
# a privileged container's write to core_pattern is refused, and the hook
# stays permanent (ftrace_enabled=0 refused).
open_hook_callback() {
	_name="$1"
	# The callback is named when it is the function's only ftrace user;
	# next to the test module's direct call the line shows two users.
	_line=$(grep -A1 '^security_file_open ' /sys/kernel/debug/tracing/enabled_functions | tr '\n\t' '  ')
	_hook=$(cat /sys/module/escguard/parameters/open_hook)
	case "$_hook $_line" in
	"ftrace security_file_open (1)"*escguard_open_ftrace*) ;;
	"ftrace security_file_open (2)"*"direct-->escguard_test_tramp"*) ;;
	*) fail "$_name" "open_hook=$_hook enabled_functions: $_line"; return ;;
	esac
	_cp0=$(cat /proc/sys/kernel/core_pattern)
	drain_events
	_out=$(run_container "$_name" '( echo eg-core > /proc/sys/kernel/core_pattern ); echo rc=$?' priv 2>&1)
	_ev=$(events_json)
	echo "$_ev" | sed "s/^/    | /" | cut -c1-360
	if echo 0 2>/dev/null > /proc/sys/kernel/ftrace_enabled; then
		echo 1 > /proc/sys/kernel/ftrace_enabled
		fail "$_name" "ftrace_enabled=0 was accepted"; return
	fi
	if [ "$(cat /proc/sys/kernel/core_pattern)" = "$_cp0" ] && echo "$_out" | grep -q 'rc=137' \
		&& echo "$_ev" | grep -q '"rule":"core_pattern"' && echo "$_ev" | grep -q '"denied":true'; then
		pass "$_name"
	else
		fail "$_name" "$(echo "$_out" | tr '\n' ' ') core_pattern=$(cat /proc/sys/kernel/core_pattern)"
	fi
}
insmod "$KO" open_hook=ftrace && open_hook_callback open-hook-ftrace-param || fail open-hook-ftrace-param "insmod"
unload
klog_mark
if insmod "$KO" open_hook=bogus 2>/dev/null; then
	fail open-hook-param-rejected "loaded"; unload
elif klog_since | grep -q 'escguard: open_hook=bogus: expected direct or ftrace'; then
	pass open-hook-param-rejected
else
	fail open-hook-param-rejected "no clear message: $(klog_since | tail -2)"
fi
# The test module's trampoline behaves as a BPF fexit program's: it calls
# security_file_open() itself. A refusal is kept only if escguard's callback
# declared IPMODIFY, so that the trampoline was asked to call through the
# redirected return address (shared=Y): it then sees the -EPERM itself.
if insmod /tests/escguard_test_direct.ko; then
	klog_mark
	if insmod "$KO" && klog_since | grep -q 'security_file_open has a direct call already'; then
		_r0=$(cat /sys/module/escguard_test_direct/parameters/refused)
		open_hook_callback open-hook-falls-back
		_r1=$(cat /sys/module/escguard_test_direct/parameters/refused)
		if [ "$(cat /sys/module/escguard_test_direct/parameters/shared)" = Y ] && [ "$_r1" -gt "$_r0" ]; then
			pass refusal-kept-under-fexit
		else
			fail refusal-kept-under-fexit "shared=$(cat /sys/module/escguard_test_direct/parameters/shared) refused $_r0 -> $_r1"
		fi
	else
		fail open-hook-falls-back "insmod or no warning: $(klog_since | tail -2)"
	fi
	unload
	rmmod escguard_test_direct || fail open-hook-falls-back "cannot remove the test module"
else
	fail open-hook-falls-back "cannot load the competing direct call"
fi
# A module whose copy of the kernel's private VFS structures
# (module/vfs_private.h) does not match the running kernel is refused at
# load with a clear message, before it reads a mount: no oops, nothing left
# registered, and the right module loads afterwards.
# One skewed build per checked member (module/vfs_private.h): a mount's
# namespace, its id (checked against the kernel's own mountinfo), a procfs
# inode's pid, a mount namespace's inode number, the mount tree and parent
# links the host-root-volume scan walks, and a mount's peer group.
for skew in '1 struct mount differs from module/vfs_private.h (namespace)' \
	'2 struct mount differs from module/vfs_private.h (id ' \
	'3 struct proc_inode differs from module/vfs_private.h' \
	'4 struct mnt_namespace differs from module/vfs_private.h' \
	'5 struct mount differs from module/vfs_private.h (mount tree)' \
	'6 struct mount differs from module/vfs_private.h (parent)' \
	'7 struct mount differs from module/vfs_private.h (mount tree)' \
	'8 struct mount differs from module/vfs_private.h (peer group)'; do
	n=${skew%% *} want=${skew#* }
	# The peer group id is checked against the shared flag: only a shared
	# mount tells a misplaced one (a systemd host's / is shared).
	[ "$n" != 8 ] || mount --make-shared /
	klog_mark
	if insmod /tests/escguard_skew$n.ko 2>/tmp/skew.err; then
		fail private-layout-mismatch-refused-$n "the skewed module loaded"; unload
	elif grep -qiE 'exec format error|invalid module format' /tmp/skew.err && klog_since | grep -qF "escguard: $want" \
		&& [ ! -e /sys/module/escguard ] && [ ! -e /dev/escguard ]; then
		insmod "$KO" && pass private-layout-mismatch-refused-$n \
			|| fail private-layout-mismatch-refused-$n "the right module no longer loads"
		unload
	else
		fail private-layout-mismatch-refused-$n "$(cat /tmp/skew.err) / $(klog_since | tail -2)"
	fi
	[ "$n" != 8 ] || mount --make-private /
done
# Once the direct call is free again, escguard takes it.
insmod "$KO" && [ "$(cat /sys/module/escguard/parameters/open_hook)" = direct ] \
	&& pass open-hook-direct-again || fail open-hook-direct-again "$(cat /sys/module/escguard/parameters/open_hook 2>&1)"
unload

# Table cap: the table never holds more than max_tasks; tasks beyond it stay
# untracked (counted) and are let through (fail-open) unless their parent is
# a tracked container task, whose origin they are then judged against.
base=$(live_threads)
cap=$((base + 60))
insmod "$KO" max_tasks=$cap || fail table-cap-insmod
# A container that is tracked before the table fills, waiting for a go.
start_container waiter 'while [ ! -e /dev/shm/go ]; do sleep 0.2; done; nsenter -t 1 -m -u -i -n -p cat /host-marker; echo rc=$?' priv-hostpid \
	|| fail table-cap-waiter "did not start"
sleepers=""
for i in $(seq 1 150); do sleep 300 & sleepers="$sleepers $!"; done
sleep 1
n=$(tracked) full=$(st full)
echo "    | cap $cap, tracked $n, table_full $full"
[ "$n" -le "$cap" ] && [ "$full" -gt 0 ] && pass table-cap-holds || fail table-cap-holds "tracked $n cap $cap full $full"
figure table_cap "$cap tracked=$n untracked_at_cap=$full"
# A benign container still runs untouched with the table full.
k0=$(kills)
out=$(run_container full-benign 'i=0; while [ $i -lt 50 ]; do /bin/true; i=$((i+1)); done; echo loops=$i' 2>&1)
echo "$out" | grep -q loops=50 && [ "$(kills)" = "$k0" ] && pass table-full-benign-unharmed || fail table-full-benign-unharmed "$out"
# The tracked container's untracked child escapes: judged by its parent.
drain_events
touch "/proc/$CPID/root/dev/shm/go"
wait_i=0; while ! grep -q 'rc=' /tmp/waiter.out && [ $wait_i -lt 100 ]; do sleep 0.2; wait_i=$((wait_i + 1)); done
ev=$(events_json)
if grep -q 'rc=137' /tmp/waiter.out && ! grep -q "$MARK" /tmp/waiter.out && [ "$(st parent_judged)" -gt 0 ] \
	&& echo "$ev" | grep -q '"reason":"namespace-escape","action":"killed"'; then
	pass table-full-child-judged-by-parent
else
	fail table-full-child-judged-by-parent "$(tr '\n' ' ' < /tmp/waiter.out) parent_judged=$(st parent_judged) $ev"
fi
stop_container waiter
stop_container full-benign
kill $sleepers 2>/dev/null; wait 2>/dev/null
unload

# Exited tasks are always reclaimed: after 3000 short-lived processes (and
# threads), the table holds the live tasks and nothing else.
insmod "$KO"
i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i + 1)); done
for w in 1 2 3 4; do /tests/bench/bench fork 250 > /dev/null & done; wait
run_container reclaim 'i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done' > /dev/null 2>&1
sleep 1
t=$(tracked); l=$(live_threads)
echo "    | tracked $t, live threads $l"
d=$((t - l)); [ $d -lt 0 ] && d=$((-d))
[ $d -le 4 ] && pass exited-entries-reclaimed || fail exited-entries-reclaimed "tracked $t live $l"
figure table_after_churn "tracked=$t live=$l"

# ---- Hostile input: the fuzzer ----------------------------------------------

escguardctl mode enforce
drain_events
out=$(/tests/fuzz/fuzz -n "${FUZZ_N:-100000}" -t 4 2>/dev/null); rc=$?
echo "$out" | sed "s/^/    | /"
[ $rc = 0 ] && echo "$out" | grep -q 'health=ok' && pass fuzz-device || fail fuzz-device "rc=$rc $out"
figure fuzz "$(echo "$out" | sed -n 's/.*ops=\([0-9]*\).*/\1/p') operations"
# Whatever the fuzzer set, restore; the module must work as before.
escguardctl mode enforce && escguardctl lock && escguardctl status > /dev/null && pass after-fuzz-status || fail after-fuzz-status
drain_events
out=$(run_container after-fuzz 'nsenter -t 1 -m -u -i -n -p cat /host-marker; echo rc=$?' priv-hostpid 2>&1)
echo "$out" | grep -q rc=137 && ! echo "$out" | grep -q "$MARK" && pass after-fuzz-escape-killed || fail after-fuzz-escape-killed "$out"

# ---- Crash-only durable log ---------------------------------------------------

# Events to log: reads of the device from inside a container (monitor mode:
# logged, the reader lives). Each attempt makes exactly one event.
start_container evsrc 'sleep 1000' || fail log-source "container did not start"
make_events() { # count
	exec 3</dev/escguard
	_j=0; while [ $_j -lt "$1" ]; do
		nsenter -t "$CPID" -p -m dd bs=4096 count=1 of=/dev/null <&3 > /dev/null 2>&1
		_j=$((_j + 1))
	done
	exec 3<&-
}
escguardctl mode monitor
# Everything before this test stored by a writer run, so that the log below
# holds exactly the events made from here on.
escguardctl tail --output /tmp/pre.log
rm -f /tmp/ev.log /tmp/ev.log.1
e0=$(st emitted)
escguardctl tail --output /tmp/ev.log -f &
tp=$!
make_events 20
i=0; while [ "$(wc -l < /tmp/ev.log)" -lt 5 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $tp; wait $tp 2>/dev/null
make_events 20
# A write torn by a crash: a partial last line.
printf '{"seq":999999,"load_' >> /tmp/ev.log
escguardctl tail --output /tmp/ev.log 2> /tmp/tail.err
# Log rotation: SIGHUP reopens.
escguardctl tail --output /tmp/ev.log -f 2>> /tmp/tail.err &
tp=$!
sleep 0.5
mv /tmp/ev.log /tmp/ev.log.1
kill -HUP $tp
sleep 0.5
make_events 10
i=0; while [ "$(wc -l < /tmp/ev.log 2>/dev/null || echo 0)" -lt 10 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $tp; wait $tp
e1=$(st emitted)
cat /tmp/ev.log.1 /tmp/ev.log > /tmp/ev.all
lines=$(wc -l < /tmp/ev.all)
seqs=$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' /tmp/ev.all)
uniq_n=$(echo "$seqs" | sort -n | uniq | wc -l)
first=$(echo "$seqs" | head -1); last=$(echo "$seqs" | tail -1)
echo "    | emitted $((e1 - e0)), logged $lines (unique $uniq_n, seq $first..$last), dropped $(st dropped)"
if [ "$lines" = $((e1 - e0)) ] && [ "$uniq_n" = "$lines" ] && [ $((last - first + 1)) = "$lines" ] && ! grep -q 999999 /tmp/ev.all; then
	pass log-crash-resume-no-loss-no-dup
else
	fail log-crash-resume-no-loss-no-dup "emitted $((e1 - e0)) logged $lines unique $uniq_n first $first last $last; $(cat /tmp/tail.err)"
fi
[ "$(wc -l < /tmp/ev.log)" = 10 ] && pass log-sighup-reopens || fail log-sighup-reopens "$(wc -l < /tmp/ev.log) lines after rotation"
grep -q '"load_ns":' /tmp/ev.log && pass log-lines-carry-load-ns || fail log-lines-carry-load-ns
figure log "$lines events logged across a SIGKILL, a torn line and a rotation"
# File modes: 0600 without events_gid (this load has none).
[ "$(stat -c %a /tmp/ev.log)" = 600 ] && pass log-file-mode-0600 || fail log-file-mode-0600 "$(stat -c %a /tmp/ev.log)"

# Viewers beside the writer lose it nothing, and a second writer is refused.
rm -f /tmp/ev2.log
e0=$(st emitted)
escguardctl tail --output /tmp/ev2.log -f 2> /tmp/w1.err &
wp=$!
i=0; while ! escguardctl status --json | grep -q '"writer":true' && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
# (From a mark, not -n 0: an event made while the viewer starts would count
# as already held when it started, and -n 0 shows none of those.)
mark=$(escguardctl status --json | sed -n 's/.*"last_seq":\([0-9]*\).*/\1/p')
escguardctl tail --json -f --after "$mark" > /tmp/view1 &
v1=$!
out=$(escguardctl tail --output /tmp/other.log 2>&1); rc2=$?
make_events 15
for _k in 1 2 3; do escguardctl tail --json > /dev/null; escguardctl tail -n +1 > /dev/null; done
i=0; while [ "$(st queued)" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
sleep 0.5
kill -INT $wp $v1; wait $wp; wait $v1
e1=$(st emitted)
lw=$(wc -l < /tmp/ev2.log); lv=$(grep -c '"seq"' /tmp/view1)
echo "    | writer logged $lw, viewer saw $lv, emitted $((e1 - e0)); second writer: rc=$rc2 $out"
[ "$lw" = $((e1 - e0)) ] && [ "$lv" = "$lw" ] && pass log-viewers-lose-nothing \
	|| fail log-viewers-lose-nothing "logged $lw viewed $lv emitted $((e1 - e0))"
[ "$rc2" != 0 ] && echo "$out" | grep -q 'another durable writer is attached' && [ ! -s /tmp/other.log ] \
	&& pass second-writer-refused || fail second-writer-refused "rc=$rc2 $out"
stop_container evsrc
escguardctl mode enforce

unload && ! loaded && pass hardening-rmmod || fail hardening-rmmod
echo "ESCGUARD-GUEST: figures"
sed 's/^/    | /' /tmp/figures
