//! Event records from `/dev/escguard`: decoding and rendering as one text
//! line for people or one JSON object per line for machines.

use crate::abi;
use crate::container::{self, Container};
use crate::escape;
use crate::status::rfc3339_utc;
use serde::Serialize;

pub const NS_NAMES: [&str; abi::ESCGUARD_NS_COUNT as usize] = [
    "mnt",
    "pid",
    "pid_for_children",
    "net",
    "uts",
    "ipc",
    "cgroup",
    "user",
    "time",
];

#[derive(Debug, Serialize, PartialEq)]
pub struct FsId {
    /// Device as stat(2) reports st_dev, "major:minor".
    pub dev: String,
    pub ino: u64,
    pub mnt_id: u32,
    /// Path within that filesystem (from its root), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Origin {
    pub pid: u32,
    pub root: FsId,
}

/// The version of the JSON event shape (`schema/event.schema.json`):
/// bumped when a field changes meaning or goes away; new fields may appear
/// without a bump.
pub const SCHEMA_VERSION: u32 = 1;

/// The cgroup a task was in at the event, as the module recorded it.
#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct Cgroup {
    /// The cgroup v2 id (its directory's inode number in cgroupfs); 0: unknown.
    pub id: u64,
    /// Its path from the cgroup v2 root; a cut path ends in "...".
    pub path: String,
    /// Container tasks: the cgroup the runtime put the container in (at its
    /// first exec, before any container code ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_id: Option<u64>,
    /// That cgroup's path, while the task is still in it or below it: what
    /// the container is named by (not a sub-cgroup the container made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_path: Option<String>,
    /// The task has left the cgroup the runtime put it in: its container
    /// cannot be named from where it is now.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub moved: bool,
}

impl Cgroup {
    fn from_abi(id: u64, path: String, origin_id: u64, origin_level: u32) -> Cgroup {
        let moved = origin_id != 0 && origin_level == abi::ESCGUARD_CGROUP_MOVED;
        let origin_path = (origin_id != 0 && !moved)
            .then(|| path_prefix(&path, origin_level as usize))
            .flatten();
        Cgroup {
            id,
            path,
            origin_id: (origin_id != 0).then_some(origin_id),
            origin_path,
            moved,
        }
    }

    /// The path that names the task's container: the runtime's cgroup when
    /// known, else (host tasks, older records) the cgroup itself; none for
    /// a task that left its container's cgroup.
    pub fn naming_path(&self) -> Option<&str> {
        match (&self.origin_path, self.origin_id, self.moved) {
            (Some(p), _, _) => Some(p),
            (None, None, _) => Some(&self.path),
            _ => None,
        }
    }
}

/// The first `level` components of cgroup path `path` ("/" for 0); none if
/// the path (cut at the record's size) does not have them all.
fn path_prefix(path: &str, level: usize) -> Option<String> {
    if level == 0 {
        return Some("/".into());
    }
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let cut = path.ends_with("...");
    let whole = if cut {
        comps.len().saturating_sub(1)
    } else {
        comps.len()
    };
    (whole >= level).then(|| format!("/{}", comps[..level].join("/")))
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Event {
    pub schema_version: u32,
    /// The node the event happened on (filled in by the reader).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub seq: u64,
    /// When the module that emitted the event was loaded (its `loaded_ns`):
    /// with `seq`, a unique name for the event on this host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_ns: Option<u64>,
    pub time: String,
    pub time_ns: u64,
    pub hook: String,
    pub reason: String,
    pub action: String,
    pub pid: u32,
    pub tgid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub comm: String,
    pub exe: String,
    pub cgroup: Cgroup,
    /// The container the cgroup belongs to, by the runtimes' conventions;
    /// absent for host tasks and unknown layouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// What the call aimed at (tamper: the device operation or module name).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// The rule that matched (reason "rule"); absent when none did.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rule: String,
    /// The matching rule's ESCGUARD_RULE_* id (4294967295: a policy rule);
    /// present exactly when `rule` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<u32>,
    /// The observed syscall (hook "syscall"); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// The call was made to fail with EPERM.
    pub denied: bool,
    /// Namespace kinds that the container had separate and that are now the host's.
    pub escaped_ns: Vec<String>,
    /// "root" and/or "cwd": which lies on the host's filesystem.
    pub escaped_fs: Vec<String>,
    /// The container's namespaces ("mnt:[4026532201]"), per kind.
    pub ns_before: std::collections::BTreeMap<String, String>,
    /// The task's namespaces at the verdict.
    pub ns_after: std::collections::BTreeMap<String, String>,
    pub root: FsId,
    pub cwd: FsId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Names of ESCGUARD_SYS_* values (index = value; 0 is "none").
pub const SYSCALL_NAMES: [&str; abi::ESCGUARD_SYS_COUNT as usize] = [
    "none",
    "open_by_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "setns",
    "unshare",
    "pivot_root",
    "chroot",
    "mount",
    "fsopen",
    "fsmount",
    "move_mount",
    "ptrace",
];

/// The name of an ESCGUARD_SYS_* value; `None` for ESCGUARD_SYS_NONE.
pub fn syscall_name(v: u32) -> Option<String> {
    match v {
        abi::ESCGUARD_SYS_NONE => None,
        v => Some(
            SYSCALL_NAMES
                .get(v as usize)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("unknown({v})")),
        ),
    }
}

fn name(v: u32, table: &[(u32, &str)]) -> String {
    table
        .iter()
        .find(|(k, _)| *k == v)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("unknown({v})"))
}

fn dev_str(dev: u64) -> String {
    // new_encode_dev(): minor low 8 bits and bits 20+, major bits 8..19.
    let major = (dev >> 8) & 0xfff;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    format!("{major}:{minor}")
}

pub fn fsid(id: &abi::escguard_fsid, path: Option<String>) -> FsId {
    FsId {
        dev: dev_str(id.dev),
        ino: id.ino,
        mnt_id: id.mnt_id,
        path,
    }
}

pub fn ns_map(
    ns: &[u64; abi::ESCGUARD_NS_COUNT as usize],
) -> std::collections::BTreeMap<String, String> {
    NS_NAMES
        .iter()
        .zip(ns.iter())
        .filter(|(_, &v)| v != 0)
        .map(|(n, v)| {
            // /proc/PID/ns shows pid_for_children as a "pid:[...]" link.
            let kind = if *n == "pid_for_children" { "pid" } else { n };
            (n.to_string(), format!("{kind}:[{v}]"))
        })
        .collect()
}

/// One value of a text line's `key=value` fields: escaped as
/// [`escape::text`] does, and a space as `\x20`, a `"` as `\"`, so that what
/// a container controls cannot end its field and start another.
pub fn field(s: &str) -> std::borrow::Cow<'_, str> {
    let t = escape::text(s);
    if !t.contains([' ', '"']) {
        return t;
    }
    t.replace(' ', "\\x20").replace('"', "\\\"").into()
}

/// "runtime:ID" for people: a 64-hex ID shortened to 12 as `docker ps`
/// shows it (JSON has the whole ID).
pub fn container_label(c: &Container) -> String {
    let long_hex = c.id.len() == 64 && c.id.bytes().all(|b| b.is_ascii_hexdigit());
    let id = if long_hex { &c.id[..12] } else { &c.id };
    format!("{}:{}", c.runtime, field(id))
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Event {
    pub fn from_abi(e: &abi::escguard_event) -> Event {
        let escaped_ns = NS_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| e.ns_mask & (1 << i) != 0)
            .map(|(_, n)| n.to_string())
            .collect();
        let mut escaped_fs = Vec::new();
        if e.fs_mask & abi::ESCGUARD_FSE_ROOT != 0 {
            escaped_fs.push("root".to_string());
        }
        if e.fs_mask & abi::ESCGUARD_FSE_CWD != 0 {
            escaped_fs.push("cwd".to_string());
        }
        let rule = abi::cstr_field(&e.rule);
        let cgroup = Cgroup::from_abi(
            e.cgroup_id,
            abi::cstr_field(&e.cgroup),
            e.origin_cgroup_id,
            e.origin_cgroup_level,
        );
        Event {
            schema_version: SCHEMA_VERSION,
            hostname: None,
            container: cgroup.naming_path().and_then(container::from_cgroup),
            cgroup,
            seq: e.seq,
            load_ns: None,
            time: rfc3339_utc(e.time_ns),
            time_ns: e.time_ns,
            hook: name(
                e.hook,
                &[
                    (abi::ESCGUARD_HOOK_FORK, "fork"),
                    (abi::ESCGUARD_HOOK_EXEC, "exec"),
                    (abi::ESCGUARD_HOOK_EXIT, "exit"),
                    (abi::ESCGUARD_HOOK_DEVICE, "device"),
                    (abi::ESCGUARD_HOOK_UNLOAD, "unload"),
                    (abi::ESCGUARD_HOOK_OPEN, "open"),
                    (abi::ESCGUARD_HOOK_SYSCALL, "syscall"),
                    (abi::ESCGUARD_HOOK_MOUNT, "mount"),
                    (abi::ESCGUARD_HOOK_PTRACE, "ptrace"),
                    (abi::ESCGUARD_HOOK_CONNECT, "connect"),
                    (abi::ESCGUARD_HOOK_RECEIVE, "receive"),
                    (abi::ESCGUARD_HOOK_WRITE, "write"),
                ],
            ),
            reason: name(
                e.reason,
                &[
                    (abi::ESCGUARD_REASON_NS_ESCAPE, "namespace-escape"),
                    (abi::ESCGUARD_REASON_ROOT_ESCAPE, "root-escape"),
                    (abi::ESCGUARD_REASON_TAMPER, "tamper"),
                    (abi::ESCGUARD_REASON_RULE, "rule"),
                    (abi::ESCGUARD_REASON_USERMODE_HELPER, "usermode-helper"),
                    (abi::ESCGUARD_REASON_HOST_OBJECT, "host-object"),
                    (abi::ESCGUARD_REASON_HOST_EXEC, "host-exec"),
                    (abi::ESCGUARD_REASON_CONFIG, "config"),
                ],
            ),
            action: name(
                e.action,
                &[
                    (abi::ESCGUARD_ACTION_LOGGED, "logged"),
                    (abi::ESCGUARD_ACTION_KILLED, "killed"),
                ],
            ),
            pid: e.pid,
            tgid: e.tgid,
            ppid: e.ppid,
            uid: e.uid,
            comm: abi::cstr_field(&e.comm),
            exe: abi::cstr_field(&e.exe),
            target: abi::cstr_field(&e.target),
            rule: rule.clone(),
            rule_id: (!rule.is_empty()).then_some(e.rule_id),
            syscall: syscall_name(e.syscall),
            denied: e.flags & abi::ESCGUARD_EVF_DENIED != 0,
            escaped_ns,
            escaped_fs,
            ns_before: ns_map(&e.ns_before),
            ns_after: ns_map(&e.ns_after),
            root: fsid(&e.root, nonempty(abi::cstr_field(&e.root_path))),
            cwd: fsid(&e.cwd, nonempty(abi::cstr_field(&e.cwd_path))),
            origin: (e.origin_pid != 0).then(|| Origin {
                pid: e.origin_pid,
                root: fsid(&e.origin_root, None),
            }),
        }
    }

    /// Adds the container's names from the runtime's state on this host
    /// (best effort: a container that is gone keeps its ID only).
    pub fn enrich(&mut self) {
        if let Some(c) = self.container.as_mut() {
            container::enrich(c, std::path::Path::new("/"));
        }
    }

    /// One line for people: time, action, reason, who, what changed.
    pub fn to_text(&self) -> String {
        // What matched and whether the call was refused come right after
        // the colon: the most important facts of a rule event.
        // Fields a container controls (comm, exe, paths, targets) are
        // escaped: no newline or terminal control sequence gets through, and
        // no space or quote, so that a value cannot forge a key=value field.
        let esc = field;
        let mut head = String::new();
        if !self.rule.is_empty() {
            head.push_str(&format!("rule={} ", esc(&self.rule)));
        }
        if let Some(sc) = &self.syscall {
            head.push_str(&format!("syscall={sc} "));
        }
        if self.denied {
            head.push_str("denied ");
        }
        let mut s = format!(
            "{} {} {} at {}: {head}pid={} ppid={} uid={} comm={}",
            self.time,
            self.action.to_uppercase(),
            self.reason,
            self.hook,
            self.pid,
            self.ppid,
            self.uid,
            esc(&self.comm)
        );
        if let Some(c) = &self.container {
            s.push_str(&format!(" container={}", container_label(c)));
            if let Some(n) = &c.name {
                s.push_str(&format!(" name={}", esc(n)));
            }
            if let Some(p) = &c.pod {
                let ns = c.namespace.as_deref().unwrap_or("?");
                s.push_str(&format!(" pod={}/{}", esc(ns), esc(p)));
            }
        } else if self.cgroup.moved {
            s.push_str(&format!(
                " container=? (left its cgroup {}) cgroup={}",
                self.cgroup.origin_id.unwrap_or(0),
                esc(&self.cgroup.path)
            ));
        } else if !self.cgroup.path.is_empty() {
            s.push_str(&format!(" cgroup={}", esc(&self.cgroup.path)));
        }
        if !self.exe.is_empty() {
            s.push_str(&format!(" exe={}", esc(&self.exe)));
        }
        if !self.target.is_empty() {
            s.push_str(&format!(" target=\"{}\"", esc(&self.target)));
        }
        for k in &self.escaped_ns {
            let before = self.ns_before.get(k).map(String::as_str).unwrap_or("?");
            let after = self.ns_after.get(k).map(String::as_str).unwrap_or("?");
            s.push_str(&format!(" {k}:{before}->{after}(host)"));
        }
        let show = |f: &FsId| {
            format!(
                "{} (dev {} ino {})",
                esc(f.path.as_deref().unwrap_or("?")),
                f.dev,
                f.ino
            )
        };
        s.push_str(&format!(
            " root={} cwd={}",
            show(&self.root),
            show(&self.cwd)
        ));
        if !self.escaped_fs.is_empty() {
            s.push_str(&format!(" on-host-fs={}", self.escaped_fs.join(",")));
        }
        if let Some(o) = &self.origin {
            s.push_str(&format!(
                " container-origin=pid {} root dev {} ino {}",
                o.pid, o.root.dev, o.root.ino
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> abi::escguard_event {
        let mut e = abi::escguard_event {
            seq: 7,
            time_ns: 1_700_000_000_000_000_000,
            hook: abi::ESCGUARD_HOOK_EXEC,
            reason: abi::ESCGUARD_REASON_NS_ESCAPE,
            action: abi::ESCGUARD_ACTION_KILLED,
            pid: 42,
            tgid: 42,
            ppid: 41,
            origin_pid: 40,
            ns_mask: (1 << abi::ESCGUARD_NS_MNT) | (1 << abi::ESCGUARD_NS_NET),
            fs_mask: abi::ESCGUARD_FSE_ROOT,
            ..Default::default()
        };
        e.ns_before[abi::ESCGUARD_NS_MNT as usize] = 4026532201;
        e.ns_after[abi::ESCGUARD_NS_MNT as usize] = 4026531841;
        e.ns_before[abi::ESCGUARD_NS_NET as usize] = 4026532205;
        e.ns_after[abi::ESCGUARD_NS_NET as usize] = 4026531840;
        e.root.dev = 0xfe00; // 254:0
        e.root.ino = 2;
        for (d, s) in e.comm.iter_mut().zip(b"cat") {
            *d = *s as _;
        }
        for (d, s) in e.exe.iter_mut().zip(b"/bin/cat") {
            *d = *s as _;
        }
        for (d, s) in e.root_path.iter_mut().zip(b"/") {
            *d = *s as _;
        }
        e
    }

    #[test]
    fn decodes_names_masks_and_namespaces() {
        let ev = Event::from_abi(&sample());
        assert_eq!(ev.hook, "exec");
        assert_eq!(ev.reason, "namespace-escape");
        assert_eq!(ev.action, "killed");
        assert_eq!(ev.escaped_ns, vec!["mnt", "net"]);
        assert_eq!(ev.escaped_fs, vec!["root"]);
        assert_eq!(ev.ns_before["mnt"], "mnt:[4026532201]");
        assert_eq!(ev.ns_after["net"], "net:[4026531840]");
        assert_eq!(ev.root.dev, "254:0");
        assert_eq!(ev.root.path.as_deref(), Some("/"));
        assert_eq!(ev.cwd.path, None);
        assert_eq!(ev.origin.as_ref().map(|o| o.pid), Some(40));
    }

    #[test]
    fn text_line_names_task_reason_and_changes() {
        let t = Event::from_abi(&sample()).to_text();
        assert!(
            t.starts_with(
                "2023-11-14T22:13:20.000Z KILLED namespace-escape at exec: pid=42 ppid=41"
            ),
            "{t}"
        );
        assert!(t.contains("comm=cat exe=/bin/cat"), "{t}");
        assert!(
            t.contains("mnt:mnt:[4026532201]->mnt:[4026531841](host)"),
            "{t}"
        );
        assert!(t.contains("on-host-fs=root"), "{t}");
        assert!(!t.contains("rule=") && !t.contains("denied"), "{t}");
        assert!(!t.contains('\n'));
    }

    #[test]
    fn json_line_is_one_object() {
        let j = serde_json::to_string(&Event::from_abi(&sample())).unwrap();
        assert!(!j.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["pid"], 42);
        assert_eq!(v["escaped_ns"][1], "net");
        assert_eq!(v["origin"]["pid"], 40);
        assert!(v["cwd"].get("path").is_none());
        // ABI 1/2 field names are unchanged.
        for k in [
            "seq",
            "time",
            "time_ns",
            "hook",
            "reason",
            "action",
            "pid",
            "tgid",
            "ppid",
            "uid",
            "comm",
            "exe",
            "escaped_ns",
            "escaped_fs",
            "ns_before",
            "ns_after",
            "root",
            "cwd",
        ] {
            assert!(v.get(k).is_some(), "{k} missing: {j}");
        }
    }

    /// A small JSON Schema check (the keywords ctl/schema/event.schema.json
    /// uses): every event we write must validate against the schema we
    /// publish, and the schema must not promise fields we never write.
    fn check(
        schema: &serde_json::Value,
        root: &serde_json::Value,
        v: &serde_json::Value,
        at: &str,
    ) {
        use serde_json::Value as J;
        let schema = match schema.get("$ref").and_then(J::as_str) {
            Some(r) => root
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{at}: bad $ref {r}")),
            None => schema,
        };
        if let Some(c) = schema.get("const") {
            assert_eq!(v, c, "{at}: const");
        }
        if let Some(e) = schema.get("enum").and_then(J::as_array) {
            assert!(e.contains(v), "{at}: {v} not in {e:?}");
        }
        match schema.get("type").and_then(J::as_str) {
            Some("object") => assert!(v.is_object(), "{at}: not an object"),
            Some("string") => assert!(v.is_string(), "{at}: not a string"),
            Some("integer") => assert!(v.is_u64() || v.is_i64(), "{at}: not an integer"),
            Some("boolean") => assert!(v.is_boolean(), "{at}: not a boolean"),
            Some("array") => assert!(v.is_array(), "{at}: not an array"),
            Some(t) => panic!("{at}: type {t} unchecked"),
            None => {}
        }
        if let Some(obj) = v.as_object() {
            let props = schema.get("properties").and_then(J::as_object);
            for r in schema
                .get("required")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap();
                assert!(obj.contains_key(r), "{at}: required {r} missing");
            }
            for (k, val) in obj {
                let sub = props.and_then(|p| p.get(k));
                match (sub, schema.get("additionalProperties")) {
                    (Some(sub), _) => check(sub, root, val, &format!("{at}.{k}")),
                    (None, Some(J::Bool(false))) => panic!("{at}: {k} not in the schema"),
                    (None, Some(extra)) => check(extra, root, val, &format!("{at}.{k}")),
                    (None, None) => {}
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                check(items, root, x, &format!("{at}[{i}]"));
            }
        }
    }

    #[test]
    fn events_validate_against_the_published_schema() {
        let text = include_str!("../schema/event.schema.json");
        let schema: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut raw = rule_sample();
        put(&mut raw.cgroup, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b4d8a5e_1c2f_4e7a_9f3b_2d6c8e1a7f40.slice/cri-containerd-4f6c2a3b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a.scope");
        raw.cgroup_id = 7301;
        let mut ev = Event::from_abi(&raw);
        ev.load_ns = Some(1);
        ev.hostname = Some("node-1".into());
        assert!(ev.container.is_some());
        let v = serde_json::to_value(&ev).unwrap();
        check(&schema, &schema, &v, "event");
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["cgroup"]["id"], 7301);
        // A host task: no container, still valid.
        let v = serde_json::to_value(Event::from_abi(&sample())).unwrap();
        assert!(v.get("container").is_none());
        check(&schema, &schema, &v, "event");
        // Every property the schema lists is one we write.
        let props = schema["properties"].as_object().unwrap();
        let written = serde_json::to_value(&ev).unwrap();
        for k in props.keys() {
            let optional = ["origin", "rule", "rule_id", "syscall", "target"];
            assert!(
                written.get(k).is_some() || optional.contains(&k.as_str()),
                "{k} never written"
            );
        }
    }

    #[test]
    fn text_line_names_the_container_and_escapes_what_it_controls() {
        let mut raw = rule_sample();
        put(&mut raw.cgroup, "/system.slice/docker-4f6c2a3b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a.scope");
        put(&mut raw.comm, "ev\nil\u{1b}[31m");
        put(&mut raw.target, "/tmp/\u{1b}]0;owned\u{7}");
        let line = Event::from_abi(&raw).to_text();
        assert!(
            !line.contains('\n') && !line.contains('\u{1b}') && !line.contains('\u{7}'),
            "{line:?}"
        );
        assert!(line.contains("container=docker:4f6c2a3b1d9e"), "{line}");
        // A host task's line names its cgroup instead.
        let mut raw = sample();
        put(&mut raw.cgroup, "/system.slice/sshd.service");
        let line = Event::from_abi(&raw).to_text();
        assert!(
            line.contains(" cgroup=/system.slice/sshd.service"),
            "{line}"
        );
    }

    #[test]
    fn the_container_is_named_by_the_cgroup_the_runtime_gave_it() {
        // A container that made a sub-cgroup named like a pod's container
        // and moved into it is still named by its own cgroup.
        let mut raw = rule_sample();
        put(&mut raw.cgroup, "/rt4sub/kubepods/besteffort/pod0c2d4e6f-1a3b-4c5d-8e9f-0a1b2c3d4e5f/3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718");
        raw.origin_cgroup_id = 77;
        raw.origin_cgroup_level = 1;
        let ev = Event::from_abi(&raw);
        let c = ev.container.as_ref().expect("named");
        assert_eq!((c.runtime, c.id.as_str()), ("runc", "rt4sub"));
        assert_eq!(ev.cgroup.origin_path.as_deref(), Some("/rt4sub"));
        assert!(
            ev.to_text().contains(" container=runc:rt4sub "),
            "{}",
            ev.to_text()
        );
        // One that moved into another container's or a host service's
        // cgroup names no container, and says so.
        put(&mut raw.cgroup, "/system.slice/docker-4f6c2a3b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a.scope");
        raw.origin_cgroup_level = abi::ESCGUARD_CGROUP_MOVED;
        let ev = Event::from_abi(&raw);
        assert!(ev.container.is_none());
        assert!(ev.cgroup.moved);
        let line = ev.to_text();
        assert!(
            line.contains(" container=? (left its cgroup 77) cgroup=/system.slice/docker-"),
            "{line}"
        );
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["cgroup"]["moved"], true);
        assert!(v.get("container").is_none());
        // A root-level origin and a cut path.
        assert_eq!(path_prefix("/a/b", 0).as_deref(), Some("/"));
        assert_eq!(path_prefix("/a/b/c", 2).as_deref(), Some("/a/b"));
        assert_eq!(path_prefix("/a/b...", 2), None);
        assert_eq!(path_prefix("/a/b/c...", 2).as_deref(), Some("/a/b"));
    }

    #[test]
    fn text_fields_cannot_forge_fields() {
        let mut raw = rule_sample();
        put(&mut raw.comm, "x container=web");
        put(&mut raw.target, "/dev/shm/a\" exe=\"/bin/fake");
        let line = Event::from_abi(&raw).to_text();
        assert_eq!(line.matches(" container=").count(), 0, "{line}");
        assert!(line.contains("comm=x\\x20container=web"), "{line}");
        assert!(
            line.contains("target=\"/dev/shm/a\\\"\\x20exe=\\\"/bin/fake"),
            "{line}"
        );
        assert_eq!(field("plain"), "plain");
    }

    #[test]
    fn unknown_codes_are_shown_not_hidden() {
        let mut e = sample();
        e.reason = 99;
        e.hook = 42;
        e.syscall = 77;
        let ev = Event::from_abi(&e);
        assert_eq!(ev.reason, "unknown(99)");
        assert_eq!(ev.hook, "unknown(42)");
        assert_eq!(ev.syscall.as_deref(), Some("unknown(77)"));
    }

    fn put(dst: &mut [std::os::raw::c_char], s: &str) {
        for (d, b) in dst.iter_mut().zip(s.bytes()) {
            *d = b as _;
        }
    }

    /// A preset rule's event: core_pattern written from a container, denied.
    fn rule_sample() -> abi::escguard_event {
        let mut e = sample();
        e.hook = abi::ESCGUARD_HOOK_OPEN;
        e.reason = abi::ESCGUARD_REASON_RULE;
        e.ns_mask = 0;
        e.fs_mask = 0;
        e.rule_id = abi::ESCGUARD_RULE_CORE_PATTERN;
        e.flags = abi::ESCGUARD_EVF_DENIED;
        put(&mut e.rule, "core_pattern");
        put(&mut e.target, "/proc/sys/kernel/core_pattern");
        e
    }

    #[test]
    fn abi3_hook_reason_and_syscall_names() {
        let mut e = sample();
        for (hook, want) in [
            (abi::ESCGUARD_HOOK_OPEN, "open"),
            (abi::ESCGUARD_HOOK_SYSCALL, "syscall"),
            (abi::ESCGUARD_HOOK_MOUNT, "mount"),
            (abi::ESCGUARD_HOOK_PTRACE, "ptrace"),
            (abi::ESCGUARD_HOOK_CONNECT, "connect"),
            (abi::ESCGUARD_HOOK_RECEIVE, "receive"),
            (abi::ESCGUARD_HOOK_WRITE, "write"),
        ] {
            e.hook = hook;
            assert_eq!(Event::from_abi(&e).hook, want);
        }
        e.reason = abi::ESCGUARD_REASON_RULE;
        assert_eq!(Event::from_abi(&e).reason, "rule");
        e.reason = abi::ESCGUARD_REASON_USERMODE_HELPER;
        assert_eq!(Event::from_abi(&e).reason, "usermode-helper");
        assert_eq!(syscall_name(abi::ESCGUARD_SYS_NONE), None);
        let all: Vec<String> = (1..abi::ESCGUARD_SYS_COUNT)
            .map(|v| syscall_name(v).unwrap())
            .collect();
        assert_eq!(
            all,
            [
                "open_by_handle_at",
                "init_module",
                "finit_module",
                "delete_module",
                "setns",
                "unshare",
                "pivot_root",
                "chroot",
                "mount",
                "fsopen",
                "fsmount",
                "move_mount",
                "ptrace"
            ]
        );
        assert_eq!(
            syscall_name(abi::ESCGUARD_SYS_PIVOT_ROOT).unwrap(),
            "pivot_root"
        );
        assert_eq!(
            syscall_name(abi::ESCGUARD_SYS_MOVE_MOUNT).unwrap(),
            "move_mount"
        );
    }

    #[test]
    fn rule_event_fields_in_json_and_text() {
        let ev = Event::from_abi(&rule_sample());
        assert_eq!(ev.rule, "core_pattern");
        assert_eq!(ev.rule_id, Some(abi::ESCGUARD_RULE_CORE_PATTERN));
        assert!(ev.denied);
        assert_eq!(ev.syscall, None);
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["rule"], "core_pattern");
        assert_eq!(v["rule_id"], 1);
        assert_eq!(v["denied"], true);
        assert_eq!(v["reason"], "rule");
        assert_eq!(v["hook"], "open");
        assert!(v.get("syscall").is_none());
        let t = ev.to_text();
        assert!(
            t.starts_with(
                "2023-11-14T22:13:20.000Z KILLED rule at open: rule=core_pattern denied pid=42 ppid=41"
            ),
            "{t}"
        );
        assert!(
            t.contains(" target=\"/proc/sys/kernel/core_pattern\""),
            "{t}"
        );
    }

    #[test]
    fn policy_rule_and_syscall_event() {
        let mut e = rule_sample();
        e.hook = abi::ESCGUARD_HOOK_SYSCALL;
        e.syscall = abi::ESCGUARD_SYS_MOUNT;
        e.rule_id = abi::ESCGUARD_RULE_POLICY;
        e.flags = 0;
        e.action = abi::ESCGUARD_ACTION_LOGGED;
        e.rule = [0; abi::ESCGUARD_NAME_LEN as usize];
        put(&mut e.rule, "no-host-dev-mounts");
        let ev = Event::from_abi(&e);
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["rule_id"], 4294967295u32);
        assert_eq!(v["syscall"], "mount");
        assert_eq!(v["denied"], false);
        let t = ev.to_text();
        assert!(
            t.contains("LOGGED rule at syscall: rule=no-host-dev-mounts syscall=mount pid=42"),
            "{t}"
        );
        assert!(!t.contains("denied"), "{t}");
    }

    #[test]
    fn events_without_a_rule_omit_rule_fields() {
        let ev = Event::from_abi(&sample());
        let v = serde_json::to_value(&ev).unwrap();
        assert!(v.get("rule").is_none());
        assert!(v.get("rule_id").is_none());
        assert!(v.get("syscall").is_none());
        assert_eq!(v["denied"], false);
        // The rule_id of release_agent (0) is not shown for non-rule events.
        assert_eq!(ev.rule_id, None);
    }

    #[test]
    fn dev_encoding_matches_stat() {
        assert_eq!(dev_str(0x800), "8:0");
        assert_eq!(dev_str(0xfe01), "254:1");
        // minor 256 of major 259 (nvme partitions go high).
        assert_eq!(dev_str((259 << 8) | (256 << 12)), "259:256");
    }
}

/// One task-table entry, for `escguardctl tasks`.
#[derive(Debug, Serialize, PartialEq)]
pub struct Task {
    pub pid: u32,
    pub tgid: u32,
    pub ppid: u32,
    pub comm: String,
    pub lineage: String,
    /// Container lineage: its origin (settled at the container's first exec).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<TaskOrigin>,
    pub escaped: bool,
    pub ns: std::collections::BTreeMap<String, String>,
    pub root: FsId,
    pub cwd: FsId,
    pub cgroup: Cgroup,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TaskOrigin {
    pub pid: u32,
    pub settled: bool,
    pub ns: std::collections::BTreeMap<String, String>,
    pub root: FsId,
}

impl Task {
    pub fn from_abi(t: &abi::escguard_task) -> Task {
        let container = t.lineage == abi::ESCGUARD_LINEAGE_CONTAINER;
        Task {
            pid: t.pid,
            tgid: t.tgid,
            ppid: t.ppid,
            comm: abi::cstr_field(&t.comm),
            lineage: if container { "container" } else { "host" }.into(),
            origin: container.then(|| TaskOrigin {
                pid: t.origin_pid,
                settled: t.flags & abi::ESCGUARD_TASK_SETTLED != 0,
                ns: ns_map(&t.origin_ns),
                root: fsid(&t.origin_root, None),
            }),
            escaped: t.flags & abi::ESCGUARD_TASK_ESCAPED != 0,
            ns: ns_map(&t.ns),
            root: fsid(&t.root, None),
            cwd: fsid(&t.cwd, None),
            container: container::from_cgroup(&abi::cstr_field(&t.cgroup)),
            cgroup: Cgroup::from_abi(t.cgroup_id, abi::cstr_field(&t.cgroup), 0, 0),
        }
    }

    pub const TEXT_HEADER: &'static str = "    PID    TGID    PPID LINEAGE   ORIGIN  ESC COMM             MNT-NS       PID-NS       ROOT(dev:ino) CONTAINER";

    pub fn to_text(&self) -> String {
        let num = |k: &str| {
            self.ns
                .get(k)
                .and_then(|v| v.split('[').nth(1))
                .map(|v| v.trim_end_matches(']').to_string())
                .unwrap_or_else(|| "-".into())
        };
        format!(
            "{:>7} {:>7} {:>7} {:<9} {:>7} {:<3} {:<16} {:<12} {:<12} {:<13} {}",
            self.pid,
            self.tgid,
            self.ppid,
            self.lineage,
            self.origin.as_ref().map_or("-".to_string(), |o| {
                if o.settled {
                    o.pid.to_string()
                } else {
                    "(new)".into()
                }
            }),
            if self.escaped { "yes" } else { "-" },
            field(&self.comm),
            num("mnt"),
            num("pid"),
            format!("{}:{}", self.root.dev, self.root.ino),
            self.container
                .as_ref()
                .map_or_else(|| "-".to_string(), container_label)
        )
    }
}

#[cfg(test)]
mod task_tests {
    use super::*;

    #[test]
    fn task_rows_show_lineage_and_origin() {
        let mut t = abi::escguard_task {
            pid: 120,
            tgid: 120,
            ppid: 100,
            lineage: abi::ESCGUARD_LINEAGE_CONTAINER,
            origin_pid: 110,
            flags: abi::ESCGUARD_TASK_SETTLED,
            ..Default::default()
        };
        t.ns[abi::ESCGUARD_NS_MNT as usize] = 4026532201;
        t.root.dev = 0xfe00;
        t.root.ino = 96;
        for (d, s) in t.comm.iter_mut().zip(b"sh") {
            *d = *s as _;
        }
        let task = Task::from_abi(&t);
        assert_eq!(task.lineage, "container");
        assert!(task.origin.as_ref().unwrap().settled);
        let row = task.to_text();
        assert!(row.contains(" container "), "{row}");
        assert!(row.contains(" 110 "), "{row}");
        assert!(row.contains("4026532201"), "{row}");
        assert!(row.contains(" 254:0:96 "), "{row}");
        let j = serde_json::to_value(&task).unwrap();
        assert_eq!(j["origin"]["pid"], 110);
        assert_eq!(j["escaped"], false);
        t.lineage = abi::ESCGUARD_LINEAGE_HOST;
        assert!(serde_json::to_value(Task::from_abi(&t))
            .unwrap()
            .get("origin")
            .is_none());
    }
}
