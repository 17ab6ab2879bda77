# Seventh red-team suite (2026-12-04, night): read-only mounts of the host's
# filesystems made writable without a remount. Each attack test was a FAIL
# against the code before (reproduced in the guest first):
#   setattr-*           mount_setattr(2) clearing MOUNT_ATTR_RDONLY (no LSM
#                       hook, inlined into the syscall in 6.12) on a
#                       read-only host-root volume, on a bind of a
#                       directory below it, on an open_tree() copy of it,
#                       or on a read-only volume of a host directory: host
#                       files written and chmod'ed
#   carried-run-mkdir-* a directory made in the host's /run (carried,
#                       writable, below a read-only host-root volume):
#                       non-open writes were not judged
# and, found by a helper given only the README and the code:
#   tty-inject-host-shell    a privileged container mknods a host virtual
#                            console and TIOCSTIs a command into the host
#                            root shell that reads it: host code execution
#   tty-hangup-host-session  the same device, TIOCVHANGUP: SIGHUP to the
#                            host session on it (no signal syscall)
#   untracked-kthread-root-metadata  with the table at its cap, a kernel
#                            thread the table could not hold was "not
#                            host" to the /proc link check, and its
#                            /proc/PID/root is the host's /
#   xctr-hostroot-volume-metadata  a privileged hostPID container changed
#                            host files (chmod, truncate, symlink) through
#                            another container's writable host-root volume
# Every *-lookalike must stay silent (rc=0, no event, nothing killed).
. /tests/lib.sh
insmod "$KO" || { fail redteam7-insmod; exit 0; }
escguardctl mode enforce

rm -f /etc/egsa-*; P0=$(stat -c %a /etc/passwd)
# A. the ro host-root volume made writable: non-open writes.
ctr sa1 priv-hostroot "egprobe setattr-rw /host; chmod 4777 /host/etc/passwd; mkdir /host/etc/egsa-dir; echo done"
if [ "$(stat -c %a /etc/passwd)" = "$P0" ] && [ ! -d /etc/egsa-dir ]; then pass setattr-hostroot-metadata
else fail setattr-hostroot-metadata "killed=$KILLED passwd $(stat -c %a /etc/passwd) dir=$([ -d /etc/egsa-dir ] && echo yes)"; chmod "$P0" /etc/passwd; fi
rm -rf /etc/egsa-dir
# B. a bind of a subdirectory of it, made writable: opens too.
ctr sa2 priv-hostroot "mount -t tmpfs t /tmp && mkdir -p /tmp/x && mount --bind /host/etc /tmp/x && egprobe setattr-rw /tmp/x && echo evil > /tmp/x/egsa-bind; echo done"
if [ ! -s /etc/egsa-bind ]; then pass setattr-hostroot-bind-write
else fail setattr-hostroot-bind-write "killed=$KILLED host /etc/egsa-bind: $(cat /etc/egsa-bind)"; fi
# C. a detached copy (open_tree) of the volume's /etc made writable.
ctr sa3 priv-hostroot "egprobe setattr-rw /host/etc tree; echo done"
if [ ! -s /etc/egsa-tree ]; then pass setattr-hostroot-tree-write
else fail setattr-hostroot-tree-write "killed=$KILLED host /etc/egsa-tree: $(cat /etc/egsa-tree)"; fi
# D. a ro volume of a host directory (/etc).
ctr_sed sa4 priv-hostroot 's|"source": "/",|"source": "/etc",|' "egprobe setattr-rw /host && echo evil > /host/egsa-etc; chmod 4777 /host/passwd; echo done"
if [ ! -s /etc/egsa-etc ] && [ "$(stat -c %a /etc/passwd)" = "$P0" ]; then pass setattr-rovolume-write
else fail setattr-rovolume-write "killed=$KILLED host /etc/egsa-etc: $(cat /etc/egsa-etc 2>&1) passwd $(stat -c %a /etc/passwd)"; chmod "$P0" /etc/passwd; fi
# D2. an overlay whose upper layer is in it: overlayfs writes through a
# private copy of the mount, in no namespace.
rm -rf /egsa-up /egsa-wk; mkdir -p /egsa-up /egsa-wk
ctr sa4o priv-hostroot "egprobe setattr-rw /host && mount -t tmpfs t /tmp && mkdir /tmp/l /tmp/m && mount -t overlay o -o lowerdir=/tmp/l,upperdir=/host/egsa-up,workdir=/host/egsa-wk /tmp/m && echo evil > /tmp/m/egsa-ovl; echo done"
if [ ! -e /egsa-up/egsa-ovl ]; then pass setattr-hostroot-overlay-upper
else fail setattr-hostroot-overlay-upper "killed=$KILLED host /egsa-up/egsa-ovl: $(cat /egsa-up/egsa-ovl)"; fi
rm -rf /egsa-up /egsa-wk
ctr sa4l priv-hostroot "mount -t tmpfs t /tmp && mkdir /tmp/u /tmp/w /tmp/m && mount -t overlay o -o lowerdir=/host/etc,upperdir=/tmp/u,workdir=/tmp/w /tmp/m && echo x > /tmp/m/egsa-l && grep -q root /tmp/m/passwd"
ctr_quiet overlay-lower-hostroot-lookalike
# E. the host's /run carried below the ro host-root volume: non-open writes.
rm -rf /run/egsa-dir
ctr sa5 priv-hostroot "mkdir /host/run/egsa-dir; echo done"
if [ ! -d /run/egsa-dir ]; then pass carried-run-mkdir
else fail carried-run-mkdir "killed=$KILLED host /run/egsa-dir made"; fi
rm -rf /run/egsa-dir
ctr sa5u hostroot "mkdir /host/run/egsa-dir; echo done"
if [ ! -d /run/egsa-dir ]; then pass carried-run-mkdir-unprivileged
else fail carried-run-mkdir-unprivileged "killed=$KILLED host /run/egsa-dir made"; fi
rm -rf /run/egsa-dir /etc/egsa-*
# Look-alikes: a rw volume, the container's own tmpfs made rw again.
mkdir -p /egvol
ctr sa6 vol "echo ok > /vol/egsa-vol && mkdir -p /vol/d && chmod 700 /vol/d && rm -rf /vol/d /vol/egsa-vol"
ctr_quiet setattr-rw-volume-lookalike
ctr sa7 priv-hostroot "mount -t tmpfs t /tmp && mkdir -p /tmp/s /tmp/t && mount --bind /tmp/s /tmp/t && mount -o remount,bind,ro /tmp/t && egprobe setattr-rw /tmp/t && echo x > /tmp/t/f && mkdir /tmp/t/d && cat /tmp/t/f"
ctr_quiet setattr-own-tmpfs-lookalike
VOLSED='s|"destination": "/host",|"destination": "/vol", "type": "bind", "source": "/egvol", "options": ["rbind", "rw"]}, {"destination": "/host",|'
ctr_sed sa8 priv-hostroot "$VOLSED" "echo ok > /vol/f && mkdir /vol/d && chmod 700 /vol/d && mv /vol/f /vol/d/ && mount -t tmpfs t /tmp && mkdir /tmp/b && mount --bind /vol /tmp/b && egprobe setattr-rw /tmp/b && echo x > /tmp/b/g && rm -rf /tmp/b/g /vol/d && cat /host/etc/passwd >/dev/null"
ctr_quiet setattr-hostroot-rw-volume-lookalike
# A write the read-only volume refuses itself (mkdir -p of directories
# that exist, touch of a host file): the kernel's EEXIST/EROFS, no kill.
ctr sa10 priv-hostroot "mkdir -p /host/etc /host/run; touch /host/etc/passwd 2>&1 | grep -q 'Read-only' && echo erofs"
if echo "$OUT" | grep -q 'erofs' && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then pass ro-volume-write-attempt-lookalike
else fail ro-volume-write-attempt-lookalike "killed=$KILLED events=$(ev_n "$EV"): $(flat "$OUT")"; fi
ctr sa9 hostroot "echo x > /dev/shm/f && mkdir /dev/shm/d && rm -rf /dev/shm/f /dev/shm/d && cat /host/etc/passwd >/dev/null"
ctr_quiet hostroot-own-shm-lookalike

# ---------------------------------------------------------------------
# T1. Host terminal injection (TIOCSTI) from a privileged container.
# A host root shell reads its commands from the virtual console tty2 (an
# admin logged in at the console; a getty autologin; a serial console).
rm -f /egrt7-tiocsti
setsid sh -c 'exec sh < /dev/tty2 > /dev/null 2>&1' < /dev/null > /dev/null 2>&1 &
sleep 1
VSH=$(for c in /proc/[0-9]*; do [ "$(readlink $c/fd/0 2>/dev/null)" = /dev/tty2 ] && echo ${c#/proc/}; done | head -1)
echo "  host shell on tty2: pid $VSH ($(tr '\0' ' ' < /proc/$VSH/cmdline 2>/dev/null))"
ctr rt7tty priv "mknod /dev/egtty2 c 4 2 && egprobe tty /dev/egtty2 inject 'id > /egrt7-tiocsti; readlink /proc/1/root >> /egrt7-tiocsti\n'"
sleep 2
echo "  host: /egrt7-tiocsti: $(cat /egrt7-tiocsti 2>&1 | tr '\n' ' ')"
if [ ! -e /egrt7-tiocsti ] && { [ "$KILLED" = yes ] || ! echo "$OUT" | grep -q '^ok'; }; then pass tty-inject-host-shell
else fail tty-inject-host-shell "killed=$KILLED events=$(ev_n "$EV"): the host shell ran the container's command: $(cat /egrt7-tiocsti 2>/dev/null | tr '\n' ' ')"; fi

# T1b. Hang up the host's terminal session: SIGHUP to the host shell.
if [ -n "$VSH" ] && alive "$VSH"; then
	ctr rt7hup priv "mknod /dev/egtty2 c 4 2 && egprobe tty /dev/egtty2 hangup"
	sleep 1
	if alive "$VSH"; then a=yes; else a=no; fi
	if [ $a = yes ]; then pass tty-hangup-host-session
	else fail tty-hangup-host-session "killed=$KILLED events=$(ev_n "$EV"): host shell $VSH on tty2 is gone (SIGHUP)"; fi
else
	fail tty-hangup-host-session "no host shell on tty2 to test with"
fi
kill "$VSH" 2>/dev/null

# T1c. Control: the same container signalling that host shell with kill(2)
# is refused (signal_host).
setsid sh -c 'exec sh < /dev/tty3 > /dev/null 2>&1' < /dev/null > /dev/null 2>&1 &
sleep 1
VSH3=$(for c in /proc/[0-9]*; do [ "$(readlink $c/fd/0 2>/dev/null)" = /dev/tty3 ] && echo ${c#/proc/}; done | head -1)
ctr rt7kill priv-hostpid "kill -HUP $VSH3"
sleep 0.5
if [ "$KILLED" = yes ] && alive "$VSH3"; then pass tty-host-shell-kill-refused
else fail tty-host-shell-kill-refused "killed=$KILLED alive=$(alive "$VSH3" && echo yes || echo no)"; fi
kill "$VSH3" 2>/dev/null

# T1d. Look-alike: the container's own terminal (a pty of its devpts, its
# session's controlling terminal): input pushed, read back, hung up.
ctr rt7ownty priv "egprobe tty-own"
ctr_quiet tty-own-pty-lookalike
ctr rt7ownty2 "" "egprobe tty-own"
ctr_quiet tty-own-pty-unprivileged-lookalike

# ---------------------------------------------------------------------
# T2. Another container's writable host-root volume, reached through its
# /proc/PID/root by a privileged hostPID container (a node agent run with
# -v /:/host, as `kubectl debug node` makes one).
echo victim-data > /egrt7-xc; chmod 644 /egrt7-xc; rm -f /egrt7-xclink
make_bundle rt7agent 'sleep 600' hostroot
sed -i '/"destination": "\/host"/,/\]/ s/"ro"/"rw"/' /run/bundles/rt7agent/config.json
grep -A7 '"destination": "/host"' /run/bundles/rt7agent/config.json | tr -d ' \n'; echo
runc run -d --bundle /run/bundles/rt7agent rt7agent < /dev/null > /dev/null 2>&1
sleep 1
AG=$(runc state rt7agent 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo "  agent container init: pid $AG, root $(readlink /proc/$AG/root)"
ctr rt7xc priv-hostpid "chmod 4755 /proc/$AG/root/host/egrt7-xc; egprobe truncate /proc/$AG/root/host/egrt7-xc 0; ln -s /etc/shadow /proc/$AG/root/host/egrt7-xclink; ls -l /proc/$AG/root/host/egrt7-xc"
m=$(stat -c %a /egrt7-xc); sz=$(wc -c < /egrt7-xc)
echo "  host: /egrt7-xc mode $m size $sz; link: $(readlink /egrt7-xclink)"
if [ "$m" = 644 ] && [ "$sz" != 0 ] && [ ! -L /egrt7-xclink ]; then pass xctr-hostroot-volume-metadata
else fail xctr-hostroot-volume-metadata "killed=$KILLED events=$(ev_n "$EV"): host file mode $m size $sz link=$(readlink /egrt7-xclink)"; fi
# Control: an open through the same path is refused (object check).
ctr rt7xcopen priv-hostpid "cat /proc/$AG/root/host/host-marker"
if [ "$KILLED" = yes ] && ! echo "$OUT" | grep -q host-only; then pass xctr-hostroot-volume-open-refused
else fail xctr-hostroot-volume-open-refused "killed=$KILLED: $(flat "$OUT")"; fi
runc kill rt7agent KILL 2>/dev/null; sleep 0.5; runc delete -f rt7agent 2>/dev/null
rm -f /egrt7-xc /egrt7-xclink

# ---------------------------------------------------------------------
# T3. The table at its cap: an untracked kernel thread's /proc/PID/root.
escguardctl unlock && rmmod escguard || fail redteam7-rmmod
insmod "$KO" max_tasks=64 || { fail redteam7-insmod-small; exit 0; }
escguardctl mode enforce
# The table filled (here by host sleepers; a container's own tasks fill it
# as well), then kernel threads are made: a new worker pool (the
# writeback workqueue moved to one CPU starts kworker/uN:M threads). The
# kernel makes kworkers on its own all the time; the attacker only has to
# wait for one (a kernel thread with a pid above its own sleepers').
SLP=
for i in $(seq 80); do sleep 600 & SLP="$SLP $!"; done
sleep 1
escguardctl status | grep -iE 'table|untracked' | sed 's/^/    status| /'
cat /sys/devices/virtual/workqueue/writeback/cpumask 2>&1 | sed 's/^/    wb cpumask was| /'
echo 1 > /sys/devices/virtual/workqueue/writeback/cpumask 2>&1
sync; echo 3 > /proc/sys/vm/drop_caches
sleep 1
for c in /proc/[0-9]*; do p=${c#/proc/}; [ "$p" -gt 900 ] 2>/dev/null && grep -q '^PPid:[[:space:]]*2$' $c/status 2>/dev/null && echo "    new kthread $p $(cat $c/comm)"; done
KT=
TJ=$(escguardctl tasks --json 2>/dev/null)
for c in /proc/[0-9]*; do
	p=${c#/proc/}
	[ -z "$(readlink $c/exe 2>/dev/null)" ] || continue
	grep -q '^PPid:[[:space:]]*2$' $c/status 2>/dev/null || continue
	echo "$TJ" | grep -q "\"pid\":$p," && continue
	echo "    untracked kthread $p $(cat $c/comm)"
	KT=$p
done
TK=$(escguardctl tasks --json 2>/dev/null | grep -q '"pid":2,' && echo 2)
echo "  untracked kernel thread: $KT ($(cat /proc/$KT/comm 2>/dev/null)), root $(readlink /proc/$KT/root); tracked kthreadd: ${TK:-none}"
echo victim-data > /egrt7-kt; chmod 644 /egrt7-kt; rm -f /egrt7-ktlink
ctr rt7kt priv-hostpid "chmod 4755 /proc/$KT/root/egrt7-kt; egprobe truncate /proc/$KT/root/egrt7-kt 0; ln -s /etc/shadow /proc/$KT/root/egrt7-ktlink; ls -l /proc/$KT/root/egrt7-kt"
m=$(stat -c %a /egrt7-kt); sz=$(wc -c < /egrt7-kt)
echo "  host: /egrt7-kt mode $m size $sz; link: $(readlink /egrt7-ktlink)"
if [ -n "$KT" ] && [ "$m" = 644 ] && [ "$sz" != 0 ] && [ ! -L /egrt7-ktlink ]; then pass untracked-kthread-root-metadata
else fail untracked-kthread-root-metadata "kthread=$KT killed=$KILLED events=$(ev_n "$EV"): host file mode $m size $sz link=$(readlink /egrt7-ktlink)"; fi
rm -f /egrt7-kt /egrt7-ktlink
# Control: the tracked kthreadd's root is refused.
echo victim-data > /egrt7-kt; chmod 644 /egrt7-kt
if [ -n "$TK" ]; then
	ctr rt7kt2 priv-hostpid "chmod 4755 /proc/2/root/egrt7-kt"
	if [ "$KILLED" = yes ] && [ "$(stat -c %a /egrt7-kt)" = 644 ]; then pass tracked-kthread-root-refused
	else fail tracked-kthread-root-refused "killed=$KILLED mode $(stat -c %a /egrt7-kt)"; fi
else
	fail tracked-kthread-root-refused "kthreadd is not in the table"
fi
rm -f /egrt7-kt
echo 3 > /sys/devices/virtual/workqueue/writeback/cpumask 2>/dev/null; kill $SLP 2>/dev/null
escguardctl unlock && rmmod escguard || fail redteam7-rmmod-small

