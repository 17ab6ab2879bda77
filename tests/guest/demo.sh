# The README's main job, inside the guest: load escguard, run a real
# container, and show what an operator sees.
. /tests/lib.sh
say() { printf '\n### %s\n' "$*"; }

say "insmod escguard.ko"
insmod "$KO" && pass demo-insmod || fail demo-insmod
ls -l /dev/escguard

say "a real container (runc run) on the busybox bundle"
run_container demo1 'echo hello from container $(hostname), pid $$; ls /; cat /host-marker 2>&1 || echo the host marker is not visible in the container' \
	&& pass demo-container || fail demo-container

say "escguardctl status"
escguardctl status && pass demo-status || fail demo-status

say "escguardctl status --json"
escguardctl status --json

say "rmmod escguard"
rmmod escguard && pass demo-rmmod || fail demo-rmmod
