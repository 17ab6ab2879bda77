//! Reading one rule of a policy file: its type, name, match, access or
//! mount field, action and scope, each problem with its JSON path.

use super::check::{check_fstype, check_rule_name};
use super::parse::{get, index, join, Checker, Json};
use super::{Action, Match, MountField, Rule, Scope, Spec};

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

pub(super) fn check_rule(c: &mut Checker, path: &str, v: &Json, version: u64) -> Option<Rule> {
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

#[cfg(test)]
mod tests {
    use crate::policy::testutil::*;
    use crate::policy::*;

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
}
