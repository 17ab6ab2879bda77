# Fourth red-team suite (a review of ABI 4.0 by a helper given only the
# README and the code): event attribution, the text event line, and scoped
# policy rules. Each test was a FAIL against the first 4.0 code; look-alikes
# fail on a false kill or a false event.
#   sub-cgroup-*          a container names a sub-cgroup like another
#                         container / a Kubernetes pod: events must still name
#                         the container (by the cgroup the runtime gave it)
#   migrated-*            a privileged container without a cgroup namespace
#                         moves into another container's or a host service's
#                         cgroup before it escapes: the event must not name
#                         the victim, and says the task left its cgroup
#   monitor-shadows-*     a monitor-action rule earlier in the list silences a
#                         later enforce rule (also after from-trivy --load)
#   scope-*               container-ID scope matching ("-ID" suffix, ".scope")
#   trivy-two-workloads   fixed rule names: a second workload replaces the first
#   text-field-*          spaces and '"' in comm / target forge key=value fields
. /tests/lib.sh

insmod "$KO" || { fail redteam4-insmod; exit 0; }

# killed_by NAME RULE: killed, the call refused, one event naming RULE.
killed_by() {
	if [ "$KILLED" = yes ] && echo "$EV" | grep -q "\"rule\":\"$2\"" && echo "$EV" | grep -q '"denied":true'; then
		pass "$1"
	else fail "$1" "killed=$KILLED (wanted a kill by $2): $(flat "$EV")"; fi
}
# names_ctr NAME ID: the container's escape was killed and its event names
# container ID (runc, cgroup /ID or below).
names_ctr() {
	_c=$(echo "$EV" | grep -o '"container":{[^}]*}' | head -1)
	_g=$(echo "$EV" | grep -o '"cgroup":{[^}]*}' | head -1)
	if [ "$KILLED" = yes ] && echo "$_c" | grep -q "\"runtime\":\"runc\",\"id\":\"$2\"" \
		&& echo "$_g" | grep -q "\"path\":\"/$2[/\"]"; then pass "$1"
	else fail "$1" "killed=$KILLED event names ${_c:-no container} ${_g:-no cgroup}, wanted $2"; fi
}
policy() { printf '%s\n' "$1" > /tmp/rt4pol.json && escguardctl policy load /tmp/rt4pol.json > /dev/null \
	|| fail "redteam4-policy-load" "$(escguardctl policy check /tmp/rt4pol.json 2>&1 | tail -2 | tr '\n' ' ')"; }
EMPTY='{"version": 2, "name": "rt4-empty", "rules": []}'
H=3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718
UID4=0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f
ESC='nsenter -t 1 -m -u -i -n -p cat /host-marker'

# 1. A container that may create cgroups below its own (privileged here;
# equally a delegated cgroup, with or without a cgroup namespace) names one
# like another workload and escapes from it. runc's /<id> is only a "maybe"
# in ctl/src/container.rs from_cgroup, so the inner, attacker-made name wins.
# The host knows a pod by that UID and a Docker container by that ID:
mkdir -p "/var/log/pods/prod_payments-api_$UID4" "/var/lib/docker/containers/$H"
echo '{"Name": "/payments-db"}' > "/var/lib/docker/containers/$H/config.v2.json"
ctr rt4sub priv-hostpid "mount -t cgroup2 none /mnt && mkdir -p /mnt/rt4sub/kubepods/besteffort/pod$UID4/$H && echo 0 > /mnt/rt4sub/kubepods/besteffort/pod$UID4/$H/cgroup.procs && $ESC"
names_ctr sub-cgroup-kubernetes-lookalike-names-attacker rt4sub
txt=$(escguardctl tail --after "$(cut -d' ' -f2 /tmp/.ev_mark)")
echo "    | $txt" | cut -c1-300
# A viewer following its own container by ID must see its escape.
v=$(escguardctl tail --json --container rt4sub --after "$(cut -d' ' -f2 /tmp/.ev_mark)" | grep -c '"seq"')
[ "$v" -ge 1 ] && pass sub-cgroup-viewer-filter-keeps-own-escape \
	|| fail sub-cgroup-viewer-filter-keeps-own-escape "tail --container rt4sub shows $v events (text: $(flat "$txt"))"
ctr rt4subd priv-hostpid "mount -t cgroup2 none /mnt && mkdir -p /mnt/rt4subd/docker-$H.scope && echo 0 > /mnt/rt4subd/docker-$H.scope/cgroup.procs && $ESC"
names_ctr sub-cgroup-docker-lookalike-names-attacker rt4subd
# Look-alikes: an ordinary sub-cgroup keeps the container's name; making and
# using one is silent.
ctr rt4subok priv-hostpid "mount -t cgroup2 none /mnt && mkdir -p /mnt/rt4subok/worker && echo 0 > /mnt/rt4subok/worker/cgroup.procs && $ESC"
names_ctr sub-cgroup-plain-lookalike-names-container rt4subok
ctr rt4subq priv "mount -t cgroup2 none /mnt && mkdir -p /mnt/rt4subq/worker && echo 0 > /mnt/rt4subq/worker/cgroup.procs && cat /etc/group > /dev/null"
ctr_quiet sub-cgroup-plain-silent
rm -rf "/var/log/pods/prod_payments-api_$UID4" "/var/lib/docker/containers/$H"

# 2. Without a cgroup namespace (runc's default spec, Docker --cgroupns=host,
# many privileged pods) a privileged container moves itself into another
# container's cgroup, or a host service's, to escape from there under the
# victim's name. The move itself is refused now (host_cgroup: a write to a
# group not its own), and its event names the attacker's container.
# refused_move NAME CTR: killed by host_cgroup, the event naming CTR.
refused_move() {
	if echo "$EV" | grep -q '"rule":"host_cgroup"'; then names_ctr "$1" "$2"
	else fail "$1" "killed=$KILLED not by host_cgroup: $(echo "$EV" | cut -c1-200)"; fi
}
make_bundle rt4victim 'sleep 60'
runc run --bundle /run/bundles/rt4victim rt4victim > /dev/null 2>&1 < /dev/null &
VP=$!
i=0; while [ ! -s /sys/fs/cgroup/rt4victim/cgroup.procs ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
ctr rt4mig priv-hostpid "mount -t cgroup2 none /mnt && echo 0 > /mnt/rt4victim/cgroup.procs && $ESC"
refused_move migrated-into-other-container-refused-names-attacker rt4mig
runc kill rt4victim KILL 2>/dev/null; wait $VP 2>/dev/null; runc delete -f rt4victim 2>/dev/null
mkdir -p /sys/fs/cgroup/system.slice/sshd.service
ctr rt4mighost priv-hostpid "mount -t cgroup2 none /mnt && echo 0 > /mnt/system.slice/sshd.service/cgroup.procs && $ESC"
refused_move migrated-into-host-service-refused-names-attacker rt4mighost
rmdir /sys/fs/cgroup/system.slice/sshd.service /sys/fs/cgroup/system.slice 2>/dev/null
# Look-alike: the same escape without moving is named right.
ctr rt4migok priv-hostpid "mount -t cgroup2 none /mnt && ls /mnt/rt4migok > /dev/null && $ESC"
names_ctr migrated-lookalike-stays-named rt4migok

# 3. first_match stops at the first matching rule whatever its action: a
# fleet-wide monitor trial listed first turns a workload's enforce rule into
# a log line.
policy '{"version": 2, "name": "rt4-shadow", "rules": [
 {"name": "rt4-fleet-trial", "type": "file", "path": "/etc/group", "access": ["read"], "action": "monitor"},
 {"name": "rt4-shadow-enforce", "type": "file", "path": "/etc/group", "access": ["read"], "scope": {"container": "rt4shadow"}}]}'
ctr rt4shadow '' "cat /etc/group > /dev/null"
killed_by monitor-shadows-enforce-rule rt4-shadow-enforce
ctr rt4shadowok '' "cat /etc/group > /dev/null"
if echo "$OUT" | grep -q 'rc=0' && [ "$KILLED" = no ] && echo "$EV" | grep -q '"rule":"rt4-fleet-trial"' \
	&& echo "$EV" | grep -q '"action":"logged"'; then pass monitor-trial-lookalike-logs-only
else fail monitor-trial-lookalike-logs-only "killed=$KILLED $(flat "$EV")"; fi
# The documented workflow: a trial in the active policy, then a workload's
# Trivy rules added with --load (appended after it).
policy '{"version": 2, "name": "rt4-trial", "rules": [
 {"name": "rt4-procsys-trial", "type": "file", "path": "/proc/sys", "match": "prefix", "access": ["write"], "action": "monitor"}]}'
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container rt4trivy --load > /dev/null 2>&1 \
	|| fail monitor-shadows-trivy-load "from-trivy --load failed"
ctr rt4trivy priv "sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'"
killed_by monitor-shadows-trivy-load '[^"]*no-proc-sys-write'

# 4. Container-ID scopes: "<anything>-ID" counts as the ID, so a container
# named (or with a sub-cgroup named) x-ID takes rules meant for ID -- with 3.,
# it adopts the victim's monitor trial and escapes its own enforce rule; an
# ID ending in ".scope" never matches its own cgroup.
policy '{"version": 2, "name": "rt4-scope", "rules": [
 {"name": "rt4-web-only", "type": "file", "path": "/etc/group", "access": ["read"], "scope": {"container": "rt4web"}}]}'
ctr x-rt4web '' "cat /etc/group > /dev/null"
ctr_quiet scope-dash-suffix-is-other-container
ctr rt4web '' "cat /etc/group > /dev/null"
killed_by scope-own-container-lookalike rt4-web-only
policy '{"version": 2, "name": "rt4-adopt", "rules": [
 {"name": "rt4-victim-trial", "type": "file", "path": "/etc/group", "access": ["read"], "action": "monitor", "scope": {"container": "rt4victim2"}},
 {"name": "rt4-all-enforce", "type": "file", "path": "/etc/group", "access": ["read"]}]}'
ctr rt4adopt priv "mount -t cgroup2 none /mnt && mkdir -p /mnt/rt4adopt/x-rt4victim2 && echo 0 > /mnt/rt4adopt/x-rt4victim2/cgroup.procs && cat /etc/group > /dev/null"
killed_by scope-sub-cgroup-adopts-victims-trial rt4-all-enforce
ctr rt4adoptok priv "mount -t cgroup2 none /mnt && mkdir -p /mnt/rt4adoptok/worker && echo 0 > /mnt/rt4adoptok/worker/cgroup.procs && cat /etc/group > /dev/null"
killed_by scope-sub-cgroup-lookalike-enforced rt4-all-enforce
policy '{"version": 2, "name": "rt4-dotscope", "rules": [
 {"name": "rt4-db-only", "type": "file", "path": "/etc/group", "access": ["read"], "scope": {"container": "rt4db.scope"}}]}'
ctr rt4db.scope '' "cat /etc/group > /dev/null"
killed_by scope-id-ending-dot-scope-matches-itself rt4-db-only
ctr rt4db '' "cat /etc/group > /dev/null"
ctr_quiet scope-dot-scope-other-container-silent

# 5. from-trivy rules had fixed names: the second workload's --load clashed,
# and --replace (what the error suggested) took the first workload's rules
# away. Names now carry the workload: both stay protected.
policy "$EMPTY"
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container rt4wa --load > /dev/null 2>&1
escguardctl policy from-trivy /tests/trivy/k8s-config.json --container rt4wb --load > /dev/null 2>&1; rc=$?
[ $rc = 0 ] || escguardctl policy from-trivy /tests/trivy/k8s-config.json --container rt4wb --load --replace > /dev/null 2>&1
ctr rt4wa priv "sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'"; ka=$KILLED
ctr rt4wb priv "sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'"; kb=$KILLED
[ "$ka" = yes ] && [ "$kb" = yes ] && pass trivy-two-workloads-both-protected \
	|| fail trivy-two-workloads-both-protected "second --load rc=$rc; first killed=$ka, second killed=$kb"

# 6. The text line is key=value with unquoted (comm, exe, cgroup) or
# '"'-delimited (target) container-controlled values: escaping stops newlines
# and ESC, not a space or a quote.
policy '{"version": 2, "name": "rt4-text", "rules": [
 {"name": "rt4-watch-group", "type": "file", "path": "/etc/group", "access": ["read"], "action": "monitor"},
 {"name": "rt4-watch-shm", "type": "file", "path": "/dev/shm/rt4q", "match": "prefix", "access": ["read"], "action": "monitor"}]}'
ctr rt4txt '' "printf 'x container=web' > /proc/self/comm; read x < /etc/group; true"
txt=$(escguardctl tail --after "$(cut -d' ' -f2 /tmp/.ev_mark)" --rule rt4-watch-group)
echo "    | $txt" | cut -c1-300
n=$(printf '%s\n' "$txt" | grep -o ' container=' | wc -l)
[ "$n" = 1 ] && pass text-field-comm-cannot-add-container || fail text-field-comm-cannot-add-container "$n container= fields: $(flat "$txt")"
ctr rt4txtq '' "mkdir -p /dev/shm/rt4q && touch '/dev/shm/rt4q/a\" exe=\"fake' && cat /dev/shm/rt4q/* > /dev/null"
txt=$(escguardctl tail --after "$(cut -d' ' -f2 /tmp/.ev_mark)" --rule rt4-watch-shm)
echo "    | $txt" | cut -c1-300
if [ -n "$txt" ] && ! printf '%s' "$txt" | grep -qF 'a" exe="fake'; then pass text-field-target-quote-escaped
else fail text-field-target-quote-escaped "$(flat "$txt")"; fi
ctr rt4txtok '' "printf 'plainname' > /proc/self/comm; read x < /etc/group; true"
txt=$(escguardctl tail --after "$(cut -d' ' -f2 /tmp/.ev_mark)" --rule rt4-watch-group)
n=$(printf '%s\n' "$txt" | grep -o ' container=' | wc -l)
[ "$n" = 1 ] && printf '%s' "$txt" | grep -q 'comm=plainname container=runc:rt4txtok' \
	&& pass text-field-plain-lookalike || fail text-field-plain-lookalike "$(flat "$txt")"

policy "$EMPTY"
escguardctl unlock && rmmod escguard || fail redteam4-unload
