# Benchmark (numbers, not a timed test): fork+exec+wait of a static true and
# fork-only loops with escguard unloaded, in monitor and in enforce mode; then
# the per-operation cost against the table size. Lines starting "BENCH" are
# the results. Sizes come from /tests/bench/conf (N, ROUNDS, SCALE_N, SIZES),
# and module parameters to load with from PARAMS (e.g. open_hook=ftrace).
. /tests/lib.sh
. /tests/bench/conf
# shellcheck disable=SC2086 # PARAMS is a list of words
load() { loaded || insmod "$KO" ${PARAMS:-}; }
B=/tests/bench/bench
T=/tests/bench/true

# Nanoseconds escguard spent in its hooks so far (0 when not loaded): every
# "<hook>_ns" counter of the status (not the load/policy timestamps).
hook_ns() {
	loaded || { echo 0; return; }
	escguardctl status --json | grep -o '"[a-z_]*_ns":[0-9]*' | grep -v 'loaded_ns' \
		| awk -F: '{s += $2} END {print s + 0}'
}

# Container opens that took the full verdict, and that the lock-free
# verdict cache answered (see escguardctl status); 0 when not loaded.
status_count() { # FIELD
	loaded || { echo 0; return; }
	escguardctl status --json | sed "s/.*\"$1\":\([0-9]*\).*/\1/"
}
judged() { status_count open_judged; }
cached() { status_count open_cached; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

loops() { # label
	: > /tmp/fe.$1; : > /tmp/fo.$1; : > /tmp/he.$1; : > /tmp/ho.$1
	: > /tmp/oc.$1; : > /tmp/hc.$1; : > /tmp/co.$1; : > /tmp/hk.$1
	r=1
	while [ $r -le "$ROUNDS" ]; do
		# open+close of a file: the file-open observation point's cost.
		h0=$(hook_ns)
		oc=$($B openclose "$OC_N" /tests/bench/conf) || { fail "bench-$1"; return; }
		h1=$(hook_ns)
		hc=$(( (h1 - h0) / OC_N ))
		# The same inside a container, where every open is judged. The
		# hook time includes runc's own few hundred hooked calls.
		j0=$(judged); k0=$(cached)
		h0=$(hook_ns)
		co=$(run_container "oc$1$r" "egtest openclose $OC_N /etc/passwd" 2>&1 | tail -1)
		h1=$(hook_ns)
		hk=$(( (h1 - h0) / OC_N ))
		jd=$(( $(judged) - j0 )); kd=$(( $(cached) - k0 ))
		echo "BENCH round: $1 #$r open+close ${oc} ns/op (in escguard's hooks: ${hc} ns/op), in a container ${co} ns/op (hooks: ${hk} ns/op; opens judged in full: ${jd}, from the verdict cache: ${kd})"
		echo "$oc" >> /tmp/oc.$1; echo "$hc" >> /tmp/hc.$1; echo "$co" >> /tmp/co.$1; echo "$hk" >> /tmp/hk.$1
		h0=$(hook_ns)
		fe=$($B forkexec "$N" "$T") || { fail "bench-$1"; return; }
		h1=$(hook_ns)
		fo=$($B fork "$N") || { fail "bench-$1"; return; }
		h2=$(hook_ns)
		he=$(( (h1 - h0) / N )); ho=$(( (h2 - h1) / N ))
		echo "BENCH round: $1 #$r fork+exec+wait ${fe} ns/op (in escguard's hooks: ${he} ns/op), fork+wait ${fo} ns/op (hooks: ${ho} ns/op)"
		echo "$fe" >> /tmp/fe.$1; echo "$fo" >> /tmp/fo.$1; echo "$he" >> /tmp/he.$1; echo "$ho" >> /tmp/ho.$1
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
base_oc=$(median < /tmp/oc.unloaded); base_co=$(median < /tmp/co.unloaded)
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.2f%%", a*100/b}'; }
for m in unloaded monitor enforce; do
	fe=$(median < /tmp/fe.$m); fo=$(median < /tmp/fo.$m)
	he=$(median < /tmp/he.$m); ho=$(median < /tmp/ho.$m)
	oc=$(median < /tmp/oc.$m); hc=$(median < /tmp/hc.$m); co=$(median < /tmp/co.$m); hk=$(median < /tmp/hk.$m)
	echo "BENCH result: $m: open+close median ${oc} ns/op (wall $(pct $((oc - base_oc)) $base_oc) vs unloaded; time in escguard's hooks ${hc} ns/op = $(pct $hc $base_oc) of an unloaded op), in a container ${co} ns/op (wall $(pct $((co - base_co)) $base_co); hooks ${hk} ns/op = $(pct $hk $base_co))"
	echo "BENCH result: $m: fork+exec+wait median ${fe} ns/op (wall $(pct $((fe - base_fe)) $base_fe) vs unloaded; time in escguard's hooks ${he} ns/op = $(pct $he $base_fe) of an unloaded op), fork+wait median ${fo} ns/op (wall $(pct $((fo - base_fo)) $base_fo); hooks ${ho} ns/op = $(pct $ho $base_fo))"
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
	h0=$(hook_ns)
	on=$($B forkexec "$SCALE_N" "$T")
	h1=$(hook_ns)
	unload
	echo "BENCH scale: $size sleeping threads ($tasks tracked): fork+exec+wait unloaded ${off} ns/op, enforce ${on} ns/op; time in escguard's hooks $(( (h1 - h0) / SCALE_N )) ns/op"
	kill $hp; wait $hp 2>/dev/null
done
pass bench-completed
