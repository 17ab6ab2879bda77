//! Which container a task is in, from its cgroup v2 path (as escguard
//! records it in events and task rows), and the names the host knows it by.
//!
//! # Cgroup path conventions
//!
//! [`from_cgroup`] reads the path from the cgroup v2 root down and takes
//! the **outermost** component that names a container; components below it
//! are the container's own sub-cgroups (systemd in a container, a nested
//! runtime) and belong to it. A component names a container when it is:
//!
//! | component                              | runtime      | where                                  |
//! |----------------------------------------|--------------|----------------------------------------|
//! | `docker-<64hex>.scope`                 | `docker`     | Docker, systemd driver (also under kubepods: cri-dockerd) |
//! | `<64hex>` below a `docker` component   | `docker`     | Docker, cgroupfs driver: `/docker/<id>` |
//! | `cri-containerd-<64hex>.scope`         | `containerd` | Kubernetes with containerd, systemd driver |
//! | `nerdctl-<64hex>.scope`                | `containerd` | nerdctl, systemd driver                |
//! | `crio-<64hex>.scope`, `crio-<64hex>`   | `cri-o`      | CRI-O, systemd and cgroupfs drivers    |
//! | `libpod-<64hex>.scope`, `libpod-<64hex>` | `podman`   | Podman, rootful and rootless           |
//! | `runc-<id>.scope`                      | `runc`       | runc's systemd default (`/system.slice/runc-<id>.scope`) |
//! | `lxc.payload.<name>`                   | `lxc`        | LXC                                    |
//! | `<64hex>` below a Kubernetes pod       | `kubernetes` | cgroupfs driver: `/kubepods[/<qos>]/pod<uid>/<id>` (the CRI runtime is not in the path; [`enrich`] may find it) |
//! | `<64hex>` below `libpod_parent`        | `podman`     | Podman, cgroupfs driver                |
//! | `<64hex>` anywhere else                | `runc`       | runc (or a runtime on top of it) with a cgroupsPath of `/<anything>/<id>` |
//! | `<id>` directly below the root         | `runc`       | runc's cgroupfs default: `/<id>` when started from the root cgroup; only when no component below names a container (`/my/containers/<64hex>` is that 64-hex container) |
//!
//! `<64hex>` is 64 lowercase hexadecimal digits: the IDs Docker,
//! containerd's CRI, CRI-O and Podman generate. `<id>` is a runc-style ID
//! (`[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`).
//!
//! What is **not** a container:
//!
//! * the monitors `crio-conmon-<id>.scope` and `libpod-conmon-<id>.scope`
//!   (and `lxc.monitor.<name>`): a path whose outermost container-like
//!   component is a monitor is not a container;
//! * a runc-style ID that is not 64 hex digits anywhere but directly below
//!   the root: `/system.slice/sshd.service/worker` or
//!   `/user.slice/user-0.slice/session-1.scope/x` are a host service's own
//!   sub-cgroups as likely as a container, so they are not guessed at;
//! * at the top level, systemd units (`init.scope`, `system.slice`, any
//!   `.slice`, `.scope`, `.service`, `.socket`, `.mount`, `.swap`,
//!   `.target`, `.device`, `.path`, `.timer`), OpenRC's `openrc.<service>`,
//!   and the parents runtimes and agents create (`docker`, `kubepods`,
//!   `libpod_parent`, `machine`, `lxc`, `lxc.pivot`, `podruntime`, `system`,
//!   `user`, `runtime`, `ecs`, `actions_job`, `garden`, `libvirt`);
//! * the root `/`, and a pod's cgroup without a container below it.
//!
//! A Kubernetes pod UID comes from a pod component above the container:
//! `kubepods[-<qos>]-pod<uid>.slice` (systemd driver, with `_` for `-`;
//! also with a prefix, as kind's `kubelet-kubepods-...`) or `pod<uid>`
//! below a `kubepods` component (cgroupfs driver); it is normalised to the
//! UID's own spelling (underscores become dashes).
//!
//! A path escguard truncated ends in `...`: its last component is
//! incomplete and is ignored; the container is still found when its
//! component is complete (the truncation was in its sub-cgroups).

use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A container, as its cgroup path names it and the host's state adds to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    /// "docker", "containerd", "cri-o", "podman", "runc", "lxc", or
    /// "kubernetes" (a pod's container whose CRI runtime the path does not
    /// say and the host's state did not tell).
    pub runtime: &'static str,
    /// The container's ID (LXC: its name).
    pub id: String,
    /// The Kubernetes pod's UID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
    /// The container's name: Docker's (without its leading "/"), or the
    /// Kubernetes container name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Kubernetes pod's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The Kubernetes pod's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The OCI bundle directory, from runc's state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
}

impl Container {
    fn new(runtime: &'static str, id: &str) -> Container {
        Container {
            runtime,
            id: id.to_string(),
            pod_uid: None,
            name: None,
            pod: None,
            namespace: None,
            bundle: None,
        }
    }
}

/// 64 lowercase hexadecimal digits.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A runc-style container ID: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`.
pub fn is_runc_id(s: &str) -> bool {
    crate::policy::check_container_id(s).is_ok()
}

/// Systemd unit suffixes: a component ending in one is a unit's cgroup.
const UNIT_SUFFIXES: &[&str] = &[
    ".slice", ".scope", ".service", ".socket", ".mount", ".swap", ".target", ".device", ".path",
    ".timer",
];

/// Top-level cgroups that runtimes and init systems create as parents.
const TOP_PARENTS: &[&str] = &[
    "docker",
    "kubepods",
    "libpod_parent",
    "machine",
    "lxc",
    "podruntime",
    "system",
    "user",
    "runtime",
    "ecs",
    "actions_job",
    "garden",
    "libvirt",
    "lxc.pivot",
];

/// `<prefix><64hex>` with an optional `.scope`: the ID.
fn prefixed_hex<'a>(c: &'a str, prefix: &str, scope_required: bool) -> Option<&'a str> {
    let rest = c.strip_prefix(prefix)?;
    let id = match rest.strip_suffix(".scope") {
        Some(id) => id,
        None if scope_required => return None,
        None => rest,
    };
    is_hex64(id).then_some(id)
}

enum Component<'a> {
    /// A container: runtime and ID.
    Container(&'static str, &'a str),
    /// A top-level component that is a container if nothing below is.
    MaybeRunc(&'a str),
    /// A runtime's monitor process (conmon, lxc.monitor): not a container.
    Monitor,
    /// A Kubernetes pod: its UID as the path spells it.
    Pod(&'a str),
    Other,
}

fn pod_uid_ok(uid: &str) -> bool {
    (8..=64).contains(&uid.len())
        && uid
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'_')
}

/// What component `i` of `parts` is.
fn classify<'a>(parts: &[&'a str], i: usize) -> Component<'a> {
    let c = parts[i];
    let in_kubepods = parts[..i].iter().any(|p| p.contains("kubepods"));
    if c.starts_with("crio-conmon-")
        || c.starts_with("libpod-conmon-")
        || c.starts_with("lxc.monitor.")
    {
        return Component::Monitor;
    }
    for (prefix, runtime, scope_required) in [
        ("docker-", "docker", true),
        ("cri-containerd-", "containerd", true),
        ("nerdctl-", "containerd", true),
        ("crio-", "cri-o", false),
        ("libpod-", "podman", false),
    ] {
        if let Some(id) = prefixed_hex(c, prefix, scope_required) {
            return Component::Container(runtime, id);
        }
    }
    if let Some(id) = c
        .strip_prefix("runc-")
        .and_then(|r| r.strip_suffix(".scope"))
    {
        if is_runc_id(id) {
            return Component::Container("runc", id);
        }
    }
    if let Some(name) = c.strip_prefix("lxc.payload.") {
        if is_runc_id(name) {
            return Component::Container("lxc", name);
        }
    }
    // Pods: systemd driver "...kubepods[-qos]-pod<uid>.slice".
    if c.contains("kubepods") {
        if let Some(uid) = c
            .strip_suffix(".slice")
            .and_then(|s| s.rfind("-pod").map(|at| &s[at + 4..]))
        {
            if pod_uid_ok(uid) {
                return Component::Pod(uid);
            }
        }
    }
    // ... cgroupfs driver "pod<uid>" below kubepods.
    if in_kubepods {
        if let Some(uid) = c.strip_prefix("pod") {
            if pod_uid_ok(uid) {
                return Component::Pod(uid);
            }
        }
    }
    if is_hex64(c) {
        let parent = if i > 0 { parts[i - 1] } else { "" };
        let runtime = if parent == "docker" {
            "docker"
        } else if parent == "libpod_parent" {
            "podman"
        } else if in_kubepods {
            "kubernetes"
        } else {
            "runc"
        };
        return Component::Container(runtime, c);
    }
    if i == 0
        && is_runc_id(c)
        && !UNIT_SUFFIXES.iter().any(|s| c.ends_with(s))
        && !TOP_PARENTS.contains(&c)
        && !c.starts_with("openrc.")
        && !c.starts_with("kubepods")
    {
        return Component::MaybeRunc(c);
    }
    Component::Other
}

/// The container a cgroup v2 path (from the cgroup root) is in, or `None`
/// for a host cgroup (see the module documentation for the conventions).
pub fn from_cgroup(path: &str) -> Option<Container> {
    let rest = path.strip_prefix('/')?;
    let mut parts: Vec<&str> = rest.split('/').collect();
    if path.ends_with("...") {
        // Truncated by escguard: the last component is incomplete.
        parts.pop();
    }
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return None;
    }
    let mut pod_uid = None;
    let mut weak = None;
    for i in 0..parts.len() {
        match classify(&parts, i) {
            Component::Container(runtime, id) => {
                let mut c = Container::new(runtime, id);
                c.pod_uid = pod_uid.map(|u: &str| u.replace('_', "-"));
                return Some(c);
            }
            Component::MaybeRunc(id) => weak = Some(id),
            Component::Monitor => return None,
            Component::Pod(uid) => pod_uid = Some(uid),
            Component::Other => {}
        }
    }
    weak.map(|id| Container::new("runc", id))
}

// ---------------------------------------------------------------------------
// Names from the host's state.

/// The most `enrich` reads of one file.
pub const FILE_MAX: u64 = 4 << 20;
/// The most directory entries `enrich` looks at in one directory.
const DIR_MAX: usize = 4096;

/// `root` joined with an absolute host path.
fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

/// A regular file of at most `FILE_MAX` bytes, or `None`. The last
/// component is not followed if it is a symbolic link (`O_NOFOLLOW`: the
/// state is the runtime's, not wherever a link points), and the open does
/// not block (`O_NONBLOCK`: a FIFO planted in a state directory must not
/// hang `escguardctl tail`); anything but a regular file is skipped.
fn read_small(p: &Path) -> Option<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(p)
        .ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > FILE_MAX {
        return None;
    }
    let mut buf = Vec::new();
    f.take(FILE_MAX + 1).read_to_end(&mut buf).ok()?;
    (buf.len() as u64 <= FILE_MAX).then_some(buf)
}

fn read_json(p: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&read_small(p)?).ok()
}

/// A name from the host's state: non-empty, at most 256 bytes.
fn name_value(v: Option<&serde_json::Value>) -> Option<String> {
    let s = v?.as_str()?;
    (!s.is_empty() && s.len() <= 256).then(|| s.to_string())
}

fn set_if_none(slot: &mut Option<String>, v: Option<String>) {
    if slot.is_none() {
        *slot = v;
    }
}

/// Directory entry names of `dir` (at most `DIR_MAX`), or none.
fn list(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.take(DIR_MAX)
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect()
}

/// runc's state.json: the bundle from its `bundle=` label.
fn bundle_from_state(state: &serde_json::Value) -> Option<String> {
    state
        .get("config")?
        .get("labels")?
        .as_array()?
        .iter()
        .filter_map(|l| l.as_str()?.strip_prefix("bundle="))
        .find(|b| b.starts_with('/') && b.len() < 4096 && !b.split('/').any(|c| c == ".."))
        .map(str::to_string)
}

/// Kubernetes names from an OCI config.json's annotations, as containerd's
/// CRI or CRI-O writes them; whether any was found.
fn k8s_annotations(c: &mut Container, config: &serde_json::Value, keys: [&str; 3]) -> bool {
    let Some(a) = config.get("annotations") else {
        return false;
    };
    let [container, pod, namespace] = keys.map(|k| name_value(a.get(k)));
    let found = container.is_some() || pod.is_some() || namespace.is_some();
    set_if_none(&mut c.name, container);
    set_if_none(&mut c.pod, pod);
    set_if_none(&mut c.namespace, namespace);
    found
}

/// Adds what the host's state under `root` ("/" normally) says about `c`:
/// the bundle from runc's state (`/run/runc/<id>/state.json`, Docker's
/// `/run/docker/runtime-runc/moby/<id>/state.json`, containerd's
/// `/run/containerd/runc/<ns>/<id>/state.json`), Docker's name
/// (`/var/lib/docker/containers/<id>/config.v2.json`), Kubernetes names
/// from containerd's bundle (`/run/containerd/io.containerd.runtime.v2.task/
/// k8s.io/<id>/config.json`, or the bundle runc named) or CRI-O's
/// (`/run/containers/storage/overlay-containers/<id>/userdata/config.json`)
/// annotations, and the pod's name and namespace from
/// `/var/log/pods/<namespace>_<pod>_<uid>/` by pod UID. A "kubernetes"
/// runtime becomes "containerd" or "cri-o" when their state is found.
///
/// Never fails: what is missing, unreadable, malformed or larger than 4 MiB
/// (`FILE_MAX`) leaves its fields as they were. Fields already set are
/// kept. The ID and pod UID are used in paths only when they are what
/// [`from_cgroup`] accepts (no `/`, not `.` or `..`).
pub fn enrich(c: &mut Container, root: &Path) {
    if !is_runc_id(&c.id) {
        return;
    }
    let id = c.id.clone();

    // runc state: the bundle.
    let mut states = vec![
        format!("/run/runc/{id}/state.json"),
        format!("/run/docker/runtime-runc/moby/{id}/state.json"),
    ];
    for ns in list(&under(root, "/run/containerd/runc")) {
        if is_runc_id(&ns) {
            states.push(format!("/run/containerd/runc/{ns}/{id}/state.json"));
        }
    }
    if c.bundle.is_none() {
        c.bundle = states
            .iter()
            .filter_map(|s| read_json(&under(root, s)))
            .find_map(|v| bundle_from_state(&v));
    }

    // Docker's name.
    if let Some(v) = read_json(&under(
        root,
        &format!("/var/lib/docker/containers/{id}/config.v2.json"),
    )) {
        let name = name_value(v.get("Name")).map(|n| n.trim_start_matches('/').to_string());
        set_if_none(&mut c.name, name.filter(|n| !n.is_empty()));
    }

    // Kubernetes names: containerd's CRI, then CRI-O.
    let mut configs = vec![format!(
        "/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json"
    )];
    if let Some(b) = &c.bundle {
        configs.push(format!("{}/config.json", b.trim_end_matches('/')));
    }
    for cfg in &configs {
        if let Some(v) = read_json(&under(root, cfg)) {
            let found = k8s_annotations(
                c,
                &v,
                [
                    "io.kubernetes.cri.container-name",
                    "io.kubernetes.cri.sandbox-name",
                    "io.kubernetes.cri.sandbox-namespace",
                ],
            );
            if found && c.runtime == "kubernetes" {
                c.runtime = "containerd";
            }
            if c.pod_uid.is_none() {
                c.pod_uid = name_value(
                    v.get("annotations")
                        .and_then(|a| a.get("io.kubernetes.cri.sandbox-uid")),
                )
                .filter(|u| pod_uid_ok(u));
            }
        }
    }
    if let Some(v) = read_json(&under(
        root,
        &format!("/run/containers/storage/overlay-containers/{id}/userdata/config.json"),
    )) {
        let found = k8s_annotations(
            c,
            &v,
            [
                "io.kubernetes.container.name",
                "io.kubernetes.pod.name",
                "io.kubernetes.pod.namespace",
            ],
        );
        if found && c.runtime == "kubernetes" {
            c.runtime = "cri-o";
        }
    }

    // The pod's log directory: <namespace>_<pod>_<uid>.
    if let Some(uid) = c.pod_uid.clone().filter(|u| pod_uid_ok(u)) {
        if c.pod.is_none() || c.namespace.is_none() {
            let suffix = format!("_{uid}");
            if let Some(dir) = list(&under(root, "/var/log/pods"))
                .into_iter()
                .find(|d| d.ends_with(&suffix))
            {
                let head = &dir[..dir.len() - suffix.len()];
                // Namespaces and pod names are DNS labels/subdomains: no "_".
                if let Some((ns, pod)) = head.split_once('_') {
                    if !ns.is_empty() && !pod.is_empty() && !pod.contains('_') {
                        set_if_none(&mut c.namespace, Some(ns.to_string()));
                        set_if_none(&mut c.pod, Some(pod.to_string()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
    const H2: &str = "9b1e0c7d2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d";

    fn c(runtime: &'static str, id: &str, pod_uid: Option<&str>) -> Option<Container> {
        let mut c = Container::new(runtime, id);
        c.pod_uid = pod_uid.map(str::to_string);
        Some(c)
    }

    #[test]
    fn docker() {
        assert_eq!(from_cgroup(&format!("/docker/{H}")), c("docker", H, None));
        assert_eq!(
            from_cgroup(&format!("/system.slice/docker-{H}.scope")),
            c("docker", H, None)
        );
        // Rootless Docker: the user's manager.
        assert_eq!(
            from_cgroup(&format!(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/docker-{H}.scope"
            )),
            c("docker", H, None)
        );
        // The daemon itself is a host service.
        assert_eq!(from_cgroup("/system.slice/docker.service"), None);
        assert_eq!(
            from_cgroup("/system.slice/docker-compose@web.service"),
            None
        );
        assert_eq!(from_cgroup("/docker"), None);
    }

    #[test]
    fn kubernetes_systemd_driver_every_qos_class() {
        let uid = "0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f";
        let sys = "0c2d4e6f_1a3b_4c5d_8e9f_0a1b2c3d4e5f";
        for (qos, runtime, prefix) in [
            ("burstable", "containerd", "cri-containerd-"),
            ("besteffort", "cri-o", "crio-"),
            ("burstable", "docker", "docker-"),
        ] {
            let p = format!(
                "/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{sys}.slice/{prefix}{H}.scope"
            );
            assert_eq!(from_cgroup(&p), c(runtime, H, Some(uid)), "{p}");
        }
        // Guaranteed pods sit directly below kubepods.slice.
        assert_eq!(
            from_cgroup(&format!(
                "/kubepods.slice/kubepods-pod{sys}.slice/cri-containerd-{H}.scope"
            )),
            c("containerd", H, Some(uid))
        );
        // kind / nested: the kubelet's cgroup root has a prefix.
        assert_eq!(
            from_cgroup(&format!(
                "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/\
                 kubelet-kubepods-besteffort-pod{sys}.slice/cri-containerd-{H}.scope"
            )),
            c("containerd", H, Some(uid))
        );
        // Static pods have a 32-hex UID (a hash of the manifest).
        assert_eq!(
            from_cgroup(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1a2b3c4d5e6f708192a3b4c5d6e7f8.slice/cri-containerd-{H}.scope"
            )),
            c("containerd", H, Some("6f1a2b3c4d5e6f708192a3b4c5d6e7f8"))
        );
        // The pod and QoS cgroups themselves are no container.
        assert_eq!(
            from_cgroup(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{sys}.slice"
            )),
            None
        );
        assert_eq!(
            from_cgroup("/kubepods.slice/kubepods-besteffort.slice"),
            None
        );
        assert_eq!(from_cgroup("/kubepods.slice"), None);
    }

    #[test]
    fn kubernetes_cgroupfs_driver() {
        let uid = "0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f";
        for qos in ["burstable/", "besteffort/", ""] {
            let p = format!("/kubepods/{qos}pod{uid}/{H}");
            assert_eq!(from_cgroup(&p), c("kubernetes", H, Some(uid)), "{p}");
        }
        // CRI-O with cgroupfs names its container "crio-<id>".
        assert_eq!(
            from_cgroup(&format!("/kubepods/besteffort/pod{uid}/crio-{H}")),
            c("cri-o", H, Some(uid))
        );
        assert_eq!(from_cgroup(&format!("/kubepods/burstable/pod{uid}")), None);
        assert_eq!(from_cgroup("/kubepods/burstable"), None);
        assert_eq!(from_cgroup("/kubepods"), None);
    }

    #[test]
    fn cri_o_and_podman_monitors_are_not_the_container() {
        assert_eq!(
            from_cgroup(&format!("/system.slice/crio-conmon-{H}.scope")),
            None
        );
        assert_eq!(
            from_cgroup(&format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c2d4e6f_1a3b_4c5d_8e9f_0a1b2c3d4e5f.slice/crio-conmon-{H}.scope"
            )),
            None
        );
        assert_eq!(
            from_cgroup(&format!("/machine.slice/libpod-conmon-{H}.scope")),
            None
        );
        assert_eq!(
            from_cgroup(&format!("/system.slice/crio-{H}.scope")),
            c("cri-o", H, None)
        );
        assert_eq!(from_cgroup("/system.slice/crio.service"), None);
    }

    #[test]
    fn podman_rootful_rootless_and_pods() {
        assert_eq!(
            from_cgroup(&format!("/machine.slice/libpod-{H}.scope")),
            c("podman", H, None)
        );
        assert_eq!(
            from_cgroup(&format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{H}.scope"
            )),
            c("podman", H, None)
        );
        assert_eq!(
            from_cgroup(&format!(
                "/machine.slice/machine-libpod_pod_{H2}.slice/libpod-{H}.scope"
            )),
            c("podman", H, None)
        );
        assert_eq!(
            from_cgroup(&format!("/libpod_parent/{H}")),
            c("podman", H, None)
        );
        assert_eq!(
            from_cgroup(&format!("/libpod_parent/libpod-{H}")),
            c("podman", H, None)
        );
    }

    #[test]
    fn nested_sub_cgroups_belong_to_their_container() {
        // systemd in a Podman container.
        assert_eq!(
            from_cgroup(&format!("/machine.slice/libpod-{H}.scope/container")),
            c("podman", H, None)
        );
        assert_eq!(
            from_cgroup(&format!(
                "/machine.slice/libpod-{H}.scope/container/system.slice/sshd.service"
            )),
            c("podman", H, None)
        );
        assert_eq!(
            from_cgroup(&format!("/system.slice/docker-{H}.scope/init.scope")),
            c("docker", H, None)
        );
        // Docker in Docker: the outermost container is the host's.
        assert_eq!(
            from_cgroup(&format!("/docker/{H}/docker/{H2}")),
            c("docker", H, None)
        );
        // A container's own cgroup named like another runtime's: the
        // outermost (the one the runtime made) wins.
        assert_eq!(
            from_cgroup(&format!(
                "/kubepods/pod0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f/{H}/docker-{H2}.scope"
            ))
            .map(|c| c.id),
            Some(H.to_string())
        );
        assert_eq!(
            from_cgroup("/escguard-test/sub/x"),
            c("runc", "escguard-test", None)
        );
    }

    #[test]
    fn plain_runc() {
        // cgroupfs default from the root cgroup: /<id>.
        assert_eq!(from_cgroup("/mycontainer"), c("runc", "mycontainer", None));
        assert_eq!(from_cgroup(&format!("/{H}")), c("runc", H, None));
        // cgroupfs default from a session: /<caller's cgroup>/<id>; only a
        // 64-hex ID is recognised there.
        assert_eq!(
            from_cgroup(&format!("/user.slice/user-0.slice/session-1.scope/{H}")),
            c("runc", H, None)
        );
        assert_eq!(
            from_cgroup("/user.slice/user-0.slice/session-1.scope/mycontainer"),
            None
        );
        // An explicit cgroupsPath.
        assert_eq!(
            from_cgroup(&format!("/my/containers/{H}")),
            c("runc", H, None)
        );
        // The systemd driver's default.
        assert_eq!(
            from_cgroup("/system.slice/runc-mycontainer.scope"),
            c("runc", "mycontainer", None)
        );
        assert_eq!(
            from_cgroup(&format!("/system.slice/nerdctl-{H}.scope")),
            c("containerd", H, None)
        );
        assert_eq!(from_cgroup("/lxc.payload.web1"), c("lxc", "web1", None));
        assert_eq!(from_cgroup("/lxc.monitor.web1"), None);
    }

    #[test]
    fn host_cgroups_are_not_containers() {
        for p in [
            "/",
            "",
            "/init.scope",
            "/system.slice",
            "/system.slice/sshd.service",
            "/system.slice/containerd.service",
            "/system.slice/kubelet.service",
            "/system.slice/systemd-journald.service",
            "/system.slice/system-getty.slice/getty@tty1.service",
            "/user.slice",
            "/user.slice/user-0.slice/session-1.scope",
            "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.socket",
            "/user.slice/user-1000.slice/user@1000.service/init.scope",
            "/machine.slice",
            "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope",
            "/-.mount",
            "/openrc.sshd",
            "/system",
            "/sys-fs-fuse-connections.mount",
            "/system.slice/sshd.service/worker",
            "relative/path",
            "/a//b",
            "/a/../b",
        ] {
            assert_eq!(from_cgroup(p), None, "{p}");
        }
    }

    #[test]
    fn truncated_paths() {
        // Cut inside the container's component: the ID is incomplete.
        let full = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c2d4e6f_1a3b_4c5d_8e9f_0a1b2c3d4e5f.slice/cri-containerd-{H}.scope"
        );
        let cut = format!("{}...", &full[..full.len() - 20]);
        assert_eq!(from_cgroup(&cut), None);
        // Cut inside the container's sub-cgroups: the container is known.
        let deep = format!("/system.slice/docker-{H}.scope/{}...", "x".repeat(150));
        assert_eq!(from_cgroup(&deep), c("docker", H, None));
        // A 64-hex prefix of a longer component is not taken for an ID.
        assert_eq!(from_cgroup(&format!("/docker/{H}ab...")), None);
        assert_eq!(from_cgroup("/..."), None);
        assert_eq!(from_cgroup("/mycontainer..."), None);
    }

    #[test]
    fn uppercase_or_short_hex_is_not_a_generated_id() {
        assert_eq!(from_cgroup(&format!("/docker/{}", H.to_uppercase())), None);
        assert_eq!(from_cgroup(&format!("/docker/{}", &H[..63])), None);
        assert_eq!(
            from_cgroup(&format!("/system.slice/docker-{}.scope", &H[..12])),
            None
        );
    }

    #[test]
    fn serializes_without_absent_fields() {
        let mut k = from_cgroup(&format!(
            "/kubepods/besteffort/pod0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f/{H}"
        ))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&k).unwrap(),
            serde_json::json!({"runtime": "kubernetes", "id": H,
                "pod_uid": "0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f"})
        );
        k.pod_uid = None;
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            format!(r#"{{"runtime":"kubernetes","id":"{H}"}}"#)
        );
    }

    // -- enrich ---------------------------------------------------------

    struct Root(PathBuf);

    impl Root {
        fn new(name: &str) -> Root {
            let d = std::env::temp_dir()
                .join(format!("escguard-container-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            Root(d)
        }
        fn write(&self, abs: &str, text: &str) {
            let p = under(&self.0, abs);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        fn mkdir(&self, abs: &str) {
            std::fs::create_dir_all(under(&self.0, abs)).unwrap();
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const UID: &str = "0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f";

    #[test]
    fn enrich_docker_name_and_bundle() {
        let r = Root::new("docker");
        r.write(
            &format!("/var/lib/docker/containers/{H}/config.v2.json"),
            r#"{"ID":"x","Name":"/web-1","State":{}}"#,
        );
        r.write(
            &format!("/run/docker/runtime-runc/moby/{H}/state.json"),
            &format!(
                r#"{{"id":"{H}","init_process_pid":42,"config":{{"labels":["bundle=/run/containerd/io.containerd.runtime.v2.task/moby/{H}","x=y"]}}}}"#
            ),
        );
        let mut c = from_cgroup(&format!("/system.slice/docker-{H}.scope")).unwrap();
        enrich(&mut c, &r.0);
        assert_eq!(c.name.as_deref(), Some("web-1"));
        assert_eq!(
            c.bundle,
            Some(format!(
                "/run/containerd/io.containerd.runtime.v2.task/moby/{H}"
            ))
        );
        assert_eq!((c.pod.as_ref(), c.namespace.as_ref()), (None, None));
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["name"], "web-1");
        assert!(v.get("pod").is_none());
    }

    #[test]
    fn enrich_containerd_kubernetes_names() {
        let r = Root::new("containerd");
        r.write(
            &format!("/run/containerd/runc/k8s.io/{H}/state.json"),
            &format!(
                r#"{{"config":{{"labels":["bundle=/run/containerd/io.containerd.runtime.v2.task/k8s.io/{H}"]}}}}"#
            ),
        );
        r.write(
            &format!("/run/containerd/io.containerd.runtime.v2.task/k8s.io/{H}/config.json"),
            r#"{"ociVersion":"1.1.0","annotations":{
                "io.kubernetes.cri.container-type":"container",
                "io.kubernetes.cri.container-name":"nginx",
                "io.kubernetes.cri.sandbox-name":"web-7d4b9c-x2x4z",
                "io.kubernetes.cri.sandbox-namespace":"shop"}}"#,
        );
        // The cgroupfs driver does not say which CRI runtime: the state does.
        let mut c = from_cgroup(&format!("/kubepods/burstable/pod{UID}/{H}")).unwrap();
        assert_eq!(c.runtime, "kubernetes");
        enrich(&mut c, &r.0);
        assert_eq!(c.runtime, "containerd");
        assert_eq!(c.name.as_deref(), Some("nginx"));
        assert_eq!(c.pod.as_deref(), Some("web-7d4b9c-x2x4z"));
        assert_eq!(c.namespace.as_deref(), Some("shop"));
        assert_eq!(
            c.bundle,
            Some(format!(
                "/run/containerd/io.containerd.runtime.v2.task/k8s.io/{H}"
            ))
        );
    }

    #[test]
    fn enrich_cri_o_kubernetes_names() {
        let r = Root::new("crio");
        r.write(
            &format!("/run/containers/storage/overlay-containers/{H}/userdata/config.json"),
            r#"{"annotations":{"io.kubernetes.container.name":"app",
                "io.kubernetes.pod.name":"api-0","io.kubernetes.pod.namespace":"prod"}}"#,
        );
        let mut c = from_cgroup(&format!("/kubepods/besteffort/pod{UID}/{H}")).unwrap();
        enrich(&mut c, &r.0);
        assert_eq!(c.runtime, "cri-o");
        assert_eq!(
            (c.name.as_deref(), c.pod.as_deref(), c.namespace.as_deref()),
            (Some("app"), Some("api-0"), Some("prod"))
        );
    }

    #[test]
    fn enrich_pod_names_from_the_log_directory() {
        let r = Root::new("logs");
        r.mkdir(&format!(
            "/var/log/pods/kube-system_coredns-5d78c9869d-abcde_{UID}/coredns"
        ));
        r.mkdir("/var/log/pods/default_other_11111111-2222-3333-4444-555555555555");
        let mut c = from_cgroup(&format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{H}.scope",
            UID.replace('-', "_")
        ))
        .unwrap();
        enrich(&mut c, &r.0);
        assert_eq!(c.pod.as_deref(), Some("coredns-5d78c9869d-abcde"));
        assert_eq!(c.namespace.as_deref(), Some("kube-system"));
        assert_eq!(c.name, None);
        assert_eq!(c.runtime, "containerd");
    }

    #[test]
    fn enrich_never_fails_on_missing_malformed_or_huge_state() {
        // Nothing there at all.
        let r = Root::new("empty");
        let mut c = from_cgroup(&format!("/kubepods/pod{UID}/{H}")).unwrap();
        let before = c.clone();
        enrich(&mut c, &r.0);
        assert_eq!(c, before);
        enrich(&mut c, Path::new("/nonexistent/escguard/root"));
        assert_eq!(c, before);

        // Malformed JSON, wrong types, a directory where a file should be.
        r.write(
            &format!("/var/lib/docker/containers/{H}/config.v2.json"),
            "{not json",
        );
        r.write(
            &format!("/run/runc/{H}/state.json"),
            r#"{"config":{"labels":"bundle=/x"}}"#,
        );
        r.mkdir(&format!(
            "/run/containerd/io.containerd.runtime.v2.task/k8s.io/{H}/config.json"
        ));
        r.write(
            &format!("/run/containers/storage/overlay-containers/{H}/userdata/config.json"),
            r#"{"annotations":{"io.kubernetes.container.name":7,"io.kubernetes.pod.name":""}}"#,
        );
        r.mkdir(&format!("/var/log/pods/_{UID}"));
        enrich(&mut c, &r.0);
        assert_eq!(c, before);

        // Larger than 4 MiB: not read.
        let p = under(
            &r.0,
            &format!("/var/lib/docker/containers/{H}/config.v2.json"),
        );
        let mut big = String::from(r#"{"Name":"/big","pad":""#);
        big.push_str(&"x".repeat(FILE_MAX as usize));
        big.push_str("\"}");
        std::fs::write(&p, big).unwrap();
        enrich(&mut c, &r.0);
        assert_eq!(c.name, None);
        std::fs::write(&p, r#"{"Name":"/small"}"#).unwrap();
        enrich(&mut c, &r.0);
        assert_eq!(c.name.as_deref(), Some("small"));
    }

    #[test]
    fn state_files_that_are_fifos_or_symlinks_are_skipped() {
        let r = Root::new("special");
        let cfg = format!("/var/lib/docker/containers/{H}/config.v2.json");
        let p = under(&r.0, &cfg);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // A FIFO with no writer: a blocking open or read would hang.
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_eq!(read_small(&p), None);
        let mut c = Container::new("docker", H);
        enrich(&mut c, &r.0);
        assert_eq!(c.name, None);
        // A symbolic link to a file that would name the container.
        std::fs::remove_file(&p).unwrap();
        r.write("/elsewhere/config.v2.json", r#"{"Name":"/via-link"}"#);
        std::os::unix::fs::symlink(under(&r.0, "/elsewhere/config.v2.json"), &p).unwrap();
        assert_eq!(read_small(&p), None);
        enrich(&mut c, &r.0);
        assert_eq!(c.name, None);
        // The same content as a regular file is read.
        std::fs::remove_file(&p).unwrap();
        r.write(&cfg, r#"{"Name":"/regular"}"#);
        enrich(&mut c, &r.0);
        assert_eq!(c.name.as_deref(), Some("regular"));
    }

    #[test]
    fn enrich_keeps_what_is_set_and_uses_only_safe_ids_in_paths() {
        let r = Root::new("keep");
        r.write(
            &format!("/var/lib/docker/containers/{H}/config.v2.json"),
            r#"{"Name":"/from-state"}"#,
        );
        let mut c = Container::new("docker", H);
        c.name = Some("given".into());
        enrich(&mut c, &r.0);
        assert_eq!(c.name.as_deref(), Some("given"));
        // An ID that could climb out of the state directories is ignored.
        r.write("/var/lib/docker/config.v2.json", r#"{"Name":"/escaped"}"#);
        let mut c = Container::new("docker", "..");
        enrich(&mut c, &r.0.join("var/lib/docker/containers/x"));
        assert_eq!(c.name, None);
        let mut c = Container::new("docker", "a/../..");
        enrich(&mut c, &r.0);
        assert_eq!(c.name, None);
    }
}
