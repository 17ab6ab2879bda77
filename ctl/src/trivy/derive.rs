//! Findings to rules: the derivation of a policy from a parsed report,
//! every rule scoped to the workload (`--container` / `--cgroup`).

use crate::policy::{self, Match, Policy, Rule, Scope, Spec};

use super::catalog::{consequence, Category, CATALOG};
use super::findings::{misconf_categories, misconf_finding, vuln_category, vuln_finding};
use super::report::s;
use super::{Finding, Report};

/// One derived rule, its reasons and the findings behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedRule {
    pub rule: Rule,
    pub why: String,
    /// What the findings have in common, per category that asked for it.
    pub causes: Vec<String>,
    pub findings: Vec<Finding>,
    /// Rules this one made unnecessary (a prefix rule covering them).
    pub covers: Vec<String>,
}

/// Findings that derive no rule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRule {
    pub what: String,
    pub why: String,
    pub findings: Vec<Finding>,
}

/// The sockets part of the derivation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedSockets {
    pub sockets: Vec<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    /// The workload every rule is scoped to (never `Scope::All`).
    pub scope: Scope,
    pub policy: Policy,
    /// In the order of `policy.rules`.
    pub rules: Vec<DerivedRule>,
    pub sockets: Option<DerivedSockets>,
    pub no_rule: Vec<NoRule>,
    /// Presets that must stay enabled: (name, reasons).
    pub presets: Vec<(String, Vec<String>)>,
    /// Failed checks and vulnerabilities that derive nothing: (ids, count).
    pub unrelated_misconfigs: Vec<String>,
    pub unrelated_vulns: usize,
    /// Vulnerabilities in linux-libc-dev (userspace headers), ignored.
    pub libc_dev_vulns: usize,
    pub findings_total: usize,
}

/// The sockets a policy derived from a runtime-socket finding protects:
/// the module's defaults plus the `/var/run` spellings of Docker's and
/// containerd's.
pub fn derived_sockets() -> Vec<String> {
    let mut v = policy::default_sockets();
    for extra in [
        "/var/run/docker.sock",
        "/var/run/containerd/containerd.sock",
    ] {
        if !v.iter().any(|s| s == extra) {
            v.push(extra.to_string());
        }
    }
    v
}

fn push_unique(v: &mut Vec<Finding>, f: &Finding) {
    if !v.contains(f) {
        v.push(f.clone());
    }
}

/// Why `from-trivy` needs a scope; the error of [`derive`] and
/// [`scope_from_flags`] without one.
pub const NO_SCOPE: &str = "policy from-trivy needs the workload the report is about: \
--container ID or --cgroup PATH. Without one the derived rules would apply to every container \
task on the host, and some of them break ordinary containers: no-host-init-proc refuses \
/proc/1, which in a container with its own pid namespace is that container's own init, and \
no-host-shm refuses /dev/shm, every container's own shared memory. A report describes one \
image or manifest: scope its rules to the containers that run it (the ID as 'docker ps \
--no-trunc', 'crictl ps --no-trunc' or 'podman ps --no-trunc' shows it, or the cgroup path after \"0::\" in \
/proc/PID/cgroup of one of its processes, e.g. the pod's /kubepods.slice/... cgroup).";

/// The scope from `from-trivy`'s `--container ID` / `--cgroup PATH`:
/// exactly one is needed (neither: [`NO_SCOPE`]); each is validated, and
/// the error names the flag.
pub fn scope_from_flags(container: Option<&str>, cgroup: Option<&str>) -> Result<Scope, String> {
    match (container, cgroup) {
        (None, None) => Err(NO_SCOPE.to_string()),
        (Some(_), Some(_)) => {
            Err("give one of --container and --cgroup, not both (a rule has one scope)".to_string())
        }
        (Some(id), None) => {
            let scope = Scope::container(id).map_err(|m| format!("--container: {m}"))?;
            // The module matches whole cgroup path components: a shortened
            // ID ('docker ps' shows 12 digits) would match no container.
            if (12..64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(format!(
                    "--container: \"{id}\" looks like a shortened ID ({} hex digits); give the \
                     full 64-digit ID ('docker ps --no-trunc', 'crictl ps --no-trunc', 'podman ps \
                     --no-trunc'): rules match whole IDs, a shortened one matches no container",
                    id.len()
                ));
            }
            Ok(scope)
        }
        (None, Some(p)) => Scope::cgroup(p).map_err(|m| format!("--cgroup: {m}")),
    }
}

/// Derives a policy named `name` from a parsed report, every rule scoped
/// to `scope`. `Scope::All` is refused ([`NO_SCOPE`]).
pub fn derive(report: &Report, name: &str, scope: &Scope) -> Result<Derivation, String> {
    if scope.is_all() {
        return Err(NO_SCOPE.to_string());
    }
    // Findings per category, in report order.
    let mut by_cat: Vec<(Category, Vec<Finding>)> = Vec::new();
    let mut add = |c: Category, f: &Finding| match by_cat.iter_mut().find(|(k, _)| *k == c) {
        Some((_, v)) => push_unique(v, f),
        None => by_cat.push((c, vec![f.clone()])),
    };
    let mut unrelated_misconfigs: Vec<String> = Vec::new();
    let (mut unrelated_vulns, mut libc_dev_vulns, mut total) = (0, 0, 0);
    for r in &report.results {
        let target = s(&r.target);
        for m in r.misconfigurations.iter().flatten() {
            let status = s(&m.status);
            // Trivy writes only failures unless asked for more; a missing
            // Status (old Trivy) is a failure.
            if !(status.is_empty() || status.eq_ignore_ascii_case("FAIL")) {
                continue;
            }
            total += 1;
            let f = misconf_finding(target, m);
            let cats = misconf_categories(m);
            if cats.is_empty() && !unrelated_misconfigs.contains(&f.id) {
                unrelated_misconfigs.push(f.id.clone());
            }
            for c in cats {
                add(c, &f);
            }
        }
        for v in r.vulnerabilities.iter().flatten() {
            total += 1;
            let pkg = s(&v.pkg_name);
            match vuln_category(pkg) {
                Some(c) => add(c, &vuln_finding(target, v)),
                None if pkg == "linux-libc-dev" => libc_dev_vulns += 1,
                None => unrelated_vulns += 1,
            }
        }
    }
    by_cat.sort_by_key(|(c, _)| *c);

    // Rules in catalog order, each with its causes and findings.
    let mut rules: Vec<DerivedRule> = Vec::new();
    for t in CATALOG {
        let mut d: Option<DerivedRule> = None;
        for (c, findings) in &by_cat {
            let con = consequence(*c);
            if !con.rules.contains(&t.name) {
                continue;
            }
            let d = d.get_or_insert_with(|| DerivedRule {
                rule: t.rule(scope),
                why: t.why.split_whitespace().collect::<Vec<_>>().join(" "),
                causes: Vec::new(),
                findings: Vec::new(),
                covers: Vec::new(),
            });
            d.causes.push(con.what.to_string());
            for f in findings {
                push_unique(&mut d.findings, f);
            }
        }
        rules.extend(d);
    }

    // A prefix file rule with at least the same access makes rules at or
    // below its path unnecessary: fold them in.
    let mut i = 0;
    while i < rules.len() {
        let coverer = (0..rules.len()).find(|&j| j != i && covers(&rules[j].rule, &rules[i].rule));
        match coverer {
            Some(j) => {
                let gone = rules.remove(i);
                let j = if j > i { j - 1 } else { j };
                let into = &mut rules[j];
                into.covers.push(format!(
                    "{} ({})",
                    gone.rule.name,
                    gone.rule.describe_match()
                ));
                for c in gone.causes {
                    if !into.causes.contains(&c) {
                        into.causes.push(c);
                    }
                }
                for f in &gone.findings {
                    push_unique(&mut into.findings, f);
                }
            }
            None => i += 1,
        }
    }

    let sockets = by_cat
        .iter()
        .find(|(c, _)| *c == Category::RuntimeSocket)
        .map(|(_, f)| DerivedSockets {
            sockets: derived_sockets(),
            findings: f.clone(),
        });

    let no_rule = by_cat
        .iter()
        .filter_map(|(c, f)| {
            let con = consequence(*c);
            con.no_rule.map(|why| NoRule {
                what: con.what.to_string(),
                why: why.split_whitespace().collect::<Vec<_>>().join(" "),
                findings: f.clone(),
            })
        })
        .collect();

    let mut presets: Vec<(String, Vec<String>)> = Vec::new();
    for (c, _) in &by_cat {
        for (p, why) in consequence(*c).presets {
            match presets.iter_mut().find(|(n, _)| n == p) {
                Some((_, w)) => {
                    if !w.iter().any(|x| x == why) {
                        w.push(why.to_string());
                    }
                }
                None => presets.push((p.to_string(), vec![why.to_string()])),
            }
        }
    }
    // Preset table order.
    presets.sort_by_key(|(n, _)| crate::rules::preset_by_name(n).map_or(u32::MAX, |p| p.id));

    Ok(Derivation {
        scope: scope.clone(),
        policy: Policy {
            name: Some(policy::name_from(name)),
            runtime_sockets: sockets.as_ref().map(|s| s.sockets.clone()),
            rules: rules.iter().map(|d| d.rule.clone()).collect(),
        },
        rules,
        sockets,
        no_rule,
        presets,
        unrelated_misconfigs,
        unrelated_vulns,
        libc_dev_vulns,
        findings_total: total,
    })
}

/// Whether file rule `a` (prefix) makes file rule `b` unnecessary.
fn covers(a: &Rule, b: &Rule) -> bool {
    match (&a.spec, &b.spec) {
        (
            Spec::File {
                path: pa,
                matching: Match::Prefix,
                read: ra,
                write: wa,
            },
            Spec::File {
                path: pb,
                read: rb,
                write: wb,
                ..
            },
        ) => {
            let below = pb == pa
                || pa == "/"
                || (pb.starts_with(pa.as_str()) && pb.as_bytes().get(pa.len()) == Some(&b'/'));
            below && (ra >= rb) && (wa >= wb) && a.name != b.name
        }
        _ => false,
    }
}

/// The default policy name: "trivy:" and the scanned artifact.
pub fn default_name(report: &Report, file: &str) -> String {
    let artifact = s(&report.artifact_name);
    let what = if artifact.is_empty() { file } else { artifact };
    policy::name_from(&format!("trivy:{what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trivy::testutil::*;
    use crate::trivy::*;

    #[test]
    fn privileged_derives_mount_and_kernel_interface_rules() {
        let r = report(serde_json::json!([{
            "Target": "pod.yaml", "Class": "config", "Type": "kubernetes",
            "Misconfigurations": [
                misconf("KSV017", "AVD-KSV-0017", "Privileged container", "Container 'c' should set 'securityContext.privileged' to false"),
                misconf("KSV-0005", "AVD-KSV-0005", "SYS_ADMIN capability added", "Container 'c' should not include 'SYS_ADMIN'")
            ]
        }]));
        let d = derive(&r, "n", &scope()).unwrap();
        assert_eq!(
            names(&d),
            [
                "no-dev-mount",
                "no-cgroup-mount",
                "no-proc-sys-write",
                "no-sysrq-write",
                "no-sys-kernel-write"
            ]
        );
        assert_eq!(d.rules[0].findings.len(), 2);
        assert!(d.rules[0].findings[1]
            .text
            .starts_with("KSV-0005 (HIGH) SYS_ADMIN capability added in pod.yaml: "));
        assert!(d.sockets.is_none());
        assert!(d.presets.iter().any(|(p, _)| p == "sensitive_mount"));
        assert!(policy::parse(&policy::to_json(&d.policy)).is_ok());
    }

    #[test]
    fn host_network_rule_is_folded_into_proc_sys_when_both_apply() {
        let net = misconf("KSV009", "AVD-KSV-0009", "Access to host network", "m");
        let r = report(serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [net]}]));
        assert_eq!(
            names(&derive(&r, "n", &scope()).unwrap()),
            ["no-sysctl-net-write"]
        );
        let r = report(
            serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [
                net,
                misconf("KSV017", "AVD-KSV-0017", "Privileged container", "m")
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(!names(&d).contains(&"no-sysctl-net-write"));
        let ps = d
            .rules
            .iter()
            .find(|r| r.rule.name == n("no-proc-sys-write"))
            .unwrap();
        assert_eq!(
            ps.covers,
            [format!(
                "{} (open for write of /proc/sys/net or below)",
                n("no-sysctl-net-write")
            )]
        );
        assert!(ps.causes.iter().any(|c| c.contains("network")));
        assert_eq!(ps.findings.len(), 2);
    }

    #[test]
    fn docker_sock_by_id_or_by_text_sets_sockets() {
        let r = report(
            serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [
                {"ID": "KSV999", "Title": "custom", "Message": "mounts /var/run/docker.sock", "Status": "FAIL"}
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(d.policy.rules.is_empty());
        assert_eq!(
            d.policy.runtime_sockets.as_deref().unwrap(),
            [
                "/run/containerd/containerd.sock",
                "/run/docker.sock",
                "/run/crio/crio.sock",
                "/run/podman/podman.sock",
                "/var/run/docker.sock",
                "/var/run/containerd/containerd.sock"
            ]
        );
        assert!(policy::parse(&policy::to_json(&d.policy)).is_ok());
    }

    #[test]
    fn passed_checks_and_unrelated_findings_derive_nothing() {
        let mut pass = misconf("KSV017", "AVD-KSV-0017", "Privileged container", "m");
        pass["Status"] = "PASS".into();
        let r = report(
            serde_json::json!([{"Target": "a.yaml", "Misconfigurations": [
                pass,
                misconf("KSV011", "AVD-KSV-0011", "CPU not limited", "m")
            ]}, {"Target": "img (debian 12)", "Class": "os-pkgs", "Vulnerabilities": [
                {"VulnerabilityID": "CVE-1", "PkgName": "bash", "InstalledVersion": "5"},
                {"VulnerabilityID": "CVE-2", "PkgName": "linux-libc-dev", "InstalledVersion": "6"}
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(d.policy.rules.is_empty() && d.sockets.is_none());
        assert_eq!(d.unrelated_misconfigs, ["KSV011"]);
        assert_eq!(
            (d.unrelated_vulns, d.libc_dev_vulns, d.findings_total),
            (1, 1, 3)
        );
        let t = explain(&d, &r, "r.json");
        assert!(t.contains("Nothing escape-related found"), "{t}");
        assert!(
            t.contains(
                "failed checks KSV011; 1 vulnerability in other packages; 1 in linux-libc-dev"
            ),
            "{t}"
        );
    }

    #[test]
    fn root_derives_no_rule_but_says_why() {
        let r = report(
            serde_json::json!([{"Target": "Dockerfile", "Class": "config", "Type": "dockerfile",
            "Misconfigurations": [{"Type": "Dockerfile Security Check", "ID": "DS002", "AVDID": "AVD-DS-0002",
                "Title": "Image user should not be 'root'", "Severity": "HIGH", "Status": "FAIL",
                "Message": "Specify at least 1 USER command in Dockerfile with non-root user as argument"}]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert!(d.policy.rules.is_empty());
        assert_eq!(d.no_rule.len(), 1);
        assert_eq!(d.no_rule[0].what, "running as root");
        let t = explain(&d, &r, "r.json");
        assert!(t.contains("- no rule for: running as root\n"), "{t}");
        assert!(t.contains("  from: DS002 (HIGH) Image user should not be 'root' in Dockerfile: Specify at least 1 USER"), "{t}");
    }

    #[test]
    fn prefix_cover_logic() {
        let rule = |name: &str, path: &str, m: Match, read: bool| Rule {
            name: name.into(),
            spec: Spec::File {
                path: path.into(),
                matching: m,
                read,
                write: true,
            },
            enabled: true,
            action: policy::Action::Enforce,
            scope: Scope::All,
        };
        let a = rule("a", "/proc/sys", Match::Prefix, false);
        assert!(covers(
            &a,
            &rule("b", "/proc/sys/net", Match::Prefix, false)
        ));
        assert!(covers(&a, &rule("b", "/proc/sys", Match::Exact, false)));
        assert!(!covers(
            &a,
            &rule("b", "/proc/sysrq-trigger", Match::Exact, false)
        ));
        assert!(!covers(
            &a,
            &rule("b", "/proc/sys/net", Match::Prefix, true)
        ));
        assert!(!covers(
            &rule("a", "/proc/sys", Match::Exact, false),
            &rule("b", "/proc/sys/x", Match::Exact, false)
        ));
        assert!(covers(
            &rule("a", "/", Match::Prefix, true),
            &rule("b", "/x", Match::Exact, false)
        ));
    }

    #[test]
    fn names_default_to_the_artifact_and_fit() {
        let r = report(serde_json::json!([]));
        assert_eq!(default_name(&r, "f.json"), "trivy:deploy");
        let r = Report::default();
        assert_eq!(default_name(&r, "f.json"), "trivy:f.json");
        let r = Report {
            artifact_name: Some("registry.example.com/".repeat(10)),
            ..Default::default()
        };
        let n = default_name(&r, "f");
        assert_eq!(n.len(), 63);
        assert!(policy::check_policy_name(&n).is_ok());
    }

    /// What `--load` does with two imports: the same workload again
    /// changes nothing, another workload's rules are added beside the
    /// first's, and `--replace` for one workload leaves the other's alone.
    #[test]
    fn imports_for_two_workloads_coexist_and_reimport_is_idempotent() {
        let r = parse_report(include_str!("../../tests/fixtures/trivy/k8s-config.json")).unwrap();
        let other = Scope::Container("other-workload".into());
        let a = derive(&r, "a", &scope()).unwrap().policy;
        let b = derive(&r, "b", &other).unwrap().policy;
        let active = policy::merge(&Policy::default(), &a, false).unwrap();
        assert_eq!(active.rules, a.rules);
        let again = policy::merge(&active, &a, false).unwrap();
        assert_eq!(again.rules, a.rules);
        let both = policy::merge(&active, &b, false).unwrap();
        assert_eq!(both.rules.len(), a.rules.len() + b.rules.len());
        assert!(a.rules.iter().all(|r| both.rules.contains(r)));
        assert!(b.rules.iter().all(|r| both.rules.contains(r)));
        let replaced = policy::merge(&both, &b, true).unwrap();
        assert_eq!(replaced.rules, both.rules);
        assert!(names(&derive(&r, "b", &other).unwrap()).contains(&"no-host-init-proc"));
    }

    #[test]
    fn derivation_needs_a_scope_and_says_why() {
        let r = report(serde_json::json!([]));
        let e = derive(&r, "n", &Scope::All).unwrap_err();
        assert_eq!(e, NO_SCOPE);
        assert!(e.contains("--container ID or --cgroup PATH"), "{e}");
        assert!(e.contains("no-host-init-proc refuses /proc/1"), "{e}");
        assert!(e.contains("no-host-shm refuses /dev/shm"), "{e}");
        assert_eq!(scope_from_flags(None, None).unwrap_err(), NO_SCOPE);
        assert_eq!(
            scope_from_flags(Some(ID), None).unwrap(),
            Scope::Container(ID.into())
        );
        assert_eq!(
            scope_from_flags(None, Some("/kubepods.slice/kubepods-podx.slice")).unwrap(),
            Scope::Cgroup("/kubepods.slice/kubepods-podx.slice".into())
        );
        assert_eq!(
            scope_from_flags(Some("a"), Some("/b")).unwrap_err(),
            "give one of --container and --cgroup, not both (a rule has one scope)"
        );
        assert_eq!(
            scope_from_flags(Some(&ID[..12]), None).unwrap_err(),
            "--container: \"3f2a4b5c6d7e\" looks like a shortened ID (12 hex digits); give the \
             full 64-digit ID ('docker ps --no-trunc', 'crictl ps --no-trunc', 'podman ps --no-trunc'): \
             rules match whole IDs, a shortened one matches no container"
        );
        assert!(scope_from_flags(Some("web1"), None).is_ok());
        assert!(scope_from_flags(Some("deadbeef"), None).is_ok());
        assert_eq!(
            scope_from_flags(Some("a b"), None).unwrap_err(),
            "--container: \"a b\" contains ' '; container IDs use only A-Z a-z 0-9 _ . -"
        );
        assert_eq!(
            scope_from_flags(None, Some("kubepods")).unwrap_err(),
            "--cgroup: \"kubepods\" is not an absolute path (it must start with \"/\")"
        );
    }

    /// The repository's fixtures (`tests/fixtures/trivy`): the derived
    /// rules are the expected ones, every one scoped to the workload.
    #[test]
    fn fixtures_derive_the_expected_rules_all_scoped() {
        let fixtures = [
            (
                include_str!("../../tests/fixtures/trivy/k8s-config.json"),
                include_str!("../../tests/fixtures/trivy/expected/k8s-config.json"),
            ),
            (
                include_str!("../../tests/fixtures/trivy/image-runc-kernel.json"),
                include_str!("../../tests/fixtures/trivy/expected/image-runc-kernel.json"),
            ),
            (
                include_str!("../../tests/fixtures/trivy/clean-image.json"),
                include_str!("../../tests/fixtures/trivy/expected/clean-image.json"),
            ),
        ];
        let cg = Scope::Cgroup(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c2d.slice".into(),
        );
        for scope in [scope(), cg] {
            let mut derived_any = 0;
            for (report_text, expected) in fixtures {
                let r = parse_report(report_text).unwrap();
                let name = default_name(&r, "f.json");
                let d = derive(&r, &name, &scope).unwrap();
                assert_eq!(d.scope, scope);
                assert!(d.policy.rules.iter().all(|r| r.scope == scope));
                assert!(d.rules.iter().all(|r| r.rule.scope == scope));
                derived_any += d.policy.rules.len();
                // The expected names carry the tag of the container scope.
                let mut want = policy::parse(expected).unwrap();
                let from = format!("tv-{}-", scope_tag(&crate::trivy::testutil::scope()));
                for r in &mut want.rules {
                    r.scope = scope.clone();
                    let base = r.name.strip_prefix(from.as_str()).unwrap();
                    r.name = rule_name(base, &scope);
                }
                assert_eq!(d.policy, want);
                // What from-trivy writes, 'policy load' reads back.
                let json = policy::to_json(&d.policy);
                assert_eq!(policy::parse(&json).unwrap(), d.policy);
                let t = explain(&d, &r, "f.json");
                assert!(
                    t.contains(&format!(
                        "Scope: every rule applies only to tasks of {}",
                        scope.describe_full()
                    )),
                    "{t}"
                );
            }
            assert_eq!(derived_any, 7 + 11 - 2);
        }
    }

    #[test]
    fn host_pid_and_ipc_rules_are_scoped_to_the_workload() {
        let r = report(
            serde_json::json!([{"Target": "ds.yaml", "Misconfigurations": [
                misconf("KSV010", "AVD-KSV-0010", "Access to host PID", "m"),
                misconf("KSV008", "AVD-KSV-0008", "Access to host IPC namespace", "m")
            ]}]),
        );
        let d = derive(&r, "n", &scope()).unwrap();
        assert_eq!(names(&d), ["no-host-init-proc", "no-host-shm"]);
        for rule in &d.policy.rules {
            assert_eq!(rule.scope, Scope::Container(ID.into()));
            assert!(
                rule.describe().ends_with(" in container 3f2a4b5c6d7e…"),
                "{}",
                rule.describe()
            );
        }
        let v: serde_json::Value = serde_json::from_str(&policy::to_json(&d.policy)).unwrap();
        assert_eq!(v["rules"][0]["scope"]["container"], ID);
        let t = explain(&d, &r, "r.json");
        assert!(
            t.contains(&format!(
                "Scope: every rule applies only to tasks of container {ID} "
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "- {}: deny open for read or write of /proc/1 or below\n",
                n("no-host-init-proc")
            )),
            "{t}"
        );
    }
}
