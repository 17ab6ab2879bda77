#!/bin/busybox sh
# PID 1 of the escguard test guest: mount what a container host has, run the
# suite named on the kernel command line (escguard.suite=NAME), report, and
# power off. The runner on the host parses the ESCGUARD-* lines.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mountpoint -q /proc || mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
# Everything this guest's programs print goes to the second UART; the
# kernel's console keeps the first (qemu/run-guest.sh says why).
# (Only if that UART is there: a failed exec would end PID 1.)
if ( : > /dev/ttyS1 ) 2>/dev/null; then exec > /dev/ttyS1 2>&1; fi
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

# A guest that goes quiet is either slow or stuck; which, and where, must be
# in the log, not guessed afterwards. When the suite prints nothing for
# escguard.stall seconds (default 300), print every task's state, syscall and
# kernel stack, and the kernel's backtrace of all CPUs (sysrq l) and of blocked
# tasks (sysrq w); at most three times. Informational: slow is not a failure,
# the runner's timeout decides that.
stall_dump() { # number seconds
	echo "ESCGUARD-GUEST: stall $1: no suite output for $2 s; tasks, stacks and CPU backtraces follow"
	echo "egguest-stall $1" > /dev/kmsg
	for d in /proc/[0-9]*; do
		_stat=$(cat "$d/stat" 2>/dev/null) || continue
		_st=${_stat##*) }; _st=${_st%% *}
		echo "stall-task ${d#/proc/} $_st comm=$(cat "$d/comm" 2>/dev/null) wchan=$(cat "$d/wchan" 2>/dev/null) syscall=$(cat "$d/syscall" 2>/dev/null | cut -d' ' -f1) cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null | cut -c1-160)"
		# Kernel stacks of tasks not asleep in S: the running and the stuck.
		[ "$_st" = S ] || [ "$_st" = I ] || sed 's/^/    /' "$d/stack" 2>/dev/null
	done
	echo l > /proc/sysrq-trigger 2>/dev/null
	echo w > /proc/sysrq-trigger 2>/dev/null
	dmesg | sed -n "/egguest-stall $1\$/,\$p" | sed 1d
	echo "ESCGUARD-GUEST: stall $1 end"
}
stall_watch() { # output-file seconds
	_size=-1 _quiet=0 _n=0
	while [ "$_n" -lt 3 ] && sleep 10; do
		_now=$(wc -c < "$1")
		if [ "$_now" != "$_size" ]; then _size=$_now _quiet=0; continue; fi
		_quiet=$((_quiet + 10))
		[ "$_quiet" -ge "$2" ] || continue
		_n=$((_n + 1)) _quiet=0
		stall_dump "$_n" "$2"
	done
}

suite=$(sed -n 's/.*escguard\.suite=\([^ ]*\).*/\1/p' /proc/cmdline)
stall=$(sed -n 's/.*escguard\.stall=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "ESCGUARD-GUEST: boot ok, suite '${suite}', $(nproc) cpus"
# Where KASLR put the kernel: lets the runner name a wedged guest's
# instruction pointers from System.map (qemu/run-guest.sh).
echo "ESCGUARD-GUEST: kernel _text at $(grep -m1 ' _text$' /proc/kallsyms | cut -d' ' -f1)"
if [ -n "$suite" ] && [ -f "/tests/$suite" ]; then
	: > /run/suite.out
	stall_watch /run/suite.out "${stall:-300}" &
	watch=$!
	# The suite writes into a FIFO that tee copies out and counts; its end
	# is the suite's exit, not the FIFO's EOF, which a program the suite
	# left running (a listener) may hold off for ever.
	mkfifo /run/suite.fifo
	tee /run/suite.out < /run/suite.fifo &
	copier=$!
	( cd /tests && sh "/tests/$suite" ) < /dev/null > /run/suite.fifo 2>&1
	rc=$?
	sleep 1
	kill "$copier" "$watch" 2>/dev/null
	echo "ESCGUARD-GUEST: suite exit $rc"
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
