//! The Trivy JSON report (SchemaVersion 2) as far as it is read here, and
//! `parse_report` with its one-line errors.

use crate::policy;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    #[serde(default)]
    pub schema_version: Option<u64>,
    #[serde(default)]
    pub artifact_name: Option<String>,
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(skip)]
    pub results: Vec<ScanResult>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ScanResult {
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub vulnerabilities: Option<Vec<Vulnerability>>,
    #[serde(default)]
    pub misconfigurations: Option<Vec<Misconfiguration>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Vulnerability {
    #[serde(rename = "VulnerabilityID", default)]
    pub vulnerability_id: Option<String>,
    #[serde(default)]
    pub pkg_name: Option<String>,
    #[serde(default)]
    pub installed_version: Option<String>,
    #[serde(default)]
    pub fixed_version: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Misconfiguration {
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
    #[serde(rename = "AVDID", default)]
    pub avdid: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub resolution: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

pub(super) fn s(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("")
}

const HOW_TO: &str =
    "produce one with 'trivy image --format json', 'trivy fs --format json' or 'trivy config --format json'";

/// Parses a Trivy JSON report. Errors are one line, without the file name.
pub fn parse_report(text: &str) -> Result<Report, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let (line, col, msg) = policy::json_error(&e);
        format!("line {line}, column {col}: {msg}")
    })?;
    let Some(obj) = v.as_object() else {
        return Err(format!(
            "not a Trivy JSON report: the top level is not an object ({HOW_TO})"
        ));
    };
    if obj.contains_key("ClusterName") {
        return Err(
            "this is a 'trivy k8s' report, which escguardctl does not read; scan the manifests \
             with 'trivy config --format json' or the images with 'trivy image --format json'"
                .into(),
        );
    }
    match obj.get("SchemaVersion") {
        None => {
            return Err(format!(
                "not a Trivy JSON report: it has no SchemaVersion ({HOW_TO})"
            ))
        }
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(2) => {}
        Some(other) => {
            return Err(format!(
                "unsupported Trivy report SchemaVersion {other}; escguardctl reads SchemaVersion 2 \
                 (Trivy 0.20 and later)"
            ))
        }
    }
    let mut report: Report =
        serde_json::from_value(v.clone()).map_err(|e| format!("not a valid Trivy report: {e}"))?;
    match obj.get("Results") {
        // Trivy omits Results when it found nothing to scan; a report
        // still names its artifact.
        None if report.artifact_name.is_some() || report.artifact_type.is_some() => {}
        None => {
            return Err(format!(
                "not a Trivy JSON report: it has neither Results nor ArtifactName ({HOW_TO})"
            ))
        }
        Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(list)) => {
            for (i, r) in list.iter().enumerate() {
                let r: ScanResult = serde_json::from_value(r.clone())
                    .map_err(|e| format!("not a valid Trivy report: Results[{i}]: {e}"))?;
                report.results.push(r);
            }
        }
        Some(other) => {
            return Err(format!(
                "not a valid Trivy report: Results is not an array but {}",
                match other {
                    serde_json::Value::Object(_) => "an object",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Number(_) => "a number",
                    _ => "a boolean",
                }
            ))
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trivy::testutil::*;
    use crate::trivy::*;

    #[test]
    fn not_a_trivy_report() {
        assert!(parse_report("[]")
            .unwrap_err()
            .contains("top level is not an object"));
        assert!(parse_report(r#"{"bomFormat":"CycloneDX"}"#)
            .unwrap_err()
            .starts_with("not a Trivy JSON report: it has no SchemaVersion"));
        assert!(parse_report(r#"{"SchemaVersion":1,"Results":[]}"#)
            .unwrap_err()
            .starts_with("unsupported Trivy report SchemaVersion 1"));
        assert!(parse_report(r#"{"SchemaVersion":2}"#)
            .unwrap_err()
            .contains("neither Results nor ArtifactName"));
        assert!(parse_report(r#"{"SchemaVersion":2,"Results":{}}"#)
            .unwrap_err()
            .contains("Results is not an array but an object"));
        let e =
            parse_report(r#"{"SchemaVersion":2,"Results":[{"Target":"x","Vulnerabilities":3}]}"#)
                .unwrap_err();
        assert!(
            e.starts_with("not a valid Trivy report: Results[0]: invalid type"),
            "{e}"
        );
        assert!(parse_report(r#"{"ClusterName":"c","Resources":[]}"#)
            .unwrap_err()
            .contains("'trivy k8s' report"));
        assert_eq!(
            parse_report("{\n\"SchemaVersion\": 2,\n").unwrap_err(),
            "line 3, column 1: the JSON text ends too early (EOF while parsing a value)"
        );
        // No Results but an artifact: a report of nothing.
        let r =
            parse_report(r#"{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"filesystem"}"#)
                .unwrap();
        assert!(r.results.is_empty());
    }

    #[test]
    fn unknown_fields_and_nulls_are_ignored() {
        let r = report(serde_json::json!([{
            "Target": "t", "Class": "os-pkgs", "Type": "debian", "NewField": {"x": 1},
            "Vulnerabilities": null, "Misconfigurations": null, "Packages": []
        }]));
        let d = derive(&r, "n", &scope()).unwrap();
        assert_eq!(d.findings_total, 0);
        assert!(d.policy.rules.is_empty());
    }
}
