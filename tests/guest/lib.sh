# Helpers for guest test suites (busybox sh). Each test prints exactly one
# "ESCGUARD-TEST: PASS name" or "ESCGUARD-TEST: FAIL name reason" line; the
# host runner counts them.
KO=/escguard/escguard.ko

pass() { echo "ESCGUARD-TEST: PASS $1"; }
fail() { echo "ESCGUARD-TEST: FAIL $1 ${2:-}"; }

# ok NAME CMD...: pass if CMD succeeds.
ok() {
	_n="$1"; shift
	if _out=$("$@" 2>&1); then pass "$_n"; else fail "$_n" "($* -> $?): $(echo "$_out" | tail -3 | tr '\n' ' ')"; fi
}

# expect_rc NAME RC CMD...: pass if CMD exits with exactly RC.
expect_rc() {
	_n="$1" _want="$2"; shift 2
	_out=$("$@" 2>&1); _rc=$?
	if [ "$_rc" = "$_want" ]; then pass "$_n"; else fail "$_n" "($* exited $_rc, wanted $_want): $(echo "$_out" | tail -2 | tr '\n' ' ')"; fi
}

# make_bundle NAME 'shell command' [VARIANT]: an OCI bundle in
# /run/bundles/NAME whose container runs the command with /bin/sh -c on the
# shared busybox rootfs. VARIANT selects config-VARIANT.json: priv
# (privileged, the root disk as /dev/vda), priv-hostpid (also sharing the
# host's pid namespace), hostnet (default, sharing the host's network).
make_bundle() {
	mkdir -p "/run/bundles/$1"
	# Into a JSON string ('"' and '\' escaped), then into a sed replacement
	# ('\', '&' and our delimiter '|' escaped).
	_cmd=$(printf '%s' "$2" | sed 's/[\\"]/\\&/g' | sed 's/[\\&|]/\\&/g')
	_cfg=/bundles/busybox/config${3:+-$3}.json
	_dev=$(cat /sys/block/vda/dev)
	sed "s|__CMD__|$_cmd|; s|__VDA_MAJOR__|${_dev%%:*}|; s|__VDA_MINOR__|${_dev##*:}|" "$_cfg" > "/run/bundles/$1/config.json"
}

# run_container NAME 'command' [VARIANT]: runc run in the foreground; prints
# its output.
run_container() {
	make_bundle "$1" "$2" "${3:-}" || return 1
	runc run --bundle "/run/bundles/$1" "$1"
}

# klog_mark, then klog_since: the kernel log written after the mark. Not
# "its last N lines": a sanitizer's report of a core race can land between
# a load and the check of its message.
klog_mark() { _klog=$((${_klog:-0} + 1)); echo "egtest-mark $_klog" > /dev/kmsg; }
klog_since() { dmesg | sed -n "/egtest-mark $_klog\$/,\$p" | sed 1d; }

# alive PID: PID runs (kill -0 also succeeds on a zombie not yet reaped).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

loaded() { [ -d /sys/module/escguard ]; }
load() { loaded || insmod "$KO"; }
# The module loads locked: rmmod needs the host admin's unlock first.
unload() { ! loaded || { escguardctl unlock && rmmod escguard; }; }

# Events: reading never removes them, so the events of one scenario are
# those after the newest one when it began. drain_events marks that point
# (with the module load it belongs to: a reload numbers from 1 again);
# events_json prints what came after it.
ev_mark() { escguardctl status --json | sed -n 's/.*"loaded_ns":\([0-9]*\).*"last_seq":\([0-9]*\).*/\1 \2/p'; }
drain_events() { ev_mark > /tmp/.ev_mark; }
events_json() {
	_m=$(cat /tmp/.ev_mark 2>/dev/null); _now=$(ev_mark)
	_after=0
	[ "${_m% *}" != "${_now% *}" ] || _after=${_m#* }
	escguardctl tail --json --after "${_after:-0}"
}
kills() { escguardctl status --json | sed 's/.*"kills":\([0-9]*\).*/\1/'; }

# Event and output helpers shared by the suites.
ev_n() { printf '%s\n' "$1" | grep -c '"seq"'; }
show_ev() { [ -z "$1" ] || echo "$1" | sed 's/^/    | /' | cut -c1-400; }
flat() { echo "$1" | tr '\n' ' ' | cut -c1-300; }

# ctr NAME VARIANT 'command' [leak]: runs a container in enforce mode (with
# "leak", handed the host's / as descriptor 3); sets OUT (its output, ending
# in rc=N), EV (events), KILLED (kill counter moved: yes/no).
ctr() { _ctr "$1" "$2" "$3" "${4:-}" ''; }

# ctr_sed NAME VARIANT SED 'command': ctr with the bundle's config.json
# edited by SED first (a volume's source changed, a capability added).
ctr_sed() { _ctr "$1" "$2" "$4" '' "$3"; }

_ctr() { # NAME VARIANT 'command' LEAK SED
	escguardctl mode enforce
	drain_events
	_k0=$(kills)
	make_bundle "$1" "( $3 ); echo rc=\$?" "$2" || { OUT="bundle failed"; return; }
	[ -z "$5" ] || sed -i "$5" "/run/bundles/$1/config.json"
	if [ "$4" = leak ]; then
		OUT=$(runc run --preserve-fds 1 --bundle "/run/bundles/$1" "$1" 3< / 2>&1)
	else
		OUT=$(runc run --bundle "/run/bundles/$1" "$1" 2>&1)
	fi
	EV=$(events_json)
	KILLED=no
	[ "$(kills)" = "$_k0" ] || KILLED=yes
	echo "  [$1] output: $(flat "$OUT")"
	echo "  [$1] events: $(ev_n "$EV"), killed: $KILLED"
	show_ev "$EV"
}

# ctr_quiet NAME: the last ctr completed (rc=0), with no event and nothing
# killed (a look-alike).
ctr_quiet() {
	if echo "$OUT" | grep -q 'rc=0' && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then pass "$1"
	else fail "$1" "killed=$KILLED events=$(ev_n "$EV"): $(flat "$OUT")"; fi
}
