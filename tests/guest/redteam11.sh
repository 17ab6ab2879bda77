# Eleventh red-team suite (2026-12-05; the seventeenth review: a helper
# given only the README and the code at 9f11118). Each attack test was a
# FAIL against that commit, reproduced in the guest (host effect, no kill,
# no refusal, no event), and passes since:
#   beneath-setgroup-over-host-dir   a privileged container whose read-only
#       host-root volume is rshared (Bidirectional) binds the host's /etc
#       below its own /dev, makes the bind private, mounts a tmpfs on a
#       directory there (nothing propagates: the parent is private), puts
#       the bind back into the host's peer group (move_mount
#       MOVE_MOUNT_SET_GROUP: "to" is private, so never judged), then
#       mounts its own tmpfs with MOVE_MOUNT_BENEATH under that tmpfs. The
#       kernel attaches the new mount on the *parent* of the top mount --
#       the bind, now a peer of the host's / -- and propagates it to the
#       host's /etc/<dir>. escguard judged the landing as the top mount
#       (private: "nothing propagates") and let it through.
#   beneath-tucked-under-host-mount  the same without SET_GROUP: the
#       container's copy of a host mount made private (or slave), a mount
#       BENEATH it propagates to the host, tucked under the host's mount.
#   hostnet-sysfs-umount-host-cgroup a privileged host-network container
#       with a rw /sys (as --privileged gives) and an rshared read-only
#       host-root volume unmounts the host's cgroup2 hierarchy through
#       /host/sys/fs/cgroup: the landing climbs to the sysfs root, which
#       is the container's own *writable* /sys grant (the host's sysfs
#       instance, shared by network namespace).
#   scan-budget-own-root-false-kill  (false kill) a mount on the
#       container's own rshared root on a node with ~3000 mounts: the
#       lock-free scan of the host namespace runs out of budget and
#       answers read-only, and the container is killed.
# The fixes: move_mount(2) onto a mount's root is judged both where it
# attaches on top and where MOVE_MOUNT_BENEATH would attach (the LSM hook
# does not see the flag); a kernel filesystem's writable grant (sysfs,
# procfs, cgroupfs, ...) does not make the host's mounts on it the
# container's; the landing scan has a budget of its own (65,536 reads).
. /tests/lib.sh
insmod "$KO" || { fail redteam11-insmod; exit 0; }
escguardctl mode enforce

acted() { [ "$KILLED" = yes ] || [ "$(ev_n "$EV")" -ge 1 ]; }
ismnt() { grep -q " $1 " /proc/mounts; }

mount --make-rshared /
mount --bind /bundles/busybox/rootfs /bundles/busybox/rootfs
RSH='/"destination": "\/host"/,/\]/ s|"ro"|"ro", "rshared"|; s|"linux": {|"linux": {"rootfsPropagation": "rshared",|'

# ---- B: MOVE_MOUNT_BENEATH ---------------------------------------------------
mkdir -p /etc/egrt17.d; echo orig > /etc/egrt17.d/job
ctr_sed b1 priv-hostroot "$RSH" "mkdir -p /dev/x && mount --bind /host/etc /dev/x && mount --make-private /dev/x && mount -t tmpfs t /dev/x/egrt17.d && egprobe set-group /host /dev/x && egprobe fsmount-beneath tmpfs /dev/x/egrt17.d; cat /host/etc/egrt17.d/job"
echo "  host /etc/egrt17.d/job: $(cat /etc/egrt17.d/job 2>&1); mounts there: $(grep -c ' /etc/egrt17.d ' /proc/mounts)"
if [ "$(cat /etc/egrt17.d/job 2>&1)" = orig ] && ! ismnt /etc/egrt17.d && acted; then pass beneath-setgroup-over-host-dir
else fail beneath-setgroup-over-host-dir "killed=$KILLED events=$(ev_n "$EV") host job: $(cat /etc/egrt17.d/job 2>&1): $(flat "$OUT")"; fi
while ismnt /etc/egrt17.d; do umount /etc/egrt17.d || break; done
# Control: after the same SET_GROUP, a plain mount on the bind is judged.
mkdir -p /etc/egrt17b.d; echo orig > /etc/egrt17b.d/job
ctr_sed b2 priv-hostroot "$RSH" "mkdir -p /dev/x && mount --bind /host/etc /dev/x && mount --make-private /dev/x && egprobe set-group /host /dev/x && egprobe fsmount-at tmpfs /dev/x/egrt17b.d; echo done"
if [ "$(cat /etc/egrt17b.d/job 2>&1)" = orig ] && acted; then pass setgroup-plain-mount-control
else fail setgroup-plain-mount-control "killed=$KILLED host job: $(cat /etc/egrt17b.d/job 2>&1): $(flat "$OUT")"; fi
while ismnt /etc/egrt17b.d; do umount /etc/egrt17b.d || break; done
# Control: BENEATH a host mount's copy that is still a peer (shared) is judged.
mkdir -p /mnt/egb; mount -t tmpfs egb /mnt/egb; echo orig > /mnt/egb/job
ctr_sed b3 priv-hostroot "$RSH" "egprobe fsmount-beneath tmpfs /host/mnt/egb; echo done"
if [ "$(grep -c ' /mnt/egb ' /proc/mounts)" = 1 ] && acted; then pass beneath-shared-top-control
else fail beneath-shared-top-control "killed=$KILLED mounts at /mnt/egb: $(grep -c ' /mnt/egb ' /proc/mounts)"; fi
while ismnt /mnt/egb; do umount /mnt/egb || break; done
# The same top made private by the container first: the mount BENEATH it
# lands on the host's /, tucked under the host's /mnt/egb (shown when the
# host unmounts its tmpfs, as a pod's teardown does).
mount -t tmpfs egb /mnt/egb; echo orig > /mnt/egb/job
ctr_sed b4 priv-hostroot "$RSH" "mount --make-private /host/mnt/egb && egprobe fsmount-beneath tmpfs /host/mnt/egb; echo done"
_n=$(grep -c ' /mnt/egb ' /proc/mounts); umount /mnt/egb
echo "  host mounts at /mnt/egb: $_n; after the host's umount: $(cat /mnt/egb/job 2>&1)"
if [ "$_n" = 1 ] && acted; then pass beneath-tucked-under-host-mount
else fail beneath-tucked-under-host-mount "killed=$KILLED events=$(ev_n "$EV") host mounts at /mnt/egb: $_n, job after host umount: $(cat /mnt/egb/job 2>&1)"; fi
while ismnt /mnt/egb; do umount /mnt/egb || break; done
# Look-alike: BENEATH a mount of the container's own (below its /dev).
ctr_sed b5 priv-hostroot "$RSH" "mkdir -p /dev/y && mount -t tmpfs t /dev/y && egprobe fsmount-beneath tmpfs /dev/y && cat /dev/y/job >/dev/null; umount /dev/y; umount /dev/y; echo ok"
ctr_quiet beneath-own-mount-lookalike
rm -rf /etc/egrt17.d /etc/egrt17b.d

# ---- S: sysfs of the host's network namespace as a writable grant ------------
NETSYS='s|"type": "network"|"type": "network", "path": "/proc/1/ns/net"|; /"destination": "\/sys"/,/\]/ s|"ro"|"rw"|'
if ismnt /sys/fs/cgroup; then
	ctr_sed s1 priv-hostroot "$RSH; $NETSYS" "grep -c cgroup /proc/mounts; umount -l /host/sys/fs/cgroup && echo unmounted"
	if ismnt /sys/fs/cgroup && acted; then pass hostnet-sysfs-umount-host-cgroup
	else fail hostnet-sysfs-umount-host-cgroup "killed=$KILLED events=$(ev_n "$EV") host /sys/fs/cgroup mounted: $(ismnt /sys/fs/cgroup && echo yes || echo no): $(flat "$OUT")"; fi
	ismnt /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
	# Control: the same with /sys read-only (runc's default).
	ctr_sed s2 priv-hostroot "$RSH; s|\"type\": \"network\"|\"type\": \"network\", \"path\": \"/proc/1/ns/net\"|" "umount -l /host/sys/fs/cgroup && echo unmounted"
	if ismnt /sys/fs/cgroup && acted; then pass hostnet-sysfs-ro-control
	else fail hostnet-sysfs-ro-control "killed=$KILLED mounted: $(ismnt /sys/fs/cgroup && echo yes || echo no)"; fi
	ismnt /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
	fail hostnet-sysfs-umount-host-cgroup "no cgroup2 at /sys/fs/cgroup on the host (setup)"
fi

# ---- F: scan budget on a busy node (false kill) --------------------------------
mkdir -p /mnt/egcsi
CSI='/"destination": "\/host"/,/\]/ { s|"source": "/"|"source": "/mnt/egcsi"|; s|"ro"|"rw", "rshared"|; }; s|"linux": {|"linux": {"rootfsPropagation": "rshared",|'
ctr_sed f0 priv-hostroot "$CSI" "mkdir -p /host/vol0 && mount -t tmpfs t /host/vol0 && umount /host/vol0 && echo ok"
ctr_quiet csi-few-mounts-lookalike
ctr_sed f2 priv-hostroot "$RSH" "mount -t tmpfs t /mnt && echo x > /mnt/f && umount /mnt && echo ok"
ctr_quiet own-root-mount-few-host-mounts-lookalike
mkdir -p /mnt/many; mount -t tmpfs many /mnt/many; mount --make-private /mnt/many
egprobe mount-many /mnt/many 3000
echo "  host mounts: $(wc -l < /proc/self/mountinfo)"
ctr_sed f1 priv-hostroot "$CSI" "mkdir -p /host/vol1 && mount -t tmpfs t /host/vol1 && echo data > /host/vol1/f && umount /host/vol1 && echo ok"
ctr_quiet scan-budget-csi-busy-node-lookalike
# A mount on the container's own (shared) root, as redteam10's
# propagation-own-root-lookalike, on a node with ~3000 mounts.
ctr_sed f3 priv-hostroot "$RSH" "mount -t tmpfs t /mnt && echo x > /mnt/f && umount /mnt && echo ok"
ctr_quiet scan-budget-own-root-false-kill
umount -l /mnt/many; rm -rf /mnt/egcsi

umount /bundles/busybox/rootfs
mount --make-rprivate /
escguardctl unlock && rmmod escguard || fail redteam11-rmmod
