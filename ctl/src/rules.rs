//! The module's rules: the preset table (names and descriptions, in one
//! place) and `escguardctl rules list` rows.
//!
//! Presets are built into the module; their index is their
//! `ESCGUARD_RULE_*` value and the module knows them by exactly these names.
//! Policy rules (`ESCGUARD_RULE_POLICY`) come from a loaded policy file.

use crate::abi;
use serde::Serialize;

/// One preset: its `ESCGUARD_RULE_*` id, name and a one-line description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub id: u32,
    pub name: &'static str,
    pub description: &'static str,
}

/// Every preset, in `ESCGUARD_RULE_*` order (index == id).
pub const PRESETS: [Preset; abi::ESCGUARD_RULE_COUNT as usize] = [
    Preset {
        id: abi::ESCGUARD_RULE_RELEASE_AGENT,
        name: "release_agent",
        description: "write to a cgroup v1 release_agent or notify_on_release file",
    },
    Preset {
        id: abi::ESCGUARD_RULE_CORE_PATTERN,
        name: "core_pattern",
        description: "write to /proc/sys/kernel/core_pattern",
    },
    Preset {
        id: abi::ESCGUARD_RULE_MODPROBE,
        name: "modprobe_path",
        description: "write to /proc/sys/kernel/modprobe",
    },
    Preset {
        id: abi::ESCGUARD_RULE_SYSRQ,
        name: "sysrq_trigger",
        description: "write to /proc/sysrq-trigger",
    },
    Preset {
        id: abi::ESCGUARD_RULE_UEVENT_HELPER,
        name: "uevent_helper",
        description: "write to /sys/kernel/uevent_helper or /proc/sys/kernel/hotplug",
    },
    Preset {
        id: abi::ESCGUARD_RULE_HOST_BLOCK_DEVICE,
        name: "host_block_device",
        description: "open of a block device that backs a mounted filesystem",
    },
    Preset {
        id: abi::ESCGUARD_RULE_RUNTIME_SOCKET,
        name: "runtime_socket",
        description: "connect to a container runtime's control socket (policy runtime_sockets)",
    },
    Preset {
        id: abi::ESCGUARD_RULE_SENSITIVE_MOUNT,
        name: "sensitive_mount",
        description: "mount of cgroup (v1), proc, sysfs, debugfs or securityfs",
    },
    Preset {
        id: abi::ESCGUARD_RULE_BLOCK_DEVICE_MOUNT,
        name: "block_device_mount",
        description: "mount of a block device that backs a mounted filesystem",
    },
    Preset {
        id: abi::ESCGUARD_RULE_OPEN_BY_HANDLE,
        name: "open_by_handle_at",
        description: "open_by_handle_at(2), the \"Shocker\" technique",
    },
    Preset {
        id: abi::ESCGUARD_RULE_KERNEL_MODULE,
        name: "kernel_module",
        description: "init_module, finit_module or delete_module",
    },
    Preset {
        id: abi::ESCGUARD_RULE_PTRACE_HOST,
        name: "ptrace_host",
        description: "ptrace attach to, or memory access of, a host task",
    },
    Preset {
        id: abi::ESCGUARD_RULE_USERMODE_HELPER,
        name: "usermode_helper",
        description: "kernel-run usermode helper executing a file the container planted",
    },
    Preset {
        id: abi::ESCGUARD_RULE_KERNEL_MEMORY,
        name: "kernel_memory",
        description: "open of /proc/kcore, /dev/mem, /dev/kmem or /dev/port",
    },
    Preset {
        id: abi::ESCGUARD_RULE_INSTRUMENT,
        name: "instrument",
        description: "write to debugfs or tracefs (kprobes/enabled, tracing controls)",
    },
    Preset {
        id: abi::ESCGUARD_RULE_BINFMT_MISC,
        name: "binfmt_misc",
        description:
            "write to the host's binfmt_misc (register a handler host processes would run)",
    },
    Preset {
        id: abi::ESCGUARD_RULE_PLANTED_EXEC,
        name: "planted_exec",
        description: "host-context exec of a program or interpreter in a container's filesystem",
    },
    Preset {
        id: abi::ESCGUARD_RULE_SIGNAL_HOST,
        name: "signal_host",
        description: "signal a host task (kill, tkill, tgkill, sigqueue; kill -1 with the host's \
                      pids), set its resource limits (prlimit64) or move it to another cgroup",
    },
    Preset {
        id: abi::ESCGUARD_RULE_HOST_CGROUP,
        name: "host_cgroup",
        description: "write a cgroup v2 file outside the container's own cgroup (cgroup.kill, \
                      cgroup.freeze, memory.max, cgroup.procs of the host's or another \
                      container's groups)",
    },
];

/// The preset with this id.
pub fn preset(id: u32) -> Option<&'static Preset> {
    PRESETS.get(id as usize)
}

/// The preset with this name.
pub fn preset_by_name(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Names of the presets whose bit is set in `escguard_status.rules_enabled`;
/// bits beyond the known presets show as `unknown(BIT)`.
pub fn enabled_names(mask: u32) -> Vec<String> {
    (0..32)
        .filter(|bit| mask & (1u32 << bit) != 0)
        .map(|bit| match preset(bit) {
            Some(p) => p.name.to_string(),
            None => format!("unknown({bit})"),
        })
        .collect()
}

/// The presets a module of ABI `major`.`minor` has: `host_cgroup` came
/// with ABI 4.1 (the ids are stable; new presets are only appended).
pub fn module_presets(major: u32, minor: u32) -> &'static [Preset] {
    let n = if (major, minor) < (4, 1) {
        abi::ESCGUARD_RULE_HOST_CGROUP as usize
    } else {
        PRESETS.len()
    };
    &PRESETS[..n]
}

/// Names of the known presets whose bit is clear.
pub fn disabled_names(mask: u32) -> Vec<&'static str> {
    PRESETS
        .iter()
        .filter(|p| mask & (1u32 << p.id) == 0)
        .map(|p| p.name)
        .collect()
}

/// The preset table as help text: one line per preset.
pub fn presets_help() -> String {
    let mut s = String::from("Presets (built into the module; all enabled at load):\n");
    for p in &PRESETS {
        s.push_str(&format!("  {:<19} {}\n", p.name, p.description));
    }
    s
}

/// A rule name the module can be asked about: 1..31 bytes (it travels in a
/// NUL-terminated 32-byte field) without NUL.
pub fn name_fits(name: &str) -> bool {
    !name.is_empty() && name.len() < abi::ESCGUARD_NAME_LEN as usize && !name.contains('\0')
}

/// One row of `escguardctl rules list`.
#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct RuleRow {
    pub name: String,
    /// "preset", or a policy rule's type ("file", "mount"; "policy" when
    /// the policy could not be read).
    pub kind: String,
    pub enabled: bool,
    /// Matches since module load (presets) or policy load (policy rules).
    pub hits: u64,
    pub description: String,
}

impl RuleRow {
    /// A row from the module's record; `policy_detail` gives (kind,
    /// description) of a policy rule by name, if known.
    pub fn from_abi(
        r: &abi::escguard_rule_info,
        policy_detail: &dyn Fn(&str) -> Option<(String, String)>,
    ) -> RuleRow {
        let name = abi::cstr_field(&r.name);
        let (kind, description) = if r.id == abi::ESCGUARD_RULE_POLICY {
            policy_detail(&name).unwrap_or_else(|| ("policy".into(), "policy rule".into()))
        } else {
            (
                "preset".to_string(),
                preset(r.id)
                    .map(|p| p.description.to_string())
                    .unwrap_or_else(|| format!("unknown preset id {}", r.id)),
            )
        };
        RuleRow {
            name,
            kind,
            enabled: r.enabled != 0,
            hits: r.hits,
            description,
        }
    }

    pub const TEXT_HEADER: &'static str =
        "NAME                            KIND    ENABLED         HITS  DESCRIPTION";

    pub fn to_text(&self) -> String {
        format!(
            "{:<31} {:<7} {:<7} {:>12}  {}",
            self.name,
            self.kind,
            if self.enabled { "yes" } else { "no" },
            self.hits,
            self.description
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_index_is_the_abi_id_and_names_are_the_modules() {
        for (i, p) in PRESETS.iter().enumerate() {
            assert_eq!(p.id as usize, i, "{}", p.name);
        }
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "release_agent",
                "core_pattern",
                "modprobe_path",
                "sysrq_trigger",
                "uevent_helper",
                "host_block_device",
                "runtime_socket",
                "sensitive_mount",
                "block_device_mount",
                "open_by_handle_at",
                "kernel_module",
                "ptrace_host",
                "usermode_helper",
                "kernel_memory",
                "instrument",
                "binfmt_misc",
                "planted_exec",
                "signal_host",
                "host_cgroup",
            ]
        );
        assert_eq!(
            preset(abi::ESCGUARD_RULE_PTRACE_HOST).unwrap().name,
            "ptrace_host"
        );
        assert_eq!(preset_by_name("core_pattern").unwrap().id, 1);
        assert!(preset(abi::ESCGUARD_RULE_COUNT).is_none());
        assert!(preset(abi::ESCGUARD_RULE_POLICY).is_none());
        for p in &PRESETS {
            assert!(name_fits(p.name));
            assert!(!p.description.contains('\n'));
        }
    }

    #[test]
    fn enabled_mask_to_names() {
        assert!(enabled_names(0).is_empty());
        assert_eq!(
            enabled_names((1 << abi::ESCGUARD_RULE_CORE_PATTERN) | 1),
            ["release_agent", "core_pattern"]
        );
        assert_eq!(enabled_names(1 << 20), ["unknown(20)"]);
        let all = (1u32 << abi::ESCGUARD_RULE_COUNT) - 1;
        assert_eq!(enabled_names(all).len(), PRESETS.len());
        assert!(disabled_names(all).is_empty());
        assert_eq!(
            disabled_names(all & !(1 << abi::ESCGUARD_RULE_KERNEL_MODULE)),
            ["kernel_module"]
        );
    }

    #[test]
    fn name_limits() {
        assert!(!name_fits(""));
        assert!(name_fits(&"a".repeat(31)));
        assert!(!name_fits(&"a".repeat(32)));
        assert!(!name_fits("a\0b"));
    }

    fn info(name: &str, id: u32, enabled: u32, hits: u64) -> abi::escguard_rule_info {
        let mut r = abi::escguard_rule_info {
            id,
            enabled,
            hits,
            ..Default::default()
        };
        for (d, s) in r.name.iter_mut().zip(name.bytes()) {
            *d = s as _;
        }
        r
    }

    #[test]
    fn rows_for_presets_and_policy_rules() {
        let none = |_: &str| None;
        let row = RuleRow::from_abi(&info("core_pattern", 1, 1, 3), &none);
        assert_eq!(row.kind, "preset");
        assert_eq!(row.description, "write to /proc/sys/kernel/core_pattern");
        let t = row.to_text();
        assert!(t.starts_with("core_pattern "), "{t}");
        assert!(t.contains(" preset  yes "), "{t}");
        assert!(t.contains("            3  write to"), "{t}");

        let detail =
            |n: &str| (n == "no-shadow").then(|| ("file".into(), "read,write /etc/shadow".into()));
        let row = RuleRow::from_abi(&info("no-shadow", abi::ESCGUARD_RULE_POLICY, 0, 0), &detail);
        assert_eq!((row.kind.as_str(), row.enabled), ("file", false));
        let row = RuleRow::from_abi(&info("other", abi::ESCGUARD_RULE_POLICY, 1, 0), &detail);
        assert_eq!(row.kind, "policy");
        let j = serde_json::to_value(&row).unwrap();
        assert_eq!(j["enabled"], true);
        assert_eq!(j["hits"], 0);
        assert_eq!(j["name"], "other");
    }
}
