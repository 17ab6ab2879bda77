//! `escguardctl policy from-trivy`: derive an escguard policy from a Trivy
//! JSON report (`trivy image|fs|rootfs|config --format json`,
//! SchemaVersion 2), explaining each rule with the findings behind it.
//!
//! Only the fields used here are read; Trivy adds fields over time and
//! unknown ones are ignored. What is derived (each rule's name is a fixed
//! base name behind a tag of the scope, `tv-<tag>-<base>`, see
//! [`rule_name`]: re-running for the same workload gives the same names, so
//! a re-import is idempotent, and imports for other workloads have other
//! names, so they coexist in the active policy):
//!
//! * privileged containers, added CAP_SYS_ADMIN or other capabilities,
//!   allowed privilege escalation (KSV017, KSV005, KSV022, KSV001): no
//!   mounts from `/dev` or of cgroup (v1), no writes under `/proc/sys` and
//!   `/sys/kernel`, nor to `/proc/sysrq-trigger`;
//! * hostPath volumes (KSV023, KSV121): no writes under the host paths node
//!   agents mount at the same path (`/etc/kubernetes`, `/var/lib/kubelet`,
//!   `/var/lib/containerd`, `/var/lib/docker`);
//! * host PID / IPC / network namespace (KSV010, KSV008, KSV009): no
//!   access to `/proc/1` (the host's init), `/dev/shm`, no writes under
//!   `/proc/sys/net`;
//! * a mounted runtime socket (KSV006, or any failed check that names
//!   `docker.sock`): `runtime_sockets` = the defaults plus the `/var/run`
//!   spellings;
//! * running as root (KSV012, DS002): nothing (explained);
//! * a vulnerable runc, containerd, docker/moby or crun package: no writes
//!   to the runtime's binaries (CVE-2019-5736; the module matches the file
//!   opened, so an open through `/proc/self/exe` is caught by the binary's
//!   path and a `/proc/self/exe` pattern would never match);
//! * a vulnerable kernel package (`linux-image*`, `linux-headers*`,
//!   `kernel`, `kernel-*`): no cgroup (v1) mounts; the release_agent and
//!   core_pattern presets must stay enabled.
//!
//! Every derived rule is scoped to the workload the report is about
//! (`--container ID` or `--cgroup PATH`): a report describes one image or
//! manifest, and some rules would break other containers if they applied
//! to every container task (`no-host-init-proc` refuses `/proc/1`,
//! which in a container with its own pid namespace is the container's own
//! init; `no-host-shm` refuses every container's own `/dev/shm`).
//! Derivation without a scope is refused ([`NO_SCOPE`]).
//!
//! Everything taken from the report (titles, messages, targets, IDs, the
//! artifact's name) is escaped ([`crate::escape::text`]) before it is shown:
//! a report is as trustworthy as the image it describes.

use crate::escape;
use crate::policy::{self, Match, MountField, Policy, Rule, Scope, Spec};
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    #[serde(default)]
    pub schema_version: Option<u64>,
    #[serde(default)]
    pub artifact_name: Option<String>,
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(skip)]
    pub results: Vec<ScanResult>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ScanResult {
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub vulnerabilities: Option<Vec<Vulnerability>>,
    #[serde(default)]
    pub misconfigurations: Option<Vec<Misconfiguration>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Vulnerability {
    #[serde(rename = "VulnerabilityID", default)]
    pub vulnerability_id: Option<String>,
    #[serde(default)]
    pub pkg_name: Option<String>,
    #[serde(default)]
    pub installed_version: Option<String>,
    #[serde(default)]
    pub fixed_version: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Misconfiguration {
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
    #[serde(rename = "AVDID", default)]
    pub avdid: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub resolution: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

fn s(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("")
}

const HOW_TO: &str =
    "produce one with 'trivy image --format json', 'trivy fs --format json' or 'trivy config --format json'";

/// Parses a Trivy JSON report. Errors are one line, without the file name.
pub fn parse_report(text: &str) -> Result<Report, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let (line, col, msg) = policy::json_error(&e);
        format!("line {line}, column {col}: {msg}")
    })?;
    let Some(obj) = v.as_object() else {
        return Err(format!(
            "not a Trivy JSON report: the top level is not an object ({HOW_TO})"
        ));
    };
    if obj.contains_key("ClusterName") {
        return Err(
            "this is a 'trivy k8s' report, which escguardctl does not read; scan the manifests \
             with 'trivy config --format json' or the images with 'trivy image --format json'"
                .into(),
        );
    }
    match obj.get("SchemaVersion") {
        None => {
            return Err(format!(
                "not a Trivy JSON report: it has no SchemaVersion ({HOW_TO})"
            ))
        }
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(2) => {}
        Some(other) => {
            return Err(format!(
                "unsupported Trivy report SchemaVersion {other}; escguardctl reads SchemaVersion 2 \
                 (Trivy 0.20 and later)"
            ))
        }
    }
    let mut report: Report =
        serde_json::from_value(v.clone()).map_err(|e| format!("not a valid Trivy report: {e}"))?;
    match obj.get("Results") {
        // Trivy omits Results when it found nothing to scan; a report
        // still names its artifact.
        None if report.artifact_name.is_some() || report.artifact_type.is_some() => {}
        None => {
            return Err(format!(
                "not a Trivy JSON report: it has neither Results nor ArtifactName ({HOW_TO})"
            ))
        }
        Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(list)) => {
            for (i, r) in list.iter().enumerate() {
                let r: ScanResult = serde_json::from_value(r.clone())
                    .map_err(|e| format!("not a valid Trivy report: Results[{i}]: {e}"))?;
                report.results.push(r);
            }
        }
        Some(other) => {
            return Err(format!(
                "not a valid Trivy report: Results is not an array but {}",
                match other {
                    serde_json::Value::Object(_) => "an object",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Number(_) => "a number",
                    _ => "a boolean",
                }
            ))
        }
    }
    Ok(report)
}

/// A finding as one line: what it is, where, and what Trivy said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// "KSV017", "CVE-2024-21626".
    pub id: String,
    pub text: String,
}

/// Why findings lead (or do not lead) somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Privileged,
    HostPath,
    HostPid,
    HostIpc,
    HostNetwork,
    RuntimeSocket,
    Root,
    Runc,
    Containerd,
    Docker,
    Crun,
    Kernel,
}

/// A rule the derivation can produce: base name, what it matches, why.
struct Template {
    /// The rule's name without `tv-<tag>-` (see [`rule_name`]); at most
    /// [`BASE_NAME_MAX`] bytes.
    name: &'static str,
    kind: TKind,
    pattern: &'static str,
    matching: Match,
    why: &'static str,
}

enum TKind {
    FileWrite,
    FileReadWrite,
    Mount(MountField),
}

const RUNTIME_OVERWRITE: &str =
    "CVE-2019-5736 style overwrite of the runtime binary: a process in \
the container opens the runtime's executable for writing (through /proc/self/exe while the runtime \
joins the container) and replaces it on the host, so the next container start runs the attacker's \
code as host root; escguard matches the file that is opened, not the name used, so the open through \
/proc/self/exe is caught by the binary's own path";

/// FNV-1a, 64 bits: a hash whose output is fixed by its definition (std's
/// `DefaultHasher` may change between Rust releases, and derived rule
/// names must not).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Hex digits of the scope tag in derived rule names.
const TAG_LEN: usize = 8;

/// The longest base name: "tv-", the tag and "-" take 12 of the 31 bytes.
const BASE_NAME_MAX: usize = policy::RULE_NAME_MAX - 4 - TAG_LEN;

// Every catalog name fits, whatever the scope (checked at compile time).
const _: () = {
    let mut i = 0;
    while i < CATALOG.len() {
        assert!(CATALOG[i].name.len() <= BASE_NAME_MAX);
        i += 1;
    }
};

/// The scope's tag in derived rule names: the first 8 hex digits of the
/// FNV-1a 64 hash of the scope's kind and value ("container\0ID",
/// "cgroup\0PATH"). Stable across runs, hosts and versions.
pub fn scope_tag(scope: &Scope) -> String {
    let key = match scope {
        Scope::All => "all".to_string(),
        Scope::Container(id) => format!("container\0{id}"),
        Scope::Cgroup(path) => format!("cgroup\0{path}"),
    };
    let h = format!("{:016x}", fnv1a64(key.as_bytes()));
    h[..TAG_LEN].to_string()
}

/// A derived rule's name: `tv-<scope tag>-<base>`, e.g.
/// `tv-1a2b3c4d-no-proc-sys-write`.
pub fn rule_name(base: &str, scope: &Scope) -> String {
    format!("tv-{}-{base}", scope_tag(scope))
}

/// Every rule `from-trivy` can derive, in output order.
const CATALOG: &[Template] = &[
    Template {
        name: "no-dev-mount",
        kind: TKind::Mount(MountField::Source),
        pattern: "/dev",
        matching: Match::Prefix,
        why: "mounting a host block device (/dev/sda1, /dev/nvme0n1p1) gives the container the \
              host's disk; the block_device_mount preset refuses devices that back a mounted file \
              system, this rule refuses every device node as a mount source",
    },
    Template {
        name: "no-cgroup-mount",
        kind: TKind::Mount(MountField::Fstype),
        pattern: "cgroup",
        matching: Match::Exact,
        why:
            "a cgroup v1 mount is the first step of the release_agent escape (CVE-2022-0492); the \
              sensitive_mount preset refuses it too, this rule keeps it refused if that preset is \
              switched off",
    },
    Template {
        name: "no-proc-sys-write",
        kind: TKind::FileWrite,
        pattern: "/proc/sys",
        matching: Match::Prefix,
        why: "/proc/sys holds the kernel settings that make the kernel run a program of the \
              container's choosing as host root (core_pattern, modprobe, hotplug: also presets) \
              and many that weaken the host; per-namespace settings (/proc/sys/net) are refused as \
              well: set those through the runtime (securityContext.sysctls)",
    },
    Template {
        name: "no-sysrq-write",
        kind: TKind::FileWrite,
        pattern: "/proc/sysrq-trigger",
        matching: Match::Exact,
        why: "/proc/sysrq-trigger crashes, reboots or freezes the host; the sysrq_trigger preset \
              refuses it too, this rule keeps it refused if that preset is switched off",
    },
    Template {
        name: "no-sys-kernel-write",
        kind: TKind::FileWrite,
        pattern: "/sys/kernel",
        matching: Match::Prefix,
        why: "/sys/kernel holds uevent_helper (a program the kernel runs as root) and the \
              kernel's debugging, tracing and security interfaces",
    },
    Template {
        name: "no-host-init-proc",
        kind: TKind::FileReadWrite,
        pattern: "/proc/1",
        matching: Match::Prefix,
        why: "sharing the host's pid namespace makes /proc/1 the host's init: /proc/1/root is the \
              host's file system, /proc/1/environ and /proc/1/mem its secrets and memory (side \
              effect: 'ps' in the container cannot read init's entry)",
    },
    Template {
        name: "no-host-shm",
        kind: TKind::FileReadWrite,
        pattern: "/dev/shm",
        matching: Match::Prefix,
        why: "sharing the host's IPC namespace puts host processes' POSIX shared memory in \
              /dev/shm; a workload that needs shared memory itself fails with this rule: set its \
              \"enabled\" to false then",
    },
    Template {
        name: "no-sysctl-net-write",
        kind: TKind::FileWrite,
        pattern: "/proc/sys/net",
        matching: Match::Prefix,
        why: "sharing the host's network namespace makes /proc/sys/net the host's network \
              configuration (forwarding, rp_filter, ...)",
    },
    Template {
        name: "no-etc-k8s-write",
        kind: TKind::FileWrite,
        pattern: "/etc/kubernetes",
        matching: Match::Prefix,
        why: "node agents mount host directories at the same path; a file written to \
              /etc/kubernetes/manifests starts a static pod with any privileges on the node",
    },
    Template {
        name: "no-kubelet-write",
        kind: TKind::FileWrite,
        pattern: "/var/lib/kubelet",
        matching: Match::Prefix,
        why: "/var/lib/kubelet holds the kubelet's configuration and every pod's volumes on the \
              node (a CSI node plugin that must write there needs this rule disabled)",
    },
    Template {
        name: "no-containerd-state",
        kind: TKind::FileWrite,
        pattern: "/var/lib/containerd",
        matching: Match::Prefix,
        why: "containerd's state: the images and root file systems of every container on the host",
    },
    Template {
        name: "no-docker-state",
        kind: TKind::FileWrite,
        pattern: "/var/lib/docker",
        matching: Match::Prefix,
        why: "Docker's state: the images, volumes and root file systems of every container on the \
              host (docker-in-docker writes there: disable the rule for it)",
    },
    Template {
        name: "runc-usr-bin",
        kind: TKind::FileWrite,
        pattern: "/usr/bin/runc",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
    Template {
        name: "runc-usr-sbin",
        kind: TKind::FileWrite,
        pattern: "/usr/sbin/runc",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
    Template {
        name: "runc-usr-local-bin",
        kind: TKind::FileWrite,
        pattern: "/usr/local/bin/runc",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
    Template {
        name: "containerd-bin",
        kind: TKind::FileWrite,
        pattern: "/usr/bin/containerd",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
    Template {
        name: "containerd-shim-bin",
        kind: TKind::FileWrite,
        pattern: "/usr/bin/containerd-shim-runc-v2",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
    Template {
        name: "dockerd-bin",
        kind: TKind::FileWrite,
        pattern: "/usr/bin/dockerd",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
    Template {
        name: "crun-bin",
        kind: TKind::FileWrite,
        pattern: "/usr/bin/crun",
        matching: Match::Exact,
        why: RUNTIME_OVERWRITE,
    },
];

impl Template {
    fn rule(&self, scope: &Scope) -> Rule {
        let pattern = self.pattern.to_string();
        let spec = match self.kind {
            TKind::FileWrite => Spec::File {
                path: pattern,
                matching: self.matching,
                read: false,
                write: true,
            },
            TKind::FileReadWrite => Spec::File {
                path: pattern,
                matching: self.matching,
                read: true,
                write: true,
            },
            TKind::Mount(field) => Spec::Mount {
                field,
                pattern,
                matching: self.matching,
            },
        };
        Rule {
            name: rule_name(self.name, scope),
            spec,
            enabled: true,
            action: policy::Action::Enforce,
            scope: scope.clone(),
        }
    }
}

/// What a category leads to.
struct Consequence {
    /// Heading for the findings: what they have in common.
    what: &'static str,
    rules: &'static [&'static str],
    /// Presets that must stay enabled, and why.
    presets: &'static [(&'static str, &'static str)],
    /// For categories that derive no rule: why not.
    no_rule: Option<&'static str>,
}

fn consequence(c: Category) -> Consequence {
    match c {
        Category::Privileged => Consequence {
            what: "privileged container, added CAP_SYS_ADMIN or other capabilities, or privilege escalation allowed",
            rules: &[
                "no-dev-mount",
                "no-cgroup-mount",
                "no-proc-sys-write",
                "no-sysrq-write",
                "no-sys-kernel-write",
            ],
            presets: &[
                ("release_agent", "a privileged container can mount cgroup v1 and set release_agent"),
                ("sensitive_mount", "refuses proc, sysfs, debugfs, securityfs and cgroup v1 mounts"),
                ("block_device_mount", "refuses mounting the host's disks"),
                ("host_block_device", "refuses opening the host's disks raw"),
                ("kernel_module", "CAP_SYS_MODULE loads kernel code"),
                ("open_by_handle_at", "CAP_DAC_READ_SEARCH opens host files by handle (\"Shocker\")"),
            ],
            no_rule: None,
        },
        Category::HostPath => Consequence {
            what: "hostPath volumes",
            rules: &[
                "no-etc-k8s-write",
                "no-kubelet-write",
                "no-containerd-state",
                "no-docker-state",
            ],
            presets: &[(
                "usermode_helper",
                "a writable host path lets a container plant a program for the kernel to run",
            )],
            no_rule: None,
        },
        Category::HostPid => Consequence {
            what: "the host's pid namespace shared",
            rules: &["no-host-init-proc"],
            presets: &[("ptrace_host", "host processes are visible and could be traced")],
            no_rule: None,
        },
        Category::HostIpc => Consequence {
            what: "the host's IPC namespace shared",
            rules: &["no-host-shm"],
            presets: &[],
            no_rule: None,
        },
        Category::HostNetwork => Consequence {
            what: "the host's network namespace shared",
            rules: &["no-sysctl-net-write"],
            presets: &[(
                "runtime_socket",
                "host-local runtime APIs are reachable (containerd's abstract socket: CVE-2020-15257)",
            )],
            no_rule: None,
        },
        Category::RuntimeSocket => Consequence {
            what: "a container runtime socket mounted into the container",
            rules: &[],
            presets: &[(
                "runtime_socket",
                "refuses connect() to the runtime_sockets: whoever talks to the runtime starts a privileged container",
            )],
            no_rule: None,
        },
        Category::Root => Consequence {
            what: "running as root",
            rules: &[],
            presets: &[],
            no_rule: Some(
                "root in a container is host uid 0 unless user namespaces are used, but what \
                 root alone can do to escape (core_pattern, release_agent, modprobe_path, \
                 uevent_helper, sysrq-trigger writes) is already refused by presets, and \
                 writes to the container's own /etc/passwd are not a host risk; fix the image \
                 or pod instead (USER, runAsNonRoot)",
            ),
        },
        Category::Runc => Consequence {
            what: "vulnerable runc",
            rules: &[
                "runc-usr-bin",
                "runc-usr-sbin",
                "runc-usr-local-bin",
            ],
            presets: &[],
            no_rule: None,
        },
        Category::Containerd => Consequence {
            what: "vulnerable containerd",
            rules: &["containerd-bin", "containerd-shim-bin"],
            presets: &[],
            no_rule: None,
        },
        Category::Docker => Consequence {
            what: "vulnerable Docker / moby",
            rules: &["dockerd-bin"],
            presets: &[],
            no_rule: None,
        },
        Category::Crun => Consequence {
            what: "vulnerable crun",
            rules: &["crun-bin"],
            presets: &[],
            no_rule: None,
        },
        Category::Kernel => Consequence {
            what: "vulnerable kernel (meaningful if this report scanned the host, e.g. 'trivy rootfs /'; an image's kernel packages do not run)",
            rules: &["no-cgroup-mount"],
            presets: &[
                ("release_agent", "kernel exploits from containers often end by setting a cgroup release_agent (CVE-2022-0492)"),
                ("core_pattern", "kernel exploits often end by setting core_pattern to run a program as host root"),
                ("modprobe_path", "kernel exploits often end by pointing modprobe at the container's file"),
                ("usermode_helper", "catches the kernel running a container's file as host root"),
            ],
            no_rule: None,
        },
    }
}

/// `("KSV", 17)` from "KSV017", "KSV-0017" or "AVD-KSV-0017".
fn check_id(id: &str) -> Option<(String, u32)> {
    let id = id.trim();
    let id = id.strip_prefix("AVD-").unwrap_or(id);
    let letters: String = id.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let rest = id[letters.len()..].trim_start_matches('-');
    if letters.is_empty() || rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((letters.to_ascii_uppercase(), rest.parse().ok()?))
}

fn misconf_categories(m: &Misconfiguration) -> Vec<Category> {
    let mut out = Vec::new();
    let ids = [s(&m.id), s(&m.avdid)];
    for id in ids.iter().filter_map(|i| check_id(i)) {
        let c = match (id.0.as_str(), id.1) {
            ("KSV", 17 | 5 | 1 | 22) => Some(Category::Privileged),
            ("KSV", 23 | 121) => Some(Category::HostPath),
            ("KSV", 10) => Some(Category::HostPid),
            ("KSV", 8) => Some(Category::HostIpc),
            ("KSV", 9) => Some(Category::HostNetwork),
            ("KSV", 6) => Some(Category::RuntimeSocket),
            ("KSV", 12) | ("DS", 2) => Some(Category::Root),
            _ => None,
        };
        if let Some(c) = c {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    let text = format!("{} {} {}", s(&m.title), s(&m.message), s(&m.description)).to_lowercase();
    if (text.contains("docker.sock") || text.contains("containerd.sock"))
        && !out.contains(&Category::RuntimeSocket)
    {
        out.push(Category::RuntimeSocket);
    }
    out
}

fn vuln_category(pkg: &str) -> Option<Category> {
    match pkg {
        "runc" | "moby-runc" | "github.com/opencontainers/runc" => Some(Category::Runc),
        "containerd"
        | "containerd.io"
        | "moby-containerd"
        | "github.com/containerd/containerd"
        | "github.com/containerd/containerd/v2" => Some(Category::Containerd),
        "docker"
        | "docker.io"
        | "docker-ce"
        | "docker-engine"
        | "moby"
        | "moby-engine"
        | "github.com/docker/docker"
        | "github.com/moby/moby" => Some(Category::Docker),
        "crun" => Some(Category::Crun),
        p if p.starts_with("linux-image")
            || p.starts_with("linux-headers")
            || p == "kernel"
            || p.starts_with("kernel-") =>
        {
            Some(Category::Kernel)
        }
        _ => None,
    }
}

/// First line of `t`, cut to `max` characters.
fn one_line(t: &str, max: usize) -> String {
    let first = t.lines().next().unwrap_or("").trim();
    if first.chars().count() <= max {
        first.to_string()
    } else {
        let cut: String = first.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// A report field made safe to show (see `crate::escape`).
fn e(t: &str) -> String {
    escape::text(t).into_owned()
}

fn misconf_finding(target: &str, m: &Misconfiguration) -> Finding {
    let id = if !s(&m.id).is_empty() {
        e(s(&m.id))
    } else {
        e(s(&m.avdid))
    };
    let mut text = id.clone();
    if !s(&m.severity).is_empty() {
        text.push_str(&format!(" ({})", e(s(&m.severity))));
    }
    if !s(&m.title).is_empty() {
        text.push_str(&format!(" {}", e(&one_line(s(&m.title), 80))));
    }
    text.push_str(&format!(" in {}", e(target)));
    let msg = if !s(&m.message).is_empty() {
        s(&m.message)
    } else {
        s(&m.description)
    };
    if !msg.is_empty() {
        text.push_str(&format!(": {}", e(&one_line(msg, 160))));
    }
    Finding { id, text }
}

fn vuln_finding(target: &str, v: &Vulnerability) -> Finding {
    let id = e(s(&v.vulnerability_id));
    let mut text = id.clone();
    if !s(&v.severity).is_empty() {
        text.push_str(&format!(" ({})", e(s(&v.severity))));
    }
    text.push_str(&format!(
        " in {} {}",
        e(s(&v.pkg_name)),
        e(s(&v.installed_version))
    ));
    if s(&v.fixed_version).is_empty() {
        text.push_str(" (no fix yet)");
    } else {
        text.push_str(&format!(" (fixed in {})", e(s(&v.fixed_version))));
    }
    text.push_str(&format!(", {}", e(target)));
    if !s(&v.title).is_empty() {
        text.push_str(&format!(": {}", e(&one_line(s(&v.title), 120))));
    }
    Finding { id, text }
}

/// One derived rule, its reasons and the findings behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedRule {
    pub rule: Rule,
    pub why: String,
    /// What the findings have in common, per category that asked for it.
    pub causes: Vec<String>,
    pub findings: Vec<Finding>,
    /// Rules this one made unnecessary (a prefix rule covering them).
    pub covers: Vec<String>,
}

/// Findings that derive no rule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRule {
    pub what: String,
    pub why: String,
    pub findings: Vec<Finding>,
}

/// The sockets part of the derivation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedSockets {
    pub sockets: Vec<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    /// The workload every rule is scoped to (never `Scope::All`).
    pub scope: Scope,
    pub policy: Policy,
    /// In the order of `policy.rules`.
    pub rules: Vec<DerivedRule>,
    pub sockets: Option<DerivedSockets>,
    pub no_rule: Vec<NoRule>,
    /// Presets that must stay enabled: (name, reasons).
    pub presets: Vec<(String, Vec<String>)>,
    /// Failed checks and vulnerabilities that derive nothing: (ids, count).
    pub unrelated_misconfigs: Vec<String>,
    pub unrelated_vulns: usize,
    /// Vulnerabilities in linux-libc-dev (userspace headers), ignored.
    pub libc_dev_vulns: usize,
    pub findings_total: usize,
}

/// The sockets a policy derived from a runtime-socket finding protects:
/// the module's defaults plus the `/var/run` spellings of Docker's and
/// containerd's.
pub fn derived_sockets() -> Vec<String> {
    let mut v = policy::default_sockets();
    for extra in [
        "/var/run/docker.sock",
        "/var/run/containerd/containerd.sock",
    ] {
        if !v.iter().any(|s| s == extra) {
            v.push(extra.to_string());
        }
    }
    v
}

fn push_unique(v: &mut Vec<Finding>, f: &Finding) {
    if !v.contains(f) {
        v.push(f.clone());
    }
}

/// Why `from-trivy` needs a scope; the error of [`derive`] and
/// [`scope_from_flags`] without one.
pub const NO_SCOPE: &str = "policy from-trivy needs the workload the report is about: \
--container ID or --cgroup PATH. Without one the derived rules would apply to every container \
task on the host, and some of them break ordinary containers: no-host-init-proc refuses \
/proc/1, which in a container with its own pid namespace is that container's own init, and \
no-host-shm refuses /dev/shm, every container's own shared memory. A report describes one \
image or manifest: scope its rules to the containers that run it (the ID as 'docker ps \
--no-trunc', 'crictl ps --no-trunc' or 'podman ps --no-trunc' shows it, or the cgroup path after \"0::\" in \
/proc/PID/cgroup of one of its processes, e.g. the pod's /kubepods.slice/... cgroup).";

/// The scope from `from-trivy`'s `--container ID` / `--cgroup PATH`:
/// exactly one is needed (neither: [`NO_SCOPE`]); each is validated, and
/// the error names the flag.
pub fn scope_from_flags(container: Option<&str>, cgroup: Option<&str>) -> Result<Scope, String> {
    match (container, cgroup) {
        (None, None) => Err(NO_SCOPE.to_string()),
        (Some(_), Some(_)) => {
            Err("give one of --container and --cgroup, not both (a rule has one scope)".to_string())
        }
        (Some(id), None) => {
            let scope = Scope::container(id).map_err(|m| format!("--container: {m}"))?;
            // The module matches whole cgroup path components: a shortened
            // ID ('docker ps' shows 12 digits) would match no container.
            if (12..64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(format!(
                    "--container: \"{id}\" looks like a shortened ID ({} hex digits); give the \
                     full 64-digit ID ('docker ps --no-trunc', 'crictl ps --no-trunc', 'podman ps \
                     --no-trunc'): rules match whole IDs, a shortened one matches no container",
                    id.len()
                ));
            }
            Ok(scope)
        }
        (None, Some(p)) => Scope::cgroup(p).map_err(|m| format!("--cgroup: {m}")),
    }
}

/// Derives a policy named `name` from a parsed report, every rule scoped
/// to `scope`. `Scope::All` is refused ([`NO_SCOPE`]).
pub fn derive(report: &Report, name: &str, scope: &Scope) -> Result<Derivation, String> {
    if scope.is_all() {
        return Err(NO_SCOPE.to_string());
    }
    // Findings per category, in report order.
    let mut by_cat: Vec<(Category, Vec<Finding>)> = Vec::new();
    let mut add = |c: Category, f: &Finding| match by_cat.iter_mut().find(|(k, _)| *k == c) {
        Some((_, v)) => push_unique(v, f),
        None => by_cat.push((c, vec![f.clone()])),
    };
    let mut unrelated_misconfigs: Vec<String> = Vec::new();
    let (mut unrelated_vulns, mut libc_dev_vulns, mut total) = (0, 0, 0);
    for r in &report.results {
        let target = s(&r.target);
        for m in r.misconfigurations.iter().flatten() {
            let status = s(&m.status);
            // Trivy writes only failures unless asked for more; a missing
            // Status (old Trivy) is a failure.
            if !(status.is_empty() || status.eq_ignore_ascii_case("FAIL")) {
                continue;
            }
            total += 1;
            let f = misconf_finding(target, m);
            let cats = misconf_categories(m);
            if cats.is_empty() && !unrelated_misconfigs.contains(&f.id) {
                unrelated_misconfigs.push(f.id.clone());
            }
            for c in cats {
                add(c, &f);
            }
        }
        for v in r.vulnerabilities.iter().flatten() {
            total += 1;
            let pkg = s(&v.pkg_name);
            match vuln_category(pkg) {
                Some(c) => add(c, &vuln_finding(target, v)),
                None if pkg == "linux-libc-dev" => libc_dev_vulns += 1,
                None => unrelated_vulns += 1,
            }
        }
    }
    by_cat.sort_by_key(|(c, _)| *c);

    // Rules in catalog order, each with its causes and findings.
    let mut rules: Vec<DerivedRule> = Vec::new();
    for t in CATALOG {
        let mut d: Option<DerivedRule> = None;
        for (c, findings) in &by_cat {
            let con = consequence(*c);
            if !con.rules.contains(&t.name) {
                continue;
            }
            let d = d.get_or_insert_with(|| DerivedRule {
                rule: t.rule(scope),
                why: t.why.split_whitespace().collect::<Vec<_>>().join(" "),
                causes: Vec::new(),
                findings: Vec::new(),
                covers: Vec::new(),
            });
            d.causes.push(con.what.to_string());
            for f in findings {
                push_unique(&mut d.findings, f);
            }
        }
        rules.extend(d);
    }

    // A prefix file rule with at least the same access makes rules at or
    // below its path unnecessary: fold them in.
    let mut i = 0;
    while i < rules.len() {
        let coverer = (0..rules.len()).find(|&j| j != i && covers(&rules[j].rule, &rules[i].rule));
        match coverer {
            Some(j) => {
                let gone = rules.remove(i);
                let j = if j > i { j - 1 } else { j };
                let into = &mut rules[j];
                into.covers.push(format!(
                    "{} ({})",
                    gone.rule.name,
                    gone.rule.describe_match()
                ));
                for c in gone.causes {
                    if !into.causes.contains(&c) {
                        into.causes.push(c);
                    }
                }
                for f in &gone.findings {
                    push_unique(&mut into.findings, f);
                }
            }
            None => i += 1,
        }
    }

    let sockets = by_cat
        .iter()
        .find(|(c, _)| *c == Category::RuntimeSocket)
        .map(|(_, f)| DerivedSockets {
            sockets: derived_sockets(),
            findings: f.clone(),
        });

    let no_rule = by_cat
        .iter()
        .filter_map(|(c, f)| {
            let con = consequence(*c);
            con.no_rule.map(|why| NoRule {
                what: con.what.to_string(),
                why: why.split_whitespace().collect::<Vec<_>>().join(" "),
                findings: f.clone(),
            })
        })
        .collect();

    let mut presets: Vec<(String, Vec<String>)> = Vec::new();
    for (c, _) in &by_cat {
        for (p, why) in consequence(*c).presets {
            match presets.iter_mut().find(|(n, _)| n == p) {
                Some((_, w)) => {
                    if !w.iter().any(|x| x == why) {
                        w.push(why.to_string());
                    }
                }
                None => presets.push((p.to_string(), vec![why.to_string()])),
            }
        }
    }
    // Preset table order.
    presets.sort_by_key(|(n, _)| crate::rules::preset_by_name(n).map_or(u32::MAX, |p| p.id));

    Ok(Derivation {
        scope: scope.clone(),
        policy: Policy {
            name: Some(policy::name_from(name)),
            runtime_sockets: sockets.as_ref().map(|s| s.sockets.clone()),
            rules: rules.iter().map(|d| d.rule.clone()).collect(),
        },
        rules,
        sockets,
        no_rule,
        presets,
        unrelated_misconfigs,
        unrelated_vulns,
        libc_dev_vulns,
        findings_total: total,
    })
}

/// Whether file rule `a` (prefix) makes file rule `b` unnecessary.
fn covers(a: &Rule, b: &Rule) -> bool {
    match (&a.spec, &b.spec) {
        (
            Spec::File {
                path: pa,
                matching: Match::Prefix,
                read: ra,
                write: wa,
            },
            Spec::File {
                path: pb,
                read: rb,
                write: wb,
                ..
            },
        ) => {
            let below = pb == pa
                || pa == "/"
                || (pb.starts_with(pa.as_str()) && pb.as_bytes().get(pa.len()) == Some(&b'/'));
            below && (ra >= rb) && (wa >= wb) && a.name != b.name
        }
        _ => false,
    }
}

/// The default policy name: "trivy:" and the scanned artifact.
pub fn default_name(report: &Report, file: &str) -> String {
    let artifact = s(&report.artifact_name);
    let what = if artifact.is_empty() { file } else { artifact };
    policy::name_from(&format!("trivy:{what}"))
}

const SHOW_FINDINGS: usize = 8;

fn list_findings(out: &mut String, findings: &[Finding]) {
    for (i, f) in findings.iter().take(SHOW_FINDINGS).enumerate() {
        let lead = if i == 0 { "  from: " } else { "        " };
        out.push_str(&format!("{lead}{}\n", f.text));
    }
    if findings.len() > SHOW_FINDINGS {
        out.push_str(&format!(
            "        ... and {} more\n",
            findings.len() - SHOW_FINDINGS
        ));
    }
}

/// The derivation for people: each rule with its reason and findings.
pub fn explain(d: &Derivation, report: &Report, file: &str) -> String {
    let mut out = String::new();
    let artifact = e(s(&report.artifact_name));
    let kind = e(s(&report.artifact_type));
    out.push_str(&format!(
        "{file}: Trivy report{}{}, {} finding{}\n",
        if artifact.is_empty() {
            String::new()
        } else {
            format!(" of {artifact}")
        },
        if kind.is_empty() {
            String::new()
        } else {
            format!(" ({kind})")
        },
        d.findings_total,
        if d.findings_total == 1 { "" } else { "s" },
    ));
    out.push_str(&format!(
        "Scope: every rule applies only to tasks of {} (the runtime sockets, a host-wide \
         setting, to every container)\n",
        d.scope.describe_full()
    ));
    if !d.rules.is_empty() {
        out.push_str(&format!(
            "Rule names: tv-{}-<rule>, the tag from the scope: importing for this workload again \
             gives the same names, other workloads' imports keep theirs\n",
            scope_tag(&d.scope)
        ));
    }
    if d.rules.is_empty() && d.sockets.is_none() {
        out.push_str(
            "\nNothing escape-related found: the policy has no rules (the module's presets and \
             default runtime sockets still apply).\n",
        );
    } else {
        out.push_str(&format!(
            "\nDerived {} rule{}{}:\n",
            d.rules.len(),
            if d.rules.len() == 1 { "" } else { "s" },
            if d.sockets.is_some() {
                " and the runtime sockets"
            } else {
                ""
            }
        ));
    }
    let mut previous: Option<&DerivedRule> = None;
    let mut previous_why: Option<&DerivedRule> = None;
    for r in &d.rules {
        out.push_str(&format!(
            "\n- {}: deny {}\n",
            r.rule.name,
            r.rule.describe_match()
        ));
        out.push_str(&format!("  for:  {}\n", r.causes.join("; ")));
        match previous_why {
            Some(p) if p.why == r.why => {
                out.push_str(&format!("  why:  as for {}\n", p.rule.name));
            }
            _ => {
                out.push_str(&format!("  why:  {}\n", r.why));
                previous_why = Some(r);
            }
        }
        for c in &r.covers {
            out.push_str(&format!("  also covers {c}\n"));
        }
        match previous {
            // Several rules often share their findings: list them once.
            Some(p) if p.findings == r.findings => {
                out.push_str(&format!("  from: the same findings as {}\n", p.rule.name));
            }
            _ => {
                list_findings(&mut out, &r.findings);
                previous = Some(r);
            }
        }
    }
    if let Some(sk) = &d.sockets {
        out.push_str(&format!("\n- runtime_sockets: {}\n", sk.sockets.join(" ")));
        out.push_str("  for:  a container runtime socket mounted into the container\n");
        out.push_str(
            "  why:  a process that can talk to the runtime starts a privileged container on the \
             host; the runtime_socket preset refuses connect() to these sockets (the module's \
             defaults, and the /var/run spellings)\n",
        );
        list_findings(&mut out, &sk.findings);
    }
    for n in &d.no_rule {
        out.push_str(&format!("\n- no rule for: {}\n", n.what));
        out.push_str(&format!("  why:  {}\n", n.why));
        list_findings(&mut out, &n.findings);
    }
    if !d.presets.is_empty() {
        out.push_str("\nKeep these presets enabled (escguardctl rules list):\n");
        for (p, why) in &d.presets {
            out.push_str(&format!("  {p:<19} {}\n", why.join("; ")));
        }
    }
    let mut unrelated = Vec::new();
    if !d.unrelated_misconfigs.is_empty() {
        unrelated.push(format!(
            "failed checks {}",
            d.unrelated_misconfigs.join(", ")
        ));
    }
    if d.unrelated_vulns > 0 {
        unrelated.push(format!(
            "{} vulnerabilit{} in other packages",
            d.unrelated_vulns,
            if d.unrelated_vulns == 1 { "y" } else { "ies" }
        ));
    }
    if d.libc_dev_vulns > 0 {
        unrelated.push(format!(
            "{} in linux-libc-dev (userspace kernel headers, not a running kernel)",
            d.libc_dev_vulns
        ));
    }
    if !unrelated.is_empty() {
        out.push_str(&format!(
            "\nNot escape-related (no rule): {}.\n",
            unrelated.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(results: serde_json::Value) -> Report {
        let v = serde_json::json!({
            "SchemaVersion": 2,
            "ArtifactName": "deploy",
            "ArtifactType": "filesystem",
            "Results": results
        });
        parse_report(&v.to_string()).unwrap()
    }

    fn misconf(id: &str, avd: &str, title: &str, msg: &str) -> serde_json::Value {
        serde_json::json!({
            "Type": "Kubernetes Security Check", "ID": id, "AVDID": avd, "Title": title,
            "Message": msg, "Severity": "HIGH", "Status": "FAIL",
            "CauseMetadata": {"Provider": "Kubernetes", "Code": {"Lines": null}}
        })
    }

    const ID: &str = "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";

    fn scope() -> Scope {
        Scope::Container(ID.into())
    }

    /// The base names of the derived rules (each checked to carry the
    /// derivation's scope tag).
    fn names(d: &Derivation) -> Vec<&str> {
        let prefix = format!("tv-{}-", scope_tag(&d.scope));
        d.policy
            .rules
            .iter()
            .map(|r| r.name.strip_prefix(prefix.as_str()).unwrap())
            .collect()
    }

    /// The full name of base rule `base` for [`scope`].
    fn n(base: &str) -> String {
        rule_name(base, &scope())
    }

    #[test]
    fn ids_normalise() {
        assert_eq!(check_id("KSV017"), Some(("KSV".into(), 17)));
        assert_eq!(check_id("KSV-0017"), Some(("KSV".into(), 17)));
        assert_eq!(check_id("AVD-KSV-0017"), Some(("KSV".into(), 17)));
        assert_eq!(check_id("DS002"), Some(("DS".into(), 2)));
        assert_eq!(check_id("AVD-DS-0002"), Some(("DS".into(), 2)));
        assert_eq!(check_id("KSV"), None);
        assert_eq!(check_id("CVE-2024-21626"), None);
        assert_eq!(check_id(""), None);
    }

    #[test]
    fn not_a_trivy_report() {
        assert!(parse_report("[]")
            .unwrap_err()
            .contains("top level is not an object"));
        assert!(parse_report(r#"{"bomFormat":"CycloneDX"}"#)
            .unwrap_err()
            .starts_with("not a Trivy JSON report: it has no SchemaVersion"));
        assert!(parse_report(r#"{"SchemaVersion":1,"Results":[]}"#)
            .unwrap_err()
            .starts_with("unsupported Trivy report SchemaVersion 1"));
        assert!(parse_report(r#"{"SchemaVersion":2}"#)
            .unwrap_err()
            .contains("neither Results nor ArtifactName"));
        assert!(parse_report(r#"{"SchemaVersion":2,"Results":{}}"#)
            .unwrap_err()
            .contains("Results is not an array but an object"));
        let e =
            parse_report(r#"{"SchemaVersion":2,"Results":[{"Target":"x","Vulnerabilities":3}]}"#)
                .unwrap_err();
        assert!(
            e.starts_with("not a valid Trivy report: Results[0]: invalid type"),
            "{e}"
        );
        assert!(parse_report(r#"{"ClusterName":"c","Resources":[]}"#)
            .unwrap_err()
            .contains("'trivy k8s' report"));
        assert_eq!(
            parse_report("{\n\"SchemaVersion\": 2,\n").unwrap_err(),
            "line 3, column 1: the JSON text ends too early (EOF while parsing a value)"
        );
        // No Results but an artifact: a report of nothing.
        let r =
            parse_report(r#"{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"filesystem"}"#)
                .unwrap();
        assert!(r.results.is_empty());
    }

    #[test]
    fn unknown_fields_and_nulls_are_ignored() {
        let r = report(serde_json::json!([{
            "Target": "t", "Class": "os-pkgs", "Type": "debian", "NewField": {"x": 1},
            "Vulnerabilities": null, "Misconfigurations": null, "Packages": []
        }]));
        let d = derive(&r, "n", &scope()).unwrap();
        assert_eq!(d.findings_total, 0);
        assert!(d.policy.rules.is_empty());
    }

    #[test]
    fn privileged_derives_mount_and_kernel_interface_rules() {
        let r = report(serde_json::json!([{
            "Target": "pod.yaml", "Class": "config", "Type": "kubernetes",
            "Misconfigurations": [
                misconf("KSV017", "AVD-KSV-0017", "Privileged container", "Container 'c' should set 'securityContext.privileged' to false"),
                misconf("KSV-0005", "AVD-KSV-0005", "SYS_ADMIN capability added", "Container 'c' should not include 'SYS_ADMIN'")
            ]
        }]));
        let d = derive(&r, "n", &scope()).unwrap();
        assert_eq!(
            names(&d),
            [
                "no-dev-mount",
                "no-cgroup-mount",
                "no-proc-sys-write",
                "no-sysrq-write",
                "no-sys-kernel-write"
            ]
        );
        assert_eq!(d.rules[0].findings.len(), 2);
        assert!(d.rules[0].findings[1]
            .text
            .starts_with("KSV-0005 (HIGH) SYS_ADMIN capability added in pod.yaml: "));
        assert!(d.sockets.is_none());
        assert!(d.presets.iter().any(|(p, _)| p == "sensitive_mount"));
        assert!(policy::parse(&policy::to_json(&d.policy)).is_ok());
    }

    #[test]
    fn host_network_rule_is_folded_into_proc_sys_when_both_apply() {
        let net = misconf("KSV009", "AVD-KSV-0009", "Access to host network", "m");
        let r = report(serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [net]}]));
        assert_eq!(
            names(&derive(&r, "n", &scope()).unwrap()),
            ["no-sysctl-net-write"]
        );
        let r = report(
            serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [
                net,
                misconf("KSV017", "AVD-KSV-0017", "Privileged container", "m")
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(!names(&d).contains(&"no-sysctl-net-write"));
        let ps = d
            .rules
            .iter()
            .find(|r| r.rule.name == n("no-proc-sys-write"))
            .unwrap();
        assert_eq!(
            ps.covers,
            [format!(
                "{} (open for write of /proc/sys/net or below)",
                n("no-sysctl-net-write")
            )]
        );
        assert!(ps.causes.iter().any(|c| c.contains("network")));
        assert_eq!(ps.findings.len(), 2);
    }

    #[test]
    fn docker_sock_by_id_or_by_text_sets_sockets() {
        let r = report(
            serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [
                {"ID": "KSV999", "Title": "custom", "Message": "mounts /var/run/docker.sock", "Status": "FAIL"}
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(d.policy.rules.is_empty());
        assert_eq!(
            d.policy.runtime_sockets.as_deref().unwrap(),
            [
                "/run/containerd/containerd.sock",
                "/run/docker.sock",
                "/run/crio/crio.sock",
                "/run/podman/podman.sock",
                "/var/run/docker.sock",
                "/var/run/containerd/containerd.sock"
            ]
        );
        assert!(policy::parse(&policy::to_json(&d.policy)).is_ok());
    }

    #[test]
    fn passed_checks_and_unrelated_findings_derive_nothing() {
        let mut pass = misconf("KSV017", "AVD-KSV-0017", "Privileged container", "m");
        pass["Status"] = "PASS".into();
        let r = report(
            serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [
                pass,
                misconf("KSV011", "AVD-KSV-0011", "CPU not limited", "m")
            ]}, {"Target": "img (debian 12)", "Class": "os-pkgs", "Vulnerabilities": [
                {"VulnerabilityID": "CVE-1", "PkgName": "bash", "InstalledVersion": "5"},
                {"VulnerabilityID": "CVE-2", "PkgName": "linux-libc-dev", "InstalledVersion": "6"}
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(d.policy.rules.is_empty() && d.sockets.is_none());
        assert_eq!(d.unrelated_misconfigs, ["KSV011"]);
        assert_eq!(
            (d.unrelated_vulns, d.libc_dev_vulns, d.findings_total),
            (1, 1, 3)
        );
        let t = explain(&d, &r, "r.json");
        assert!(t.contains("Nothing escape-related found"), "{t}");
        assert!(
            t.contains(
                "failed checks KSV011; 1 vulnerability in other packages; 1 in linux-libc-dev"
            ),
            "{t}"
        );
    }

    #[test]
    fn runtime_and_kernel_packages() {
        for (pkg, want) in [
            ("runc", Some(Category::Runc)),
            ("github.com/opencontainers/runc", Some(Category::Runc)),
            ("containerd", Some(Category::Containerd)),
            (
                "github.com/containerd/containerd",
                Some(Category::Containerd),
            ),
            ("docker-ce", Some(Category::Docker)),
            ("moby", Some(Category::Docker)),
            ("docker", Some(Category::Docker)),
            ("crun", Some(Category::Crun)),
            ("linux-image-5.10.0-10-amd64", Some(Category::Kernel)),
            ("linux-headers-6.1.0-13-common", Some(Category::Kernel)),
            ("kernel", Some(Category::Kernel)),
            ("kernel-core", Some(Category::Kernel)),
            ("kernelshark", None),
            ("linux-libc-dev", None),
            ("runc-tools", None),
        ] {
            assert_eq!(vuln_category(pkg), want, "{pkg}");
        }
    }

    #[test]
    fn root_derives_no_rule_but_says_why() {
        let r = report(
            serde_json::json!([{"Target": "Dockerfile", "Class": "config", "Type": "dockerfile",
            "Misconfigurations": [{"Type": "Dockerfile Security Check", "ID": "DS002", "AVDID": "AVD-DS-0002",
                "Title": "Image user should not be 'root'", "Severity": "HIGH", "Status": "FAIL",
                "Message": "Specify at least 1 USER command in Dockerfile with non-root user as argument"}]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(d.policy.rules.is_empty());
        assert_eq!(d.no_rule.len(), 1);
        assert_eq!(d.no_rule[0].what, "running as root");
        let t = explain(&d, &r, "r.json");
        assert!(t.contains("- no rule for: running as root\n"), "{t}");
        assert!(t.contains("  from: DS002 (HIGH) Image user should not be 'root' in Dockerfile: Specify at least 1 USER"), "{t}");
    }

    #[test]
    fn prefix_cover_logic() {
        let rule = |name: &str, path: &str, m: Match, read: bool| Rule {
            name: name.into(),
            spec: Spec::File {
                path: path.into(),
                matching: m,
                read,
                write: true,
            },
            enabled: true,
            action: policy::Action::Enforce,
            scope: Scope::All,
        };
        let a = rule("a", "/proc/sys", Match::Prefix, false);
        assert!(covers(
            &a,
            &rule("b", "/proc/sys/net", Match::Prefix, false)
        ));
        assert!(covers(&a, &rule("b", "/proc/sys", Match::Exact, false)));
        assert!(!covers(
            &a,
            &rule("b", "/proc/sysrq-trigger", Match::Exact, false)
        ));
        assert!(!covers(
            &a,
            &rule("b", "/proc/sys/net", Match::Prefix, true)
        ));
        assert!(!covers(
            &rule("a", "/proc/sys", Match::Exact, false),
            &rule("b", "/proc/sys/x", Match::Exact, false)
        ));
        assert!(covers(
            &rule("a", "/", Match::Prefix, true),
            &rule("b", "/x", Match::Exact, false)
        ));
    }

    #[test]
    fn names_default_to_the_artifact_and_fit() {
        let r = report(serde_json::json!([]));
        assert_eq!(default_name(&r, "f.json"), "trivy:deploy");
        let r = Report::default();
        assert_eq!(default_name(&r, "f.json"), "trivy:f.json");
        let r = Report {
            artifact_name: Some("registry.example.com/".repeat(10)),
            ..Default::default()
        };
        let n = default_name(&r, "f");
        assert_eq!(n.len(), 63);
        assert!(policy::check_policy_name(&n).is_ok());
    }

    #[test]
    fn catalog_rules_are_valid_and_uniquely_named() {
        let p = Policy {
            name: Some("all".into()),
            runtime_sockets: Some(derived_sockets()),
            rules: CATALOG.iter().map(|t| t.rule(&scope())).collect(),
        };
        assert_eq!(policy::parse(&policy::to_json(&p)).unwrap(), p);
        for c in [
            Category::Privileged,
            Category::HostPath,
            Category::HostPid,
            Category::HostIpc,
            Category::HostNetwork,
            Category::RuntimeSocket,
            Category::Root,
            Category::Runc,
            Category::Containerd,
            Category::Docker,
            Category::Crun,
            Category::Kernel,
        ] {
            let con = consequence(c);
            for r in con.rules {
                assert!(CATALOG.iter().any(|t| t.name == *r), "{r}");
            }
            for (p, _) in con.presets {
                assert!(crate::rules::preset_by_name(p).is_some(), "{p}");
            }
        }
    }

    #[test]
    fn fnv1a64_is_the_reference_function() {
        // The reference test vectors (Fowler, Noll, Vo).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn rule_names_carry_a_stable_tag_of_the_scope() {
        // Pinned: a change here renames every rule users have loaded.
        assert_eq!(scope_tag(&scope()), "cc893351");
        assert_eq!(n("no-proc-sys-write"), "tv-cc893351-no-proc-sys-write");
        let cg = Scope::Cgroup("/kubepods.slice".into());
        let same_text = Scope::Container("/kubepods.slice".into());
        let tags = [scope_tag(&scope()), scope_tag(&cg), scope_tag(&same_text)];
        for (i, a) in tags.iter().enumerate() {
            assert_eq!(a.len(), 8);
            assert!(a
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            for b in &tags[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(scope_tag(&cg), scope_tag(&cg.clone()));
    }

    /// Every catalog rule derived for the longest scopes there are: names
    /// within the ABI limit, valid and unique.
    #[test]
    fn every_catalog_name_fits_for_long_scopes() {
        let mut long_cgroup = "/kubepods.slice".to_string();
        while long_cgroup.len() < policy::PATH_MAX - 40 {
            long_cgroup.push_str("/kubepods-burstable-pod0c2d.slice");
        }
        for s in [
            scope(),
            Scope::container(&"x".repeat(128)).unwrap(),
            Scope::cgroup(&long_cgroup).unwrap(),
            Scope::cgroup("/a").unwrap(),
        ] {
            let mut seen = std::collections::HashSet::new();
            for t in CATALOG {
                assert!(t.name.len() <= BASE_NAME_MAX, "{}", t.name);
                let r = t.rule(&s);
                assert!(r.name.len() <= policy::RULE_NAME_MAX, "{}", r.name);
                policy::check_rule_name(&r.name).unwrap();
                assert!(seen.insert(r.name.clone()), "{} twice", r.name);
            }
            let p = Policy {
                name: Some("all".into()),
                runtime_sockets: None,
                rules: CATALOG.iter().map(|t| t.rule(&s)).collect(),
            };
            assert_eq!(policy::parse(&policy::to_json(&p)).unwrap(), p);
        }
    }

    /// What `--load` does with two imports: the same workload again
    /// changes nothing, another workload's rules are added beside the
    /// first's, and `--replace` for one workload leaves the other's alone.
    #[test]
    fn imports_for_two_workloads_coexist_and_reimport_is_idempotent() {
        let r = parse_report(include_str!("../tests/fixtures/trivy/k8s-config.json")).unwrap();
        let other = Scope::Container("other-workload".into());
        let a = derive(&r, "a", &scope()).unwrap().policy;
        let b = derive(&r, "b", &other).unwrap().policy;
        let active = policy::merge(&Policy::default(), &a, false).unwrap();
        assert_eq!(active.rules, a.rules);
        let again = policy::merge(&active, &a, false).unwrap();
        assert_eq!(again.rules, a.rules);
        let both = policy::merge(&active, &b, false).unwrap();
        assert_eq!(both.rules.len(), a.rules.len() + b.rules.len());
        assert!(a.rules.iter().all(|r| both.rules.contains(r)));
        assert!(b.rules.iter().all(|r| both.rules.contains(r)));
        let replaced = policy::merge(&both, &b, true).unwrap();
        assert_eq!(replaced.rules, both.rules);
        assert!(names(&derive(&r, "b", &other).unwrap()).contains(&"no-host-init-proc"));
    }

    #[test]
    fn derivation_needs_a_scope_and_says_why() {
        let r = report(serde_json::json!([]));
        let e = derive(&r, "n", &Scope::All).unwrap_err();
        assert_eq!(e, NO_SCOPE);
        assert!(e.contains("--container ID or --cgroup PATH"), "{e}");
        assert!(e.contains("no-host-init-proc refuses /proc/1"), "{e}");
        assert!(e.contains("no-host-shm refuses /dev/shm"), "{e}");
        assert_eq!(scope_from_flags(None, None).unwrap_err(), NO_SCOPE);
        assert_eq!(
            scope_from_flags(Some(ID), None).unwrap(),
            Scope::Container(ID.into())
        );
        assert_eq!(
            scope_from_flags(None, Some("/kubepods.slice/kubepods-podx.slice")).unwrap(),
            Scope::Cgroup("/kubepods.slice/kubepods-podx.slice".into())
        );
        assert_eq!(
            scope_from_flags(Some("a"), Some("/b")).unwrap_err(),
            "give one of --container and --cgroup, not both (a rule has one scope)"
        );
        assert_eq!(
            scope_from_flags(Some(&ID[..12]), None).unwrap_err(),
            "--container: \"3f2a4b5c6d7e\" looks like a shortened ID (12 hex digits); give the \
             full 64-digit ID ('docker ps --no-trunc', 'crictl ps --no-trunc', 'podman ps --no-trunc'): \
             rules match whole IDs, a shortened one matches no container"
        );
        assert!(scope_from_flags(Some("web1"), None).is_ok());
        assert!(scope_from_flags(Some("deadbeef"), None).is_ok());
        assert_eq!(
            scope_from_flags(Some("a b"), None).unwrap_err(),
            "--container: \"a b\" contains ' '; container IDs use only A-Z a-z 0-9 _ . -"
        );
        assert_eq!(
            scope_from_flags(None, Some("kubepods")).unwrap_err(),
            "--cgroup: \"kubepods\" is not an absolute path (it must start with \"/\")"
        );
    }

    /// The repository's fixtures (`tests/fixtures/trivy`): the derived
    /// rules are the expected ones, every one scoped to the workload.
    #[test]
    fn fixtures_derive_the_expected_rules_all_scoped() {
        let fixtures = [
            (
                include_str!("../tests/fixtures/trivy/k8s-config.json"),
                include_str!("../tests/fixtures/trivy/expected/k8s-config.json"),
            ),
            (
                include_str!("../tests/fixtures/trivy/image-runc-kernel.json"),
                include_str!("../tests/fixtures/trivy/expected/image-runc-kernel.json"),
            ),
            (
                include_str!("../tests/fixtures/trivy/clean-image.json"),
                include_str!("../tests/fixtures/trivy/expected/clean-image.json"),
            ),
        ];
        let cg = Scope::Cgroup(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c2d.slice".into(),
        );
        for scope in [scope(), cg] {
            let mut derived_any = 0;
            for (report_text, expected) in fixtures {
                let r = parse_report(report_text).unwrap();
                let name = default_name(&r, "f.json");
                let d = derive(&r, &name, &scope).unwrap();
                assert_eq!(d.scope, scope);
                assert!(d.policy.rules.iter().all(|r| r.scope == scope));
                assert!(d.rules.iter().all(|r| r.rule.scope == scope));
                derived_any += d.policy.rules.len();
                // The expected names carry the tag of the container scope.
                let mut want = policy::parse(expected).unwrap();
                let from = format!("tv-{}-", scope_tag(&super::tests::scope()));
                for r in &mut want.rules {
                    r.scope = scope.clone();
                    let base = r.name.strip_prefix(from.as_str()).unwrap();
                    r.name = rule_name(base, &scope);
                }
                assert_eq!(d.policy, want);
                // What from-trivy writes, 'policy load' reads back.
                let json = policy::to_json(&d.policy);
                assert_eq!(policy::parse(&json).unwrap(), d.policy);
                let t = explain(&d, &r, "f.json");
                assert!(
                    t.contains(&format!(
                        "Scope: every rule applies only to tasks of {}",
                        scope.describe_full()
                    )),
                    "{t}"
                );
            }
            assert_eq!(derived_any, 7 + 11 - 2);
        }
    }

    #[test]
    fn host_pid_and_ipc_rules_are_scoped_to_the_workload() {
        let r = report(
            serde_json::json!([{"Target": "ds.yaml", "Misconfigurations": [
                misconf("KSV010", "AVD-KSV-0010", "Access to host PID", "m"),
                misconf("KSV008", "AVD-KSV-0008", "Access to host IPC namespace", "m")
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert_eq!(names(&d), ["no-host-init-proc", "no-host-shm"]);
        for rule in &d.policy.rules {
            assert_eq!(rule.scope, Scope::Container(ID.into()));
            assert!(
                rule.describe().ends_with(" in container 3f2a4b5c6d7e…"),
                "{}",
                rule.describe()
            );
        }
        let v: serde_json::Value = serde_json::from_str(&policy::to_json(&d.policy)).unwrap();
        assert_eq!(v["rules"][0]["scope"]["container"], ID);
        let t = explain(&d, &r, "r.json");
        assert!(
            t.contains(&format!(
                "Scope: every rule applies only to tasks of container {ID} "
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "- {}: deny open for read or write of /proc/1 or below\n",
                n("no-host-init-proc")
            )),
            "{t}"
        );
    }

    #[test]
    fn report_strings_are_escaped_in_the_explanation() {
        let v = serde_json::json!({
            "SchemaVersion": 2,
            "ArtifactName": "evil\u{1b}[2J\u{1b}[31mimage",
            "ArtifactType": "container_image\u{202e}",
            "Results": [{
                "Target": "pod.yaml\u{1b}]0;pwned\u{7}",
                "Misconfigurations": [{
                    "ID": "KSV017", "Title": "Privileged \u{1b}[31mcontainer",
                    "Message": "line one\u{9b}31m\u{2066}x\u{2069}", "Severity": "HIGH\r",
                    "Status": "FAIL"
                }, {
                    "ID": "KSV999\u{1b}[1m", "Title": "t", "Status": "FAIL"
                }],
                "Vulnerabilities": [{
                    "VulnerabilityID": "CVE-2024-21626\u{85}", "PkgName": "runc",
                    "InstalledVersion": "1.1.11\u{1b}[K", "FixedVersion": "1.1.12\t",
                    "Title": "runc: leaked fd\u{202e}gnp.exe"
                }]
            }]
        });
        let r = parse_report(&v.to_string()).unwrap();
        // A newline in a title or message: only its first line is shown.
        let d = derive(&r, "n", &scope()).unwrap();
        let t = explain(&d, &r, "r.json");
        for bad in [
            '\u{1b}', '\u{7}', '\r', '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\t',
        ] {
            assert!(!t.contains(bad), "{bad:?} in {t}");
        }
        assert!(
            t.contains("Trivy report of evil\\x1b[2J\\x1b[31mimage (container_image\\u{202e})"),
            "{t}"
        );
        assert!(
            t.contains(
                "  from: KSV017 (HIGH\\r) Privileged \\x1b[31mcontainer in pod.yaml\\x1b]0;pwned\\x07: line one\\u{9b}31m\\u{2066}x\\u{2069}\n"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "CVE-2024-21626\\u{85} in runc 1.1.11\\x1b[K (fixed in 1.1.12\\t), pod.yaml\\x1b]0;pwned\\x07: runc: leaked fd\\u{202e}gnp.exe"
            ),
            "{t}"
        );
        assert!(t.contains("failed checks KSV999\\x1b[1m"), "{t}");
        // Every line the explanation has is one the code wrote.
        let newline_in_message = serde_json::json!({
            "SchemaVersion": 2, "ArtifactName": "a",
            "Results": [{"Target": "t\nFAKE: line", "Misconfigurations": [
                {"ID": "KSV017", "Title": "x", "Message": "m\nFAKE: rule", "Status": "FAIL"}]}]
        });
        let r = parse_report(&newline_in_message.to_string()).unwrap();
        let t = explain(&derive(&r, "n", &scope()).unwrap(), &r, "r.json");
        assert!(!t.lines().any(|l| l.starts_with("FAKE")), "{t}");
        assert!(t.contains("in t\\nFAKE: line: m\n"), "{t}");
        // The policy name from the artifact keeps no control or bidi character.
        let name = default_name(
            &Report {
                artifact_name: Some("img\u{202e}\u{1b}x".into()),
                ..Default::default()
            },
            "f",
        );
        assert_eq!(name, "trivy:img??x");
    }
}
