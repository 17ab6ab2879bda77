#!/usr/bin/env bash
# Build the guest root disk: busybox, Debian's runc with its libraries,
# escguard.ko, a static escguardctl, the guest test suites and an OCI bundle.
# Made without root: mkfs.ext4 -d copies a staging directory into the image.
#   scripts/build-guest.sh OUT.img KO CTL
set -euo pipefail
. "$(dirname "$0")/env.sh"

IMG="$1" KO="$2" CTL="$3"
[ -f "$KO" ] || die "no module at $KO"
[ -x "$CTL" ] || die "no escguardctl at $CTL"

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/escguard-guest.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

# A busybox root with every applet linked; used for the guest and for the
# container image.
busybox_root() {
  local r="$1"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,run,mnt}
  install -m 0755 /bin/busybox "$r/bin/busybox"
  /bin/busybox --list-full | while read -r a; do
    [ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
  echo 'nogroup:x:65534:' >> "$r/etc/group"
  chmod 1777 "$r/tmp"
}

log "staging guest root"
busybox_root "$STAGE"
mkdir -p "$STAGE/sys/fs/cgroup" "$STAGE/escguard" "$STAGE/bundles"

# runc and exactly the shared libraries it links to.
RUNC="$(command -v runc)"
install -D -m 0755 "$RUNC" "$STAGE/usr/sbin/runc"
ldd "$RUNC" | awk '/=>/ {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
  [ -f "$lib" ] || continue
  install -D -m 0755 "$(readlink -f "$lib")" "$STAGE$lib"
done

install -m 0755 "$ESCGUARD_ROOT/qemu/init.sh" "$STAGE/init"
install -m 0644 "$KO" "$STAGE/escguard/escguard.ko"
install -m 0755 "$CTL" "$STAGE/usr/bin/escguardctl"
cp -r "$ESCGUARD_ROOT/tests/guest" "$STAGE/tests"
cp "$ESCGUARD_ROOT/VERSION" "$STAGE/tests/VERSION"

# OCI bundle: a busybox rootfs (read-only, shared by every test container)
# and runc's default spec made non-interactive. Tests derive per-container
# configs from config.json (see tests/guest/lib.sh).
busybox_root "$STAGE/bundles/busybox/rootfs"
( cd "$STAGE/bundles/busybox" && "$RUNC" spec )
python3 - "$STAGE/bundles/busybox/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c", "__CMD__"]
c["root"] = {"path": "/bundles/busybox/rootfs", "readonly": True}
c["hostname"] = "escguard-ctr"
json.dump(c, open(p, "w"), indent=1)
PY

# A marker only the host can see: the container rootfs has no such file.
echo "host-only marker" > "$STAGE/host-marker"

size_mb=$(( $(du -sm "$STAGE" | cut -f1) + 192 ))
log "writing $IMG (${size_mb} MiB)"
mkdir -p "$(dirname "$IMG")"
rm -f "$IMG"
mkfs.ext4 -q -F -L escguard-root -E root_owner=0:0 -d "$STAGE" "$IMG" "${size_mb}M"
