//! escguardctl: configure the escguard kernel module and read its events.
pub mod abi;
pub mod container;
pub mod device;
pub mod error;
pub mod escape;
pub mod events;
pub mod logfile;
pub mod metrics;
pub mod policy;
pub mod rules;
pub mod status;
pub mod trivy;
