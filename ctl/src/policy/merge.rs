//! Adding a policy's rules to the active policy (what `policy from-trivy
//! --load` does) without silently replacing rules that were loaded before.

use crate::abi;

use super::Policy;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testutil::*;
    use crate::policy::*;

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
}
