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
                "the escguard module is not loaded ({device} absent, no /sys/module/escguard); load it with 'insmod escguard.ko'"
            ),
            Error::NoDevice { device } => write!(
                f,
                "the escguard module is loaded but {device} does not exist (is devtmpfs mounted on /dev?)"
            ),
            Error::Permission { device, what } => write!(
                f,
                "permission denied: {what} {device} (escguard requires root with CAP_SYS_ADMIN)"
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
}
