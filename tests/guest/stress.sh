# Stress and fault suite (run on 4+ vCPUs): 8 workers fork and exec without
# pause, with pid_max lowered so pids wrap around many times, while the
# module is loaded and unloaded over and over, `escguardctl tail -f` reads
# concurrently, the event ring (16 slots) overflows on purpose, and container
# escapes are attempted while it is loaded. Afterwards: every such escape was
# killed, no benign worker lost a child, the table holds exactly the live
# tasks, the counters add up. The number of process creations comes from the
# kernel command line (escguard.stress=N; CI runs a short version).
. /tests/lib.sh
MARK='host-only marker'
PROCS=$(sed -n 's/.*escguard\.stress=\([0-9]*\).*/\1/p' /proc/cmdline)
PROCS=${PROCS:-24000}
WORKERS=8
PER=$((PROCS / WORKERS))
B=/tests/bench/bench
json_field() { sed -n "s/.*\"$1\":\([0-9a-z]*\).*/\1/p"; }
st() { escguardctl status --json | json_field "$1"; }
tracked() { escguardctl status --json | sed -n 's/.*"tasks":{"host":\([0-9]*\),"container":\([0-9]*\)}.*/\1 \2/p' | awk '{print $1 + $2}'; }
live_threads() { ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null | wc -l; }

echo "    | $(nproc) vCPUs, $WORKERS workers x $PER fork+exec (with a fork-only half), pid_max 1024"
[ "$(nproc)" -ge 4 ] && pass stress-4-vcpus || fail stress-4-vcpus "$(nproc) cpus"
old_pid_max=$(cat /proc/sys/kernel/pid_max)
echo 1024 > /proc/sys/kernel/pid_max
first_pid=$(sh -c 'echo $$')

# Each worker does half fork+exec, half fork-only; it fails if any child of
# it died by a signal or failed (a benign task killed).
rm -f /tmp/worker.*
w=1
while [ $w -le $WORKERS ]; do
	( $B forkexec $((PER / 2)) /tests/bench/true > /dev/null && $B fork $((PER - PER / 2)) > /dev/null; echo $? > /tmp/worker.$w ) &
	w=$((w + 1))
done
workers_running() { [ "$(ls /tmp/worker.* 2>/dev/null | wc -l)" -lt $WORKERS ]; }

# A container whose tasks read the device: a cheap source of events (each
# attempt is one tamper event) to overflow the ring.
start_evsrc() {
	make_bundle evsrc 'sleep 100000' && runc run --bundle /run/bundles/evsrc evsrc > /dev/null 2>&1 &
	_i=0; EVPID=""
	while [ $_i -lt 100 ] && [ -z "$EVPID" ]; do
		EVPID=$(runc state evsrc 2>/dev/null | sed -n 's/.*"pid": *\([1-9][0-9]*\).*/\1/p'); sleep 0.1; _i=$((_i + 1))
	done
}
start_evsrc
[ -n "$EVPID" ] && pass stress-event-source || fail stress-event-source

cycles=0 escapes=0 escapes_killed=0 emitted=0 dropped=0 read_n=0 gaps_ok=0 errs=""
# At least 3 cycles; the last one (workers done, or done during it) stays
# loaded for the final table check.
while :; do
	insmod "$KO" ring_events=16 || { errs="$errs insmod@$cycles"; break; }
	escguardctl mode monitor
	# Overflow the 16-slot ring with no writer attached: 40 events; the
	# ring keeps the newest 16 and counts the others as overwritten.
	exec 3</dev/escguard
	j=0; while [ $j -lt 40 ]; do nsenter -t "$EVPID" -p -m dd bs=4096 count=1 of=/dev/null <&3 > /dev/null 2>&1; j=$((j + 1)); done
	exec 3<&-
	# A concurrent reader while an escape is attempted in enforce mode.
	escguardctl mode enforce
	escguardctl tail --json -f -n 0 > /tmp/tail.$cycles 2> /tmp/tail.err.$cycles &
	tp=$!
	out=$(run_container "esc$cycles" 'nsenter -t 1 -m -u -i -n -p cat /host-marker; echo rc=$?' priv-hostpid 2>&1)
	escapes=$((escapes + 1))
	echo "$out" | grep -q 'rc=137' && ! echo "$out" | grep -q "$MARK" && escapes_killed=$((escapes_killed + 1))
	sleep 0.5
	kill -INT $tp; wait $tp
	escguardctl tail --json -n +1 > /tmp/held.$cycles
	s=$(escguardctl status --json)
	e=$(echo "$s" | json_field emitted); d=$(echo "$s" | json_field dropped); v=$(echo "$s" | json_field evicted)
	r=$(grep -c '"seq"' /tmp/tail.$cycles); h=$(grep -c '"seq"' /tmp/held.$cycles)
	maxseq=$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' /tmp/held.$cycles | sort -n | tail -1)
	# The follower saw the escape; the ring holds the newest 16; sequence
	# numbers cover every emitted event; nothing was dropped (no writer).
	if [ "$r" -ge 1 ] && [ "$h" = 16 ] && [ "${maxseq:-0}" = "$e" ] && [ "$d" = 0 ] && [ "$v" = $((e - 16)) ]; then gaps_ok=$((gaps_ok + 1)); else
		errs="$errs counters@$cycles(follow=$r,held=$h,emitted=$e,dropped=$d,overwritten=$v,maxseq=$maxseq)"; fi
	emitted=$((emitted + e)); dropped=$((dropped + d)); read_n=$((read_n + r))
	if ! workers_running && [ $cycles -ge 2 ]; then cycles=$((cycles + 1)); break; fi
	escguardctl unlock && rmmod escguard || { errs="$errs rmmod@$cycles"; break; }
	cycles=$((cycles + 1))
done
wait_i=0
while workers_running && [ $wait_i -lt 3000 ]; do sleep 1; wait_i=$((wait_i + 1)); done
bad_workers=$(cat /tmp/worker.* | grep -vc '^0$')
last_pid=$(sh -c 'echo $$')
runc kill evsrc KILL 2>/dev/null; sleep 0.5; runc delete -f evsrc 2>/dev/null
sleep 1
t=$(tracked); l=$(live_threads)

echo "    | cycles $cycles, escapes $escapes (killed $escapes_killed), events emitted $emitted followed $read_n dropped $dropped, errors:${errs:- none}"
echo "    | table $t entries, $l live threads; worker failures $bad_workers; pids $first_pid -> $last_pid"
[ -z "$errs" ] && pass stress-load-unload-cycles || fail stress-load-unload-cycles "$errs"
[ $cycles -ge 3 ] && pass stress-at-least-3-cycles || fail stress-at-least-3-cycles "$cycles"
[ "$escapes_killed" = "$escapes" ] && [ $escapes -gt 0 ] && pass stress-every-escape-killed || fail stress-every-escape-killed "$escapes_killed of $escapes"
[ "$bad_workers" = 0 ] && pass stress-no-benign-kill || fail stress-no-benign-kill "$bad_workers workers failed"
d=$((t - l)); [ $d -lt 0 ] && d=$((-d))
if [ $d -le 4 ]; then pass stress-no-entry-leaked; else
	fail stress-no-entry-leaked "table $t, live $l"
	# Which entries have no live task behind them.
	escguardctl tasks --json | while read -r line; do
		p=$(echo "$line" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); g=$(echo "$line" | sed -n 's/.*"tgid":\([0-9]*\).*/\1/p')
		[ -d "/proc/$g/task/$p" ] || echo "    | stale entry: $(echo "$line" | cut -c1-300)"
	done
fi
[ "$gaps_ok" = "$cycles" ] && pass stress-counters-add-up || fail stress-counters-add-up "$gaps_ok of $cycles cycles"
missed=$(st missed)
echo "    | kprobe misses $missed, alloc failures $(st alloc_failures), untracked $(st untracked)"
echo "$old_pid_max" > /proc/sys/kernel/pid_max
unload && pass stress-final-rmmod || fail stress-final-rmmod
echo "ESCGUARD-GUEST: figures"
echo "    | STRESS processes created: $PROCS by $WORKERS workers (pid_max 1024: pids wrapped about $((PROCS / 1000)) times)"
echo "    | STRESS load/unload cycles: $cycles"
echo "    | STRESS events: $emitted emitted on a 16-slot ring (newest kept, older overwritten and counted), $read_n seen by a concurrent follower, $dropped dropped"
echo "    | STRESS escapes attempted while loaded: $escapes, killed: $escapes_killed; benign workers failed: $bad_workers"
