//! Policy files: parsing with precise errors, validation, and conversion to
//! and from the ABI's `escguard_policy` / `escguard_policy_rule`.
//!
//! # The policy file format (version 2)
//!
//! A policy file is one JSON object:
//!
//! ```json
//! {
//!   "version": 2,
//!   "name": "web-tier",
//!   "runtime_sockets": ["/run/containerd/containerd.sock"],
//!   "rules": [
//!     {"name": "no-shadow", "type": "file", "path": "/etc/shadow", "match": "exact", "access": ["read", "write"]},
//!     {"name": "no-proc-sys-write", "type": "file", "path": "/proc/sys", "match": "prefix", "access": ["write"], "enabled": true},
//!     {"name": "no-host-dev-mounts", "type": "mount", "source": "/dev", "match": "prefix"},
//!     {"name": "no-overlay", "type": "mount", "fstype": "overlay"},
//!     {"name": "no-mnt-target", "type": "mount", "target": "/mnt", "match": "prefix"},
//!     {"name": "web-no-passwd", "type": "file", "path": "/etc/passwd", "access": ["write"],
//!      "scope": {"container": "3f2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"}},
//!     {"name": "watch-kube-sys", "type": "file", "path": "/sys", "match": "prefix", "access": ["write"],
//!      "action": "monitor", "scope": {"cgroup": "/kubepods.slice/kubepods-besteffort.slice"}}
//!   ]
//! }
//! ```
//!
//! Top level (an unknown field anywhere is an error, and so is a key given
//! twice in one object):
//!
//! * `version` (required): the integer 2 (`ESCGUARD_POLICY_VERSION`); 1 is
//!   read too (a version 1 file is a version 2 file whose rules have no
//!   `action` and no `scope`; either in a version 1 file is an error).
//!   Files are written as version 2.
//! * `name` (optional): 1..63 bytes of UTF-8 without control characters;
//!   shown by `policy show`. Absent: the file's name (truncated).
//! * `runtime_sockets` (optional): 0..8 (`ESCGUARD_POLICY_SOCKETS_MAX`)
//!   distinct paths (not `/`) of runtime control sockets for the
//!   `runtime_socket` preset, replacing the module's defaults; `[]` protects
//!   none. Absent: the defaults (`ESCGUARD_DEFAULT_SOCKETS`), which
//!   escguardctl sends explicitly (the module reads `socket_count` 0 as
//!   "none").
//! * `rules` (required): 0..64 (`ESCGUARD_POLICY_RULES_MAX`) rule objects.
//!
//! A rule:
//!
//! * `name` (required): 1..31 bytes of `[A-Za-z0-9_.-]`, unique in the
//!   file, not a preset's name (`escguardctl rules list`).
//! * `type` (required): `"file"` (a file a container task may not open)
//!   or `"mount"` (a mount a container task may not make).
//! * file rules: `path` (required) and `access` (required): a non-empty
//!   list of distinct `"read"` and `"write"`: which opens match.
//! * mount rules: exactly one of `source`, `target` (paths as the task
//!   names them) or `fstype` (1..63 bytes of `[a-z0-9._-]`; a mount by the
//!   new mount API has the file system type as its source).
//! * `match` (optional): `"exact"` (default) or `"prefix"`: a path prefix on
//!   a component boundary (`/a` matches `/a` and `/a/b`, not `/ab`); not
//!   allowed with `fstype`.
//! * `enabled` (optional): boolean, default true.
//! * `action` (optional): `"enforce"` (default: as the module's mode says,
//!   refuse and kill in enforce mode, report in monitor mode) or
//!   `"monitor"` (report only, even in enforce mode).
//! * `scope` (optional): which container tasks the rule applies to;
//!   absent: every task of container lineage. `{"container": ID}`: tasks
//!   whose cgroup v2 path has a component naming the container (the ID, or
//!   `docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope`,
//!   `libpod-ID.scope`); the ID is `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`.
//!   `{"cgroup": PATH}`: tasks in that cgroup or below (on a component
//!   boundary); PATH is from the cgroup v2 root as `/proc/PID/cgroup` shows
//!   it after `0::` (not under `/sys/fs/cgroup`), normalised like every
//!   path below.
//!
//! Every path (`path`, `source`, `target`, `runtime_sockets`) is absolute,
//! shorter than 256 bytes, without NUL, and normalised: no `//`, no
//! trailing `/` (except `/` itself), no `.` or `..` component.
//!
//! Errors name the JSON path of the offending value (`rules[2].access[1]`);
//! JSON syntax errors give line and column. Everything is checked before
//! anything is sent to the module, which checks again and keeps its active
//! policy if anything is wrong.
//!
//! The parts: `types` (rules and policies), `check` (single values),
//! `parse` and `parse_rule` (the file, read), `text` (the file written,
//! the help and `policy show`), `abi` (the ioctls' records), `merge`
//! (adding to the active policy) and `input` (reading files with a size
//! cap).

mod abi;
mod check;
mod input;
mod merge;
mod parse;
mod parse_rule;
#[cfg(test)]
mod testutil;
mod text;
mod types;

pub use abi::{
    default_sockets, from_abi, name_from, to_abi, truncate_utf8, AbiPolicy, ActivePolicy,
};
pub use check::{
    check_cgroup_path, check_container_id, check_path, check_policy_name, check_rule_name,
    CONTAINER_ID_MAX, FSTYPE_MAX, NAME_MAX, PATH_MAX, RULE_NAME_MAX, VERSIONS,
};
pub use input::{read_capped, INPUT_MAX};
pub use merge::merge;
pub use parse::{json_error, parse};
pub use text::{summary, to_json, to_text, FORMAT_HELP};
pub use types::{short_id, Action, Match, MountField, Policy, Problem, Rule, Scope, Spec};
