//! The derivation explained for people: each rule with its reasons and
//! the findings behind it, the presets to keep, what derived nothing.

use super::findings::e;
use super::report::s;
use super::{scope_tag, Derivation, DerivedRule, Finding, Report};

const SHOW_FINDINGS: usize = 8;

fn list_findings(out: &mut String, findings: &[Finding]) {
    for (i, f) in findings.iter().take(SHOW_FINDINGS).enumerate() {
        let lead = if i == 0 { "  from: " } else { "        " };
        out.push_str(&format!("{lead}{}\n", f.text));
    }
    if findings.len() > SHOW_FINDINGS {
        out.push_str(&format!(
            "        ... and {} more\n",
            findings.len() - SHOW_FINDINGS
        ));
    }
}

/// The derivation for people: each rule with its reason and findings.
pub fn explain(d: &Derivation, report: &Report, file: &str) -> String {
    let mut out = String::new();
    let artifact = e(s(&report.artifact_name));
    let kind = e(s(&report.artifact_type));
    out.push_str(&format!(
        "{file}: Trivy report{}{}, {} finding{}\n",
        if artifact.is_empty() {
            String::new()
        } else {
            format!(" of {artifact}")
        },
        if kind.is_empty() {
            String::new()
        } else {
            format!(" ({kind})")
        },
        d.findings_total,
        if d.findings_total == 1 { "" } else { "s" },
    ));
    out.push_str(&format!(
        "Scope: every rule applies only to tasks of {} (the runtime sockets, a host-wide \
         setting, to every container)\n",
        d.scope.describe_full()
    ));
    if !d.rules.is_empty() {
        out.push_str(&format!(
            "Rule names: tv-{}-<rule>, the tag from the scope: importing for this workload again \
             gives the same names, other workloads' imports keep theirs\n",
            scope_tag(&d.scope)
        ));
    }
    if d.rules.is_empty() && d.sockets.is_none() {
        out.push_str(
            "\nNothing escape-related found: the policy has no rules (the module's presets and \
             default runtime sockets still apply).\n",
        );
    } else {
        out.push_str(&format!(
            "\nDerived {} rule{}{}:\n",
            d.rules.len(),
            if d.rules.len() == 1 { "" } else { "s" },
            if d.sockets.is_some() {
                " and the runtime sockets"
            } else {
                ""
            }
        ));
    }
    let mut previous: Option<&DerivedRule> = None;
    let mut previous_why: Option<&DerivedRule> = None;
    for r in &d.rules {
        out.push_str(&format!(
            "\n- {}: deny {}\n",
            r.rule.name,
            r.rule.describe_match()
        ));
        out.push_str(&format!("  for:  {}\n", r.causes.join("; ")));
        match previous_why {
            Some(p) if p.why == r.why => {
                out.push_str(&format!("  why:  as for {}\n", p.rule.name));
            }
            _ => {
                out.push_str(&format!("  why:  {}\n", r.why));
                previous_why = Some(r);
            }
        }
        for c in &r.covers {
            out.push_str(&format!("  also covers {c}\n"));
        }
        match previous {
            // Several rules often share their findings: list them once.
            Some(p) if p.findings == r.findings => {
                out.push_str(&format!("  from: the same findings as {}\n", p.rule.name));
            }
            _ => {
                list_findings(&mut out, &r.findings);
                previous = Some(r);
            }
        }
    }
    if let Some(sk) = &d.sockets {
        out.push_str(&format!("\n- runtime_sockets: {}\n", sk.sockets.join(" ")));
        out.push_str("  for:  a container runtime socket mounted into the container\n");
        out.push_str(
            "  why:  a process that can talk to the runtime starts a privileged container on the \
             host; the runtime_socket preset refuses connect() to these sockets (the module's \
             defaults, and the /var/run spellings)\n",
        );
        list_findings(&mut out, &sk.findings);
    }
    for n in &d.no_rule {
        out.push_str(&format!("\n- no rule for: {}\n", n.what));
        out.push_str(&format!("  why:  {}\n", n.why));
        list_findings(&mut out, &n.findings);
    }
    if !d.presets.is_empty() {
        out.push_str("\nKeep these presets enabled (escguardctl rules list):\n");
        for (p, why) in &d.presets {
            out.push_str(&format!("  {p:<19} {}\n", why.join("; ")));
        }
    }
    let mut unrelated = Vec::new();
    if !d.unrelated_misconfigs.is_empty() {
        unrelated.push(format!(
            "failed checks {}",
            d.unrelated_misconfigs.join(", ")
        ));
    }
    if d.unrelated_vulns > 0 {
        unrelated.push(format!(
            "{} vulnerabilit{} in other packages",
            d.unrelated_vulns,
            if d.unrelated_vulns == 1 { "y" } else { "ies" }
        ));
    }
    if d.libc_dev_vulns > 0 {
        unrelated.push(format!(
            "{} in linux-libc-dev (userspace kernel headers, not a running kernel)",
            d.libc_dev_vulns
        ));
    }
    if !unrelated.is_empty() {
        out.push_str(&format!(
            "\nNot escape-related (no rule): {}.\n",
            unrelated.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trivy::testutil::*;
    use crate::trivy::*;

    #[test]
    fn report_strings_are_escaped_in_the_explanation() {
        let v = serde_json::json!({
            "SchemaVersion": 2,
            "ArtifactName": "evil\u{1b}[2J\u{1b}[31mimage",
            "ArtifactType": "container_image\u{202e}",
            "Results": [{
                "Target": "pod.yaml\u{1b}]0;pwned\u{7}",
                "Misconfigurations": [{
                    "ID": "KSV017", "Title": "Privileged \u{1b}[31mcontainer",
                    "Message": "line one\u{9b}31m\u{2066}x\u{2069}", "Severity": "HIGH\r",
                    "Status": "FAIL"
                }, {
                    "ID": "KSV999\u{1b}[1m", "Title": "t", "Status": "FAIL"
                }],
                "Vulnerabilities": [{
                    "VulnerabilityID": "CVE-2024-21626\u{85}", "PkgName": "runc",
                    "InstalledVersion": "1.1.11\u{1b}[K", "FixedVersion": "1.1.12\t",
                    "Title": "runc: leaked fd\u{202e}gnp.exe"
                }]
            }]
        });
        let r = parse_report(&v.to_string()).unwrap();
        // A newline in a title or message: only its first line is shown.
        let d = derive(&r, "n", &scope()).unwrap();
        let t = explain(&d, &r, "r.json");
        for bad in [
            '\u{1b}', '\u{7}', '\r', '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\t',
        ] {
            assert!(!t.contains(bad), "{bad:?} in {t}");
        }
        assert!(
            t.contains("Trivy report of evil\\x1b[2J\\x1b[31mimage (container_image\\u{202e})"),
            "{t}"
        );
        assert!(
            t.contains(
                "  from: KSV017 (HIGH\\r) Privileged \\x1b[31mcontainer in pod.yaml\\x1b]0;pwned\\x07: line one\\u{9b}31m\\u{2066}x\\u{2069}\n"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "CVE-2024-21626\\u{85} in runc 1.1.11\\x1b[K (fixed in 1.1.12\\t), pod.yaml\\x1b]0;pwned\\x07: runc: leaked fd\\u{202e}gnp.exe"
            ),
            "{t}"
        );
        assert!(t.contains("failed checks KSV999\\x1b[1m"), "{t}");
        // Every line the explanation has is one the code wrote.
        let newline_in_message = serde_json::json!({
            "SchemaVersion": 2, "ArtifactName": "a",
            "Results": [{"Target": "t\nFAKE: line", "Misconfigurations": [
                {"ID": "KSV017", "Title": "x", "Message": "m\nFAKE: rule", "Status": "FAIL"}]}]
        });
        let r = parse_report(&newline_in_message.to_string()).unwrap();
        let t = explain(&derive(&r, "n", &scope()).unwrap(), &r, "r.json");
        assert!(!t.lines().any(|l| l.starts_with("FAKE")), "{t}");
        assert!(t.contains("in t\\nFAKE: line: m\n"), "{t}");
        // The policy name from the artifact keeps no control or bidi character.
        let name = default_name(
            &Report {
                artifact_name: Some("img\u{202e}\u{1b}x".into()),
                ..Default::default()
            },
            "f",
        );
        assert_eq!(name, "trivy:img??x");
    }
}
