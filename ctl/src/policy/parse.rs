//! Reading a policy file: a JSON tree that keeps key order and refuses
//! repeated keys, the `Checker` that collects every problem with its JSON
//! path, and the top level of the file (version, name, sockets, rules).

use crate::abi;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

use super::check::{check_path, check_policy_name, VERSIONS};
use super::parse_rule::check_rule;
use super::{Policy, Problem};

// ---------------------------------------------------------------------------
// A JSON tree that keeps key order and refuses repeated keys.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
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
    pub(super) fn what(&self) -> &'static str {
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
// Validation: the Checker, and the top level of the file.

const TOP_FIELDS: &[&str] = &["version", "name", "runtime_sockets", "rules"];

pub(super) struct Checker {
    pub(super) problems: Vec<Problem>,
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

impl Checker {
    pub(super) fn err(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            line_col: None,
            message: message.into(),
        });
    }

    pub(super) fn expect_obj<'a>(
        &mut self,
        path: &str,
        v: &'a Json,
    ) -> Option<&'a [(String, Json)]> {
        match v {
            Json::Obj(o) => Some(o),
            other => {
                self.err(path, format!("expected an object, found {}", other.what()));
                None
            }
        }
    }

    pub(super) fn unknown_fields(
        &mut self,
        path: &str,
        obj: &[(String, Json)],
        allowed: &[&str],
        what: &str,
    ) {
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

    pub(super) fn string<'a>(&mut self, path: &str, v: &'a Json) -> Option<&'a str> {
        match v {
            Json::Str(s) => Some(s),
            other => {
                self.err(path, format!("expected a string, found {}", other.what()));
                None
            }
        }
    }

    pub(super) fn path_value(&mut self, path: &str, v: &Json) -> Option<String> {
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

pub(super) fn get<'a>(obj: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    obj.iter().find(|(k, _)| k == key).map(|(_, v)| v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testutil::*;
    use crate::policy::*;

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
}
