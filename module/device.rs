// SPDX-License-Identifier: GPL-2.0

//! `/dev/escguard`: who may open it, its ioctls and event reads, and the
//! reference the module holds on itself so that `rmmod` fails.
//!
//! A task of container lineage is never trusted with the device, whatever
//! its capabilities or descriptors: its attempts are reported as tampering.

use crate::bytes::{self, until_nul};
use crate::policy::Policy;
use crate::presets::{Presets, PRESET_NAMES};
use crate::report::BufWriter;
use crate::verdict::Lineage;
use crate::{abi, sys, State, VERSION};
use core::mem::size_of;
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

/// Most events one `read()` returns.
const READ_BATCH: usize = 16;

/// A reference this module holds on itself: while one exists, `rmmod`
/// fails.
///
/// # Invariants
///
/// Owns one module reference taken by `sys::module_lock`.
pub(crate) struct ModuleRef(());

impl ModuleRef {
    /// Takes a reference; `None` if module exit has already begun.
    fn take() -> Option<Self> {
        // INVARIANT: `module_lock` succeeded, so the reference it took is ours.
        sys::module_lock().then(|| ModuleRef(()))
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, `self` owns a reference taken by
        // `module_lock`, which it gives up here.
        unsafe { sys::module_unlock() };
    }
}

/// Copies `value` to the user buffer at `arg`, which must be exactly the size
/// the ioctl number encodes.
fn copy_out<T: kernel::types::AsBytes>(arg: usize, value: &T) -> Result<isize> {
    UserSlice::new(arg, size_of::<T>()).writer().write(value)?;
    Ok(0)
}

/// A u32 ioctl argument.
fn read_u32(arg: usize) -> Result<u32> {
    UserSlice::new(arg, size_of::<u32>()).reader().read()
}

impl State {
    /// Whether `t` must never be trusted with escguard, whatever its
    /// capabilities: a task of settled container lineage; a host task, or
    /// one a runtime is still building, that looks contained away from the
    /// host's root (it entered a container and has not exec'd yet; at the
    /// host's root it is host code in a sandbox, or its child, see
    /// `Baseline::may_settle`); an untracked task that looks contained.
    pub(crate) fn untrusted(&self, t: sys::TaskRef<'_>) -> bool {
        let known = self.lineage_of(t);
        if let Some((Lineage::Container(o), _)) = known {
            if o.settled {
                return true;
            }
        }
        let i = t.info(&self.base.refs(None));
        self.base.looks_contained(&i) && (known.is_none() || self.base.may_settle(&i))
    }

    /// Takes the module reference that makes rmmod fail, unless held.
    pub(crate) fn lock(&self) {
        let mut held = self.module_ref.lock();
        if held.is_none() {
            *held = ModuleRef::take();
        }
    }

    /// Drops the reference taken by `lock`, if held; whether it was.
    fn unlock(&self) -> bool {
        let held = self.module_ref.lock().take();
        let was = held.is_some();
        // The reference goes here, after the lock was dropped.
        drop(held);
        was
    }

    /// ESCGUARD_IOC_VERSION.
    fn version(&self) -> abi::escguard_version {
        let mut v = abi::escguard_version {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            ..Default::default()
        };
        // Leave at least one trailing NUL.
        let n = VERSION.len().min(v.module_version.len() - 1);
        v.module_version[..n].copy_from_slice(&VERSION.as_bytes()[..n]);
        v
    }

    /// ESCGUARD_IOC_STATUS.
    fn status(&self) -> abi::escguard_status {
        let (tasks_host, tasks_container, table_cap) = {
            let t = self.table.lock();
            let (h, c) = t.counts();
            (h, c, t.cap())
        };
        let (queued, retained, evicted, last_seq, acked, writer, cap) = {
            let r = self.ring.lock();
            (
                r.unacked() as u64,
                r.retained() as u64,
                r.evicted(),
                r.last_seq(),
                r.acked(),
                r.has_writer() as u32,
                r.capacity() as u64,
            )
        };
        let hook_ns = sys::hook_ns();
        let (policy_rules, policy_loaded_ns) = {
            let p = self.policy.lock();
            (p.rules.len() as u32, p.loaded_ns)
        };
        abi::escguard_status {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            mode: self.mode.load(Ordering::Relaxed),
            probes: sys::probe_count(),
            loaded_ns: self.loaded_ns,
            opens: self.c.opens.get(),
            ioctls: self.c.ioctls.get(),
            tasks_host,
            tasks_container,
            hook_fork: self.c.hook_fork.get(),
            hook_exec: self.c.hook_exec.get(),
            hook_exit: self.c.hook_exit.get(),
            probes_missed: sys::probes_missed(),
            verdicts: self.c.verdicts.get(),
            kills: self.c.kills.get(),
            events_emitted: self.c.events_emitted.get(),
            events_dropped: self.c.events_dropped.get(),
            events_queued: queued,
            events_retained: retained,
            events_evicted: evicted,
            events_last_seq: last_seq,
            events_acked: acked,
            writer,
            alloc_failures: self.c.alloc_failures.get(),
            untracked: self.c.untracked.get(),
            tid_swaps_lost: self.c.tid_swaps_lost.get(),
            hook_ns_fork: hook_ns[0],
            hook_ns_exec: hook_ns[1],
            hook_ns_exit: hook_ns[2],
            baseline_ns: self.base.ns,
            baseline_root: self.base.root,
            ring_capacity: cap,
            ring_bytes: cap * size_of::<abi::escguard_event>() as u64,
            hook_unload: self.c.hook_unload.get(),
            locked: self.module_ref.lock().is_some() as u32,
            events_gid: self.events_gid,
            table_cap,
            table_full: self.c.table_full.get(),
            parent_judged: self.c.parent_judged.get(),
            tamper: self.c.tamper.get(),
            denied: self.c.denied.get(),
            hook_open: self.c.hook_open.get(),
            hook_ns_open: hook_ns[4],
            hook_syscall: self.c.hook_syscall.get(),
            hook_ns_syscall: hook_ns[5],
            rule_hits: self.c.rule_hits.get(),
            denials: self.c.denials.get(),
            umh_checked: self.c.umh_checked.get(),
            open_checked: self.c.open_locked.get() + self.c.open_cached.get(),
            open_judged: self.c.open_judged.get(),
            open_cached: self.c.open_cached.get(),
            rules_enabled: self.presets.mask(),
            policy_rules,
            policy_loaded_ns,
            ..Default::default()
        }
    }

    /// ESCGUARD_IOC_SET_MODE.
    fn set_mode(&self, task: sys::TaskRef<'_>, arg: usize) -> Result<isize> {
        let mode: u32 = UserSlice::new(arg, size_of::<u32>()).reader().read()?;
        if mode != abi::ESCGUARD_MODE_MONITOR && mode != abi::ESCGUARD_MODE_ENFORCE {
            return Err(EINVAL);
        }
        let old = self.mode.swap(mode, Ordering::Relaxed);
        if old != mode {
            let enforce = mode == abi::ESCGUARD_MODE_ENFORCE;
            pr_notice!("mode {}\n", if enforce { "enforce" } else { "monitor" });
            if !enforce {
                self.config_event(task, b"mode monitor");
            }
        }
        Ok(0)
    }

    /// ESCGUARD_IOC_READER(ESCGUARD_READ_ACK): makes `f` the one durable
    /// writer. Host admin only, checked now in the caller: acknowledging
    /// decides what the ring may overwrite.
    fn attach_writer(&self, f: sys::FileState<'_>) -> Result<isize> {
        if f.ack_mode() {
            return Ok(0);
        }
        if f.access() & sys::ACCESS_ADMIN == 0 || !sys::capable_admin() {
            self.c.denied.inc();
            return Err(EPERM);
        }
        let start = self.ring.lock().attach_writer().ok_or(EBUSY)?;
        f.set_ack_mode(true);
        f.set_cursor(start);
        Ok(0)
    }

    /// ESCGUARD_IOC_TASKS: validates the request, copies a page of the table
    /// under the lock into a buffer allocated beforehand, then copies it out.
    fn list_tasks(&self, arg: usize) -> Result<isize> {
        let hdr_len = size_of::<abi::escguard_task_list>();
        let mut req: abi::escguard_task_list = UserSlice::new(arg, hdr_len).reader().read()?;
        if req.capacity == 0 || req.capacity > abi::ESCGUARD_TASKS_MAX {
            return Err(EINVAL);
        }
        // About 1 MiB: vmalloc-backed, no high-order allocation to fail.
        let mut page = KVVec::with_capacity(req.capacity as usize, GFP_KERNEL)?;
        let total = {
            let mut t = self.table.lock();
            t.list(req.start_pid, &mut page);
            let (h, c) = t.counts();
            h + c
        };
        // The cgroup now, outside the table lock: a row names its container
        // even for a task that never made a hooked call since.
        for t in page.iter_mut() {
            if let Some(h) = sys::TaskHold::by_vpid(t.pid as i32) {
                t.cgroup_id = h.task().cgroup(bytes::bytes_of_mut(&mut t.cgroup));
            }
        }
        let rec = size_of::<abi::escguard_task>();
        let mut w = UserSlice::new(req.tasks as usize, page.len() * rec).writer();
        for t in page.iter() {
            w.write(t)?;
        }
        req.count = page.len() as u32;
        req.total = total.min(u32::MAX as u64) as u32;
        UserSlice::new(arg, hdr_len).writer().write(&req)?;
        Ok(0)
    }

    /// ESCGUARD_IOC_RULES.
    fn list_rules(&self, arg: usize) -> Result<isize> {
        let hdr_len = size_of::<abi::escguard_rule_list>();
        let mut req: abi::escguard_rule_list = UserSlice::new(arg, hdr_len).reader().read()?;
        if req.capacity == 0 || req.capacity > abi::ESCGUARD_RULES_MAX {
            return Err(EINVAL);
        }
        let mut out = KVec::with_capacity(abi::ESCGUARD_RULES_MAX as usize, GFP_KERNEL)?;
        for (id, name) in PRESET_NAMES.iter().enumerate() {
            let mut r = abi::escguard_rule_info {
                id: id as u32,
                enabled: self.presets.on(id as u32) as u32,
                hits: self.presets.hits(id),
                ..Default::default()
            };
            bytes::bytes_of_mut(&mut r.name)[..name.len()].copy_from_slice(name);
            out.push(r, GFP_KERNEL)?;
        }
        {
            let pol = self.policy.lock();
            for pr in pol.rules.iter() {
                let mut r = abi::escguard_rule_info {
                    id: abi::ESCGUARD_RULE_POLICY,
                    enabled: pr.enabled() as u32,
                    hits: pr.hits,
                    ..Default::default()
                };
                r.name = pr.raw.name;
                // Capacity reserved above: never allocates under the lock.
                out.push(r, GFP_NOWAIT)?;
            }
        }
        let n = out.len().min(req.capacity as usize);
        let rec = size_of::<abi::escguard_rule_info>();
        let mut w = UserSlice::new(req.rules as usize, n * rec).writer();
        for r in out.iter().take(n) {
            w.write(r)?;
        }
        req.count = n as u32;
        UserSlice::new(arg, hdr_len).writer().write(&req)?;
        Ok(0)
    }

    /// ESCGUARD_IOC_SET_RULE.
    fn set_rule(&self, task: sys::TaskRef<'_>, arg: usize) -> Result<isize> {
        let sw: abi::escguard_rule_switch =
            UserSlice::new(arg, size_of::<abi::escguard_rule_switch>())
                .reader()
                .read()?;
        let raw = bytes::bytes_of(&sw.name);
        let name = until_nul(raw);
        if sw.enable > 1 || sw.pad != 0 || name.len() == raw.len() || name.is_empty() {
            return Err(EINVAL);
        }
        let on = sw.enable == 1;
        if let Some(id) = Presets::find(name) {
            self.presets.set(id, on);
        } else {
            let mut pol = self.policy.lock();
            let r = pol.find_mut(name).ok_or(ENOENT)?;
            r.raw.enabled = on as u32;
            pol.refresh();
            self.fast.set_file_access(pol.file_access);
        }
        let shown = core::str::from_utf8(name).unwrap_or("?");
        pr_notice!(
            "rule {} {}\n",
            shown,
            if on { "enabled" } else { "disabled" }
        );
        if !on {
            let mut buf = [0u8; 64];
            let mut w = BufWriter::new(&mut buf);
            w.bytes(b"rule disabled: ");
            w.bytes(name);
            self.config_event(task, w.done());
        }
        Ok(0)
    }

    /// ESCGUARD_IOC_SET_POLICY: validated in full before it replaces the
    /// active policy, so a bad one changes nothing.
    fn set_policy(&self, task: sys::TaskRef<'_>, arg: usize) -> Result<isize> {
        let new = Policy::from_user(arg, sys::now_ns())?;
        let (rules, sockets) = (new.rules.len(), new.sockets.len());
        let old = {
            let mut pol = self.policy.lock();
            self.fast.set_file_access(new.file_access);
            core::mem::replace(&mut *pol, new)
        };
        // Freed outside the lock.
        drop(old);
        pr_notice!(
            "policy loaded: {} rules, {} runtime sockets\n",
            rules,
            sockets
        );
        self.config_event(task, b"policy loaded");
        Ok(0)
    }

    /// ESCGUARD_IOC_GET_POLICY.
    fn get_policy(&self, arg: usize) -> Result<isize> {
        let hdr_len = size_of::<abi::escguard_policy>();
        let req: abi::escguard_policy = UserSlice::new(arg, hdr_len).reader().read()?;
        let cap = req.rule_count as usize;
        if cap > abi::ESCGUARD_POLICY_RULES_MAX as usize {
            return Err(EINVAL);
        }
        let mut rules = KVVec::with_capacity(abi::ESCGUARD_POLICY_RULES_MAX as usize, GFP_KERNEL)?;
        let hdr = {
            let pol = self.policy.lock();
            for r in pol.rules.iter() {
                // Capacity reserved above: never allocates under the lock.
                rules.push(r.raw, GFP_NOWAIT)?;
            }
            pol.header(req.rules)
        };
        let n = rules.len().min(cap);
        let rec = size_of::<abi::escguard_policy_rule>();
        let mut w = UserSlice::new(req.rules as usize, n * rec).writer();
        for r in rules.iter().take(n) {
            w.write(r)?;
        }
        UserSlice::new(arg, hdr_len).writer().write(&hdr)?;
        Ok(0)
    }
}

impl sys::DeviceOps for State {
    fn open(&self, f: sys::FileState<'_>, task: sys::TaskRef<'_>, write: bool) -> Result {
        if self.untrusted(task) {
            self.tamper(abi::ESCGUARD_HOOK_DEVICE, task, b"open");
            return Err(EPERM);
        }
        // Checked here, not only by the node's mode: root without
        // CAP_SYS_ADMIN, or a node made elsewhere with mknod, gets no further.
        let access = if sys::capable_admin() {
            sys::ACCESS_ADMIN | sys::ACCESS_READ
        } else if !write
            && self.events_gid != abi::ESCGUARD_NO_GID
            && sys::in_group(self.events_gid)
        {
            sys::ACCESS_READ
        } else {
            self.c.denied.inc();
            return Err(EPERM);
        };
        f.set_access(access);
        self.c.opens.inc();
        Ok(())
    }

    fn ioctl(
        &self,
        f: sys::FileState<'_>,
        task: sys::TaskRef<'_>,
        cmd: u32,
        arg: usize,
    ) -> Result<isize> {
        self.c.ioctls.inc();
        // A descriptor passed into a container is no key to escguard.
        if self.untrusted(task) {
            self.tamper(abi::ESCGUARD_HOOK_DEVICE, task, b"ioctl");
            return Err(EPERM);
        }
        let (need, change) = match cmd {
            abi::ESCGUARD_IOCTL_VERSION
            | abi::ESCGUARD_IOCTL_STATUS
            | abi::ESCGUARD_IOCTL_READER
            | abi::ESCGUARD_IOCTL_ACK
            | abi::ESCGUARD_IOCTL_RULES
            | abi::ESCGUARD_IOCTL_GET_POLICY => (sys::ACCESS_READ, false),
            abi::ESCGUARD_IOCTL_TASKS => (sys::ACCESS_ADMIN, false),
            abi::ESCGUARD_IOCTL_SET_MODE
            | abi::ESCGUARD_IOCTL_LOCK
            | abi::ESCGUARD_IOCTL_SET_RULE
            | abi::ESCGUARD_IOCTL_SET_POLICY => (sys::ACCESS_ADMIN, true),
            // Unknown numbers, including known ones with another size or
            // direction encoded, are not ours.
            _ => return Err(ENOTTY),
        };
        // Changes also need the privilege now, in the caller: a descriptor
        // the admin opened and handed to a lesser task does not carry it.
        if f.access() & need == 0 || (change && !sys::capable_admin()) {
            self.c.denied.inc();
            return Err(EPERM);
        }
        match cmd {
            abi::ESCGUARD_IOCTL_VERSION => copy_out(arg, &self.version()),
            abi::ESCGUARD_IOCTL_STATUS => copy_out(arg, &self.status()),
            abi::ESCGUARD_IOCTL_SET_MODE => self.set_mode(task, arg),
            abi::ESCGUARD_IOCTL_TASKS => self.list_tasks(arg),
            abi::ESCGUARD_IOCTL_RULES => self.list_rules(arg),
            abi::ESCGUARD_IOCTL_SET_RULE => self.set_rule(task, arg),
            abi::ESCGUARD_IOCTL_SET_POLICY => self.set_policy(task, arg),
            abi::ESCGUARD_IOCTL_GET_POLICY => self.get_policy(arg),
            abi::ESCGUARD_IOCTL_READER => match read_u32(arg)? {
                abi::ESCGUARD_READ_PEEK => {
                    if f.ack_mode() {
                        f.set_ack_mode(false);
                        self.ring.lock().detach_writer();
                    }
                    Ok(0)
                }
                abi::ESCGUARD_READ_ACK => self.attach_writer(f),
                _ => Err(EINVAL),
            },
            abi::ESCGUARD_IOCTL_ACK => {
                let seq: u64 = UserSlice::new(arg, size_of::<u64>()).reader().read()?;
                // Looking never erases: only the durable writer acknowledges.
                if !f.ack_mode() {
                    self.c.denied.inc();
                    return Err(EPERM);
                }
                self.ring.lock().ack(seq);
                Ok(0)
            }
            abi::ESCGUARD_IOCTL_LOCK => match read_u32(arg)? {
                0 => {
                    if self.unlock() {
                        pr_notice!("unlocked by the host admin; rmmod now allowed\n");
                        self.config_event(task, b"unlock");
                    }
                    Ok(0)
                }
                1 => {
                    self.lock();
                    Ok(0)
                }
                _ => Err(EINVAL),
            },
            _ => Err(ENOTTY),
        }
    }

    fn read(
        &self,
        f: sys::FileState<'_>,
        task: sys::TaskRef<'_>,
        ubuf: usize,
        len: usize,
    ) -> Result<isize> {
        if self.untrusted(task) {
            self.tamper(abi::ESCGUARD_HOOK_DEVICE, task, b"read");
            return Err(EPERM);
        }
        let rec = size_of::<abi::escguard_event>();
        let want = (len / rec).min(READ_BATCH);
        if want == 0 {
            // Whole records only: a short buffer would split one.
            return Err(EINVAL);
        }
        let mut batch = KVec::with_capacity(want, GFP_KERNEL)?;
        {
            // Copied out of the ring, never removed from it: reading is
            // looking; only the writer's acknowledgement lets events go.
            let ring = self.ring.lock();
            let mut k = ring.first_after(f.cursor());
            while let Some(ev) = ring.peek(k) {
                if batch.len() == want {
                    break;
                }
                batch.push(*ev, GFP_NOWAIT)?;
                k += 1;
            }
        }
        let Some(last) = batch.last().map(|e| e.seq) else {
            return Err(EAGAIN);
        };
        let mut w = UserSlice::new(ubuf, batch.len() * rec).writer();
        for ev in batch.iter() {
            w.write(ev)?;
        }
        // Only after the copy: a fault leaves the cursor where it was.
        f.advance(last);
        Ok((batch.len() * rec) as isize)
    }

    fn readable(&self, f: sys::FileState<'_>) -> bool {
        // Retained events only: a dropped event has a number but no record.
        let ring = self.ring.lock();
        ring.first_after(f.cursor()) < ring.retained()
    }

    fn release(&self, f: sys::FileState<'_>) {
        if f.ack_mode() {
            self.ring.lock().detach_writer();
        }
    }
}
