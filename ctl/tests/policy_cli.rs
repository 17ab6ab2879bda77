//! `rules`, `policy` and `policy from-trivy` as a user runs them, without a
//! device: validation, derivation from Trivy reports, exit codes, streams.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NO_DEVICE: &str = "/nonexistent/escguard";

fn ctl(args: &[&str]) -> Output {
    ctl_stdin(args, None)
}

fn ctl_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_escguardctl"))
        .args(args)
        .env_remove("ESCGUARD_DEVICE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run escguardctl");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The container every derivation here is scoped to.
const ID: &str = "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/trivy/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory for this test, emptied first.
fn scratch(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const EXAMPLE: &str = r#"{
  "version": 1,
  "name": "web-tier",
  "runtime_sockets": ["/run/containerd/containerd.sock"],
  "rules": [
    {"name": "no-shadow", "type": "file", "path": "/etc/shadow", "match": "exact", "access": ["read", "write"]},
    {"name": "no-proc-sys-write", "type": "file", "path": "/proc/sys", "match": "prefix", "access": ["write"], "enabled": true},
    {"name": "no-host-dev-mounts", "type": "mount", "source": "/dev", "match": "prefix"},
    {"name": "no-overlay", "type": "mount", "fstype": "overlay"},
    {"name": "no-mnt-target", "type": "mount", "target": "/mnt", "match": "prefix"}
  ]
}
"#;

fn device_absent(o: &Output) {
    let code = o.status.code();
    // 3 when the module is absent on this machine, 4 if it happens to be loaded.
    assert!(code == Some(3) || code == Some(4), "{code:?} {}", err(o));
    assert!(
        err(o).starts_with("escguardctl: the escguard module is"),
        "{}",
        err(o)
    );
}

#[test]
fn check_accepts_the_documented_example() {
    let d = scratch("check_ok");
    let f = write(&d, "web.json", EXAMPLE);
    let o = ctl(&["policy", "check", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o),
        format!("{f}: valid policy 'web-tier': 5 rules, 1 runtime socket\n")
    );
    assert!(o.stderr.is_empty());
    // Standard input too, named so in messages.
    let o = ctl_stdin(&["policy", "check", "-"], Some(EXAMPLE));
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).starts_with("<stdin>: valid"));
}

#[test]
fn check_reports_every_problem_with_its_path_and_exits_65() {
    let d = scratch("check_bad");
    let bad = EXAMPLE
        .replace(
            r#""write"], "enabled": true"#,
            r#""write", "exec"], "enabled": true"#,
        )
        .replace(r#""no-overlay""#, r#""core_pattern""#)
        .replace(r#""source": "/dev""#, r#""source": "/dev/""#);
    let f = write(&d, "bad.json", &bad);
    let o = ctl(&["policy", "check", &f]);
    assert_eq!(o.status.code(), Some(65));
    assert!(o.stdout.is_empty());
    assert_eq!(
        err(&o),
        format!(
            "escguardctl: {f}: rules[1].access[1]: \"exec\" is not an access (expected \"read\" or \"write\")\n\
             escguardctl: {f}: rules[2].source: \"/dev/\" is not normalised: it ends with \"/\"\n\
             escguardctl: {f}: rules[3].name: \"core_pattern\" is the name of a preset; choose another name\n\
             escguardctl: {f}: 3 problems; see 'escguardctl policy --help'\n"
        )
    );
}

#[test]
fn syntax_errors_give_line_and_column() {
    let o = ctl_stdin(
        &["policy", "check", "-"],
        Some("{\"version\": 1,\n \"rules\": [\n  {\"name\": \"a\",}]}"),
    );
    assert_eq!(o.status.code(), Some(65));
    assert!(
        err(&o)
            .starts_with("escguardctl: <stdin>: line 3, column 16: invalid JSON: trailing comma\n"),
        "{}",
        err(&o)
    );
}

#[test]
fn unreadable_file_is_an_io_error() {
    let o = ctl(&["policy", "check", "/nonexistent/policy.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).starts_with("escguardctl: cannot read /nonexistent/policy.json: "));
    let d = scratch("not_utf8");
    let p = d.join("bin.json");
    std::fs::write(&p, b"{\"version\":1,\xff}").unwrap();
    let o = ctl(&["policy", "check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(65));
    assert!(err(&o).contains("not UTF-8 text (byte 13)"), "{}", err(&o));
}

#[test]
fn load_validates_before_touching_the_device() {
    let d = scratch("load");
    let bad = write(&d, "bad.json", r#"{"version": 3, "rules": []}"#);
    // Invalid: refused with 65 even though there is no device.
    let o = ctl(&["policy", "load", &bad, "--device", NO_DEVICE]);
    assert_eq!(o.status.code(), Some(65));
    assert!(
        err(&o).contains("version: unsupported version 3"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("nothing was loaded, the active policy stays"));
    // Valid: then the device is needed, and its absence is reported as usual.
    let good = write(&d, "good.json", EXAMPLE);
    let o = ctl(&["policy", "load", &good, "--device", NO_DEVICE]);
    device_absent(&o);
    assert!(o.stdout.is_empty());
}

#[test]
fn device_commands_without_a_device() {
    for args in [
        &["policy", "show"][..],
        &["policy", "show", "--json"],
        &["rules", "list"],
        &["rules", "list", "--json"],
        &["rules", "enable", "core_pattern"],
        &["rules", "disable", "no-shadow", "core_pattern"],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--device", NO_DEVICE]);
        let o = ctl(&a);
        device_absent(&o);
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(ctl(&["rules", "enable"]).status.code(), Some(2));
    assert_eq!(ctl(&["rules", "frobnicate"]).status.code(), Some(2));
    assert_eq!(ctl(&["policy", "load"]).status.code(), Some(2));
    let long = "n".repeat(64);
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("clean-image.json"),
        "--name",
        &long,
        "--container",
        ID,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("at most 63 bytes"), "{}", err(&o));
}

#[test]
fn help_documents_rules_policy_format_and_trivy_mapping() {
    let o = ctl(&["--help"]);
    let s = out(&o);
    for want in ["rules", "policy", "65 bad input data"] {
        assert!(s.contains(want), "--help lacks {want:?}:\n{s}");
    }
    let s = out(&ctl(&["rules", "--help"]));
    for p in [
        "release_agent",
        "core_pattern",
        "modprobe_path",
        "sysrq_trigger",
        "uevent_helper",
        "host_block_device",
        "runtime_socket",
        "sensitive_mount",
        "block_device_mount",
        "open_by_handle_at",
        "kernel_module",
        "ptrace_host",
        "usermode_helper",
    ] {
        assert!(
            s.contains(&format!("  {p} ")),
            "rules --help lacks {p}:\n{s}"
        );
    }
    let s = out(&ctl(&["policy", "--help"]));
    for want in [
        "\"version\": 2",
        "\"action\": \"monitor\"",
        "{\"container\": ID}",
        "runtime_sockets",
        "\"match\": \"prefix\"",
        "source | target | fstype",
        "Unknown fields and repeated keys are errors",
    ] {
        assert!(s.contains(want), "policy --help lacks {want:?}:\n{s}");
    }
    let s = out(&ctl(&["policy", "from-trivy", "--help"]));
    for want in [
        "KSV017",
        "KSV023",
        "KSV010",
        "KSV006",
        "DS002",
        "/proc/self/exe",
        "--output",
        "--load",
        "--container <ID>",
        "--cgroup <PATH>",
        "--replace",
        "no-host-shm (/dev/shm)",
    ] {
        assert!(s.contains(want), "from-trivy --help lacks {want:?}:\n{s}");
    }
}

/// Derives from a fixture to standard output and checks it against the
/// expected policy, byte for byte, and that `policy check` accepts it.
fn derive_matches(report: &str, expected: &str) -> String {
    let o = ctl(&["policy", "from-trivy", &fixture(report), "--container", ID]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let want = std::fs::read_to_string(fixture(expected)).unwrap();
    assert_eq!(out(&o), want, "derived policy differs from {expected}");
    let c = ctl_stdin(&["policy", "check", "-"], Some(&out(&o)));
    assert_eq!(c.status.code(), Some(0), "{}", err(&c));
    err(&o)
}

#[test]
fn trivy_image_with_vulnerable_runc_containerd_and_kernel() {
    let why = derive_matches("image-runc-kernel.json", "expected/image-runc-kernel.json");
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("expected/image-runc-kernel.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        policy["name"],
        "trivy:registry.example.com/platform/node-tools:1.4"
    );
    assert!(policy.get("runtime_sockets").is_none());
    let names: Vec<&str> = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "tv-cc893351-no-cgroup-mount",
            "tv-cc893351-runc-usr-bin",
            "tv-cc893351-runc-usr-sbin",
            "tv-cc893351-runc-usr-local-bin",
            "tv-cc893351-containerd-bin",
            "tv-cc893351-containerd-shim-bin",
        ]
    );
    // The explanation goes to stderr when the policy goes to stdout, and
    // names each rule with its findings and reason.
    for want in [
        "Derived 6 rules:",
        "- tv-cc893351-no-cgroup-mount: deny mount of file system type cgroup\n",
        "  from: CVE-2022-0185 (HIGH) in linux-image-5.10.0-10-amd64 5.10.84-1 (fixed in 5.10.92-1)",
        "CVE-2019-5736 style overwrite of the runtime binary",
        "caught by the binary's own path",
        "- tv-cc893351-containerd-shim-bin: deny open for write of /usr/bin/containerd-shim-runc-v2\n  for:  vulnerable containerd\n  why:  as for tv-cc893351-runc-usr-bin\n  from: the same findings as tv-cc893351-containerd-bin\n",
        "CVE-2024-21626 (HIGH) in github.com/opencontainers/runc v1.1.9 (fixed in 1.1.12), usr/local/bin/containerd",
        "  release_agent       kernel exploits",
        "  core_pattern        kernel exploits",
        "1 in linux-libc-dev (userspace kernel headers, not a running kernel)",
    ] {
        assert!(why.contains(want), "explanation lacks {want:?}:\n{why}");
    }
}

#[test]
fn trivy_kubernetes_config_scan() {
    let why = derive_matches("k8s-config.json", "expected/k8s-config.json");
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("expected/k8s-config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(policy["name"], "trivy:deploy");
    assert_eq!(
        policy["runtime_sockets"],
        serde_json::json!([
            "/run/containerd/containerd.sock",
            "/run/docker.sock",
            "/run/crio/crio.sock",
            "/run/podman/podman.sock",
            "/var/run/docker.sock",
            "/var/run/containerd/containerd.sock"
        ])
    );
    let rules: Vec<(String, String)> = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let what = ["path", "source", "fstype"]
                .iter()
                .find_map(|k| r.get(*k))
                .unwrap()
                .as_str()
                .unwrap();
            (r["name"].as_str().unwrap().to_string(), what.to_string())
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("tv-cc893351-no-dev-mount", "/dev"),
        ("tv-cc893351-no-cgroup-mount", "cgroup"),
        ("tv-cc893351-no-proc-sys-write", "/proc/sys"),
        ("tv-cc893351-no-sysrq-write", "/proc/sysrq-trigger"),
        ("tv-cc893351-no-sys-kernel-write", "/sys/kernel"),
        ("tv-cc893351-no-host-init-proc", "/proc/1"),
        ("tv-cc893351-no-etc-k8s-write", "/etc/kubernetes"),
        ("tv-cc893351-no-kubelet-write", "/var/lib/kubelet"),
        ("tv-cc893351-no-containerd-state", "/var/lib/containerd"),
        ("tv-cc893351-no-docker-state", "/var/lib/docker"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(rules, want);
    for want in [
        "9 findings",
        "Derived 10 rules and the runtime sockets:",
        "  from: KSV001 (MEDIUM) Can elevate its own privileges in node-agent.yaml: Container 'agent' of DaemonSet 'node-agent'",
        "        KSV017 (HIGH) Privileged container in node-agent.yaml",
        "  from: the same findings as tv-cc893351-no-dev-mount\n",
        "  from: KSV010 (HIGH) Access to host PID in node-agent.yaml",
        "  from: KSV023 (MEDIUM) hostPath volumes mounted in node-agent.yaml",
        "- runtime_sockets: /run/containerd/containerd.sock",
        "  from: KSV006 (HIGH) hostPath volume mounted with docker.sock",
        "- no rule for: running as root\n",
        "  from: DS002 (HIGH) Image user should not be 'root' in Dockerfile",
        "        KSV012 (MEDIUM) Runs as root user",
        "  ptrace_host ",
        "Not escape-related (no rule): failed checks KSV011.",
    ] {
        assert!(why.contains(want), "explanation lacks {want:?}:\n{why}");
    }
    // KSV008 is a PASS in this report: no /dev/shm rule.
    assert!(
        !why.contains("KSV008") && !why.contains("/dev/shm"),
        "{why}"
    );
}

#[test]
fn trivy_clean_report_derives_nothing_and_says_so() {
    let why = derive_matches("clean-image.json", "expected/clean-image.json");
    assert!(
        why.contains("alpine:3.20.3 (container_image), 0 findings"),
        "{why}"
    );
    assert!(
        why.contains("Nothing escape-related found: the policy has no rules"),
        "{why}"
    );
}

#[test]
fn trivy_output_file_puts_the_explanation_on_stdout() {
    let d = scratch("trivy_output");
    let f = d.join("derived.json");
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("k8s-config.json"),
        "--output",
        f.to_str().unwrap(),
        "--name",
        "node agents",
        "--container",
        ID,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(o.stderr.is_empty(), "{}", err(&o));
    let s = out(&o);
    assert!(
        s.contains("- tv-cc893351-no-dev-mount: deny mount with source /dev or below"),
        "{s}"
    );
    assert!(s.ends_with(&format!(
        "Wrote policy 'node agents': 10 rules, 6 runtime sockets to {}.\n",
        f.display()
    )));
    let written = std::fs::read_to_string(&f).unwrap();
    let want = std::fs::read_to_string(fixture("expected/k8s-config.json"))
        .unwrap()
        .replace("\"trivy:deploy\"", "\"node agents\"");
    assert_eq!(written, want);
    let c = ctl(&["policy", "check", f.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(0));
}

#[test]
fn trivy_load_without_device_writes_the_file_then_reports_the_device() {
    let d = scratch("trivy_load");
    let f = d.join("p.json");
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("image-runc-kernel.json"),
        "-o",
        f.to_str().unwrap(),
        "--load",
        "--cgroup",
        "/kubepods.slice/kubepods-besteffort.slice",
        "--device",
        NO_DEVICE,
    ]);
    device_absent(&o);
    assert!(f.exists());
}

#[test]
fn trivy_bad_reports_exit_65() {
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("malformed-not-trivy.json"),
        "--container",
        ID,
    ]);
    assert_eq!(o.status.code(), Some(65));
    assert!(o.stdout.is_empty());
    assert_eq!(
        err(&o),
        format!(
            "escguardctl: {}: not a Trivy JSON report: it has no SchemaVersion (produce one with \
             'trivy image --format json', 'trivy fs --format json' or 'trivy config --format json')\n",
            fixture("malformed-not-trivy.json")
        )
    );
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("malformed-truncated.json"),
        "--container",
        ID,
    ]);
    assert_eq!(o.status.code(), Some(65));
    assert!(o.stdout.is_empty());
    assert!(
        err(&o).ends_with(
            "malformed-truncated.json: line 25, column 1: the JSON text ends too early (EOF while parsing a value)\n"
        ),
        "{}",
        err(&o)
    );
    // A policy file is not a Trivy report either.
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("expected/k8s-config.json"),
        "--container",
        ID,
    ]);
    assert_eq!(o.status.code(), Some(65));
    let o = ctl_stdin(
        &["policy", "from-trivy", "-", "--container", ID],
        Some(r#"{"SchemaVersion": 3}"#),
    );
    assert_eq!(o.status.code(), Some(65));
    assert!(
        err(&o).contains("unsupported Trivy report SchemaVersion 3"),
        "{}",
        err(&o)
    );
}

#[test]
fn trivy_needs_a_scope_and_says_why() {
    let o = ctl(&["policy", "from-trivy", &fixture("k8s-config.json")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    for want in [
        "--container ID or --cgroup PATH",
        "no-host-init-proc refuses /proc/1",
        "no-host-shm refuses /dev/shm",
    ] {
        assert!(err(&o).contains(want), "{want:?} not in {}", err(&o));
    }
    let both = ctl(&[
        "policy",
        "from-trivy",
        &fixture("k8s-config.json"),
        "--container",
        ID,
        "--cgroup",
        "/x",
    ]);
    assert_eq!(both.status.code(), Some(2));
    let bad = ctl(&[
        "policy",
        "from-trivy",
        &fixture("k8s-config.json"),
        "--container",
        "../etc",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        err(&bad).contains("container IDs use only A-Z a-z 0-9 _ . -"),
        "{}",
        err(&bad)
    );
    let bad = ctl(&[
        "policy",
        "from-trivy",
        &fixture("k8s-config.json"),
        "--cgroup",
        "/sys/fs/cgroup/kubepods.slice",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        err(&bad).contains("is where cgroupfs is mounted"),
        "{}",
        err(&bad)
    );
    let replace = ctl(&[
        "policy",
        "from-trivy",
        &fixture("k8s-config.json"),
        "--container",
        ID,
        "--replace",
    ]);
    assert_eq!(replace.status.code(), Some(2));
}

#[test]
fn trivy_rules_are_all_scoped() {
    let o = ctl(&[
        "policy",
        "from-trivy",
        &fixture("k8s-config.json"),
        "--cgroup",
        "/kubepods.slice/kubepods-burstable.slice",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let p: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(p["version"], 2);
    let rules = p["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 10);
    for r in rules {
        assert_eq!(
            r["scope"],
            serde_json::json!({"cgroup": "/kubepods.slice/kubepods-burstable.slice"}),
            "{r}"
        );
    }
    assert!(
        err(&o).contains(
            "Scope: every rule applies only to tasks of cgroup /kubepods.slice/kubepods-burstable.slice"
        ),
        "{}",
        err(&o)
    );
}

#[test]
fn inputs_over_64_mib_are_refused_unread() {
    let d = scratch("big_input");
    let p = d.join("big.json");
    std::fs::File::create(&p)
        .unwrap()
        .set_len((64 << 20) + 1)
        .unwrap();
    let o = ctl(&["policy", "check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(65));
    assert!(
        err(&o).contains("the policy file is 67108865 bytes; escguardctl reads at most 64 MiB"),
        "{}",
        err(&o)
    );
    let o = ctl(&[
        "policy",
        "from-trivy",
        p.to_str().unwrap(),
        "--container",
        ID,
    ]);
    assert_eq!(o.status.code(), Some(65));
    assert!(
        err(&o).contains("the Trivy report is 67108865 bytes"),
        "{}",
        err(&o)
    );
}

/// Rule names carry a tag of the scope: the same workload always gets the
/// same names, another workload other names (the guest suite's workloads
/// are pinned here so that a change of the scheme is seen).
#[test]
fn trivy_rule_names_depend_on_the_scope() {
    let names = |flag: &str, scope: &str| -> Vec<String> {
        let o = ctl(&[
            "policy",
            "from-trivy",
            &fixture("k8s-config.json"),
            flag,
            scope,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let p: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        p["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let a = names("--container", "trivy-rule-enforced");
    assert_eq!(a[2], "tv-c116ccf2-no-proc-sys-write");
    assert_eq!(a, names("--container", "trivy-rule-enforced"));
    let b = names("--container", "other-workload");
    assert_eq!(b[2], "tv-bce91fd5-no-proc-sys-write");
    let c = names("--cgroup", "/kubepods.slice/kubepods-burstable.slice");
    for n in a.iter().chain(&b).chain(&c) {
        assert!(n.len() <= 31 && n.starts_with("tv-"), "{n}");
    }
    assert!(a.iter().all(|n| !b.contains(n) && !c.contains(n)));
    assert!(b.iter().all(|n| !c.contains(n)));
}
