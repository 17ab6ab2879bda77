//! `escguardctl metrics`: the module's counters in the OpenMetrics text
//! format, for node_exporter's textfile collector (or any scraper).
//!
//! [`render`] is pure: it formats a [`Status`] (and, when the caller may
//! list them, the rules) and nothing else, so tests can check its output
//! with a strict parser. Writing the file atomically is [`write_atomic`].
//!
//! Naming follows the Prometheus conventions: every name starts with
//! `escguard_`; counters are families without a suffix whose one sample
//! ends in `_total`; durations are in seconds and the family name ends in
//! the unit (`escguard_hook_seconds` with a `# UNIT` line).

use crate::rules::RuleRow;
use crate::status::Status;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;

/// One rule's switch and match count, as `escguardctl rules list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMetric {
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub hits: u64,
}

impl From<&RuleRow> for RuleMetric {
    fn from(r: &RuleRow) -> Self {
        RuleMetric {
            name: r.name.clone(),
            kind: r.kind.clone(),
            enabled: r.enabled,
            hits: r.hits,
        }
    }
}

/// The OpenMetrics types we write: only those node_exporter's textfile
/// collector (Prometheus text format) also accepts.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
    fn suffix(self) -> &'static str {
        match self {
            Kind::Counter => "_total",
            Kind::Gauge => "",
        }
    }
}

/// A value as the format writes it. Nanosecond counts become exact
/// decimal seconds (no float rounding).
enum Val {
    Int(u64),
    Secs(u64),
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Int(v) => write!(f, "{v}"),
            Val::Secs(ns) => write!(f, "{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000),
        }
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Escapes HELP text: backslash and newline (OpenMetrics also escapes '"').
fn escape_help(v: &str) -> String {
    escape(v)
}

struct Out {
    text: String,
}

impl Out {
    fn family(
        &mut self,
        name: &str,
        kind: Kind,
        unit: Option<&str>,
        help: &str,
        samples: &[(Vec<(&str, String)>, Val)],
    ) {
        let t = &mut self.text;
        let _ = writeln!(t, "# TYPE {name} {}", kind.name());
        if let Some(u) = unit {
            let _ = writeln!(t, "# UNIT {name} {u}");
        }
        let _ = writeln!(t, "# HELP {name} {}", escape_help(help));
        for (labels, v) in samples {
            t.push_str(name);
            t.push_str(kind.suffix());
            if !labels.is_empty() {
                let l: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                let _ = write!(t, "{{{}}}", l.join(","));
            }
            let _ = writeln!(t, " {v}");
        }
    }

    fn one(&mut self, name: &str, kind: Kind, help: &str, v: u64) {
        self.family(name, kind, None, help, &[(vec![], Val::Int(v))]);
    }
}

/// The metrics of `st` (and of each rule in `rules`, if given) as an
/// OpenMetrics text exposition ending in `# EOF`.
pub fn render(st: &Status, rules: Option<&[RuleMetric]>) -> String {
    use Kind::{Counter, Gauge};
    let mut o = Out {
        text: String::new(),
    };
    // A gauge, not an OpenMetrics info family: node_exporter's textfile
    // collector reads the Prometheus text format, which refuses the whole
    // file on "# TYPE ... info".
    o.family(
        "escguard_build_info",
        Gauge,
        None,
        "Versions of the loaded module, its ABI and escguardctl (always 1)",
        &[(
            vec![
                ("module_version", st.module_version.clone()),
                (
                    "abi",
                    format!("{}.{}", st.module_abi.major, st.module_abi.minor),
                ),
                ("escguardctl_version", st.ctl_version.clone()),
            ],
            Val::Int(1),
        )],
    );
    o.family(
        "escguard_mode",
        Gauge,
        None,
        "1 for the active mode: enforce (escaping tasks are killed) or monitor (reported only)",
        &["enforce", "monitor"]
            .iter()
            .map(|m| {
                (
                    vec![("mode", m.to_string())],
                    Val::Int((st.mode == *m) as u64),
                )
            })
            .collect::<Vec<_>>(),
    );
    o.one(
        "escguard_locked",
        Gauge,
        "1 while rmmod of escguard is refused (escguardctl unlock allows it)",
        st.locked as u64,
    );
    o.family(
        "escguard_load_timestamp_seconds",
        Gauge,
        Some("seconds"),
        "When the module was loaded, in seconds since the epoch",
        &[(vec![], Val::Secs(st.loaded_ns))],
    );
    o.one(
        "escguard_probes_armed",
        Gauge,
        "Hooks (ftrace probes) registered",
        st.probes as u64,
    );
    o.one(
        "escguard_probes_missed",
        Counter,
        "Hook runs skipped (recursion)",
        st.hooks.missed,
    );
    o.one(
        "escguard_verdicts",
        Counter,
        "Escape verdicts reached",
        st.verdicts,
    );
    o.one(
        "escguard_kills",
        Counter,
        "SIGKILLs sent to escaping tasks",
        st.kills,
    );
    o.one(
        "escguard_denials",
        Counter,
        "Calls made to fail with EPERM",
        st.denials,
    );
    o.one(
        "escguard_events_emitted",
        Counter,
        "Events put in the ring",
        st.events.emitted,
    );
    o.one(
        "escguard_events_dropped",
        Counter,
        "Events lost: the ring was full of events the durable writer had not stored, or no memory",
        st.events.dropped,
    );
    o.one(
        "escguard_events_evicted",
        Counter,
        "Events overwritten before any durable writer stored them (no writer attached)",
        st.events.evicted,
    );
    o.one(
        "escguard_events_queued",
        Gauge,
        "Events the durable writer has not stored yet",
        st.events.queued,
    );
    o.one(
        "escguard_events_retained",
        Gauge,
        "Events held in the ring, readable by every reader",
        st.events.retained,
    );
    o.one(
        "escguard_event_writer_attached",
        Gauge,
        "1 while a durable writer (escguardctl tail --output) is attached",
        st.events.writer as u64,
    );
    o.one(
        "escguard_event_ring_capacity",
        Gauge,
        "Events the ring holds (ring_events parameter)",
        st.events.capacity,
    );
    o.family(
        "escguard_event_ring_bytes",
        Gauge,
        Some("bytes"),
        "Memory of the event ring",
        &[(vec![], Val::Int(st.events.ring_bytes))],
    );
    o.family(
        "escguard_tasks",
        Gauge,
        None,
        "Tasks in the table, by lineage",
        &[
            (vec![("lineage", "host".into())], Val::Int(st.tasks.host)),
            (
                vec![("lineage", "container".into())],
                Val::Int(st.tasks.container),
            ),
        ],
    );
    o.one(
        "escguard_table_capacity",
        Gauge,
        "Most tasks the table tracks (max_tasks parameter)",
        st.table.cap,
    );
    o.one(
        "escguard_table_full",
        Counter,
        "Tasks left untracked because the table was at its capacity",
        st.table.full,
    );
    o.one(
        "escguard_table_parent_judged",
        Counter,
        "Untracked tasks judged against their tracked parent",
        st.table.parent_judged,
    );
    o.one(
        "escguard_alloc_failures",
        Counter,
        "Table allocations that failed (never fatal)",
        st.alloc_failures,
    );
    o.one(
        "escguard_untracked",
        Counter,
        "Hook calls that met a task missing from the table",
        st.untracked,
    );
    o.one(
        "escguard_tid_swaps_lost",
        Counter,
        "Multi-threaded execs not re-keyed (swap slots full)",
        st.tid_swaps_lost,
    );
    let h = &st.hooks;
    let calls = [
        ("fork", h.fork),
        ("exec", h.exec),
        ("exit", h.exit),
        ("open", h.open),
        ("syscall", h.syscall),
        ("unload", h.unload),
    ];
    o.family(
        "escguard_hook_calls",
        Counter,
        None,
        "Hook invocations, per hook",
        &calls
            .iter()
            .map(|(k, v)| (vec![("hook", k.to_string())], Val::Int(*v)))
            .collect::<Vec<_>>(),
    );
    let secs = [
        ("fork", h.fork_ns),
        ("exec", h.exec_ns),
        ("exit", h.exit_ns),
        ("open", h.open_ns),
        ("syscall", h.syscall_ns),
    ];
    o.family(
        "escguard_hook_seconds",
        Counter,
        Some("seconds"),
        "Time spent in each hook (escguard's own cost; the open hook's is estimated from one call in 16)",
        &secs
            .iter()
            .map(|(k, v)| (vec![("hook", k.to_string())], Val::Secs(*v)))
            .collect::<Vec<_>>(),
    );
    o.one(
        "escguard_open_checked",
        Counter,
        "Opens by container tasks that the verdict and rules examined",
        h.open_checked,
    );
    o.one(
        "escguard_open_cached",
        Counter,
        "Examined opens found unchanged in the lock-free verdict cache",
        h.open_cached,
    );
    o.one(
        "escguard_open_judged",
        Counter,
        "Examined opens judged in full (namespaces, root or cwd changed)",
        h.open_judged,
    );
    o.one(
        "escguard_rule_matches",
        Counter,
        "Preset and policy rule matches, all rules (any action)",
        st.rule_hits,
    );
    o.one(
        "escguard_usermode_helper_checks",
        Counter,
        "Usermode-helper execs examined",
        st.umh_checked,
    );
    o.one(
        "escguard_tamper_attempts",
        Counter,
        "Container tasks refused use or unload of escguard",
        st.trust.tamper,
    );
    o.one(
        "escguard_denied_callers",
        Counter,
        "Host callers of /dev/escguard refused for lack of privilege",
        st.trust.denied,
    );
    o.one(
        "escguard_device_opens",
        Counter,
        "Successful opens of /dev/escguard",
        st.opens,
    );
    o.one(
        "escguard_ioctls",
        Counter,
        "ioctls answered by /dev/escguard",
        st.ioctls,
    );
    o.one(
        "escguard_presets_enabled",
        Gauge,
        "Preset rules enabled",
        st.rules_enabled.len() as u64,
    );
    o.one(
        "escguard_policy_rules",
        Gauge,
        "Rules of the loaded policy",
        st.policy_rules as u64,
    );
    if st.policy_loaded_ns != 0 {
        o.family(
            "escguard_policy_load_timestamp_seconds",
            Gauge,
            Some("seconds"),
            "When the policy was loaded, in seconds since the epoch (absent: built-in defaults)",
            &[(vec![], Val::Secs(st.policy_loaded_ns))],
        );
    }
    if let Some(rules) = rules {
        let label = |r: &RuleMetric| vec![("rule", r.name.clone()), ("kind", r.kind.clone())];
        o.family(
            "escguard_rule_enabled",
            Gauge,
            None,
            "1 if the rule is enabled",
            &rules
                .iter()
                .map(|r| (label(r), Val::Int(r.enabled as u64)))
                .collect::<Vec<_>>(),
        );
        o.family(
            "escguard_rule_hits",
            Counter,
            None,
            "Matches of each rule since module load (presets) or policy load (policy rules)",
            &rules
                .iter()
                .map(|r| (label(r), Val::Int(r.hits)))
                .collect::<Vec<_>>(),
        );
    }
    o.text.push_str("# EOF\n");
    o.text
}

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory, made durable, mode 0644, then renamed over `path`. A reader
/// (the textfile collector) sees the old file or the new one, never half.
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        // The umask may have taken bits away; the collector must read it.
        f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        f.write_all(text.as_bytes())?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;
    use std::collections::{BTreeMap, BTreeSet};

    /// A status with every counter set to a distinct value.
    fn sample() -> Status {
        let mut v = abi::escguard_version {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            ..Default::default()
        };
        for (d, s) in v.module_version.iter_mut().zip(b"1.2.3") {
            *d = *s as _;
        }
        let s = abi::escguard_status {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            mode: abi::ESCGUARD_MODE_ENFORCE,
            probes: 14,
            loaded_ns: 1_700_000_000_123_456_789,
            opens: 5,
            ioctls: 9,
            tasks_host: 120,
            tasks_container: 7,
            hook_fork: 1000,
            hook_exec: 900,
            hook_exit: 990,
            probes_missed: 1,
            verdicts: 4,
            kills: 3,
            events_emitted: 11,
            events_dropped: 2,
            events_queued: 6,
            alloc_failures: 8,
            untracked: 12,
            ring_capacity: 1024,
            tid_swaps_lost: 13,
            hook_ns_fork: 1_500_000_000,
            hook_ns_exec: 2_000_000_001,
            hook_ns_exit: 999,
            hook_unload: 2,
            locked: 1,
            events_gid: 998,
            table_cap: 65536,
            table_full: 15,
            parent_judged: 16,
            ring_bytes: 1_331_200,
            tamper: 17,
            denied: 18,
            hook_open: 123_456,
            hook_ns_open: 42_000_000,
            hook_syscall: 77,
            hook_ns_syscall: 7_700,
            rule_hits: 19,
            denials: 20,
            umh_checked: 21,
            rules_enabled: 0b111,
            policy_rules: 2,
            policy_loaded_ns: 1_700_000_100_000_000_000,
            open_checked: 22,
            open_judged: 23,
            open_cached: 24,
            ..Default::default()
        };
        Status::from_abi(&v, &s)
    }

    fn rules() -> Vec<RuleMetric> {
        vec![
            RuleMetric {
                name: "release_agent".into(),
                kind: "preset".into(),
                enabled: true,
                hits: 5,
            },
            RuleMetric {
                name: "no-\"etc\"\\x".into(),
                kind: "file".into(),
                enabled: false,
                hits: 0,
            },
        ]
    }

    /// One sample: name, labels, value.
    type Sample = (String, BTreeMap<String, String>, f64);

    fn is_name(s: &str) -> bool {
        let mut c = s.chars();
        matches!(c.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn is_label_name(s: &str) -> bool {
        let mut c = s.chars();
        matches!(c.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    /// Parses `{k="v",...}` (escapes \\ \" \n) up to the closing brace;
    /// returns the labels and the rest of the line.
    fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
        let mut labels = BTreeMap::new();
        let mut rest = &s[1..];
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        loop {
            let eq = rest.find('=').ok_or("label without '='")?;
            let k = &rest[..eq];
            if !is_label_name(k) {
                return Err(format!("bad label name {k:?}"));
            }
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            let mut v = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => v.push('\\'),
                        '"' => v.push('"'),
                        'n' => v.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (i, '"') => break i,
                    (_, c) => v.push(c),
                }
            };
            if labels.insert(k.to_string(), v).is_some() {
                return Err(format!("label {k} repeated"));
            }
            rest = &rest[end + 1..];
            if let Some(r) = rest.strip_prefix('}') {
                return Ok((labels, r));
            }
            rest = rest
                .strip_prefix(',')
                .ok_or("labels not separated by ','")?;
        }
    }

    /// A strict checker of the OpenMetrics text format for the subset we
    /// write (counter, gauge, info; no timestamps, exemplars or
    /// histograms). Returns the samples by family.
    fn check_openmetrics(text: &str) -> Result<BTreeMap<String, Vec<Sample>>, String> {
        let body = text
            .strip_suffix("# EOF\n")
            .ok_or("does not end with '# EOF' and a newline")?;
        if body.contains("# EOF") {
            return Err("'# EOF' before the end".into());
        }
        let mut families: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut current: Option<String> = None;
        let mut seen_samples: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
        for (n, line) in body.split('\n').enumerate() {
            let err = |m: String| format!("line {}: {m}: {line:?}", n + 1);
            if n + 1 == body.split('\n').count() {
                // After the last '\n' of the body.
                if !line.is_empty() {
                    return Err(err("text after the last newline".into()));
                }
                break;
            }
            if line.is_empty() {
                return Err(err("empty line".into()));
            }
            if let Some(meta) = line.strip_prefix("# ") {
                let mut parts = meta.splitn(3, ' ');
                let (what, name, arg) = (parts.next(), parts.next(), parts.next());
                let (Some(what), Some(name), Some(arg)) = (what, name, arg) else {
                    return Err(err("short metadata line".into()));
                };
                if !is_name(name) {
                    return Err(err("bad metric family name".into()));
                }
                if current.as_deref() != Some(name) {
                    if done.contains(name) || families.contains_key(name) {
                        return Err(err("family interleaved or repeated".into()));
                    }
                    if let Some(c) = current.take() {
                        done.insert(c);
                    }
                    current = Some(name.to_string());
                    families.insert(name.to_string(), Vec::new());
                }
                if !families[name].is_empty() {
                    return Err(err("metadata after the family's samples".into()));
                }
                match what {
                    "TYPE" => {
                        if !matches!(
                            arg,
                            "counter"
                                | "gauge"
                                | "info"
                                | "stateset"
                                | "unknown"
                                | "histogram"
                                | "gaugehistogram"
                                | "summary"
                        ) {
                            return Err(err("unknown type".into()));
                        }
                        if types.insert(name.to_string(), arg.to_string()).is_some() {
                            return Err(err("second TYPE".into()));
                        }
                    }
                    "UNIT" => {
                        if !name.ends_with(&format!("_{arg}")) {
                            return Err(err("family name does not end in its unit".into()));
                        }
                    }
                    "HELP" => {
                        if arg.contains('\n') {
                            return Err(err("raw newline in HELP".into()));
                        }
                    }
                    _ => return Err(err("unknown metadata".into())),
                }
                continue;
            }
            if line.starts_with('#') {
                return Err(err("comment other than # TYPE/UNIT/HELP/EOF".into()));
            }
            let name_end = line
                .find(['{', ' '])
                .ok_or_else(|| err("no value".into()))?;
            let sample_name = &line[..name_end];
            if !is_name(sample_name) {
                return Err(err("bad sample name".into()));
            }
            let (labels, rest) = if line[name_end..].starts_with('{') {
                parse_labels(&line[name_end..]).map_err(&err)?
            } else {
                (BTreeMap::new(), &line[name_end..])
            };
            let value = rest
                .strip_prefix(' ')
                .ok_or_else(|| err("no space before the value".into()))?;
            if value.contains(' ') {
                return Err(err("timestamp or exemplar (we write none)".into()));
            }
            let v: f64 = value
                .parse()
                .map_err(|_| err(format!("bad value {value:?}")))?;
            let family = current
                .clone()
                .ok_or_else(|| err("sample before any metadata".into()))?;
            let ty = types
                .get(&family)
                .ok_or_else(|| err("family has no TYPE".into()))?;
            let suffixes: &[&str] = match ty.as_str() {
                "counter" => &["_total", "_created"],
                "info" => &["_info"],
                "gauge" | "unknown" | "stateset" => &[""],
                _ => return Err(err("type we do not write".into())),
            };
            if !suffixes
                .iter()
                .any(|s| sample_name == format!("{family}{s}"))
            {
                return Err(err(format!(
                    "sample name does not fit {ty} family {family}"
                )));
            }
            if ty == "counter" && (v.is_nan() || v < 0.0) {
                return Err(err("negative or NaN counter".into()));
            }
            if ty == "info" && v != 1.0 {
                return Err(err("info value other than 1".into()));
            }
            let key = (
                sample_name.to_string(),
                labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            );
            if !seen_samples.insert(key) {
                return Err(err("sample repeated (same name and labels)".into()));
            }
            families
                .get_mut(&family)
                .unwrap()
                .push((sample_name.to_string(), labels, v));
        }
        for (name, samples) in &families {
            if samples.is_empty() {
                return Err(format!("family {name} has no samples"));
            }
            if !types.contains_key(name) {
                return Err(format!("family {name} has no TYPE"));
            }
        }
        Ok(families)
    }

    fn value(f: &BTreeMap<String, Vec<Sample>>, family: &str, label: Option<(&str, &str)>) -> f64 {
        let s = f
            .get(family)
            .unwrap_or_else(|| panic!("no family {family}"));
        s.iter()
            .find(|(_, l, _)| label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v)))
            .unwrap_or_else(|| panic!("no sample {family} {label:?}"))
            .2
    }

    #[test]
    fn output_is_strict_openmetrics_with_the_status_values() {
        let st = sample();
        let text = render(&st, Some(&rules()));
        let f = check_openmetrics(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(value(&f, "escguard_kills", None), 3.0);
        assert_eq!(value(&f, "escguard_verdicts", None), 4.0);
        assert_eq!(value(&f, "escguard_events_emitted", None), 11.0);
        assert_eq!(value(&f, "escguard_events_dropped", None), 2.0);
        assert_eq!(value(&f, "escguard_events_queued", None), 6.0);
        assert_eq!(value(&f, "escguard_table_capacity", None), 65536.0);
        assert_eq!(value(&f, "escguard_table_full", None), 15.0);
        assert_eq!(value(&f, "escguard_alloc_failures", None), 8.0);
        assert_eq!(value(&f, "escguard_untracked", None), 12.0);
        assert_eq!(value(&f, "escguard_probes_armed", None), 14.0);
        assert_eq!(value(&f, "escguard_locked", None), 1.0);
        assert_eq!(value(&f, "escguard_presets_enabled", None), 3.0);
        assert_eq!(value(&f, "escguard_policy_rules", None), 2.0);
        assert_eq!(value(&f, "escguard_mode", Some(("mode", "enforce"))), 1.0);
        assert_eq!(value(&f, "escguard_mode", Some(("mode", "monitor"))), 0.0);
        assert_eq!(
            value(&f, "escguard_tasks", Some(("lineage", "host"))),
            120.0
        );
        assert_eq!(
            value(&f, "escguard_hook_calls", Some(("hook", "open"))),
            123_456.0
        );
        assert_eq!(
            value(&f, "escguard_hook_seconds", Some(("hook", "fork"))),
            1.5
        );
        assert_eq!(
            value(&f, "escguard_hook_seconds", Some(("hook", "open"))),
            0.042
        );
        assert_eq!(
            value(&f, "escguard_rule_hits", Some(("rule", "release_agent"))),
            5.0
        );
        // A name that needs escaping survives the round trip.
        assert_eq!(
            value(&f, "escguard_rule_enabled", Some(("rule", "no-\"etc\"\\x"))),
            0.0
        );
        assert_eq!(
            value(&f, "escguard_load_timestamp_seconds", None),
            1_700_000_000.123_456_8
        );
        // Exact decimals, not float renderings.
        assert!(text.contains("escguard_hook_seconds_total{hook=\"exec\"} 2.000000001\n"));
        assert!(text.contains("escguard_load_timestamp_seconds 1700000000.123456789\n"));
        assert!(text.contains(
            "# TYPE escguard_kills counter\n# HELP escguard_kills SIGKILLs sent to escaping tasks\nescguard_kills_total 3\n"
        ));
        assert!(text.contains(
            "# TYPE escguard_hook_seconds counter\n# UNIT escguard_hook_seconds seconds\n"
        ));
        let info = &f["escguard_build_info"][0].1;
        assert_eq!(info["module_version"], "1.2.3");
    }

    #[test]
    fn node_exporter_can_read_it() {
        // The Prometheus text format (node_exporter's textfile collector)
        // knows counter and gauge; other '#' lines (UNIT, EOF) are comments
        // to it. No timestamps (the collector refuses them).
        let text = render(&sample(), Some(&rules()));
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                let ty = t.rsplit(' ').next().unwrap();
                assert!(ty == "counter" || ty == "gauge", "{line}");
            } else if !line.starts_with('#') {
                let value_part = line.rsplit('}').next().unwrap();
                assert_eq!(value_part.split(' ').count(), 2, "{line}");
            }
        }
    }

    #[test]
    fn every_counter_sample_ends_in_total_and_every_name_has_the_prefix() {
        let text = render(&sample(), Some(&rules()));
        let mut ty = "";
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                ty = t.rsplit(' ').next().unwrap();
                assert!(t.starts_with("escguard_"), "{line}");
            } else if !line.starts_with('#') {
                assert!(line.starts_with("escguard_"), "{line}");
                let name = line.split(['{', ' ']).next().unwrap();
                assert_eq!(ty == "counter", name.ends_with("_total"), "{line}");
            }
        }
    }

    #[test]
    fn without_rules_or_policy_those_families_are_absent() {
        let mut st = sample();
        st.policy_loaded_ns = 0;
        let text = render(&st, None);
        check_openmetrics(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(!text.contains("escguard_rule_hits"));
        assert!(!text.contains("escguard_policy_load_timestamp"));
    }

    #[test]
    fn the_checker_rejects_what_it_should() {
        let good = "# TYPE a counter\n# HELP a x\na_total 1\n# EOF\n";
        assert!(check_openmetrics(good).is_ok());
        for bad in [
            "# TYPE a counter\na_total 1\n",                          // no EOF
            "# TYPE a counter\na 1\n# EOF\n",                         // counter without _total
            "a 1\n# EOF\n",                                           // no metadata
            "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n", // interleaved
            "# TYPE a gauge\na{x=\"1} 1\n# EOF\n",                    // unterminated
            "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n# EOF\n",          // repeated label
            "# TYPE a gauge\na 1\na 2\n# EOF\n",                      // repeated sample
            "# TYPE a_bytes gauge\n# UNIT a_bytes seconds\na_bytes 1\n# EOF\n",
            "# TYPE a counter\na_total -1\n# EOF\n",
            "# TYPE a gauge\na 1\n\n# EOF\n",
            "# TYPE a gauge\na 1 123\n# EOF\n",
        ] {
            assert!(check_openmetrics(bad).is_err(), "accepted: {bad:?}");
        }
    }

    #[test]
    fn atomic_write_replaces_the_file_with_mode_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("escguard-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("escguard.prom");
        std::fs::write(&p, "old").unwrap();
        write_atomic(&p, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
