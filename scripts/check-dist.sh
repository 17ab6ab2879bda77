#!/usr/bin/env bash
# Host-side checks of the installation (part of make test): 'make install'
# into a scratch root from the built artefacts, the systemd units verified
# with systemd-analyze (paths pointed into the scratch root, man pages
# looked up there), dkms.conf's version, and escguard-load's logic with
# stand-ins for modprobe and escguardctl.
#   scripts/check-dist.sh KDIR KO CTL
# Prints PASS/FAIL lines, then "N passed, N failed"; exits 1 on a failure.
set -uo pipefail
. "$(dirname "$0")/env.sh"
KDIR="$1" KO="$2" CTL="$3"

passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

S="$(mktemp -d "${TMPDIR:-/tmp}/escguard-dist.XXXXXX")"
trap 'rm -rf "$S"' EXIT
D="$S/root"

if out=$(make -s -C "$ESCGUARD_ROOT" install DESTDIR="$D" KDIR="$KDIR" KO="$KO" CTL_BIN="$CTL" 2>&1); then
	pass dist-make-install
else
	fail dist-make-install "$(echo "$out" | tail -3)"
fi
rel=$(cat "$KDIR/include/config/kernel.release")
n=0
for f in "lib/modules/$rel/extra/escguard.ko" "lib/modules/$rel/modules.dep" usr/sbin/escguardctl \
	usr/libexec/escguard/escguard-load etc/escguard/escguard.conf etc/logrotate.d/escguard \
	usr/lib/udev/rules.d/60-escguard.rules usr/lib/sysusers.d/escguard.conf \
	usr/share/bash-completion/completions/escguardctl usr/share/zsh/vendor-completions/_escguardctl \
	usr/share/fish/vendor_completions.d/escguardctl.fish usr/share/man/man8/escguardctl.8; do
	[ -s "$D/$f" ] || { echo "  missing $f"; n=$((n + 1)); }
done
[ $n = 0 ] && pass dist-files-installed || fail dist-files-installed "$n missing"

# A second install keeps an edited config and puts the new default beside it.
echo "MODE=monitor" >> "$D/etc/escguard/escguard.conf"
make -s -C "$ESCGUARD_ROOT" install DESTDIR="$D" KDIR="$KDIR" KO="$KO" CTL_BIN="$CTL" >/dev/null 2>&1
if tail -1 "$D/etc/escguard/escguard.conf" | grep -q '^MODE=monitor$' && [ -s "$D/etc/escguard/escguard.conf.new" ]; then
	pass dist-reinstall-keeps-config
else
	fail dist-reinstall-keeps-config
fi

# make install names what is missing instead of building it.
out=$(make -s -C "$ESCGUARD_ROOT" install DESTDIR="$S/none" KDIR="$KDIR" KO="$S/no.ko" CTL_BIN="$CTL" 2>&1)
if [ $? != 0 ] && echo "$out" | grep -q "error: no $S/no.ko: build it first as your user: make module" && [ ! -e "$S/none" ]; then
	pass dist-install-refuses-missing-artefacts
else
	fail dist-install-refuses-missing-artefacts "$out"
fi

# systemd-analyze verify: the units as installed, with their commands
# pointed into the scratch root; Documentation=man: pages must exist there.
V="$S/units"; mkdir -p "$V"
for u in "$D"/usr/lib/systemd/system/*; do
	sed -e "s|/usr/sbin/escguardctl|$D/usr/sbin/escguardctl|g" \
		-e "s|/usr/libexec/escguard/|$D/usr/libexec/escguard/|g" "$u" > "$V/$(basename "$u")"
done
if ! command -v systemd-analyze >/dev/null; then
	fail dist-systemd-analyze-verify "systemd-analyze not installed"
elif out=$(MANPATH="$D/usr/share/man" systemd-analyze verify "$V"/*.service "$V"/*.timer 2>&1) && [ -z "$out" ]; then
	pass dist-systemd-analyze-verify
else
	fail dist-systemd-analyze-verify "$(echo "$out" | head -5)"
fi

# dkms.conf's version is the VERSION file's.
v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$ESCGUARD_ROOT/dkms.conf")
[ "$v" = "$(cat "$ESCGUARD_ROOT/VERSION")" ] && pass dist-dkms-version || fail dist-dkms-version "dkms.conf $v, VERSION $(cat "$ESCGUARD_ROOT/VERSION")"

# DKMS, in a private tree (nothing under /usr/src or /var/lib/dkms): it
# builds the module for the Rust-enabled 6.12 tree and skips a kernel
# without CONFIG_RUST. Only where dkms is installed (not a dependency).
if command -v dkms >/dev/null; then
	K="$S/dkms"; mkdir -p "$K/tree" "$K/norust"
	make -s -C "$ESCGUARD_ROOT" install-dkms DESTDIR="$K/src" >/dev/null
	ver=$(cat "$ESCGUARD_ROOT/VERSION")
	dk() { (cd "$K" && dkms "$@" -m escguard -v "$ver" --sourcetree "$K/src/usr/src" --dkmstree "$K/tree"); }
	dk add >/dev/null 2>&1
	out=$(dk build -k "$rel" --kernelsourcedir "$KDIR" 2>&1)
	ko=$(find "$K/tree/escguard/$ver/$rel" -name 'escguard.ko*' 2>/dev/null | head -1)
	if [ -n "$ko" ] && [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$rel" ]; then pass dist-dkms-build
	else fail dist-dkms-build "$(echo "$out" | tail -5)"; fi
	echo "CONFIG_MODULES=y" > "$K/norust/.config"
	out=$(dk build -k "$rel" --kernelsourcedir "$K/norust" --force 2>&1)
	echo "$out" | grep -q 'BUILD_EXCLUSIVE directive which does not match' && pass dist-dkms-skips-kernel-without-rust \
		|| fail dist-dkms-skips-kernel-without-rust "$(echo "$out" | tail -3)"
else
	echo "  (no dkms on this host: the DKMS build check is skipped)"
fi

# A packaged build tree, as a linux-headers package has it (no fs/, no
# sources; scripts/make-build-tree.sh): the module builds against it, from
# the sources make install-dkms ships, with the same vermagic.
T="$S/buildtree"
if "$ESCGUARD_ROOT/scripts/make-build-tree.sh" "$KDIR" "$T" >/dev/null 2>"$S/bt.err"; then
	[ ! -e "$T/fs" ] && pass dist-packaged-tree-has-no-private-headers \
		|| fail dist-packaged-tree-has-no-private-headers "$T/fs exists"
	P="$S/pkgsrc"; make -s -C "$ESCGUARD_ROOT" install-dkms DESTDIR="$P" >/dev/null
	src=$(echo "$P"/usr/src/escguard-*)
	out=$(make -C "$T" M="$src" "${KMAKEFLAGS[@]}" modules 2>&1)
	if [ -f "$src/escguard.ko" ] && [ "$(modinfo -F vermagic "$src/escguard.ko")" = "$(modinfo -F vermagic "$KO")" ] \
		&& ! echo "$out" | grep -qi warning; then
		pass dist-module-builds-against-packaged-tree
	else
		fail dist-module-builds-against-packaged-tree "$(echo "$out" | grep -iE 'error|warning' | head -5)"
	fi
	# DKMS builds against /lib/modules/<release>/build, which is such a tree.
	if command -v dkms >/dev/null; then
		rm -rf "$K/tree/escguard/$ver/$rel"
		out=$(dk build -k "$rel" --kernelsourcedir "$T" --force 2>&1)
		ko=$(find "$K/tree/escguard/$ver/$rel" -name 'escguard.ko*' 2>/dev/null | head -1)
		if [ -n "$ko" ] && [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$rel" ]; then pass dist-dkms-build-packaged-tree
		else fail dist-dkms-build-packaged-tree "$(echo "$out" | tail -5)"; fi
	fi
else
	fail dist-packaged-tree "$(tail -3 "$S/bt.err")"
fi

# escguard-load with stand-ins: what it passes to modprobe and escguardctl.
B="$S/bin"; mkdir -p "$B"
cat > "$B/modprobe" <<'M'
#!/bin/sh
echo "modprobe $*" >> "$CALLS"
[ -z "${FAIL_MODPROBE:-}" ] || { echo "modprobe: ERROR: could not insert 'escguard': Invalid argument" >&2; exit 1; }
M
cat > "$B/ctl" <<'M'
#!/bin/sh
echo "escguardctl $*" >> "$CALLS"
M
chmod +x "$B/modprobe" "$B/ctl"
echo 'egtest:x:4321:' > "$S/group"
cat > "$S/conf" <<M
MAX_TASKS=4096
RING_EVENTS=64
EVENTS_GROUP=4321
LOCKED=no
OPEN_HOOK=ftrace
MODE=monitor
POLICY=$S/policy.json
M
echo '{}' > "$S/policy.json"
LOAD="$D/usr/libexec/escguard/escguard-load"
run_load() { CALLS="$S/calls" ESCGUARDCTL="$B/ctl" PATH="$B:$PATH" "$LOAD" "$S/conf"; }
: > "$S/calls"
if [ -d /sys/module/escguard ]; then
	echo "  (escguard is loaded on this host: the modprobe checks are skipped)"
else
	out=$(run_load 2>&1); rc=$?
	want="modprobe escguard max_tasks=4096 ring_events=64 open_hook=ftrace locked=0 events_gid=4321
escguardctl policy load $S/policy.json
escguardctl mode monitor"
	if [ $rc = 0 ] && [ "$(cat "$S/calls")" = "$want" ]; then pass dist-load-script-commands
	else fail dist-load-script-commands "rc=$rc calls: $(tr '\n' ';' < "$S/calls") out: $out"; fi
	: > "$S/calls"
	out=$(FAIL_MODPROBE=1 run_load 2>&1); rc=$?
	if [ $rc != 0 ] && echo "$out" | grep -q "^escguard-load: error: modprobe escguard .* failed: this kernel" \
		&& ! grep -q escguardctl "$S/calls"; then pass dist-load-script-modprobe-failure
	else fail dist-load-script-modprobe-failure "rc=$rc $out"; fi
fi
sed -i 's/^MODE=.*/MODE=bogus/' "$S/conf"
out=$(run_load 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "error: MODE=bogus" && pass dist-load-script-bad-mode || fail dist-load-script-bad-mode "rc=$rc $out"
sed -i 's/^MODE=.*/MODE=enforce/; s/^EVENTS_GROUP=.*/EVENTS_GROUP=no-such-group-escguard/' "$S/conf"
out=$(run_load 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "error: EVENTS_GROUP=no-such-group-escguard .*no such group" && pass dist-load-script-bad-group || fail dist-load-script-bad-group "rc=$rc $out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
