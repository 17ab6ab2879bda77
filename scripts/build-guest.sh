#!/usr/bin/env bash
# Build the guest root disk: busybox, Debian's runc with its libraries,
# escguard installed by 'make install' (escguard.ko, a static escguardctl,
# units, config, completions, man pages), the guest test suites and an OCI
# bundle. Made without root: mkfs.ext4 -d copies a staging directory into
# the image.
#   [KDIR=...] scripts/build-guest.sh OUT.img KO CTL [TEST-MODULE.ko...]
# KDIR: the tree KO was built against (default: the cached test kernel).
set -euo pipefail
. "$(dirname "$0")/env.sh"

IMG="$1" KO="$2" CTL="$3"
shift 3
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
# escguard as a host gets it: make install into the guest's root.
KDIR="${KDIR:-$(kernel_build_dir)}"
make -s -C "$ESCGUARD_ROOT" install DESTDIR="$STAGE" KDIR="$KDIR" KO="$KO" CTL_BIN="$CTL" >&2 \
  || die "make install into the guest root failed"
# The suites insmod /escguard/escguard.ko and run escguardctl from /usr/bin
# too: the same files, linked.
rel="$(cat "$KDIR/include/config/kernel.release")"
ln -s "../lib/modules/$rel/extra/escguard.ko" "$STAGE/escguard/escguard.ko"
ln -s ../sbin/escguardctl "$STAGE/usr/bin/escguardctl"
cp -r "$ESCGUARD_ROOT/tests/guest" "$STAGE/tests"
cp "$ESCGUARD_ROOT/VERSION" "$STAGE/tests/VERSION"
# Benchmark driver (static) and its configuration, if built.
[ ! -d "$ESCGUARD_ROOT/build/bench" ] || cp -a "$ESCGUARD_ROOT/build/bench" "$STAGE/tests/bench"
# Device fuzzer (static).
[ ! -x "$ESCGUARD_ROOT/build/fuzz/fuzz" ] || install -D -m 0755 "$ESCGUARD_ROOT/build/fuzz/fuzz" "$STAGE/tests/fuzz/fuzz"
# Rules probe (static), on the host and in the container image below.
[ ! -x "$ESCGUARD_ROOT/build/progs/egprobe" ] || install -D -m 0755 "$ESCGUARD_ROOT/build/progs/egprobe" "$STAGE/usr/bin/egprobe"
# Trivy report fixtures, for the policy import.
[ ! -d "$ESCGUARD_ROOT/ctl/tests/fixtures/trivy" ] || cp -r "$ESCGUARD_ROOT/ctl/tests/fixtures/trivy" "$STAGE/tests/trivy"
# TEST ONLY: the test modules (tests/kmod: the simulated kernel-exploit
# payload, the competing ftrace direct call).
for m in "$@"; do install -m 0644 "$m" "$STAGE/tests/"; done

# OCI bundle: a busybox rootfs (read-only, shared by every test container)
# and runc's default spec made non-interactive. Tests derive per-container
# configs from config.json (see tests/guest/lib.sh).
busybox_root "$STAGE/bundles/busybox/rootfs"
# Test helper inside the container image (thread-exec scenarios).
[ ! -x "$ESCGUARD_ROOT/build/bench/bench" ] || install -m 0755 "$ESCGUARD_ROOT/build/bench/bench" "$STAGE/bundles/busybox/rootfs/usr/bin/egtest"
[ ! -x "$ESCGUARD_ROOT/build/progs/egprobe" ] || install -m 0755 "$ESCGUARD_ROOT/build/progs/egprobe" "$STAGE/bundles/busybox/rootfs/usr/bin/egprobe"
( cd "$STAGE/bundles/busybox" && "$RUNC" spec )
# Variants: privileged (every capability, the guest's root disk as a
# device, no masked paths), the same sharing the host's pid namespace, and a
# default container sharing the host's network namespace. For the bypass
# suite: privileged with the host's debugfs (priv-debugfs) or binfmt_misc
# (priv-binfmt, at /binfmt) bind-mounted in, and a nested runtime (nested:
# privileged with the host's runc, its libraries and /bundles mounted
# read-only, a tmpfs /run and a writable cgroup2 mount), plus the inner
# bundle that runs inside it (/bundles/nested-inner).
python3 - "$STAGE/bundles/busybox" "$STAGE" <<'PY'
import copy, json, os, sys
d, stage = sys.argv[1], sys.argv[2]
rootfs = d + "/rootfs"
c = json.load(open(d + "/config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c", "__CMD__"]
c["root"] = {"path": "/bundles/busybox/rootfs", "readonly": True}
c["hostname"] = "escguard-ctr"
json.dump(c, open(d + "/config.json", "w"), indent=1)

caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD",
        "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_NET_BIND_SERVICE"]
p = copy.deepcopy(c)
for k in ("bounding", "effective", "permitted"):
    p["process"]["capabilities"][k] = caps
p["process"]["capabilities"].pop("inheritance", None)
p["process"]["capabilities"].pop("ambient", None)
p["linux"].pop("maskedPaths", None)
p["linux"].pop("readonlyPaths", None)
p["linux"]["devices"] = [{"path": "/dev/vda", "type": "b", "major": 999001,
                          "minor": 999002, "fileMode": 0o660, "uid": 0, "gid": 0}]
p["linux"]["resources"]["devices"] = [{"allow": True, "access": "rwm"}]
json.dump(p, open(d + "/config-priv.json", "w"), indent=1)

h = copy.deepcopy(p)
h["linux"]["namespaces"] = [n for n in h["linux"]["namespaces"] if n["type"] != "pid"]
json.dump(h, open(d + "/config-priv-hostpid.json", "w"), indent=1)

n = copy.deepcopy(c)
n["linux"]["namespaces"] = [x for x in n["linux"]["namespaces"] if x["type"] != "network"]
json.dump(n, open(d + "/config-hostnet.json", "w"), indent=1)

def bind(dst, src, opts):
    # The mount point exists in the read-only image already (runc would
    # otherwise create it in the shared rootfs directory).
    if not dst.startswith("/sys/") and not os.path.exists(rootfs + dst):
        os.makedirs(rootfs + dst)
    return {"destination": dst, "type": "bind", "source": src, "options": opts}

# The host's debugfs, with the tracefs automounted under it (rbind).
g = copy.deepcopy(p)
g["mounts"].append(bind("/sys/kernel/debug", "/sys/kernel/debug", ["rbind", "rw", "nosuid", "nodev", "noexec"]))
json.dump(g, open(d + "/config-priv-debugfs.json", "w"), indent=1)

# The host's binfmt_misc (the suite mounts it at /proc/sys/fs/binfmt_misc
# before starting such a container).
b = copy.deepcopy(p)
b["mounts"].append(bind("/binfmt", "/proc/sys/fs/binfmt_misc", ["rbind", "rw", "nosuid", "nodev", "noexec"]))
json.dump(b, open(d + "/config-priv-binfmt.json", "w"), indent=1)

# A nested runtime: runc (the host's /usr/sbin, whose applet links point to
# /bin/busybox, which the image has too), the libraries it links, the
# bundles, a /run for its state and a writable cgroup2 mount for the inner
# container's cgroup.
r = copy.deepcopy(p)
for m in r["mounts"]:
    if m["destination"] == "/sys/fs/cgroup":
        m["options"] = [o for o in m["options"] if o != "ro"]
r["mounts"].append({"destination": "/run", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=755"]})
for lib in ("/lib", "/lib64", "/usr/lib", "/usr/lib64"):
    if os.path.isdir(stage + lib) and not os.path.islink(stage + lib):
        r["mounts"].append(bind(lib, lib, ["rbind", "ro"]))
r["mounts"].append(bind("/usr/sbin", "/usr/sbin", ["rbind", "ro"]))
r["mounts"].append(bind("/bundles", "/bundles", ["rbind", "ro"]))
json.dump(r, open(d + "/config-nested.json", "w"), indent=1)

# A host directory on the root disk as a read-write volume (vol), and a
# privileged container on the host's network (priv-hostnet: its sysfs mount
# would show the host's network devices).
v = copy.deepcopy(c)
v["mounts"].append(bind("/vol", "/egvol", ["rbind", "rw"]))
json.dump(v, open(d + "/config-vol.json", "w"), indent=1)
pn = copy.deepcopy(p)
pn["linux"]["namespaces"] = [x for x in pn["linux"]["namespaces"] if x["type"] != "network"]
json.dump(pn, open(d + "/config-priv-hostnet.json", "w"), indent=1)
# The host's /run as a volume at /hostrun (hostrun): a runtime's control
# socket handed to a container, as a mounted docker.sock is.
hr = copy.deepcopy(c)
hr["mounts"].append(bind("/hostrun", "/run", ["rbind", "ro"]))
json.dump(hr, open(d + "/config-hostrun.json", "w"), indent=1)

# The host's whole root filesystem as a read-only volume at /host (hostroot),
# as node agents and monitoring daemons are configured (`-v /:/host:ro`),
# and the same on a privileged container (priv-hostroot).
hv = copy.deepcopy(c)
hv["mounts"].append(bind("/host", "/", ["rbind", "ro"]))
json.dump(hv, open(d + "/config-hostroot.json", "w"), indent=1)
ph = copy.deepcopy(p)
ph["mounts"].append(bind("/host", "/", ["rbind", "ro"]))
json.dump(ph, open(d + "/config-priv-hostroot.json", "w"), indent=1)

# The bundle the nested runc runs: the default container on the same
# read-only image, printing a greeting. Without /sys and its cgroup mount
# (and the /sys masks): the bypass suite tests a nested runtime's own proc
# mount, not sysfs.
i = copy.deepcopy(c)
i["process"]["args"] = ["/bin/sh", "-c", "echo nested-hello"]
i["hostname"] = "escguard-nested"
i["mounts"] = [m for m in i["mounts"] if not m["destination"].startswith("/sys")]
for k in ("maskedPaths", "readonlyPaths"):
    i["linux"][k] = [x for x in i["linux"].get(k, []) if not x.startswith("/sys")]
os.makedirs(os.path.dirname(d) + "/nested-inner", exist_ok=True)
json.dump(i, open(os.path.dirname(d) + "/nested-inner/config.json", "w"), indent=1)
PY
# JSON has no placeholders for numbers: the guest fills in /dev/vda's.
for f in "$STAGE"/bundles/busybox/config-*.json; do
  sed -i 's/999001/__VDA_MAJOR__/; s/999002/__VDA_MINOR__/' "$f"
done

# The host directory the vol variant mounts (world-writable, like a volume).
mkdir -p "$STAGE/egvol"; chmod 1777 "$STAGE/egvol"

# A marker only the host can see: the container rootfs has no such file.
echo "host-only marker" > "$STAGE/host-marker"

size_mb=$(( $(du -sm "$STAGE" | cut -f1) + 192 ))
log "writing $IMG (${size_mb} MiB)"
mkdir -p "$(dirname "$IMG")"
rm -f "$IMG"
mkfs.ext4 -q -F -L escguard-root -E root_owner=0:0 -d "$STAGE" "$IMG" "${size_mb}M"
