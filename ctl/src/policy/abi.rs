//! The policy as the ioctls carry it (`escguard_policy` and its
//! `escguard_policy_rule` records): conversion both ways, the module's
//! default sockets, and names cut to fit the ABI's fields.

use crate::abi;

use super::check::NAME_MAX;
use super::{Action, Match, MountField, Policy, Rule, Scope, Spec};

impl Match {
    fn abi(self) -> u32 {
        match self {
            Match::Exact => abi::ESCGUARD_MATCH_EXACT,
            Match::Prefix => abi::ESCGUARD_MATCH_PREFIX,
        }
    }
}

impl MountField {
    fn flag(self) -> u32 {
        match self {
            MountField::Source => abi::ESCGUARD_PF_SOURCE,
            MountField::Target => abi::ESCGUARD_PF_TARGET,
            MountField::Fstype => abi::ESCGUARD_PF_FSTYPE,
        }
    }
}

impl Action {
    fn abi(self) -> u32 {
        match self {
            Action::Enforce => abi::ESCGUARD_RACT_ENFORCE,
            Action::Monitor => abi::ESCGUARD_RACT_MONITOR,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;
    use crate::policy::testutil::*;
    use crate::policy::*;

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
}
