//! Errors of escguardctl and the exit code each one maps to.

use std::fmt;

/// Exit codes, documented in `escguardctl --help`.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Any other failure (I/O error, unexpected kernel answer).
    pub const FAILURE: i32 = 1;
    /// Bad command line (clap's own code).
    pub const USAGE: i32 = 2;
    /// The escguard module is not loaded.
    pub const NOT_LOADED: i32 = 3;
    /// The module is loaded but the device node is missing.
    pub const NO_DEVICE: i32 = 4;
    /// Permission denied on the device or the operation.
    pub const PERMISSION: i32 = 5;
    /// The module speaks another ABI version than this escguardctl.
    pub const ABI_MISMATCH: i32 = 6;
    /// Bad input data (sysexits' EX_DATAERR): an invalid policy file or
    /// Trivy report, or a policy the module rejected.
    pub const DATA: i32 = 65;
}

/// The group the module lets read status and events (its `events_gid`
/// parameter), as far as escguardctl could tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Readers {
    /// "group escguard (gid 998)", or "gid 998" without a name.
    Group(String),
    /// Loaded without events_gid: only the host admin.
    NoGroup,
    /// The parameter could not be read (module not loaded, no sysfs).
    Unknown,
}

impl fmt::Display for Readers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readers::Group(g) => write!(
                f,
                "members of {g} (the module's events_gid) may read status, events, rules, the \
                 policy and metrics ('escguardctl status', 'tail', 'rules list', 'policy show', \
                 'metrics'); every other request needs CAP_SYS_ADMIN"
            ),
            Readers::NoGroup => f.write_str(
                "the module was loaded without events_gid, so nobody else may (load it with \
                 events_gid=GID to let a group read status, events, rules and metrics)",
            ),
            Readers::Unknown => f.write_str(
                "members of the module's events_gid group, if it was loaded with one, may read \
                 status, events, rules and metrics",
            ),
        }
    }
}

#[derive(Debug)]
pub enum Error {
    NotLoaded {
        device: String,
    },
    NoDevice {
        device: String,
    },
    Permission {
        device: String,
        what: String,
        /// Who besides the host admin may read (the events_gid group).
        readers: Readers,
    },
    AbiMismatch {
        detail: String,
    },
    /// Bad input data; one problem per line.
    Data(String),
    /// A rule name the module does not know (a bad command-line argument).
    NoSuchRule {
        name: String,
    },
    Io {
        what: String,
        err: std::io::Error,
    },
    Other(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NotLoaded { .. } => exit::NOT_LOADED,
            Error::NoDevice { .. } => exit::NO_DEVICE,
            Error::Permission { .. } => exit::PERMISSION,
            Error::AbiMismatch { .. } => exit::ABI_MISMATCH,
            Error::Data(_) => exit::DATA,
            Error::NoSuchRule { .. } => exit::USAGE,
            Error::Io { .. } | Error::Other(_) => exit::FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotLoaded { device } => write!(
                f,
                "the escguard module is not loaded ({device} absent, no /sys/module/escguard); load it with 'systemctl start escguard' where it is installed, else 'insmod escguard.ko'"
            ),
            Error::NoDevice { device } => write!(
                f,
                "the escguard module is loaded but {device} does not exist (is devtmpfs mounted on /dev?)"
            ),
            Error::Permission {
                device,
                what,
                readers,
            } => write!(
                f,
                "permission denied: {what} {device}: root with CAP_SYS_ADMIN may do everything; \
                 {readers}"
            ),
            Error::AbiMismatch { detail } => write!(f, "ABI mismatch: {detail}"),
            Error::Data(msg) => f.write_str(msg),
            Error::NoSuchRule { name } => write!(
                f,
                "no rule named '{name}' (see 'escguardctl rules list')"
            ),
            Error::Io { what, err } => write!(f, "{what}: {err}"),
            Error::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_errors_map_to_documented_codes() {
        let e = Error::Data("p.json: rules[0].name: missing".into());
        assert_eq!(e.exit_code(), exit::DATA);
        assert_eq!(e.exit_code(), 65);
        assert_eq!(e.to_string(), "p.json: rules[0].name: missing");
        let e = Error::NoSuchRule {
            name: "nope".into(),
        };
        assert_eq!(e.exit_code(), exit::USAGE);
        assert_eq!(
            e.to_string(),
            "no rule named 'nope' (see 'escguardctl rules list')"
        );
    }

    #[test]
    fn permission_denied_says_who_may_do_what() {
        let e = Error::Permission {
            device: "/dev/escguard".into(),
            what: "cannot open".into(),
            readers: Readers::Group("group escguard (gid 998)".into()),
        };
        assert_eq!(e.exit_code(), exit::PERMISSION);
        let m = e.to_string();
        assert!(m.starts_with("permission denied: cannot open /dev/escguard: root with CAP_SYS_ADMIN may do everything; members of group escguard (gid 998)"), "{m}");
        assert!(m.contains("may read status, events, rules"), "{m}");
        let e = Error::Permission {
            device: "/dev/escguard".into(),
            what: "policy load request refused by".into(),
            readers: Readers::NoGroup,
        };
        assert!(e.to_string().contains("loaded without events_gid"), "{e}");
    }
}
