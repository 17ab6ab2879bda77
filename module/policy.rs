// SPDX-License-Identifier: GPL-2.0

//! The loaded policy: extra file and mount rules and the protected runtime
//! sockets, their validation, path matching and scopes (which containers a
//! rule applies to, by cgroup).
//!
//! Plain safe Rust: the hooks gather facts through `sys`, the matching is
//! done here. Everything a policy carries is validated again in
//! [`Policy::from_user`]; the CLI is never trusted.

use crate::abi;
use crate::bytes::{bytes_of, bytes_of_mut, until_nul};
use crate::presets::Presets;
use crate::{sys, PATH_LEN};
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

const NAME_LEN: usize = abi::ESCGUARD_NAME_LEN as usize;
const RULES_MAX: usize = abi::ESCGUARD_POLICY_RULES_MAX as usize;
const SOCKETS_MAX: usize = abi::ESCGUARD_POLICY_SOCKETS_MAX as usize;

/// A NUL-terminated string in a fixed ABI array: its bytes before the NUL.
/// `None` if there is no NUL, the bytes are not UTF-8, or anything follows
/// the NUL but zeros (no hidden payload in what we store and hand back).
fn cstr_field(field: &[u8]) -> Option<&[u8]> {
    let n = field.iter().position(|&b| b == 0)?;
    if field[n..].iter().any(|&b| b != 0) {
        return None;
    }
    core::str::from_utf8(&field[..n]).ok()?;
    Some(&field[..n])
}

/// An absolute path without empty, `.` or `..` components and without a
/// trailing slash (except `/` itself): the form the kernel renders paths in,
/// so that matching compares like with like.
fn normal_path(p: &[u8]) -> bool {
    if p.first() != Some(&b'/') {
        return false;
    }
    if p == b"/" {
        return true;
    }
    p[1..]
        .split(|&b| b == b'/')
        .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

fn valid_rule_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() < NAME_LEN
        && n.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

fn valid_fstype(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() < 2 * NAME_LEN
        && n.iter().all(|&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' || b == b'.'
        })
}

/// Whether `path` matches `pattern` under `how` (`ESCGUARD_MATCH_*`):
/// prefixes match on a component boundary only.
pub(crate) fn path_matches(how: u32, pattern: &[u8], path: &[u8]) -> bool {
    if how == abi::ESCGUARD_MATCH_EXACT {
        return pattern == path;
    }
    if pattern == b"/" {
        return path.first() == Some(&b'/');
    }
    path.starts_with(pattern) && (path.len() == pattern.len() || path[pattern.len()] == b'/')
}

/// A container ID as a scope names it: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
fn valid_container_id(id: &[u8]) -> bool {
    id.first().is_some_and(|b| b.is_ascii_alphanumeric())
        && id.len() < PATH_LEN
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// The prefixes container runtimes give a container's systemd scope unit
/// ("<prefix>ID.scope").
const RUNTIME_SCOPE_PREFIXES: [&[u8]; 5] = [
    b"docker-",
    b"cri-containerd-",
    b"crio-",
    b"libpod-",
    b"nerdctl-",
];

/// Whether a cgroup path component names container `id`: the ID itself
/// (runc, and the cgroupfs layouts of Docker and Kubernetes), or a
/// runtime's scope unit "<prefix>ID.scope". Nothing looser: "x-ID" is
/// another container's name, and "ID.scope" without a runtime's prefix is
/// runc's ID "ID.scope".
fn component_names(c: &[u8], id: &[u8]) -> bool {
    if c == id {
        return true;
    }
    let Some(unit) = c.strip_suffix(b".scope") else {
        return false;
    };
    RUNTIME_SCOPE_PREFIXES
        .iter()
        .any(|p| unit.strip_prefix(*p) == Some(id))
}

/// Whether a task in cgroup `cgroup` (its path from the cgroup v2 root) is
/// in scope `kind`/`scope` (`ESCGUARD_SCOPE_*`).
pub(crate) fn scope_matches(kind: u32, scope: &[u8], cgroup: &[u8]) -> bool {
    match kind {
        abi::ESCGUARD_SCOPE_ALL => true,
        abi::ESCGUARD_SCOPE_CGROUP => path_matches(abi::ESCGUARD_MATCH_PREFIX, scope, cgroup),
        abi::ESCGUARD_SCOPE_CONTAINER => cgroup
            .split(|&b| b == b'/')
            .any(|c| component_names(c, scope)),
        _ => false,
    }
}

/// What a matching policy rule asks for.
pub(crate) struct Hit {
    pub(crate) name: [u8; NAME_LEN],
    /// The rule's action is monitor: report, never refuse or kill.
    pub(crate) monitor: bool,
}

/// One validated policy rule, as the hooks match it.
pub(crate) struct PolicyRule {
    pub(crate) raw: abi::escguard_policy_rule,
    pub(crate) name_len: usize,
    pub(crate) pattern_len: usize,
    pub(crate) hits: u64,
}

impl PolicyRule {
    pub(crate) fn name(&self) -> &[u8] {
        let n = self.name_len.min(self.raw.name.len());
        bytes_of(&self.raw.name[..n])
    }

    pub(crate) fn pattern(&self) -> &[u8] {
        let n = self.pattern_len.min(self.raw.pattern.len());
        bytes_of(&self.raw.pattern[..n])
    }

    pub(crate) fn enabled(&self) -> bool {
        self.raw.enabled != 0
    }

    fn scope(&self) -> &[u8] {
        until_nul(bytes_of(&self.raw.scope))
    }
}

/// The active policy: extra rules and the protected runtime sockets.
pub(crate) struct Policy {
    pub(crate) rules: KVec<PolicyRule>,
    pub(crate) sockets: KVec<[u8; PATH_LEN]>,
    pub(crate) name: [u8; 2 * NAME_LEN],
    pub(crate) loaded_ns: u64,
    /// `ESCGUARD_PF_READ | ESCGUARD_PF_WRITE` of the enabled file rules: an
    /// open that matches none of them needs no path rendered.
    pub(crate) file_access: u32,
    /// Whether an enabled mount rule exists.
    pub(crate) mount_rules: bool,
}

impl Policy {
    /// No policy rules; the default runtime sockets.
    pub(crate) fn defaults() -> Result<Self> {
        let mut sockets = KVec::new();
        for s in until_nul(abi::ESCGUARD_DEFAULT_SOCKETS).split(|&b| b == b':') {
            let mut p = [0u8; PATH_LEN];
            let n = s.len().min(PATH_LEN - 1);
            p[..n].copy_from_slice(&s[..n]);
            sockets.push(p, GFP_KERNEL)?;
        }
        Ok(Policy {
            rules: KVec::new(),
            sockets,
            name: [0; 2 * NAME_LEN],
            loaded_ns: 0,
            file_access: 0,
            mount_rules: false,
        })
    }

    /// Recomputes the summary fields after rules change.
    pub(crate) fn refresh(&mut self) {
        self.file_access = 0;
        self.mount_rules = false;
        for r in self.rules.iter().filter(|r| r.enabled()) {
            if r.raw.kind == abi::ESCGUARD_PRULE_FILE {
                self.file_access |= r.raw.flags;
            } else {
                self.mount_rules = true;
            }
        }
    }

    /// Reads and validates a policy from user space (`ESCGUARD_IOC_SET_POLICY`).
    /// Process context: allocates with `GFP_KERNEL`. `EINVAL` for anything
    /// malformed, `EFAULT` for bad pointers.
    pub(crate) fn from_user(arg: usize, now: u64) -> Result<Self> {
        let hdr: abi::escguard_policy =
            UserSlice::new(arg, core::mem::size_of::<abi::escguard_policy>())
                .reader()
                .read()?;
        if hdr.version != abi::ESCGUARD_POLICY_VERSION
            || hdr.rule_count as usize > RULES_MAX
            || hdr.socket_count as usize > SOCKETS_MAX
            || hdr.flags != 0
            || hdr.loaded_ns != 0
            || hdr.reserved.iter().any(|&r| r != 0)
        {
            return Err(EINVAL);
        }
        let mut name = [0u8; 2 * NAME_LEN];
        let n = cstr_field(bytes_of(&hdr.name)).ok_or(EINVAL)?;
        name[..n.len()].copy_from_slice(n);

        let mut sockets = KVec::with_capacity(hdr.socket_count as usize, GFP_KERNEL)?;
        for (i, s) in hdr.sockets.iter().enumerate() {
            let b = bytes_of(s);
            if i >= hdr.socket_count as usize {
                // Unused slots must be empty.
                if b.iter().any(|&c| c != 0) {
                    return Err(EINVAL);
                }
                continue;
            }
            let p = cstr_field(b).ok_or(EINVAL)?;
            if !normal_path(p) || p == b"/" {
                return Err(EINVAL);
            }
            let mut out = [0u8; PATH_LEN];
            out[..p.len()].copy_from_slice(p);
            sockets.push(out, GFP_KERNEL)?;
        }

        let count = hdr.rule_count as usize;
        let rec = core::mem::size_of::<abi::escguard_policy_rule>();
        let mut rules: KVec<PolicyRule> = KVec::with_capacity(count, GFP_KERNEL)?;
        let mut r = UserSlice::new(hdr.rules as usize, count * rec).reader();
        for _ in 0..count {
            let raw: abi::escguard_policy_rule = r.read()?;
            let rule = validate_rule(raw)?;
            if Presets::find(rule.name()).is_some() || rules.iter().any(|o| o.name() == rule.name())
            {
                return Err(EINVAL);
            }
            rules.push(rule, GFP_KERNEL)?;
        }
        let mut p = Policy {
            rules,
            sockets,
            name,
            loaded_ns: now,
            file_access: 0,
            mount_rules: false,
        };
        p.refresh();
        Ok(p)
    }

    /// The enabled rules that `matches` and whose scope holds `task`:
    /// counts a hit on each and says what to do. Enforce wins: a
    /// monitor-action rule (a trial) never silences an enforce rule that
    /// matches the same call, whichever comes first. The task's cgroup is
    /// read at most once, and only if a scoped rule gets that far.
    pub(crate) fn matching(
        &mut self,
        task: sys::TaskRef<'_>,
        matches: impl Fn(&PolicyRule) -> bool,
    ) -> Option<Hit> {
        let mut cgroup: Option<[u8; PATH_LEN]> = None;
        let mut hit: Option<Hit> = None;
        for r in self.rules.iter_mut() {
            if !r.enabled() || !matches(r) {
                continue;
            }
            if r.raw.scope_kind != abi::ESCGUARD_SCOPE_ALL {
                let cg = cgroup.get_or_insert_with(|| {
                    let mut b = [0u8; PATH_LEN];
                    task.cgroup(&mut b);
                    b
                });
                if !scope_matches(r.raw.scope_kind, r.scope(), until_nul(cg)) {
                    continue;
                }
            }
            r.hits += 1;
            let monitor = r.raw.action == abi::ESCGUARD_RACT_MONITOR;
            // The first enforce rule names the event; a monitor rule only
            // until an enforce rule is found.
            if hit.as_ref().is_none_or(|h| h.monitor && !monitor) {
                let mut name = [0u8; NAME_LEN];
                name.copy_from_slice(bytes_of(&r.raw.name));
                hit = Some(Hit { name, monitor });
            }
        }
        hit
    }

    /// The rule named `name`.
    pub(crate) fn find_mut(&mut self, name: &[u8]) -> Option<&mut PolicyRule> {
        self.rules.iter_mut().find(|r| r.name() == name)
    }

    /// The header `ESCGUARD_IOC_GET_POLICY` returns (rules pointer untouched).
    pub(crate) fn header(&self, rules_ptr: u64) -> abi::escguard_policy {
        let mut h = abi::escguard_policy {
            version: abi::ESCGUARD_POLICY_VERSION,
            rule_count: self.rules.len() as u32,
            rules: rules_ptr,
            socket_count: self.sockets.len() as u32,
            loaded_ns: self.loaded_ns,
            ..Default::default()
        };
        for (d, s) in h.sockets.iter_mut().zip(self.sockets.iter()) {
            bytes_of_mut(d).copy_from_slice(s);
        }
        bytes_of_mut(&mut h.name).copy_from_slice(&self.name);
        h
    }

    /// Whether `path` (the host path a listening socket was bound to) is a
    /// protected runtime socket.
    pub(crate) fn is_runtime_socket(&self, path: &[u8]) -> bool {
        self.sockets.iter().any(|s| until_nul(s) == path)
    }
}

fn validate_rule(raw: abi::escguard_policy_rule) -> Result<PolicyRule> {
    let name = cstr_field(bytes_of(&raw.name)).ok_or(EINVAL)?;
    let pattern = cstr_field(bytes_of(&raw.pattern)).ok_or(EINVAL)?;
    if !valid_rule_name(name) || raw.enabled > 1 {
        return Err(EINVAL);
    }
    let scope = cstr_field(bytes_of(&raw.scope)).ok_or(EINVAL)?;
    let scope_ok = match raw.scope_kind {
        abi::ESCGUARD_SCOPE_ALL => scope.is_empty(),
        abi::ESCGUARD_SCOPE_CGROUP => normal_path(scope),
        abi::ESCGUARD_SCOPE_CONTAINER => valid_container_id(scope),
        _ => false,
    };
    if !scope_ok || raw.action > abi::ESCGUARD_RACT_MONITOR {
        return Err(EINVAL);
    }
    let (name_len, pattern_len) = (name.len(), pattern.len());
    let exact = raw.match_ == abi::ESCGUARD_MATCH_EXACT;
    if !exact && raw.match_ != abi::ESCGUARD_MATCH_PREFIX {
        return Err(EINVAL);
    }
    match raw.kind {
        abi::ESCGUARD_PRULE_FILE => {
            let access = abi::ESCGUARD_PF_READ | abi::ESCGUARD_PF_WRITE;
            if raw.flags == 0 || raw.flags & !access != 0 || !normal_path(pattern) {
                return Err(EINVAL);
            }
        }
        abi::ESCGUARD_PRULE_MOUNT => match raw.flags {
            abi::ESCGUARD_PF_SOURCE | abi::ESCGUARD_PF_TARGET if normal_path(pattern) => {}
            abi::ESCGUARD_PF_FSTYPE if exact && valid_fstype(pattern) => {}
            _ => return Err(EINVAL),
        },
        _ => return Err(EINVAL),
    }
    Ok(PolicyRule {
        raw,
        name_len,
        pattern_len,
        hits: 0,
    })
}
