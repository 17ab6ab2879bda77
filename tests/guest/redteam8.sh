# Eighth red-team suite (2026-12-04, late night; a helper given only the
# README and the code): the checks added by 75f43dd (read-only stays
# read-only; terminal acts on host sessions). Each attack test was a FAIL
# against that commit (reproduced in the guest):
#   detached-*        a writable copy of a read-only volume, lazily
#                     unmounted (umount -l): its mount has no namespace,
#                     and write_refused() waves it through
#   vt-paste-compat   TIOCLINUX selection paste into a host shell's console
#                     through the 32-bit ioctl entry, which reaches
#                     vt_ioctl() without tty_ioctl()
#   evdev-keys        key presses written to the host keyboard's evdev node:
#                     typed into the host shell on the foreground console
#   carried-rootbind  a host bind of / carried below a read-only host-root
#                     volume becomes a writable grant of the host root
#   tty-inject-admin-terminal-fg-container  a container program a host
#                     admin's shell runs on its own terminal (nsenter)
#                     TIOCSTIs a command the shell then runs: the owner
#                     judged was the foreground group's newest member, the
#                     program itself
# and, reviewing the fixes of those (a ninth review, same night):
#   rovolume-nonroot-fs-*  a read-only volume of a host directory on a host
#       filesystem other than the root filesystem (the host's /run here;
#       /boot, a separate /var on real hosts) made writable with
#       mount_setattr(2) and written: grants covered the root fs only
#   tty-take-unowned-inject  a host terminal no session holds, made the
#       container's own controlling terminal by an ordinary open in a new
#       session, then TIOCSTI: a host shell reading it ran the command
# and false kills of those fixes, found by a tenth review (each a FAIL,
# SIGKILL, against 624d650):
#   grant-subdir-*    a bind of a directory of the container's writable
#       volume that is also mounted read-only elsewhere (a readOnly subPath
#       of an emptyDir), written: the nearest grant was the read-only one
#   grant-tmpfs-dev-reuse  a read-only tmpfs of its own unmounted, new
#       tmpfs mounts got its device number back
# Every *-refused test is a control that was stopped before (expected PASS).
. /tests/lib.sh
insmod "$KO" || { fail redteam8-insmod; exit 0; }
escguardctl mode enforce

RO_ETC='s|"source": "/",|"source": "/etc",|'
P0=$(stat -c %a /etc/passwd)
rm -rf /etc/egr8-*

# ---------------------------------------------------------------------
# A. Detached mounts. Control first: the writable bind itself is refused
# (redteam7 setattr-rovolume-write).
ctr_sed r8a0 priv-hostroot "$RO_ETC" "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /host /tmp/x && egprobe setattr-rw /tmp/x && cd /tmp/x && chmod 4777 passwd; mkdir egr8-a0; echo done"
if [ "$(stat -c %a /etc/passwd)" = "$P0" ] && [ ! -d /etc/egr8-a0 ]; then pass detached-control-attached-refused
else fail detached-control-attached-refused "killed=$KILLED passwd $(stat -c %a /etc/passwd)"; chmod "$P0" /etc/passwd; fi
rm -rf /etc/egr8-*

# A1. The same bind, made writable, then lazily unmounted with the shell's
# cwd in it: its mount leaves the namespace (mnt_ns NULL).
ctr_sed r8a1 priv-hostroot "$RO_ETC" "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /host /tmp/x && egprobe setattr-rw /tmp/x && cd /tmp/x && umount -l /tmp/x && chmod 4777 passwd; mkdir egr8-dir; echo evil > egr8-file; ls -ld passwd egr8-dir egr8-file; echo done"
m=$(stat -c %a /etc/passwd)
echo "  host: /etc/passwd mode $m; /etc/egr8-dir $([ -d /etc/egr8-dir ] && echo made); /etc/egr8-file: $(cat /etc/egr8-file 2>&1)"
if [ "$m" = "$P0" ] && [ ! -d /etc/egr8-dir ] && [ ! -s /etc/egr8-file ]; then pass detached-rovolume-write
else fail detached-rovolume-write "killed=$KILLED events=$(ev_n "$EV"): host /etc/passwd mode $m, dir=$([ -d /etc/egr8-dir ] && echo yes) file=$(cat /etc/egr8-file 2>/dev/null)"; chmod "$P0" /etc/passwd; fi
rm -rf /etc/egr8-*

# A2. The whole host root read-only at /host: a bind of it made writable
# and detached. Non-open writes (chmod, mkdir, rename).
echo victim > /egr8-victim; chmod 644 /egr8-victim
ctr r8a2 priv-hostroot "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /host /tmp/x && egprobe setattr-rw /tmp/x && cd /tmp/x && umount -l /tmp/x && chmod 4777 egr8-victim; mkdir etc/egr8-dir2; mv egr8-victim egr8-moved; echo done"
echo "  host: /egr8-victim $(stat -c %a /egr8-victim 2>&1); /egr8-moved $(stat -c %a /egr8-moved 2>&1); /etc/egr8-dir2 $([ -d /etc/egr8-dir2 ] && echo made)"
if [ -e /egr8-victim ] && [ "$(stat -c %a /egr8-victim)" = 644 ] && [ ! -d /etc/egr8-dir2 ]; then pass detached-hostroot-metadata
else fail detached-hostroot-metadata "killed=$KILLED events=$(ev_n "$EV"): victim $(stat -c %a /egr8-victim /egr8-moved 2>&1 | tr '\n' ' ') dir2=$([ -d /etc/egr8-dir2 ] && echo yes)"; fi
rm -rf /egr8-victim /egr8-moved /etc/egr8-*

# A3. The host's /run, carried (writable) below the read-only host-root
# volume (redteam7 carried-run-mkdir refuses writes there): a bind of it,
# detached. No mount_setattr needed (mount(2) only: CAP_SYS_ADMIN).
rm -rf /run/egr8-*
ctr r8a3 priv-hostroot "mount -t tmpfs t /tmp && mkdir /tmp/r && mount --bind /host/run /tmp/r && cd /tmp/r && umount -l /tmp/r && mkdir egr8-dir && echo evil > egr8-file; echo done"
echo "  host: /run/egr8-dir $([ -d /run/egr8-dir ] && echo made); /run/egr8-file: $(cat /run/egr8-file 2>&1)"
if [ ! -d /run/egr8-dir ] && [ ! -s /run/egr8-file ]; then pass detached-carried-run-write
else fail detached-carried-run-write "killed=$KILLED events=$(ev_n "$EV"): host /run written: dir=$([ -d /run/egr8-dir ] && echo yes) file=$(cat /run/egr8-file 2>/dev/null)"; fi
rm -rf /run/egr8-*
# Control: the same bind, attached, is refused.
ctr r8a3c priv-hostroot "mount -t tmpfs t /tmp && mkdir /tmp/r && mount --bind /host/run /tmp/r && mkdir /tmp/r/egr8-dir; echo done"
if [ ! -d /run/egr8-dir ]; then pass detached-carried-run-control-attached-refused
else fail detached-carried-run-control-attached-refused "killed=$KILLED"; fi
rm -rf /run/egr8-*

# ---------------------------------------------------------------------
# B. Selection paste into a host root shell on the foreground console.
echo "  foreground console: $(cat /sys/class/tty/tty0/active 2>&1)"
rm -f /egr8-paste /egr8-paste64
setsid sh -c 'exec sh < /dev/tty1 > /dev/null 2>&1' < /dev/null > /dev/null 2>&1 &
sleep 1
VSH=$(for c in /proc/[0-9]*; do [ "$(readlink $c/fd/0 2>/dev/null)" = /dev/tty1 ] && echo ${c#/proc/}; done | head -1)
echo "  host shell on tty1: pid $VSH"
# B0. Control: the 64-bit ioctl is judged (tty_ioctl hook).
ctr r8b0 priv "mknod /dev/egtty1 c 4 1 && egprobe vtpaste /dev/egtty1 'id > /egr8-paste64'"
sleep 1
if [ ! -e /egr8-paste64 ]; then pass vt-paste-64-refused
else fail vt-paste-64-refused "killed=$KILLED: host shell ran: $(cat /egr8-paste64)"; fi
# B1. The same through the 32-bit entry.
ctr r8b1 priv "mknod /dev/egtty1 c 4 1 && egprobe vtpaste /dev/egtty1 'id > /egr8-paste; readlink /proc/1/root >> /egr8-paste' 32"
sleep 2
echo "  host: /egr8-paste: $(cat /egr8-paste 2>&1 | tr '\n' ' ')"
if [ ! -e /egr8-paste ]; then pass vt-paste-compat
else fail vt-paste-compat "killed=$KILLED events=$(ev_n "$EV"): the host shell ran the container's command: $(cat /egr8-paste | tr '\n' ' ')"; fi

# ---------------------------------------------------------------------
# C. Key presses written to the host keyboard's event device: typed into
# the foreground console, where the host shell reads.
KBD=$(sed -n '/AT Translated/,/^$/ s/.*Handlers=.*event\([0-9]*\).*/\1/p' /proc/bus/input/devices | head -1)
echo "  keyboard event device: event$KBD"
rm -f /egr8-key
if [ -n "$KBD" ] && [ -n "$VSH" ] && alive "$VSH"; then
	ctr r8c priv "mknod /dev/egkbd c 13 $((64 + KBD)) && egprobe evtype /dev/egkbd 'id >/egr8-key\n'"
	sleep 2
	echo "  host: /egr8-key: $(cat /egr8-key 2>&1)"
	if [ ! -e /egr8-key ]; then pass evdev-keys-host-shell
	else fail evdev-keys-host-shell "killed=$KILLED events=$(ev_n "$EV"): the host shell ran the typed command: $(cat /egr8-key)"; fi
else
	fail evdev-keys-host-shell "no keyboard event device ($KBD) or no host shell on tty1"
fi
kill "$VSH" 2>/dev/null

# ---------------------------------------------------------------------
# D. A host bind of / (here /egr8root) carried, writable, below the
# read-only host-root volume: its root (the host root's inode) becomes a
# writable grant, so a writable bind of /host/etc is "granted".
mkdir -p /egr8root && mount --bind / /egr8root
ctr r8d priv-hostroot "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /host/etc /tmp/x && egprobe setattr-rw /tmp/x && chmod 4777 /tmp/x/passwd; echo evil > /tmp/x/egr8-carried; echo done"
m=$(stat -c %a /etc/passwd)
echo "  host: /etc/passwd mode $m; /etc/egr8-carried: $(cat /etc/egr8-carried 2>&1)"
if [ "$m" = "$P0" ] && [ ! -s /etc/egr8-carried ]; then pass carried-rootbind-grant
else fail carried-rootbind-grant "killed=$KILLED events=$(ev_n "$EV"): host /etc/passwd mode $m file=$(cat /etc/egr8-carried 2>/dev/null)"; chmod "$P0" /etc/passwd; fi
# Control: the direct path through the carried bind is refused.
ctr r8d2 priv-hostroot "chmod 4777 /host/egr8root/etc/passwd; echo done"
if [ "$(stat -c %a /etc/passwd)" = "$P0" ]; then pass carried-rootbind-direct-refused
else fail carried-rootbind-direct-refused "killed=$KILLED"; chmod "$P0" /etc/passwd; fi
umount /egr8root; rmdir /egr8root; rm -rf /etc/egr8-*

# ---------------------------------------------------------------------
# F. A host admin's shell runs a container's program on its own terminal
# (`nsenter -t <ctr> ...`, `runc exec` without --tty): the program (the
# container's code) is in the shell's foreground process group, as its
# newest member, and pushes a command into the terminal with TIOCSTI; the
# host shell reads it once the program exits. The owner judged is the
# group's first task, which is its newest: the container's program.
# Unprivileged container (TIOCSTI on one's own controlling terminal needs
# no capability).
rm -f /egr8-ns
make_bundle r8nsctr 'sleep 120'
runc run -d --bundle /run/bundles/r8nsctr r8nsctr < /dev/null > /dev/null 2>&1
sleep 1
CP=$(runc state r8nsctr 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo "  container init: pid $CP"
cat > /egr8-admin.sh <<EOS
nsenter -t $CP -m -u -i -n -p -r -w /usr/bin/egprobe tty /dev/tty inject 'id > /egr8-ns; readlink /proc/1/root >> /egr8-ns\n' > /egr8-admin.out 2>&1
EOS
drain_events; _k0=$(kills)
setsid sh -c 'exec sh < /dev/tty3 > /dev/null 2>&1' < /dev/null > /dev/null 2>&1 &
sleep 1
ASH=$(for c in /proc/[0-9]*; do [ "$(readlink $c/fd/0 2>/dev/null)" = /dev/tty3 ] && echo ${c#/proc/}; done | head -1)
echo "  host admin shell on tty3: pid $ASH"
egprobe tty /dev/tty3 inject 'sh /egr8-admin.sh\n' > /dev/null
sleep 3
EV=$(events_json); KILLED=no; [ "$(kills)" = "$_k0" ] || KILLED=yes
echo "  nsenter'd program: $(cat /egr8-admin.out 2>&1 | tr '\n' ' ')"
echo "  host: /egr8-ns: $(cat /egr8-ns 2>&1 | tr '\n' ' ')"
show_ev "$EV"
if [ ! -e /egr8-ns ]; then pass tty-inject-admin-terminal-fg-container
else fail tty-inject-admin-terminal-fg-container "killed=$KILLED events=$(ev_n "$EV"): the host admin's shell ran the container's command: $(cat /egr8-ns | tr '\n' ' ')"; fi
kill "$ASH" 2>/dev/null
runc kill r8nsctr KILL 2>/dev/null; sleep 0.5; runc delete -f r8nsctr 2>/dev/null
rm -f /egr8-ns /egr8-admin.sh /egr8-admin.out

# ---------------------------------------------------------------------
# G. Read-only volume of the host's /run (a tmpfs: not the root fs).
RO_RUN='s|"source": "/",|"source": "/run",|'
rm -rf /run/egr9-*; echo victim > /run/egr9-victim; chmod 644 /run/egr9-victim
echo "  host /run: $(stat -f -c %T /run) dev $(stat -c %d /run), / dev $(stat -c %d /)"
# G0. Control: the volume is read-only to the kernel.
ctr_sed r9a0 priv-hostroot "$RO_RUN" "grep ' /host ' /proc/self/mountinfo; mkdir /host/egr9-ctl; echo done"
[ ! -d /run/egr9-ctl ] && pass rovolume-nonroot-fs-control-ro || fail rovolume-nonroot-fs-control-ro "mkdir succeeded without setattr"
# G1. mount_setattr clears MOUNT_ATTR_RDONLY on the volume; then non-open
# writes (mkdir, chmod) and a write-open.
ctr_sed r9a1 priv-hostroot "$RO_RUN" "egprobe setattr-rw /host && mkdir /host/egr9-dir; chmod 4777 /host/egr9-victim; echo evil > /host/egr9-victim; echo planted > /host/egr9-file; ls -la /host/egr9-*; echo done"
echo "  host: /run/egr9-dir $([ -d /run/egr9-dir ] && echo made); /run/egr9-victim mode $(stat -c %a /run/egr9-victim) content '$(cat /run/egr9-victim)'; /run/egr9-file '$(cat /run/egr9-file 2>&1)'"
if [ ! -d /run/egr9-dir ] && [ "$(stat -c %a /run/egr9-victim)" = 644 ] && [ "$(cat /run/egr9-victim)" = victim ] && [ ! -e /run/egr9-file ]; then pass rovolume-nonroot-fs-setattr-write
else fail rovolume-nonroot-fs-setattr-write "killed=$KILLED events=$(ev_n "$EV"): the host's /run was written through a read-only volume"; fi
rm -rf /run/egr9-*

# G2. The same through a bind of the volume (CAP_SYS_ADMIN: mount + setattr).
echo victim > /run/egr9-victim; chmod 644 /run/egr9-victim
ctr_sed r9a2 priv-hostroot "$RO_RUN" "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /host /tmp/x && egprobe setattr-rw /tmp/x && mkdir /tmp/x/egr9-dir2; echo evil > /tmp/x/egr9-victim; echo done"
if [ ! -d /run/egr9-dir2 ] && [ "$(cat /run/egr9-victim)" = victim ]; then pass rovolume-nonroot-fs-bind-write
else fail rovolume-nonroot-fs-bind-write "killed=$KILLED events=$(ev_n "$EV"): host /run written: victim '$(cat /run/egr9-victim)' dir2=$([ -d /run/egr9-dir2 ] && echo yes)"; fi
rm -rf /run/egr9-*

# ---------------------------------------------------------------------
# H. A host shell reads tty4 without it being its controlling terminal
# (started by a non-leader: the open does not make it anyone's).
rm -f /egr9-sti
sh -c 'exec sh < /dev/tty4 > /dev/null 2>&1' < /dev/null > /dev/null 2>&1 &
sleep 1
TSH=$(for c in /proc/[0-9]*; do [ "$(readlink $c/fd/0 2>/dev/null)" = /dev/tty4 ] && echo ${c#/proc/}; done | head -1)
echo "  host shell reading tty4: pid $TSH, sid $(cut -d' ' -f6 /proc/$TSH/stat 2>/dev/null), tty_nr $(cut -d' ' -f7 /proc/$TSH/stat 2>/dev/null)"
# H0. Control: TIOCSTI on the unowned terminal without taking it is refused.
ctr r9b0 priv "mknod /dev/egtty4 c 4 4 && egprobe tty /dev/egtty4 inject 'id > /egr9-sti0\n'"
sleep 1
[ ! -e /egr9-sti0 ] && pass tty-take-unowned-control-refused || fail tty-take-unowned-control-refused "killed=$KILLED"
rm -f /egr9-sti0
# H1. Take it as the controlling terminal of a new session, then TIOCSTI.
ctr r9b1 priv "mknod /dev/egtty4 c 4 4 && egprobe tty-take /dev/egtty4 'id > /egr9-sti; readlink /proc/1/root >> /egr9-sti\n'"
sleep 2
echo "  host: /egr9-sti: $(cat /egr9-sti 2>&1 | tr '\n' ' ')"
if [ ! -e /egr9-sti ]; then pass tty-take-unowned-inject
else fail tty-take-unowned-inject "killed=$KILLED events=$(ev_n "$EV"): the host shell ran the container's command: $(cat /egr9-sti | tr '\n' ' ')"; fi
kill "$TSH" 2>/dev/null
rm -f /egr9-sti

# ---------------------------------------------------------------------
# J. Look-alikes found by a tenth review (false kills of the write grants).
# A volume /egvol writable at /vol and its subdirectory /egvol/sub read-only
# at /host (a Kubernetes emptyDir mounted rw plus a readOnly subPath of it;
# docker -v /srv/data:/data -v /srv/data/sub:/ro:ro).
mkdir -p /egvol/sub/w; chmod -R 1777 /egvol/sub
SUBRO='s|"source": "/",|"source": "/egvol/sub",|; s|"mounts": \[|"mounts": [{"destination": "/vol", "type": "bind", "source": "/egvol", "options": ["rbind", "rw"]},|'

# Control: a direct write below the writable volume.
ctr_sed r10c priv-hostroot "$SUBRO" "grep -E ' /(vol|host) ' /proc/self/mountinfo; touch /vol/sub/w/direct && echo ok"
ctr_quiet grant-subdir-direct-write

# A bind of the container's own writable directory (nested runtime volume,
# systemd BindPaths=/ReadWritePaths=): written through the bind.
ctr_sed r10a priv-hostroot "$SUBRO" "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /vol/sub/w /tmp/x && touch /tmp/x/viabind && echo ok"
ctr_quiet grant-subdir-bind-write
ls -la /egvol/sub/w

# Same, the bind made in a private mount namespace (unshare -m, as a nested
# runtime or a systemd service does).
ctr_sed r10b priv-hostroot "$SUBRO" "unshare -m sh -c 'mount --bind /vol/sub/w /vol/sub/w && mkdir -p /vol/sub/w/d2 && echo hi > /vol/sub/w/f2' && echo ok"
ctr_quiet grant-subdir-selfbind-write

# Control: bind of the volume itself.
ctr_sed r10d priv-hostroot "$SUBRO" "mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /vol /tmp/x && touch /tmp/x/sub/w/viavol && echo ok"
ctr_quiet grant-vol-bind-write
rm -rf /egvol/sub

# A container whose program builds
# in a user namespace of its own (rootless podman/buildah in a pod): the
# bind is made there, of its own writable volume.
mkdir -p /egvol/sub/w; chmod -R 1777 /egvol/sub
ctr_sed r10u priv-hostroot "$SUBRO" "unshare -Urm sh -c 'mount -t tmpfs t /tmp && mkdir /tmp/x && mount --bind /vol/sub/w /tmp/x && touch /tmp/x/userns' && echo ok"
ctr_quiet grant-subdir-userns-bind-write
ls -la /egvol/sub/w
rm -rf /egvol/sub

# A read-only tmpfs the runtime gave (docker --tmpfs /vol:ro), unmounted by
# the privileged container, then new tmpfs mounts of its own written: the
# freed anonymous device number comes back, root inode 1 again.
TMPRO='s|"mounts": \[|"mounts": [{"destination": "/vol", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]},|'
ctr_sed r10t priv "$TMPRO" "grep ' /vol ' /proc/self/mountinfo; umount /vol && mount -t tmpfs t /tmp && grep ' /tmp ' /proc/self/mountinfo && for i in 1 2 3 4; do mkdir /tmp/m\$i && mount -t tmpfs t /tmp/m\$i && grep \" /tmp/m\$i \" /proc/self/mountinfo && touch /tmp/m\$i/f; done; echo ok"
ctr_quiet grant-tmpfs-dev-reuse

escguardctl unlock && rmmod escguard || fail redteam8-rmmod
