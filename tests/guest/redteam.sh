# Red-team suite: escapes that get past escguard in enforce mode today.
# Each test prints FAIL while the escape succeeds (host data read or
# written, or host code run, with no kill and the call not refused) and
# would PASS once escguard stops it (the container killed or the call
# refused, and the host state unchanged).
#
#   1. host-pipe-inject: a hostPID container opens a host process's
#      anonymous pipe through /proc/<host pid>/fd/0 and feeds a host shell
#      commands: host code execution, and the host marker read back.
#   2. proc-root-metadata: a hostPID container changes host files through
#      /proc/1/root without opening them (unlink, truncate(2), chmod u+s,
#      symlink, rename).
#   3. leaked-fd-metadata: the same from an unprivileged container through a
#      leaked host root descriptor (/proc/self/fd/3/...).
#   4. host-environ: a hostPID container reads a host process's environment
#      (its memory) through /proc/<pid>/environ.
#   5. private-ns-tmpfs: a hostPID container reads a host file on a tmpfs in
#      a host service's private mount namespace through /proc/<pid>/root.
#   6. private-ns-bind-hostfs: the same for a file on the host's root
#      filesystem, through a read-only bind mount in a host service's private
#      mount namespace (systemd ProtectSystem=).
#   7. kill-host-log-writer: a hostPID container SIGKILLs the host's
#      escguardctl tail --output (the durable event log): no event.
. /tests/lib.sh
MARK='host-only marker'

insmod "$KO" || { fail redteam-insmod; exit 0; }
escguardctl mode enforce || fail redteam-mode

# ---- 1. Host pipe injection --------------------------------------------------
# A host shell reading commands from an anonymous pipe (any "producer | sh",
# a daemon's stdin). /proc/<pid>/fd/N of a pipe leads to pipefs, an internal
# mount of no mount namespace, not to the host's root filesystem: the object
# check does not look, and /proc/<pid>/fd needs only PTRACE_MODE_READ, which
# the ptrace_host rule does not judge. The container writes a command into
# the shell's stdin; the host shell runs it as host root in the host's
# namespaces. The command copies the host marker into the container's own
# stdout (/proc/<container pid>/fd/1) and leaves /tmp/rt-pwned on the host.
rm -f /tmp/rt-pwned
sleep 900 | sh > /tmp/rt-sh.out 2>&1 &
SHP=$!
sleep 1
if [ "$(readlink /proc/$SHP/fd/0 2>/dev/null | cut -c1-5)" != "pipe:" ]; then
	fail host-pipe-inject-setup "$(ls -l /proc/$SHP/fd 2>&1 | tr '\n' ' ')"
else
	ctr rtpipe priv-hostpid "echo \"cat /host-marker > /proc/\$\$/fd/1; id > /tmp/rt-pwned\" > /proc/$SHP/fd/0 && sleep 5"
	if [ -e /tmp/rt-pwned ] || echo "$OUT" | grep -q "$MARK"; then
		fail host-pipe-inject "host shell ran the container's command (killed=$KILLED, host file: $(cat /tmp/rt-pwned 2>/dev/null), marker in container output: $(echo "$OUT" | grep -c "$MARK"))"
	elif [ "$KILLED" = yes ]; then pass host-pipe-inject
	else fail host-pipe-inject "neither ran nor killed: $(flat "$OUT")"; fi
fi
kill $SHP 2>/dev/null
pkill_sleep() { for p in $(pidof sleep); do [ "$(cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' ')" = "sleep $1 " ] && kill "$p"; done; }
pkill_sleep 900
wait $SHP 2>/dev/null

# A host pipe read back: a host producer's output pipe, read by the container.
( while :; do echo "host-pipe-secret"; sleep 1; done ) | sleep 900 &
RDP=$!
sleep 1
if [ "$(readlink /proc/$RDP/fd/0 2>/dev/null | cut -c1-5)" = "pipe:" ]; then
	ctr rtpiperd priv-hostpid "head -n 1 /proc/$RDP/fd/0"
	if echo "$OUT" | grep -qx host-pipe-secret; then fail host-pipe-read "read a host process's pipe (killed=$KILLED)"
	elif [ "$KILLED" = yes ]; then pass host-pipe-read
	else fail host-pipe-read "neither read nor killed: $(flat "$OUT")"; fi
else
	fail host-pipe-read-setup "$(ls -l /proc/$RDP/fd 2>&1 | tr '\n' ' ')"
fi
pkill_sleep 900
kill $RDP 2>/dev/null
wait $RDP 2>/dev/null

# ---- 2. Host metadata through /proc/1/root, no open ----------------------------
# Only opens (and execs) are judged for host objects: unlink, truncate(2),
# chmod, symlink and rename of host files take a path, never a descriptor.
setup_victims() {
	rm -rf /rt && mkdir -p /rt
	echo victim > /rt/victim-rm
	echo important-host-data > /rt/victim-trunc
	echo moved > /rt/victim-mv
	cp /bin/busybox /rt/tool && chmod 755 /rt/tool
}
# check_victims NAME: FAIL if any host file changed and the container lived.
check_victims() {
	_ch=""
	[ -e /rt/victim-rm ] || _ch="$_ch unlinked"
	[ "$(cat /rt/victim-trunc 2>/dev/null)" = important-host-data ] || _ch="$_ch truncated"
	[ -u /rt/tool ] && _ch="$_ch setuid-root-binary"
	[ -L /rt/planted ] && _ch="$_ch symlink-planted"
	[ -e /rt/victim-mv ] || _ch="$_ch renamed"
	if [ -n "$_ch" ]; then fail "$1" "host files changed:$_ch (killed=$KILLED)"
	elif [ "$KILLED" = yes ]; then pass "$1"
	else fail "$1" "nothing changed, nothing killed: $(flat "$OUT")"; fi
}
META='rm -f R/rt/victim-rm; egprobe truncate R/rt/victim-trunc 0; chmod 4755 R/rt/tool; ln -s /etc/passwd R/rt/planted; mv R/rt/victim-mv R/rt/victim-mv2; ls -l R/rt/tool'
setup_victims
ctr rtmeta priv-hostpid "$(echo "$META" | sed 's|R/|/proc/1/root/|g')"
check_victims proc-root-metadata

# ---- 3. The same from an unprivileged container with a leaked host fd ----------
setup_victims
ctr rtleak '' "$(echo "$META" | sed 's|R/|/proc/self/fd/3/|g')" leak
check_victims leaked-fd-metadata

# ---- 4. A host process's environment -------------------------------------------
# /proc/<pid>/environ reads the host process's memory (access_remote_vm)
# under PTRACE_MODE_READ: ptrace_host judges only attach mode.
env RT_SECRET=s3cr3t-env-value sleep 901 &
EP=$!
sleep 1
ctr rtenv priv-hostpid "tr '\\0' '\\n' < /proc/$EP/environ | grep RT_SECRET"
if echo "$OUT" | grep -q s3cr3t-env-value; then fail host-environ "read the host process's environment (killed=$KILLED)"
elif [ "$KILLED" = yes ]; then pass host-environ
else fail host-environ "neither read nor killed: $(flat "$OUT")"; fi
kill $EP 2>/dev/null; wait $EP 2>/dev/null

# ---- 5. A host service's private mount namespace -------------------------------
# A host process in a mount namespace of its own (systemd PrivateTmp=,
# LoadCredential= ramfs, any "unshare -m" service) with a tmpfs holding
# secrets. Through /proc/<pid>/root the container reaches that tmpfs: not
# the host's mount namespace, not the host's root filesystem.
unshare -m sh -c 'mount -t tmpfs rt /mnt && echo private-ns-secret > /mnt/secret && exec sleep 902' &
PP=$!
sleep 1
ctr rtprivns priv-hostpid "cat /proc/$PP/root/mnt/secret"
if echo "$OUT" | grep -qx private-ns-secret; then fail private-ns-tmpfs "read a host service's private tmpfs (killed=$KILLED)"
elif [ "$KILLED" = yes ]; then pass private-ns-tmpfs
else fail private-ns-tmpfs "neither read nor killed: $(flat "$OUT")"; fi
kill $PP 2>/dev/null; wait $PP 2>/dev/null

# ---- 6. A host service's bind mounts on the host's root filesystem -------------
# systemd's ProtectSystem=/ReadOnlyPaths=/PrivateTmp= make read-only bind
# mounts of host directories (/etc, /usr, ...) in the service's private mount
# namespace. Through /proc/<service pid>/root/etc the container opens a file
# on the host's root filesystem, but on a mount that is neither in the host's
# namespace nor showing the whole host root: the object check passes it.
echo host-etc-secret > /etc/rt-host-secret
unshare -m sh -c 'mount --bind /etc /etc && mount -o remount,bind,ro /etc && exec sleep 903' &
BP=$!
sleep 1
ctr rtbind priv-hostpid "cat /proc/$BP/root/etc/rt-host-secret"
if echo "$OUT" | grep -qx host-etc-secret; then fail private-ns-bind-hostfs "read a host root-fs file through a host service's bind mount (killed=$KILLED)"
elif [ "$KILLED" = yes ]; then pass private-ns-bind-hostfs
else fail private-ns-bind-hostfs "neither read nor killed: $(flat "$OUT")"; fi
kill $BP 2>/dev/null; wait $BP 2>/dev/null
rm -f /etc/rt-host-secret

# ---- 7. Blinding the event pipeline --------------------------------------------
# kill(2) is not judged: a hostPID container SIGKILLs the host's durable log
# writer (escguardctl tail --output); events after that reach no log.
escguardctl tail -f --output /tmp/rt-events.log &
TP=$!
sleep 1
ctr rtkill priv-hostpid "kill -9 $TP"
sleep 1
if ! alive $TP; then fail kill-host-log-writer "host escguardctl tail killed by a container (container killed=$KILLED, events=$(ev_n "$EV"))"
elif [ "$KILLED" = yes ]; then pass kill-host-log-writer
else fail kill-host-log-writer "neither: $(flat "$OUT")"; fi
kill $TP 2>/dev/null; wait $TP 2>/dev/null

setup_victims
# Controls: the classic routes are still stopped (shows the module is armed).
ctr rtctl1 priv-hostpid "cat /proc/1/root/host-marker"
if echo "$OUT" | grep -q "$MARK" || [ "$KILLED" != yes ]; then fail control-proc1-root-read "$(flat "$OUT")"; else pass control-proc1-root-read; fi
ctr rtctl2 priv-hostpid "echo x > /proc/1/root/rt/victim-trunc"
if [ "$(cat /rt/victim-trunc 2>/dev/null)" = important-host-data ] && [ "$KILLED" = yes ]; then pass control-proc1-root-write
else fail control-proc1-root-write "$(cat /rt/victim-trunc 2>/dev/null) killed=$KILLED"; fi

rm -rf /rt /tmp/rt-pwned /tmp/rt-sh.out
escguardctl status
