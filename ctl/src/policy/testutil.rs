//! Test data shared by the policy module's unit tests: example files and
//! helpers that parse a text and return its problems as strings.

use super::parse;

pub(super) const EXAMPLE: &str = r#"{
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

pub(super) fn problems(text: &str) -> Vec<String> {
    parse(text)
        .unwrap_err()
        .iter()
        .map(|p| p.to_string())
        .collect()
}

/// A valid one-rule policy with `rule` spliced in as its only rule.
pub(super) fn with_rule(rule: &str) -> String {
    format!(r#"{{"version": 1, "rules": [{rule}]}}"#)
}

pub(super) fn one(text: &str) -> String {
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:#?}");
    p[0].clone()
}

pub(super) const ID: &str = "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";

pub(super) const EXAMPLE_V2: &str = r#"{
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

pub(super) fn v2_rule(extra: &str) -> String {
    format!(r#"{{"version":2,"rules":[{{"name":"a","type":"mount","fstype":"nfs",{extra}}}]}}"#)
}
