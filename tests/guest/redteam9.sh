# Ninth red-team suite (2026-12-05; a helper given only the README and the
# code, reviewing the open fast path after c15547a). Each attack test was a
# FAIL against that commit, reproduced in the guest:
#   chroot-cache-*   a write-open (O_WRONLY, no O_CREAT/O_TRUNC; or an
#       O_APPEND of an existing file) of a file on the task's *root* mount
#       was a verdict-cache hit, with no write-grant or object check. After
#       chroot into a read-only host volume made writable (mount_setattr),
#       or into a host filesystem a read-only host-root volume carries
#       writable below it (the host's /run, /tmp: CAP_SYS_CHROOT, or an
#       unprivileged user namespace, is all it takes), host files were
#       rewritten. Only a container at its own root is cached now.
# and false kills (SIGKILL at that commit):
#   *-devnull-*      `>/dev/null` in `chroot /host` of a read-only host-root
#       volume (the host's devtmpfs is carried below it): a device node
#       opened for writing writes the device, not its filesystem.
# Controls (stopped before too) keep the same writes without chroot.
# Then a twelfth review, of those fixes (each a FAIL against 0beaa01):
#   chroot-own-rootfs-*  the container's own rootfs directory (on the host's
#       root filesystem, as runc bundles are) reached through a volume of
#       the host, chroot'ed into with the cwd left elsewhere on that mount:
#       same (dev, ino) as the origin root, so cached, and host files
#       written through the cwd. The root must also be its mount's root.
#   fifo-*           a FIFO a host program reads, written through a
#       read-only volume (the kernel lets FIFOs and devices be written on a
#       read-only mount): judged by the grants whatever the mount's flag.
#   host-pty-write   a host terminal written through the host's devpts
#       carried below a read-only host-root volume (the device exemption
#       above was too wide: only stateless devices are exempt).
# and a thirteenth, of those (a FAIL against 4c910aa):
#   fifo-read-steal-*  a FIFO a host program writes for a host daemon,
#       read through a read-only volume: the container takes the data
#       (FIFOs are judged by the grants when opened for reading too);
#   *-ptmx-lookalike   a pty allocated through the host's /dev/ptmx in
#       chroot /host (killed: ptmx makes a new pair, now exempt).
# and a fourteenth (false kills, each SIGKILL against 6a9ea02):
#   carried-global-*   the list of filesystems carried below read-only
#       host-root volumes is every container's: a second node agent with a
#       writable volume of the host's /run (or /dev) was refused its own
#       writes. The container's own writable grant now wins.
#   sb-reuse-*         a carried tmpfs unmounted, its superblock's address
#       reused by a container's own tmpfs, refused: entries carry the
#       superblock's uuid tag (random per tmpfs).
. /tests/lib.sh
insmod "$KO" || { fail redteam9-insmod; exit 0; }
escguardctl mode enforce

prep() { echo orig > "$1"; chmod 644 "$1"; }
# stopped NAME HOSTFILE: the host file is unchanged and escguard acted.
stopped() {
	if [ "$(cat "$2")" = orig ] && { [ "$KILLED" = yes ] || [ "$(ev_n "$EV")" -ge 1 ]; }; then pass "$1"
	else fail "$1" "killed=$KILLED events=$(ev_n "$EV") host $2 now: $(head -c 60 "$2" | tr '\n' '|') out: $(flat "$OUT")"; fi
}

# A read-only host-root volume made writable (mount_setattr), chroot /host,
# O_WRONLY open of a cached file and pwrite; the same with ftruncate.
prep /etc/egrt9-a1
ctr a1 priv-hostroot "egprobe setattr-rw /host && egprobe chroot-write /host /etc/egrt9-a1 EVIL-A1; echo done"
stopped chroot-cache-hostroot-write /etc/egrt9-a1
prep /etc/egrt9-a2
ctr a2 priv-hostroot "egprobe setattr-rw /host && egprobe chroot-write /host /etc/egrt9-a2 EVIL-A2 ftrunc; echo done"
stopped chroot-cache-hostroot-ftrunc /etc/egrt9-a2
prep /etc/egrt9-a3
ctr a3 priv-hostroot "egprobe setattr-rw /host && egprobe chroot-write /host /etc/egrt9-a3 EVIL-A3 trunc; echo done"
stopped chroot-hostroot-otrunc-control /etc/egrt9-a3
prep /etc/egrt9-a4
ctr a4 priv-hostroot "egprobe setattr-rw /host && egprobe chroot-write x /host/etc/egrt9-a4 EVIL-A4 nochroot; echo done"
stopped nochroot-hostroot-write-control /etc/egrt9-a4
# A read-only volume of a host directory (/etc), made writable, chroot.
prep /etc/egrt9-a5
ctr_sed a5 priv-hostroot 's|"source": "/",|"source": "/etc",|' "egprobe setattr-rw /host && egprobe chroot-write /host /egrt9-a5 EVIL-A5; echo done"
stopped chroot-cache-rovolume-write /etc/egrt9-a5
# The host's own shell in chroot /host, appending.
prep /etc/egrt9-a7
ctr a7 priv-hostroot "egprobe setattr-rw /host && chroot /host /bin/sh -c 'read l < /etc/egrt9-a7; echo EVIL-A7 >> /etc/egrt9-a7; cat /etc/egrt9-a7'; echo done"
stopped chroot-shell-hostroot-append /etc/egrt9-a7

# No mount_setattr, no privilege: the host's /run and /tmp carried below a
# read-only host-root volume, reached by chroot (CAP_SYS_CHROOT, Docker's
# default; or from an unprivileged user namespace).
CHR='s|"CAP_KILL"|"CAP_KILL", "CAP_SYS_CHROOT"|'
prep /run/egrt9-b1
ctr_sed b1 hostroot "$CHR" "egprobe chroot-write /host/run /egrt9-b1 EVIL-B1; echo done"
stopped chroot-cache-carried-run-write /run/egrt9-b1
prep /tmp/egrt9-b2
ctr_sed b2 hostroot "$CHR" "egprobe chroot-write /host/tmp /egrt9-b2 EVIL-B2 ftrunc; echo done"
stopped chroot-cache-carried-tmp-write /tmp/egrt9-b2
prep /run/egrt9-b3
ctr_sed b3 hostroot "$CHR" "egprobe chroot-write x /host/run/egrt9-b3 EVIL-B3 nochroot; echo done"
stopped nochroot-carried-run-write-control /run/egrt9-b3
prep /run/egrt9-b5
ctr b5 hostroot "egprobe chroot-write /host/run /egrt9-b5 EVIL-B5 userns; echo done"
stopped chroot-cache-userns-carried-run-write /run/egrt9-b5

# Look-alikes: host commands in chroot /host with output to /dev/null, and
# /dev/null through the volume; chroots a container makes of its own.
ctr_sed f1 hostroot "$CHR" "chroot /host /bin/sh -c 'echo hi > /dev/null; echo inner-ok'"
ctr_quiet chroot-host-devnull-lookalike
ctr f2 hostroot "echo hi > /host/dev/null; echo inner-ok"
ctr_quiet host-devnull-through-volume-lookalike
ctr_sed l4 hostroot "$CHR" "chroot /host /bin/sh -c 'ls /nonexistent 2>/dev/null; echo ok'"
ctr_quiet chroot-host-stderr-devnull-lookalike
ctr_sed l3 hostroot "$CHR" "chroot /host /bin/sh -c 'cat /etc/passwd | wc -l; ls /etc >&2' 2>&1 | tail -1"
ctr_quiet chroot-host-readonly-cmds-lookalike
ctr l1 priv "mount -t tmpfs t /mnt && mkdir -p /mnt/bin && cp /bin/busybox /mnt/bin/ && chroot /mnt /bin/busybox sh -c '/bin/busybox echo x > /f && /bin/busybox cat /f && /bin/busybox mkdir /d && /bin/busybox rm -r /d /f' && echo ok"
ctr_quiet chroot-own-tmpfs-build-lookalike
mkdir -p /egvol; echo v > /egvol/egrt9-v
ctr_sed l2 vol "$CHR" "egprobe chroot-write /vol /egrt9-v w && cat /vol/egrt9-v"
ctr_quiet chroot-rw-volume-write-lookalike
rm -f /egvol/egrt9-v

# A1: rootfs is a directory on the host's root filesystem. A read-only
# host-root volume made writable (mount_setattr); chroot into the
# container's OWN rootfs directory *through the volume* (same dev/ino as
# the origin root, another mount), cwd left at /host/etc; write a host file
# cwd-relative: the file is on the task's root mount -> verdict-cache hit.
prep /etc/ega1
ctr a1 priv-hostroot "egprobe setattr-rw /host && umount -l /host/bundles/busybox/rootfs && egprobe chroot-cwd /host/bundles/busybox/rootfs /host/etc ega1 EVIL-A1; echo done"
stopped chroot-own-rootfs-via-hostroot-write /etc/ega1
# Control: the same into a directory that is not the origin root.
prep /etc/ega1c
ctr a1c priv-hostroot "egprobe setattr-rw /host && egprobe chroot-cwd /host/bundles /host/etc ega1c EVIL-A1C; echo done"
stopped chroot-other-dir-control /etc/ega1c
# A1b: the host's /etc/passwd-like file through the same route, by a shell
# (chroot via egprobe, then the write by absolute path of cwd is impossible:
# relative only). Deeper host path, two levels up from cwd is not
# reachable after chroot, so cwd is /host itself.
prep /ega1b
ctr a1b priv-hostroot "egprobe setattr-rw /host && umount -l /host/bundles/busybox/rootfs && egprobe chroot-cwd /host/bundles/busybox/rootfs /host ega1b EVIL-A1B; echo done"
stopped chroot-own-rootfs-cwd-hostroot-write /ega1b

# A2: the nested variant (privileged, /bundles a read-only rbind of the
# host's /bundles): make it writable, chroot into the own rootfs through
# it, write the host's /bundles/busybox/ega2.
prep /bundles/busybox/ega2
ctr a2 nested "egprobe setattr-rw /bundles && umount -l /bundles/busybox/rootfs && egprobe chroot-cwd /bundles/busybox/rootfs /bundles/busybox ega2 EVIL-A2; echo done"
stopped chroot-own-rootfs-via-ro-volume-write /bundles/busybox/ega2
prep /bundles/busybox/ega2c
ctr a2c nested "egprobe setattr-rw /bundles && egprobe chroot-write x /bundles/busybox/ega2c EVIL-A2C nochroot; echo done"
stopped nochroot-ro-volume-write-control /bundles/busybox/ega2c

# B: FIFOs a host daemon reads, through read-only mounts (the kernel lets
# FIFOs and device nodes be written on a read-only mount; escguard leaves
# read-only mounts "to the kernel").
fifo_test() { # NAME VARIANT SED HOSTFIFO CTRPATH
	rm -f "$4" /tmp/egfifo.got; mkfifo "$4"
	( cat "$4" > /tmp/egfifo.got ) & _rd=$!
	if [ -n "$3" ]; then ctr_sed "$1" "$2" "$3" "echo EVIL-$1 > $5; echo wrote"
	else ctr "$1" "$2" "echo EVIL-$1 > $5; echo wrote"; fi
	[ "$1" != b2 ] || ctr_sed b2m hostroot "$3" "grep ' /host/run ' /proc/self/mountinfo"
	sleep 1
	echo "  [$1] host reader got: $(cat /tmp/egfifo.got 2>/dev/null)"
	kill $_rd 2>/dev/null; echo x > "$4" 2>/dev/null & sleep 0.3; kill $! 2>/dev/null
	if grep -q "EVIL-$1" /tmp/egfifo.got 2>/dev/null && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then
		fail "fifo-$1" "host FIFO reader received the container's write, no event"
	else pass "fifo-$1"; fi
	rm -f "$4"
}
# /run (tmpfs) as a read-only volume (the suite's hostrun variant).
fifo_test b1 hostrun "" /run/egb1.fifo /hostrun/egb1.fifo
# A recursively read-only host-root volume (rro: what Docker >= 25 makes
# of -v /:/host:ro), FIFO on the host's /run.
fifo_test b2 hostroot 's|"rbind", "ro"|"rbind", "rro"|' /run/egb2.fifo /host/run/egb2.fifo
# A read-only volume of a host directory on the root filesystem.
fifo_test b3 hostroot 's|"source": "/",|"source": "/egvol",|' /egvol/egb3.fifo /host/egb3.fifo
# Control: host root filesystem through the plain ro host-root volume.
fifo_test b4 hostroot "" /egb4.fifo /host/egb4.fifo

# C: the host's pseudo-terminals, carried below a read-only host-root volume
# (host devpts); device nodes opened for writing are no longer judged by the
# write grants (0beaa01): output written to a host terminal.
rm -f /tmp/egptyn /tmp/egpty.out
egprobe pty-listen /tmp/egptyn 25 > /tmp/egpty.out & _pl=$!
sleep 1
N=$(cat /tmp/egptyn)
echo "  host pty: /dev/pts/$N"
ctr c1 hostroot "echo EVIL-C1 > /host/dev/pts/$N; echo wrote"
sleep 1
echo "  [c1] host pty master got: $(flat "$(cat /tmp/egpty.out)")"
if grep -q EVIL-C1 /tmp/egpty.out && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then
	fail host-pty-write "container wrote to a host terminal, no event"
else pass host-pty-write; fi
kill $_pl 2>/dev/null

# E (false kill?): the container's stdout is a host file (runc run > file:
# a systemd unit's StandardOutput=file:, a supervisor's log). The common
# "log to PID 1's stdout" pattern (cron jobs: `echo ... > /proc/1/fd/1`)
# from a process that does not itself hold that file.
drain_events; _k0=$(kills)
make_bundle e1 "sh -c 'exec > /dev/null; echo from-child > /proc/1/fd/1; echo rc=\$? > /proc/1/fd/2'; sleep 1; echo parent-done"
runc run --bundle /run/bundles/e1 e1 > /tmp/ege1.log 2>/tmp/ege1.err
EV=$(events_json); KILLED=no; [ "$(kills)" = "$_k0" ] || KILLED=yes
echo "  [e1] log: $(flat "$(cat /tmp/ege1.log)") err: $(flat "$(cat /tmp/ege1.err)") events: $(ev_n "$EV") killed: $KILLED"
show_ev "$EV"
if grep -q from-child /tmp/ege1.log && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then pass log-to-pid1-stdout-lookalike
else fail log-to-pid1-stdout-lookalike "killed=$KILLED events=$(ev_n "$EV")"; fi

# Look-alikes.
ctr l1 hostroot "cat /host/etc/passwd > /dev/null && ls /host/dev > /dev/null && echo ok"
ctr_quiet hostroot-read-lookalike
ctr l2 priv "mount -o remount,rw / 2>&1; echo hi > /dev/null; mkdir -p /tmp/x && echo ok"
ctr_quiet priv-devnull-lookalike

# F1 (false kill?): a host tool run in chroot /host from a read-only
# host-root volume that allocates a pseudo-terminal (script, ssh -t,
# expect): O_RDWR open of the host's /dev/ptmx (5,2), a new pty pair.
ctr_sed f1 hostroot "$CHR" "chroot /host /bin/sh -c 'exec 3<>/dev/ptmx && echo ptmx-ok'"
ctr_quiet chroot-host-ptmx-lookalike
# F1b: the same through the volume, no chroot.
ctr f1b hostroot "exec 3<>/host/dev/ptmx && echo ptmx-ok"
ctr_quiet hostroot-ptmx-lookalike
# S1: a host FIFO read (stolen) through a read-only volume of /run: the
# host client's message meant for a host daemon goes to the container.
rm -f /run/egrt9cs1.fifo /tmp/s1.w; mkfifo /run/egrt9cs1.fifo
( sleep 4; echo SECRET-S1 > /run/egrt9cs1.fifo; echo done > /tmp/s1.w ) & _w=$!
ctr s1 hostrun "head -n1 /hostrun/egrt9cs1.fifo"
sleep 1; kill $_w 2>/dev/null
if ! echo "$OUT" | grep -q SECRET-S1 && { [ "$KILLED" = yes ] || [ "$(ev_n "$EV")" -ge 1 ]; }; then
	pass fifo-read-steal-hostrun
else fail fifo-read-steal-hostrun "killed=$KILLED events=$(ev_n "$EV") out: $(flat "$OUT")"; fi
rm -f /run/egrt9cs1.fifo
# S2: same through the read-only host-root volume, FIFO on the host's /.
rm -f /egrt9cs2.fifo; mkfifo /egrt9cs2.fifo
( sleep 4; echo SECRET-S2 > /egrt9cs2.fifo ) & _w=$!
ctr s2 hostroot "head -n1 /host/egrt9cs2.fifo"
sleep 1; kill $_w 2>/dev/null
if ! echo "$OUT" | grep -q SECRET-S2 && { [ "$KILLED" = yes ] || [ "$(ev_n "$EV")" -ge 1 ]; }; then
	pass fifo-read-steal-hostroot
else fail fifo-read-steal-hostroot "killed=$KILLED events=$(ev_n "$EV") out: $(flat "$OUT")"; fi
rm -f /egrt9cs2.fifo
# S3 (control): O_RDWR on the host FIFO (judged as a write).
rm -f /run/egrt9cs3.fifo; mkfifo /run/egrt9cs3.fifo
( cat /run/egrt9cs3.fifo > /tmp/s3.got ) & _rd=$!
ctr s3 hostrun "exec 3<>/hostrun/egrt9cs3.fifo && echo EVIL-S3 >&3 && echo wrote"
sleep 1; kill $_rd 2>/dev/null; echo x > /run/egrt9cs3.fifo 2>/dev/null & sleep 0.3; kill $! 2>/dev/null
echo "  [s3] host reader got: $(cat /tmp/s3.got 2>/dev/null)"
if grep -q EVIL-S3 /tmp/s3.got 2>/dev/null && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then
	fail fifo-rdwr-hostrun "written, no event"
else pass fifo-rdwr-hostrun; fi
rm -f /run/egrt9cs3.fifo
# S4 (control): a unix socket bound on the host's /run that a read-only
# host-root volume carries (a fake daemon socket for host clients).
ctr s4 hostroot "timeout 2 egprobe listen /host/run/egrt9cs4.sock; ls -l /host/run/egrt9cs4.sock"
if [ -S /run/egrt9cs4.sock ] && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then
	fail bind-socket-carried-run "socket made on host /run, no event"
else pass bind-socket-carried-run; fi
rm -f /run/egrt9cs4.sock
# S5: a bind of the container's own rootfs from the read-only host-root
# volume, made writable, chroot'ed into (root = origin root, mount root):
# cached; the cwd left on the host-root volume.
echo orig > /etc/egrt9cs5
ctr s5 priv-hostroot "mount --bind /host/bundles/busybox/rootfs /mnt && egprobe setattr-rw /host && egprobe chroot-cwd /mnt /host/etc egrt9cs5 EVIL-S5; echo done"
if [ "$(cat /etc/egrt9cs5)" = orig ] || [ "$KILLED" = yes ] || [ "$(ev_n "$EV")" -ge 1 ]; then pass bind-own-rootfs-chroot-cwd
else fail bind-own-rootfs-chroot-cwd "host file now $(cat /etc/egrt9cs5)"; fi
rm -f /etc/egrt9cs5

# --- A. RO_CARRIED is global: a second read-only host-root container with a
# writable volume of a host tmpfs (/run/...), as a node agent with
# `-v /:/host:ro -v /var/run/agent:/var/run/agent` has. Alone it is quiet
# (its own scan sees /run mounted outside the volume); after any other
# read-only host-root container settled, /run's superblock is "carried".
mkdir -p /run/egshared; chmod 1777 /run/egshared
ADDRUN='s|"destination": "/host",|"destination": "/egvol", "type": "bind", "source": "/run/egshared", "options": ["rbind", "rw"]}, {"destination": "/host",|'
ctr_sed a1 hostroot "$ADDRUN" 'echo one > /egvol/f1 && cat /egvol/f1'
ctr_quiet carried-global-first-agent-lookalike
ctr a2 hostroot 'ls /host > /dev/null'
ctr_quiet carried-global-plain-hostroot-lookalike
ctr_sed a3 hostroot "$ADDRUN" 'echo two > /egvol/f2 && cat /egvol/f2'
ctr_quiet carried-global-second-agent-lookalike
ctr_sed a4 hostroot "$ADDRUN" 'mkdir /egvol/d4 && rmdir /egvol/d4'
ctr_quiet carried-global-second-agent-mkdir-lookalike
# The same agent with the host's /dev (device plugin / falco-like).
ADDDEV='s|"destination": "/host",|"destination": "/egvol", "type": "bind", "source": "/dev", "options": ["rbind", "rw"]}, {"destination": "/host",|'
ctr_sed a5 priv-hostroot "$ADDDEV" 'echo egrt9d-a5 > /egvol/kmsg'
ctr_quiet carried-global-hostdev-kmsg-lookalike

# --- B. Superblock addresses: RO_CARRIED holds addresses, never emptied. A
# host tmpfs carried by a read-only host-root container, unmounted, and its
# superblock's address reused by a later container's own tmpfs.
mkdir -p /mnt/egt1 /mnt/egt2 /mnt/egt3 /mnt/egt4 /mnt/egt5 /mnt/egt6
for i in 1 2 3 4 5 6; do mount -t tmpfs egt$i /mnt/egt$i; done
ctr bc hostroot 'echo x > /dev/shm/x && mkdir /dev/shm/d && cat /dev/shm/x'
ctr_quiet devshm-before-reuse-control
ctr b0 hostroot 'true'
for i in 1 2 3 4 5 6; do umount /mnt/egt$i; done
sleep 3
ctr b1 priv-hostroot 'i=0; while [ $i -lt 60 ]; do mkdir -p /dev/shm/m$i && mount -t tmpfs t$i /dev/shm/m$i && echo at-$i && echo x > /dev/shm/m$i/f || { echo failed-at-$i; exit 9; }; i=$((i+1)); done; echo x > /dev/shm/top; echo all-ok'
ctr_quiet sb-reuse-own-tmpfs-lookalike
# Again, with fresh carried tmpfs and a plain container's own /dev/shm.
for i in 1 2 3 4 5 6; do mount -t tmpfs egu$i /mnt/egt$i; done
ctr b2 hostroot 'true'
for i in 1 2 3 4 5 6; do umount /mnt/egt$i; done
sleep 3
j=0
while [ $j -lt 6 ]; do
	ctr b3-$j hostroot 'echo x > /dev/shm/x && mkdir /dev/shm/d && echo x > /dev/mqueue/q 2>/dev/null; cat /dev/shm/x'
	ctr_quiet sb-reuse-own-devshm-lookalike-$j
	j=$((j+1))
done

rm -rf /run/egshared

rm -f /etc/egrt9-* /run/egrt9-* /tmp/egrt9-* /etc/egrt9b-* /egrt9b-* /bundles/busybox/egrt9b-* /run/egrt9b-* /tmp/egrt9b-* /egvol/egrt9b-*
escguardctl unlock && rmmod escguard || fail redteam9-rmmod
