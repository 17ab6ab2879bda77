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
    for want in ["status", "--device", "Exit status", "not loaded", "ABI"] {
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
    let o = ctl(&["--device", "/dev/null", "status"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("escguardctl: ABI mismatch"));
}

#[test]
fn missing_device_exits_3_or_4() {
    let o = ctl(&["--device", "/nonexistent/escguard", "status", "--json"]);
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
