# Fifth red-team suite (a review by a helper given only the README and the
# code, 2026-12-04): each attack test was a FAIL against the code it
# reviewed; look-alikes fail on a false kill.
#   pidns-sandbox-*     a host process in a pid namespace of its own (systemd
#                       PrivatePIDs=, `unshare --pid --fork`, bwrap
#                       --unshare-pid), otherwise on the host (host root and
#                       mounts), settled as a "container": a privileged
#                       hostPID container could ptrace it (code injection on
#                       the host), change host files through its
#                       /proc/PID/root, read its environment and kill it
#   nsenter-pid-only-admin-inject  the same through an admin's
#                       `nsenter -t CTR -p` tool, from a container without
#                       hostPID
#   host-pidns-*        false kills of host work in a pid namespace of its
#                       own (a disk read, a module load, escguardctl)
#   *-rdtrunc           open(O_RDONLY|O_TRUNC) judged as a read: it empties
#                       a host file through a remounted read-only host-root
#                       volume, and a file a policy write rule protects
#   hostroot-ro-volume-* the host's other filesystems that a read-only
#                       host-root volume carries (/run, /tmp, /proc/sys)
#                       written by an unprivileged container
#   ro-volume-remount-* a read-only volume of a host directory remounted
#                       writable, then written and chmod'ed (the remount is
#                       refused now)
# Every *-refused test is a control that was stopped before (expected PASS).
. /tests/lib.sh
MARK='host-only marker'

insmod "$KO" || { fail redteam5-insmod; exit 0; }
escguardctl mode enforce


# sandbox TAG: start a host process in its own pid namespace (sleep 30TAG,
# with a secret in its environment); sets SP (its global pid) and SBG (the
# unshare parent).
sandbox() {
	EGSECRET="red-secret-$1" unshare -p -f sleep "30$1" < /dev/null > /dev/null 2>&1 &
	SBG=$!
	SP=; i=0
	while [ -z "$SP" ] && [ $i -lt 100 ]; do
		for c in /proc/[0-9]*; do
			[ "$(tr '\0' ' ' < "$c/cmdline" 2>/dev/null)" = "sleep 30$1 " ] && SP=${c#/proc/}
		done
		[ -n "$SP" ] || sleep 0.1
		i=$((i + 1))
	done
	echo "  sandbox $1: unshare $SBG, sandboxed pid $SP ($(readlink /proc/$SP/ns/pid) vs host $(readlink /proc/1/ns/pid))"
	escguardctl tasks 2>/dev/null | grep -w "$SP" | head -2 | sed 's/^/    tasks| /'
}
unsandbox() { kill "$SP" "$SBG" 2>/dev/null; wait "$SBG" 2>/dev/null; }

# 1. Code injection into a pid-namespaced host process: full escape.
sandbox 1
rm -f /egred-pwned
ctr rt5inject priv-hostpid "egprobe inject $SP 'cat /host-marker > /egred-pwned; id >> /egred-pwned; cat /proc/self/mountinfo | head -1 >> /egred-pwned'"
sleep 2
if [ "$KILLED" = yes ] && [ ! -e /egred-pwned ]; then pass pidns-sandbox-ptrace-inject
else fail pidns-sandbox-ptrace-inject "killed=$KILLED host file written by injected code: $(tr '\n' ' ' < /egred-pwned 2>/dev/null)"; fi
unsandbox

# 2. Metadata changes of host files through its /proc/PID/root.
sandbox 2
echo victim-data > /egred-victim; chmod 644 /egred-victim; rm -f /egred-link /egred-dev
VDA=$(cat /sys/block/vda/dev)
ctr rt5meta priv-hostpid "chmod 4755 /proc/$SP/root/egred-victim; egprobe truncate /proc/$SP/root/egred-victim 0; ln -s /etc/shadow /proc/$SP/root/egred-link; mknod /proc/$SP/root/egred-dev b ${VDA%%:*} ${VDA##*:}; ls -l /proc/$SP/root/egred-victim"
m=$(stat -c %a /egred-victim); sz=$(wc -c < /egred-victim)
echo "  host: /egred-victim mode $m size $sz; link: $(readlink /egred-link); dev: $(ls -l /egred-dev 2>&1)"
if [ "$KILLED" = yes ] && [ "$m" = 644 ] && [ "$sz" != 0 ] && [ ! -L /egred-link ] && [ ! -e /egred-dev ]; then pass pidns-sandbox-root-metadata
else fail pidns-sandbox-root-metadata "killed=$KILLED host file mode $m size $sz link=$(readlink /egred-link) dev=$([ -b /egred-dev ] && echo yes)"; fi
rm -f /egred-link /egred-dev

# 3. Its environment, and killing it.
ctr rt5env priv-hostpid "tr '\0' '\n' < /proc/$SP/environ | grep EGSECRET"
if [ "$KILLED" = yes ] && ! echo "$OUT" | grep -q red-secret; then pass pidns-sandbox-environ
else fail pidns-sandbox-environ "killed=$KILLED: $(flat "$OUT")"; fi
ctr rt5kill priv-hostpid "kill -9 $SP"
sleep 0.3
if alive "$SP"; then alive=yes; else alive=no; fi
if [ "$KILLED" = yes ] && [ $alive = yes ]; then pass pidns-sandbox-signal
else fail pidns-sandbox-signal "killed=$KILLED sandboxed host process alive=$alive"; fi
unsandbox

# 4. Control: reading a host file through it is refused (object check).
sandbox 4
ctr rt5read priv-hostpid "cat /proc/$SP/root/host-marker"
if [ "$KILLED" = yes ] && ! echo "$OUT" | grep -q "$MARK"; then pass pidns-sandbox-root-read-refused
else fail pidns-sandbox-root-read-refused "killed=$KILLED: $(flat "$OUT")"; fi
unsandbox

# 5. Read-only host-root volume, remounted writable: O_RDONLY|O_TRUNC.
echo important-host-data > /egred-trunc
ctr rt5trunc priv-hostroot "mount -o remount,bind,rw /host && egprobe rdtrunc /host/egred-trunc"
sz=$(wc -c < /egred-trunc)
if [ "$KILLED" = yes ] && [ "$sz" != 0 ]; then pass hostroot-ro-remount-rdtrunc
else fail hostroot-ro-remount-rdtrunc "killed=$KILLED host /egred-trunc now $sz bytes"; fi
# Control: the same file opened for writing is refused.
echo important-host-data > /egred-trunc
ctr rt5trunc2 priv-hostroot "mount -o remount,bind,rw /host && : > /host/egred-trunc"
sz=$(wc -c < /egred-trunc)
if [ "$KILLED" = yes ] && [ "$sz" != 0 ]; then pass hostroot-ro-remount-wronly-refused
else fail hostroot-ro-remount-wronly-refused "killed=$KILLED host /egred-trunc now $sz bytes"; fi
rm -f /egred-trunc

# 6. A policy write rule, evaded by O_RDONLY|O_TRUNC.
mkdir -p /egvol; echo conf-data > /egvol/egred-conf
printf '%s\n' '{"version": 1, "name": "rt5", "rules": [{"name": "no-conf-write", "type": "file", "path": "/vol/egred-conf", "match": "exact", "access": ["write"]}]}' > /tmp/rt5pol.json
escguardctl policy load /tmp/rt5pol.json > /dev/null || fail redteam5-policy-load
ctr rt5pol vol "egprobe rdtrunc /vol/egred-conf"
sz=$(wc -c < /egvol/egred-conf)
if [ "$KILLED" = yes ] && [ "$sz" != 0 ]; then pass policy-write-rule-rdtrunc
else fail policy-write-rule-rdtrunc "killed=$KILLED /vol/egred-conf now $sz bytes, events $(ev_n "$EV")"; fi
echo conf-data > /egvol/egred-conf
ctr rt5pol2 vol "echo x > /vol/egred-conf"
if [ "$KILLED" = yes ] && [ "$(cat /egvol/egred-conf)" = conf-data ]; then pass policy-write-rule-wronly-refused
else fail policy-write-rule-wronly-refused "killed=$KILLED: $(cat /egvol/egred-conf)"; fi
printf '%s\n' '{"version": 1, "name": "rt5-empty", "rules": []}' > /tmp/rt5pol.json
escguardctl policy load /tmp/rt5pol.json > /dev/null || fail redteam5-policy-reset
rm -f /egvol/egred-conf

# 7. False kills of host work run in a pid namespace of its own (systemd
# PrivatePIDs=, unshare --pid --fork): a disk image/backup read, a module load.
drain_events; _k0=$(kills)
out=$(unshare -p -f dd if=/dev/vda of=/dev/null bs=512 count=1 2>&1); rc=$?
EV=$(events_json); show_ev "$EV"
if [ $rc = 0 ] && [ "$(kills)" = "$_k0" ]; then pass host-pidns-disk-read-lookalike
else fail host-pidns-disk-read-lookalike "rc=$rc kills $_k0 -> $(kills): $(flat "$out")"; fi
drain_events; _k0=$(kills)
out=$(unshare -p -f egprobe finitmod 2>&1); rc=$?
EV=$(events_json); show_ev "$EV"
if [ $rc != 137 ] && [ "$(kills)" = "$_k0" ]; then pass host-pidns-module-load-lookalike
else fail host-pidns-module-load-lookalike "rc=$rc kills $_k0 -> $(kills): $(flat "$out")"; fi

# 8. False kill: the operator's own event writer or status check run in a
# pid namespace of its own (hardening a unit with PrivatePIDs=).
drain_events; _k0=$(kills)
out=$(unshare -p -f escguardctl status 2>&1); rc=$?
EV=$(events_json); show_ev "$EV"
if [ $rc = 0 ] && [ "$(kills)" = "$_k0" ]; then pass host-pidns-escguardctl-lookalike
else fail host-pidns-escguardctl-lookalike "rc=$rc kills $_k0 -> $(kills): $(flat "$out")"; fi

# 9. A privileged container WITHOUT hostPID escapes through an admin's
# `nsenter -t <container pid> -p` (host tools, e.g. ps/strace, run in the
# container's pid namespace; mounts, root and network stay the host's).
rm -f /egred-pwned2
ADM='i=0; while [ $i -lt 600 ]; do for p in /proc/[0-9]*; do if [ "$(tr "\0" " " < $p/cmdline 2>/dev/null)" = "sleep 3077 " ]; then echo found ${p#/proc/} >&2; egprobe inject ${p#/proc/} "cat /host-marker > /egred-pwned2; id >> /egred-pwned2" >&2; sleep 5; exit 0; fi; done; sleep 0.2; i=$((i+1)); done'
escguardctl mode enforce; drain_events; _k0=$(kills)
make_bundle rt5adm "$ADM" priv
runc run --bundle /run/bundles/rt5adm rt5adm > /tmp/rt5adm.out 2>&1 < /dev/null &
RP=$!
CP=; i=0
while [ -z "$CP" ] && [ $i -lt 100 ]; do
	runc state rt5adm 2>/dev/null | grep -q '"status": "running"' && CP=$(runc state rt5adm | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	[ -n "$CP" ] || sleep 0.1; i=$((i + 1))
done
sleep 0.5
nsenter -t "$CP" -p sleep 3077 > /tmp/rt5ns.out 2>&1 < /dev/null &
NP=$!
i=0; while [ ! -s /egred-pwned2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
for c in /proc/[0-9]*; do case "$(tr '\0' ' ' < $c/cmdline 2>/dev/null)" in *3077*) echo "  [rt5adm] $c: $(tr '\0' ' ' < $c/cmdline) $(grep -E '^(State|TracerPid|NSpid)' $c/status | tr '\n\t' '  ')";; esac; done
EV=$(events_json); show_ev "$EV"
echo "  [rt5adm] container pid $CP ($(tr "\0" " " < /proc/$CP/cmdline 2>/dev/null)), nsenter $NP: $(flat "$(cat /tmp/rt5ns.out)"), output: $(flat "$(cat /tmp/rt5adm.out)"), kills $_k0 -> $(kills)"
if [ ! -e /egred-pwned2 ] && [ "$(kills)" != "$_k0" ]; then pass nsenter-pid-only-admin-inject
else fail nsenter-pid-only-admin-inject "kills $_k0 -> $(kills), host file by injected code: $(tr '\n' ' ' < /egred-pwned2 2>/dev/null)"; fi
kill "$NP" 2>/dev/null; runc kill rt5adm KILL 2>/dev/null; wait "$RP" 2>/dev/null; runc delete -f rt5adm 2>/dev/null
rm -f /egred-pwned2

# 10. Controls (unprivileged, -v /:/host:ro): core_pattern through the host's
# procfs under the volume, and a signal to a host task through it.
CP0=$(cat /proc/sys/kernel/core_pattern)
ctr rt5core hostroot "echo '|/bin/sh -c id' > /host/proc/sys/kernel/core_pattern; echo done"
if [ "$KILLED" = yes ] && [ "$(cat /proc/sys/kernel/core_pattern)" = "$CP0" ]; then pass hostroot-core-pattern-refused
else fail hostroot-core-pattern-refused "killed=$KILLED core_pattern $(cat /proc/sys/kernel/core_pattern)"; echo "$CP0" > /proc/sys/kernel/core_pattern; fi
sleep 300 & HS=$!
ctr rt5sig hostroot "egprobe sigpath /host/proc/$HS 9"
if alive $HS && [ "$KILLED" = yes ]; then pass hostroot-procfd-signal-refused
else fail hostroot-procfd-signal-refused "killed=$KILLED host sleep alive=$(alive $HS && echo yes || echo no)"; fi
kill $HS 2>/dev/null; wait $HS 2>/dev/null

# 11. A read-only volume of a host directory (here /etc), remounted
# writable by a privileged container: host files written, chmod'ed (no
# open), nothing judged before. The remount itself is refused now: judge the
# transition, not only the writes after it. Its own read-only root may be
# made writable (its own files).
rm -f /etc/egred-etcfile
ctr_sed rt5roetc priv-hostroot 's|"source": "/",|"source": "/etc",|' "mount -o remount,bind,rw /host && echo '* * * * * root /bin/sh -c id' > /host/egred-etcfile && echo wrote"
if [ "$KILLED" = yes ] && [ ! -s /etc/egred-etcfile ] && echo "$EV" | grep -q '"hook":"mount","reason":"host-object"'; then pass ro-volume-remount-write
else fail ro-volume-remount-write "killed=$KILLED host /etc/egred-etcfile: $(cat /etc/egred-etcfile 2>&1)"; fi
rm -f /etc/egred-etcfile
P0=$(stat -c %a /etc/passwd)
ctr_sed rt5roetc2 priv-hostroot 's|"source": "/",|"source": "/etc",|' "mount -o remount,bind,rw /host && chmod 4777 /host/passwd && echo chmodded"
if [ "$KILLED" = yes ] && [ "$(stat -c %a /etc/passwd)" = "$P0" ]; then pass ro-volume-remount-chmod
else fail ro-volume-remount-chmod "killed=$KILLED /etc/passwd mode $(stat -c %a /etc/passwd)"; chmod "$P0" /etc/passwd; fi
ctr rt5ownro priv "mount -o remount,rw / && mount -o remount,ro / && echo own-ok"
if echo "$OUT" | grep -q own-ok; then ctr_quiet own-readonly-root-remount-lookalike
else fail own-readonly-root-remount-lookalike "$(flat "$OUT")"; fi

# 12. A read-only host-root volume (-v /:/host:ro, unprivileged): runc 1.1's
# recursive bind keeps the host's other filesystems under it writable (its
# ro is not recursive): host /run (runtimes' state, udev/systemd runtime
# config), /tmp, and host-wide sysctls through the host's procfs. Writes
# through them are refused: read-only all the way down (an O_CREAT open
# refused at security_file_open leaves an empty file: nothing is written).
rm -f /run/egred-planted /tmp/egred-planted
ctr rt5sub hostroot "ls /host/run > /dev/null; echo planted > /host/run/egred-planted; echo planted > /host/tmp/egred-planted; echo done"
if [ -s /run/egred-planted ] || [ -s /tmp/egred-planted ] || [ "$KILLED" != yes ]; then
	fail hostroot-ro-volume-writable-submounts "killed=$KILLED host /run/egred-planted: $(cat /run/egred-planted 2>&1), /tmp/egred-planted: $(cat /tmp/egred-planted 2>&1)"
else pass hostroot-ro-volume-writable-submounts; fi
rm -f /run/egred-planted /tmp/egred-planted
R0=$(cat /proc/sys/kernel/randomize_va_space); S0=$(cat /proc/sys/fs/protected_symlinks)
ctr rt5sysctl hostroot "echo 0 > /host/proc/sys/kernel/randomize_va_space; echo 0 > /host/proc/sys/fs/protected_symlinks; echo done"
R1=$(cat /proc/sys/kernel/randomize_va_space); S1=$(cat /proc/sys/fs/protected_symlinks)
echo "$R0" > /proc/sys/kernel/randomize_va_space; echo "$S0" > /proc/sys/fs/protected_symlinks
if [ "$R1" = "$R0" ] && [ "$S1" = "$S0" ] && [ "$KILLED" = yes ]; then pass hostroot-ro-volume-host-sysctl
else fail hostroot-ro-volume-host-sysctl "killed=$KILLED host randomize_va_space $R0 -> $R1, protected_symlinks $S0 -> $S1"; fi
# Look-alike: a node agent reading the host through the volume and writing
# its own tmpfs.
ctr rt5agent hostroot "ls /host/run > /dev/null && cat /host/proc/1/status > /dev/null && cat /host/sys/kernel/mm/transparent_hugepage/enabled > /dev/null; echo x > /dev/shm/own && echo agent-ok"
if echo "$OUT" | grep -q agent-ok; then ctr_quiet hostroot-ro-volume-agent-lookalike
else fail hostroot-ro-volume-agent-lookalike "$(flat "$OUT")"; fi

escguardctl unlock && rmmod escguard || fail redteam5-rmmod
