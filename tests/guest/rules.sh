# Rules suite (seed 001): every preset rule is tripped by a real runc
# container (SIGKILLed with the call refused in enforce mode, reported and
# allowed in monitor mode, the event naming the rule) and left alone by a
# look-alike; usermode-helper escapes (cgroup release_agent and core_pattern
# pipes) are stopped before their payload runs on the host; the escape
# verdict runs at file open; policies load, show, round-trip and reject bad
# input; the Trivy import derives a working policy.
. /tests/lib.sh

insmod "$KO" || { fail rules-insmod; exit 0; }
insmod /tests/escguard_test_payload.ko || fail payload-insmod

ev_n() { printf '%s\n' "$1" | grep -c '"seq"'; }
show_ev() { [ -z "$1" ] || echo "$1" | sed 's/^/    | /' | cut -c1-360; }

# trip NAME MODE VARIANT 'command' RULE
#   enforce: the command is SIGKILLed (rc=137), exactly one event naming
#   RULE, action killed, the call denied. monitor: the command completes
#   (prints rc=0), exactly one event naming RULE, action logged.
trip() {
	_name="$1" _mode="$2" _variant="$3" _cmd="$4" _rule="$5"
	escguardctl mode "$_mode" || { fail "$_name" "cannot set mode"; return; }
	drain_events
	# In a subshell: the killed process is a child of the container's shell
	# (busybox may run applets like cat inside the shell itself).
	_out=$(run_container "$_name" "( $_cmd ); echo rc=\$?" "$_variant" 2>&1)
	_ev=$(events_json)
	_n=$(ev_n "$_ev")
	show_ev "$_ev"
	if [ "$_mode" = enforce ]; then
		echo "$_out" | grep -q 'rc=137' || { fail "$_name" "not SIGKILLed: $(echo "$_out" | tr '\n' ' ')"; return; }
		echo "$_ev" | grep -q '"action":"killed"' || { fail "$_name" "event not 'killed'"; return; }
		echo "$_ev" | grep -q '"denied":true' || { fail "$_name" "call not denied"; return; }
	else
		echo "$_out" | grep -q 'rc=0' || { fail "$_name" "did not complete in monitor mode: $(echo "$_out" | tr '\n' ' ')"; return; }
		echo "$_ev" | grep -q '"action":"logged"' || { fail "$_name" "event not 'logged'"; return; }
	fi
	[ "$_n" = 1 ] || { fail "$_name" "expected 1 event, got $_n"; return; }
	echo "$_ev" | grep -q "\"rule\":\"$_rule\"" || { fail "$_name" "rule is not $_rule"; return; }
	pass "$_name"
}

# quiet NAME VARIANT 'command': a look-alike in enforce mode: completes
# (rc=0) with no event.
quiet() {
	_name="$1" _variant="$2" _cmd="$3"
	escguardctl mode enforce
	drain_events
	_out=$(run_container "$_name" "( $_cmd ); echo rc=\$?" "$_variant" 2>&1)
	_ev=$(events_json)
	show_ev "$_ev"
	echo "$_out" | grep -q 'rc=0' || { fail "$_name" "failed: $(echo "$_out" | tr '\n' ' ')"; return; }
	[ "$(ev_n "$_ev")" = 0 ] || { fail "$_name" "unexpected event"; return; }
	pass "$_name"
}

# host_quiet NAME 'command': a host process doing the same, in enforce mode:
# completes with no event.
host_quiet() {
	escguardctl mode enforce
	drain_events
	_out=$(sh -c "$2" 2>&1); _rc=$?
	_ev=$(events_json)
	show_ev "$_ev"
	[ $_rc = 0 ] || { fail "$1" "exit $_rc: $(echo "$_out" | tr '\n' ' ')"; return; }
	[ "$(ev_n "$_ev")" = 0 ] || { fail "$1" "unexpected event"; return; }
	pass "$1"
}

rule() { escguardctl rules "$1" "$2" > /dev/null || fail "rules-$1-$2"; }

# All presets are on at load.
out=$(escguardctl rules list --json)
n=$(echo "$out" | grep -o '"enabled":true' | wc -l)
[ "$n" = 19 ] && pass presets-on-at-load || fail presets-on-at-load "$n enabled: $out"

# --- Writes to the kernel's host-wide knobs --------------------------------
CP0=$(cat /proc/sys/kernel/core_pattern)
MP0=$(cat /proc/sys/kernel/modprobe)
trip core-pattern-enforce enforce priv "sh -c 'echo eg-core > /proc/sys/kernel/core_pattern'" core_pattern
[ "$(cat /proc/sys/kernel/core_pattern)" = "$CP0" ] && pass core-pattern-unchanged || fail core-pattern-unchanged "$(cat /proc/sys/kernel/core_pattern)"
trip core-pattern-monitor monitor priv "sh -c 'echo $CP0 > /proc/sys/kernel/core_pattern'" core_pattern
quiet core-pattern-lookalike priv "echo x > /dev/shm/core_pattern && cat /proc/sys/kernel/core_pattern > /dev/null"
host_quiet core-pattern-host "echo $CP0 > /proc/sys/kernel/core_pattern"

trip modprobe-enforce enforce priv "sh -c 'echo /eg/modprobe > /proc/sys/kernel/modprobe'" modprobe_path
[ "$(cat /proc/sys/kernel/modprobe)" = "$MP0" ] && pass modprobe-unchanged || fail modprobe-unchanged
trip modprobe-monitor monitor priv "sh -c 'echo $MP0 > /proc/sys/kernel/modprobe'" modprobe_path
quiet modprobe-lookalike priv "cat /proc/sys/kernel/modprobe > /dev/null && echo x > /dev/shm/modprobe"

trip sysrq-enforce enforce priv "sh -c 'echo h > /proc/sysrq-trigger'" sysrq_trigger
trip sysrq-monitor monitor priv "sh -c 'echo h > /proc/sysrq-trigger'" sysrq_trigger
quiet sysrq-lookalike priv "echo h > /dev/shm/sysrq-trigger"

# /sys is read-only in the container; a privileged one can remount it.
RW='mount -o remount,rw /sys'
trip uevent-helper-enforce enforce priv "$RW && sh -c 'echo /eg/helper > /sys/kernel/uevent_helper'" uevent_helper
[ -z "$(cat /sys/kernel/uevent_helper)" ] && pass uevent-helper-unchanged || fail uevent-helper-unchanged "$(cat /sys/kernel/uevent_helper)"
trip uevent-helper-monitor monitor priv "$RW && sh -c 'echo > /sys/kernel/uevent_helper'" uevent_helper
trip hotplug-enforce enforce priv "sh -c 'echo /eg/helper > /proc/sys/kernel/hotplug'" uevent_helper
quiet uevent-helper-lookalike priv "cat /sys/kernel/uevent_helper > /dev/null && echo x > /dev/shm/uevent_helper"

# A cgroup v1 hierarchy held by the host (as on hosts with v1 controllers):
# a container may mount it, which sensitive_mount stops first; with that
# rule off, writing its release_agent is the next line of defence.
mkdir -p /run/cg1 && mount -t cgroup -o none,name=eg cgroup /run/cg1 || fail cgroup-v1-setup
CG='mkdir -p /dev/shm/cg && mount -t cgroup -o none,name=eg cgroup /dev/shm/cg'
trip cgroup-v1-mount-enforce enforce priv "$CG" sensitive_mount
rule disable sensitive_mount
trip release-agent-enforce enforce priv "$CG && sh -c 'echo /eg/agent > /dev/shm/cg/release_agent'" release_agent
[ -z "$(cat /run/cg1/release_agent)" ] && pass release-agent-unchanged || fail release-agent-unchanged "$(cat /run/cg1/release_agent)"
trip release-agent-monitor monitor priv "$CG && sh -c 'echo > /dev/shm/cg/release_agent'" release_agent
trip notify-on-release-enforce enforce priv "$CG && sh -c 'echo 1 > /dev/shm/cg/notify_on_release'" release_agent
quiet release-agent-lookalike priv "$CG && cat /dev/shm/cg/release_agent > /dev/null && echo x > /dev/shm/release_agent"
rule enable sensitive_mount

# --- Mounts -----------------------------------------------------------------
# Judged by the instance: a procfs of the host's pid namespace (a container
# sharing it), debugfs, securityfs and cgroup v1 trip the rule; a procfs or
# sysfs a nested runtime makes for its own namespaces does not.
trip mount-proc-enforce enforce priv-hostpid "mkdir -p /dev/shm/p && mount -t proc proc /dev/shm/p" sensitive_mount
trip mount-proc-monitor monitor priv-hostpid "mkdir -p /dev/shm/p && mount -t proc proc /dev/shm/p && ls /dev/shm/p/self > /dev/null" sensitive_mount
trip mount-debugfs-enforce enforce priv "mkdir -p /dev/shm/d && mount -t debugfs debugfs /dev/shm/d" sensitive_mount
trip fsopen-proc-enforce enforce priv-hostpid "egprobe fsopen proc" sensitive_mount
quiet mount-own-proc-lookalike priv "mkdir -p /dev/shm/p && mount -t proc proc /dev/shm/p && ls /dev/shm/p/self > /dev/null && egprobe fsopen proc"
quiet mount-own-sysfs-lookalike priv "mkdir -p /dev/shm/s && mount -t sysfs sysfs /dev/shm/s && ls /dev/shm/s/kernel > /dev/null"
quiet mount-tmpfs-lookalike priv "mkdir -p /dev/shm/t && mount -t tmpfs tmpfs /dev/shm/t && egprobe fsopen tmpfs"
host_quiet mount-proc-host "mkdir -p /run/p && mount -t proc proc /run/p && umount /run/p"

trip mount-hostdisk-enforce enforce priv "mkdir -p /dev/shm/h && mount /dev/vda /dev/shm/h" block_device_mount
# (Reading through that mount is a host-object escape of its own: bypass.sh.)
trip mount-hostdisk-monitor monitor priv "mkdir -p /dev/shm/h && mount /dev/vda /dev/shm/h && echo mounted" block_device_mount

# --- Raw block devices ------------------------------------------------------
trip blockdev-read-enforce enforce priv "head -c 512 /dev/vda > /dev/null" host_block_device
trip blockdev-read-monitor monitor priv "head -c 512 /dev/vda > /dev/null" host_block_device
# A loop device that backs no mounted filesystem.
dd if=/dev/zero of=/run/loop.img bs=1024 count=1024 2>/dev/null
LOOP=$(losetup -f)
losetup "$LOOP" /run/loop.img || fail loop-setup
LDEV=$(cat /sys/block/${LOOP#/dev/}/dev)
quiet blockdev-unmounted-lookalike priv "mkdir -p /dev/shm/x && mount -t tmpfs tmpfs /dev/shm/x && mknod /dev/shm/x/l b ${LDEV%%:*} ${LDEV##*:} && head -c 512 /dev/shm/x/l > /dev/null"
host_quiet blockdev-read-host "head -c 512 /dev/vda > /dev/null"
losetup -d "$LOOP"

# --- Syscalls ---------------------------------------------------------------
trip open-by-handle-enforce enforce priv "egprobe handle /etc/passwd" open_by_handle_at
trip open-by-handle-monitor monitor priv "egprobe handle /etc/passwd" open_by_handle_at
host_quiet open-by-handle-host "egprobe handle /etc/passwd"

trip init-module-enforce enforce priv "egprobe initmod" kernel_module
trip finit-module-enforce enforce priv "egprobe finitmod" kernel_module
trip delete-module-enforce enforce priv "rmmod eg_no_such_module" kernel_module
# The kernel refuses the bogus image itself; the call went ahead.
trip init-module-monitor monitor priv "egprobe initmod | grep -q ENOEXEC" kernel_module
host_quiet init-module-host "egprobe initmod | grep -q ENOEXEC"

sleep 600 &
HP=$!
trip ptrace-host-enforce enforce priv-hostpid "egprobe ptrace $HP" ptrace_host
trip memwrite-host-enforce enforce priv-hostpid "egprobe memwrite $HP" ptrace_host
trip ptrace-host-monitor monitor priv-hostpid "egprobe ptrace $HP" ptrace_host
quiet ptrace-own-child-lookalike priv-hostpid "sleep 60 & egprobe ptrace \$!; r=\$?; kill \$!; [ \$r = 0 ]"

# Signals to a host task, by every path the kernel offers; the victim must
# survive each refused one. Signal 0 (a liveness probe) and signals to the
# container's own tasks are fine.
for how in kill tkill tgkill sigqueue tgsigqueue pidfd procfd; do
	trip signal-host-$how-enforce enforce priv-hostpid "egprobe signal $how $HP 15" signal_host
	alive $HP && pass signal-host-$how-victim-alive || {
		fail signal-host-$how-victim-alive "host task died"; sleep 600 & HP=$!; }
done
trip signal-host-pidfd-monitor monitor priv-hostpid "egprobe signal pidfd $HP 0 && egprobe signal pidfd $HP 28" signal_host
quiet signal-host-probe-lookalike priv-hostpid "egprobe signal kill $HP 0 && egprobe signal pidfd $HP 0"
quiet signal-own-lookalike priv-hostpid "sleep 60 & p=\$!; egprobe signal pidfd \$p 15 && egprobe signal procfd \$\$ 28 && egprobe signal tgkill \$\$ 28"
# Acting on a host task without a signal (judged as signal_host): a zero
# file-size limit on the host's event writer. The victim's limit must be
# unchanged after the refused prlimit; the container's own tasks, reading
# limits, and the CPU pinning and priorities node tuning agents set on host
# tasks from privileged hostPID pods (tuned, irqbalance) are fine.
trip act-host-prlimit-enforce enforce priv-hostpid "egprobe act prlimit $HP" signal_host
grep -q '^Max file size *unlimited' /proc/$HP/limits && pass act-host-prlimit-unchanged \
	|| fail act-host-prlimit-unchanged "$(grep '^Max file size' /proc/$HP/limits)"
trip act-host-prlimit-monitor monitor priv-hostpid "egprobe act prlimit $HP" signal_host
# Signals the kernel sends on the container's behalf: the SIGIO of a file
# owned by a host task or process group (F_SETOWN, F_SETOWN_EX, a negative
# F_SETOWN), with F_SETSIG choosing the signal (SIGKILL too). The owner is
# judged when it is set, by where the target is; the victim (a group of its
# own, so that a miss cannot hit the suite) must survive each refusal.
setsid sleep 600 &
SG=$!
for how in own ownex pgrp; do
	trip sigio-host-$how-enforce enforce priv-hostpid "egprobe sigio $how $SG 15" signal_host
	alive $SG && pass sigio-host-$how-victim-alive || {
		fail sigio-host-$how-victim-alive "host task died"; setsid sleep 600 & SG=$!; }
done
trip sigio-host-monitor monitor priv-hostpid "egprobe sigio own $SG 15" signal_host
sleep 0.3
alive $SG && fail sigio-host-works-unrefused "the host task survived in monitor mode" \
	|| pass sigio-host-works-unrefused
quiet sigio-own-lookalike priv-hostpid "setsid sleep 60 & p=\$!; egprobe sigio own \$p 28 && egprobe sigio ownex \$\$ 28 && egprobe sigio pgrp \$p 28; r=\$?; kill \$p; [ \$r = 0 ]"
# Moving a host task into a cgroup the container controls (its own, with
# the host's cgroup namespace: runc's default) puts it under the
# container's freezer, limits and cgroup.kill: judged as signal_host at the
# move, whichever cgroup file named it. The victim stays where it was.
HPCG=$(cat /proc/$HP/cgroup)
OWNCG='/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)'
trip cgroup-move-host-task-enforce enforce priv-hostpid "mount -o remount,rw /sys/fs/cgroup && echo $HP > $OWNCG/cgroup.procs" signal_host
[ "$(cat /proc/$HP/cgroup)" = "$HPCG" ] && pass cgroup-move-host-task-unmoved \
	|| fail cgroup-move-host-task-unmoved "$(cat /proc/$HP/cgroup)"
# (A victim of its own: moved, it is killed with the container by runc.)
sleep 600 &
MV=$!
trip cgroup-move-host-task-monitor monitor priv-hostpid "mount -o remount,rw /sys/fs/cgroup && echo $MV > $OWNCG/cgroup.procs" signal_host
kill $MV 2>/dev/null
quiet act-own-lookalike priv-hostpid "sleep 60 & p=\$!; egprobe act prlimit \$p && egprobe act nice \$p && egprobe act affinity \$p && egprobe act sched \$p && egprobe act ioprio \$p; r=\$?; kill \$p; [ \$r = 0 ]"
quiet act-read-limits-lookalike priv-hostpid "cat /proc/$HP/limits > /dev/null"
# (Without CAP_SYS_NICE the kernel may refuse some: only escguard's
# silence is tested.)
quiet act-host-tuning-lookalike priv-hostpid "egprobe act affinity $HP; egprobe act nice $HP; egprobe act sched $HP; egprobe act ioprio $HP; true"
kill $HP

# --- cgroup v2 files of groups not the container's ---------------------------
# Judged by where the group is: outside the container's own cgroup (the one
# its runtime put it in) it is the host's or another container's, and its
# cgroup.kill, cgroup.freeze, limits and cgroup.procs act on their tasks.
# runc's default gives no cgroup namespace, so a privileged container's own
# cgroup2 mount shows the whole hierarchy.
mkdir -p /sys/fs/cgroup/egvictim
sleep 600 &
VP=$!
echo $VP > /sys/fs/cgroup/egvictim/cgroup.procs
# (runc mounts it read-only; a privileged container remounts it.)
CGMNT='mount -o remount,rw /sys/fs/cgroup'
trip host-cgroup-kill-enforce enforce priv "$CGMNT && echo 1 > /sys/fs/cgroup/egvictim/cgroup.kill" host_cgroup
alive $VP && pass host-cgroup-kill-victim-alive || { fail host-cgroup-kill-victim-alive "host task died"; sleep 600 & VP=$!; echo $VP > /sys/fs/cgroup/egvictim/cgroup.procs; }
trip host-cgroup-freeze-enforce enforce priv "$CGMNT && echo 1 > /sys/fs/cgroup/egvictim/cgroup.freeze" host_cgroup
grep -q '^frozen 0' /sys/fs/cgroup/egvictim/cgroup.events && pass host-cgroup-freeze-victim-running \
	|| { fail host-cgroup-freeze-victim-running "$(cat /sys/fs/cgroup/egvictim/cgroup.events)"; echo 0 > /sys/fs/cgroup/egvictim/cgroup.freeze; }
# A read-only host-root volume (-v /:/host:ro) copies the host's cgroup2
# mount in with it, writable (a read-only bind is not recursive): a copy
# of the host's /sys, not a hierarchy the runtime delegated.
trip host-cgroup-hostroot-submount-enforce enforce hostroot "echo 1 > /host/sys/fs/cgroup/egvictim/cgroup.kill" host_cgroup
alive $VP && pass host-cgroup-hostroot-submount-victim-alive || { fail host-cgroup-hostroot-submount-victim-alive "host task died"; sleep 600 & VP=$!; echo $VP > /sys/fs/cgroup/egvictim/cgroup.procs; }
# Through a second mount of the hierarchy: the same object.
trip host-cgroup-second-mount-enforce enforce priv "mkdir /dev/cg && mount -t cgroup2 none /dev/cg && echo 1 > /dev/cg/egvictim/cgroup.kill" host_cgroup
trip host-cgroup-root-enforce enforce priv "$CGMNT && echo +pids > /sys/fs/cgroup/cgroup.subtree_control" host_cgroup
trip host-cgroup-monitor monitor priv "$CGMNT && echo max > /sys/fs/cgroup/egvictim/cgroup.max.depth" host_cgroup
# The container's own cgroup and groups it makes below it are its own (a
# nested runtime's, systemd's); reading any group is fine; the host is not
# judged.
quiet own-cgroup-lookalike priv "$CGMNT && cg=$OWNCG && mkdir \$cg/sub && { sleep 60 & p=\$!; echo \$p > \$cg/sub/cgroup.procs && echo 1 > \$cg/sub/cgroup.freeze && echo 0 > \$cg/sub/cgroup.freeze && echo 1 > \$cg/sub/cgroup.kill; sleep 1; rmdir \$cg/sub || true; }"
# A task born in a host group (clone3 with CLONE_INTO_CGROUP and a
# directory descriptor of the group): no write-open shows it, and an
# unprivileged default container can do it through its read-only mount.
trip clone-into-host-cgroup-enforce enforce "" "egprobe cgexec /sys/fs/cgroup/egvictim 'sleep 5'" host_cgroup
[ "$(wc -l < /sys/fs/cgroup/egvictim/cgroup.procs)" = 1 ] && pass clone-into-host-cgroup-unborn \
	|| fail clone-into-host-cgroup-unborn "$(cat /sys/fs/cgroup/egvictim/cgroup.procs | tr '\n' ' ')"
# (The technique itself works: with the preset off, the child is born there.)
rule disable host_cgroup
out=$(run_container clone-into-disabled "egprobe cgexec /sys/fs/cgroup/egvictim 'cat /proc/self/cgroup'" 2>&1)
echo "$out" | grep -q '^0::/egvictim$' && pass clone-into-host-cgroup-works-when-disabled \
	|| fail clone-into-host-cgroup-works-when-disabled "$(echo "$out" | tr '\n' ' ')"
rule enable host_cgroup
trip clone-into-host-cgroup-monitor monitor "" "egprobe cgexec /sys/fs/cgroup/egvictim true | grep -q 'status 0'" host_cgroup
quiet clone-into-own-cgroup-lookalike priv "$CGMNT && cg=$OWNCG && mkdir \$cg/sub2 && egprobe cgexec \$cg/sub2 true | grep -q 'status 0' && rmdir \$cg/sub2"
quiet read-host-cgroup-lookalike priv "cat /sys/fs/cgroup/egvictim/cgroup.procs /sys/fs/cgroup/egvictim/cgroup.events > /dev/null"
host_quiet host-cgroup-host "echo max > /sys/fs/cgroup/egvictim/cgroup.max.depth"
# A task that enters a container from the host's root group (nsenter by an
# admin) settles there: the hierarchy's root is no container's own group.
make_bundle cgenter 'sleep 60' priv && { runc run --bundle /run/bundles/cgenter cgenter > /dev/null 2>&1 & }
sleep 2
CP=$(runc state cgenter 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
escguardctl mode enforce; drain_events
# (Programs by their path in the container: the guest's busybox nsenter
# runs sh in-process, and its applets would re-exec the host's busybox
# through /proc/self/exe, itself refused as a host object.)
out=$(nsenter -t "$CP" -m -p -u -i -n sh -c '/bin/mount -o remount,rw /sys/fs/cgroup; echo 1 > /sys/fs/cgroup/egvictim/cgroup.kill; echo rc=$?' 2>&1); rc=$?
ev=$(events_json); show_ev "$ev"
if [ $rc = 137 ] && echo "$ev" | grep -q '"rule":"host_cgroup"' && alive $VP; then
	pass host-cgroup-entered-from-root-enforce
else
	fail host-cgroup-entered-from-root-enforce "rc=$rc out=$(echo "$out" | tr '\n' ' ') victim=$(alive $VP && echo alive)"
	alive $VP || { sleep 600 & VP=$!; }
fi
runc kill cgenter KILL 2>/dev/null; sleep 0.3; runc delete -f cgenter 2>/dev/null
kill $VP; sleep 1; rmdir /sys/fs/cgroup/egvictim

# The runtime's socket, handed to a container in a volume (the host's /run
# at /hostrun), matched on the path the runtime bound it to.
mkdir -p /run/containerd
egprobe listen /run/containerd/containerd.sock > /dev/null &
L1=$!
egprobe listen /run/other.sock > /dev/null &
L2=$!
sleep 1
trip runtime-socket-enforce enforce hostrun "egprobe connect /hostrun/containerd/containerd.sock" runtime_socket
trip runtime-socket-monitor monitor hostrun "egprobe connect /hostrun/containerd/containerd.sock" runtime_socket
quiet other-socket-lookalike hostrun "egprobe connect /hostrun/other.sock"
host_quiet runtime-socket-host "egprobe connect /run/containerd/containerd.sock"

# --- Switching rules ----------------------------------------------------------
rule disable runtime_socket
quiet runtime-socket-disabled hostrun "egprobe connect /hostrun/containerd/containerd.sock"
escguardctl rules list --json | grep '"runtime_socket"' | grep -q '"enabled":false' && pass rules-list-shows-disabled || fail rules-list-shows-disabled
rule enable runtime_socket
trip runtime-socket-reenabled enforce hostrun "egprobe connect /hostrun/containerd/containerd.sock" runtime_socket
kill $L1 $L2
escguardctl rules disable no_such_rule > /dev/null 2> /tmp/err; rc=$?
[ $rc != 0 ] && grep -q no_such_rule /tmp/err && pass rules-unknown-name-error || fail rules-unknown-name-error "rc=$rc $(cat /tmp/err)"

# --- The escape verdict at file open -----------------------------------------
# The shell itself escapes (kernel-exploit payload writing its nsproxy,
# creds and root directly: no function a hook sees) and reads a host file
# with a builtin: no fork, no exec. The open is refused, the shell killed.
escguardctl mode enforce
drain_events
out=$(run_container open-escape "sh -c 'echo raw > /proc/escguard_test_payload; read l < /host-marker; echo got \$l'; echo rc=\$?" 2>&1)
ev=$(events_json)
show_ev "$ev"
if echo "$out" | grep -q 'host-only marker'; then fail escape-at-open "marker was read"
elif ! echo "$out" | grep -q rc=137; then fail escape-at-open "not killed: $out"
elif ! echo "$ev" | grep -q '"hook":"open".*"reason":"namespace-escape"\|"reason":"namespace-escape".*"hook":"open"'; then fail escape-at-open "no open-hook escape event"
else pass escape-at-open; fi

# The same for a task whose open verdict is cached (escguard's lock-free
# verdict cache): each first opens a file 8 times, then changes one thing
# the verdict depends on, then opens again. Every change must be caught
# before that open returns anything: at the change itself where a hook sees
# it (a namespace switch, a /proc link of a host task), else at the open,
# which must miss the cache; and the warm-up opens must have come from the
# cache (else this tests nothing). REASON is an ERE alternation.
open_cached() { escguardctl status --json | sed 's/.*"open_cached":\([0-9]*\).*/\1/'; }
cached_escape() { # NAME VARIANT 'command' REASON
	escguardctl mode enforce
	drain_events
	c0=$(open_cached)
	out=$(run_container "$1" "( $3 ); echo rc=\$?" "$2" 2>&1)
	c1=$(open_cached)
	ev=$(events_json)
	show_ev "$ev"
	if echo "$out" | grep -q '^ok\|got\|warm-up'; then fail "$1" "the open after the change worked: $(echo "$out" | tr '\n' ' ')"
	elif ! echo "$out" | grep -q rc=137; then fail "$1" "not killed: $(echo "$out" | tr '\n' ' ')"
	elif ! echo "$ev" | grep -Eq "\"reason\":\"($4)\""; then fail "$1" "no $4 event"
	elif [ $((c1 - c0)) -lt 7 ]; then fail "$1" "warm-up opens not cached ($((c1 - c0)))"
	else pass "$1"; fi
}
WARM='for i in 1 2 3 4 5 6 7 8; do read l < /etc/passwd; done'
# A kernel exploit's payload writes the nsproxy pointer only (no hooked
# function: caught at the open, a cache miss), or root and cwd only.
cached_escape cached-escape-payload-ns "" "sh -c '$WARM; echo rawns > /proc/escguard_test_payload; read l < /etc/passwd; echo got'" namespace-escape
cached_escape cached-escape-payload-fs "" "sh -c '$WARM; echo fs > /proc/escguard_test_payload; read l < /host-marker; echo got \$l'" root-escape
# A privileged container with the host's pid namespace: setns(2) into the
# host's mount namespace; chdir into the host's root, by the task itself or
# by a second thread sharing its fs_struct.
cached_escape cached-escape-setns priv-hostpid "egprobe setns-open /proc/1/ns/mnt /etc/passwd" namespace-escape
cached_escape cached-escape-chdir priv-hostpid "egprobe chdir-open /proc/1/root etc/passwd" "root-escape|host-object"
cached_escape cached-escape-chdir-thread priv-hostpid "egprobe chdir-open /proc/1/root etc/passwd thread" "root-escape|host-object"
# Look-alikes: a private mount namespace and a chdir within the container
# change the key too; the full verdict then finds nothing.
quiet cached-unshare-lookalike priv "egprobe unshare-open /etc/passwd"
quiet cached-chdir-lookalike "" "egprobe chdir-open / etc/passwd thread"

# --- Usermode-helper escapes ---------------------------------------------------
# With the write rules off, the container plants a payload on a tmpfs of its
# own and has the kernel run it in host context. The helper is killed
# before its first instruction: the payload never writes its mark.
PAYLOAD='mkdir -p /dev/shm/x && mount -t tmpfs tmpfs /dev/shm/x && printf "#!/bin/sh\necho pwned > /run/pwned\n" > /dev/shm/x/payload && chmod +x /dev/shm/x/payload'
umh() { # NAME MODE 'trigger'
	escguardctl mode "$2"
	rm -f /run/pwned
	drain_events
	h0=$(escguardctl status --json | sed 's/.*"rule_hits":\([0-9]*\).*/\1/')
	# The container stays a while: the helper reaches the payload through it.
	run_container "$1" "$PAYLOAD && $3; sleep 3; echo rc=\$?" priv-hostpid > /tmp/umh.out 2>&1
	# The kernel runs the helper asynchronously.
	i=0; while [ $i -lt 5 ] && [ ! -e /run/pwned ] && [ "$(escguardctl status --json | sed 's/.*"rule_hits":\([0-9]*\).*/\1/')" = "$h0" ]; do sleep 1; i=$((i + 1)); done
	sleep 1
	ev=$(events_json)
	show_ev "$ev"
	n=$(echo "$ev" | grep -c '"rule":"usermode_helper"')
	if [ "$2" = enforce ]; then
		if [ -e /run/pwned ]; then fail "$1" "payload ran on the host"
		elif [ "$n" != 1 ] || ! echo "$ev" | grep '"rule":"usermode_helper"' | grep -q '"action":"killed"'; then fail "$1" "no killed usermode_helper event ($n)"
		elif ! echo "$ev" | grep '"rule":"usermode_helper"' | grep -q '"origin"'; then fail "$1" "planting container not named"
		else pass "$1"; fi
	else
		[ -e /run/pwned ] && [ "$n" = 1 ] && pass "$1" || fail "$1" "payload ran: $([ -e /run/pwned ] && echo yes || echo no), events $n: $(tr '\n' ' ' < /tmp/umh.out)"
	fi
}
rule disable sensitive_mount
rule disable release_agent
RA='mkdir -p /dev/shm/y && mount -t cgroup -o none,name=eg cgroup /dev/shm/y && mkdir -p /dev/shm/y/c && echo 1 > /dev/shm/y/c/notify_on_release && echo /proc/$$/root/dev/shm/x/payload > /dev/shm/y/release_agent && sh -c "echo \$\$ > /dev/shm/y/c/cgroup.procs; true"'
umh release-agent-escape-monitor monitor "$RA"
umh release-agent-escape-enforce enforce "$RA"
rmdir /run/cg1/c 2>/dev/null
echo > /run/cg1/release_agent
rule enable release_agent
rule enable sensitive_mount
rule disable core_pattern
CPE="sh -c \"echo '|/proc/%P/root/dev/shm/x/payload' > /proc/sys/kernel/core_pattern\" && sh -c 'kill -SEGV \$\$'"
umh core-pattern-escape-monitor monitor "$CPE"
umh core-pattern-escape-enforce enforce "$CPE"
echo "$CP0" > /proc/sys/kernel/core_pattern
rule enable core_pattern
# The same two escapes with every rule on are stopped at their first step.
trip release-agent-escape-defaults enforce priv-hostpid "$PAYLOAD && $RA" sensitive_mount
trip core-pattern-escape-defaults enforce priv-hostpid "$PAYLOAD && $CPE" core_pattern
[ "$(cat /proc/sys/kernel/core_pattern)" = "$CP0" ] && pass core-pattern-restored || fail core-pattern-restored
umount /run/cg1

# --- Policy ---------------------------------------------------------------------
cat > /tmp/pol.json <<'EOF'
{
  "version": 1,
  "name": "rules-suite",
  "runtime_sockets": ["/run/containerd/containerd.sock", "/run/docker.sock"],
  "rules": [
    {"name": "no-passwd-read", "type": "file", "path": "/etc/passwd", "match": "exact", "access": ["read"]},
    {"name": "no-shm-m", "type": "mount", "target": "/dev/shm/m", "match": "prefix"},
    {"name": "no-ramfs", "type": "mount", "fstype": "ramfs"}
  ]
}
EOF
ok policy-load escguardctl policy load /tmp/pol.json
trip policy-file-enforce enforce '' "cat /etc/passwd > /dev/null" no-passwd-read
trip policy-file-monitor monitor '' "cat /etc/passwd > /dev/null" no-passwd-read
quiet policy-file-lookalike '' "cat /etc/group > /dev/null && ls /etc > /dev/null"
host_quiet policy-file-host "cat /etc/passwd > /dev/null"
trip policy-mount-target-enforce enforce priv "mkdir -p /dev/shm/m/a && mount -t tmpfs tmpfs /dev/shm/m/a" no-shm-m
trip policy-mount-fstype-enforce enforce priv "mkdir -p /dev/shm/r && mount -t ramfs ramfs /dev/shm/r" no-ramfs
quiet policy-mount-lookalike priv "mkdir -p /dev/shm/mm && mount -t tmpfs tmpfs /dev/shm/mm"
rule disable no-passwd-read
quiet policy-rule-disabled '' "cat /etc/passwd > /dev/null"
rule enable no-passwd-read
escguardctl rules list --json | grep -q '"no-shm-m"' && pass rules-list-shows-policy-rules || fail rules-list-shows-policy-rules

escguardctl policy show --json > /tmp/show1.json && escguardctl policy load /tmp/show1.json > /dev/null \
	&& escguardctl policy show --json > /tmp/show2.json && cmp -s /tmp/show1.json /tmp/show2.json \
	&& grep -q no-ramfs /tmp/show1.json && pass policy-show-load-round-trip || fail policy-show-load-round-trip "$(cat /tmp/show1.json)"
escguardctl policy show | sed 's/^/    | /' | head -8

# Bad policy files: a precise error naming the field, nothing changes.
bad_policy() { # NAME 'json' FIELD
	printf '%s\n' "$2" > /tmp/bad.json
	escguardctl policy load /tmp/bad.json > /dev/null 2> /tmp/err; _rc=$?
	escguardctl policy show --json > /tmp/after.json
	echo "    | $(head -1 /tmp/err)"
	if [ $_rc = 0 ]; then fail "$1" "accepted"
	elif ! grep -q -- "$3" /tmp/err; then fail "$1" "error does not name $3: $(cat /tmp/err)"
	elif ! cmp -s /tmp/show1.json /tmp/after.json; then fail "$1" "active policy changed"
	else pass "$1"; fi
}
bad_policy policy-bad-syntax '{"version": 1, "rules": [' 'line'
bad_policy policy-bad-unknown-field '{"version": 1, "rules": [], "colour": "red"}' 'colour'
bad_policy policy-bad-access '{"version": 1, "rules": [{"name": "a", "type": "file", "path": "/x", "access": ["exec"]}]}' 'rules\[0\].access\[0\]'
bad_policy policy-bad-relative-path '{"version": 1, "rules": [{"name": "a", "type": "file", "path": "x/y", "access": ["read"]}]}' 'rules\[0\].path'
bad_policy policy-bad-duplicate '{"version": 1, "rules": [{"name": "a", "type": "file", "path": "/x", "access": ["read"]}, {"name": "a", "type": "file", "path": "/y", "access": ["read"]}]}' 'rules\[1\].name'
bad_policy policy-bad-version '{"version": 7, "rules": []}' 'version'
# The module validates on its own: hostile ioctls that bypass escguardctl.
out=$(egprobe badpolicy 2>&1); rc=$?
echo "$out" | grep -v '^ok ' | sed 's/^/    | /'
[ $rc = 0 ] && pass policy-kernel-validates || fail policy-kernel-validates "$(echo "$out" | grep FAIL | tr '\n' ' ')"

# --- Scoped rules and rule actions -------------------------------------------------
# A rule scoped to one container (by ID, as runc's cgroup /<id> names it) or
# to a cgroup subtree applies there only; a monitor-action rule reports and
# lets the call through even in enforce mode. (trip/quiet name each
# container after its test.)
cat > /tmp/pol2.json <<'EOF'
{
  "version": 2,
  "name": "scoped",
  "rules": [
    {"name": "scoped-passwd", "type": "file", "path": "/etc/passwd", "access": ["read"], "scope": {"container": "scope-in"}},
    {"name": "scoped-group", "type": "file", "path": "/etc/group", "access": ["read"], "scope": {"cgroup": "/scope-cg"}},
    {"name": "watch-trial", "type": "file", "path": "/dev/shm/trial", "access": ["read"], "action": "monitor"}
  ]
}
EOF
ok policy-load-scoped escguardctl policy load /tmp/pol2.json
trip scope-in enforce '' "cat /etc/passwd > /dev/null" scoped-passwd
quiet scope-other-container '' "cat /etc/passwd > /dev/null"
trip scope-cg enforce '' "cat /etc/group > /dev/null" scoped-group
# /scope-cg-sibling is not below /scope-cg: prefixes end at a component.
quiet scope-cg-sibling '' "cat /etc/group > /dev/null"
escguardctl mode enforce
drain_events
out=$(run_container rule-monitor-action "echo x > /dev/shm/trial && cat /dev/shm/trial > /dev/null; echo rc=\$?" 2>&1)
ev=$(events_json)
show_ev "$ev"
if echo "$out" | grep -q 'rc=0' && [ "$(ev_n "$ev")" = 1 ] && echo "$ev" | grep -q '"rule":"watch-trial"' \
	&& echo "$ev" | grep -q '"action":"logged"' && echo "$ev" | grep -q '"denied":false'; then
	pass rule-monitor-action-logs-lets-through
else
	fail rule-monitor-action-logs-lets-through "$(flat "$out")"
fi
escguardctl policy show | grep -q 'scope-in' && pass policy-show-names-scope || fail policy-show-names-scope "$(escguardctl policy show)"
escguardctl policy load /tmp/pol.json > /dev/null || fail policy-reload

# Text a container controls never reaches a terminal or a log line raw: a
# comm with a newline, an escape sequence and a bell prints escaped, on one
# line.
escguardctl mode monitor
drain_events
run_container comm-escape "printf 'evil\n\033[31mred\a' > /proc/self/comm; read x < /etc/passwd; echo rc=\$?" > /dev/null 2>&1
txt=$(escguardctl tail --after "$(cut -d' ' -f2 /tmp/.ev_mark)" --rule no-passwd-read)
echo "    | $txt" | cut -c1-300
esc=$(printf '\033'); bel=$(printf '\a')
if [ "$(printf '%s\n' "$txt" | wc -l)" = 1 ] && ! printf '%s' "$txt" | grep -q "$esc" \
	&& ! printf '%s' "$txt" | grep -q "$bel" && printf '%s' "$txt" | grep -qF 'comm=evil\n\x1b[31mred\x07'; then
	pass text-escapes-container-controlled
else
	fail text-escapes-container-controlled "$(printf '%s' "$txt" | od -c | head -5 | tr '\n' ' ')"
fi
escguardctl mode enforce

# --- Trivy-driven hardening -------------------------------------------------------
# Every derived rule is scoped to the workload the report is about.
for f in /tests/trivy/*.json; do
	case "$f" in *malformed*) continue ;; esac
	b=$(basename "$f" .json)
	if escguardctl policy from-trivy "$f" --container trivy-workload --output "/tmp/trivy-$b.json" > /tmp/trivy.out 2>&1 \
		&& escguardctl policy check "/tmp/trivy-$b.json" > /dev/null 2>&1 \
		&& [ "$(grep -c '"name": "tv-' "/tmp/trivy-$b.json")" = "$(grep -c '"container": "trivy-workload"' "/tmp/trivy-$b.json")" ]; then
		pass "trivy-$b-derives-valid-scoped-policy"
	else
		fail "trivy-$b-derives-valid-scoped-policy" "$(tail -3 /tmp/trivy.out | tr '\n' ' ')"
	fi
done
for f in /tests/trivy/*malformed*.json; do
	[ -e "$f" ] || continue
	escguardctl policy from-trivy "$f" --container trivy-workload --output /tmp/trivy-bad.json > /dev/null 2>&1 \
		&& fail trivy-malformed-rejected || pass trivy-malformed-rejected
done
# Unscoped, the import would kill ordinary containers (their own /proc/1):
# refused, saying why.
escguardctl policy from-trivy /tests/trivy/k8s-config.json --output /tmp/trivy-unscoped.json > /tmp/trivy.out 2>&1; rc=$?
[ $rc = 2 ] && grep -q '/proc/1' /tmp/trivy.out && [ ! -s /tmp/trivy-unscoped.json ] \
	&& pass trivy-unscoped-refused || fail trivy-unscoped-refused "rc=$rc $(head -3 /tmp/trivy.out | tr '\n' ' ')"
# End to end: a Kubernetes config scan with a privileged container derives
# "no writes under /proc/sys" for that workload, added to the active policy
# and enforced there only; another container's own /proc/1 and /dev/shm
# stay its own business.
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container trivy-rule-enforced --load --output /tmp/trivy-k8s.json > /tmp/trivy.out 2>&1 \
	&& escguardctl rules list --json | grep -q 'no-proc-sys-write"' \
	&& escguardctl rules list --json | grep -q '"no-passwd-read"' \
	&& pass trivy-policy-added || fail trivy-policy-added "$(tail -3 /tmp/trivy.out | tr '\n' ' ')"
head -12 /tmp/trivy.out | sed 's/^/    | /'
trip trivy-rule-enforced enforce priv "sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'" '[^"]*no-proc-sys-write'
quiet trivy-rule-lookalike priv "cat /proc/sys/net/ipv4/ip_forward > /dev/null"
quiet trivy-other-container-own-proc1 priv "cat /proc/1/status /proc/1/cmdline > /dev/null && ls /dev/shm > /dev/null && echo x > /dev/shm/own"
# Rule names carry the workload: a second workload's import adds its own
# rules beside the first's, and importing the same one again changes
# nothing.
n1=$(escguardctl rules list --json | grep -c 'no-proc-sys-write"')
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container other-workload --load > /tmp/trivy.out 2>&1; rc1=$?
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container other-workload --load > /dev/null 2>&1; rc2=$?
n2=$(escguardctl rules list --json | grep -c 'no-proc-sys-write"')
[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$n1" = 1 ] && [ "$n2" = 2 ] \
	&& pass trivy-workloads-coexist || fail trivy-workloads-coexist "rc $rc1/$rc2 rules $n1 -> $n2: $(tail -2 /tmp/trivy.out | tr '\n' ' ')"
# --load never silently replaces: an active rule of the same name that
# differs is a clash, refused with nothing changed; --replace takes it.
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container third-workload --output /tmp/third.json > /dev/null 2>&1
tname=$(sed -n 's/.*"name": "\([^"]*no-proc-sys-write\)".*/\1/p' /tmp/third.json | head -1)
printf '{"version": 2, "name": "mine", "rules": [{"name": "%s", "type": "file", "path": "/etc/mine", "access": ["read"]}]}\n' "$tname" > /tmp/mine.json
escguardctl policy load /tmp/mine.json > /dev/null || fail trivy-load-clash-setup
escguardctl policy show --json > /tmp/before-clash.json
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container third-workload --load > /tmp/trivy.out 2>&1; rc=$?
escguardctl policy show --json > /tmp/after-clash.json
[ -n "$tname" ] && [ $rc = 65 ] && grep -q "$tname" /tmp/trivy.out && cmp -s /tmp/before-clash.json /tmp/after-clash.json \
	&& pass trivy-load-clash-refused || fail trivy-load-clash-refused "name '$tname' rc=$rc $(tail -3 /tmp/trivy.out | tr '\n' ' ')"
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container third-workload --load --replace > /dev/null 2>&1 \
	&& escguardctl policy show --json | grep -q '"third-workload"' && ! escguardctl policy show --json | grep -q '"/etc/mine"' \
	&& pass trivy-load-replace || fail trivy-load-replace
escguardctl policy load /tmp/pol.json > /dev/null || fail policy-reload-after-trivy

drain_events
st=$(escguardctl status --json)
echo "    | $st" | cut -c1-400
escguardctl rules list | sed 's/^/    | /'

rmmod escguard_test_payload
ok rmmod-after-rules unload
