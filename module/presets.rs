// SPDX-License-Identifier: GPL-2.0

//! The preset rules: their names, switches and hit counters, and the
//! matching of the host-wide kernel knobs and mounts they guard.
//!
//! Plain safe Rust: the hooks gather facts through `sys`, the matching is
//! done here.

use crate::abi;
use crate::sys::{FileFacts, SbFacts};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Number of preset rules.
pub(crate) const PRESET_COUNT: usize = abi::ESCGUARD_RULE_COUNT as usize;

/// Preset names, indexed by `ESCGUARD_RULE_*` (the ABI header documents each).
pub(crate) const PRESET_NAMES: [&[u8]; PRESET_COUNT] = [
    b"release_agent",
    b"core_pattern",
    b"modprobe_path",
    b"sysrq_trigger",
    b"uevent_helper",
    b"host_block_device",
    b"runtime_socket",
    b"sensitive_mount",
    b"block_device_mount",
    b"open_by_handle_at",
    b"kernel_module",
    b"ptrace_host",
    b"usermode_helper",
    b"kernel_memory",
    b"instrument",
    b"binfmt_misc",
    b"planted_exec",
    b"signal_host",
    b"host_cgroup",
];

/// The preset rules' switches and hit counters. Lock-free: read by every hook.
pub(crate) struct Presets {
    enabled: AtomicU32,
    hits: [AtomicU64; PRESET_COUNT],
}

impl Presets {
    /// All presets on.
    pub(crate) fn new() -> Self {
        Presets {
            enabled: AtomicU32::new((1u32 << PRESET_COUNT) - 1),
            hits: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub(crate) fn on(&self, id: u32) -> bool {
        self.enabled.load(Ordering::Relaxed) & (1 << id) != 0
    }

    pub(crate) fn mask(&self) -> u32 {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn hit(&self, id: u32) {
        if let Some(h) = self.hits.get(id as usize) {
            h.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn hits(&self, id: usize) -> u64 {
        self.hits.get(id).map_or(0, |h| h.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, id: usize, on: bool) {
        if on {
            self.enabled.fetch_or(1 << id, Ordering::Relaxed);
        } else {
            self.enabled.fetch_and(!(1 << id), Ordering::Relaxed);
        }
    }

    /// The preset called `name`.
    pub(crate) fn find(name: &[u8]) -> Option<usize> {
        PRESET_NAMES.iter().position(|n| *n == name)
    }
}

/// Which preset a write-open of a file with superblock `magic` and path
/// `sb_path` (within that filesystem) trips, if any. Matching by
/// filesystem and in-filesystem path, not by the path the task used, holds
/// however the filesystem was mounted (a second procfs, a bind mount).
///
/// The filesystems `sensitive_write` looks at: a write to any other can
/// trip no preset, and the open hook's fast path lets it through without
/// looking at the path. One list, next to the rules it serves.
pub(crate) const SENSITIVE_WRITE_FS: [u64; 7] =
    [CGROUP_V1, CGROUP2, PROC, SYSFS, DEBUGFS, TRACEFS, BINFMTFS];

/// Whether a write-open of a file on a filesystem of `magic` may trip a
/// preset (`sensitive_write`), so its path must be looked at.
///
/// Folded without branches, not `contains()`: on the open hook's cache-hit
/// path, an out-of-line `slice_contains` call makes every hit save and
/// restore five registers, even for the reads that never get here.
#[inline(always)]
pub(crate) fn write_may_be_sensitive(magic: u64) -> bool {
    SENSITIVE_WRITE_FS
        .iter()
        .fold(false, |hit, &m| hit | (m == magic))
}

/// Only magics in `SENSITIVE_WRITE_FS` can match (the open hook's fast
/// path skips the rest without looking at the path). `own_cgroup` tells
/// whether a cgroup v2 file is of the container's own cgroup or one below.
pub(crate) fn sensitive_write(
    f: &FileFacts,
    sb_path: &[u8],
    own_cgroup: impl FnOnce() -> bool,
) -> Option<u32> {
    match f.magic {
        // A cgroup v2 group is the container's by where it is, not by the
        // file's name or the path the task used: its own group and those
        // below it (a nested runtime's, systemd's) are its own; any other
        // is the host's or another container's, whose cgroup.kill,
        // cgroup.freeze, memory.max or cgroup.procs act on their tasks.
        CGROUP2 => (!own_cgroup()).then_some(abi::ESCGUARD_RULE_HOST_CGROUP),
        CGROUP_V1 => {
            let base = sb_path.rsplit(|&b| b == b'/').next().unwrap_or(sb_path);
            (base == b"release_agent" || base == b"notify_on_release")
                .then_some(abi::ESCGUARD_RULE_RELEASE_AGENT)
        }
        PROC => match sb_path {
            b"/sys/kernel/core_pattern" => Some(abi::ESCGUARD_RULE_CORE_PATTERN),
            b"/sys/kernel/modprobe" => Some(abi::ESCGUARD_RULE_MODPROBE),
            b"/sysrq-trigger" => Some(abi::ESCGUARD_RULE_SYSRQ),
            b"/sys/kernel/hotplug" => Some(abi::ESCGUARD_RULE_UEVENT_HELPER),
            _ => None,
        },
        SYSFS => (sb_path == b"/kernel/uevent_helper").then_some(abi::ESCGUARD_RULE_UEVENT_HELPER),
        // Every control of the kernel's instrumentation: kprobes/enabled,
        // tracing_on, kprobe_events, set_ftrace_filter, ... Reads are fine.
        DEBUGFS | TRACEFS => Some(abi::ESCGUARD_RULE_INSTRUMENT),
        // The host's instance (Linux 6.7+ gives each user namespace its
        // own; one a container mounts in its own user namespace is its own).
        BINFMTFS => (f.init_userns != 0).then_some(abi::ESCGUARD_RULE_BINFMT_MISC),
        _ => None,
    }
}

/// Whether mounting this new superblock trips `sensitive_mount`. Judged by
/// the instance, not its type: a procfs that shows a pid namespace other
/// than the host's, or a sysfs mounted from a network namespace other than
/// the host's, exposes nothing of the host (a nested runtime makes these
/// for its own containers); their host-wide knobs are judged by the write
/// rules. cgroup v1 (a hierarchy and its `release_agent` are host-wide),
/// debugfs and securityfs (singletons) always trip it.
pub(crate) fn sensitive_fs(sb: &SbFacts, host_pid_ns: u64, host_net_ns: bool) -> bool {
    match sb.magic {
        CGROUP_V1 | DEBUGFS | SECURITYFS => true,
        PROC => sb.pid_ns == 0 || sb.pid_ns == host_pid_ns,
        SYSFS => host_net_ns,
        _ => false,
    }
}

const PROC: u64 = 0x9fa0; // PROC_SUPER_MAGIC
const SYSFS: u64 = 0x6265_6572; // SYSFS_MAGIC
const CGROUP_V1: u64 = 0x27e0eb; // CGROUP_SUPER_MAGIC
const CGROUP2: u64 = 0x6367_7270; // CGROUP2_SUPER_MAGIC
const DEBUGFS: u64 = 0x6462_6720; // DEBUGFS_MAGIC
const TRACEFS: u64 = 0x7472_6163; // TRACEFS_MAGIC
const SECURITYFS: u64 = 0x7363_6673; // SECURITYFS_MAGIC
const BINFMTFS: u64 = 0x4249_4e4d; // BINFMTFS_MAGIC
