# Third red-team suite: what a review of the Rust hook layer (given the
# README and the code) got past escguard, kept as tests that failed then:
# following /proc/<host pid>/map_files/* (its get_link inlines the hooked
# proc_pid_get_link), kill(2) of a host process group, I/O port access by
# ioperm/iopl and /dev/cpu/N/msr (kernel memory without /dev/mem or
# /dev/port), ptrace of a host task the table could not hold, and a
# directory chain deep enough to stall the dentry walk (bounded now: deeper
# than any real tree is refused). Each escape test prints FAIL while the
# escape succeeds in enforce mode; each look-alike prints FAIL on a false
# kill.
. /tests/lib.sh

insmod "$KO" || { fail redteam3-insmod; exit 0; }

# stopped NAME RULE: the command was killed, its call refused, one event
# naming RULE.
stopped() {
	if [ "$KILLED" = yes ] && echo "$EV" | grep -q "\"rule\":\"$2\"" && echo "$EV" | grep -q '"denied":true'; then
		pass "$1"
	else fail "$1" "killed=$KILLED rule/denied missing: $(flat "$OUT")"; fi
}
# stopped_as NAME REASON: the same, for an escape event (no rule).
stopped_as() {
	if [ "$KILLED" = yes ] && echo "$EV" | grep -q "\"reason\":\"$2\"" && echo "$EV" | grep -q '"denied":true'; then
		pass "$1"
	else fail "$1" "killed=$KILLED reason/denied missing: $(flat "$OUT")"; fi
}
# quiet NAME: completed (rc=0), no event, nothing killed.
quiet() {
	if echo "$OUT" | grep -q 'rc=0' && [ "$KILLED" = no ] && [ "$(ev_n "$EV")" = 0 ]; then pass "$1"
	else fail "$1" "killed=$KILLED events=$(ev_n "$EV"): $(flat "$OUT")"; fi
}

# 1. chmod of a host program through /proc/<host pid>/map_files/.
# A host program (egprobe, static, so the program is its only mapping)
# serving a socket until killed.
cp "$(command -v egprobe)" /rt3-victim; chmod 0755 /rt3-victim
/rt3-victim listen /rt3-victim.sock > /dev/null &
V=$!
sleep 0.5
ctr rt3mapfiles priv-hostpid "f=\$(ls /proc/$V/map_files | head -1); chmod 4755 /proc/$V/map_files/\$f"
md=$(stat -c %a /rt3-victim)
if [ "$md" != 755 ]; then fail map-files-chmod-host "host program's mode is now $md (killed=$KILLED)"
else stopped_as map-files-chmod-host host-object; fi
kill $V 2>/dev/null; wait $V 2>/dev/null
ctr rt3mapfilesown priv-hostpid "f=\$(ls /proc/self/map_files | head -1); stat -L /proc/self/map_files/\$f > /dev/null"
quiet map-files-own-lookalike

# 2. kill(2) of a host process group (a service that leads its own group).
# busybox setsid execs sleep in place (a background job is no group
# leader), so $! leads its own session and process group.
setsid sleep 600 &
P=$!
sleep 0.5
ctr rt3killpg priv-hostpid "egprobe signal kill -$P 9"
if alive "$P"; then stopped kill-host-process-group signal_host
else fail kill-host-process-group "host process group killed (killed=$KILLED)"; fi
kill "$P" 2>/dev/null
ctr rt3killpgown priv-hostpid "setsid sleep 60 & p=\$!; sleep 0.3; egprobe signal kill -\$p 15"
quiet kill-own-process-group-lookalike

# 3. I/O ports and MSRs: kernel memory without /dev/mem or /dev/port.
ctr rt3ioperm priv "egprobe ioperm"
stopped ioperm-container kernel_memory
ctr rt3iopl priv "egprobe iopl"
stopped iopl-container kernel_memory
ctr rt3msr priv "mknod /dev/rt3msr c 202 0 && dd if=/dev/rt3msr of=/dev/null bs=8 count=1 skip=16"
stopped msr-container kernel_memory
drain_events; k0=$(kills)
if egprobe ioperm | grep -q ok && [ "$(kills)" = "$k0" ]; then pass ioperm-host-lookalike
else fail ioperm-host-lookalike "a host process was refused or killed"; fi

# 4. ptrace of a host task the table could not hold (table at its cap).
escguardctl unlock && rmmod escguard || fail redteam3-rmmod
insmod "$KO" max_tasks=64 || { fail redteam3-insmod-small; exit 0; }
sleep 600 &
HP=$!
sleep 0.3
ctr rt3ptraceuntracked priv-hostpid "egprobe ptrace $HP"
stopped ptrace-untracked-host ptrace_host
kill $HP 2>/dev/null; wait $HP 2>/dev/null
ctr rt3ptraceown priv-hostpid "sleep 60 & egprobe ptrace \$!; r=\$?; kill \$!; [ \$r = 0 ]"
quiet ptrace-own-child-untracked-lookalike
escguardctl unlock && rmmod escguard || fail redteam3-rmmod-small
insmod "$KO" || { fail redteam3-reinsmod; exit 0; }

# 5. A directory chain deeper than any real tree (built one relative step
# at a time) must not stall the dentry walk with preemption off: beyond the
# walk's bound the cwd is taken as escaped. 4,300 deep stays fine.
ctr rt3deep priv "mount -t tmpfs rt3 /mnt && cd /mnt && egprobe deepcwd 17000 /etc/passwd"
if [ "$KILLED" = yes ]; then pass deep-chain-bounded; else fail deep-chain-bounded "$(flat "$OUT")"; fi
ctr rt3deepok priv "mount -t tmpfs rt3 /mnt && cd /mnt && egprobe deepcwd 4300 /etc/passwd"
quiet deep-chain-4300-lookalike

escguardctl unlock && rmmod escguard || fail redteam3-unload

