//! The policy as escguardctl holds it: rules, what they match, their
//! action and scope, the policy itself, and a problem found in a file.

use std::fmt;

use super::check::{check_cgroup_path, check_container_id};

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
