//! Policy files: parsing with precise errors, validation, and conversion to
//! and from the ABI's `escguard_policy` / `escguard_policy_rule`.
//!
//! # The policy file format (version 2)
//!
//! A policy file is one JSON object:
//!
//! ```json
//! {
//!   "version": 2,
//!   "name": "web-tier",
//!   "runtime_sockets": ["/run/containerd/containerd.sock"],
//!   "rules": [
//!     {"name": "no-shadow", "type": "file", "path": "/etc/shadow", "match": "exact", "access": ["read", "write"]},
//!     {"name": "no-proc-sys-write", "type": "file", "path": "/proc/sys", "match": "prefix", "access": ["write"], "enabled": true},
//!     {"name": "no-host-dev-mounts", "type": "mount", "source": "/dev", "match": "prefix"},
//!     {"name": "no-overlay", "type": "mount", "fstype": "overlay"},
//!     {"name": "no-mnt-target", "type": "mount", "target": "/mnt", "match": "prefix"},
//!     {"name": "web-no-passwd", "type": "file", "path": "/etc/passwd", "access": ["write"],
//!      "scope": {"container": "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"}},
//!     {"name": "watch-kube-sys", "type": "file", "path": "/sys", "match": "prefix", "access": ["write"],
//!      "action": "monitor", "scope": {"cgroup": "/kubepods.slice/kubepods-besteffort.slice"}}
//!   ]
//! }
//! ```
//!
//! Top level (an unknown field anywhere is an error, and so is a key given
//! twice in one object):
//!
//! * `version` (required): the integer 2 (`ESCGUARD_POLICY_VERSION`); 1 is
//!   read too (a version 1 file is a version 2 file whose rules have no
//!   `action` and no `scope`; either in a version 1 file is an error).
//!   Files are written as version 2.
//! * `name` (optional): 1..63 bytes of UTF-8 without control characters;
//!   shown by `policy show`. Absent: the file's name (truncated).
//! * `runtime_sockets` (optional): 0..8 (`ESCGUARD_POLICY_SOCKETS_MAX`)
//!   distinct paths (not `/`) of runtime control sockets for the
//!   `runtime_socket` preset, replacing the module's defaults; `[]` protects
//!   none. Absent: the defaults (`ESCGUARD_DEFAULT_SOCKETS`), which
//!   escguardctl sends explicitly (the module reads `socket_count` 0 as
//!   "none").
//! * `rules` (required): 0..64 (`ESCGUARD_POLICY_RULES_MAX`) rule objects.
//!
//! A rule:
//!
//! * `name` (required): 1..31 bytes of `[A-Za-z0-9_.-]`, unique in the
//!   file, not a preset's name (`escguardctl rules list`).
//! * `type` (required): `"file"` (a file a container task may not open)
//!   or `"mount"` (a mount a container task may not make).
//! * file rules: `path` (required) and `access` (required): a non-empty
//!   list of distinct `"read"` and `"write"`: which opens match.
//! * mount rules: exactly one of `source`, `target` (paths as the task
//!   names them) or `fstype` (1..63 bytes of `[a-z0-9._-]`; a mount by the
//!   new mount API has the file system type as its source).
//! * `match` (optional): `"exact"` (default) or `"prefix"`: a path prefix on
//!   a component boundary (`/a` matches `/a` and `/a/b`, not `/ab`); not
//!   allowed with `fstype`.
//! * `enabled` (optional): boolean, default true.
//! * `action` (optional): `"enforce"` (default: as the module's mode says,
//!   refuse and kill in enforce mode, report in monitor mode) or
//!   `"monitor"` (report only, even in enforce mode).
//! * `scope` (optional): which container tasks the rule applies to;
//!   absent: every task of container lineage. `{"container": ID}`: tasks
//!   whose cgroup v2 path has a component naming the container (the ID, or
//!   `docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope`,
//!   `libpod-ID.scope`); the ID is `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`.
//!   `{"cgroup": PATH}`: tasks in that cgroup or below (on a component
//!   boundary); PATH is from the cgroup v2 root as `/proc/PID/cgroup` shows
//!   it after `0::` (not under `/sys/fs/cgroup`), normalised like every
//!   path below.
//!
//! Every path (`path`, `source`, `target`, `runtime_sockets`) is absolute,
//! shorter than 256 bytes, without NUL, and normalised: no `//`, no
//! trailing `/` (except `/` itself), no `.` or `..` component.
//!
//! Errors name the JSON path of the offending value (`rules[2].access[1]`);
//! JSON syntax errors give line and column. Everything is checked before
//! anything is sent to the module, which checks again and keeps its active
//! policy if anything is wrong.

use crate::abi;
use crate::rules;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use std::fmt;

/// The policy file format, for `escguardctl policy --help`.
pub const FORMAT_HELP: &str = r#"Policy file format (JSON, version 2):

  {
    "version": 2,
    "name": "web-tier",
    "runtime_sockets": ["/run/containerd/containerd.sock"],
    "rules": [
      {"name": "no-shadow", "type": "file", "path": "/etc/shadow",
       "match": "exact", "access": ["read", "write"]},
      {"name": "no-proc-sys-write", "type": "file", "path": "/proc/sys",
       "match": "prefix", "access": ["write"], "enabled": true},
      {"name": "no-host-dev-mounts", "type": "mount", "source": "/dev", "match": "prefix"},
      {"name": "no-overlay", "type": "mount", "fstype": "overlay"},
      {"name": "no-mnt-target", "type": "mount", "target": "/mnt", "match": "prefix"},
      {"name": "web-no-passwd", "type": "file", "path": "/etc/passwd", "access": ["write"],
       "scope": {"container": "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"}},
      {"name": "watch-kube-sys", "type": "file", "path": "/sys", "match": "prefix",
       "access": ["write"], "action": "monitor",
       "scope": {"cgroup": "/kubepods.slice/kubepods-besteffort.slice"}}
    ]
  }

  version          required; 2 (1 is read too: version 1 rules have no action or scope)
  name             optional; 1..63 bytes, no control characters (default: the file's name)
  runtime_sockets  optional; up to 8 distinct socket paths that the runtime_socket preset
                   protects, replacing the module's defaults ([] protects none; absent:
                   the defaults /run/containerd/containerd.sock, /run/docker.sock,
                   /run/crio/crio.sock, /run/podman/podman.sock)
  rules            required; 0..64 rules:
    name           required; 1..31 bytes of A-Z a-z 0-9 _ . -; unique; not a preset's name
    type           required; "file" (an open a container task may not make) or
                   "mount" (a mount a container task may not make)
    path, access   file rules: the path, and a non-empty list of "read" and/or "write"
    source | target | fstype
                   mount rules: exactly one; fstype is 1..63 bytes of a-z 0-9 . _ -
    match          "exact" (default) or "prefix" (on a component boundary: "/a" matches
                   "/a" and "/a/b", not "/ab"); fstype matches exactly
    enabled        true (default) or false
    action         "enforce" (default: as the module's mode says) or "monitor" (report
                   only, even in enforce mode)
    scope          absent (default): every container task;
                   {"container": ID}: the container's tasks (ID: 1..128 of A-Z a-z 0-9 _ . -,
                   starting with a letter or digit; matched against cgroup path components
                   ID, docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope);
                   {"cgroup": PATH}: tasks in that cgroup v2 path or below (from the cgroup
                   root, as /proc/PID/cgroup shows it after "0::")

  Paths are absolute, under 256 bytes, normalised (no "//", no trailing "/", no "." or
  ".." components). Unknown fields and repeated keys are errors. Rules apply to tasks
  of container lineage (in their scope); in enforce mode a matching call of an
  "enforce" rule fails with EPERM and the task is killed; otherwise it is reported.
  Files larger than 64 MiB are refused.

  A file that fails validation is not sent to the module: the active policy stays.
  'policy show --json' prints the active policy in this format ('policy load' takes it
  back)."#;

/// How a pattern is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact,
    Prefix,
}

impl Match {
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Exact => "exact",
            Match::Prefix => "prefix",
        }
    }
    fn abi(self) -> u32 {
        match self {
            Match::Exact => abi::ESCGUARD_MATCH_EXACT,
            Match::Prefix => abi::ESCGUARD_MATCH_PREFIX,
        }
    }
}

/// Which field of a mount a mount rule tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountField {
    Source,
    Target,
    Fstype,
}

impl MountField {
    pub fn as_str(self) -> &'static str {
        match self {
            MountField::Source => "source",
            MountField::Target => "target",
            MountField::Fstype => "fstype",
        }
    }
    fn flag(self) -> u32 {
        match self {
            MountField::Source => abi::ESCGUARD_PF_SOURCE,
            MountField::Target => abi::ESCGUARD_PF_TARGET,
            MountField::Fstype => abi::ESCGUARD_PF_FSTYPE,
        }
    }
}

/// What a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    File {
        path: String,
        matching: Match,
        read: bool,
        write: bool,
    },
    Mount {
        field: MountField,
        pattern: String,
        matching: Match,
    },
}

/// What a match of a rule does (`ESCGUARD_RACT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// As the module's mode says: refuse and kill in enforce mode, report
    /// in monitor mode.
    #[default]
    Enforce,
    /// Report only, in every mode.
    Monitor,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Monitor => "monitor",
        }
    }
    fn abi(self) -> u32 {
        match self {
            Action::Enforce => abi::ESCGUARD_RACT_ENFORCE,
            Action::Monitor => abi::ESCGUARD_RACT_MONITOR,
        }
    }
}

/// Which container tasks a rule applies to (`ESCGUARD_SCOPE_*`); the module
/// judges it against the task's cgroup v2 path from the cgroup root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every task of container lineage.
    #[default]
    All,
    /// Tasks whose cgroup path has a component naming this container: the
    /// ID itself, or `<prefix>-ID` / `<prefix>-ID.scope` (docker-,
    /// cri-containerd-, crio-, libpod-).
    Container(String),
    /// Tasks in this cgroup or below it (prefix on a component boundary).
    Cgroup(String),
}

impl Scope {
    /// A container scope, validated (`check_container_id`).
    pub fn container(id: &str) -> Result<Scope, String> {
        check_container_id(id).map(|()| Scope::Container(id.to_string()))
    }

    /// A cgroup scope, validated (`check_cgroup_path`).
    pub fn cgroup(path: &str) -> Result<Scope, String> {
        check_cgroup_path(path).map(|()| Scope::Cgroup(path.to_string()))
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    /// "every container task", "container 3f2a4b5c6d7e…", "cgroup /a/b".
    /// IDs longer than 12 characters are shortened (as `docker ps` does);
    /// the file format and the module always carry the whole ID.
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "every container task".into(),
            Scope::Container(id) => format!("container {}", short_id(id)),
            Scope::Cgroup(p) => format!("cgroup {}", crate::escape::text(p)),
        }
    }

    /// "container <id>" / "cgroup <path>" with the whole ID.
    pub fn describe_full(&self) -> String {
        match self {
            Scope::All => "every container task".into(),
            Scope::Container(id) => format!("container {}", crate::escape::text(id)),
            Scope::Cgroup(p) => format!("cgroup {}", crate::escape::text(p)),
        }
    }
}

/// The first 12 characters of a long container ID, and "…".
pub fn short_id(id: &str) -> String {
    let id = crate::escape::text(id);
    if id.chars().count() > 12 {
        format!("{}…", id.chars().take(12).collect::<String>())
    } else {
        id.into_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub spec: Spec,
    pub enabled: bool,
    pub action: Action,
    pub scope: Scope,
}

impl Rule {
    /// "file" or "mount".
    pub fn kind(&self) -> &'static str {
        match self.spec {
            Spec::File { .. } => "file",
            Spec::Mount { .. } => "mount",
        }
    }

    /// One line for people: "open for write of /proc/sys or below", and
    /// when not the defaults " [monitor]" and " in container 3f2a4b5c6d7e…" /
    /// " in cgroup /kubepods.slice/...".
    pub fn describe(&self) -> String {
        let mut d = self.describe_match();
        if self.action == Action::Monitor {
            d.push_str(" [monitor]");
        }
        if !self.scope.is_all() {
            d.push_str(" in ");
            d.push_str(&self.scope.describe());
        }
        d
    }

    /// What the rule matches, without its action and scope.
    pub fn describe_match(&self) -> String {
        match &self.spec {
            Spec::File {
                path,
                matching,
                read,
                write,
            } => {
                let how = match (read, write) {
                    (true, true) => "open for read or write of",
                    (true, false) => "open for read of",
                    _ => "open for write of",
                };
                match matching {
                    Match::Exact => format!("{how} {path}"),
                    Match::Prefix => format!("{how} {} or below", path),
                }
            }
            Spec::Mount {
                field,
                pattern,
                matching,
            } => match (field, matching) {
                (MountField::Fstype, _) => format!("mount of file system type {pattern}"),
                (f, Match::Exact) => format!("mount with {} {pattern}", f.as_str()),
                (f, Match::Prefix) => format!("mount with {} {pattern} or below", f.as_str()),
            },
        }
    }

    /// The access list of a file rule ("read", "write").
    pub fn access(&self) -> Vec<&'static str> {
        match self.spec {
            Spec::File { read, write, .. } => {
                let mut v = Vec::new();
                if read {
                    v.push("read");
                }
                if write {
                    v.push("write");
                }
                v
            }
            Spec::Mount { .. } => Vec::new(),
        }
    }
}

/// A policy as the file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub name: Option<String>,
    /// `None`: the module's defaults.
    pub runtime_sockets: Option<Vec<String>>,
    pub rules: Vec<Rule>,
}

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path ("rules[2].access[1]"); empty for the top level.
    pub path: String,
    /// Line and column, for JSON syntax errors.
    pub line_col: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line_col, self.path.as_str()) {
            (Some((l, c)), _) => write!(f, "line {l}, column {c}: {}", self.message),
            (None, "") => write!(f, "top level: {}", self.message),
            (None, p) => write!(f, "{p}: {}", self.message),
        }
    }
}

// ---------------------------------------------------------------------------
// A JSON tree that keeps key order and refuses repeated keys.

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    UInt(u64),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn what(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::UInt(_) | Json::Int(_) | Json::Float(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "an array",
            Json::Obj(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::UInt(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Int(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v: Vec<(String, Json)> = Vec::new();
                while let Some(k) = a.next_key::<String>()? {
                    if v.iter().any(|(seen, _)| *seen == k) {
                        return Err(de::Error::custom(format!(
                            "the key \"{k}\" appears twice in one object"
                        )));
                    }
                    let x = a.next_value()?;
                    v.push((k, x));
                }
                Ok(Json::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Validation.

const TOP_FIELDS: &[&str] = &["version", "name", "runtime_sockets", "rules"];
const FILE_FIELDS: &[&str] = &[
    "name", "type", "path", "access", "match", "enabled", "action", "scope",
];
const MOUNT_FIELDS: &[&str] = &[
    "name", "type", "source", "target", "fstype", "match", "enabled", "action", "scope",
];
const ANY_RULE_FIELDS: &[&str] = &[
    "name", "type", "path", "access", "source", "target", "fstype", "match", "enabled", "action",
    "scope",
];
const SCOPE_FIELDS: &[&str] = &["container", "cgroup"];

/// The policy file versions this escguardctl reads: 1 (no action or scope)
/// and 2 (`ESCGUARD_POLICY_VERSION`). It writes 2.
pub const VERSIONS: &[u64] = &[1, 2];
/// Longest container ID.
pub const CONTAINER_ID_MAX: usize = 128;

/// Longest policy name: it travels NUL-terminated in 64 bytes.
pub const NAME_MAX: usize = abi::ESCGUARD_NAME_LEN as usize * 2 - 1;
/// Longest rule name: NUL-terminated in 32 bytes.
pub const RULE_NAME_MAX: usize = abi::ESCGUARD_NAME_LEN as usize - 1;
/// Longest path or pattern: NUL-terminated in 256 bytes.
pub const PATH_MAX: usize = abi::ESCGUARD_PATH_LEN as usize - 1;
/// Longest file system type name.
pub const FSTYPE_MAX: usize = 63;

struct Checker {
    problems: Vec<Problem>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

impl Checker {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            line_col: None,
            message: message.into(),
        });
    }

    fn expect_obj<'a>(&mut self, path: &str, v: &'a Json) -> Option<&'a [(String, Json)]> {
        match v {
            Json::Obj(o) => Some(o),
            other => {
                self.err(path, format!("expected an object, found {}", other.what()));
                None
            }
        }
    }

    fn unknown_fields(&mut self, path: &str, obj: &[(String, Json)], allowed: &[&str], what: &str) {
        for (k, _) in obj {
            if !allowed.contains(&k.as_str()) {
                self.err(
                    &join(path, k),
                    format!(
                        "unknown field in {what} (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn string<'a>(&mut self, path: &str, v: &'a Json) -> Option<&'a str> {
        match v {
            Json::Str(s) => Some(s),
            other => {
                self.err(path, format!("expected a string, found {}", other.what()));
                None
            }
        }
    }

    fn path_value(&mut self, path: &str, v: &Json) -> Option<String> {
        let s = self.string(path, v)?;
        match check_path(s) {
            Ok(()) => Some(s.to_string()),
            Err(m) => {
                self.err(path, m);
                None
            }
        }
    }
}

fn get<'a>(obj: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    obj.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Checks that `s` is an absolute, normalised path that fits the ABI.
pub fn check_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must be an absolute path, found an empty string".into());
    }
    if s.contains('\0') {
        return Err("must not contain a NUL character".into());
    }
    let raw = s;
    let s = crate::escape::text(raw);
    if !raw.starts_with('/') {
        return Err(format!(
            "\"{s}\" is not an absolute path (it must start with \"/\")"
        ));
    }
    if raw.len() > PATH_MAX {
        return Err(format!(
            "is {} bytes long; at most {PATH_MAX} bytes fit",
            raw.len()
        ));
    }
    if raw.contains("//") {
        return Err(format!("\"{s}\" is not normalised: it contains \"//\""));
    }
    if raw.len() > 1 && raw.ends_with('/') {
        return Err(format!("\"{s}\" is not normalised: it ends with \"/\""));
    }
    if raw.split('/').any(|c| c == "." || c == "..") {
        return Err(format!(
            "\"{s}\" is not normalised: it has a \".\" or \"..\" component"
        ));
    }
    Ok(())
}

/// Checks a rule name: 1..31 bytes of [A-Za-z0-9_.-], not a preset's.
pub fn check_rule_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > RULE_NAME_MAX {
        return Err(format!(
            "\"{s}\" is {} bytes long; at most {RULE_NAME_MAX} bytes",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "\"{s}\" contains {c:?}; rule names use only A-Z a-z 0-9 _ . -"
        ));
    }
    if rules::preset_by_name(s).is_some() {
        return Err(format!(
            "\"{s}\" is the name of a preset; choose another name"
        ));
    }
    Ok(())
}

/// Checks a container ID: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}` (what runc,
/// containerd, CRI-O and Podman accept; Docker's are 64 hex digits).
pub fn check_container_id(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > CONTAINER_ID_MAX {
        return Err(format!(
            "is {} bytes long; container IDs have at most {CONTAINER_ID_MAX}",
            s.len()
        ));
    }
    let shown = crate::escape::text(s);
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "\"{shown}\" contains {c:?}; container IDs use only A-Z a-z 0-9 _ . -"
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "\"{shown}\" starts with {:?}; container IDs start with a letter or digit",
            s.chars().next().unwrap_or_default()
        ));
    }
    Ok(())
}

/// Checks a cgroup v2 path as the module compares it: from the cgroup
/// root (not a cgroupfs mount point like /sys/fs/cgroup), absolute,
/// normalised (no `//`, no `.` or `..` component, no trailing `/`), and
/// shorter than `ESCGUARD_PATH_LEN`.
pub fn check_cgroup_path(s: &str) -> Result<(), String> {
    check_path(s)?;
    if s == "/sys/fs/cgroup" || s.starts_with("/sys/fs/cgroup/") {
        return Err(format!(
            "\"{}\" is where cgroupfs is mounted, not a cgroup path: give the path from the \
             cgroup root (as /proc/PID/cgroup shows it after \"0::\")",
            crate::escape::text(s)
        ));
    }
    Ok(())
}

/// Checks a policy name: 1..63 bytes of UTF-8 without control characters.
pub fn check_policy_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty (omit it to use the file's name)".into());
    }
    if s.len() > NAME_MAX {
        return Err(format!(
            "is {} bytes long; at most {NAME_MAX} bytes",
            s.len()
        ));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

fn check_fstype(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > FSTYPE_MAX {
        return Err(format!(
            "is {} bytes long; at most {FSTYPE_MAX} bytes",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "\"{s}\" contains {c:?}; file system types use only a-z 0-9 . _ -"
        ));
    }
    Ok(())
}

/// Parses and validates a policy file's text. All problems are reported,
/// in document order.
pub fn parse(text: &str) -> Result<Policy, Vec<Problem>> {
    let json: Json = serde_json::from_str(text).map_err(|e| {
        let (line, col, message) = json_error(&e);
        vec![Problem {
            path: String::new(),
            line_col: Some((line, col)),
            message,
        }]
    })?;
    let mut c = Checker {
        problems: Vec::new(),
    };
    let policy = check_policy(&mut c, &json);
    if c.problems.is_empty() {
        Ok(policy.expect("no problems means a policy"))
    } else {
        Err(c.problems)
    }
}

/// A JSON parse error as (line, column, message): columns count from 1
/// (serde_json says 0 at the start of a line), and the message has no
/// position of its own.
pub fn json_error(e: &serde_json::Error) -> (usize, usize, String) {
    let s = e.to_string();
    let bare = match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let message = match e.classify() {
        serde_json::error::Category::Eof => format!("the JSON text ends too early ({bare})"),
        serde_json::error::Category::Data => bare,
        _ => format!("invalid JSON: {bare}"),
    };
    (e.line(), e.column().max(1), message)
}

fn check_policy(c: &mut Checker, json: &Json) -> Option<Policy> {
    let obj = c.expect_obj("", json)?;
    c.unknown_fields("", obj, TOP_FIELDS, "the policy");

    // Unknown or absent: judge the rules by the newest format.
    let mut version = abi::ESCGUARD_POLICY_VERSION as u64;
    match get(obj, "version") {
        None => c.err(
            "version",
            format!(
                "missing; this format is version {}",
                abi::ESCGUARD_POLICY_VERSION
            ),
        ),
        Some(Json::UInt(v)) if VERSIONS.contains(v) => version = *v,
        Some(v @ (Json::UInt(_) | Json::Int(_) | Json::Float(_))) => c.err(
            "version",
            format!(
                "unsupported version {}; this escguardctl reads versions 1 and {}",
                match v {
                    Json::UInt(n) => n.to_string(),
                    Json::Int(n) => n.to_string(),
                    Json::Float(n) => n.to_string(),
                    _ => unreachable!(),
                },
                abi::ESCGUARD_POLICY_VERSION
            ),
        ),
        Some(other) => c.err(
            "version",
            format!("expected a number, found {}", other.what()),
        ),
    }

    let mut name = None;
    if let Some(v) = get(obj, "name") {
        if let Some(s) = c.string("name", v) {
            match check_policy_name(s) {
                Ok(()) => name = Some(s.to_string()),
                Err(m) => c.err("name", m),
            }
        }
    }

    let mut runtime_sockets = None;
    if let Some(v) = get(obj, "runtime_sockets") {
        runtime_sockets = check_sockets(c, v);
    }

    let mut rules_out = Vec::new();
    match get(obj, "rules") {
        None => c.err(
            "rules",
            "missing; give a list of rules (it may be empty: [])",
        ),
        Some(Json::Arr(list)) => {
            if list.len() > abi::ESCGUARD_POLICY_RULES_MAX as usize {
                c.err(
                    "rules",
                    format!(
                        "has {} rules; the module holds at most {}",
                        list.len(),
                        abi::ESCGUARD_POLICY_RULES_MAX
                    ),
                );
            }
            let mut names: Vec<(String, usize)> = Vec::new();
            for (i, r) in list.iter().enumerate() {
                let path = index("rules", i);
                if let Some(rule) = check_rule(c, &path, r, version) {
                    if let Some((_, first)) = names.iter().find(|(n, _)| *n == rule.name) {
                        c.err(
                            &join(&path, "name"),
                            format!("\"{}\" is already the name of rules[{first}]", rule.name),
                        );
                    } else {
                        names.push((rule.name.clone(), i));
                    }
                    rules_out.push(rule);
                }
            }
        }
        Some(other) => c.err(
            "rules",
            format!("expected an array, found {}", other.what()),
        ),
    }

    Some(Policy {
        name,
        runtime_sockets,
        rules: rules_out,
    })
}

fn check_sockets(c: &mut Checker, v: &Json) -> Option<Vec<String>> {
    let Json::Arr(list) = v else {
        c.err(
            "runtime_sockets",
            format!("expected an array of paths, found {}", v.what()),
        );
        return None;
    };
    let max = abi::ESCGUARD_POLICY_SOCKETS_MAX as usize;
    if list.len() > max {
        c.err(
            "runtime_sockets",
            format!("has {} sockets; the module holds at most {max}", list.len()),
        );
    }
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, s) in list.iter().enumerate() {
        let path = index("runtime_sockets", i);
        match c.path_value(&path, s) {
            Some(p) if p == "/" => {
                c.err(&path, "\"/\" is a directory, not a socket");
                ok = false;
            }
            Some(p) => {
                if let Some(first) = out.iter().position(|q| *q == p) {
                    c.err(
                        &path,
                        format!("\"{p}\" is already runtime_sockets[{first}]"),
                    );
                    ok = false;
                }
                out.push(p);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn check_rule(c: &mut Checker, path: &str, v: &Json, version: u64) -> Option<Rule> {
    let obj = c.expect_obj(path, v)?;
    let before = c.problems.len();

    let kind = match get(obj, "type") {
        None => {
            c.err(&join(path, "type"), "missing; \"file\" or \"mount\"");
            None
        }
        Some(t) => match c.string(&join(path, "type"), t) {
            Some("file") => Some("file"),
            Some("mount") => Some("mount"),
            Some(other) => {
                c.err(
                    &join(path, "type"),
                    format!("\"{other}\" is not a rule type (expected \"file\" or \"mount\")"),
                );
                None
            }
            None => None,
        },
    };
    let (allowed, what) = match kind {
        Some("file") => (FILE_FIELDS, "a file rule"),
        Some("mount") => (MOUNT_FIELDS, "a mount rule"),
        _ => (ANY_RULE_FIELDS, "a rule"),
    };
    for (k, _) in obj {
        let p = join(path, k);
        if allowed.contains(&k.as_str()) {
            continue;
        }
        if ANY_RULE_FIELDS.contains(&k.as_str()) {
            let hint = if kind == Some("file") {
                "file rules take path and access"
            } else {
                "mount rules take one of source, target or fstype"
            };
            c.err(&p, format!("not allowed in {what} ({hint})"));
        } else {
            c.err(
                &p,
                format!(
                    "unknown field in {what} (expected one of: {})",
                    allowed.join(", ")
                ),
            );
        }
    }

    let name = match get(obj, "name") {
        None => {
            c.err(&join(path, "name"), "missing");
            None
        }
        Some(n) => c
            .string(&join(path, "name"), n)
            .and_then(|s| match check_rule_name(s) {
                Ok(()) => Some(s.to_string()),
                Err(m) => {
                    c.err(&join(path, "name"), m);
                    None
                }
            }),
    };

    let enabled = match get(obj, "enabled") {
        None => true,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            c.err(
                &join(path, "enabled"),
                format!("expected true or false, found {}", other.what()),
            );
            true
        }
    };

    let matching = match get(obj, "match") {
        None => Some(Match::Exact),
        Some(m) => match c.string(&join(path, "match"), m) {
            Some("exact") => Some(Match::Exact),
            Some("prefix") => Some(Match::Prefix),
            Some(other) => {
                c.err(
                    &join(path, "match"),
                    format!("\"{other}\" is not a match kind (expected \"exact\" or \"prefix\")"),
                );
                None
            }
            None => None,
        },
    };

    let spec = match kind {
        Some("file") => check_file_rule(c, path, obj, matching),
        Some("mount") => check_mount_rule(c, path, obj, matching),
        _ => None,
    };

    let mut action = Action::Enforce;
    let mut scope = Scope::All;
    for key in ["action", "scope"] {
        let Some(v) = get(obj, key) else { continue };
        let kp = join(path, key);
        if version < 2 {
            c.err(
                &kp,
                format!(
                    "not allowed in a version {version} policy: rules have an action and a scope \
                     from version 2 on (set \"version\": 2)"
                ),
            );
        } else if key == "action" {
            match c.string(&kp, v) {
                Some("enforce") => action = Action::Enforce,
                Some("monitor") => action = Action::Monitor,
                Some(other) => c.err(
                    &kp,
                    format!("\"{other}\" is not an action (expected \"enforce\" or \"monitor\")"),
                ),
                None => {}
            }
        } else if let Some(s) = check_scope(c, &kp, v) {
            scope = s;
        }
    }

    if c.problems.len() != before {
        return None;
    }
    Some(Rule {
        name: name?,
        spec: spec?,
        enabled,
        action,
        scope,
    })
}

fn check_scope(c: &mut Checker, path: &str, v: &Json) -> Option<Scope> {
    let Json::Obj(obj) = v else {
        c.err(
            path,
            format!(
                "expected an object ({{\"container\": ID}} or {{\"cgroup\": PATH}}), found {}",
                v.what()
            ),
        );
        return None;
    };
    c.unknown_fields(path, obj, SCOPE_FIELDS, "a scope");
    let present: Vec<&(String, Json)> = obj
        .iter()
        .filter(|(k, _)| SCOPE_FIELDS.contains(&k.as_str()))
        .collect();
    let (key, value) = match present.as_slice() {
        [] => {
            if obj.is_empty() {
                c.err(
                    path,
                    "needs one of container or cgroup (omit scope for every container task)",
                );
            }
            return None;
        }
        [(k, v)] => (k.as_str(), v),
        [(first, _), rest @ ..] => {
            for (k, _) in rest {
                c.err(
                    &join(path, k),
                    format!("a scope names only one of container or cgroup, and this one already has {first}"),
                );
            }
            return None;
        }
    };
    let kp = join(path, key);
    let s = c.string(&kp, value)?;
    let r = if key == "container" {
        Scope::container(s)
    } else {
        Scope::cgroup(s)
    };
    r.map_err(|m| c.err(&kp, m)).ok()
}

fn check_file_rule(
    c: &mut Checker,
    path: &str,
    obj: &[(String, Json)],
    matching: Option<Match>,
) -> Option<Spec> {
    let file = match get(obj, "path") {
        None => {
            c.err(&join(path, "path"), "missing; file rules need a path");
            None
        }
        Some(p) => c.path_value(&join(path, "path"), p),
    };
    let ap = join(path, "access");
    let access = match get(obj, "access") {
        None => {
            c.err(&ap, "missing; a list of \"read\" and/or \"write\"");
            None
        }
        Some(Json::Arr(list)) if list.is_empty() => {
            c.err(
                &ap,
                "must not be empty; a list of \"read\" and/or \"write\"",
            );
            None
        }
        Some(Json::Arr(list)) => {
            let (mut read, mut write, mut ok) = (false, false, true);
            for (i, a) in list.iter().enumerate() {
                let p = index(&ap, i);
                let seen = match c.string(&p, a) {
                    Some("read") => std::mem::replace(&mut read, true),
                    Some("write") => std::mem::replace(&mut write, true),
                    Some(other) => {
                        c.err(
                            &p,
                            format!(
                                "\"{other}\" is not an access (expected \"read\" or \"write\")"
                            ),
                        );
                        ok = false;
                        continue;
                    }
                    None => {
                        ok = false;
                        continue;
                    }
                };
                if seen {
                    c.err(&p, "is listed twice");
                    ok = false;
                }
            }
            ok.then_some((read, write))
        }
        Some(other) => {
            c.err(
                &ap,
                format!(
                    "expected an array of \"read\" and/or \"write\", found {}",
                    other.what()
                ),
            );
            None
        }
    };
    let (read, write) = access?;
    Some(Spec::File {
        path: file?,
        matching: matching?,
        read,
        write,
    })
}

fn check_mount_rule(
    c: &mut Checker,
    path: &str,
    obj: &[(String, Json)],
    matching: Option<Match>,
) -> Option<Spec> {
    let present: Vec<(MountField, &Json)> =
        [MountField::Source, MountField::Target, MountField::Fstype]
            .into_iter()
            .filter_map(|f| get(obj, f.as_str()).map(|v| (f, v)))
            .collect();
    let (field, v) = match present.as_slice() {
        [] => {
            c.err(path, "a mount rule needs one of source, target or fstype");
            return None;
        }
        [one] => *one,
        [first, rest @ ..] => {
            for (f, _) in rest {
                c.err(
                    &join(path, f.as_str()),
                    format!(
                        "a mount rule tests only one of source, target or fstype, and this one already has {}",
                        first.0.as_str()
                    ),
                );
            }
            return None;
        }
    };
    let fp = join(path, field.as_str());
    let pattern = if field == MountField::Fstype {
        let s = c.string(&fp, v)?;
        if let Err(m) = check_fstype(s) {
            c.err(&fp, m);
            return None;
        }
        if matching == Some(Match::Prefix) {
            c.err(
                &join(path, "match"),
                "\"prefix\" is not allowed with fstype (file system types match exactly)",
            );
            return None;
        }
        s.to_string()
    } else {
        c.path_value(&fp, v)?
    };
    Some(Spec::Mount {
        field,
        pattern,
        matching: matching?,
    })
}

// ---------------------------------------------------------------------------
// The file format, written.

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_sockets: Option<&'a [String]>,
    rules: Vec<RuleOut<'a>>,
}

#[derive(Serialize)]
struct RuleOut<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fstype: Option<&'a str>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    matching: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access: Option<Vec<&'static str>>,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<ScopeOut<'a>>,
}

#[derive(Serialize)]
struct ScopeOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cgroup: Option<&'a str>,
}

/// The policy in the file format, version 2 (pretty-printed, ending in a
/// newline; the default action and scope are left out):
/// `parse(&to_json(p)) == Ok(p)`.
pub fn to_json(p: &Policy) -> String {
    let out = FileOut {
        version: abi::ESCGUARD_POLICY_VERSION,
        name: p.name.as_deref(),
        runtime_sockets: p.runtime_sockets.as_deref(),
        rules: p
            .rules
            .iter()
            .map(|r| {
                let mut o = RuleOut {
                    name: &r.name,
                    kind: r.kind(),
                    path: None,
                    source: None,
                    target: None,
                    fstype: None,
                    matching: None,
                    access: None,
                    enabled: r.enabled,
                    action: (r.action != Action::Enforce).then_some(r.action.as_str()),
                    scope: match &r.scope {
                        Scope::All => None,
                        Scope::Container(id) => Some(ScopeOut {
                            container: Some(id),
                            cgroup: None,
                        }),
                        Scope::Cgroup(p) => Some(ScopeOut {
                            container: None,
                            cgroup: Some(p),
                        }),
                    },
                };
                match &r.spec {
                    Spec::File { path, matching, .. } => {
                        o.path = Some(path);
                        o.matching = Some(matching.as_str());
                        o.access = Some(r.access());
                    }
                    Spec::Mount {
                        field,
                        pattern,
                        matching,
                    } => match field {
                        MountField::Source => {
                            o.source = Some(pattern);
                            o.matching = Some(matching.as_str());
                        }
                        MountField::Target => {
                            o.target = Some(pattern);
                            o.matching = Some(matching.as_str());
                        }
                        MountField::Fstype => o.fstype = Some(pattern),
                    },
                }
                o
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&out).expect("a policy always encodes");
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------
// The ABI.

/// The module's default runtime sockets (`ESCGUARD_DEFAULT_SOCKETS`).
pub fn default_sockets() -> Vec<String> {
    let raw = abi::ESCGUARD_DEFAULT_SOCKETS;
    let s = std::str::from_utf8(&raw[..raw.len() - 1]).expect("the header's defaults are ASCII");
    s.split(':').map(str::to_string).collect()
}

/// A policy as the ioctls carry it. `header.rules` is filled in by the
/// caller (it points into `rules`); `header.rule_count == rules.len()`.
pub struct AbiPolicy {
    pub header: abi::escguard_policy,
    pub rules: Vec<abi::escguard_policy_rule>,
}

/// Copies `s` into a NUL-terminated C field; `s` must fit (validated).
fn put(dst: &mut [std::os::raw::c_char], s: &str) {
    assert!(
        s.len() < dst.len(),
        "{s:?} does not fit {} bytes",
        dst.len()
    );
    dst.fill(0);
    for (d, b) in dst.iter_mut().zip(s.bytes()) {
        *d = b as _;
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A policy name made from a file name (or anything else): control
/// characters replaced, cut to fit.
pub fn name_from(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_control() || (c != '\\' && crate::escape::needs_escape(c)) {
                '?'
            } else {
                c
            }
        })
        .collect();
    let t = truncate_utf8(&clean, NAME_MAX).to_string();
    if t.is_empty() {
        "policy".into()
    } else {
        t
    }
}

/// Converts a validated policy to the ABI. `fallback_name` names it when
/// the file does not (made to fit with `name_from`).
pub fn to_abi(p: &Policy, fallback_name: &str) -> AbiPolicy {
    let mut h = abi::escguard_policy {
        version: abi::ESCGUARD_POLICY_VERSION,
        rule_count: p.rules.len() as u32,
        ..Default::default()
    };
    let sockets = p.runtime_sockets.clone().unwrap_or_else(default_sockets);
    h.socket_count = sockets.len() as u32;
    for (slot, s) in h.sockets.iter_mut().zip(&sockets) {
        put(slot, s);
    }
    let name = match &p.name {
        Some(n) => n.clone(),
        None => name_from(fallback_name),
    };
    put(&mut h.name, &name);
    let rules = p
        .rules
        .iter()
        .map(|r| {
            let mut a = abi::escguard_policy_rule {
                enabled: r.enabled as u32,
                action: r.action.abi(),
                ..Default::default()
            };
            put(&mut a.name, &r.name);
            match &r.scope {
                Scope::All => a.scope_kind = abi::ESCGUARD_SCOPE_ALL,
                Scope::Container(id) => {
                    a.scope_kind = abi::ESCGUARD_SCOPE_CONTAINER;
                    put(&mut a.scope, id);
                }
                Scope::Cgroup(p) => {
                    a.scope_kind = abi::ESCGUARD_SCOPE_CGROUP;
                    put(&mut a.scope, p);
                }
            }
            match &r.spec {
                Spec::File {
                    path,
                    matching,
                    read,
                    write,
                } => {
                    a.kind = abi::ESCGUARD_PRULE_FILE;
                    a.match_ = matching.abi();
                    a.flags = (if *read { abi::ESCGUARD_PF_READ } else { 0 })
                        | (if *write { abi::ESCGUARD_PF_WRITE } else { 0 });
                    put(&mut a.pattern, path);
                }
                Spec::Mount {
                    field,
                    pattern,
                    matching,
                } => {
                    a.kind = abi::ESCGUARD_PRULE_MOUNT;
                    a.match_ = matching.abi();
                    a.flags = field.flag();
                    put(&mut a.pattern, pattern);
                }
            }
            a
        })
        .collect();
    AbiPolicy { header: h, rules }
}

/// The active policy as the module reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivePolicy {
    /// `runtime_sockets` is always `Some` (the module reports its defaults).
    pub policy: Policy,
    /// When it was loaded; 0: no policy was loaded (built-in defaults).
    pub loaded_ns: u64,
}

/// Converts the module's answer to GET_POLICY; `rules` holds the records
/// it copied. An answer this escguardctl cannot represent is an error.
pub fn from_abi(
    h: &abi::escguard_policy,
    rules: &[abi::escguard_policy_rule],
) -> Result<ActivePolicy, String> {
    let bad = |what: String| Err(format!("unexpected policy from the module: {what}"));
    if h.socket_count > abi::ESCGUARD_POLICY_SOCKETS_MAX {
        return bad(format!("socket_count {}", h.socket_count));
    }
    let sockets = h.sockets[..h.socket_count as usize]
        .iter()
        .map(|s| abi::cstr_field(s))
        .collect();
    let name = abi::cstr_field(&h.name);
    let mut out = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let rname = abi::cstr_field(&r.name);
        let pattern = abi::cstr_field(&r.pattern);
        let matching = match r.match_ {
            abi::ESCGUARD_MATCH_EXACT => Match::Exact,
            abi::ESCGUARD_MATCH_PREFIX => Match::Prefix,
            m => return bad(format!("rule {i} ({rname}) has match {m}")),
        };
        let spec = match r.kind {
            abi::ESCGUARD_PRULE_FILE => {
                let read = r.flags & abi::ESCGUARD_PF_READ != 0;
                let write = r.flags & abi::ESCGUARD_PF_WRITE != 0;
                if r.flags & !(abi::ESCGUARD_PF_READ | abi::ESCGUARD_PF_WRITE) != 0
                    || !(read || write)
                {
                    return bad(format!("file rule {i} ({rname}) has flags {:#x}", r.flags));
                }
                Spec::File {
                    path: pattern,
                    matching,
                    read,
                    write,
                }
            }
            abi::ESCGUARD_PRULE_MOUNT => {
                let field = match r.flags {
                    abi::ESCGUARD_PF_SOURCE => MountField::Source,
                    abi::ESCGUARD_PF_TARGET => MountField::Target,
                    abi::ESCGUARD_PF_FSTYPE => MountField::Fstype,
                    f => return bad(format!("mount rule {i} ({rname}) has flags {f:#x}")),
                };
                Spec::Mount {
                    field,
                    pattern,
                    matching,
                }
            }
            k => return bad(format!("rule {i} ({rname}) has kind {k}")),
        };
        let action = match r.action {
            abi::ESCGUARD_RACT_ENFORCE => Action::Enforce,
            abi::ESCGUARD_RACT_MONITOR => Action::Monitor,
            a => return bad(format!("rule {i} ({rname}) has action {a}")),
        };
        let scope_text = abi::cstr_field(&r.scope);
        let scope = match r.scope_kind {
            abi::ESCGUARD_SCOPE_ALL if scope_text.is_empty() => Scope::All,
            abi::ESCGUARD_SCOPE_CONTAINER if !scope_text.is_empty() => Scope::Container(scope_text),
            abi::ESCGUARD_SCOPE_CGROUP if !scope_text.is_empty() => Scope::Cgroup(scope_text),
            k => {
                return bad(format!(
                    "rule {i} ({rname}) has scope kind {k} with scope \"{}\"",
                    crate::escape::text(&scope_text)
                ))
            }
        };
        out.push(Rule {
            name: rname,
            spec,
            enabled: r.enabled != 0,
            action,
            scope,
        });
    }
    Ok(ActivePolicy {
        policy: Policy {
            name: (!name.is_empty()).then_some(name),
            runtime_sockets: Some(sockets),
            rules: out,
        },
        loaded_ns: h.loaded_ns,
    })
}

/// `policy show` for people.
pub fn to_text(a: &ActivePolicy) -> String {
    let p = &a.policy;
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<16} {v}\n"));
    line(
        "policy",
        match &p.name {
            Some(n) => crate::escape::text(n).into_owned(),
            None => "(unnamed)".into(),
        },
    );
    line(
        "loaded at",
        if a.loaded_ns == 0 {
            "never (built-in defaults: no rules, default sockets)".into()
        } else {
            crate::status::rfc3339_utc(a.loaded_ns)
        },
    );
    let sockets = p.runtime_sockets.clone().unwrap_or_default();
    line(
        "runtime sockets",
        if sockets.is_empty() {
            "(none)".into()
        } else {
            crate::escape::text(&sockets.join(" ")).into_owned()
        },
    );
    let enabled = p.rules.iter().filter(|r| r.enabled).count();
    line("rules", format!("{} ({} enabled)", p.rules.len(), enabled));
    if !p.rules.is_empty() {
        out.push_str(&format!(
            "\n{:<31} {:<5} {:<7} {:<7} {:<6} {:<10} {}\n",
            "NAME", "TYPE", "ENABLED", "ACTION", "MATCH", "ON", "PATTERN"
        ));
        for r in &p.rules {
            let (on, pattern, m) = match &r.spec {
                Spec::File { path, matching, .. } => (r.access().join(","), path, *matching),
                Spec::Mount {
                    field,
                    pattern,
                    matching,
                } => (field.as_str().to_string(), pattern, *matching),
            };
            let scope = if r.scope.is_all() {
                String::new()
            } else {
                format!(" (in {})", r.scope.describe())
            };
            out.push_str(&format!(
                "{:<31} {:<5} {:<7} {:<7} {:<6} {:<10} {}{scope}\n",
                crate::escape::text(&r.name),
                r.kind(),
                if r.enabled { "yes" } else { "no" },
                r.action.as_str(),
                m.as_str(),
                on,
                crate::escape::text(pattern)
            ));
        }
    }
    out
}

/// One-line summary: "policy 'x': N rules (M enabled), K runtime sockets".
pub fn summary(p: &Policy, fallback_name: &str) -> String {
    let name = p.name.clone().unwrap_or_else(|| name_from(fallback_name));
    let enabled = p.rules.iter().filter(|r| r.enabled).count();
    let rules = match (p.rules.len(), enabled) {
        (1, 1) => "1 rule".to_string(),
        (n, m) if n == m => format!("{n} rules"),
        (n, m) => format!("{n} rules ({m} enabled)"),
    };
    let sockets = match &p.runtime_sockets {
        Some(s) => format!(
            "{} runtime socket{}",
            s.len(),
            if s.len() == 1 { "" } else { "s" }
        ),
        None => format!(
            "{} runtime sockets (module defaults)",
            default_sockets().len()
        ),
    };
    format!("policy '{name}': {rules}, {sockets}")
}

// ---------------------------------------------------------------------------
// Adding a policy to the active one.

/// The active policy with `new`'s rules added, for loading without
/// silently replacing what was loaded before.
///
/// Rules are matched by name. A rule of `new` whose name no active rule has
/// is appended; one identical to the active rule of its name (match,
/// enabled, action and scope) changes nothing; one that differs replaces
/// the active rule in place only with `replace` (`--replace`), and is
/// otherwise an error that names every such rule (nothing is merged then).
/// Runtime sockets: `new`'s when it names its own, else the active ones.
/// Name: `new`'s when it has one, else the active policy's. The result
/// holds at most `ESCGUARD_POLICY_RULES_MAX` rules, or it is an error.
pub fn merge(active: &Policy, new: &Policy, replace: bool) -> Result<Policy, String> {
    let mut rules = active.rules.clone();
    let mut clashes: Vec<String> = Vec::new();
    for r in &new.rules {
        match rules.iter_mut().find(|a| a.name == r.name) {
            None => rules.push(r.clone()),
            Some(a) if a == r => {}
            Some(a) if replace => *a = r.clone(),
            Some(a) => clashes.push(format!(
                "{} (active: {}{}; new: {}{})",
                r.name,
                a.describe(),
                if a.enabled { "" } else { ", disabled" },
                r.describe(),
                if r.enabled { "" } else { ", disabled" },
            )),
        }
    }
    if !clashes.is_empty() {
        return Err(format!(
            "{} rule{} of the new policy {} the name of an active rule that is different: {}; \
             nothing was loaded (rename the new rule{}, or pass --replace to replace the active \
             one{})",
            clashes.len(),
            if clashes.len() == 1 { "" } else { "s" },
            if clashes.len() == 1 { "has" } else { "have" },
            clashes.join("; "),
            if clashes.len() == 1 { "" } else { "s" },
            if clashes.len() == 1 { "" } else { "s" },
        ));
    }
    let max = abi::ESCGUARD_POLICY_RULES_MAX as usize;
    if rules.len() > max {
        return Err(format!(
            "the active policy's {} rules and the new ones make {}; the module holds at most \
             {max}; nothing was loaded",
            active.rules.len(),
            rules.len()
        ));
    }
    Ok(Policy {
        name: new.name.clone().or_else(|| active.name.clone()),
        runtime_sockets: new
            .runtime_sockets
            .clone()
            .or_else(|| active.runtime_sockets.clone()),
        rules,
    })
}

// ---------------------------------------------------------------------------
// Reading input files.

/// The largest policy file or Trivy report escguardctl reads: 64 MiB.
pub const INPUT_MAX: u64 = 64 << 20;

/// Reads a policy file or Trivy report (`what` names it in errors: "policy
/// file", "Trivy report") from `path`, or standard input for `-`, as UTF-8
/// text. Returns the text and the name to show in messages (`<stdin>` or
/// the path). Input larger than 64 MiB (`INPUT_MAX`) is refused
/// (`Error::Data`) before it is read whole: a regular file by its size, a
/// pipe after 64 MiB and one byte. Non-UTF-8 input is `Error::Data`, an I/O
/// failure `Error::Io`.
pub fn read_capped(
    path: &std::path::Path,
    what: &str,
) -> Result<(String, String), crate::error::Error> {
    read_capped_at(path, what, INPUT_MAX)
}

fn read_capped_at(
    path: &std::path::Path,
    what: &str,
    cap: u64,
) -> Result<(String, String), crate::error::Error> {
    use crate::error::Error;
    use std::io::Read;
    let stdin = path == std::path::Path::new("-");
    let shown = if stdin {
        "<stdin>".to_string()
    } else {
        crate::escape::text(&path.display().to_string()).into_owned()
    };
    let io_err = |e| Error::Io {
        what: format!("cannot read {shown}"),
        err: e,
    };
    let too_big = |size: String| {
        Error::Data(format!(
            "{shown}: the {what} is {size}; escguardctl reads at most {} MiB",
            cap >> 20
        ))
    };
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin()
            .lock()
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
    } else {
        let f = std::fs::File::open(path).map_err(io_err)?;
        let meta = f.metadata().map_err(io_err)?;
        if meta.is_file() && meta.len() > cap {
            return Err(too_big(format!("{} bytes", meta.len())));
        }
        // A file that grows, or a FIFO: never more than cap + 1 bytes.
        f.take(cap + 1).read_to_end(&mut bytes).map_err(io_err)?;
    }
    if bytes.len() as u64 > cap {
        return Err(too_big(format!("larger than {} MiB", cap >> 20)));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Data(format!(
            "{shown}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
  "version": 1,
  "name": "web-tier",
  "runtime_sockets": ["/run/containerd/containerd.sock"],
  "rules": [
    {"name": "no-shadow", "type": "file", "path": "/etc/shadow", "match": "exact", "access": ["read", "write"]},
    {"name": "no-proc-sys-write", "type": "file", "path": "/proc/sys", "match": "prefix", "access": ["write"], "enabled": true},
    {"name": "no-host-dev-mounts", "type": "mount", "source": "/dev", "match": "prefix"},
    {"name": "no-overlay", "type": "mount", "fstype": "overlay"},
    {"name": "no-mnt-target", "type": "mount", "target": "/mnt", "match": "prefix", "enabled": false}
  ]
}"#;

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    /// A valid one-rule policy with `rule` spliced in as its only rule.
    fn with_rule(rule: &str) -> String {
        format!(r#"{{"version": 1, "rules": [{rule}]}}"#)
    }

    fn one(text: &str) -> String {
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:#?}");
        p[0].clone()
    }

    #[test]
    fn example_parses_to_the_expected_policy() {
        let p = parse(EXAMPLE).unwrap();
        assert_eq!(p.name.as_deref(), Some("web-tier"));
        assert_eq!(
            p.runtime_sockets.as_deref(),
            Some(&["/run/containerd/containerd.sock".to_string()][..])
        );
        assert_eq!(p.rules.len(), 5);
        assert_eq!(
            p.rules[0],
            Rule {
                name: "no-shadow".into(),
                spec: Spec::File {
                    path: "/etc/shadow".into(),
                    matching: Match::Exact,
                    read: true,
                    write: true
                },
                enabled: true,
                action: Action::Enforce,
                scope: Scope::All,
            }
        );
        assert_eq!(
            p.rules[2].spec,
            Spec::Mount {
                field: MountField::Source,
                pattern: "/dev".into(),
                matching: Match::Prefix
            }
        );
        assert_eq!(
            p.rules[3].spec,
            Spec::Mount {
                field: MountField::Fstype,
                pattern: "overlay".into(),
                matching: Match::Exact
            }
        );
        assert!(!p.rules[4].enabled);
        assert_eq!(p.rules[4].describe(), "mount with target /mnt or below");
        assert_eq!(
            p.rules[1].describe(),
            "open for write of /proc/sys or below"
        );
    }

    #[test]
    fn minimal_policy_and_defaults() {
        let p = parse(r#"{"version":1,"rules":[]}"#).unwrap();
        assert_eq!(p, Policy::default());
        let p = parse(&with_rule(
            r#"{"name":"a","type":"file","path":"/x","access":["write"]}"#,
        ))
        .unwrap();
        assert!(p.rules[0].enabled);
        assert_eq!(
            p.rules[0].spec,
            Spec::File {
                path: "/x".into(),
                matching: Match::Exact,
                read: false,
                write: true
            }
        );
    }

    #[test]
    fn json_round_trip_is_identity() {
        let p = parse(EXAMPLE).unwrap();
        let text = to_json(&p);
        assert!(text.ends_with("}\n"));
        assert_eq!(parse(&text).unwrap(), p);
        // Field order as documented.
        let first_rule = text.find("\"no-shadow\"").unwrap();
        let rest = &text[first_rule..];
        let order: Vec<usize> = [
            "\"type\"",
            "\"path\"",
            "\"match\"",
            "\"access\"",
            "\"enabled\"",
        ]
        .iter()
        .map(|k| rest.find(k).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        // fstype rules carry no "match".
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["rules"][3].get("match").is_none());
        assert_eq!(v["rules"][2]["match"], "prefix");
    }

    #[test]
    fn abi_round_trip_json_to_abi_to_json() {
        let p = parse(EXAMPLE).unwrap();
        let a = to_abi(&p, "ignored.json");
        assert_eq!(a.header.version, abi::ESCGUARD_POLICY_VERSION);
        assert_eq!(a.header.version, 2);
        assert!(a
            .rules
            .iter()
            .all(|r| r.action == abi::ESCGUARD_RACT_ENFORCE
                && r.scope_kind == abi::ESCGUARD_SCOPE_ALL
                && r.scope.iter().all(|&b| b == 0)));
        assert_eq!(a.header.rule_count, 5);
        assert_eq!(a.header.socket_count, 1);
        assert_eq!(a.header.flags, 0);
        assert_eq!(a.header.loaded_ns, 0);
        assert_eq!(a.header.reserved, [0, 0]);
        assert_eq!(abi::cstr_field(&a.header.name), "web-tier");
        assert_eq!(a.rules[0].kind, abi::ESCGUARD_PRULE_FILE);
        assert_eq!(
            a.rules[0].flags,
            abi::ESCGUARD_PF_READ | abi::ESCGUARD_PF_WRITE
        );
        assert_eq!(a.rules[0].match_, abi::ESCGUARD_MATCH_EXACT);
        assert_eq!(a.rules[1].flags, abi::ESCGUARD_PF_WRITE);
        assert_eq!(a.rules[1].match_, abi::ESCGUARD_MATCH_PREFIX);
        assert_eq!(a.rules[2].kind, abi::ESCGUARD_PRULE_MOUNT);
        assert_eq!(a.rules[2].flags, abi::ESCGUARD_PF_SOURCE);
        assert_eq!(a.rules[3].flags, abi::ESCGUARD_PF_FSTYPE);
        assert_eq!(a.rules[3].match_, abi::ESCGUARD_MATCH_EXACT);
        assert_eq!(a.rules[4].flags, abi::ESCGUARD_PF_TARGET);
        assert_eq!(a.rules[4].enabled, 0);
        assert_eq!(abi::cstr_field(&a.rules[4].pattern), "/mnt");
        // Everything after the strings' NUL is zero (no stale bytes).
        assert!(a.rules[0].name[9..].iter().all(|&b| b == 0));

        let mut h = a.header;
        h.loaded_ns = 1_700_000_000_000_000_000;
        let back = from_abi(&h, &a.rules).unwrap();
        assert_eq!(back.policy, p);
        assert_eq!(back.loaded_ns, 1_700_000_000_000_000_000);
        assert_eq!(parse(&to_json(&back.policy)).unwrap(), p);
    }

    #[test]
    fn absent_sockets_become_the_module_defaults_and_name_the_file() {
        let p = parse(r#"{"version":1,"rules":[]}"#).unwrap();
        let a = to_abi(&p, "web.json");
        assert_eq!(
            default_sockets(),
            [
                "/run/containerd/containerd.sock",
                "/run/docker.sock",
                "/run/crio/crio.sock",
                "/run/podman/podman.sock"
            ]
        );
        assert_eq!(a.header.socket_count, 4);
        assert_eq!(abi::cstr_field(&a.header.sockets[1]), "/run/docker.sock");
        assert_eq!(abi::cstr_field(&a.header.name), "web.json");
        let back = from_abi(&a.header, &a.rules).unwrap();
        assert_eq!(back.policy.runtime_sockets, Some(default_sockets()));
        assert_eq!(back.policy.name.as_deref(), Some("web.json"));
        assert_eq!(back.loaded_ns, 0);
        for s in default_sockets() {
            check_path(&s).unwrap();
        }
    }

    #[test]
    fn long_or_odd_file_names_are_cut_to_fit() {
        let long = "é".repeat(40); // 80 bytes
        let n = name_from(&long);
        assert_eq!(n.len(), 62);
        assert!(check_policy_name(&n).is_ok());
        assert_eq!(name_from("a\nb"), "a?b");
        assert_eq!(name_from(""), "policy");
        let a = to_abi(&Policy::default(), &long);
        assert_eq!(abi::cstr_field(&a.header.name), n);
    }

    #[test]
    fn from_abi_refuses_what_it_cannot_represent() {
        let p = parse(EXAMPLE).unwrap();
        let a = to_abi(&p, "x");
        let mut r = a.rules.clone();
        r[0].kind = 9;
        assert!(from_abi(&a.header, &r).unwrap_err().contains("kind 9"));
        let mut r = a.rules.clone();
        r[2].flags = abi::ESCGUARD_PF_SOURCE | abi::ESCGUARD_PF_TARGET;
        assert!(from_abi(&a.header, &r).unwrap_err().contains("flags 0x30"));
        let mut r = a.rules.clone();
        r[0].flags = 0;
        assert!(from_abi(&a.header, &r).is_err());
        let mut r = a.rules.clone();
        r[1].match_ = 0;
        assert!(from_abi(&a.header, &r).unwrap_err().contains("match 0"));
        let mut h = a.header;
        h.socket_count = 9;
        assert!(from_abi(&h, &a.rules).is_err());
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        assert_eq!(
            one("{\n  \"version\": 1,\n  \"rules\": [,]\n}"),
            "line 3, column 13: invalid JSON: expected value"
        );
        let e = one("{\"version\": 1,\n\"rules\": [");
        assert!(
            e.starts_with("line 2, column 10: the JSON text ends too early"),
            "{e}"
        );
        let e = one("{\"version\":1,\"rules\":[]} x");
        assert!(
            e.starts_with("line 1, column 26: invalid JSON: trailing characters"),
            "{e}"
        );
        let e = one("{\"version\":1,\"version\":1,\"rules\":[]}");
        assert!(
            e == "line 1, column 22: the key \"version\" appears twice in one object",
            "{e}"
        );
    }

    #[test]
    fn top_level_errors() {
        assert_eq!(one("[]"), "top level: expected an object, found an array");
        assert_eq!(
            one(r#"{"rules":[]}"#),
            "version: missing; this format is version 2"
        );
        assert_eq!(
            one(r#"{"version":3,"rules":[]}"#),
            "version: unsupported version 3; this escguardctl reads versions 1 and 2"
        );
        assert_eq!(
            one(r#"{"version":1.5,"rules":[]}"#),
            "version: unsupported version 1.5; this escguardctl reads versions 1 and 2"
        );
        assert!(parse(r#"{"version":2,"rules":[]}"#).is_ok());
        assert!(parse(r#"{"version":1,"rules":[]}"#).is_ok());
        assert_eq!(
            one(r#"{"version":"1","rules":[]}"#),
            "version: expected a number, found a string"
        );
        assert_eq!(
            one(r#"{"version":1}"#),
            "rules: missing; give a list of rules (it may be empty: [])"
        );
        assert_eq!(
            one(r#"{"version":1,"rules":{}}"#),
            "rules: expected an array, found an object"
        );
        assert_eq!(
            one(r#"{"version":1,"rules":[],"mode":"enforce"}"#),
            "mode: unknown field in the policy (expected one of: version, name, runtime_sockets, rules)"
        );
    }

    #[test]
    fn policy_name_errors() {
        assert_eq!(
            one(r#"{"version":1,"name":"","rules":[]}"#),
            "name: must not be empty (omit it to use the file's name)"
        );
        let long = format!(r#"{{"version":1,"name":"{}","rules":[]}}"#, "x".repeat(64));
        assert_eq!(one(&long), "name: is 64 bytes long; at most 63 bytes");
        let ok = format!(r#"{{"version":1,"name":"{}","rules":[]}}"#, "x".repeat(63));
        assert!(parse(&ok).is_ok());
        assert_eq!(
            one(r#"{"version":1,"name":"a\tb","rules":[]}"#),
            "name: must not contain control characters"
        );
        assert_eq!(
            one(r#"{"version":1,"name":7,"rules":[]}"#),
            "name: expected a string, found a number"
        );
    }

    #[test]
    fn socket_errors() {
        let s = |list: &str| format!(r#"{{"version":1,"runtime_sockets":{list},"rules":[]}}"#);
        // An explicit empty list protects none (socket_count 0).
        let p = parse(&s("[]")).unwrap();
        assert_eq!(p.runtime_sockets, Some(vec![]));
        let a = to_abi(&p, "x");
        assert_eq!(a.header.socket_count, 0);
        let back = from_abi(&a.header, &a.rules).unwrap().policy;
        assert_eq!(back.runtime_sockets, Some(vec![]));
        assert_eq!(summary(&p, "x"), "policy 'x': 0 rules, 0 runtime sockets");
        assert_eq!(
            one(&s(r#"["/"]"#)),
            "runtime_sockets[0]: \"/\" is a directory, not a socket"
        );
        assert_eq!(
            one(&s(r#""/run/docker.sock""#)),
            "runtime_sockets: expected an array of paths, found a string"
        );
        let nine: Vec<String> = (0..9).map(|i| format!("\"/run/s{i}.sock\"")).collect();
        assert_eq!(
            one(&s(&format!("[{}]", nine.join(",")))),
            "runtime_sockets: has 9 sockets; the module holds at most 8"
        );
        let eight: Vec<String> = (0..8).map(|i| format!("\"/run/s{i}.sock\"")).collect();
        assert!(parse(&s(&format!("[{}]", eight.join(",")))).is_ok());
        assert_eq!(
            one(&s(r#"["/run/a.sock","run/b.sock"]"#)),
            "runtime_sockets[1]: \"run/b.sock\" is not an absolute path (it must start with \"/\")"
        );
        assert_eq!(
            one(&s(r#"["/run/a.sock","/run/a.sock"]"#)),
            "runtime_sockets[1]: \"/run/a.sock\" is already runtime_sockets[0]"
        );
        assert_eq!(
            one(&s(r#"["/run/a.sock",1]"#)),
            "runtime_sockets[1]: expected a string, found a number"
        );
    }

    #[test]
    fn path_errors() {
        let r = |p: &str| {
            with_rule(&format!(
                r#"{{"name":"a","type":"file","path":{p},"access":["read"]}}"#
            ))
        };
        assert_eq!(
            one(&r(r#""""#)),
            "rules[0].path: must be an absolute path, found an empty string"
        );
        assert_eq!(
            one(&r(r#""etc/shadow""#)),
            "rules[0].path: \"etc/shadow\" is not an absolute path (it must start with \"/\")"
        );
        assert_eq!(
            one(&r(r#""/etc//shadow""#)),
            "rules[0].path: \"/etc//shadow\" is not normalised: it contains \"//\""
        );
        assert_eq!(
            one(&r(r#""/etc/""#)),
            "rules[0].path: \"/etc/\" is not normalised: it ends with \"/\""
        );
        assert_eq!(
            one(&r(r#""/etc/./shadow""#)),
            "rules[0].path: \"/etc/./shadow\" is not normalised: it has a \".\" or \"..\" component"
        );
        assert_eq!(
            one(&r(r#""/etc/..""#)),
            "rules[0].path: \"/etc/..\" is not normalised: it has a \".\" or \"..\" component"
        );
        assert_eq!(
            one(&r(r#""/a\u0000b""#)),
            "rules[0].path: must not contain a NUL character"
        );
        let long = format!("\"/{}\"", "a".repeat(255));
        assert_eq!(
            one(&r(&long)),
            "rules[0].path: is 256 bytes long; at most 255 bytes fit"
        );
        let fits = format!("\"/{}\"", "a".repeat(254));
        assert!(parse(&r(&fits)).is_ok());
        assert!(parse(&r(r#""/""#)).is_ok());
        assert!(parse(&r(r#""/etc/..hidden""#)).is_ok());
        assert_eq!(
            one(&r("[]")),
            "rules[0].path: expected a string, found an array"
        );
    }

    #[test]
    fn rule_name_errors() {
        let r = |n: &str| {
            with_rule(&format!(
                r#"{{"name":{n},"type":"mount","fstype":"overlay"}}"#
            ))
        };
        assert_eq!(one(&r(r#""""#)), "rules[0].name: must not be empty");
        assert_eq!(
            one(&r(&format!("\"{}\"", "n".repeat(32)))),
            format!(
                "rules[0].name: \"{}\" is 32 bytes long; at most 31 bytes",
                "n".repeat(32)
            )
        );
        assert!(parse(&r(&format!("\"{}\"", "n".repeat(31)))).is_ok());
        assert_eq!(
            one(&r(r#""no shadow""#)),
            "rules[0].name: \"no shadow\" contains ' '; rule names use only A-Z a-z 0-9 _ . -"
        );
        assert_eq!(
            one(&r(r#""core_pattern""#)),
            "rules[0].name: \"core_pattern\" is the name of a preset; choose another name"
        );
        assert_eq!(
            one(&r("null")),
            "rules[0].name: expected a string, found null"
        );
        assert_eq!(
            one(&with_rule(r#"{"type":"mount","fstype":"overlay"}"#)),
            "rules[0].name: missing"
        );
        let dup = r#"{"version":1,"rules":[
            {"name":"a","type":"mount","fstype":"overlay"},
            {"name":"b","type":"mount","fstype":"tmpfs"},
            {"name":"a","type":"mount","fstype":"nfs"}]}"#;
        assert_eq!(
            one(dup),
            "rules[2].name: \"a\" is already the name of rules[0]"
        );
    }

    #[test]
    fn rule_type_and_field_errors() {
        assert_eq!(
            one(&with_rule(r#"{"name":"a","fstype":"overlay"}"#)),
            "rules[0].type: missing; \"file\" or \"mount\""
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"exec","path":"/x"}"#)),
            "rules[0].type: \"exec\" is not a rule type (expected \"file\" or \"mount\")"
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount","fstype":"overlay","pathh":"/x"}"#)),
            "rules[0].pathh: unknown field in a mount rule (expected one of: name, type, source, target, fstype, match, enabled, action, scope)"
        );
        assert_eq!(
            one(&with_rule(
                r#"{"name":"a","type":"file","path":"/x","access":["read"],"fstype":"ext4"}"#
            )),
            "rules[0].fstype: not allowed in a file rule (file rules take path and access)"
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount","fstype":"ext4","access":["read"]}"#)),
            "rules[0].access: not allowed in a mount rule (mount rules take one of source, target or fstype)"
        );
        assert_eq!(
            one(&with_rule(
                r#"{"name":"a","type":"file","path":"/x","access":["read"],"enabled":"yes"}"#
            )),
            "rules[0].enabled: expected true or false, found a string"
        );
        assert_eq!(
            one(&with_rule(
                r#"{"name":"a","type":"file","path":"/x","access":["read"],"match":"glob"}"#
            )),
            "rules[0].match: \"glob\" is not a match kind (expected \"exact\" or \"prefix\")"
        );
        assert_eq!(
            one(&with_rule("3")),
            "rules[0]: expected an object, found a number"
        );
    }

    #[test]
    fn access_errors() {
        let r = |a: &str| {
            with_rule(&format!(
                r#"{{"name":"a","type":"file","path":"/x","access":{a}}}"#
            ))
        };
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"file","path":"/x"}"#)),
            "rules[0].access: missing; a list of \"read\" and/or \"write\""
        );
        assert_eq!(
            one(&with_rule(
                r#"{"name":"a","type":"file","access":["read"]}"#
            )),
            "rules[0].path: missing; file rules need a path"
        );
        assert_eq!(
            one(&r("[]")),
            "rules[0].access: must not be empty; a list of \"read\" and/or \"write\""
        );
        assert_eq!(
            one(&r(r#""read""#)),
            "rules[0].access: expected an array of \"read\" and/or \"write\", found a string"
        );
        assert_eq!(
            one(&r(r#"["read","exec"]"#)),
            "rules[0].access[1]: \"exec\" is not an access (expected \"read\" or \"write\")"
        );
        assert_eq!(
            one(&r(r#"["write","write"]"#)),
            "rules[0].access[1]: is listed twice"
        );
        assert_eq!(
            one(&r(r#"["read",true]"#)),
            "rules[0].access[1]: expected a string, found a boolean"
        );
    }

    #[test]
    fn mount_rule_errors() {
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount"}"#)),
            "rules[0]: a mount rule needs one of source, target or fstype"
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount","source":"/dev","target":"/mnt"}"#)),
            "rules[0].target: a mount rule tests only one of source, target or fstype, and this one already has source"
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount","fstype":"overlay","match":"prefix"}"#)),
            "rules[0].match: \"prefix\" is not allowed with fstype (file system types match exactly)"
        );
        assert_eq!(
            one(&with_rule(
                r#"{"name":"a","type":"mount","fstype":"Overlay"}"#
            )),
            "rules[0].fstype: \"Overlay\" contains 'O'; file system types use only a-z 0-9 . _ -"
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount","fstype":""}"#)),
            "rules[0].fstype: must not be empty"
        );
        let long = with_rule(&format!(
            r#"{{"name":"a","type":"mount","fstype":"{}"}}"#,
            "f".repeat(64)
        ));
        assert_eq!(
            one(&long),
            "rules[0].fstype: is 64 bytes long; at most 63 bytes"
        );
        assert_eq!(
            one(&with_rule(r#"{"name":"a","type":"mount","source":"dev"}"#)),
            "rules[0].source: \"dev\" is not an absolute path (it must start with \"/\")"
        );
        assert_eq!(
            one(&with_rule(
                r#"{"name":"a","type":"mount","target":"/mnt/"}"#
            )),
            "rules[0].target: \"/mnt/\" is not normalised: it ends with \"/\""
        );
        assert!(parse(&with_rule(
            r#"{"name":"a","type":"mount","fstype":"fuse.sshfs"}"#
        ))
        .is_ok());
    }

    #[test]
    fn too_many_rules() {
        let rules: Vec<String> = (0..65)
            .map(|i| format!(r#"{{"name":"r{i}","type":"mount","fstype":"t{i}"}}"#))
            .collect();
        let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
        assert_eq!(
            one(&text),
            "rules: has 65 rules; the module holds at most 64"
        );
        let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules[..64].join(","));
        assert_eq!(parse(&text).unwrap().rules.len(), 64);
    }

    #[test]
    fn every_problem_is_reported_in_document_order() {
        let text = r#"{"version":1,"name":"","rules":[
            {"name":"ok","type":"file","path":"/x","access":["read"]},
            {"name":"bad name","type":"file","path":"x","access":["exec"]}]}"#;
        assert_eq!(
            problems(text),
            [
                "name: must not be empty (omit it to use the file's name)",
                "rules[1].name: \"bad name\" contains ' '; rule names use only A-Z a-z 0-9 _ . -",
                "rules[1].path: \"x\" is not an absolute path (it must start with \"/\")",
                "rules[1].access[0]: \"exec\" is not an access (expected \"read\" or \"write\")",
            ]
        );
    }

    #[test]
    fn text_and_summary() {
        let p = parse(EXAMPLE).unwrap();
        assert_eq!(
            summary(&p, "f.json"),
            "policy 'web-tier': 5 rules (4 enabled), 1 runtime socket"
        );
        assert_eq!(
            summary(&Policy::default(), "f.json"),
            "policy 'f.json': 0 rules, 4 runtime sockets (module defaults)"
        );
        let a = from_abi(&to_abi(&p, "x").header, &to_abi(&p, "x").rules).unwrap();
        let t = to_text(&a);
        assert!(t.contains("policy           web-tier\n"), "{t}");
        assert!(t.contains("loaded at        never"), "{t}");
        assert!(t.contains("rules            5 (4 enabled)\n"), "{t}");
        assert!(
            t.contains(
                "no-shadow                       file  yes     enforce exact  read,write /etc/shadow\n"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "no-mnt-target                   mount no      enforce prefix target     /mnt\n"
            ),
            "{t}"
        );
    }

    const ID: &str = "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";

    const EXAMPLE_V2: &str = r#"{
  "version": 2,
  "name": "scoped",
  "rules": [
    {"name": "no-shadow", "type": "file", "path": "/etc/shadow", "access": ["read"],
     "scope": {"container": "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"}},
    {"name": "watch-sys", "type": "file", "path": "/sys", "match": "prefix", "access": ["write"],
     "action": "monitor", "scope": {"cgroup": "/kubepods.slice/kubepods-besteffort.slice"}},
    {"name": "no-overlay", "type": "mount", "fstype": "overlay", "action": "enforce"},
    {"name": "watch-nfs", "type": "mount", "fstype": "nfs", "action": "monitor"}
  ]
}"#;

    #[test]
    fn v2_action_and_scope_parse_and_default() {
        let p = parse(EXAMPLE_V2).unwrap();
        assert_eq!(p.rules[0].action, Action::Enforce);
        assert_eq!(p.rules[0].scope, Scope::Container(ID.into()));
        assert_eq!(p.rules[1].action, Action::Monitor);
        assert_eq!(
            p.rules[1].scope,
            Scope::Cgroup("/kubepods.slice/kubepods-besteffort.slice".into())
        );
        assert_eq!(p.rules[2].action, Action::Enforce);
        assert_eq!(p.rules[2].scope, Scope::All);
        assert_eq!(
            (p.rules[3].action, &p.rules[3].scope),
            (Action::Monitor, &Scope::All)
        );
        assert_eq!(
            p.rules[0].describe(),
            "open for read of /etc/shadow in container 3f2a4b5c6d7e…"
        );
        assert_eq!(
            p.rules[1].describe(),
            "open for write of /sys or below [monitor] in cgroup /kubepods.slice/kubepods-besteffort.slice"
        );
        assert_eq!(
            p.rules[3].describe(),
            "mount of file system type nfs [monitor]"
        );
        assert_eq!(p.rules[0].describe_match(), "open for read of /etc/shadow");
    }

    #[test]
    fn v2_json_round_trip_writes_version_2_and_omits_defaults() {
        let p = parse(EXAMPLE_V2).unwrap();
        let text = to_json(&p);
        assert_eq!(parse(&text).unwrap(), p);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], 2);
        assert_eq!(v["rules"][0]["scope"]["container"], ID);
        assert!(v["rules"][0].get("action").is_none());
        assert_eq!(v["rules"][1]["action"], "monitor");
        assert_eq!(
            v["rules"][1]["scope"],
            serde_json::json!({"cgroup": "/kubepods.slice/kubepods-besteffort.slice"})
        );
        // "enforce" given explicitly is the default: not written back.
        assert!(v["rules"][2].get("action").is_none());
        assert!(v["rules"][2].get("scope").is_none());
        // A version 1 file is written back as version 2, unchanged otherwise.
        let p1 = parse(EXAMPLE).unwrap();
        let t1 = to_json(&p1);
        assert!(t1.contains("\"version\": 2"), "{t1}");
        assert!(
            !t1.contains("\"action\"") && !t1.contains("\"scope\""),
            "{t1}"
        );
        assert_eq!(parse(&t1).unwrap(), p1);
    }

    #[test]
    fn v2_abi_round_trip_carries_action_and_scope() {
        let p = parse(EXAMPLE_V2).unwrap();
        let a = to_abi(&p, "x");
        assert_eq!(a.rules[0].scope_kind, abi::ESCGUARD_SCOPE_CONTAINER);
        assert_eq!(abi::cstr_field(&a.rules[0].scope), ID);
        assert_eq!(a.rules[0].action, abi::ESCGUARD_RACT_ENFORCE);
        assert_eq!(a.rules[1].scope_kind, abi::ESCGUARD_SCOPE_CGROUP);
        assert_eq!(
            abi::cstr_field(&a.rules[1].scope),
            "/kubepods.slice/kubepods-besteffort.slice"
        );
        assert_eq!(a.rules[1].action, abi::ESCGUARD_RACT_MONITOR);
        assert_eq!(a.rules[2].scope_kind, abi::ESCGUARD_SCOPE_ALL);
        assert!(a.rules[2].scope.iter().all(|&b| b == 0));
        assert_eq!(a.rules[3].action, abi::ESCGUARD_RACT_MONITOR);
        let back = from_abi(&a.header, &a.rules).unwrap();
        assert_eq!(back.policy.rules, p.rules);

        // What the module should never answer is refused, naming the rule.
        let mut r = a.rules.clone();
        r[0].action = 7;
        assert!(from_abi(&a.header, &r)
            .unwrap_err()
            .contains("rule 0 (no-shadow) has action 7"));
        let mut r = a.rules.clone();
        r[2].scope_kind = abi::ESCGUARD_SCOPE_CGROUP;
        assert!(from_abi(&a.header, &r)
            .unwrap_err()
            .contains("has scope kind 1 with scope \"\""));
        let mut r = a.rules.clone();
        r[0].scope_kind = abi::ESCGUARD_SCOPE_ALL;
        assert!(from_abi(&a.header, &r).is_err());
        let mut r = a.rules.clone();
        r[0].scope_kind = 9;
        assert!(from_abi(&a.header, &r)
            .unwrap_err()
            .contains("scope kind 9"));
    }

    #[test]
    fn v2_text_shows_action_and_scope() {
        let p = parse(EXAMPLE_V2).unwrap();
        let a = to_abi(&p, "x");
        let t = to_text(&from_abi(&a.header, &a.rules).unwrap());
        assert!(
            t.contains(
                "no-shadow                       file  yes     enforce exact  read       /etc/shadow (in container 3f2a4b5c6d7e…)\n"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "watch-sys                       file  yes     monitor prefix write      /sys (in cgroup /kubepods.slice/kubepods-besteffort.slice)\n"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "watch-nfs                       mount yes     monitor exact  fstype     nfs\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn v1_files_cannot_have_action_or_scope() {
        let text = r#"{"version":1,"rules":[
            {"name":"a","type":"mount","fstype":"nfs","action":"monitor","scope":{"cgroup":"/x"}}]}"#;
        assert_eq!(
            problems(text),
            [
                "rules[0].action: not allowed in a version 1 policy: rules have an action and a scope from version 2 on (set \"version\": 2)",
                "rules[0].scope: not allowed in a version 1 policy: rules have an action and a scope from version 2 on (set \"version\": 2)",
            ]
        );
    }

    fn v2_rule(extra: &str) -> String {
        format!(r#"{{"version":2,"rules":[{{"name":"a","type":"mount","fstype":"nfs",{extra}}}]}}"#)
    }

    #[test]
    fn action_errors() {
        assert_eq!(
            one(&v2_rule(r#""action":"kill""#)),
            "rules[0].action: \"kill\" is not an action (expected \"enforce\" or \"monitor\")"
        );
        assert_eq!(
            one(&v2_rule(r#""action":1"#)),
            "rules[0].action: expected a string, found a number"
        );
    }

    #[test]
    fn scope_errors() {
        let sc = |v: &str| one(&v2_rule(&format!(r#""scope":{v}"#)));
        assert_eq!(
            sc(r#""abc""#),
            "rules[0].scope: expected an object ({\"container\": ID} or {\"cgroup\": PATH}), found a string"
        );
        assert_eq!(
            sc("{}"),
            "rules[0].scope: needs one of container or cgroup (omit scope for every container task)"
        );
        assert_eq!(
            sc(r#"{"pod":"x"}"#),
            "rules[0].scope.pod: unknown field in a scope (expected one of: container, cgroup)"
        );
        assert_eq!(
            sc(r#"{"container":"abc","cgroup":"/x"}"#),
            "rules[0].scope.cgroup: a scope names only one of container or cgroup, and this one already has container"
        );
        assert_eq!(
            sc(r#"{"container":7}"#),
            "rules[0].scope.container: expected a string, found a number"
        );
        assert_eq!(
            sc(r#"{"container":""}"#),
            "rules[0].scope.container: must not be empty"
        );
        assert_eq!(
            sc(r#"{"container":"-abc"}"#),
            "rules[0].scope.container: \"-abc\" starts with '-'; container IDs start with a letter or digit"
        );
        assert_eq!(
            sc(r#"{"container":"a/b"}"#),
            "rules[0].scope.container: \"a/b\" contains '/'; container IDs use only A-Z a-z 0-9 _ . -"
        );
        assert_eq!(
            sc(r#"{"container":"a\u001b[31m"}"#),
            "rules[0].scope.container: \"a\\x1b[31m\" contains '\\u{1b}'; container IDs use only A-Z a-z 0-9 _ . -"
        );
        assert_eq!(
            sc(&format!(r#"{{"container":"{}"}}"#, "a".repeat(129))),
            "rules[0].scope.container: is 129 bytes long; container IDs have at most 128"
        );
        assert!(parse(&v2_rule(&format!(
            r#""scope":{{"container":"{}"}}"#,
            "a".repeat(128)
        )))
        .is_ok());
        assert!(parse(&v2_rule(r#""scope":{"container":"my_ctr.1-x"}"#)).is_ok());
        assert_eq!(
            sc(r#"{"cgroup":"kubepods.slice"}"#),
            "rules[0].scope.cgroup: \"kubepods.slice\" is not an absolute path (it must start with \"/\")"
        );
        assert_eq!(
            sc(r#"{"cgroup":"/a/../b"}"#),
            "rules[0].scope.cgroup: \"/a/../b\" is not normalised: it has a \".\" or \"..\" component"
        );
        assert_eq!(
            sc(r#"{"cgroup":"/a//b"}"#),
            "rules[0].scope.cgroup: \"/a//b\" is not normalised: it contains \"//\""
        );
        assert_eq!(
            sc(&format!(r#"{{"cgroup":"/{}"}}"#, "c".repeat(255))),
            "rules[0].scope.cgroup: is 256 bytes long; at most 255 bytes fit"
        );
        assert_eq!(
            sc(r#"{"cgroup":"/sys/fs/cgroup/kubepods.slice"}"#),
            "rules[0].scope.cgroup: \"/sys/fs/cgroup/kubepods.slice\" is where cgroupfs is mounted, not a cgroup path: give the path from the cgroup root (as /proc/PID/cgroup shows it after \"0::\")"
        );
    }

    #[test]
    fn rule_names_stay_unique_across_scopes() {
        let text = format!(
            r#"{{"version":2,"rules":[
            {{"name":"a","type":"mount","fstype":"nfs","scope":{{"container":"{ID}"}}}},
            {{"name":"a","type":"mount","fstype":"nfs","scope":{{"cgroup":"/x"}}}}]}}"#
        );
        assert_eq!(
            one(&text),
            "rules[1].name: \"a\" is already the name of rules[0]"
        );
    }

    fn rule(name: &str, path: &str) -> Rule {
        Rule {
            name: name.into(),
            spec: Spec::File {
                path: path.into(),
                matching: Match::Exact,
                read: true,
                write: false,
            },
            enabled: true,
            action: Action::Enforce,
            scope: Scope::Container(ID.into()),
        }
    }

    #[test]
    fn merge_adds_keeps_identical_and_refuses_silent_replacement() {
        let active = Policy {
            name: Some("base".into()),
            runtime_sockets: Some(vec!["/run/a.sock".into()]),
            rules: vec![rule("a", "/a"), rule("b", "/b")],
        };
        // New names are appended; an identical rule changes nothing.
        let new = Policy {
            name: Some("trivy:img".into()),
            runtime_sockets: None,
            rules: vec![rule("b", "/b"), rule("c", "/c")],
        };
        let m = merge(&active, &new, false).unwrap();
        let names: Vec<&str> = m.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        // The active sockets stay unless the new policy names its own.
        assert_eq!(m.runtime_sockets, active.runtime_sockets);
        assert_eq!(m.name.as_deref(), Some("trivy:img"));
        let own = Policy {
            runtime_sockets: Some(vec![]),
            name: None,
            ..new.clone()
        };
        let m = merge(&active, &own, false).unwrap();
        assert_eq!(m.runtime_sockets, Some(vec![]));
        assert_eq!(m.name.as_deref(), Some("base"));

        // A different rule of the same name: refused, naming it, unless
        // replace; a re-enabled rule counts as different.
        let mut changed = rule("a", "/other");
        changed.action = Action::Monitor;
        let mut disabled_b = rule("b", "/b");
        disabled_b.enabled = false;
        let active2 = Policy {
            rules: vec![rule("a", "/a"), disabled_b],
            ..active.clone()
        };
        let clash = Policy {
            rules: vec![changed.clone(), rule("b", "/b"), rule("d", "/d")],
            ..new.clone()
        };
        let e = merge(&active2, &clash, false).unwrap_err();
        assert_eq!(
            e,
            "2 rules of the new policy have the name of an active rule that is different: \
             a (active: open for read of /a in container 3f2a4b5c6d7e…; new: open for read of /other \
             [monitor] in container 3f2a4b5c6d7e…); b (active: open for read of /b in container \
             3f2a4b5c6d7e…, disabled; new: open for read of /b in container 3f2a4b5c6d7e…); nothing \
             was loaded (rename the new rules, or pass --replace to replace the active ones)"
        );
        let m = merge(&active2, &clash, true).unwrap();
        assert_eq!(m.rules, vec![changed, rule("b", "/b"), rule("d", "/d")]);
        // The result is a valid policy.
        assert_eq!(parse(&to_json(&m)).unwrap(), m);
    }

    #[test]
    fn merge_refuses_more_rules_than_the_module_holds() {
        let many = |prefix: &str, n: usize| Policy {
            rules: (0..n)
                .map(|i| rule(&format!("{prefix}{i}"), "/x"))
                .collect(),
            ..Policy::default()
        };
        assert_eq!(
            merge(&many("a", 40), &many("b", 24), false)
                .unwrap()
                .rules
                .len(),
            64
        );
        assert_eq!(
            merge(&many("a", 40), &many("b", 25), false).unwrap_err(),
            "the active policy's 40 rules and the new ones make 65; the module holds at most 64; \
             nothing was loaded"
        );
        // Merging a policy into itself changes nothing.
        let p = many("a", 64);
        assert_eq!(merge(&p, &p, false).unwrap(), p);
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("escguard-policy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn read_capped_refuses_big_input_before_reading_it() {
        use crate::error::Error;
        let p = scratch("big");
        // Sparse: 64 MiB + 1 byte of nothing, never read.
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(INPUT_MAX + 1).unwrap();
        drop(f);
        match read_capped(&p, "Trivy report") {
            Err(Error::Data(m)) => assert_eq!(
                m,
                format!(
                    "{}: the Trivy report is 67108865 bytes; escguardctl reads at most 64 MiB",
                    p.display()
                )
            ),
            other => panic!("{other:?}"),
        }
        std::fs::write(&p, "{\"version\":2,\"rules\":[]}").unwrap();
        let (text, shown) = read_capped(&p, "policy file").unwrap();
        assert_eq!(text, "{\"version\":2,\"rules\":[]}");
        assert_eq!(shown, p.display().to_string());
        // A small cap shows the same for what is read.
        std::fs::write(&p, "12345").unwrap();
        assert!(read_capped_at(&p, "policy file", 5).is_ok());
        match read_capped_at(&p, "policy file", 4) {
            Err(Error::Data(m)) => assert!(
                m.ends_with("the policy file is 5 bytes; escguardctl reads at most 0 MiB"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        std::fs::write(&p, b"ok\xff").unwrap();
        match read_capped(&p, "policy file") {
            Err(Error::Data(m)) => assert!(m.ends_with(": not UTF-8 text (byte 2)"), "{m}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&p).unwrap();
        match read_capped(&p, "policy file") {
            Err(Error::Io { what, .. }) => assert!(what.starts_with("cannot read ")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_capped_stops_a_growing_stream_at_the_cap() {
        use crate::error::Error;
        // A FIFO has no size: the read stops one byte past the cap.
        let p = scratch("fifo");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { nix::libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let w = p.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().write(true).open(&w).unwrap();
            // Stops when the reader closes (EPIPE).
            let _ = f.write_all(&[b'x'; 4096]);
        });
        match read_capped_at(&p, "Trivy report", 1000) {
            Err(Error::Data(m)) => assert!(m.contains("is larger than 0 MiB"), "{m}"),
            other => panic!("{other:?}"),
        }
        writer.join().unwrap();
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn the_documented_examples_parse() {
        let help = FORMAT_HELP;
        let start = help.find("\n  {\n").unwrap();
        let end = help.find("\n  }\n").unwrap();
        let p = parse(&help[start..end + 4]).unwrap();
        assert_eq!(p.rules.len(), 7);
        assert_eq!(p.rules[5].scope, Scope::Container(ID.into()));
        assert_eq!(p.rules[6].action, Action::Monitor);
        let doc = include_str!("policy.rs");
        let start = doc.find("//! ```json\n").unwrap() + 12;
        let end = start + doc[start..].find("//! ```\n").unwrap();
        let json: String = doc[start..end]
            .lines()
            .map(|l| l.strip_prefix("//!").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse(&json).unwrap(), p);
    }

    #[test]
    fn path_errors_escape_what_they_quote() {
        assert_eq!(
            check_path("/a\u{1b}[31m//b").unwrap_err(),
            "\"/a\\x1b[31m//b\" is not normalised: it contains \"//\""
        );
        assert_eq!(
            check_cgroup_path("x\n").unwrap_err(),
            "\"x\\n\" is not an absolute path (it must start with \"/\")"
        );
    }
}
