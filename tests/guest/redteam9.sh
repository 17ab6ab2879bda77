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

rm -f /etc/egrt9-* /run/egrt9-* /tmp/egrt9-*
escguardctl unlock && rmmod escguard || fail redteam9-rmmod
