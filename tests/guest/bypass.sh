# Bypass suite: routes around the detection core's checks of a task's own
# namespaces, root and cwd, each tried by a real runc container and each
# with look-alikes that must stay silent:
#   1. host objects opened from inside a container (reason host-object):
#      /proc/1/root, /proc/1/cwd, a host process's /proc/PID/fd, the host's
#      disk mounted in the container, a file handle (Shocker), a host
#      directory descriptor leaked in by the runtime or handed over a unix
#      socket later (refused at receipt);
#   2. a container started while the task table is full (untracked) is
#      still judged as a container;
#   3. a clone that fails late in copy_process() does not blind the module;
#   4. the presets kernel_memory, instrument, binfmt_misc and ptrace_host
#      (of a host task, and of a container init runc has not started yet;
#      escguard does not depend on kprobes the host can switch off);
#   5. a host exec of a program a container planted as a binfmt_misc
#      interpreter, or of one below a container's root directory reached by
#      the host's own path (reason host-exec, rule planted_exec);
#   6. nested runtimes (a procfs for a new pid namespace, a real nested
#      runc) are left alone, a procfs of the host's pid namespace is not;
#   9. a host-root volume its runtime configured is not an escape (nor a
#      chroot into it); writing through it once remounted writable is, and
#      so is the host's disk in a --no-pivot container (whose host root
#      mount lies above its root).
. /tests/lib.sh
MARK='host-only marker'
BM=/proc/sys/fs/binfmt_misc

insmod "$KO" || { fail bypass-insmod; exit 0; }
insmod /tests/escguard_test_payload.ko || fail payload-insmod

json_field() { sed -n "s/.*\"$1\":\([0-9a-z]*\).*/\1/p"; }
st() { escguardctl status --json | json_field "$1"; }
ev_n() { printf '%s\n' "$1" | grep -c '"seq"'; }
show_ev() { [ -z "$1" ] || echo "$1" | sed 's/^/    | /' | cut -c1-400; }
flat() { echo "$1" | tr '\n' ' ' | cut -c1-300; }
rule() { escguardctl rules "$1" "$2" > /dev/null || fail "rules-$1-$2"; }

# How attack and silent start their container: run_container (lib.sh), or
# run_leaked_root: runc run with the host's root directory open as fd 3,
# handed into the container with --preserve-fds 1 (as a careless runtime
# or a caller's leaked descriptor would).
RUNNER=run_container
run_leaked_root() {
	make_bundle "$1" "$2" "${3:-}" || return 1
	runc run --preserve-fds 1 --bundle "/run/bundles/$1" "$1" 3< /
}

# attack NAME MODE VARIANT 'command' WHAT [PROOF] [nodeny]
#   WHAT is the event's reason or rule name (an ERE alternation is allowed:
#   "namespace-escape|root-escape"). PROOF is a line the command prints only
#   when the attack got through (the host marker, a listing of the host's
#   root, "ok").
#   enforce: the command is SIGKILLed (rc=137) before the host marker or
#   PROOF is printed; exactly one event naming WHAT, action killed, the call
#   refused ("denied":true; "nodeny" when the kill lands at fork/exec and no
#   call is refused); the kill counter moved.
#   monitor: the command completes (rc=0) and prints PROOF; exactly one
#   event naming WHAT, action logged; nothing killed.
attack() {
	_name="$1" _mode="$2" _variant="$3" _cmd="$4" _what="$5" _proof="${6:-}" _deny="${7:-deny}"
	escguardctl mode "$_mode" || { fail "$_name" "cannot set mode"; return; }
	drain_events
	_k0=$(kills)
	# In a subshell: the killed process is a child of the container's
	# shell (busybox runs applets like cat inside the shell itself).
	_out=$($RUNNER "$_name" "( $_cmd ); echo rc=\$?" "$_variant" 2>&1)
	_ev=$(events_json)
	_n=$(ev_n "$_ev")
	_k1=$(kills)
	show_ev "$_ev"
	if [ "$_mode" = enforce ]; then
		if echo "$_out" | grep -q "$MARK"; then fail "$_name" "host marker was read: $(flat "$_out")"; return; fi
		if [ -n "$_proof" ] && echo "$_out" | grep -qx "$_proof"; then fail "$_name" "got through ($_proof): $(flat "$_out")"; return; fi
		echo "$_out" | grep -q 'rc=137' || { fail "$_name" "not SIGKILLed: $(flat "$_out")"; return; }
		echo "$_ev" | grep -q '"action":"killed"' || { fail "$_name" "event not 'killed'"; return; }
		[ "$_deny" = nodeny ] || echo "$_ev" | grep -q '"denied":true' || { fail "$_name" "call not denied"; return; }
		[ "$_k1" -gt "$_k0" ] || { fail "$_name" "kill counter did not move"; return; }
	else
		echo "$_out" | grep -q 'rc=0' || { fail "$_name" "did not complete in monitor mode: $(flat "$_out")"; return; }
		[ -z "$_proof" ] || echo "$_out" | grep -qx "$_proof" || { fail "$_name" "did not get through in monitor mode: $(flat "$_out")"; return; }
		echo "$_ev" | grep -q '"action":"logged"' || { fail "$_name" "event not 'logged'"; return; }
		[ "$_k1" = "$_k0" ] || { fail "$_name" "monitor mode killed"; return; }
	fi
	[ "$_n" = 1 ] || { fail "$_name" "expected 1 event, got $_n"; return; }
	echo "$_ev" | grep -Eq "\"(reason|rule)\":\"($_what)\"" || { fail "$_name" "event names neither reason nor rule $_what"; return; }
	pass "$_name"
}

# silent NAME VARIANT 'command' [TEXT]: a look-alike in enforce mode: the
# command completes (rc=0, printing the line TEXT if given), no event, no
# kill.
silent() {
	_name="$1" _variant="$2" _cmd="$3" _text="${4:-}"
	escguardctl mode enforce
	drain_events
	_k0=$(kills)
	_out=$($RUNNER "$_name" "( $_cmd ); echo rc=\$?" "$_variant" 2>&1)
	_ev=$(events_json)
	show_ev "$_ev"
	if ! echo "$_out" | grep -q 'rc=0'; then fail "$_name" "failed: $(flat "$_out")"
	elif [ -n "$_text" ] && ! echo "$_out" | grep -qx "$_text"; then fail "$_name" "no '$_text': $(flat "$_out")"
	elif [ "$(ev_n "$_ev")" != 0 ]; then fail "$_name" "unexpected event"
	elif [ "$(kills)" != "$_k0" ]; then fail "$_name" "something was killed"
	else pass "$_name"; fi
}

# host_silent NAME 'command': a host process doing the same, in enforce
# mode: completes with no event.
host_silent() {
	escguardctl mode enforce
	drain_events
	_out=$(sh -c "$2" 2>&1); _rc=$?
	_ev=$(events_json)
	show_ev "$_ev"
	if [ $_rc != 0 ]; then fail "$1" "exit $_rc: $(flat "$_out")"
	elif [ "$(ev_n "$_ev")" != 0 ]; then fail "$1" "unexpected event"
	else pass "$1"; fi
}

# start_container NAME 'command' [VARIANT]: runc run in the background; sets
# CPID to the container's init pid once it runs, CRUN to runc's pid.
start_container() {
	make_bundle "$1" "$2" "${3:-}" || return 1
	runc run --bundle "/run/bundles/$1" "$1" > "/tmp/$1.out" 2>&1 &
	CRUN=$!
	CPID=""
	_i=0
	while [ $_i -lt 100 ]; do
		CPID=$(runc state "$1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
		[ -n "$CPID" ] && [ "$CPID" != 0 ] && [ -e "/proc/$CPID/root/bin" ] && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}
stop_container() { runc kill "$1" KILL 2>/dev/null; sleep 0.3; runc delete -f "$1" 2>/dev/null; wait "$CRUN" 2>/dev/null; }

# ---- 1. Host objects opened from inside a container ------------------------
# A container task whose mount namespace is not the host's opens (or execs)
# a file or directory that lives on the host: on a mount of the host's mount
# namespace, on the host's root filesystem through a mount showing all of
# it, or through a dentry its mount does not reach. Refused and killed
# before a byte is read, whatever the container's own root and cwd.

# A host process holding a host file open on fd 7 (the shell's exec
# redirection survives the exec of sleep, so HFD is the holder itself).
sh -c 'exec 7< /host-marker; exec sleep 1000' &
HFD=$!
i=0; while [ "$(readlink /proc/$HFD/fd/7 2>/dev/null)" != /host-marker ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(readlink /proc/$HFD/fd/7 2>/dev/null)" = /host-marker ] || fail host-fd-holder-setup "$(ls -l /proc/$HFD/fd 2>&1 | tr '\n' ' ')"

# A container sharing the host's pid namespace sees the host's processes.
attack host-object-proc1-root-enforce enforce priv-hostpid "cat /proc/1/root/host-marker" host-object "$MARK"
attack host-object-proc1-root-monitor monitor priv-hostpid "cat /proc/1/root/host-marker" host-object "$MARK"
attack host-object-proc1-cwd-enforce enforce priv-hostpid "cat /proc/1/cwd/host-marker" host-object "$MARK"
attack host-object-proc1-cwd-monitor monitor priv-hostpid "cat /proc/1/cwd/host-marker" host-object "$MARK"
attack host-object-host-fd-enforce enforce priv-hostpid "cat /proc/$HFD/fd/7" host-object "$MARK"
attack host-object-host-fd-monitor monitor priv-hostpid "cat /proc/$HFD/fd/7" host-object "$MARK"
# Opening a host directory (the listing names the host-only file).
attack host-object-host-dir-enforce enforce priv-hostpid "ls /proc/1/root/" host-object host-marker
attack host-object-host-dir-monitor monitor priv-hostpid "ls /proc/1/root/" host-object host-marker
# Exec of a host binary: the exec opens the host's file (the image is
# busybox too, but another file).
attack host-object-exec-host-binary-enforce enforce priv-hostpid "/proc/1/root/bin/busybox echo ran-host-binary" host-object ran-host-binary
attack host-object-exec-host-binary-monitor monitor priv-hostpid "/proc/1/root/bin/busybox echo ran-host-binary" host-object ran-host-binary

# The host's disk mounted in a privileged container, read without chroot:
# a mount showing the whole host root filesystem. (The rules that stop the
# mount itself are off: this is the detection core's check.)
rule disable block_device_mount
rule disable host_block_device
HD='mkdir -p /dev/h && mount /dev/vda /dev/h && cat /dev/h/host-marker'
attack host-object-hostdisk-enforce enforce priv "$HD" host-object "$MARK"
attack host-object-hostdisk-monitor monitor priv "$HD" host-object "$MARK"
rule enable host_block_device
rule enable block_device_mount

# "Shocker" with its rule off: a file handle of the disk's root directory,
# which the container's bind-mounted root does not reach.
rule disable open_by_handle_at
attack host-object-file-handle-enforce enforce priv "egprobe shocker host-marker" host-object "$MARK"
attack host-object-file-handle-monitor monitor priv "egprobe shocker host-marker" host-object "$MARK"
rule enable open_by_handle_at

# A host directory descriptor leaked into an unprivileged container.
# A container program that starts with a host directory open (the leak)
# has escaped before it does anything with it: it could reach host files
# through it by calls no open hook sees (unlinkat, fchmodat, ...). Its first
# program is killed at exec, before its first instruction; in monitor mode
# it runs and the one event covers what it then does.
leaked() { # NAME MODE 'command'
	escguardctl mode "$2" || { fail "$1" "cannot set mode"; return; }
	drain_events
	_k0=$(kills)
	_out=$(run_leaked_root "$1" "echo started; $3; echo rc=\$?" 2>&1)
	_ev=$(events_json)
	show_ev "$_ev"
	if [ "$(ev_n "$_ev")" != 1 ] || ! echo "$_ev" | grep -q '"hook":"exec","reason":"host-object"'; then
		fail "$1" "expected 1 host-object event at exec, got $(ev_n "$_ev")"; return
	fi
	if [ "$2" = enforce ]; then
		if echo "$_out" | grep -q "$MARK\|^started"; then fail "$1" "the container ran: $(flat "$_out")"; return; fi
		echo "$_ev" | grep -q '"action":"killed"' && [ "$(kills)" -gt "$_k0" ] || { fail "$1" "not killed"; return; }
	else
		echo "$_out" | grep -q "$MARK" || { fail "$1" "did not run in monitor mode: $(flat "$_out")"; return; }
		echo "$_ev" | grep -q '"action":"logged"' && [ "$(kills)" = "$_k0" ] || { fail "$1" "monitor mode killed"; return; }
	fi
	pass "$1"
}
leaked host-object-leaked-dirfd-openat-enforce enforce "egprobe openat-fd 3 host-marker"
leaked host-object-leaked-dirfd-openat-monitor monitor "egprobe openat-fd 3 host-marker"
leaked host-object-leaked-dirfd-proc-enforce enforce "cat /proc/self/fd/3/host-marker"
leaked host-object-leaked-dirfd-proc-monitor monitor "cat /proc/self/fd/3/host-marker"
# A directory descriptor of its own is fine.
silent host-object-own-dirfd-lookalike '' "exec 4< /etc && egprobe openat-fd 4 passwd > /dev/null && cat /etc/passwd > /dev/null && ls / > /dev/null"
RUNNER=run_container

# A host directory handed over a unix socket after the container's program
# started (a confused host helper, SCM_RIGHTS): judged when it is received,
# before the descriptor is installed. Through it, *at() calls reach the
# whole host and open nothing (mkdirat here; a directory of any host
# mount is one: ".." climbs the host's tree from it). Files that are not
# directories are the sender's to give, and a container's processes pass
# their own directories among themselves.
rm -rf /egrecv-enforce /egrecv-monitor
egprobe sendfd /egvol/fd-root.sock / > /dev/null &
SFD1=$!
egprobe sendfd /egvol/fd-file.sock /host-marker > /dev/null &
SFD2=$!
i=0; while { [ ! -S /egvol/fd-root.sock ] || [ ! -S /egvol/fd-file.sock ]; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
attack host-object-received-dirfd-enforce enforce vol "egprobe recvfd /vol/fd-root.sock egrecv-enforce" host-object
if [ -e /egrecv-enforce ]; then fail host-object-received-dirfd-refused "a directory was made on the host through the received descriptor"
elif ! echo "$_ev" | grep -q '"hook":"receive"'; then fail host-object-received-dirfd-refused "event not at receive"
else pass host-object-received-dirfd-refused; fi
attack host-object-received-dirfd-monitor monitor vol "egprobe recvfd /vol/fd-root.sock egrecv-monitor" host-object ok
[ -d /egrecv-monitor ] && pass host-object-received-dirfd-works-unrefused || fail host-object-received-dirfd-works-unrefused "the technique did not work in monitor mode"
silent host-object-received-file-lookalike vol "egprobe recvfd /vol/fd-file.sock read" "$MARK"
silent host-object-received-own-dir-lookalike vol "egprobe sendfd /vol/fd-own.sock /etc > /dev/null & s=\$!; i=0; while [ ! -S /vol/fd-own.sock ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done; egprobe recvfd /vol/fd-own.sock keep; r=\$?; kill \$s; exit \$r" received
kill $SFD1 $SFD2 2>/dev/null; wait $SFD1 $SFD2 2>/dev/null
rm -rf /egrecv-enforce /egrecv-monitor /egvol/fd-*.sock

# Look-alikes: the container's own root through /proc (its pid 1 is its
# own init when it has a pid namespace; its own processes when it shares
# the host's), and the host doing the same as the attacks.
OWN='cat /proc/self/root/etc/passwd > /dev/null && ls /proc/self/root/ > /dev/null && cat /proc/1/root/etc/passwd > /dev/null && ls /proc/1/cwd/ > /dev/null'
silent host-object-own-root-lookalike '' "$OWN"
silent host-object-own-root-priv-lookalike priv "$OWN"
silent host-object-own-root-hostpid-lookalike priv-hostpid "cat /proc/self/root/etc/passwd > /dev/null && ls /proc/\$\$/root/ > /dev/null && cat /proc/\$\$/cwd/etc/passwd > /dev/null"
host_silent host-object-host-itself "cat /proc/1/root/host-marker > /dev/null && cat /proc/$HFD/fd/7 > /dev/null && ls /proc/1/root/ > /dev/null"
kill $HFD 2>/dev/null; wait $HFD 2>/dev/null

# A file the host handed the container (a log opened for append, stdout
# redirected to a host file) may be reopened through /proc/self/fd and
# /dev/stdout: a non-directory descriptor it was given is no escape.
escguardctl mode enforce
: > /tmp/eglog; : > /tmp/egout
drain_events
k0=$(kills)
make_bundle logfd 'echo hello >> /proc/self/fd/3 && echo hi > /dev/stdout && echo again >> /dev/fd/3; echo rc=$?'
runc run --preserve-fds 1 --bundle /run/bundles/logfd logfd 3>> /tmp/eglog > /tmp/egout 2>&1
ev=$(events_json)
show_ev "$ev"
if ! grep -qx hello /tmp/eglog || ! grep -qx again /tmp/eglog; then fail host-object-handed-file-lookalike "log: $(tr '\n' ' ' < /tmp/eglog) out: $(tr '\n' ' ' < /tmp/egout)"
elif ! grep -qx hi /tmp/egout || ! grep -q rc=0 /tmp/egout; then fail host-object-handed-file-lookalike "out: $(tr '\n' ' ' < /tmp/egout)"
elif [ "$(ev_n "$ev")" != 0 ] || [ "$(kills)" != "$k0" ]; then fail host-object-handed-file-lookalike "unexpected event"
else pass host-object-handed-file-lookalike; fi

# ---- 2. Untracked is not host ------------------------------------------------
# With the table full, a container started now has no entry, nor has its
# parent (runc). It is still judged as a container: its rule hits and host
# objects are stopped like a tracked container's.
unload || fail untracked-unload
base=$(ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null | wc -l)
cap=$((base + 40))
[ $cap -ge 64 ] || cap=64
if insmod "$KO" max_tasks=$cap; then
	sleepers=""
	for i in $(seq 1 120); do sleep 1000 & sleepers="$sleepers $!"; done
	sleep 1
	f0=$(st full) u0=$(st untracked)
	[ "${f0:-0}" -gt 0 ] && pass untracked-table-full || fail untracked-table-full "cap $cap full $f0"
	CP0=$(cat /proc/sys/kernel/core_pattern)
	attack untracked-core-pattern-enforce enforce priv "sh -c 'echo eg-untracked > /proc/sys/kernel/core_pattern'" core_pattern
	if [ "$(cat /proc/sys/kernel/core_pattern)" = "$CP0" ]; then pass untracked-core-pattern-unchanged
	else fail untracked-core-pattern-unchanged "$(cat /proc/sys/kernel/core_pattern)"; echo "$CP0" > /proc/sys/kernel/core_pattern; fi
	attack untracked-host-object-enforce enforce priv-hostpid "cat /proc/1/root/host-marker" host-object "$MARK"
	# The containers' tasks were refused entries (else this tested a
	# tracked container).
	f1=$(st full) u1=$(st untracked)
	[ "$f1" -gt "$f0" ] && [ "$u1" -gt "$u0" ] && pass untracked-containers-were-untracked \
		|| fail untracked-containers-were-untracked "full $f0 -> $f1, untracked calls $u0 -> $u1"
	kill $sleepers 2>/dev/null; wait $sleepers 2>/dev/null
	unload || fail untracked-unload-capped
else
	fail untracked-insmod "max_tasks=$cap"
fi
insmod "$KO" && [ "$(escguardctl status --json | sed -n 's/.*"table":{"cap":\([0-9]*\).*/\1/p')" -gt $cap ] \
	&& pass untracked-reloaded-default || fail untracked-reloaded-default

# ---- 3. A failed clone does not blind the module -------------------------------
# An unprivileged container warms its open verdict (8 cached opens), makes
# a clone fail late in copy_process() (the failed child's files are torn
# down on a task that still carries its parent's pid), then escapes
# (kernel-exploit payload) and opens a host file.
# (The payload's namespace switch is itself judged: killed there, before
# the open, so no call is refused.)
attack clone-fail-then-escape-enforce enforce '' "egprobe clone-fail-then-open /host-marker" "namespace-escape|root-escape" "$MARK" nodeny
attack clone-fail-then-escape-monitor monitor '' "egprobe clone-fail-then-open /host-marker" "namespace-escape|root-escape" "$MARK"
silent clone-fail-lookalike '' "egprobe clone-fail-then-open /etc/passwd nopayload" "root:x:0:0:root:/root:/bin/sh"

# ---- 4. Presets ----------------------------------------------------------------
# kernel_memory: the kernel's memory and I/O ports (a privileged container
# has every capability, no masked paths, and may mknod).
attack kernel-memory-kcore-enforce enforce priv "head -c 16 /proc/kcore > /dev/null" kernel_memory
attack kernel-memory-kcore-monitor monitor priv "head -c 16 /proc/kcore > /dev/null" kernel_memory
MEM='mknod /dev/mem c 1 1 && head -c 16 /dev/mem > /dev/null'
attack kernel-memory-devmem-enforce enforce priv "$MEM" kernel_memory
attack kernel-memory-devmem-monitor monitor priv "$MEM" kernel_memory
PORT='mknod /dev/port c 1 4 && head -c 1 /dev/port > /dev/null'
attack kernel-memory-devport-enforce enforce priv "$PORT" kernel_memory
attack kernel-memory-devport-monitor monitor priv "$PORT" kernel_memory
silent kernel-memory-lookalike priv "mknod /dev/null2 c 1 3 && mknod /dev/zero2 c 1 5 && head -c 16 /dev/zero2 > /dev/null2 && head -c 16 /dev/zero > /dev/null && cat /proc/meminfo > /dev/null"

# instrument: the host's debugfs (and the tracefs under it) bind-mounted
# into a privileged container. The host mounts the tracefs first, so the
# container's rbind copies it.
ls /sys/kernel/debug/tracing/ > /dev/null
KP0=$(cat /sys/kernel/debug/kprobes/enabled)
TO0=$(cat /sys/kernel/debug/tracing/tracing_on)
attack instrument-kprobes-off-enforce enforce priv-debugfs "sh -c 'echo 0 > /sys/kernel/debug/kprobes/enabled'" instrument
if [ "$(cat /sys/kernel/debug/kprobes/enabled)" = "$KP0" ]; then pass instrument-kprobes-still-on
else fail instrument-kprobes-still-on "$(cat /sys/kernel/debug/kprobes/enabled)"; echo "$KP0" > /sys/kernel/debug/kprobes/enabled; fi
attack instrument-kprobes-monitor monitor priv-debugfs "sh -c 'echo $KP0 > /sys/kernel/debug/kprobes/enabled'" instrument
attack instrument-tracing-off-enforce enforce priv-debugfs "sh -c 'echo 0 > /sys/kernel/debug/tracing/tracing_on'" instrument
if [ "$(cat /sys/kernel/debug/tracing/tracing_on)" = "$TO0" ]; then pass instrument-tracing-unchanged
else fail instrument-tracing-unchanged "$(cat /sys/kernel/debug/tracing/tracing_on)"; echo "$TO0" > /sys/kernel/debug/tracing/tracing_on; fi
attack instrument-tracing-monitor monitor priv-debugfs "sh -c 'echo $TO0 > /sys/kernel/debug/tracing/tracing_on'" instrument
silent instrument-read-lookalike priv-debugfs "cat /sys/kernel/debug/kprobes/list > /dev/null && head -3 /sys/kernel/debug/tracing/available_filter_functions > /dev/null"

# The host admin switching every kprobe off does not switch escguard off:
# the nsenter escape (detection.sh) is still killed.
if echo 0 > /sys/kernel/debug/kprobes/enabled && [ "$(cat /sys/kernel/debug/kprobes/enabled)" = 0 ]; then
	attack kprobes-off-escape-still-killed enforce priv-hostpid "nsenter -t 1 -m -u -i -n -p cat /host-marker" namespace-escape "$MARK" nodeny
else
	fail kprobes-off-escape-still-killed "the host could not switch kprobes off"
fi
echo 1 > /sys/kernel/debug/kprobes/enabled
[ "$(cat /sys/kernel/debug/kprobes/enabled)" = 1 ] || fail kprobes-reenabled

# binfmt_misc: the host's binfmt_misc, bind-mounted into a privileged
# container at /binfmt. A registration would have the host run a
# container's program for every matching file.
grep -q " $BM binfmt_misc " /proc/mounts || mount -t binfmt_misc binfmt_misc "$BM" || fail binfmt-mount-host
REG="sh -c 'echo :egtest:E::egt::/bin/true: > /binfmt/register' && cat /binfmt/egtest"
attack binfmt-register-enforce enforce priv-binfmt "$REG" binfmt_misc enabled
if [ -e "$BM/egtest" ]; then fail binfmt-no-handler-added; echo -1 > "$BM/egtest"; else pass binfmt-no-handler-added; fi
attack binfmt-register-monitor monitor priv-binfmt "$REG" binfmt_misc enabled
[ ! -e "$BM/egtest" ] || echo -1 > "$BM/egtest"
silent binfmt-read-lookalike priv-binfmt "cat /binfmt/status > /dev/null && ls /binfmt > /dev/null"

# ptrace_host: a host process's memory read through /proc/PID/mem.
sleep 600 &
HP=$!
attack ptrace-host-memread-enforce enforce priv-hostpid "egprobe memread $HP" ptrace_host ok
attack ptrace-host-memread-monitor monitor priv-hostpid "egprobe memread $HP" ptrace_host ok
silent ptrace-own-child-memread-lookalike priv-hostpid "sleep 60 & egprobe memread \$!; r=\$?; kill \$!; [ \$r = 0 ]"
kill $HP 2>/dev/null; wait $HP 2>/dev/null
# A task a runtime is still building is host code: runc create leaves the
# new container's init (runc:[2:INIT]) waiting for runc start, in the new
# namespaces but not yet running the container's program. Hijacked by
# ptrace from a privileged hostPID container, it could be steered back into
# the host's namespaces and exec as a host task (red-team report 2).
make_bundle egvictim 'echo victim-ran'
if runc create --bundle /run/bundles/egvictim egvictim; then
	VP=$(runc state egvictim | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	attack ptrace-unsettled-init-enforce enforce priv-hostpid "egprobe ptrace $VP" ptrace_host ok
	attack ptrace-unsettled-init-memread-enforce enforce priv-hostpid "egprobe memread $VP" ptrace_host ok
	# Only ptrace: tools that walk /proc (lsof, fuser) may meet it too.
	silent unsettled-init-root-lookalike priv-hostpid "ls /proc/$VP/root/ > /dev/null && echo ls-ok" ls-ok
	runc delete -f egvictim
else
	fail ptrace-unsettled-init-enforce "runc create failed"
fi

# ---- 5. Host exec of a program a container planted ------------------------------
# With the binfmt_misc rule off, a privileged container registers a handler
# whose interpreter is a program on its own tmpfs (F: opened at
# registration, in the container's mount namespace). Any host exec of a
# *.egp file would then run it as host root in the host's namespaces. The
# payload (egprobe run as "egpayload") writes /tmp/planted-ran.
rule disable binfmt_misc
rm -f /tmp/planted-ran
PLANT='mount -t tmpfs tmpfs /tmp && cp /usr/bin/egprobe /tmp/egpayload && echo :egplant:E::egp::/tmp/egpayload:F > /binfmt/register && echo planted; sleep 1000'
if start_container planter "$PLANT" priv-binfmt; then
	i=0; while [ ! -e "$BM/egplant" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
fi
# Without the handler, the shell would run the file as a script: that
# prints egp-fallback.
printf 'echo egp-fallback\n' > /tmp/x.egp
chmod +x /tmp/x.egp
host_exec() { # NAME MODE
	escguardctl mode "$2"
	rm -f /tmp/planted-ran
	drain_events
	_out=$( (/tmp/x.egp) 2>&1; echo rc=$?)
	_ev=$(events_json)
	_n=$(ev_n "$_ev")
	show_ev "$_ev"
	if [ ! -e "$BM/egplant" ]; then fail "$1" "the container did not register its handler: $(tr '\n' ' ' < /tmp/planter.out)"; return; fi
	if echo "$_out" | grep -q egp-fallback; then fail "$1" "the handler was not used: $(flat "$_out")"; return; fi
	if [ "$2" = enforce ]; then
		if [ -e /tmp/planted-ran ] || echo "$_out" | grep -q 'egpayload ran'; then fail "$1" "the planted payload ran on the host"; return; fi
		if echo "$_out" | grep -q 'rc=0'; then fail "$1" "the host exec succeeded: $(flat "$_out")"; return; fi
		echo "$_ev" | grep -q '"action":"killed"\|"denied":true' || { fail "$1" "event neither killed nor denied"; return; }
	else
		if [ ! -e /tmp/planted-ran ] || ! echo "$_out" | grep -q 'rc=0'; then fail "$1" "the payload did not run in monitor mode: $(flat "$_out")"; return; fi
		echo "$_ev" | grep -q '"action":"logged"' || { fail "$1" "event not 'logged'"; return; }
	fi
	[ "$_n" = 1 ] || { fail "$1" "expected 1 event, got $_n"; return; }
	echo "$_ev" | grep -Eq '"(reason|rule)":"(host-exec|planted_exec)"' || { fail "$1" "event is not host-exec/planted_exec"; return; }
	pass "$1"
}
host_exec host-exec-planted-interpreter-monitor monitor
host_exec host-exec-planted-interpreter-enforce enforce
# The container running its own planted program is its own business.
escguardctl mode enforce
rm -f /tmp/planted-ran
drain_events
k0=$(kills)
out=$(timeout 60 runc exec planter sh -c 'printf x > /tmp/y.egp && chmod +x /tmp/y.egp && /tmp/y.egp; echo rc=$?' 2>&1)
ev=$(events_json)
show_ev "$ev"
if echo "$out" | grep -q 'egpayload ran' && echo "$out" | grep -q 'rc=0' && [ ! -e /tmp/planted-ran ] \
	&& [ "$(ev_n "$ev")" = 0 ] && [ "$(kills)" = "$k0" ]; then
	pass host-exec-container-runs-own-lookalike
else
	fail host-exec-container-runs-own-lookalike "$(flat "$out") events $(ev_n "$ev")"
fi
[ ! -e "$BM/egplant" ] || echo -1 > "$BM/egplant"
stop_container planter
rule enable binfmt_misc
# A handler the host registered, with a host interpreter: runs, silently.
# (/bin/cat prints the file; the shell's own fallback would run it.)
host_silent host-exec-host-handler-lookalike "echo :eghost:E::egh::/bin/cat: > $BM/register && echo host-handler-content > /tmp/x.egh && chmod +x /tmp/x.egh && [ \"\$(/tmp/x.egh)\" = host-handler-content ]"
[ ! -e "$BM/eghost" ] || echo -1 > "$BM/eghost"
rm -f /tmp/x.egp /tmp/x.egh /tmp/planted-ran
# A program below a recorded container root reached by the host's own path
# (the busybox rootfs every test container runs from), a few directories
# down: the lock-free filter in front of the origin index must pass it on
# to the exact check at every depth. The same program copied to the
# host's /tmp (same device, no container root above) runs silently.
EGD=/bundles/busybox/rootfs/tmp/egdeep/a/b/c
mkdir -p "$EGD" /tmp/egtrue && cp /tests/bench/true "$EGD/true" && cp /tests/bench/true /tmp/egtrue/true
below_root() { # NAME PROGRAM
	escguardctl mode enforce
	drain_events
	_out=$( ("$2"); echo rc=$?)
	_ev=$(events_json)
	show_ev "$_ev"
	if echo "$_out" | grep -q 'rc=0'; then fail "$1" "the host exec succeeded"
	elif [ "$(ev_n "$_ev")" != 1 ] || ! echo "$_ev" | grep -q '"rule":"planted_exec"'; then fail "$1" "no planted_exec event: $(flat "$_out")"
	else pass "$1"; fi
}
# While a container runs from that root: the root of one that is gone
# names nothing (redteam11.sh planted-exec-dead-root-*).
start_container egdeep 'sleep 1000' || fail host-exec-below-container-root "container did not start"
below_root host-exec-below-container-root "$EGD/true"
below_root host-exec-container-image-program /bundles/busybox/rootfs/bin/busybox
host_silent host-exec-same-device-lookalike "/tmp/egtrue/true && cd $EGD && /tmp/egtrue/true"
stop_container egdeep
# The same program once no container runs from that root any more.
host_silent host-exec-dead-container-root-lookalike "$EGD/true"
rm -rf /bundles/busybox/rootfs/tmp/egdeep /tmp/egtrue
umount "$BM" 2>/dev/null

# ---- 6. Nested runtimes --------------------------------------------------------
# A procfs for a pid namespace the container made itself is what every
# nested runtime mounts; a procfs of the host's pid namespace is not.
silent nested-unshare-proc-lookalike priv "unshare -m -u -p -f sh -c 'mount -t proc proc /proc && ls /proc > /dev/null && echo nested-ok'" nested-ok
attack nested-hostpid-proc-mount-enforce enforce priv-hostpid "mkdir -p /dev/shm/p && mount -t proc proc /dev/shm/p" sensitive_mount
attack nested-hostpid-proc-mount-monitor monitor priv-hostpid "mkdir -p /dev/shm/p && mount -t proc proc /dev/shm/p && ls /dev/shm/p/1 > /dev/null" sensitive_mount
# A real nested runc: the host's runc, its libraries and the bundles
# mounted read-only (volumes of the host's disk, read as such), inside
# which runc runs the default busybox container.
silent nested-volumes-lookalike nested "ls /lib /bundles > /dev/null && cat /bundles/busybox/config.json > /dev/null && runc --version > /dev/null"
silent nested-runc-lookalike nested "timeout 120 runc run --bundle /bundles/nested-inner egnested" nested-hello
# Its cgroups: without a cgroup namespace (runc's default) a nested runc
# makes its groups beside the outer container's and enables controllers at
# the hierarchy's root. The writable cgroup2 mount the outer runtime gave
# it is that delegation: host_cgroup lets it manage the groups it sees.
silent nested-cgroup-lookalike nested "echo +pids > /sys/fs/cgroup/cgroup.subtree_control && mkdir /sys/fs/cgroup/egn2 && echo 100 > /sys/fs/cgroup/egn2/pids.max && rmdir /sys/fs/cgroup/egn2 && echo nested-cg-ok" nested-cg-ok
rmdir /sys/fs/cgroup/egnested 2>/dev/null

# A sysfs mounted from the host's network namespace shows the host's
# devices: refused; one for the container's own (above: nested runtimes,
# rules.sh) is not.
attack sysfs-hostnet-mount-enforce enforce priv-hostnet "mkdir -p /dev/shm/s && mount -t sysfs sysfs /dev/shm/s" sensitive_mount
# A binfmt_misc instance of the container's own user namespace (Linux 6.7+)
# is its own: registering there runs nothing on the host.
silent binfmt-own-userns-lookalike priv "unshare -U -r -m sh -c 'mkdir -p /dev/shm/b && mount -t binfmt_misc none /dev/shm/b && echo :egu:E::egu::/bin/true: > /dev/shm/b/register && cat /dev/shm/b/egu > /dev/null && echo own-binfmt-ok'" own-binfmt-ok

# ---- 7. Walks deeper than any fixed bound ---------------------------------
# A cwd 4,300 directories deep in a host volume: the dentry walk that
# classifies it must reach the mount's root, not give up and call it
# disconnected (a false kill of an ordinary, if odd, workload).
silent deep-volume-cwd-lookalike vol "cd /vol && egprobe deepcwd 4300 /etc/passwd" "deep 4300 ok"

# ---- 9. Host-root volumes: configuration, not escape -------------------------
# A container whose runtime gave it the host's whole root filesystem as a
# volume (`-v /:/host`, as node agents and monitoring daemons run) reads,
# lists, runs programs and sits in it, in a nested mount namespace too:
# what its configuration grants is not an escape.
silent hostroot-volume-read-lookalike hostroot "cat /host/etc/passwd > /dev/null && ls /host/bin > /dev/null && echo hr-ok" hr-ok
silent hostroot-volume-cwd-lookalike hostroot "cd /host/etc && cat passwd > /dev/null && /host/bin/busybox true && echo hr-ok" hr-ok
silent hostroot-volume-nested-ns-lookalike priv-hostroot "unshare -m sh -c 'cd /host && cat etc/passwd > /dev/null' && echo hr-ok" hr-ok
# A task that joins it later (runc exec) inherits the decision made when
# it started (by the container's cgroup: a container that reuses a dead
# one's mount namespace number and image root, as the plain container just
# before it, gone, gets its own).
silent plain-before-hostroot-lookalike vol "true"
drain_events
_k0=$(kills)
if start_container hrjoin 'sleep 30' hostroot; then
	out=$(timeout 60 runc exec hrjoin sh -c 'cat /host/etc/passwd > /dev/null && cd /host && ls > /dev/null; echo rc=$?' 2>&1)
	if [ "$out" = rc=0 ] && [ "$(ev_n "$(events_json)")" = 0 ] && [ "$(kills)" = "$_k0" ]; then
		pass hostroot-volume-runc-exec-lookalike
	else
		fail hostroot-volume-runc-exec-lookalike "$(flat "$out"), kills $_k0 -> $(kills)"
	fi
	runc kill hrjoin KILL 2>/dev/null; wait "$CRUN" 2>/dev/null; runc delete -f hrjoin 2>/dev/null
else
	fail hostroot-volume-runc-exec-lookalike "container did not start"
fi
# Including `chroot /host`, as `kubectl debug node/...` documents it.
silent hostroot-volume-chroot-lookalike priv-hostroot "chroot /host /bin/cat /host-marker" "$MARK"
# What it grants is what was configured: a read-only volume remounted
# writable does not grant writes to the host.
attack hostroot-ro-remount-write-enforce enforce priv-hostroot "mount -o remount,bind,rw /host && echo x > /host/egremount && echo wrote" host-object wrote
# (O_CREAT makes the file before the open is judged: it may exist, empty.)
if [ -s /egremount ]; then fail hostroot-ro-remount-nothing-written; else pass hostroot-ro-remount-nothing-written; fi
rm -f /egremount
# A runtime that chroots instead of pivoting (runc --no-pivot) leaves the
# host's root mount in the container's namespace *above* its root: not a
# configured volume, so the host's disk mounted there is still caught.
run_nopivot() {
	make_bundle "$1" "$2" "${3:-}" || return 1
	runc run --no-pivot --bundle "/run/bundles/$1" "$1"
}
RUNNER=run_nopivot
silent nopivot-lookalike priv "cat /etc/passwd > /dev/null && echo np-ok" np-ok
attack nopivot-hostdisk-enforce enforce priv "$HD" "host-object|block_device_mount" "$MARK"
RUNNER=run_container

# ---- 8. Disarming is refused for containers and visible for the host -------
# A container's delete_module of *any* name re-locks escguard before the
# kernel reads the name (a racing thread could swap the name after escguard
# read it): after a host unlock, a container's rmmod of another module
# leaves escguard locked.
escguardctl mode enforce
escguardctl unlock
run_container relock-other-name 'rmmod egnosuchmodule; echo rc=$?' priv > /dev/null 2>&1
if rmmod escguard 2>/dev/null; then
	fail container-delete-module-relocks "escguard could be removed"; insmod "$KO"
else
	pass container-delete-module-relocks
fi
# What the host admin does to weaken escguard is in the event stream.
escguardctl mode enforce
drain_events
escguardctl mode monitor && escguardctl rules disable instrument && escguardctl unlock \
	&& escguardctl rules enable instrument && escguardctl lock && escguardctl mode enforce
ev=$(events_json)
show_ev "$ev"
if [ "$(ev_n "$ev")" = 3 ] && echo "$ev" | grep -q '"reason":"config".*"target":"mode monitor"' \
	&& echo "$ev" | grep -q '"target":"rule disabled: instrument"' && echo "$ev" | grep -q '"target":"unlock"'; then
	pass host-disarm-is-reported
else
	fail host-disarm-is-reported "$(ev_n "$ev") events"
fi

escguardctl mode enforce
drain_events
rmmod escguard_test_payload
ok rmmod-after-bypass unload
