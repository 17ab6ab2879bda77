// SPDX-License-Identifier: GPL-2.0

//! The file-open hooks: the escape verdict at every open the C fast path
//! could not answer for, the object opened, the preset and policy file
//! rules, block devices and kernel memory.

use crate::bytes::until_nul;
use crate::report::Extra;
use crate::verdict::{self, Escape, Lineage};
use crate::{abi, policy, presets, sys, State, PATH_LEN};
use kernel::prelude::*;

/// File type bits of `i_mode` (`linux/stat.h`).
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFCHR: u32 = 0o020000;
const S_IFBLK: u32 = 0o060000;
const S_IFIFO: u32 = 0o010000;

impl State {
    /// An escape found at file open (`esc`: by the task itself, or by the
    /// object it opens), or on the way to an object (a `/proc` link):
    /// recorded as reported, reported once naming `target`, and in enforce
    /// mode the call fails and the task is killed before it has the object.
    /// Returns what the call returns.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn refuse_access(
        &self,
        hook: u32,
        esc: &Escape,
        i: &sys::KInfo,
        lin: Lineage,
        rep: bool,
        tracked: bool,
        task: sys::TaskRef<'_>,
        target: &[u8],
    ) -> i32 {
        if !rep {
            self.record(i, lin, true, tracked);
        }
        let x = Extra {
            target,
            denied: self.enforcing(),
            ..Default::default()
        };
        self.act(hook, esc, i, &lin, task, None, None, rep, &x);
        if self.enforcing() {
            self.c.denials.inc();
            return EPERM.to_errno();
        }
        0
    }

    /// `refuse_access` of `file` (at `hook`), named by its path.
    #[allow(clippy::too_many_arguments)]
    fn refuse_file(
        &self,
        hook: u32,
        esc: &Escape,
        i: &sys::KInfo,
        lin: Lineage,
        rep: bool,
        tracked: bool,
        task: sys::TaskRef<'_>,
        file: sys::FileRef<'_>,
    ) -> i32 {
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        self.refuse_access(hook, esc, i, lin, rep, tracked, task, until_nul(&path))
    }
}

impl sys::OpenHooks for State {
    fn on_open(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>) -> i32 {
        // Counted by the hook entry (`hook_open`, `open_cached`), which answered
        // tracked host tasks and clean cached verdicts itself. The key first:
        // a change after it makes the key stale, never a cached verdict wrong.
        let key = &sys::current_open_key();
        // The task's facts need no lock either, and one table lookup
        // finds its lineage and whether anything changed since its last
        // verdict (if not, the verdict is cached for the next open).
        let quick = sys::current_facts();
        let looked = {
            let t = self.table.lock();
            let l = t.open_lookup(quick.pid, quick.task_id, &quick);
            if let Some((Lineage::Container(o), false, true)) = l {
                if o.settled
                    && key.task == quick.task_id
                    && o.caches_at(&quick.root, key.root_is_mount_root())
                {
                    self.fast.cache_fill(key);
                }
            }
            l
        };
        let (o, rep, tracked, unchanged) = match looked {
            Some((Lineage::Container(o), rep, unchanged)) if o.settled => (o, rep, true, unchanged),
            Some(_) => return 0,
            // Untracked (table at its cap, or a failed allocation): judged
            // by its parent's settled container lineage, or else by its own
            // namespaces and root -- untracked is not host.
            None => match self.contained(task) {
                Some((o, rep, tracked)) => (o, rep, tracked, false),
                None => return 0,
            },
        };
        let lin = Lineage::Container(o);
        self.c.open_locked.inc();

        // The detection core's verdict: an escaped task that reads host
        // files without forking or exec'ing is stopped here, before the
        // open returns a descriptor. If its namespaces, root and cwd are
        // those recorded at its last hooked call, the verdict is the one
        // made then (no escape): the cheap facts decide, without the
        // dentry walks. Otherwise the full verdict, and the entry is
        // brought up to date so that the next open is cheap again.
        let full = if unchanged {
            None
        } else {
            self.c.open_judged.inc();
            let i = task.info(&self.base.refs(Some(&lin)));
            let esc = verdict::judge(&self.base, &o, &i);
            if esc.any() {
                return self.refuse_file(
                    abi::ESCGUARD_HOOK_OPEN,
                    &esc,
                    &i,
                    lin,
                    rep,
                    tracked,
                    task,
                    file,
                );
            }
            if tracked {
                // No escape: the verdict on these facts is cached, under
                // the key read before them.
                self.record_keyed(&i, lin, rep, true, Some(key));
            }
            Some(i)
        };
        // What an event reports about the task: the full information (the
        // quick facts lack ppid, uid and comm), read only when a rule hits.
        let info = |full: Option<sys::KInfo>| {
            full.unwrap_or_else(|| task.info(&self.base.refs(Some(&lin))))
        };

        // Judge the object, not only the subject: the task is unchanged,
        // but what it opens may live on the host (a path through a host
        // task's /proc/<pid>/root, cwd or fd, a leaked host directory). A
        // regular file it already holds a descriptor on (a log file the
        // host handed it, reopened through /proc/self/fd) is its own.
        let f = file.facts();
        if !rep && (f.host_mnt_ns != 0 || f.dev == self.base.root.dev) {
            let flags = file.classify(&self.base.refs(Some(&lin)));
            let dir = f.mode & S_IFMT == S_IFDIR;
            let write = f.fmode & abi::ESCGUARD_PF_WRITE != 0;
            if verdict::object_on_host(&self.base, &o, flags, write)
                && (dir || !file.held_by_current())
            {
                return self.refuse_file(
                    abi::ESCGUARD_HOOK_OPEN,
                    &Escape::object(),
                    &info(full),
                    lin,
                    rep,
                    tracked,
                    task,
                    file,
                );
            }
        }

        // Preset rules on the kernel's host-wide knobs. (A path buffer is
        // zeroed when made, so one is made only where a rule may need it:
        // most container opens need none.)
        if f.fmode & abi::ESCGUARD_PF_WRITE != 0 && sys::magic_may_be_sensitive(f.magic) {
            let mut path = [0u8; PATH_LEN];
            file.sb_path(&mut path);
            // The container's own cgroup: the one its runtime put it in
            // (recorded at its first exec), or for want of that the task's.
            // A runtime that gave the container a writable cgroup hierarchy
            // delegated the groups it shows (a nested runtime's setup).
            let own_cgroup = || {
                if o.cgroup_delegated {
                    return true;
                }
                let cg = o.cgroup_id;
                // None known, or the hierarchy's root: no container's own
                // group (an untracked task is recorded where it is).
                if cg == 0 || task.cgroup_level_of(cg) == Some(0) {
                    return false;
                }
                // On 64-bit, a cgroup's id is its directory's inode number
                // (kernfs_ino()). An ancestor chain too deep to walk is
                // found with device 0: not the container's.
                file.find_ancestor(|id| id.ino == cg)
                    .is_some_and(|id| id.dev != 0)
            };
            if let Some(id) = presets::sensitive_write(&f, until_nul(&path), own_cgroup) {
                file.path(&mut path);
                let x = Extra {
                    target: until_nul(&path),
                    ..Default::default()
                };
                return self.preset_hit(abi::ESCGUARD_HOOK_OPEN, id, &o, task, &info(full), x);
            }
        }

        // What the runtime made read-only of the host's filesystems stays
        // read-only (after the presets, which name the knob when one
        // matches): a read-only host-root volume all the way down (what
        // its recursive bind carried below it: /run, /tmp, /proc, /sys,
        // writable whatever the volume's `ro` in runc 1.1), and a
        // read-only volume however it is made writable since (see
        // `writes`).
        // A FIFO or a device node is written through a mount whatever the
        // mount's read-only flag, which the kernel does not apply to them
        // (a host daemon's control FIFO, a host terminal, below a read-only
        // volume): judged by the grants even on a mount that is read-only
        // now. Devices that keep no state are not: `>/dev/null` in
        // `chroot /host` changes nothing of the host's. A channel -- a FIFO
        // or a character device -- is judged so opened for reading too: a
        // read takes what a host program wrote for another, which never
        // gets it (a FIFO's data, an admin's keystrokes on a host terminal,
        // an input device's events), and a read-only grant gives files to
        // look at, not a seat at a host program's channel. `/dev/kmsg`
        // readers take nothing from each other.
        let special = matches!(f.mode & S_IFMT, S_IFCHR | S_IFBLK | S_IFIFO);
        let write = f.fmode & abi::ESCGUARD_PF_WRITE != 0;
        if !rep
            && (write || (file.is_channel() && !file.is_kmsg()))
            && !file.is_stateless_device()
            && self.write_refused_as(&o, file.mount(), special)
        {
            return self.refuse_file(
                abi::ESCGUARD_HOOK_OPEN,
                &Escape::object(),
                &info(full),
                lin,
                rep,
                tracked,
                task,
                file,
            );
        }

        // The policy's file rules. The path is rendered only if some
        // enabled rule could match this open's mode (checked first without
        // the lock; the mirror is updated under it).
        if self.fast.file_access() & f.fmode == 0 {
            return 0;
        }
        let mut path = [0u8; PATH_LEN];
        let hit = {
            let mut pol = self.policy.lock();
            if pol.file_access & f.fmode == 0 {
                return 0;
            }
            file.path(&mut path);
            let p = until_nul(&path);
            pol.matching(task, |r| {
                r.raw.kind == abi::ESCGUARD_PRULE_FILE
                    && r.raw.flags & f.fmode != 0
                    && policy::path_matches(r.raw.match_, r.pattern(), p)
            })
        };
        let Some(hit) = hit else {
            return 0;
        };
        let x = Extra {
            target: until_nul(&path),
            rule_id: abi::ESCGUARD_RULE_POLICY,
            rule: until_nul(&hit.name),
            monitor: hit.monitor,
            ..Default::default()
        };
        self.rule_hit(
            abi::ESCGUARD_HOOK_OPEN,
            abi::ESCGUARD_REASON_RULE,
            &info(full),
            Some(&lin),
            task,
            None,
            x,
        )
    }

    fn on_bdev_open(
        &self,
        task: sys::TaskRef<'_>,
        file: sys::FileRef<'_>,
        held_by_fs: bool,
    ) -> i32 {
        self.c.hook_syscall.inc();
        if !held_by_fs {
            return 0;
        }
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        let x = Extra {
            target: until_nul(&path),
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_OPEN,
            abi::ESCGUARD_RULE_HOST_BLOCK_DEVICE,
            &o,
            task,
            &i,
            x,
        )
    }

    fn on_file_receive(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        // Judge the object wherever it enters the container, not only at
        // exec (inherited) and open: a directory of the host handed over a
        // unix socket reaches the whole host through `..` and *at() calls
        // (unlinkat, fchmodat, mkdirat, open_tree) that open nothing. A
        // file that is not a directory is the sender's to give (a log, a
        // pipe, a socket), as at exec.
        let f = file.facts();
        if f.mode & S_IFMT != S_IFDIR || (f.host_mnt_ns == 0 && f.dev != self.base.root.dev) {
            return 0;
        }
        let Some((o, rep, tracked)) = self.contained(task) else {
            return 0;
        };
        let lin = Lineage::Container(o);
        let refs = self.base.refs(Some(&lin));
        if rep || !verdict::object_on_host(&self.base, &o, file.classify(&refs), false) {
            return 0;
        }
        let esc = Escape::object();
        let i = task.info(&refs);
        self.refuse_file(
            abi::ESCGUARD_HOOK_RECEIVE,
            &esc,
            &i,
            lin,
            rep,
            tracked,
            task,
            file,
        )
    }

    fn on_kernel_memory(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>) -> i32 {
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        self.kernel_memory(task, until_nul(&path))
    }

    fn on_port_io(&self, task: sys::TaskRef<'_>) -> i32 {
        self.kernel_memory(task, b"ioperm/iopl")
    }
}

impl State {
    /// A container task reaching kernel memory or I/O ports (`what`).
    fn kernel_memory(&self, task: sys::TaskRef<'_>, what: &[u8]) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: what,
            ..Default::default()
        };
        self.preset_hit(
            abi::ESCGUARD_HOOK_OPEN,
            abi::ESCGUARD_RULE_KERNEL_MEMORY,
            &o,
            task,
            &i,
            x,
        )
    }
}
