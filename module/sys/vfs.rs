// SPDX-License-Identifier: GPL-2.0

//! Files, paths and dentries: [`FileRef`], the identity of a path's object
//! (`escguard_fsid`), where a path lies relative to the host and to a
//! container's root (the dentry walk), and rendering paths for events.
//!
//! Dentries, inodes and mounts are RCU-freed: every walk here runs under RCU
//! (or a lock that pins the path) and only reads.

use super::raw;
use super::task::Rcu;
use crate::abi::escguard_fsid as FsId;
use core::marker::PhantomData;
use core::ptr::{self, addr_of};
use kernel::bindings;
use kernel::ffi::c_char;

use super::{FileFacts, FsRef};

use super::{
    FS_DISCONNECTED, FS_HOST_MNT_NS, FS_MNT_HOST_ROOT, FS_ON_HOST_SB, FS_TOO_DEEP, FS_UNDER_ORIGIN,
};

/// Most dentries a walk climbs. A path name reaches at most `PATH_MAX`
/// (4,096) bytes, so deeper trees exist only when built on purpose (one
/// relative step at a time); the walks run with preemption off and must
/// stay bounded. Beyond it, the answer is the one that refuses.
const WALK_MAX: u32 = 16_384;

/// `S_IFMT`, `S_IFDIR`.
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
/// `FMODE_READ`, `FMODE_WRITE`.
const FMODE_READ: u32 = 0x1;
const FMODE_WRITE: u32 = 0x2;

/// A file the kernel handed to a hook, valid for the hook's duration.
///
/// # Invariants
///
/// `ptr` points to a `struct file` that stays valid for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct FileRef<'a> {
    ptr: *mut bindings::file,
    _p: PhantomData<&'a bindings::file>,
}

/// `new_encode_dev()`: a `dev_t` as user space sees it (`st_dev`).
pub(crate) fn encode_dev(dev: u32) -> u64 {
    let (major, minor) = (dev >> 20, dev & 0xfffff);
    ((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)) as u64
}

/// A dentry's device and inode number (0 for a negative dentry).
///
/// # Safety
///
/// `d` is a valid dentry (pinned, or read under RCU).
unsafe fn dentry_id(d: *const bindings::dentry) -> (u64, u64) {
    // SAFETY: by the requirement; `d_inode` is read once (`d_inode_rcu`).
    unsafe {
        let inode = ptr::read_volatile(addr_of!((*d).d_inode));
        let dev = encode_dev((*(*d).d_sb).s_dev);
        (
            dev,
            if inode.is_null() {
                0
            } else {
                (*inode).i_ino as u64
            },
        )
    }
}

/// A mount's root dentry (compared by address).
pub(crate) fn mnt_root(mnt: *mut bindings::vfsmount) -> *mut bindings::dentry {
    // SAFETY: callers pass the mount of a path they hold; `mnt_root` is
    // fixed for a mount's life.
    unsafe { (*mnt).mnt_root }
}

/// A mount's namespace, by address (0 for none).
pub(crate) fn mnt_ns(mnt: *mut bindings::vfsmount) -> usize {
    // SAFETY: callers pass the mount of a path they hold.
    unsafe { raw::escguard_mnt_ns(mnt) as usize }
}

/// The identity of `p`'s object and mount.
pub(crate) fn fsid(p: &bindings::path) -> FsId {
    // SAFETY: `p` is a path the caller pins (or reads under RCU).
    let (dev, ino) = unsafe { dentry_id(p.dentry) };
    FsId {
        dev,
        ino,
        // SAFETY: as above.
        mnt_id: unsafe { raw::escguard_mnt_id(p.mnt) },
        ..Default::default()
    }
}

/// Walks from `p`'s dentry up to its filesystem's root: is it below its
/// mount's root (connected), and does it pass the container's origin root?
/// A rename that races the optimistic pass makes the second pass hold
/// `rename_lock` exclusively, as `prepend_path()` does: the answer is always
/// exact, never a guess that a rename storm could steer.
fn walk(p: &bindings::path, origin: &FsId) -> u32 {
    let _rcu = Rcu::lock();
    let mut seq: i32 = 0;
    loop {
        let (mut connected, mut under) = (false, false);
        // SAFETY: `seq` is ours; the accessor begins a rename_lock reader
        // (or takes it exclusively when `seq` is odd).
        unsafe { raw::escguard_rename_seq_begin(&mut seq) };
        let mroot = mnt_root(p.mnt);
        let mut d = p.dentry;
        let mut steps = 0;
        let mut deep = false;
        loop {
            steps += 1;
            if steps > WALK_MAX {
                // Deeper than any real directory tree (bounded work; a
                // chain built to stall the walk is no place to run from).
                deep = true;
                break;
            }
            if d == mroot {
                connected = true;
            }
            // SAFETY: `d` is `p`'s dentry or an ancestor read under RCU.
            let id = unsafe { dentry_id(d) };
            if origin.dev != 0 && id.1 != 0 && id == (origin.dev, origin.ino) {
                under = true;
            }
            // SAFETY: as above; `d_parent` is read once per step.
            let parent = unsafe { ptr::read_volatile(addr_of!((*d).d_parent)) };
            if parent == d {
                break;
            }
            d = parent;
        }
        // SAFETY: the reader begun above.
        if unsafe { raw::escguard_rename_seq_retry(seq) } != 0 {
            seq = 1;
            continue;
        }
        // SAFETY: as above.
        unsafe { raw::escguard_rename_seq_done(seq) };
        if deep {
            return FS_TOO_DEEP | FS_DISCONNECTED;
        }
        return (if connected { 0 } else { FS_DISCONNECTED })
            | if under { FS_UNDER_ORIGIN } else { 0 };
    }
}

/// `FS_*` flags of `p` against `refs`.
pub(crate) fn classify(p: &bindings::path, refs: &FsRef) -> u32 {
    let mut f = 0;
    // SAFETY: `p` is pinned by the caller; the mount's root is fixed.
    let ((dev, _), (_, mroot_ino)) = unsafe { (dentry_id(p.dentry), dentry_id(mnt_root(p.mnt))) };
    if dev == refs.host_root.dev {
        f |= FS_ON_HOST_SB;
        if mroot_ino == refs.host_root.ino {
            f |= FS_MNT_HOST_ROOT;
        }
    }
    if super::fast::is_host_mnt_ns(mnt_ns(p.mnt)) {
        f |= FS_HOST_MNT_NS;
    }
    f | walk(p, &refs.origin_root)
}

/// Moves a `d_path()`-style result (a string that starts at `s`, within
/// `buf`) to the start of `buf` (`""` on error).
fn settle(buf: &mut [u8], s: *mut c_char) {
    if is_err(s) || s.is_null() {
        buf[0] = 0;
        return;
    }
    let start = s as usize - buf.as_ptr() as usize;
    if start >= buf.len() {
        buf[0] = 0;
        return;
    }
    let len = buf[start..]
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(buf.len() - start - 1);
    buf.copy_within(start..start + len, 0);
    buf[len] = 0;
}

/// Renders `p` as a path within its filesystem (from the superblock root).
pub(crate) fn render_raw(p: &bindings::path, buf: &mut [u8]) {
    render_dentry(p.dentry, buf)
}

/// Renders a dentry's path within its filesystem.
pub(crate) fn render_dentry(d: *mut bindings::dentry, buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    let len = buf.len().min(i32::MAX as usize) as i32;
    // SAFETY: `d` is pinned by the caller; `buf` is writable for `len`
    // bytes. `dentry_path_raw()` never sleeps.
    let s = unsafe { bindings::dentry_path_raw(d, buf.as_mut_ptr() as *mut c_char, len) };
    settle(buf, s);
}

/// Renders `p` as the calling task names it (`d_path()`: from its root;
/// a path outside it is rendered from its namespace's root).
pub(crate) fn render(p: &bindings::path, buf: &mut [u8]) -> bool {
    if buf.is_empty() {
        return false;
    }
    let len = buf.len().min(i32::MAX as usize) as i32;
    // SAFETY: `p` is pinned by the caller; `buf` is writable for `len`
    // bytes. `d_path()` never sleeps.
    let s = unsafe { bindings::d_path(p, buf.as_mut_ptr() as *mut c_char, len) };
    settle(buf, s);
    !is_err(s)
}

/// `IS_ERR()`: the kernel's error pointers are the last page of addresses.
fn is_err<T>(p: *const T) -> bool {
    p as usize >= (-4095isize) as usize
}

impl<'a> FileRef<'a> {
    /// # Safety
    ///
    /// `f` must be null or point to a file that stays valid for `'a`.
    pub(crate) unsafe fn from_raw(f: *mut bindings::file) -> Option<Self> {
        // INVARIANT: non-null pointers are valid for `'a` by the requirement.
        (!f.is_null()).then_some(FileRef {
            ptr: f,
            _p: PhantomData,
        })
    }

    fn path_ref(&self) -> &bindings::path {
        // SAFETY: valid file (type invariant); `f_path` is fixed while the
        // file lives.
        unsafe { &(*self.ptr).f_path }
    }

    /// The file's mount.
    pub(crate) fn mnt(&self) -> *mut bindings::vfsmount {
        self.path_ref().mnt
    }

    /// The file's open mode (`FMODE_*`).
    pub(crate) fn mode(&self) -> u32 {
        // SAFETY: valid file (type invariant).
        unsafe { (*self.ptr).f_mode }
    }

    /// The file's superblock magic.
    pub(crate) fn magic(&self) -> u64 {
        // SAFETY: valid file; its dentry and superblock are pinned by it.
        unsafe { (*(*self.path_ref().dentry).d_sb).s_magic as u64 }
    }

    fn inode(&self) -> *mut bindings::inode {
        // SAFETY: valid file (type invariant); `f_inode` is fixed.
        unsafe { (*self.ptr).f_inode }
    }

    /// Whether the file is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        // SAFETY: the inode is pinned by the file.
        unsafe { (*self.inode()).i_mode as u32 & S_IFMT == S_IFDIR }
    }

    /// What the file is: filesystem, identity, open mode, mount namespace.
    pub(crate) fn facts(&self) -> FileFacts {
        let d = self.path_ref().dentry;
        // SAFETY: valid file: its dentry, superblock and inode are pinned.
        let (sb, inode) = unsafe { ((*d).d_sb, self.inode()) };
        let mode = self.mode();
        let ns = mnt_ns(self.mnt());
        // SAFETY: as above; `init_user_ns` is the kernel's static.
        unsafe {
            FileFacts {
                magic: (*sb).s_magic as u64,
                dev: encode_dev((*sb).s_dev),
                ino: (*inode).i_ino as u64,
                mode: (*inode).i_mode as u32,
                init_userns: ((*sb).s_user_ns == ptr::addr_of_mut!(bindings::init_user_ns)) as u32,
                fmode: (if mode & FMODE_READ != 0 {
                    crate::abi::ESCGUARD_PF_READ
                } else {
                    0
                }) | (if mode & FMODE_WRITE != 0 {
                    crate::abi::ESCGUARD_PF_WRITE
                } else {
                    0
                }),
                // Compared by address to the host's only; an anonymous or
                // detached mount has no namespace worth naming.
                mnt_ns: raw::escguard_mnt_ns_inum(ns as *const _),
                host_mnt_ns: super::fast::is_host_mnt_ns(ns) as u32,
            }
        }
    }

    /// Renders the file's path within its filesystem into `buf`.
    pub(crate) fn sb_path(&self, buf: &mut [u8]) {
        render_raw(self.path_ref(), buf)
    }

    /// Renders the file's path as the calling task names it into `buf`
    /// (within its filesystem if `d_path()` cannot).
    pub(crate) fn path(&self, buf: &mut [u8]) {
        if !render(self.path_ref(), buf) {
            render_raw(self.path_ref(), buf)
        }
    }

    /// `FS_*` flags of the file's path against `refs`, as for a root or
    /// cwd: where on the host's filesystem the object lives.
    pub(crate) fn classify(&self, refs: &FsRef) -> u32 {
        classify(self.path_ref(), refs)
    }

    /// Whether the calling task holds a descriptor on this file's object
    /// (same mount and dentry) with at least this open's access.
    pub(crate) fn held_by_current(&self) -> bool {
        let want = self.mode() & (FMODE_READ | FMODE_WRITE);
        let p = self.path_ref();
        let _rcu = Rcu::lock();
        // Only current changes its own table's size; a descriptor may be
        // closed meanwhile (files are RCU-freed: a stale match only says the
        // task held the object a moment ago). The open being checked is not
        // installed yet, so it never matches itself.
        OpenFds(0).any(|fd| {
            // SAFETY: under RCU, as the accessor requires.
            let f = unsafe { raw::escguard_fd_file_rcu(fd) };
            if f.is_null() {
                return false;
            }
            // SAFETY: a file read under RCU stays valid for the section.
            let (fp, fm) = unsafe { ((*f).f_path, (*f).f_mode) };
            fp.dentry == p.dentry && fp.mnt == p.mnt && fm & want == want
        })
    }

    /// The first of the file's dentry and its ancestors up to its
    /// filesystem's root (nearest first) for which `f` holds (`WALK_MAX`
    /// deep at most; deeper, an identity of device 0 is returned as found).
    /// `f` runs under RCU: it must not sleep. A rename racing
    /// the walk can only move the file while the exec that judges it is in
    /// flight.
    pub(crate) fn find_ancestor<F: FnMut(&FsId) -> bool>(&self, mut f: F) -> Option<FsId> {
        let _rcu = Rcu::lock();
        let mut d = self.path_ref().dentry;
        for _ in 0..WALK_MAX {
            // SAFETY: `d` is the file's dentry or an ancestor, under RCU.
            let (dev, ino) = unsafe { dentry_id(d) };
            let id = FsId {
                dev,
                ino,
                ..Default::default()
            };
            if f(&id) {
                return Some(id);
            }
            // SAFETY: as above.
            let parent = unsafe { ptr::read_volatile(addr_of!((*d).d_parent)) };
            if parent == d {
                return None;
            }
            d = parent;
        }
        // Deeper than `WALK_MAX`: taken as found (an identity of device 0,
        // which names no container), the answer that refuses.
        Some(FsId::default())
    }
}

/// Calls `f` with each directory the calling task has open (each held for
/// the call) until it returns true; whether it did. Never sleeps.
pub(crate) fn current_dir_fds<F: FnMut(FileRef<'_>) -> bool>(mut f: F) -> bool {
    OpenFds(0).any(|fd| {
        // A reference of our own: another thread may close it.
        // SAFETY: `fget_raw()` takes a reference or returns null.
        let file = unsafe { bindings::fget_raw(fd) };
        // SAFETY: referenced until the fput below.
        let Some(file) = (unsafe { FileRef::from_raw(file) }) else {
            return false;
        };
        let hit = file.is_dir() && f(file);
        // SAFETY: drops our reference; fput() defers the final release, so
        // it is safe here.
        unsafe { bindings::fput(file.ptr) };
        hit
    })
}

/// The calling task's open descriptors from the given one up, lowest
/// first, each found afresh (descriptors may be opened and closed
/// meanwhile). Never sleeps.
struct OpenFds(u32);

impl Iterator for OpenFds {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        // SAFETY: no preconditions; reads current's descriptor table.
        let fd = u32::try_from(unsafe { raw::escguard_next_fd(self.0) }).ok()?;
        self.0 = fd.checked_add(1)?;
        Some(fd)
    }
}
