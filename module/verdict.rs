// SPDX-License-Identifier: GPL-2.0

//! The escape verdict: the host's reference values ([`Baseline`]), a
//! container's ([`Origin`]), where a task comes from ([`Lineage`]), and
//! whether a task, or an object it opens, has left its container
//! ([`judge`], [`object_on_host`]).
//!
//! Plain safe Rust: the facts come from `sys::TaskRef::info`, the decisions
//! are made here.

use crate::sys::{self, KInfo};
use crate::{abi, NS_COUNT};

/// The host's reference values, taken from pid 1 at load.
#[derive(Clone, Copy)]
pub(crate) struct Baseline {
    pub(crate) ns: [u64; NS_COUNT],
    pub(crate) root: abi::escguard_fsid,
}

impl Baseline {
    pub(crate) fn from_info(i: &KInfo) -> Self {
        Baseline {
            ns: i.ns,
            root: i.root,
        }
    }

    /// What a root or cwd is classified against, for a task of `lineage`.
    pub(crate) fn refs(&self, lineage: Option<&Lineage>) -> sys::FsRef {
        let origin_root = match lineage {
            Some(Lineage::Container(o)) if o.settled => o.root,
            _ => abi::escguard_fsid::default(),
        };
        sys::FsRef {
            host_root: self.root,
            host_mnt_ns: self.ns[abi::ESCGUARD_NS_MNT as usize],
            origin_root,
        }
    }

    /// Whether a task with this information is a container task: a pid
    /// namespace of its own, or both a mount namespace and a root of its own
    /// (a private mount namespace alone, like systemd's PrivateTmp, is not).
    /// Kernel threads never are, though some have both (kdevtmpfs).
    pub(crate) fn looks_contained(&self, i: &KInfo) -> bool {
        let pid = abi::ESCGUARD_NS_PID as usize;
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        if i.has_ns == 0 || i.has_fs == 0 || i.kthread != 0 {
            return false;
        }
        i.ns[pid] != self.ns[pid]
            || (i.ns[mnt] != self.ns[mnt]
                && (i.root.dev, i.root.ino) != (self.root.dev, self.root.ino))
    }

    /// Whether a task that looks contained may settle as a container
    /// program: its root is not the host's root directory. A program that
    /// starts at the host's root sees the host's files whatever its
    /// namespaces: host code in a sandbox (`unshare -p`, systemd's
    /// PrivatePIDs=, an admin's `nsenter -t <container> -p`, an OCI hook run
    /// before `pivot_root`), not a container whose root could be escaped.
    /// Such a task stays of host lineage, and a container reaching into it
    /// reaches a host task. (An untracked task is still judged by
    /// `looks_contained` alone: without a record, a container task whose
    /// root became the host's cannot be told from one.)
    pub(crate) fn may_settle(&self, i: &KInfo) -> bool {
        (i.root.dev, i.root.ino) != (self.root.dev, self.root.ino)
    }
}

/// A container's reference values, recorded when its first program starts.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    /// The task whose exec recorded these values.
    pub(crate) pid: u32,
    pub(crate) ns: [u64; NS_COUNT],
    pub(crate) root: abi::escguard_fsid,
    /// The cgroup v2 id the task was in when the origin was recorded: at
    /// the container's first exec, where the runtime put it before any
    /// container code ran (events name the container by it, not by a
    /// cgroup the container may have made or moved into since).
    pub(crate) cgroup_id: u64,
    /// False while a runtime is still building the container (between the
    /// clone into new namespaces and the first exec): namespaces and root
    /// are in flux and no verdict is made. Only runtime code runs then.
    pub(crate) settled: bool,
    /// Whether the container was configured with a host-root volume (see
    /// [`HostRootVolume`]).
    pub(crate) host_root_volume: HostRootVolume,
    /// That volume's mount (by address; 0: none): what the runtime's
    /// recursive bind carried below it (the host's /run, /tmp, /proc,
    /// /sys) is as read-only as the volume was configured.
    pub(crate) host_root_mount: usize,
    /// Whether its runtime gave it a writable cgroup v2 hierarchy (a nested
    /// runtime's setup): groups outside its own are then its to manage, by
    /// configuration (`host_cgroup`).
    pub(crate) cgroup_delegated: bool,
}

/// A mount of the host's whole root filesystem below a container's root
/// when its first program started (`-v /:/host`, as node agents run): its
/// runtime made it, so what it grants is configuration, not escape. Its
/// root and cwd are not judged for being on the host root, nor objects
/// opened there -- for writing only if the volume was writable then (a
/// read-only volume remounted writable does not grant writes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostRootVolume {
    None,
    ReadOnly,
    ReadWrite,
}

impl HostRootVolume {
    /// From a scan's answer: `Some(read_only)` if there is one.
    pub(crate) fn from_scan(scan: Option<bool>) -> Self {
        match scan {
            None => HostRootVolume::None,
            Some(true) => HostRootVolume::ReadOnly,
            Some(false) => HostRootVolume::ReadWrite,
        }
    }
}

impl Origin {
    /// Whether a clean verdict on a task of this container whose root is
    /// `root` may be kept by the open hook's verdict cache, which answers
    /// opens on the task's root mount -- writes included -- without the
    /// object and write-grant checks. Only at the container's own root
    /// (where it first ran), and only where that root is its mount's root
    /// (`at_mount_root`), so that the root mount shows nothing else: a
    /// root it moved to since (`chroot` into a volume, a read-only
    /// host-root volume or a filesystem that volume carries, `pivot_root`),
    /// or its own root directory reached through another mount (a volume
    /// of the host directory that holds it), is judged at every open, so
    /// that a write through it meets the grants however that mount was
    /// made writable.
    pub(crate) fn caches_at(&self, root: &abi::escguard_fsid, at_mount_root: bool) -> bool {
        at_mount_root && (root.dev, root.ino) == (self.root.dev, self.root.ino)
    }

    /// The origin `i` describes; no cgroup yet (see [`Origin::of_current`]).
    pub(crate) fn from_info(i: &KInfo, settled: bool) -> Self {
        Origin {
            pid: i.pid,
            ns: i.ns,
            root: i.root,
            cgroup_id: 0,
            settled,
            host_root_volume: HostRootVolume::None,
            host_root_mount: 0,
            cgroup_delegated: false,
        }
    }

    /// `o` with what its runtime configured (see [`sys::ConfiguredMounts`]).
    pub(crate) fn with_configured(mut self, c: sys::ConfiguredMounts) -> Self {
        self.host_root_volume = HostRootVolume::from_scan(c.host_root);
        self.host_root_mount = c.host_root_mount;
        self.cgroup_delegated = c.cgroup_rw;
        self
    }

    /// `o` with the configuration already decided for its container `k`.
    pub(crate) fn configured_as(mut self, k: &Origin) -> Self {
        self.host_root_volume = k.host_root_volume;
        self.host_root_mount = k.host_root_mount;
        self.cgroup_delegated = k.cgroup_delegated;
        self
    }

    /// The origin of the calling task, whose facts `i` are: a settled one
    /// also records the cgroup the task is in now (at the container's first
    /// exec: where the runtime put it). Read only here, not for every task
    /// read: host forks and execs do not pay for it.
    pub(crate) fn of_current(i: &KInfo, settled: bool) -> Self {
        let mut o = Origin::from_info(i, settled);
        if settled {
            o.cgroup_id = sys::TaskRef::current().cgroup_id();
        }
        o
    }

    /// `flags` of a root, cwd or object with the host-root mark taken off
    /// where a configured host-root volume grants it (see
    /// [`HostRootVolume`]); `write` for an object opened for writing.
    fn configured(&self, flags: u32, write: bool) -> u32 {
        let granted = match self.host_root_volume {
            HostRootVolume::None => false,
            HostRootVolume::ReadOnly => !write,
            HostRootVolume::ReadWrite => true,
        };
        if granted {
            flags & !sys::FS_MNT_HOST_ROOT
        } else {
            flags
        }
    }
}

/// Where a task comes from.
#[derive(Clone, Copy)]
pub(crate) enum Lineage {
    Host,
    Container(Origin),
}

/// Why a task is judged to have escaped.
#[derive(Clone, Copy, Default)]
pub(crate) struct Escape {
    /// Bit `1 << ESCGUARD_NS_*` per namespace kind the origin had separate
    /// from the host and the task now shares with it.
    pub(crate) ns_mask: u32,
    /// `ESCGUARD_FSE_ROOT` / `ESCGUARD_FSE_CWD`.
    pub(crate) fs_mask: u32,
    /// The task itself is unchanged, but what it opened lives on the host.
    pub(crate) object: bool,
}

impl Escape {
    /// The task is unchanged, but what it reached lives on the host.
    pub(crate) fn object() -> Self {
        Escape {
            object: true,
            ..Default::default()
        }
    }

    pub(crate) fn any(&self) -> bool {
        self.ns_mask != 0 || self.fs_mask != 0 || self.object
    }

    pub(crate) fn reason(&self) -> u32 {
        if self.ns_mask != 0 {
            abi::ESCGUARD_REASON_NS_ESCAPE
        } else if self.fs_mask != 0 {
            abi::ESCGUARD_REASON_ROOT_ESCAPE
        } else {
            abi::ESCGUARD_REASON_HOST_OBJECT
        }
    }
}

/// Whether a root or cwd with these `ESCGUARD_FS_*` flags lies on the host's
/// filesystem outside the container: on the host root's superblock, not
/// below the container's root, and reached through a mount that shows the
/// whole host root, a mount of the host's own namespace, or a dentry
/// disconnected from its mount (file handles). A host directory
/// bind-mounted into the container as a volume is none of these.
pub(crate) fn fs_escaped(flags: u32) -> bool {
    // Too deep to walk is refused, wherever it is.
    flags & sys::FS_TOO_DEEP != 0
        || flags & sys::FS_ON_HOST_SB != 0
            && flags & sys::FS_UNDER_ORIGIN == 0
            && flags & (sys::FS_MNT_HOST_ROOT | sys::FS_HOST_MNT_NS | sys::FS_DISCONNECTED) != 0
}

/// Whether an object with these `ESCGUARD_FS_*` flags, opened by a task of
/// a container whose origin had a mount namespace of its own, lives on the
/// host: on a mount of the host's mount namespace (reached through
/// `/proc/<host pid>/root|cwd|fd`, a leaked host directory descriptor), or on
/// the host's filesystem outside the container as `fs_escaped` says (a
/// configured host-root volume not counting as such; `write`: opened for
/// writing).
pub(crate) fn object_on_host(base: &Baseline, origin: &Origin, flags: u32, write: bool) -> bool {
    let mnt = abi::ESCGUARD_NS_MNT as usize;
    // A container configured to share the host's mounts reaches them by design.
    if origin.ns[mnt] == base.ns[mnt] {
        return false;
    }
    flags & sys::FS_HOST_MNT_NS != 0 || fs_escaped(origin.configured(flags, write))
}

/// The verdict for a container task whose origin is settled.
pub(crate) fn judge(base: &Baseline, origin: &Origin, i: &KInfo) -> Escape {
    let mut e = Escape::default();
    if i.has_ns != 0 {
        for k in 0..NS_COUNT {
            let separate = origin.ns[k] != 0 && base.ns[k] != 0 && origin.ns[k] != base.ns[k];
            if separate && i.ns[k] == base.ns[k] {
                e.ns_mask |= 1 << k;
            }
        }
    }
    if i.has_fs != 0 {
        if fs_escaped(origin.configured(i.root_flags, false)) {
            e.fs_mask |= abi::ESCGUARD_FSE_ROOT;
        }
        if fs_escaped(origin.configured(i.cwd_flags, false)) {
            e.fs_mask |= abi::ESCGUARD_FSE_CWD;
        }
    }
    e
}
