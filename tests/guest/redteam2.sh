# Second red-team suite: what a second review (given the README and the code
# after the first round of fixes) got past escguard, kept as tests that
# failed then -- setns(2) into the host's mount namespace (a /proc/1/ns/mnt
# fd, or pidfd_open(1)), truncate(2) and chmod(2) of a host file, setns back:
# no open, fork or exec between; setns(2) into the host's network namespace
# and a read of a host 127.0.0.1-only service. Both are judged now at the
# namespace switch itself. Also what it tried that escguard stopped (io_uring
# opens on io-wq workers) and workloads that must not be killed (cron-style
# writes to /proc/1/fd/1, a hostPID monitoring agent). Each escape test
# prints FAIL while the escape succeeds in enforce mode; each benign test
# prints FAIL on a false kill.
. /tests/lib.sh
MARK='host-only marker'

insmod "$KO" || { fail redteam2-insmod; exit 0; }
escguardctl mode enforce || fail redteam2-mode

# 1/2. setns(2) into the host's mount namespace, then path-based metadata
# calls (no open, fork or exec), then setns back: never judged.
for v in nsfile pidfd; do
	f=/rt2-victim-$v
	echo "victim data" > $f; chmod 0644 $f
	if [ $v = nsfile ]; then ns=/proc/1/ns/mnt; else ns=pid:1; fi
	ctr rt2setns$v priv-hostpid "egprobe setns-meta $ns $f"
	sz=$(wc -c < $f); md=$(stat -c %a $f)
	echo "  host victim: size=$sz mode=$md"
	if [ "$KILLED" = no ] && { [ "$sz" = 0 ] || [ "$md" = 4755 ]; }; then
		fail setns-metadata-$v "host file changed after setns into host mnt ns, no kill (size=$sz mode=$md)"
	elif [ "$sz" != 0 ] && [ "$md" != 4755 ]; then pass setns-metadata-$v
	else fail setns-metadata-$v "killed but host changed (size=$sz mode=$md)"; fi
done

# 2b. The same into a host service's *private* mount namespace (as any
# PrivateTmp= unit has): not the host's namespace, but its root is the
# host's root filesystem (red-team report 1). Judged at the switch by the
# whole resulting state.
unshare -m --propagation private sleep 600 &
SP=$!
sleep 0.5
f=/rt2-victim-privns
echo "victim data" > $f; chmod 0644 $f
ctr rt2setnsprivns priv-hostpid "egprobe setns-meta /proc/$SP/ns/mnt $f"
sz=$(wc -c < $f); md=$(stat -c %a $f)
echo "  host victim: size=$sz mode=$md"
if [ "$KILLED" = no ] && { [ "$sz" = 0 ] || [ "$md" = 4755 ]; }; then
	fail setns-metadata-privns "host file changed after setns into a host service's private mnt ns, no kill (size=$sz mode=$md)"
elif [ "$sz" != 0 ] && [ "$md" != 4755 ]; then pass setns-metadata-privns
else fail setns-metadata-privns "killed but host changed (size=$sz mode=$md)"; fi
kill $SP 2>/dev/null; wait $SP 2>/dev/null

# 3. setns(2) into the host's network namespace and read a host
# loopback-only service (no open at all).
( echo "$MARK" | nc -l -p 7777 ) &
NCP=$!
sleep 1
ctr rt2net priv-hostpid "egprobe setns-tcp /proc/1/ns/net 7777"
if echo "$OUT" | grep -q "$MARK" && [ "$KILLED" = no ]; then
	fail setns-net-loopback "host loopback service read from the container after setns, no kill"
elif ! echo "$OUT" | grep -q "$MARK"; then pass setns-net-loopback
else fail setns-net-loopback "killed after reading"; fi
kill $NCP 2>/dev/null; wait $NCP 2>/dev/null

# 4. io_uring openat on an io-wq worker (IOSQE_ASYNC) of /proc/1/root/...
ctr rt2uring1 priv-hostpid "egprobe uring-open /proc/1/root/host-marker"
if echo "$OUT" | grep -q "$MARK"; then fail uring-async-procroot "marker read via io-wq worker (killed=$KILLED)"
else pass uring-async-procroot; fi

# 5. io_uring openat after setns into the host mount namespace.
ctr rt2uring2 priv-hostpid "egprobe uring-open /host-marker /proc/1/ns/mnt"
if echo "$OUT" | grep -q "$MARK"; then fail uring-async-after-setns "marker read via io-wq worker (killed=$KILLED)"
else pass uring-async-after-setns; fi

# 6. Benign: a cron-style job writes to the container's log through
# /proc/1/fd/1 while the container's stdout is a log file on the host's
# root filesystem (runc run > /var/log/...). The job itself holds no
# descriptor on the log.
for v in file fifo; do
	rm -f /rt2-ctr-$v.log /rt2-fifo /rt2-fifo.out
	drain_events; k0=$(kills)
	make_bundle rt2cron$v '( exec </dev/null >/dev/null 2>&1; echo cronjob-line > /proc/1/fd/1 ); echo rc=$?'
	if [ $v = file ]; then
		runc run --bundle /run/bundles/rt2cron$v rt2cron$v > /rt2-ctr-$v.log 2>&1
		LOG=$(cat /rt2-ctr-$v.log)
	else
		mkfifo /rt2-fifo
		cat /rt2-fifo > /rt2-fifo.out &
		CP=$!
		runc run --bundle /run/bundles/rt2cron$v rt2cron$v > /rt2-fifo 2>&1
		wait $CP
		LOG=$(cat /rt2-fifo.out)
	fi
	EV=$(events_json)
	echo "  [rt2cron$v] log: $(flat "$LOG")"; show_ev "$EV"
	if echo "$LOG" | grep -q cronjob-line && [ "$(kills)" = "$k0" ]; then pass benign-cron-proc1-fd1-$v
	else fail benign-cron-proc1-fd1-$v "cron-style write to /proc/1/fd/1 refused or killed: $(flat "$LOG")"; fi
done

# 7. Benign: a hostPID monitoring agent reading host processes' stat,
# status, cmdline, ns links (readlink and stat -L), fd dir listing, io.
ctr rt2mon priv-hostpid 'cat /proc/1/stat /proc/1/status /proc/1/cmdline > /dev/null && readlink /proc/1/ns/net && readlink /proc/1/exe && readlink /proc/1/cwd && stat -L -c %i /proc/1/ns/net /proc/1/ns/mnt && ls /proc/1/fd > /dev/null && cat /proc/1/io /proc/1/limits > /dev/null && echo mon-ok'
if echo "$OUT" | grep -q mon-ok && [ "$KILLED" = no ]; then pass benign-hostpid-monitor
else fail benign-hostpid-monitor "killed=$KILLED: $(flat "$OUT")"; fi

# 8. Following a host task's /proc fd link is refused even for a stat
# (stat -L, lsof-style): the walk that follows it is the same one that
# would chmod or open the object (README, threat model). Reading a host
# process's memory statistics (smaps_rollup) is not its memory: fine.
ctr rt2lsof priv-hostpid 'stat -L -c %i /proc/1/fd/0 && echo lsof-ok'
if [ "$KILLED" = yes ] && ! echo "$OUT" | grep -q lsof-ok; then pass hostpid-fd-link-stat-refused
else fail hostpid-fd-link-stat-refused "killed=$KILLED: $(flat "$OUT")"; fi
ctr rt2smaps priv-hostpid 'cat /proc/1/smaps_rollup > /dev/null && echo smaps-ok'
if echo "$OUT" | grep -q smaps-ok && [ "$KILLED" = no ]; then pass benign-hostpid-smaps
else fail benign-hostpid-smaps "killed=$KILLED: $(flat "$OUT")"; fi

# 9. Sanity: the classic setns-then-open is still caught.
ctr rt2sanity priv-hostpid "egprobe setns-open /proc/1/ns/mnt /etc/passwd"
if [ "$KILLED" = yes ]; then pass sanity-setns-open; else fail sanity-setns-open "not killed: $(flat "$OUT")"; fi
