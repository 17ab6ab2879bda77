//! The policy written out: the file format's help text, the file format
//! itself (`to_json`), and `policy show`'s text and one-line summary.

use crate::abi;
use serde::Serialize;

use super::{default_sockets, name_from, Action, ActivePolicy, MountField, Policy, Scope, Spec};

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
            format!(
                "{} ({})",
                crate::status::rfc3339_utc(a.loaded_ns),
                crate::status::ago(a.loaded_ns, crate::status::now_ns())
            )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testutil::*;
    use crate::policy::*;

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
        // A loaded policy says when, and how long ago, for people.
        let mut loaded = from_abi(&to_abi(&p, "x").header, &to_abi(&p, "x").rules).unwrap();
        loaded.loaded_ns = crate::status::now_ns() - 90 * 1_000_000_000;
        let t2 = to_text(&loaded);
        assert!(t2.contains("Z (1m 30s ago)\n"), "{t2}");
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
    fn the_documented_examples_parse() {
        let help = FORMAT_HELP;
        let start = help.find("\n  {\n").unwrap();
        let end = help.find("\n  }\n").unwrap();
        let p = parse(&help[start..end + 4]).unwrap();
        assert_eq!(p.rules.len(), 7);
        assert_eq!(p.rules[5].scope, Scope::Container(ID.into()));
        assert_eq!(p.rules[6].action, Action::Monitor);
        let doc = include_str!("mod.rs");
        let start = doc.find("//! ```json\n").unwrap() + 12;
        let end = start + doc[start..].find("//! ```\n").unwrap();
        let json: String = doc[start..end]
            .lines()
            .map(|l| l.strip_prefix("//!").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse(&json).unwrap(), p);
    }
}
