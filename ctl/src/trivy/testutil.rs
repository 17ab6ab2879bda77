//! Test data shared by the trivy module's unit tests: reports built from
//! JSON, a misconfiguration, the scope the tests derive for.

use super::{parse_report, rule_name, scope_tag, Derivation, Report};
use crate::policy::Scope;

pub(super) fn report(results: serde_json::Value) -> Report {
    let v = serde_json::json!({
        "SchemaVersion": 2,
        "ArtifactName": "deploy",
        "ArtifactType": "filesystem",
        "Results": results
    });
    parse_report(&v.to_string()).unwrap()
}

pub(super) fn misconf(id: &str, avd: &str, title: &str, msg: &str) -> serde_json::Value {
    serde_json::json!({
        "Type": "Kubernetes Security Check", "ID": id, "AVDID": avd, "Title": title,
        "Message": msg, "Severity": "HIGH", "Status": "FAIL",
        "CauseMetadata": {"Provider": "Kubernetes", "Code": {"Lines": null}}
    })
}

pub(super) const ID: &str = "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";

pub(super) fn scope() -> Scope {
    Scope::Container(ID.into())
}

/// The base names of the derived rules (each checked to carry the
/// derivation's scope tag).
pub(super) fn names(d: &Derivation) -> Vec<&str> {
    let prefix = format!("tv-{}-", scope_tag(&d.scope));
    d.policy
        .rules
        .iter()
        .map(|r| r.name.strip_prefix(prefix.as_str()).unwrap())
        .collect()
}

/// The full name of base rule `base` for [`scope`].
pub(super) fn n(base: &str) -> String {
    rule_name(base, &scope())
}
