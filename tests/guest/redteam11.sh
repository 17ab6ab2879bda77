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
# And the eighteenth review's two false kills (planted-exec-dead-root-*,
# section P) and vhangup(2) on an admin's terminal (section V). The fixes: move_mount(2) onto a mount's root is judged both where it
# attaches on top and where MOVE_MOUNT_BENEATH would attach (the LSM hook
# does not see the flag); a kernel filesystem's writable grant (sysfs,
# procfs, cgroupfs, ...) does not make the host's mounts on it the
# container's; the landing scan has a budget of its own (65,536 reads); a
# recorded root counts for planted_exec only while its container's cgroup
# exists.
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

# ---- P (eighteenth review; false kills, each a FAIL against 01b74eb) -----------
# A host program killed as "planted" by a container that is gone: its
# root's identity (device and inode number) was handed out again -- a
# loop device number and a filesystem's fixed root inode, or an inode
# number ext4 reused at once. Only the root of a container whose cgroup
# still exists counts now.
mkdir -p /egl/a /egl/b
dd if=/dev/zero of=/egl/a.img bs=1M count=24 2>/dev/null; mke2fs -F /egl/a.img > /dev/null 2>&1
mount -o loop /egl/a.img /egl/a && cp -a /bundles/busybox/rootfs/. /egl/a/
_ida=$(stat -c '%d:%i' /egl/a); _loopa=$(grep ' /egl/a ' /proc/mounts | cut -d' ' -f1)
ctr_sed p1 "" 's|"path": "/bundles/busybox/rootfs"|"path": "/egl/a"|' "echo in-container"
ctr_quiet planted-exec-loop-container-runs
umount /egl/a; losetup -d "$_loopa" 2>/dev/null
# The container is gone. The host mounts another disk image (a tools disk,
# a backup, a new pod's volume) and runs a program from it.
dd if=/dev/zero of=/egl/b.img bs=1M count=8 2>/dev/null; mke2fs -F /egl/b.img > /dev/null 2>&1
mount -o loop /egl/b.img /egl/b && cp /bin/busybox /egl/b/busybox
_idb=$(stat -c '%d:%i' /egl/b)
echo "  dead container's root: $_ida on $_loopa; host disk's root: $_idb on $(grep ' /egl/b ' /proc/mounts | cut -d' ' -f1)"
drain_events; _k0=$(kills)
OUT=$(/egl/b/busybox echo host-tool-ran 2>&1; echo rc=$?)
EV=$(events_json); KILLED=no; [ "$(kills)" = "$_k0" ] || KILLED=yes
echo "  host program: $(flat "$OUT") killed=$KILLED"; show_ev "$EV"
if echo "$OUT" | grep -q host-tool-ran && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then pass planted-exec-dead-root-loop-false-kill
else fail planted-exec-dead-root-loop-false-kill "a host program refused as planted by a dead container (root $_ida): killed=$KILLED events=$(ev_n "$EV")"; fi
umount /egl/b; rm -rf /egl
# The same by inode reuse on the host's root filesystem: the dead
# container's rootfs directory removed, a host directory made in its place.
mkdir -p /egi && cp -a /bundles/busybox/rootfs /egi/r
_ia=$(stat -c %i /egi/r)
ctr_sed p2 "" 's|"path": "/bundles/busybox/rootfs"|"path": "/egi/r"|' "echo in-container"
rm -rf /egi/r; mkdir /egi/tools; _ib=$(stat -c %i /egi/tools)
cp /bin/busybox /egi/tools/busybox
drain_events; _k0=$(kills)
OUT=$(/egi/tools/busybox echo host-tool-ran 2>&1; echo rc=$?)
EV=$(events_json); KILLED=no; [ "$(kills)" = "$_k0" ] || KILLED=yes
echo "  dead container's root inode $_ia, host directory's inode $_ib: $(flat "$OUT") killed=$KILLED"; show_ev "$EV"
if echo "$OUT" | grep -q host-tool-ran && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then pass planted-exec-dead-root-inode-false-kill
else fail planted-exec-dead-root-inode-false-kill "inode $_ia reused: killed=$KILLED events=$(ev_n "$EV")"; fi
rm -rf /egi
# ---- V (eighteenth review; a FAIL against 01b74eb) ---------------------------
# vhangup(2) by a container program a host admin runs (nsenter) on the
# admin's terminal hung it up -- the act TIOCVHANGUP is refused for,
# without tty_ioctl(). The syscall is judged as that act now.
make_bundle r18v 'sleep 120'
runc run -d --bundle /run/bundles/r18v r18v < /dev/null > /dev/null 2>&1
sleep 1
CP=$(runc state r18v 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo "  container init: pid $CP"
admin_shell() { # TTY: a host admin's shell reading commands from TTY; prints its pid
	setsid sh -c "exec sh < /dev/$1 > /dev/null 2>&1" < /dev/null > /dev/null 2>&1 &
	sleep 1
	for c in /proc/[0-9]*; do [ "$(readlink $c/fd/0 2>/dev/null)" = "/dev/$1" ] && echo ${c#/proc/}; done | head -1
}
# Control: TIOCVHANGUP from the same program is refused.
cat > /eg18-admin4.sh <<EOS
nsenter -t $CP -m -u -i -n -p -r -w /usr/bin/egprobe tty /dev/tty hangup > /eg18-admin4.out 2>&1
EOS
drain_events; _k0=$(kills)
ASH4=$(admin_shell tty4)
egprobe tty /dev/tty4 inject 'sh /eg18-admin4.sh\n' > /dev/null
sleep 3
EV=$(events_json); KILLED=no; [ "$(kills)" = "$_k0" ] || KILLED=yes
echo "  admin shell on tty4: pid $ASH4, alive after TIOCVHANGUP: $(alive "$ASH4" && echo yes || echo no); program: $(cat /eg18-admin4.out 2>&1 | tr '\n' ' ')"
if alive "$ASH4" && acted; then pass tiocvhangup-admin-terminal-control
else fail tiocvhangup-admin-terminal-control "killed=$KILLED events=$(ev_n "$EV") shell alive: $(alive "$ASH4" && echo yes || echo no)"; fi
cat > /eg18-admin3.sh <<EOS
nsenter -t $CP -m -u -i -n -p -r -w /usr/bin/egprobe vhangup > /eg18-admin3.out 2>&1
EOS
drain_events; _k0=$(kills)
ASH=$(admin_shell tty3)
egprobe tty /dev/tty3 inject 'sh /eg18-admin3.sh\n' > /dev/null
sleep 3
EV=$(events_json); KILLED=no; [ "$(kills)" = "$_k0" ] || KILLED=yes
echo "  admin shell on tty3: pid $ASH, alive after vhangup: $(alive "$ASH" && echo yes || echo no); program: $(cat /eg18-admin3.out 2>&1 | tr '\n' ' ')"
show_ev "$EV"
if [ -n "$ASH" ] && alive "$ASH" && acted; then pass vhangup-admin-terminal
else fail vhangup-admin-terminal "shell ${ASH:-not found} alive: $(alive "$ASH" && echo yes || echo no), killed=$KILLED events=$(ev_n "$EV")"; fi
runc kill r18v KILL 2>/dev/null; sleep 1; runc delete -f r18v 2>/dev/null
kill -9 $ASH4 $ASH 2>/dev/null

escguardctl unlock && rmmod escguard || fail redteam11-rmmod
