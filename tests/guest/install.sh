# Install suite: the guest root was made with 'make install DESTDIR=<root>'
# (scripts/build-guest.sh). Checks what it installed, loads escguard the way
# escguard.service does (it runs /usr/libexec/escguard/escguard-load; the
# guest has no systemd, so the test runs the same script), and checks the
# metrics and the log writer's logrotate contract.
. /tests/lib.sh

REL=$(uname -r)
LOADER=/usr/libexec/escguard/escguard-load
CONF=/etc/escguard/escguard.conf
MOD=/lib/modules/$REL/extra/escguard.ko

# --- What make install put into the root.
missing=""
for f in "$MOD" /lib/modules/$REL/modules.dep /usr/sbin/escguardctl "$LOADER" "$CONF" \
	/usr/lib/systemd/system/escguard.service /usr/lib/systemd/system/escguard-log.service \
	/usr/lib/systemd/system/escguard-metrics.service /usr/lib/systemd/system/escguard-metrics.timer \
	/usr/lib/udev/rules.d/60-escguard.rules /usr/lib/sysusers.d/escguard.conf /etc/logrotate.d/escguard; do
	[ -s "$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass install-files || fail install-files "missing:$missing"
grep -q '^extra/escguard.ko:' /lib/modules/$REL/modules.dep && pass install-depmod || fail install-depmod "$(cat /lib/modules/$REL/modules.dep)"
[ -x /usr/sbin/escguardctl ] && [ -x "$LOADER" ] && pass install-executables || fail install-executables "$(ls -l /usr/sbin/escguardctl $LOADER)"
# Units name the installed paths (the @...@ placeholders were substituted).
if grep -q '^ExecStart=/usr/libexec/escguard/escguard-load$' /usr/lib/systemd/system/escguard.service \
	&& grep -q '^ExecStart=/usr/sbin/escguardctl tail --follow --output /var/log/escguard/events.jsonl$' /usr/lib/systemd/system/escguard-log.service \
	&& ! grep -q '@[A-Z_]*@' /usr/lib/systemd/system/escguard* "$LOADER" "$CONF" /etc/logrotate.d/escguard /usr/lib/udev/rules.d/60-escguard.rules; then
	pass install-units-paths
else
	fail install-units-paths "$(grep -h 'Exec\|@' /usr/lib/systemd/system/escguard* | tr '\n' ' ')"
fi

# --- Completions and man pages, generated from the clap definitions.
comp_ok=1
grep -q 'escguardctl' /usr/share/bash-completion/completions/escguardctl && grep -q 'metrics' /usr/share/bash-completion/completions/escguardctl || comp_ok=0
head -1 /usr/share/zsh/vendor-completions/_escguardctl | grep -q '^#compdef escguardctl' || comp_ok=0
grep -q '^complete -c escguardctl' /usr/share/fish/vendor_completions.d/escguardctl.fish || comp_ok=0
[ $comp_ok = 1 ] && pass install-completions || fail install-completions "$(ls -l /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions /usr/share/fish/vendor_completions.d 2>&1 | tr '\n' ' ')"
man_ok=1
for p in escguardctl escguardctl-status escguardctl-metrics escguardctl-tail escguardctl-policy-load escguardctl-rules-list; do
	grep -q "^\.TH $p 8" "/usr/share/man/man8/$p.8" || man_ok=0
done
[ $man_ok = 1 ] && pass install-man-pages || fail install-man-pages "$(ls /usr/share/man/man8 2>&1 | tr '\n' ' ')"

# --- modprobe finds the module under /lib/modules/<release>/extra.
unload
if modprobe escguard && loaded && [ -c /dev/escguard ]; then
	pass modprobe-from-extra
else
	fail modprobe-from-extra "$(modprobe escguard 2>&1; ls /lib/modules/$REL/extra)"
fi
unload

# --- escguard-load, as escguard.service runs it.
# The default config names the group 'escguard' (systemd-sysusers creates it
# on a host); without it the service must fail loudly and load nothing.
out=$($LOADER 2>&1); rc=$?
if [ $rc != 0 ] && echo "$out" | grep -q '^escguard-load: error: EVENTS_GROUP=escguard' && ! loaded; then
	pass load-script-fails-without-group
else
	fail load-script-fails-without-group "rc=$rc loaded=$(loaded && echo y || echo n): $(flat "$out")"
fi

echo 'escguard:x:4321:egreader' >> /etc/group
echo 'egreader:x:4322:4321:escguard reader:/:/bin/sh' >> /etc/passwd
cat > /etc/escguard/policy.json <<'P'
{
  "version": 1,
  "name": "install-test",
  "rules": [
    {"name": "no-shadow", "type": "file", "path": "/etc/shadow", "match": "exact", "access": ["read", "write"]}
  ]
}
P
sed -i 's/^MAX_TASKS=.*/MAX_TASKS=4096/; s/^RING_EVENTS=.*/RING_EVENTS=64/; s/^LOCKED=.*/LOCKED=no/; s/^MODE=.*/MODE=monitor/' "$CONF"
out=$($LOADER 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
st=$(escguardctl status --json 2>&1)
p=/sys/module/escguard/parameters
if [ $rc = 0 ] && [ "$(cat $p/max_tasks)" = 4096 ] && [ "$(cat $p/ring_events)" = 64 ] \
	&& [ "$(cat $p/events_gid)" = 4321 ] && [ "$(cat $p/locked)" = N ]; then
	pass load-script-module-parameters
else
	fail load-script-module-parameters "rc=$rc $(flat "$out") params: $(grep . $p/* 2>&1 | tr '\n' ' ')"
fi
if echo "$st" | grep -q '"mode":"monitor"' && echo "$st" | grep -q '"locked":false' \
	&& echo "$st" | grep -q '"policy_rules":1' && echo "$st" | grep -q '"table":{"cap":4096' \
	&& echo "$st" | grep -q '"capacity":64'; then
	pass load-script-mode-and-policy
else
	fail load-script-mode-and-policy "$(flat "$st")"
fi
[ "$(stat -c '%a %g' /dev/escguard)" = "640 4321" ] && pass load-script-device-group || fail load-script-device-group "$(ls -ln /dev/escguard)"

# Reload (systemctl reload escguard): policy and mode again, parameters stay.
sed -i 's/^MODE=.*/MODE=enforce/' "$CONF"
out=$($LOADER 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q 'already loaded' && escguardctl status --json | grep -q '"mode":"enforce"'; then
	pass load-script-reload
else
	fail load-script-reload "rc=$rc $(flat "$out")"
fi
# An invalid policy fails the service and loads nothing of it.
echo '{"version": 1, "rules": [{"name": "x"}]}' > /etc/escguard/policy.json
out=$($LOADER 2>&1); rc=$?
if [ $rc != 0 ] && echo "$out" | grep -q '^escguard-load: error: policy /etc/escguard/policy.json not loaded' \
	&& escguardctl status --json | grep -q '"policy_rules":1'; then
	pass load-script-bad-policy-fails
else
	fail load-script-bad-policy-fails "rc=$rc $(flat "$out")"
fi

# --- Metrics: structure of the OpenMetrics text (the cargo tests parse it
# strictly; here: every line is metadata or a sample, '# EOF' last).
m=$(escguardctl metrics 2>&1); rc=$?
bad=$(echo "$m" | grep -vE '^# (TYPE|HELP|UNIT) escguard_[a-z_]+ .+$|^escguard_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+(\.[0-9]+)?$|^# EOF$')
if [ $rc = 0 ] && [ -z "$bad" ] && [ "$(echo "$m" | tail -1)" = "# EOF" ] && [ "$(echo "$m" | grep -c '^# EOF$')" = 1 ]; then
	pass metrics-structure
else
	fail metrics-structure "rc=$rc bad lines: $(flat "$bad")"
fi
want_ok=1
for w in '^# TYPE escguard_kills counter$' '^escguard_kills_total [0-9]+$' '^escguard_hook_seconds_total\{hook="open"\} [0-9]+\.[0-9]{9}$' \
	'^escguard_hook_calls_total\{hook="exec"\} [1-9]' '^escguard_mode\{mode="enforce"\} 1$' '^escguard_table_capacity 4096$' \
	'^escguard_event_ring_capacity 64$' '^escguard_policy_rules 1$' '^escguard_rule_hits_total\{rule="no-shadow",kind="policy"\} 0$' \
	'^escguard_rule_enabled\{rule="release_agent",kind="preset"\} 1$' '^escguard_locked 0$' '^escguard_probes_armed [1-9]'; do
	echo "$m" | grep -qE "$w" || { want_ok=0; echo "    | metrics lack $w"; }
done
[ $want_ok = 1 ] && pass metrics-values || fail metrics-values "$(echo "$m" | grep -v '^#' | head -20 | tr '\n' ' ')"
# Every family is typed once, before its samples.
types=$(echo "$m" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort | uniq -d)
[ -z "$types" ] && pass metrics-types-unique || fail metrics-types-unique "$types"

mkdir -p /var/lib/node_exporter/textfile_collector
prom=/var/lib/node_exporter/textfile_collector/escguard.prom
echo stale > $prom; chmod 600 $prom
if (umask 077; escguardctl metrics --output $prom) && [ "$(stat -c %a $prom)" = 644 ] && [ "$(tail -1 $prom)" = "# EOF" ] \
	&& [ "$(ls -A /var/lib/node_exporter/textfile_collector)" = escguard.prom ]; then
	pass metrics-output-atomic-0644
else
	fail metrics-output-atomic-0644 "$(ls -la /var/lib/node_exporter/textfile_collector | tr '\n' ' ')"
fi

# A member of the events group reads the metrics (the module lets the group
# list rules too); anyone else is told who may.
gm=$(su -s /bin/sh egreader -c 'escguardctl metrics' 2>/tmp/gm.err); rc=$?
if [ $rc = 0 ] && echo "$gm" | grep -q '^escguard_kills_total ' && echo "$gm" | grep -q '^escguard_rule_hits_total{rule="no-shadow"' \
	&& [ ! -s /tmp/gm.err ]; then
	pass metrics-group-member
else
	fail metrics-group-member "rc=$rc $(flat "$(cat /tmp/gm.err)")"
fi
err=$(su -s /bin/sh nobody -c 'escguardctl status' 2>&1); rc=$?
if [ $rc = 5 ] && echo "$err" | grep -q 'root with CAP_SYS_ADMIN may do everything; members of group escguard (gid 4321)'; then
	pass permission-error-names-group
else
	fail permission-error-names-group "rc=$rc $(flat "$err")"
fi

# --- The log writer of escguard-log.service and logrotate's SIGHUP: after
# the file is moved away and the writer gets SIGHUP, new events go to a new
# file of the same name.
mkdir -p /var/log/escguard
LOG=/var/log/escguard/events.jsonl
escguardctl tail --follow --output $LOG &
wpid=$!
# Enforce to monitor is a CONFIG event (the admin weakened escguard).
escguardctl mode enforce; escguardctl mode monitor
sleep 2
n1=$(grep -c '"seq"' $LOG 2>/dev/null)
mv $LOG $LOG.1
kill -HUP $wpid
sleep 1
escguardctl mode enforce; escguardctl mode monitor
sleep 2
n2=$(grep -c '"seq"' $LOG 2>/dev/null)
kill $wpid; wait $wpid; wrc=$?
if [ "${n1:-0}" -ge 1 ] && [ "${n2:-0}" -ge 1 ] && [ "$(grep -c '"seq"' $LOG.1)" = "$n1" ] && [ $wrc = 0 ]; then
	pass log-writer-reopens-on-sighup
else
	fail log-writer-reopens-on-sighup "before=$n1 after=$n2 writer rc=$wrc"
fi
escguardctl mode enforce

# --- A kernel that cannot load the module: the service fails loudly. Here
# the module refuses a parameter out of range (max_tasks below 64).
unload
sed -i 's/^MAX_TASKS=.*/MAX_TASKS=1/' "$CONF"
out=$($LOADER 2>&1); rc=$?
if [ $rc != 0 ] && ! loaded && echo "$out" | grep -q "^escguard-load: error: modprobe escguard .* failed: this kernel ($REL) cannot load escguard"; then
	pass load-script-modprobe-failure-is-loud
else
	fail load-script-modprobe-failure-is-loud "rc=$rc $(flat "$out")"
fi
unload
