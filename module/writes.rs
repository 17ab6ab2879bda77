// SPDX-License-Identifier: GPL-2.0

//! Where a container may write on the host's filesystems: the write
//! grants its runtime made (read when its first program starts), and the
//! judgement of every write through a mount -- at `mnt_want_write`, which
//! changes that open nothing (chmod, mkdir, unlink, rename, truncate) ask
//! for, and at opens for writing.
//!
//! Judge the object by provenance, not the mount's flags: a read-only
//! mount of the host's filesystem stays read-only for the container however
//! it is made writable afterwards (`mount_setattr(2)`, which 6.12 gives no
//! hook, a bind of a directory below it, an `open_tree()` copy, a copy in a
//! new mount namespace).

use crate::bytes::until_nul;
use crate::verdict::{Escape, HostRootVolume, Lineage, Origin};
use crate::{abi, sys, State, PATH_LEN};
use kernel::prelude::*;

/// Containers with read-only host mounts whose grants are remembered; the
/// oldest is replaced (its writes then judged as a container's with none).
const GRANT_SLOTS: usize = 64;

/// The write grants of containers that have read-only mounts of the host's
/// root filesystem, by the cgroup their runtime put them in (never reused).
/// Containers without any need no entry: nothing of the host's is
/// read-only for them but what the other checks judge.
pub(crate) struct Grants {
    /// At most `GRANT_SLOTS`, their capacity reserved at load.
    slots: KVec<(u64, sys::WriteGrants)>,
    /// The slot replaced next once all are filled.
    next: usize,
}

impl Grants {
    pub(crate) fn new() -> Result<Self> {
        Ok(Grants {
            slots: KVec::with_capacity(GRANT_SLOTS, GFP_KERNEL)?,
            next: 0,
        })
    }

    /// Remembers the grants `g` of the container in cgroup `cgroup_id`.
    fn note(&mut self, cgroup_id: u64, g: &sys::WriteGrants) {
        if let Some(s) = self.slots.iter_mut().find(|s| s.0 == cgroup_id) {
            s.1 = *g;
            return;
        }
        if self.slots.len() < GRANT_SLOTS {
            // Within the capacity reserved at load: no allocation.
            let _ = self.slots.push((cgroup_id, *g), GFP_NOWAIT);
        } else if let Some(s) = self.slots.get_mut(self.next) {
            *s = (cgroup_id, *g);
            self.next = (self.next + 1) % GRANT_SLOTS;
        }
    }

    fn of(&self, cgroup_id: u64) -> Option<sys::WriteGrants> {
        self.slots.iter().find(|s| s.0 == cgroup_id).map(|s| s.1)
    }
}

impl State {
    /// Records what the runtime of container `o` (settling now) gave it of
    /// the host's root filesystem. A scan that could not read every mount,
    /// or found more writable ones than it keeps, records nothing: missing
    /// a writable one would refuse writes the runtime allowed.
    pub(crate) fn note_grants(&self, o: &Origin, g: &sys::WriteGrants) {
        if o.cgroup_id == 0 || g.n_ro == 0 || !g.complete {
            return;
        }
        sys::note_ro_host_mounts();
        self.grants.lock().note(o.cgroup_id, g);
    }

    /// Whether a write through mount `m` by a task of container `o` changes
    /// the host's filesystems where its runtime gave it no write access:
    ///
    /// * a mount showing the whole host root filesystem, unless the
    ///   container's host-root volume was writable;
    /// * on the host root filesystem, below a root its runtime mounted
    ///   read-only, nearer than its own root or a root it mounted writable;
    /// * a filesystem a read-only host-root volume carried below it (the
    ///   host's `/run`, `/tmp`, `/proc`, `/sys`).
    ///
    /// Mounts that are read-only now are left to the kernel, which refuses
    /// the write. Mounts of the host's own namespace are judged where a
    /// path reaches them (`/proc/<pid>/root`, a leaked or received
    /// directory, a root or cwd escape), kernel-internal ones (an
    /// overlay's upper layer) are the kernel's.
    pub(crate) fn write_refused(&self, o: &Origin, m: sys::MountRef<'_>) -> bool {
        self.write_refused_as(o, m, false)
    }

    /// [`State::write_refused`] for an open of a file for writing;
    /// `special`: a FIFO or device node, which the kernel lets be written
    /// on a read-only mount too, so that such a mount is judged as well.
    pub(crate) fn write_refused_as(&self, o: &Origin, m: sys::MountRef<'_>, special: bool) -> bool {
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        // A mount that is still read-only refuses the write itself (`mkdir
        // -p` of a directory that exists, `touch` of a read-only volume's
        // file: EEXIST, EROFS), and nothing is judged.
        if o.ns[mnt] == self.base.ns[mnt] || !m.in_guest_ns() || (!special && !m.writable()) {
            return false;
        }
        if m.dev() != self.base.root.dev && o.host_root_volume == HostRootVolume::ReadOnly {
            if m.mounted_below(o.host_root_mount) {
                return true;
            }
            // Carried below some container's read-only host-root volume
            // (the list is every container's): unless this container's
            // runtime also gave it that filesystem writable, as a volume
            // of its own (a node agent's `/run` volume beside its `/host`).
            if sys::ro_carried(m.sb(), m.sb_tag()) {
                return !self.grants.lock().of(o.cgroup_id).is_some_and(|g| {
                    m.nearest_grant(&o.root, g.writable(), g.read_only()) == sys::Grant::Writable
                });
            }
        }
        if m.shows_host_root() && o.host_root_volume != HostRootVolume::ReadWrite {
            return true;
        }
        let Some(g) = self.grants.lock().of(o.cgroup_id) else {
            return false;
        };
        m.nearest_grant(&o.root, g.writable(), g.read_only()) == sys::Grant::ReadOnly
    }

    /// The write grants recorded for container `o` (none: it has no
    /// read-only host mounts, or they are not known).
    pub(crate) fn grants_of(&self, o: &Origin) -> Option<sys::WriteGrants> {
        self.grants.lock().of(o.cgroup_id)
    }

    /// `on_write_through`: a container task asks for write access to `m`.
    pub(crate) fn write_through(&self, task: sys::TaskRef<'_>, m: sys::MountRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        // The kernel's knobs (procfs, sysfs, cgroupfs, ...) are written by
        // opening them, and the open hook judges those opens with the
        // presets first, which name the knob, then the grants. Their other
        // changes (mkdir of a cgroup, chmod) open nothing: judged here.
        if sys::magic_may_be_sensitive(m.magic()) && sys::current_in_open() {
            return 0;
        }
        let Some((o, rep, tracked)) = self.contained(task) else {
            return 0;
        };
        if !self.write_refused(&o, m) {
            return 0;
        }
        // Reported already (a kill is on its way): refused without another
        // event. An open asks twice (the lookup, then the truncation), and
        // the second must not let the open reach the rules that would name
        // the same write again.
        if rep {
            return if self.enforcing() {
                EPERM.to_errno()
            } else {
                0
            };
        }
        let lin = Lineage::Container(o);
        let i = task.info(&self.base.refs(Some(&lin)));
        let mut path = [0u8; PATH_LEN];
        m.render(&mut path);
        self.refuse_access(
            abi::ESCGUARD_HOOK_WRITE,
            &Escape::object(),
            &i,
            lin,
            rep,
            tracked,
            task,
            until_nul(&path),
        )
    }
}
