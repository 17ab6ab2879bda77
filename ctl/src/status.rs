//! `escguardctl status`: the module's state as text for people or JSON for
//! machines.

use crate::abi;
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct Abi {
    pub major: u32,
    pub minor: u32,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Status {
    pub module_version: String,
    pub module_abi: Abi,
    pub ctl_version: String,
    pub ctl_abi: Abi,
    pub mode: String,
    /// Nanoseconds since the epoch at module load.
    pub loaded_ns: u64,
    /// RFC 3339 UTC rendering of `loaded_ns`.
    pub loaded_at: String,
    pub probes: u32,
    pub opens: u64,
    pub ioctls: u64,
    pub tasks: Tasks,
    pub hooks: Hooks,
    pub verdicts: u64,
    pub kills: u64,
    pub events: Events,
    pub alloc_failures: u64,
    pub untracked: u64,
    pub tid_swaps_lost: u64,
    /// rmmod is refused until the host admin runs `escguardctl unlock`.
    pub locked: bool,
    /// Group allowed to read events and status (absent: root only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_gid: Option<u32>,
    pub table: Table,
    pub trust: Trust,
    /// Preset and policy rule matches (any action).
    pub rule_hits: u64,
    /// Calls made to fail with EPERM.
    pub denials: u64,
    /// Usermode-helper execs examined.
    pub umh_checked: u64,
    /// Names of the enabled presets (`escguardctl rules list`).
    pub rules_enabled: Vec<String>,
    /// Rules of the loaded policy.
    pub policy_rules: u32,
    /// When the policy was loaded; 0: none was (built-in defaults).
    pub policy_loaded_ns: u64,
    /// RFC 3339 UTC rendering of `policy_loaded_ns`; absent when 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_loaded_at: Option<String>,
    /// Host baseline namespaces ("mnt:[4026531841]"), per kind.
    pub baseline_ns: std::collections::BTreeMap<String, String>,
    pub baseline_root: crate::events::FsId,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Table {
    /// Most entries the table holds (max_tasks).
    pub cap: u64,
    /// Tasks left untracked because the table was full.
    pub full: u64,
    /// Untracked tasks judged against their tracked parent's container.
    pub parent_judged: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Trust {
    /// Container tasks refused use or unload of escguard.
    pub tamper: u64,
    /// Host callers refused for lack of privilege.
    pub denied: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Tasks {
    pub host: u64,
    pub container: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Hooks {
    pub fork: u64,
    pub exec: u64,
    pub exit: u64,
    pub unload: u64,
    pub missed: u64,
    /// Nanoseconds spent in each hook since load (escguard's own cost).
    pub fork_ns: u64,
    pub exec_ns: u64,
    pub exit_ns: u64,
    /// File opens seen (security_file_open).
    pub open: u64,
    /// Observed syscalls and mount/ptrace/connect checks.
    pub syscall: u64,
    pub open_ns: u64,
    pub syscall_ns: u64,
    /// Opens by container tasks that the verdict and rules examined (ABI 3.1).
    pub open_checked: u64,
    /// Of those, judged in full: the task's namespaces, root or cwd had
    /// changed since its last verdict.
    pub open_judged: u64,
    /// Of those, found unchanged in the module's lock-free verdict cache
    /// (no table lookup; ABI 3.2, 0 from older modules).
    pub open_cached: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Events {
    pub emitted: u64,
    /// Lost: the ring was full of events the writer had not stored, or no
    /// memory.
    pub dropped: u64,
    /// Not yet acknowledged by the durable writer.
    pub queued: u64,
    /// Held in the ring, acknowledged or not: what readers can see.
    pub retained: u64,
    /// Unacknowledged events overwritten while no writer was attached.
    pub evicted: u64,
    /// Sequence number of the newest event (0: none yet).
    pub last_seq: u64,
    /// Sequence number the durable writer acknowledged last.
    pub acked: u64,
    /// A durable writer (`tail --output`) is attached.
    pub writer: bool,
    pub capacity: u64,
    /// Memory of the ring.
    pub ring_bytes: u64,
}

pub fn mode_name(mode: u32) -> String {
    match mode {
        abi::ESCGUARD_MODE_MONITOR => "monitor".into(),
        abi::ESCGUARD_MODE_ENFORCE => "enforce".into(),
        other => format!("unknown({other})"),
    }
}

impl Status {
    pub fn from_abi(v: &abi::escguard_version, s: &abi::escguard_status) -> Status {
        Status {
            module_version: abi::cstr_field(&v.module_version),
            module_abi: Abi {
                major: s.abi_major,
                minor: s.abi_minor,
            },
            ctl_version: env!("CARGO_PKG_VERSION").into(),
            ctl_abi: Abi {
                major: abi::ESCGUARD_ABI_MAJOR,
                minor: abi::ESCGUARD_ABI_MINOR,
            },
            mode: mode_name(s.mode),
            loaded_ns: s.loaded_ns,
            loaded_at: rfc3339_utc(s.loaded_ns),
            probes: s.probes,
            opens: s.opens,
            ioctls: s.ioctls,
            tasks: Tasks {
                host: s.tasks_host,
                container: s.tasks_container,
            },
            hooks: Hooks {
                fork: s.hook_fork,
                exec: s.hook_exec,
                exit: s.hook_exit,
                unload: s.hook_unload,
                missed: s.probes_missed,
                fork_ns: s.hook_ns_fork,
                exec_ns: s.hook_ns_exec,
                exit_ns: s.hook_ns_exit,
                open: s.hook_open,
                syscall: s.hook_syscall,
                open_ns: s.hook_ns_open,
                syscall_ns: s.hook_ns_syscall,
                open_checked: s.open_checked,
                open_judged: s.open_judged,
                open_cached: s.open_cached,
            },
            verdicts: s.verdicts,
            kills: s.kills,
            events: Events {
                emitted: s.events_emitted,
                dropped: s.events_dropped,
                queued: s.events_queued,
                retained: s.events_retained,
                evicted: s.events_evicted,
                last_seq: s.events_last_seq,
                acked: s.events_acked,
                writer: s.writer != 0,
                capacity: s.ring_capacity,
                ring_bytes: s.ring_bytes,
            },
            alloc_failures: s.alloc_failures,
            untracked: s.untracked,
            tid_swaps_lost: s.tid_swaps_lost,
            locked: s.locked != 0,
            events_gid: (s.events_gid != abi::ESCGUARD_NO_GID).then_some(s.events_gid),
            table: Table {
                cap: s.table_cap,
                full: s.table_full,
                parent_judged: s.parent_judged,
            },
            trust: Trust {
                tamper: s.tamper,
                denied: s.denied,
            },
            rule_hits: s.rule_hits,
            denials: s.denials,
            umh_checked: s.umh_checked,
            rules_enabled: crate::rules::enabled_names(s.rules_enabled),
            policy_rules: s.policy_rules,
            policy_loaded_ns: s.policy_loaded_ns,
            policy_loaded_at: (s.policy_loaded_ns != 0).then(|| rfc3339_utc(s.policy_loaded_ns)),
            baseline_ns: crate::events::ns_map(&s.baseline_ns),
            baseline_root: crate::events::fsid(&s.baseline_root, None),
        }
    }

    /// The text `escguardctl status` prints, with times relative to now.
    pub fn to_text(&self) -> String {
        self.to_text_at(now_ns())
    }

    /// The text for a reader at `now_ns` (nanoseconds since the epoch).
    pub fn to_text_at(&self, now_ns: u64) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: String| out.push_str(&format!("{k:<14} {v}\n"));
        line(
            "module",
            format!(
                "escguard {} (ABI {}.{})",
                self.module_version, self.module_abi.major, self.module_abi.minor
            ),
        );
        line(
            "escguardctl",
            format!(
                "{} (ABI {}.{})",
                self.ctl_version, self.ctl_abi.major, self.ctl_abi.minor
            ),
        );
        line("mode", self.mode.clone());
        line(
            "unload",
            if self.locked {
                "locked (rmmod refused; 'escguardctl unlock' first)".into()
            } else {
                "unlocked (rmmod allowed)".into()
            },
        );
        line(
            "readers",
            match self.events_gid {
                Some(g) => format!("root, and group {g} (events and status)"),
                None => "root only".into(),
            },
        );
        line(
            "loaded at",
            format!("{} ({})", self.loaded_at, ago(self.loaded_ns, now_ns)),
        );
        line("probes", self.probes.to_string());
        line(
            "tasks",
            format!(
                "{} tracked ({} host, {} container) of at most {}",
                self.tasks.host + self.tasks.container,
                self.tasks.host,
                self.tasks.container,
                self.table.cap
            ),
        );
        line(
            "table full",
            format!(
                "{} tasks untracked at the cap ({} judged by their parent)",
                self.table.full, self.table.parent_judged
            ),
        );
        line(
            "hooks",
            format!(
                "fork {}, exec {}, exit {}, unload {}, open {}, syscall {}, missed {}",
                self.hooks.fork,
                self.hooks.exec,
                self.hooks.exit,
                self.hooks.unload,
                self.hooks.open,
                self.hooks.syscall,
                self.hooks.missed
            ),
        );
        line(
            "open verdicts",
            format!(
                "{} container opens examined, {} from the verdict cache, {} judged in full (facts changed since the last verdict)",
                self.hooks.open_checked, self.hooks.open_cached, self.hooks.open_judged
            ),
        );
        let avg = |ns: u64, n: u64| ns.checked_div(n).unwrap_or(0);
        line(
            "hook cost",
            format!(
                "fork {} ns, exec {} ns, exit {} ns, open {} ns, syscall {} ns (average per call)",
                avg(self.hooks.fork_ns, self.hooks.fork),
                avg(self.hooks.exec_ns, self.hooks.exec),
                avg(self.hooks.exit_ns, self.hooks.exit),
                avg(self.hooks.open_ns, self.hooks.open),
                avg(self.hooks.syscall_ns, self.hooks.syscall)
            ),
        );
        // The module's presets: an older module lacks the newer ones.
        let presets = crate::rules::module_presets(self.module_abi.major, self.module_abi.minor);
        let known = presets.len();
        let on = self
            .rules_enabled
            .iter()
            .filter(|n| crate::rules::preset_by_name(n).is_some())
            .count();
        let off: Vec<&str> = presets
            .iter()
            .map(|p| p.name)
            .filter(|n| !self.rules_enabled.iter().any(|e| e == n))
            .collect();
        line(
            "presets",
            if off.is_empty() {
                format!("all {known} enabled")
            } else {
                format!("{on} of {known} enabled (disabled: {})", off.join(", "))
            },
        );
        line(
            "policy",
            match &self.policy_loaded_at {
                Some(at) => format!(
                    "{} rules, loaded at {at} ({})",
                    self.policy_rules,
                    ago(self.policy_loaded_ns, now_ns)
                ),
                None => "none loaded (built-in defaults)".into(),
            },
        );
        line(
            "rule hits",
            format!(
                "{} matches, {} calls denied (EPERM)",
                self.rule_hits, self.denials
            ),
        );
        line(
            "helper execs",
            format!(
                "{} host-context execs examined for planted programs",
                self.umh_checked
            ),
        );
        line("verdicts", self.verdicts.to_string());
        line("kills", self.kills.to_string());
        line(
            "events",
            format!(
                "{} emitted, {} dropped, {} held, {} not stored by a writer, {} overwritten \
                 unstored; writer {} (ring of {}, {} KiB)",
                self.events.emitted,
                self.events.dropped,
                self.events.retained,
                self.events.queued,
                self.events.evicted,
                if self.events.writer {
                    "attached"
                } else {
                    "none"
                },
                self.events.capacity,
                self.events.ring_bytes / 1024
            ),
        );
        line(
            "refused",
            format!(
                "{} container attempts (tamper), {} unprivileged host callers",
                self.trust.tamper, self.trust.denied
            ),
        );
        line(
            "alloc failures",
            format!(
                "{} (untracked hook calls: {})",
                self.alloc_failures, self.untracked
            ),
        );
        line(
            "baseline root",
            format!(
                "dev {} ino {} (mount {})",
                self.baseline_root.dev, self.baseline_root.ino, self.baseline_root.mnt_id
            ),
        );
        let ns: Vec<String> = self
            .baseline_ns
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line("baseline ns", ns.join(" "));
        line("device opens", self.opens.to_string());
        line("ioctls", self.ioctls.to_string());
        out
    }
}

/// Now, in nanoseconds since the epoch (0 if the clock is before 1970).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// How long before `now_ns` the instant `then_ns` was, for people:
/// "3m 12s ago" (whole seconds). A `then_ns` after `now_ns` (the clock
/// was set back since) says so instead of printing a negative age.
pub fn ago(then_ns: u64, now_ns: u64) -> String {
    match now_ns.checked_sub(then_ns) {
        Some(d) => format!(
            "{} ago",
            humantime::format_duration(std::time::Duration::from_secs(d / 1_000_000_000))
        ),
        None => "in the future: the clock was set back since".into(),
    }
}

/// Formats nanoseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let millis = (ns % 1_000_000_000) / 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// algorithm), so no date crate is needed.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_epoch_and_known_instant() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_utc(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123Z"
        );
        // Leap day.
        assert_eq!(
            rfc3339_utc(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn ages_are_whole_seconds_and_never_negative() {
        let t = 1_700_000_000_000_000_000;
        assert_eq!(ago(t, t), "0s ago");
        assert_eq!(ago(t, t + 12_900_000_000), "12s ago");
        assert_eq!(ago(t, t + 90_061_000_000_000), "1day 1h 1m 1s ago");
        assert_eq!(ago(t + 1, t), "in the future: the clock was set back since");
    }

    #[test]
    fn mode_names() {
        assert_eq!(mode_name(abi::ESCGUARD_MODE_ENFORCE), "enforce");
        assert_eq!(mode_name(abi::ESCGUARD_MODE_MONITOR), "monitor");
        assert_eq!(mode_name(77), "unknown(77)");
    }

    fn sample() -> Status {
        let mut v = abi::escguard_version {
            abi_major: 1,
            ..Default::default()
        };
        for (d, s) in v.module_version.iter_mut().zip(b"9.8.7") {
            *d = *s as _;
        }
        let s = abi::escguard_status {
            abi_major: 1,
            abi_minor: 0,
            mode: abi::ESCGUARD_MODE_MONITOR,
            loaded_ns: 1_700_000_000_000_000_000,
            opens: 3,
            ioctls: 7,
            probes: 2,
            ..Default::default()
        };
        Status::from_abi(&v, &s)
    }

    #[test]
    fn text_has_one_labelled_line_per_field() {
        let t = sample().to_text_at(1_700_000_000_000_000_000 + 3_723_400_000_000);
        assert!(
            t.contains("module         escguard 9.8.7 (ABI 1.0)\n"),
            "{t}"
        );
        assert!(t.contains("mode           monitor\n"), "{t}");
        assert!(
            t.contains("loaded at      2023-11-14T22:13:20.000Z (1h 2m 3s ago)\n"),
            "{t}"
        );
        assert!(t.contains("device opens   3\n"), "{t}");
        assert!(t.contains("ioctls         7\n"), "{t}");
        assert!(
            t.contains("presets        0 of 18 enabled (disabled: release_agent, "),
            "{t}"
        );
        assert!(
            t.contains("policy         none loaded (built-in defaults)\n"),
            "{t}"
        );
    }

    fn abi3_sample() -> Status {
        let v = abi::escguard_version {
            abi_major: 3,
            ..Default::default()
        };
        // An ABI 3 module has the presets before host_cgroup.
        let all = (1u32 << abi::ESCGUARD_RULE_HOST_CGROUP) - 1;
        let s = abi::escguard_status {
            abi_major: 3,
            hook_fork: 10,
            hook_ns_fork: 1000,
            hook_open: 400,
            hook_ns_open: 40_000,
            hook_syscall: 20,
            hook_ns_syscall: 6_000,
            open_checked: 300,
            open_judged: 12,
            open_cached: 250,
            rule_hits: 5,
            denials: 2,
            umh_checked: 3,
            rules_enabled: all & !(1 << abi::ESCGUARD_RULE_PTRACE_HOST),
            policy_rules: 4,
            policy_loaded_ns: 1_700_000_000_000_000_000,
            ..Default::default()
        };
        Status::from_abi(&v, &s)
    }

    #[test]
    fn abi3_counters_rules_and_policy_in_json() {
        let st = abi3_sample();
        let j: serde_json::Value = serde_json::to_value(&st).unwrap();
        assert_eq!(j["hooks"]["open"], 400);
        assert_eq!(j["hooks"]["open_ns"], 40_000);
        assert_eq!(j["hooks"]["syscall"], 20);
        assert_eq!(j["hooks"]["syscall_ns"], 6_000);
        assert_eq!(j["hooks"]["open_checked"], 300);
        assert_eq!(j["hooks"]["open_judged"], 12);
        assert_eq!(j["hooks"]["open_cached"], 250);
        assert_eq!(j["umh_checked"], 3);
        assert_eq!(j["rule_hits"], 5);
        assert_eq!(j["denials"], 2);
        let enabled = j["rules_enabled"].as_array().unwrap();
        assert_eq!(enabled.len(), 17);
        assert_eq!(enabled[0], "release_agent");
        assert!(!enabled.iter().any(|n| n == "ptrace_host"));
        assert_eq!(j["policy_rules"], 4);
        assert_eq!(j["policy_loaded_ns"], 1_700_000_000_000_000_000u64);
        assert_eq!(j["policy_loaded_at"], "2023-11-14T22:13:20.000Z");
        // Scripts match these with sed: keep them adjacent and in order.
        let line = serde_json::to_string(&st).unwrap();
        assert!(
            line.contains(r#""fork_ns":1000,"exec_ns":0,"exit_ns":0"#),
            "{line}"
        );
        assert!(
            line.contains(r#""tasks":{"host":0,"container":0}"#),
            "{line}"
        );
        // Flat keys, as shell scripts pick them with sed.
        assert!(
            line.contains(r#""rule_hits":5,"denials":2,"umh_checked":3,"#),
            "{line}"
        );
        let j0 = serde_json::to_value(sample()).unwrap();
        assert!(j0.get("policy_loaded_at").is_none());
        assert_eq!(j0["policy_loaded_ns"], 0);
    }

    #[test]
    fn abi3_text_lines() {
        let t = abi3_sample().to_text_at(1_700_000_000_000_000_000 + 45_000_000_000);
        assert!(
            t.contains("hooks          fork 10, exec 0, exit 0, unload 0, open 400, syscall 20, missed 0\n"),
            "{t}"
        );
        assert!(
            t.contains("open 100 ns, syscall 300 ns (average per call)"),
            "{t}"
        );
        assert!(
            t.contains("open verdicts  300 container opens examined, 250 from the verdict cache, 12 judged in full "),
            "{t}"
        );
        assert!(
            t.contains("presets        17 of 18 enabled (disabled: ptrace_host)\n"),
            "{t}"
        );
        assert!(
            t.contains("policy         4 rules, loaded at 2023-11-14T22:13:20.000Z (45s ago)\n"),
            "{t}"
        );
        assert!(
            t.contains("rule hits      5 matches, 2 calls denied (EPERM)\n"),
            "{t}"
        );
        assert!(
            t.contains("helper execs   3 host-context execs examined for planted programs\n"),
            "{t}"
        );
        let mut st = abi3_sample();
        st.rules_enabled = crate::rules::enabled_names((1 << abi::ESCGUARD_RULE_HOST_CGROUP) - 1);
        assert!(st.to_text().contains("presets        all 18 enabled\n"));
        // A module of this escguardctl's ABI has every preset.
        st.module_abi = Abi {
            major: abi::ESCGUARD_ABI_MAJOR,
            minor: abi::ESCGUARD_ABI_MINOR,
        };
        assert!(st
            .to_text()
            .contains("presets        18 of 19 enabled (disabled: host_cgroup)\n"));
        st.rules_enabled = crate::rules::enabled_names((1 << abi::ESCGUARD_RULE_COUNT) - 1);
        assert!(st.to_text().contains("presets        all 19 enabled\n"));
    }

    #[test]
    fn json_is_stable_and_complete() {
        let j: serde_json::Value = serde_json::to_value(sample()).unwrap();
        assert_eq!(j["module_version"], "9.8.7");
        assert_eq!(j["module_abi"]["major"], 1);
        assert_eq!(j["mode"], "monitor");
        assert_eq!(j["opens"], 3);
        assert_eq!(j["ioctls"], 7);
        assert_eq!(j["probes"], 2);
        assert_eq!(j["loaded_ns"], 1_700_000_000_000_000_000u64);
        assert_eq!(j["ctl_version"], env!("CARGO_PKG_VERSION"));
    }
}
