# Benchmark (numbers, not a timed test): fork+exec+wait of a static true and
# fork-only loops with escguard unloaded, in monitor and in enforce mode; then
# the per-operation cost against the table size. Lines starting "BENCH" are
# the results. Sizes come from /tests/bench/conf (N, ROUNDS, SCALE_N, SIZES).
. /tests/lib.sh
. /tests/bench/conf
B=/tests/bench/bench
T=/tests/bench/true

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

loops() { # label
	: > /tmp/fe.$1; : > /tmp/fo.$1
	r=1
	while [ $r -le "$ROUNDS" ]; do
		fe=$($B forkexec "$N" "$T") && fo=$($B fork "$N") || { fail "bench-$1"; return; }
		echo "BENCH round: $1 #$r fork+exec+wait ${fe} ns/op, fork+wait ${fo} ns/op"
		echo "$fe" >> /tmp/fe.$1; echo "$fo" >> /tmp/fo.$1
		r=$((r + 1))
	done
}

if [ -e /sys/kernel/debug/kmemleak ]; then kind="debug kernel (lockdep, kmemleak: numbers dominated by instrumentation)"
else kind="production-like kernel (no lockdep/kmemleak)"; fi
echo "BENCH config: $N iterations x $ROUNDS rounds per mode, $(nproc) vCPUs (TCG), $kind"
unload
loops unloaded
load && escguardctl mode monitor && loops monitor
escguardctl mode enforce && loops enforce
escguardctl status | sed 's/^/BENCH status: /'
unload

base_fe=$(median < /tmp/fe.unloaded); base_fo=$(median < /tmp/fo.unloaded)
for m in unloaded monitor enforce; do
	fe=$(median < /tmp/fe.$m); fo=$(median < /tmp/fo.$m)
	echo "BENCH result: $m fork+exec+wait median ${fe} ns/op ($(awk -v a="$fe" -v b="$base_fe" 'BEGIN{printf "%+.1f%%", (a-b)*100/b}')), fork+wait median ${fo} ns/op ($(awk -v a="$fo" -v b="$base_fo" 'BEGIN{printf "%+.1f%%", (a-b)*100/b}'))"
done

# Cost against table size: N sleeping threads are N table entries.
echo 4194304 > /proc/sys/kernel/pid_max
echo 1000000 > /proc/sys/kernel/threads-max
for size in $SIZES; do
	$B hold "$size" > /tmp/hold 2>&1 &
	hp=$!
	i=0; while ! grep -q ready /tmp/hold && [ $i -lt 600 ]; do sleep 1; i=$((i + 1)); done
	grep -q ready /tmp/hold || { fail "bench-hold-$size" "$(cat /tmp/hold)"; kill $hp; continue; }
	off=$($B forkexec "$SCALE_N" "$T")
	load
	tasks=$(escguardctl status --json | sed 's/.*"tasks":{"host":\([0-9]*\).*/\1/')
	on=$($B forkexec "$SCALE_N" "$T")
	unload
	echo "BENCH scale: $size sleeping threads ($tasks tracked): unloaded ${off} ns/op, enforce ${on} ns/op, overhead $((on - off)) ns ($(awk -v a="$on" -v b="$off" 'BEGIN{printf "%+.1f%%", (a-b)*100/b}'))"
	kill $hp; wait $hp 2>/dev/null
done
pass bench-completed
