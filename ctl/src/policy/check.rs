//! Checks of single values of a policy file (paths, names, container IDs,
//! cgroup paths, file system types) and the limits they are held to.

use crate::abi;
use crate::rules;

/// The policy file versions this escguardctl reads: 1 (no action or scope)
/// and 2 (`ESCGUARD_POLICY_VERSION`). It writes 2.
pub const VERSIONS: &[u64] = &[1, 2];
/// Longest container ID.
pub const CONTAINER_ID_MAX: usize = 128;

/// Longest policy name: it travels NUL-terminated in 64 bytes.
pub const NAME_MAX: usize = abi::ESCGUARD_NAME_LEN as usize * 2 - 1;
/// Longest rule name: NUL-terminated in 32 bytes.
pub const RULE_NAME_MAX: usize = abi::ESCGUARD_NAME_LEN as usize - 1;
/// Longest path or pattern: NUL-terminated in 256 bytes.
pub const PATH_MAX: usize = abi::ESCGUARD_PATH_LEN as usize - 1;
/// Longest file system type name.
pub const FSTYPE_MAX: usize = 63;

/// Checks that `s` is an absolute, normalised path that fits the ABI.
pub fn check_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must be an absolute path, found an empty string".into());
    }
    if s.contains('\0') {
        return Err("must not contain a NUL character".into());
    }
    let raw = s;
    let s = crate::escape::text(raw);
    if !raw.starts_with('/') {
        return Err(format!(
            "\"{s}\" is not an absolute path (it must start with \"/\")"
        ));
    }
    if raw.len() > PATH_MAX {
        return Err(format!(
            "is {} bytes long; at most {PATH_MAX} bytes fit",
            raw.len()
        ));
    }
    if raw.contains("//") {
        return Err(format!("\"{s}\" is not normalised: it contains \"//\""));
    }
    if raw.len() > 1 && raw.ends_with('/') {
        return Err(format!("\"{s}\" is not normalised: it ends with \"/\""));
    }
    if raw.split('/').any(|c| c == "." || c == "..") {
        return Err(format!(
            "\"{s}\" is not normalised: it has a \".\" or \"..\" component"
        ));
    }
    Ok(())
}

/// Checks a rule name: 1..31 bytes of [A-Za-z0-9_.-], not a preset's.
pub fn check_rule_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > RULE_NAME_MAX {
        return Err(format!(
            "\"{s}\" is {} bytes long; at most {RULE_NAME_MAX} bytes",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "\"{s}\" contains {c:?}; rule names use only A-Z a-z 0-9 _ . -"
        ));
    }
    if rules::preset_by_name(s).is_some() {
        return Err(format!(
            "\"{s}\" is the name of a preset; choose another name"
        ));
    }
    Ok(())
}

/// Checks a container ID: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}` (what runc,
/// containerd, CRI-O and Podman accept; Docker's are 64 hex digits).
pub fn check_container_id(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > CONTAINER_ID_MAX {
        return Err(format!(
            "is {} bytes long; container IDs have at most {CONTAINER_ID_MAX}",
            s.len()
        ));
    }
    let shown = crate::escape::text(s);
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "\"{shown}\" contains {c:?}; container IDs use only A-Z a-z 0-9 _ . -"
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "\"{shown}\" starts with {:?}; container IDs start with a letter or digit",
            s.chars().next().unwrap_or_default()
        ));
    }
    Ok(())
}

/// Checks a cgroup v2 path as the module compares it: from the cgroup
/// root (not a cgroupfs mount point like /sys/fs/cgroup), absolute,
/// normalised (no `//`, no `.` or `..` component, no trailing `/`), and
/// shorter than `ESCGUARD_PATH_LEN`.
pub fn check_cgroup_path(s: &str) -> Result<(), String> {
    check_path(s)?;
    if s == "/sys/fs/cgroup" || s.starts_with("/sys/fs/cgroup/") {
        return Err(format!(
            "\"{}\" is where cgroupfs is mounted, not a cgroup path: give the path from the \
             cgroup root (as /proc/PID/cgroup shows it after \"0::\")",
            crate::escape::text(s)
        ));
    }
    Ok(())
}

/// Checks a policy name: 1..63 bytes of UTF-8 without control characters.
pub fn check_policy_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty (omit it to use the file's name)".into());
    }
    if s.len() > NAME_MAX {
        return Err(format!(
            "is {} bytes long; at most {NAME_MAX} bytes",
            s.len()
        ));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

pub(super) fn check_fstype(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > FSTYPE_MAX {
        return Err(format!(
            "is {} bytes long; at most {FSTYPE_MAX} bytes",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "\"{s}\" contains {c:?}; file system types use only a-z 0-9 . _ -"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse;
    use crate::policy::testutil::*;

    #[test]
    fn path_errors() {
        let r = |p: &str| {
            with_rule(&format!(
                r#"{{"name":"a","type":"file","path":{p},"access":["read"]}}"#
            ))
        };
        assert_eq!(
            one(&r(r#""""#)),
            "rules[0].path: must be an absolute path, found an empty string"
        );
        assert_eq!(
            one(&r(r#""etc/shadow""#)),
            "rules[0].path: \"etc/shadow\" is not an absolute path (it must start with \"/\")"
        );
        assert_eq!(
            one(&r(r#""/etc//shadow""#)),
            "rules[0].path: \"/etc//shadow\" is not normalised: it contains \"//\""
        );
        assert_eq!(
            one(&r(r#""/etc/""#)),
            "rules[0].path: \"/etc/\" is not normalised: it ends with \"/\""
        );
        assert_eq!(
            one(&r(r#""/etc/./shadow""#)),
            "rules[0].path: \"/etc/./shadow\" is not normalised: it has a \".\" or \"..\" component"
        );
        assert_eq!(
            one(&r(r#""/etc/..""#)),
            "rules[0].path: \"/etc/..\" is not normalised: it has a \".\" or \"..\" component"
        );
        assert_eq!(
            one(&r(r#""/a\u0000b""#)),
            "rules[0].path: must not contain a NUL character"
        );
        let long = format!("\"/{}\"", "a".repeat(255));
        assert_eq!(
            one(&r(&long)),
            "rules[0].path: is 256 bytes long; at most 255 bytes fit"
        );
        let fits = format!("\"/{}\"", "a".repeat(254));
        assert!(parse(&r(&fits)).is_ok());
        assert!(parse(&r(r#""/""#)).is_ok());
        assert!(parse(&r(r#""/etc/..hidden""#)).is_ok());
        assert_eq!(
            one(&r("[]")),
            "rules[0].path: expected a string, found an array"
        );
    }

    #[test]
    fn path_errors_escape_what_they_quote() {
        assert_eq!(
            check_path("/a\u{1b}[31m//b").unwrap_err(),
            "\"/a\\x1b[31m//b\" is not normalised: it contains \"//\""
        );
        assert_eq!(
            check_cgroup_path("x\n").unwrap_err(),
            "\"x\\n\" is not an absolute path (it must start with \"/\")"
        );
    }
}
