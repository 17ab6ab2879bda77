# Tenth red-team suite (2026-12-05; the fifteenth review: a helper given
# only the README and the code at a9e2a39). Each attack test was a FAIL
# against that commit, reproduced in the guest (host effect, no kill, no
# refusal, no event):
#   pty-read-*       an unprivileged container with a read-only host-root
#       volume reads a host terminal's input (an admin's password at a
#       prompt) through the host's devpts carried below the volume, or
#       opens it read-only to change its settings (stty -echo): a device
#       node opened for reading was not judged. A character device, like
#       a FIFO, is a channel: judged by the grants when opened for reading
#       too (stateless devices and /dev/kmsg excepted).
#   propagation-*    a privileged container whose read-only host-root
#       volume the runtime made `rshared` (Kubernetes' Bidirectional
#       propagation) binds its own program over a host file, moves its
#       own tmpfs over a host directory, or unmounts a host filesystem:
#       each change propagates to the host's mount namespace, and host
#       programs then read and run the container's files. A mount-tree
#       change below a shared mount of a host filesystem the container may
#       not write is now judged as the write it is, before it is made.
# Then a sixteenth review, of those fixes (each a FAIL against 08a4598):
#   propagation-umount-subtree-rbind, propagation-late-host-mount-via-rbind
#       the same changes through the container's own rbind of the volume
#       (peers of the host's mounts outside /host): a lazy unmount of the
#       bind took a host mount; a bind over a host tmpfs mounted after the
#       container started replaced a host file. A change is now judged
#       where it lands *as the host sees it*: every mount of the host's
#       namespace that is a peer of its parent or a slave of its group,
#       climbed to the host's root against the container's grants, and
#       an unmount for each mount it detaches.
#   own-shared-*-lookalike (a false kill): a volume or root the container
#       made shared itself is a peer group of its own; nothing reaches the
#       host.
# Look-alikes: the container's own pty, /dev/null and /dev/kmsg through the
# volume, mounts below a volume the container may write with bidirectional
# propagation (a CSI node plugin's), below its own shared root, and below a
# read-only host volume without propagation (runc's default rslave).
. /tests/lib.sh
insmod "$KO" || { fail redteam10-insmod; exit 0; }
escguardctl mode enforce

# acted: escguard killed the last ctr's task or reported it.
acted() { [ "$KILLED" = yes ] || [ "$(ev_n "$EV")" -ge 1 ]; }

# ---- P: host terminals through the carried devpts --------------------------
# A host terminal (a pty pair): its "user" types a line after 4 s.
rm -f /tmp/egp1n
egprobe pty-type /tmp/egp1n 4 'SECRET-P1-root-password' > /tmp/egp1.out & _pt=$!
sleep 1
N=$(cat /tmp/egp1n)
ctr p1 hostroot "head -n1 /host/dev/pts/$N"
wait $_pt
if ! echo "$OUT" | grep -q SECRET-P1 && acted; then pass pty-read-steal-hostroot
else fail pty-read-steal-hostroot "killed=$KILLED events=$(ev_n "$EV"): $(flat "$OUT")"; fi
# The same read-only open to switch the terminal's echo off.
rm -f /tmp/egp2n
egprobe pty-type /tmp/egp2n 3 'x' > /tmp/egp2.out & _pt=$!
sleep 1
N=$(cat /tmp/egp2n)
ctr p2 hostroot "stty -echo < /host/dev/pts/$N; echo stty-rc=\$?"
wait $_pt
if grep -q host-echo=on /tmp/egp2.out && acted; then pass pty-read-termios-hostroot
else fail pty-read-termios-hostroot "killed=$KILLED host side: $(flat "$(cat /tmp/egp2.out)")"; fi
# The same as a privileged container (every capability, every device).
rm -f /tmp/egp5n
egprobe pty-type /tmp/egp5n 4 'SECRET-P5' > /tmp/egp5.out & _pt=$!
sleep 1
N=$(cat /tmp/egp5n)
ctr p5 priv-hostroot "head -n1 /host/dev/pts/$N"
wait $_pt
if ! echo "$OUT" | grep -q SECRET-P5 && acted; then pass pty-read-steal-priv-hostroot
else fail pty-read-steal-priv-hostroot "killed=$KILLED events=$(ev_n "$EV"): $(flat "$OUT")"; fi
# Control: the write (stopped since the twelfth review).
rm -f /tmp/egp3n
egprobe pty-listen /tmp/egp3n 8 > /tmp/egp3.out & _pl=$!
sleep 1
N=$(cat /tmp/egp3n)
ctr p3 hostroot "echo EVIL-P3 > /host/dev/pts/$N; echo wrote"
sleep 1; kill $_pl 2>/dev/null; wait $_pl 2>/dev/null
if ! grep -q EVIL-P3 /tmp/egp3.out && acted; then pass pty-write-control
else fail pty-write-control "host pty written, killed=$KILLED"; fi
# Look-alikes: the container's own pty; /dev/null, /dev/urandom and the
# kernel log (each reader its own position) read through the volume.
ctr p4 hostroot "exec 3<>/dev/ptmx && echo ptmx-ok"
ctr_quiet own-ptmx-lookalike
ctr p6 hostroot "cat /host/dev/null && head -c 8 /host/dev/urandom > /dev/null && echo ok"
ctr_quiet stateless-device-read-lookalike
ctr p7 priv-hostroot "dd if=/host/dev/kmsg of=/dev/null bs=8192 count=1 iflag=nonblock 2>/dev/null; echo kmsg-read"
ctr_quiet kmsg-read-lookalike

# ---- M: mount propagation into the host's namespace ------------------------
# The host's / shared (as systemd makes it); the container root a mount of
# its own (as an overlay root is: runc would otherwise make the host's /,
# which holds the rootfs directory, private); the volume rshared and the
# root propagation rshared, as containerd sets Bidirectional.
mount --make-rshared /
mount --bind /bundles/busybox/rootfs /bundles/busybox/rootfs
RSH='/"destination": "\/host"/,/\]/ s|"ro"|"ro", "rshared"|; s|"linux": {|"linux": {"rootfsPropagation": "rshared",|'
printf '#!/bin/sh\necho benign > /tmp/egm1.ran\n' > /etc/egrt10-job; chmod 755 /etc/egrt10-job
rm -f /tmp/egm1.ran /egm1-pwned
ctr_sed m1 priv-hostroot "$RSH" "printf '#!/bin/sh\necho PWNED > /egm1-pwned\n' > /dev/egm1 && chmod 755 /dev/egm1 && mount --bind /dev/egm1 /host/etc/egrt10-job && echo bound"
/etc/egrt10-job 2>/dev/null
if [ ! -e /egm1-pwned ] && [ -e /tmp/egm1.ran ] && acted \
	&& echo "$EV" | grep -q '"target":"mount (propagates to the host) on /host/etc/egrt10-job"'; then pass propagation-overmount-host-file
else fail propagation-overmount-host-file "killed=$KILLED events=$(ev_n "$EV") pwned=$([ -e /egm1-pwned ] && echo yes || echo no): $(flat "$OUT")"; fi
umount /etc/egrt10-job 2>/dev/null
rm -f /egm1-pwned /tmp/egm1.ran
# A directory: the container's tmpfs moved over it (/etc/cron.d would be).
mkdir -p /etc/egrt10-cron.d; echo orig > /etc/egrt10-cron.d/job
ctr_sed m2 priv-hostroot "$RSH" "mkdir -p /dev/egm2 && mount -t tmpfs t /dev/egm2 && echo EVIL > /dev/egm2/job && mount --move /dev/egm2 /host/etc/egrt10-cron.d && echo moved"
if [ "$(cat /etc/egrt10-cron.d/job)" = orig ] && acted; then pass propagation-move-over-host-dir
else fail propagation-move-over-host-dir "killed=$KILLED host job: $(cat /etc/egrt10-cron.d/job)"; fi
umount /etc/egrt10-cron.d 2>/dev/null
# The same with a new tmpfs mounted there directly.
ctr_sed m5 priv-hostroot "$RSH" "mount -t tmpfs t /host/etc/egrt10-cron.d && echo EVIL > /host/etc/egrt10-cron.d/job; echo mounted"
if [ "$(cat /etc/egrt10-cron.d/job)" = orig ] && acted; then pass propagation-mount-over-host-dir
else fail propagation-mount-over-host-dir "killed=$KILLED host job: $(cat /etc/egrt10-cron.d/job)"; fi
umount /etc/egrt10-cron.d 2>/dev/null
# The new mount API: fsopen/fsmount, then move_mount onto the host path.
ctr_sed m6 priv-hostroot "$RSH" "egprobe fsmount-at tmpfs /host/etc/egrt10-cron.d; echo done"
if [ "$(cat /etc/egrt10-cron.d/job)" = orig ] && acted; then pass propagation-move-mount-over-host-dir
else fail propagation-move-mount-over-host-dir "killed=$KILLED host job: $(cat /etc/egrt10-cron.d/job): $(flat "$OUT")"; fi
umount /etc/egrt10-cron.d 2>/dev/null
rm -rf /etc/egrt10-cron.d
# An unmount: a host filesystem taken from the host's own namespace.
mkdir -p /mnt/egm4; mount -t tmpfs t /mnt/egm4; echo keep > /mnt/egm4/f
ctr_sed m4 priv-hostroot "$RSH" "umount /host/mnt/egm4 && echo unmounted"
if [ -f /mnt/egm4/f ] && acted && echo "$EV" | grep -q '"target":"unmount (propagates to the host) of /host/mnt/egm4"'; then pass propagation-umount-host
else fail propagation-umount-host "killed=$KILLED host /mnt/egm4/f: $(cat /mnt/egm4/f 2>&1)"; fi
ctr_sed m7 priv-hostroot "$RSH" "umount -l /host/mnt/egm4 && echo unmounted"
if [ -f /mnt/egm4/f ] && acted; then pass propagation-umount-lazy-host
else fail propagation-umount-lazy-host "killed=$KILLED host /mnt/egm4/f: $(cat /mnt/egm4/f 2>&1)"; fi
umount /mnt/egm4 2>/dev/null
# Look-alikes: mounts below the container's own shared root; a writable
# bidirectional volume of a host directory (a CSI node plugin's: what it
# mounts there is meant to reach the host); the read-only volume without
# propagation (runc's default rslave), where nothing reaches the host.
ctr_sed l1 priv-hostroot "$RSH" "mount -t tmpfs t /mnt && echo x > /mnt/f && umount /mnt && echo ok"
ctr_quiet propagation-own-root-lookalike
mkdir -p /mnt/egcsi
CSI='/"destination": "\/host"/,/\]/ { s|"source": "/"|"source": "/mnt/egcsi"|; s|"ro"|"rw", "rshared"|; }; s|"linux": {|"linux": {"rootfsPropagation": "rshared",|'
ctr_sed l2 priv-hostroot "$CSI" "mkdir -p /host/vol1 && mount -t tmpfs t /host/vol1 && echo data > /host/vol1/f && echo ok"
if [ "$(cat /mnt/egcsi/vol1/f 2>/dev/null)" = data ]; then ctr_quiet propagation-csi-volume-lookalike
else fail propagation-csi-volume-lookalike "the mount did not reach the host (test setup): $(flat "$OUT")"; fi
umount /mnt/egcsi/vol1 2>/dev/null
ctr_sed l3 priv-hostroot "$CSI" "umount /host/vol1 2>/dev/null; mount -t tmpfs t /host/vol1 && umount /host/vol1 && echo ok"
ctr_quiet propagation-csi-umount-lookalike
umount /mnt/egcsi/vol1 2>/dev/null
rm -rf /mnt/egcsi
# Sixteenth review: the same through a bind the container made of the
# volume (an rbind keeps the peer groups), and a false kill.
ismnt() { grep -q " $1 " /proc/mounts; }
mkdir -p /mnt/egu1; mount -t tmpfs egu1 /mnt/egu1; echo keep > /mnt/egu1/f
# An rbind of a host directory's tree below the container's own /dev,
# detached lazily: the kernel propagates each detached mount's removal to
# its parent's peers, the host's /mnt/egu1 among them.
ctr_sed u1 priv-hostroot "$RSH" "mkdir -p /dev/b && mount --rbind /host/mnt /dev/b && cat /dev/b/egu1/f && umount -l /dev/b && echo detached"
if [ -f /mnt/egu1/f ] && acted; then pass propagation-umount-subtree-rbind
else fail propagation-umount-subtree-rbind "killed=$KILLED host /mnt/egu1 mounted: $(ismnt /mnt/egu1 && echo yes || echo no)"; fi
ismnt /mnt/egu1 || { mount -t tmpfs egu1 /mnt/egu1; echo keep > /mnt/egu1/f; }
# A plain bind (no children) detached: nothing of the host's goes.
ctr_sed u2 priv-hostroot "$RSH" "mkdir -p /dev/b && mount --bind /host/mnt /dev/b && umount -l /dev/b && echo ok"
if [ -f /mnt/egu1/f ]; then ctr_quiet propagation-plain-bind-umount-lookalike
else fail propagation-plain-bind-umount-lookalike "host mount gone"; fi
ismnt /mnt/egu1 || { mount -t tmpfs egu1 /mnt/egu1; echo keep > /mnt/egu1/f; }
umount /mnt/egu1
# A host filesystem mounted after the container started (a new pod's
# secret tmpfs) reaches the volume; bound over through the container's own
# rbind of the volume: no carried filesystem, no grant of its own, but the
# host sees the change below its read-only /.
rm -rf /mnt/eglate; mkdir -p /mnt/eglate
(sleep 5; mount -t tmpfs eglate /mnt/eglate; echo orig > /mnt/eglate/job) &
ctr_sed u3 priv-hostroot "$RSH" "sleep 12; cat /host/mnt/eglate/job && mkdir -p /dev/b && mount --rbind /host/mnt /dev/b && echo EVIL > /dev/evil && mount --bind /dev/evil /dev/b/eglate/job && echo bound"
wait
if [ "$(cat /mnt/eglate/job 2>&1)" = orig ] && acted && echo "$OUT" | grep -q '^orig'; then pass propagation-late-host-mount-via-rbind
else fail propagation-late-host-mount-via-rbind "killed=$KILLED host: $(cat /mnt/eglate/job 2>&1): $(flat "$OUT")"; fi
umount /mnt/eglate/job 2>/dev/null; umount /mnt/eglate 2>/dev/null; rm -rf /mnt/eglate
umount /bundles/busybox/rootfs
mount --make-rprivate /
# A peer group of the container's own (runc's default rslave volume made
# shared by the container, or its / made rshared as systemd as PID 1
# does): a mount and an unmount below it reach nothing of the host's.
# (Writes into a filesystem mounted below a read-only host-root volume are
# judged as the host's whoever mounted it: README, known gaps.)
ctr f1 priv-hostroot "mount --make-rshared /host && mount -t tmpfs t /host/mnt && umount /host/mnt && echo ok"
ctr_quiet own-shared-volume-mount-lookalike
ctr f2 priv-hostroot "mount --make-rshared / && mount -t tmpfs t /host/mnt && umount /host/mnt && echo ok"
ctr_quiet own-shared-root-mount-lookalike
printf '#!/bin/sh\necho benign\n' > /etc/egrt10-job3; chmod 755 /etc/egrt10-job3
ctr l4 priv-hostroot "printf '#!/bin/sh\necho PWNED\n' > /dev/egm3 && chmod 755 /dev/egm3 && mount --bind /dev/egm3 /host/etc/egrt10-job3 && mount -t tmpfs t /host/mnt && echo bound"
if grep -q PWNED /etc/egrt10-job3; then fail propagation-rslave-lookalike "propagated without rshared"
else ctr_quiet propagation-rslave-lookalike; fi
rm -f /etc/egrt10-job /etc/egrt10-job3

escguardctl unlock && rmmod escguard || fail redteam10-rmmod
