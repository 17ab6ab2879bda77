#!/bin/busybox sh
# PID 1 of the escguard test guest: mount what a container host has, run the
# suite named on the kernel command line (escguard.suite=NAME), report, and
# power off. The runner on the host parses the ESCGUARD-* lines.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mountpoint -q /proc || mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug
hostname escguard-guest
ip link set lo up 2>/dev/null
mkdir -p /run/runc

# Boot-time kmemleak reports are not ours: scan once and forget them, so the
# final scan shows only what leaked while the suite ran.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
fi

suite=$(sed -n 's/.*escguard\.suite=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "ESCGUARD-GUEST: boot ok, suite '${suite}', $(nproc) cpus"
if [ -n "$suite" ] && [ -f "/tests/$suite" ]; then
	( cd /tests && sh "/tests/$suite" ) < /dev/null
	echo "ESCGUARD-GUEST: suite exit $?"
else
	echo "ESCGUARD-GUEST: no such suite '/tests/$suite'"
fi

# A leak is only reported once the object is older than kmemleak's minimum
# age (5 s), so wait before the final scan.
if [ -w /sys/kernel/debug/kmemleak ]; then
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	echo "ESCGUARD-GUEST: kmemleak begin"
	cat /sys/kernel/debug/kmemleak
	echo "ESCGUARD-GUEST: kmemleak end"
fi
echo "ESCGUARD-GUEST: dmesg begin"
dmesg
echo "ESCGUARD-GUEST: dmesg end"
echo "ESCGUARD-GUEST: done"
sync
# QEMU runs with -no-reboot: a reboot ends it.
reboot -f
