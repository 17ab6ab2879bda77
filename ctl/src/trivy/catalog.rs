//! What `from-trivy` can derive: the rule templates, what each category of
//! finding leads to (rules, presets to keep, or why nothing), and the
//! derived rules' names with their scope tag.

use crate::policy::{self, Match, MountField, Rule, Scope, Spec};

/// Why findings lead (or do not lead) somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Category {
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
pub(super) struct Template {
    /// The rule's name without `tv-<tag>-` (see [`rule_name`]); at most
    /// [`BASE_NAME_MAX`] bytes.
    pub(super) name: &'static str,
    kind: TKind,
    pattern: &'static str,
    matching: Match,
    pub(super) why: &'static str,
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
pub(super) const CATALOG: &[Template] = &[
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
    pub(super) fn rule(&self, scope: &Scope) -> Rule {
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
pub(super) struct Consequence {
    /// Heading for the findings: what they have in common.
    pub(super) what: &'static str,
    pub(super) rules: &'static [&'static str],
    /// Presets that must stay enabled, and why.
    pub(super) presets: &'static [(&'static str, &'static str)],
    /// For categories that derive no rule: why not.
    pub(super) no_rule: Option<&'static str>,
}

pub(super) fn consequence(c: Category) -> Consequence {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::trivy::derived_sockets;
    use crate::trivy::testutil::*;

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
}
