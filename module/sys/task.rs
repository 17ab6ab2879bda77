// SPDX-License-Identifier: GPL-2.0

//! Tasks: [`TaskRef`] and the facts escguard reads about a task (identity,
//! credentials, namespaces, root and cwd), straight from `task_struct`
//! under RCU, `task_lock` and `fs->lock` or `fs->seq`.

use super::raw;
use super::vfs::{self, FileRef};
use super::{FsRef, KInfo};
use crate::abi;
use core::marker::PhantomData;
use core::ptr::{self, addr_of};
use kernel::bindings;
use kernel::error::code::ESRCH;
use kernel::ffi::c_void;
use kernel::prelude::*;

/// `PF_EXITING`, `PF_KTHREAD` (`linux/sched.h`).
const PF_EXITING: u32 = 0x0000_0004;
const PF_KTHREAD: u32 = 0x0020_0000;
/// `SIGKILL`.
const SIGKILL: i32 = 9;

/// A task the kernel handed to a hook, valid for the hook's duration.
///
/// # Invariants
///
/// `ptr` points to a `task_struct` that stays valid for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct TaskRef<'a> {
    ptr: *mut bindings::task_struct,
    _p: PhantomData<&'a bindings::task_struct>,
}

/// RCU read-side critical section, for as long as the guard lives.
pub(crate) struct Rcu(());

impl Rcu {
    pub(crate) fn lock() -> Self {
        // SAFETY: `rcu_read_lock()` may be called in any context; `drop`
        // ends the section.
        unsafe { raw::escguard_rcu_read_lock() };
        Rcu(())
    }
}

impl Drop for Rcu {
    fn drop(&mut self) {
        // SAFETY: begun in `lock`.
        unsafe { raw::escguard_rcu_read_unlock() };
    }
}

impl<'a> TaskRef<'a> {
    /// # Safety
    ///
    /// `ptr` must point to a `task_struct` that stays valid for `'a`.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::task_struct) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    /// The calling task.
    pub(crate) fn current() -> TaskRef<'a> {
        // SAFETY: `current` is valid while the caller runs: a hook or file
        // operation does not outlive its call.
        unsafe { Self::from_raw(bindings::get_current()) }
    }

    /// The task's global pid (thread id).
    pub(crate) fn pid(&self) -> u32 {
        // SAFETY: `self.ptr` is a valid task (type invariant); `pid` is set
        // before a task is visible to us and only changes in exec's
        // de_thread, which runs in the task itself.
        unsafe { (*self.ptr).pid as u32 }
    }

    /// Identity of the task (its address), for telling a reused pid apart.
    pub(crate) fn id(&self) -> u64 {
        self.ptr as usize as u64
    }

    fn flags(&self) -> u32 {
        // SAFETY: valid task (type invariant); flags change racily (as
        // READ_ONCE readers in the kernel see them).
        unsafe { ptr::read_volatile(addr_of!((*self.ptr).flags)) }
    }

    /// The task's `fs_struct` (null while it exits). Only the task itself
    /// replaces it: stable when `self` is current.
    pub(crate) fn fs_raw(&self) -> *mut raw::fs_struct {
        // SAFETY: valid task (type invariant).
        unsafe { (*self.ptr).fs as *mut raw::fs_struct }
    }

    /// The task's `nsproxy` (null while it exits), as for `fs_raw`.
    pub(crate) fn nsproxy_raw(&self) -> *mut bindings::nsproxy {
        // SAFETY: valid task (type invariant).
        unsafe { (*self.ptr).nsproxy }
    }

    /// The user namespace of the task's real credentials. Only meaningful
    /// (and only called) for current, whose real credentials only it
    /// replaces.
    pub(crate) fn user_ns_raw(&self) -> *mut bindings::user_namespace {
        // SAFETY: valid task (type invariant); current's `real_cred` is
        // pinned by current (`current_real_cred()`).
        unsafe { (*(*self.ptr).real_cred).user_ns }
    }

    /// Whether the task can be a container task at all: a user task, not a
    /// kernel thread, with a filesystem context and namespaces (an exiting
    /// task has neither).
    #[inline(always)]
    pub(crate) fn is_user(&self) -> bool {
        self.flags() & PF_KTHREAD == 0 && !self.fs_raw().is_null() && !self.nsproxy_raw().is_null()
    }

    /// Whether the task's parent is a kernel thread (a usermode helper's, or
    /// init's).
    pub(crate) fn parent_is_kthread(&self) -> bool {
        let _rcu = Rcu::lock();
        // SAFETY: valid task (type invariant); `real_parent` is RCU-protected.
        unsafe {
            let parent = ptr::read_volatile(addr_of!((*self.ptr).real_parent));
            ptr::read_volatile(addr_of!((*parent).flags)) & PF_KTHREAD != 0
        }
    }

    /// Whether this is the calling task.
    pub(crate) fn is_current(&self) -> bool {
        // SAFETY: `get_current()` has no preconditions.
        self.ptr == unsafe { bindings::get_current() }
    }

    /// Whether the task has started exiting (`PF_EXITING`).
    pub(crate) fn exiting(&self) -> bool {
        self.flags() & PF_EXITING != 0
    }

    /// Sends SIGKILL to the task's thread group. Never sleeps.
    pub(crate) fn kill(&self) {
        // SAFETY: valid task (type invariant); `send_sig` takes the target's
        // siglock, which none of our hook sites holds. Privileged
        // (`priv` 1): it also kills a pid namespace's init.
        unsafe { bindings::send_sig(SIGKILL, self.ptr, 1) };
    }

    /// Clears `out` and fills in who the task is.
    fn identity(&self, out: &mut KInfo) {
        *out = KInfo::default();
        out.task_id = self.id();
        out.pid = self.pid();
        // SAFETY: valid task (type invariant); `tgid` is as stable as `pid`.
        out.tgid = unsafe { (*self.ptr).tgid } as u32;
        out.kthread = (self.flags() & PF_KTHREAD != 0) as u32;
    }

    /// ppid, uid and the user namespace, under RCU.
    fn creds(&self, out: &mut KInfo, _rcu: &Rcu) {
        // SAFETY: valid task (type invariant); `real_parent` and `real_cred`
        // are RCU-protected and we are in a read-side section.
        unsafe {
            let parent = ptr::read_volatile(addr_of!((*self.ptr).real_parent));
            out.ppid = (*parent).tgid as u32;
            let cred = ptr::read_volatile(addr_of!((*self.ptr).real_cred));
            out.uid =
                bindings::from_kuid_munged(ptr::addr_of_mut!(bindings::init_user_ns), (*cred).uid);
            out.ns[abi::ESCGUARD_NS_USER as usize] = (*(*cred).user_ns).ns.inum as u64;
        }
    }

    fn comm(&self, out: &mut KInfo) {
        // SAFETY: valid task (type invariant); comm is read racily, as /proc
        // does; the last byte is forced to NUL.
        let comm = unsafe { ptr::read_volatile(addr_of!((*self.ptr).comm)) };
        out.comm = comm;
        out.comm[out.comm.len() - 1] = 0;
    }

    /// The task's key information, its root and cwd classified against
    /// `refs` (only if `refs` has an origin root: the flags are 0
    /// otherwise). Takes `task_lock` and `fs->lock`: never call it while
    /// holding either.
    pub(crate) fn info(&self, refs: &FsRef) -> KInfo {
        let mut out = KInfo::default();
        self.identity(&mut out);
        {
            let rcu = Rcu::lock();
            self.creds(&mut out, &rcu);
            // SAFETY: valid task; under RCU as the accessor requires.
            out.ns[abi::ESCGUARD_NS_PID as usize] =
                unsafe { raw::escguard_task_pid_ns_inum(self.ptr) };
        }
        // SAFETY: valid task (type invariant); task_lock pins `nsproxy` and
        // `fs`, `fs->lock` pins root and cwd.
        unsafe {
            raw::escguard_task_lock(self.ptr);
            self.comm(&mut out);
            fill_ns((*self.ptr).nsproxy, &mut out);
            let fs = (*self.ptr).fs as *mut raw::fs_struct;
            if !fs.is_null() {
                out.has_fs = 1;
                vfs::fs_lock(fs);
                let (root, pwd) = ((*fs).root, (*fs).pwd);
                out.root = vfs::fsid(&root);
                out.cwd = vfs::fsid(&pwd);
                // The flags only serve the verdict on a container with a
                // recorded origin; skip the dentry walks for everyone else
                // (every host fork and exec).
                if refs.origin_root.dev != 0 {
                    out.root_flags = vfs::classify(&root, refs);
                    out.cwd_flags = vfs::classify(&pwd, refs);
                }
                vfs::fs_unlock(fs);
            }
            raw::escguard_task_unlock(self.ptr);
        }
        out
    }

    /// Identity and credentials only, without `task_lock` (for hooks called
    /// under some task's `task_lock`): no namespaces, no fs.
    pub(crate) fn info_light(&self) -> KInfo {
        let mut out = KInfo::default();
        self.identity(&mut out);
        {
            let rcu = Rcu::lock();
            self.creds(&mut out, &rcu);
        }
        // Only the identity and credentials: no namespaces.
        out.ns[abi::ESCGUARD_NS_USER as usize] = 0;
        self.comm(&mut out);
        out
    }

    /// The task's program file with a reference (`get_task_exe_file()`,
    /// which is not exported), or null. Takes `task_lock`.
    fn exe_file(&self) -> *mut bindings::file {
        // SAFETY: valid task (type invariant); `task_lock` pins `mm` (exit
        // clears it under the lock), and a user task's mm pins its
        // `exe_file` slot. `get_file_rcu()` takes a reference only on a
        // file that is still live, which RCU keeps readable meanwhile.
        unsafe {
            raw::escguard_task_lock(self.ptr);
            let mm = (*self.ptr).mm;
            let f = if mm.is_null() || self.flags() & PF_KTHREAD != 0 {
                ptr::null_mut()
            } else {
                let _rcu = Rcu::lock();
                bindings::get_file_rcu(ptr::addr_of_mut!((*mm).__bindgen_anon_1.exe_file))
            };
            raw::escguard_task_unlock(self.ptr);
            f
        }
    }

    /// The task's cgroup on the default (v2) hierarchy, as
    /// `task_dfl_cgroup()`: valid while `_rcu` is held.
    fn dfl_cgroup(&self, _rcu: &Rcu) -> *mut bindings::cgroup {
        // SAFETY: valid task (type invariant); `cgroups` is RCU-protected
        // (read once, as `task_css_set()` does) and a css_set's `dfl_cgrp`
        // is fixed for its life, which RCU extends past our use.
        unsafe { (*ptr::read_volatile(addr_of!((*self.ptr).cgroups))).dfl_cgrp }
    }

    /// The task's cgroup v2 id, and its path from the cgroup root into `buf`
    /// (NUL-terminated; a path that fills `buf` ends in "..." as it may have
    /// been cut). Takes a spinning lock only: callable from the hooks.
    pub(crate) fn cgroup(&self, buf: &mut [u8]) -> u64 {
        let len = buf.len();
        if len < 4 {
            return 0;
        }
        let rcu = Rcu::lock();
        let cg = self.dfl_cgroup(&rcu);
        // SAFETY: `cg` is valid under `rcu`, and so is its kernfs node
        // (fixed for the cgroup's life). `kernfs_path_from_node()` takes
        // `kernfs_rename_lock` (a spinning lock) and writes at most `len`
        // bytes of `buf`, NUL included.
        let (id, r) = unsafe {
            let kn = (*cg).kn;
            let r =
                bindings::kernfs_path_from_node(kn, ptr::null_mut(), buf.as_mut_ptr().cast(), len);
            ((*kn).id, r)
        };
        drop(rcu);
        if r < 0 {
            buf[0] = 0;
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(len);
        if end >= len - 1 {
            buf[len - 4..len - 1].copy_from_slice(b"...");
            buf[len - 1] = 0;
        }
        id
    }

    /// What the task's runtime configured into its mount namespace below
    /// its root (see [`vfs::ConfiguredMounts`]). Takes `task_lock`
    /// and `fs->lock` (never call it holding either); for tasks other than
    /// current (current uses [`current_configured_mounts`]).
    pub(crate) fn configured_mounts(&self) -> vfs::ConfiguredMounts {
        // SAFETY: valid task (type invariant); task_lock pins `nsproxy` (and
        // so its mount namespace) and `fs`, `fs->lock` pins the root.
        unsafe {
            raw::escguard_task_lock(self.ptr);
            let (nsp, fs) = ((*self.ptr).nsproxy, (*self.ptr).fs as *mut raw::fs_struct);
            let mut hit = vfs::ConfiguredMounts::default();
            if !nsp.is_null() && !fs.is_null() {
                vfs::fs_lock(fs);
                let root = (*fs).root.mnt;
                vfs::fs_unlock(fs);
                // The root mount is compared by address only.
                hit =
                    vfs::ConfiguredMounts::scan((*nsp).mnt_ns.cast::<c_void>().cast_const(), root);
            }
            raw::escguard_task_unlock(self.ptr);
            hit
        }
    }

    /// The task's cgroup v2 id (`cgroup_id()`).
    pub(crate) fn cgroup_id(&self) -> u64 {
        let rcu = Rcu::lock();
        // SAFETY: the cgroup and its kernfs node are valid under `rcu`.
        unsafe { (*(*self.dfl_cgroup(&rcu)).kn).id }
    }

    /// The depth of the task's cgroup ancestor (or own cgroup) with id `id`
    /// (0: the root); `None` if the task is not in that cgroup or below it.
    /// One look under RCU: a task that migrates meanwhile is judged in its
    /// old cgroup or its new one, never in a mix.
    pub(crate) fn cgroup_level_of(&self, id: u64) -> Option<u32> {
        let rcu = Rcu::lock();
        // SAFETY: the task's cgroup is valid under `rcu`.
        unsafe { CgroupRef::from_raw(self.dfl_cgroup(&rcu)) }.and_then(|cg| cg.level_of(id))
    }

    /// Renders root, cwd (within their filesystems) and the program file's
    /// path (`file`, or the task's current program) into the three buffers.
    /// Takes `task_lock` and `fs->lock`.
    pub(crate) fn paths(
        &self,
        file: Option<FileRef<'_>>,
        root: &mut [u8],
        cwd: &mut [u8],
        exe: &mut [u8],
    ) {
        for b in [&mut *root, &mut *cwd, &mut *exe] {
            if let Some(c) = b.first_mut() {
                *c = 0;
            }
        }
        // SAFETY: valid task (type invariant); task_lock pins `fs`, and
        // `fs->lock` its root and cwd while they are rendered.
        unsafe {
            raw::escguard_task_lock(self.ptr);
            let fs = (*self.ptr).fs as *mut raw::fs_struct;
            if !fs.is_null() {
                vfs::fs_lock(fs);
                vfs::render_raw(&(*fs).root, root);
                vfs::render_raw(&(*fs).pwd, cwd);
                vfs::fs_unlock(fs);
            }
            raw::escguard_task_unlock(self.ptr);
        }
        match file {
            Some(f) => f.path(exe),
            None => {
                let f = self.exe_file();
                if !f.is_null() {
                    // SAFETY: we hold a reference on `f` until the fput below.
                    if let Some(f) = unsafe { FileRef::from_raw(f) } {
                        f.path(exe);
                    }
                    // SAFETY: drops the reference taken above. The mm holds
                    // its own, so ours is never the last (and fput() may be
                    // called in atomic context anyway).
                    unsafe { bindings::fput(f) };
                }
            }
        }
    }
}

/// The namespaces an nsproxy holds (none while the task exits). The caller
/// pins `nsp` (task_lock, or `nsp` is current's own or being installed).
///
/// # Safety
///
/// `nsp` is null or a valid, pinned nsproxy.
pub(crate) unsafe fn fill_ns(nsp: *const bindings::nsproxy, out: &mut KInfo) {
    if nsp.is_null() {
        return;
    }
    out.has_ns = 1;
    // SAFETY: `nsp` is valid and pinned (function requirement); `out.ns`
    // has ESCGUARD_NS_COUNT slots.
    unsafe { raw::escguard_nsproxy_inums(nsp, out.ns.as_mut_ptr()) };
}

/// The calling task's identity, namespaces, root and cwd, read without a
/// lock (no ppid, uid, comm or root/cwd flags): only current replaces its
/// own nsproxy and fs pointers, and `fs->seq` orders root and cwd against a
/// chdir by a thread sharing the fs_struct. The values equal `info`'s.
/// Whether the cgroup v2 group with id `id` exists now. Ids are never
/// reused, so a group that is gone is gone for good (its container
/// deleted). Never sleeps.
pub(crate) fn cgroup_live(id: u64) -> bool {
    // SAFETY: any id may be asked; the accessor puts the reference it
    // takes.
    unsafe { raw::escguard_cgroup_live(id) }
}

pub(crate) fn current_facts() -> KInfo {
    let t = TaskRef::current();
    let mut out = KInfo::default();
    t.identity(&mut out);
    let _rcu = Rcu::lock();
    // The real credentials, as `info` reads them (not an override_creds()
    // in effect, e.g. overlayfs opening a lower file).
    // SAFETY: current's real credentials are pinned by current; under RCU
    // for the pid namespace accessor.
    unsafe {
        out.ns[abi::ESCGUARD_NS_USER as usize] = (*t.user_ns_raw()).ns.inum as u64;
        out.ns[abi::ESCGUARD_NS_PID as usize] = raw::escguard_task_pid_ns_inum(t.ptr);
        fill_ns(t.nsproxy_raw(), &mut out);
    }
    let fs = t.fs_raw();
    if !fs.is_null() {
        out.has_fs = 1;
        // Dentries and mounts are RCU-freed, so reading through the copied
        // paths is safe under RCU even if they were just replaced.
        loop {
            // SAFETY: current's fs, stable for the call (see above).
            let seq = unsafe { raw::escguard_fs_seq_begin(fs.cast()) };
            // SAFETY: as above; validated by the sequence.
            let (root, pwd) = unsafe { ((*fs).root, (*fs).pwd) };
            out.root = vfs::fsid(&root);
            out.cwd = vfs::fsid(&pwd);
            // SAFETY: as above.
            if unsafe { raw::escguard_fs_seq_retry(fs.cast(), seq) } == 0 {
                break;
            }
        }
    }
    out
}

/// What the calling task's runtime configured into its mount namespace
/// below its root (see [`vfs::ConfiguredMounts`]). Lock-free: only
/// current replaces its own nsproxy and fs pointers, and the root mount is
/// compared by address only. Never sleeps.
pub(crate) fn current_configured_mounts() -> vfs::ConfiguredMounts {
    let t = TaskRef::current();
    let (nsp, fs) = (t.nsproxy_raw(), t.fs_raw());
    if nsp.is_null() || fs.is_null() {
        return vfs::ConfiguredMounts::default();
    }
    let root = loop {
        // SAFETY: current's fs, stable for the call (see above).
        let seq = unsafe { raw::escguard_fs_seq_begin(fs.cast()) };
        // SAFETY: as above; validated by the sequence.
        let root = unsafe { (*fs).root.mnt };
        // SAFETY: as above.
        if unsafe { raw::escguard_fs_seq_retry(fs.cast(), seq) } == 0 {
            break root;
        }
    };
    // SAFETY: current's nsproxy pins its mount namespace (see above).
    let ns = unsafe { (*nsp).mnt_ns };
    vfs::ConfiguredMounts::scan(ns.cast::<c_void>().cast_const(), root)
}

/// A cgroup v2 group.
///
/// # Invariants
///
/// `ptr` points to a valid cgroup for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct CgroupRef<'a> {
    ptr: *mut bindings::cgroup,
    _p: PhantomData<&'a ()>,
}

impl<'a> CgroupRef<'a> {
    /// # Safety
    ///
    /// `ptr` must be null or point to a cgroup that stays valid for `'a`.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::cgroup) -> Option<Self> {
        // INVARIANT: non-null pointers are valid for `'a` by the requirement.
        (!ptr.is_null()).then_some(CgroupRef {
            ptr,
            _p: PhantomData,
        })
    }

    /// Its id (`cgroup_id()`).
    pub(crate) fn id(&self) -> u64 {
        // SAFETY: valid cgroup (type invariant); its kernfs node is fixed.
        unsafe { (*(*self.ptr).kn).id }
    }

    /// The depth of its ancestor (or itself) with id `id` (0: the root);
    /// `None` if it is not that group or below it.
    pub(crate) fn level_of(&self, id: u64) -> Option<u32> {
        // SAFETY: valid cgroup (type invariant); its `ancestors` array holds
        // `level + 1` cgroups (`cgroup_ancestor()`), each pinned by it,
        // with their kernfs nodes.
        unsafe {
            let level = (*self.ptr).level.max(0) as usize;
            let ancestors = (*self.ptr).ancestors.as_ptr();
            (0..=level)
                .rev()
                .find(|&l| (*(**ancestors.add(l)).kn).id == id)
                .map(|l| l as u32)
        }
    }
}

/// current's facts with the namespaces of `new` (being installed by setns
/// or unshare).
///
/// # Safety
///
/// `new` is a valid nsproxy pinned by the caller.
pub(crate) unsafe fn current_facts_with(new: *const bindings::nsproxy) -> KInfo {
    let mut k = current_facts();
    // SAFETY: forwarded to the caller.
    unsafe { fill_ns(new, &mut k) };
    k
}

/// A task by pid in the caller's pid namespace, with a reference.
pub(crate) struct TaskHold(*mut bindings::task_struct);

impl TaskHold {
    /// The task `pid` names in current's pid namespace.
    pub(crate) fn by_vpid(nr: i32) -> Option<Self> {
        let _rcu = Rcu::lock();
        // SAFETY: under RCU, as `find_vpid()` and `pid_task()` require.
        unsafe { Self::of_pid(bindings::find_vpid(nr)) }
    }

    /// The leader of `t`'s session (`task_session()`), if it still runs.
    pub(crate) fn session_leader_of(t: TaskRef<'_>) -> Option<Self> {
        let _rcu = Rcu::lock();
        // SAFETY: `t` is valid for the call, and so is its signal_struct;
        // its session pid is read under RCU, as `task_session()` users do,
        // and `pid_task()` returns null or a task valid for the section.
        unsafe {
            let sig = ptr::read_volatile(addr_of!((*t.ptr).signal));
            if sig.is_null() {
                return None;
            }
            let sid = ptr::read_volatile(addr_of!(
                (*sig).pids[bindings::pid_type_PIDTYPE_SID as usize]
            ));
            // The task whose pid the session id is (as a SID, the pid
            // names every member of the session, newest first).
            Self::of_pid_type(sid, bindings::pid_type_PIDTYPE_PID)
        }
    }

    /// The first task of process group `nr` of current's pid namespace.
    pub(crate) fn by_vpgid(nr: i32) -> Option<Self> {
        let _rcu = Rcu::lock();
        // SAFETY: under RCU, as `find_vpid()` and `pid_task()` require.
        unsafe { Self::of_pid_type(bindings::find_vpid(nr), bindings::pid_type_PIDTYPE_PGID) }
    }

    /// The task of a `struct pid` (its first task: the thread, or the
    /// group leader of a tgid pid).
    ///
    /// # Safety
    ///
    /// Called under RCU; `pid` is null or a valid `struct pid`.
    pub(crate) unsafe fn of_pid(pid: *mut bindings::pid) -> Option<Self> {
        // SAFETY: forwarded to the caller.
        unsafe { Self::of_pid_type(pid, bindings::pid_type_PIDTYPE_PID) }
    }

    /// The first task of `pid` as a `ty` (thread, thread group or process
    /// group) id.
    ///
    /// # Safety
    ///
    /// As for `of_pid`.
    pub(crate) unsafe fn of_pid_typed(
        pid: *mut bindings::pid,
        ty: bindings::pid_type,
    ) -> Option<Self> {
        let _rcu = Rcu::lock();
        // SAFETY: under RCU; `pid` is null or valid (the caller's contract).
        unsafe { Self::of_pid_type(pid, ty) }
    }

    /// # Safety
    ///
    /// As for `of_pid`.
    unsafe fn of_pid_type(pid: *mut bindings::pid, ty: bindings::pid_type) -> Option<Self> {
        if pid.is_null() {
            return None;
        }
        // SAFETY: under RCU (caller); `pid_task()` returns null or a task
        // valid for the section, which `get_task_struct()` then pins.
        unsafe {
            let t = bindings::pid_task(pid, ty);
            if t.is_null() {
                return None;
            }
            bindings::get_task_struct(t);
            Some(TaskHold(t))
        }
    }

    pub(crate) fn task(&self) -> TaskRef<'_> {
        // SAFETY: we hold a reference for as long as `self` lives.
        unsafe { TaskRef::from_raw(self.0) }
    }
}

impl Drop for TaskHold {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `of_pid`. Safe in atomic context
        // even if it is the last one, on non-RT kernels (RT is refused at
        // load).
        unsafe { bindings::put_task_struct(self.0) };
    }
}

/// The host baseline: pid 1's key information. Also records pid 1's mount
/// namespace and root dentry (by address) for the open hook's fast path
/// and the walk. Process context only.
pub(crate) fn baseline() -> Result<KInfo> {
    let init = {
        let _rcu = Rcu::lock();
        // SAFETY: under RCU; `init_pid_ns` is the kernel's static.
        unsafe {
            TaskHold::of_pid(bindings::find_pid_ns(
                1,
                ptr::addr_of_mut!(bindings::init_pid_ns),
            ))
        }
    }
    .ok_or(ESRCH)?;
    let t = init.task();
    let info = t.info(&FsRef::default());
    // SAFETY: valid task (held); task_lock pins nsproxy and fs.
    let (mnt_ns, root) = unsafe {
        raw::escguard_task_lock(t.ptr);
        let nsp = (*t.ptr).nsproxy;
        let fs = (*t.ptr).fs as *mut raw::fs_struct;
        let mnt_ns = if nsp.is_null() {
            0
        } else {
            (*nsp).mnt_ns as usize
        };
        let root = if fs.is_null() {
            0
        } else {
            (*fs).root.dentry as usize
        };
        raw::escguard_task_unlock(t.ptr);
        (mnt_ns, root)
    };
    if info.has_fs == 0 || info.has_ns == 0 {
        return Err(ESRCH);
    }
    super::fast::set_host_refs(mnt_ns, root);
    Ok(info)
}

/// Calls `f` for every thread on the system, under RCU: `f` must not sleep.
/// Process context only.
pub(crate) fn for_each_task<F: FnMut(TaskRef<'_>)>(mut f: F) {
    unsafe extern "C" fn trampoline<F: FnMut(TaskRef<'_>)>(
        ctx: *mut c_void,
        t: *mut bindings::task_struct,
    ) {
        // SAFETY: `ctx` is the `&mut F` passed below, alive for the whole
        // walk and not otherwise accessed during it.
        let f = unsafe { &mut *(ctx as *mut F) };
        // SAFETY: the C walk holds the RCU read lock while calling us, so
        // the task stays valid for this call.
        f(unsafe { TaskRef::from_raw(t) });
    }
    // SAFETY: `trampoline::<F>` matches the callback type and treats `ctx`
    // as `&mut F`, which it is.
    unsafe { raw::escguard_for_each_task(Some(trampoline::<F>), &mut f as *mut F as *mut c_void) };
}
