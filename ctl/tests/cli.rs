//! The built binary behaves like a Unix tool: help, exit codes, stderr.
use std::process::Command;

fn ctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_escguardctl"))
        .args(args)
        .env_remove("ESCGUARD_DEVICE")
        .output()
        .expect("run escguardctl")
}

#[test]
fn help_explains_commands_and_exit_codes() {
    let o = ctl(&["--help"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    for want in ["status", "metrics", "Exit status", "not loaded", "ABI"] {
        assert!(s.contains(want), "--help lacks {want:?}:\n{s}");
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(ctl(&["status", "--bogus"]).status.code(), Some(2));
    assert_eq!(ctl(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn non_escguard_device_exits_6_with_message_on_stderr_only() {
    let o = ctl(&["status", "--device", "/dev/null"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("escguardctl: ABI mismatch"));
}

#[test]
fn missing_device_exits_3_or_4() {
    let o = ctl(&["status", "--device", "/nonexistent/escguard", "--json"]);
    // 3 when the module is absent on this machine, 4 if it happens to be loaded.
    let code = o.status.code();
    assert!(code == Some(3) || code == Some(4), "{code:?}");
    assert!(o.stdout.is_empty());
}

#[test]
fn version_matches_repository_version_file() {
    let v = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../VERSION")).unwrap();
    assert_eq!(v.trim(), env!("CARGO_PKG_VERSION"));
    let o = ctl(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("escguardctl {}", v.trim())
    );
}

#[test]
fn device_is_an_option_of_the_commands_that_use_it_only() {
    // Before the subcommand, or on one that needs no device: a usage error.
    assert_eq!(
        ctl(&["--device", "/dev/null", "status"]).status.code(),
        Some(2)
    );
    assert_eq!(
        ctl(&["policy", "check", "-", "--device", "/dev/null"])
            .status
            .code(),
        Some(2)
    );
    // Rules take it before or after their subcommand.
    for args in [
        &["rules", "--device", "/dev/null", "list"][..],
        &["rules", "list", "--device", "/dev/null"],
        &["metrics", "--device", "/dev/null"],
        &["tail", "--device", "/dev/null"],
        &["policy", "show", "--device", "/dev/null"],
    ] {
        assert_eq!(ctl(args).status.code(), Some(6), "{args:?}");
    }
    let o = ctl(&["metrics", "--help"]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("--device") && s.contains("OpenMetrics"), "{s}");
}

#[test]
fn dist_files_writes_completions_and_man_pages() {
    let d = std::env::temp_dir().join(format!("escguard-dist-{}", std::process::id()));
    let o = ctl(&["dist-files", "--out-dir", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "completions/escguardctl.bash",
        "completions/_escguardctl",
        "completions/escguardctl.fish",
        "man/escguardctl.8",
        "man/escguardctl-metrics.8",
        "man/escguardctl-rules-list.8",
        "man/escguardctl-policy-from-trivy.8",
    ] {
        let text = std::fs::read_to_string(d.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(text.contains("escguardctl"), "{f}");
    }
    let man = std::fs::read_to_string(d.join("man/escguardctl.8")).unwrap();
    assert!(
        man.contains(".TH escguardctl 8"),
        "{}",
        &man[..200.min(man.len())]
    );
    let bash = std::fs::read_to_string(d.join("completions/escguardctl.bash")).unwrap();
    assert!(bash.contains("metrics"));
    // Hidden from users: not in --help.
    let help = String::from_utf8_lossy(&ctl(&["--help"]).stdout).to_string();
    assert!(!help.contains("dist-files"));
    std::fs::remove_dir_all(&d).unwrap();
}
