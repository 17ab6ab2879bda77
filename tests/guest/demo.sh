# The README's main job, inside the guest: load escguard, run real
# containers, attempt a container escape in monitor mode and then in enforce
# mode, and show what an operator sees.
. /tests/lib.sh
say() { printf '\n### %s\n' "$*"; }
ESCAPE='echo in the container: $(hostname), running: nsenter -t 1 -m -u -i -n -p cat /host-marker; nsenter -t 1 -m -u -i -n -p cat /host-marker; echo escape command exit status: $?'

say "insmod escguard.ko"
insmod "$KO" && pass demo-insmod || fail demo-insmod
ls -l /dev/escguard

say "a real container (runc run) on the busybox bundle"
run_container demo1 'echo hello from container $(hostname), pid $$; ls /; cat /host-marker 2>&1 || echo the host marker is not visible in the container' \
	&& pass demo-container || fail demo-container

say "escguardctl status"
escguardctl status && pass demo-status || fail demo-status

say "escguardctl mode monitor; a privileged container sharing the host pid namespace runs: nsenter -t 1 -m -u -i -n -p ..."
escguardctl mode monitor
out=$(run_container demo2 "$ESCAPE" priv-hostpid 2>&1)
echo "$out"
echo "$out" | grep -q 'host-only marker' && pass demo-monitor-escape-runs || fail demo-monitor-escape-runs

say "escguardctl tail -n 3   (monitor mode: logged, not killed; the container named)"
escguardctl tail -n 3

say "escguardctl mode enforce; the same escape again"
escguardctl mode enforce
out=$(run_container demo3 "$ESCAPE" priv-hostpid 2>&1)
echo "$out"
echo "$out" | grep -q 'status: 137' && ! echo "$out" | grep -q 'host-only marker' \
	&& pass demo-enforce-escape-killed || fail demo-enforce-escape-killed
echo "(exit status 137 = killed by SIGKILL before the command ran on the host)"

say "escguardctl tail --json -n 1   (enforce mode: killed)"
escguardctl tail --json -n 1

say "escguardctl status"
escguardctl status

say "escguardctl unlock; rmmod escguard"
escguardctl unlock && rmmod escguard && pass demo-rmmod || fail demo-rmmod
