// SPDX-License-Identifier: GPL-2.0

//! The hooks' registration with ftrace: which ops carries each hooked
//! function (`sys/hooks.rs`' table), the order they are armed and disarmed
//! in, how the open hook attaches (a direct call, or an ftrace callback when
//! another direct call holds `security_file_open`), and which site a hook's
//! call comes from. The C glue keeps only the ops objects, their callbacks
//! and the trampolines (`module/helpers.c`).
//!
//! Each hook is an `ftrace_ops` of ours on a function's entry, not a
//! kprobe: kprobes can be switched off system-wide through debugfs, an
//! `ftrace_ops` only by its owner, and `FTRACE_OPS_FL_PERMANENT` makes the
//! kernel refuse `ftrace_enabled=0` while one is registered. Two ops carry
//! every hook (one observing, one that may redirect the call, IPMODIFY):
//! one registration each, since unregistering a dynamic ops waits for two
//! RCU-tasks grace periods.
//!
//! Every hook saves the full registers (`sys/hooks.rs` reads the arguments
//! from `pt_regs`). The ones that can refuse a call declare IPMODIFY:
//! ftrace then lets no other ops redirect the same function, and a BPF
//! trampoline attached to it (fexit, fmod_ret) is rebuilt to call the
//! function through the address we may have replaced instead of its body
//! (`BPF_TRAMP_F_SHARE_IPMODIFY`), so a refusal cannot be lost. A direct
//! call already on a function is asked (`ops_func`) to share it with a
//! redirecting ops, as a BPF trampoline does; one that cannot makes the
//! registration fail. A refused call returns to its caller with the errno
//! (the C glue's stubs), so refusing hooks sit only on functions whose
//! callers treat any error return as a refusal and clean up: syscall
//! wrappers (which the kernel marks error-injectable), LSM hooks and open
//! methods.
//!
//! The open hook runs on every open on the system, so it is an ftrace
//! *direct call* on `security_file_open()`: its fentry site calls the glue's
//! trampoline, which saves the one argument and calls Rust, cheaper than
//! any `ftrace_ops` callback (which saves registers for every call). A
//! function has at most one direct call, so while escguard holds it a BPF
//! fentry/fexit program on `security_file_open()` cannot attach (kprobes,
//! fprobes and BPF LSM programs, which use other attach points, are not
//! affected). If another direct call is there first, or `open_hook=ftrace`
//! is given, the hook is an `ftrace_ops` callback instead: same checks, a
//! few dozen instructions more per open.
//!
//! Sites are resolved to addresses by name through disabled kprobes (the
//! glue's `escguard_hooks_resolve`): `ftrace_set_filter()` by name would
//! scan every traceable function's name once per hook, slow on a large
//! kernel; it remains the fallback for a name a kprobe cannot resolve.

use super::hooks::{self, Site, SITE_COUNT};
use super::raw;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_ulong, c_void};
use kernel::prelude::*;
use kernel::str::CStr;

/// `KSYM_NAME_LEN` (`linux/kallsyms.h`).
const KSYM_NAME_LEN: usize = 512;

/// The context every hook runs with (the registration's state): set
/// before the first hook is armed, cleared after the last is disarmed.
static CTX: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// Each site's fentry address, learnt at its first call (0 until then).
static SITE_IP: [AtomicUsize; SITE_COUNT] = [const { AtomicUsize::new(0) }; SITE_COUNT];
/// Each site's address as resolved when the hooks were armed (0: by name,
/// or not there): a function known by several names (a syscall without
/// arguments is one function under its 64-bit, 32-bit and `__do_sys_`
/// names) is found by its address, whichever name the kernel prints.
static SITE_ADDR: [AtomicUsize; SITE_COUNT] = [const { AtomicUsize::new(0) }; SITE_COUNT];

/// The context hooks run with, null while none is armed.
#[inline(always)]
pub(super) fn ctx() -> *mut c_void {
    CTX.load(Ordering::Relaxed)
}

/// The site whose fentry address is `ip`, on the ops that may refuse
/// (`refusing`) or the observing one.
#[inline(always)]
pub(super) fn site_of(ip: usize, refusing: bool) -> Option<&'static Site> {
    let sites = hooks::sites();
    for (s, learnt) in sites.iter().zip(&SITE_IP) {
        if learnt.load(Ordering::Relaxed) == ip {
            return Some(s);
        }
    }
    learn_site(ip, refusing)
}

/// The first call at `ip`: which of our functions is it? (By name, as
/// ftrace's own address may be past the function's start, e.g. after an
/// `endbr64`.)
#[cold]
#[inline(never)]
fn learn_site(ip: usize, refusing: bool) -> Option<&'static Site> {
    let mut name = [0u8; KSYM_NAME_LEN];
    // SAFETY: `name` has room for `KSYM_NAME_LEN` bytes, the most
    // `sprint_symbol_no_offset()` writes (NUL included); callable in any
    // context.
    unsafe { bindings::sprint_symbol_no_offset(name.as_mut_ptr().cast(), ip as c_ulong) };
    let len = name.iter().position(|&b| b == 0).unwrap_or(0);
    let name = &name[..len];
    let sites = hooks::sites();
    // ftrace's address is the function's, or just past its `endbr64`.
    let at = |a: usize| a != 0 && (a..a + 8).contains(&ip);
    let i = sites.iter().zip(&SITE_ADDR).position(|(s, a)| {
        (s.refusing != 0) == refusing
            && (hooks::site_name(s).as_bytes() == name || at(a.load(Ordering::Relaxed)))
    })?;
    SITE_IP[i].store(ip, Ordering::Relaxed);
    Some(&sites[i])
}

/// How the open hook is attached.
#[derive(Clone, Copy)]
enum OpenMode {
    /// A direct call from `security_file_open()` to the trampoline.
    Direct,
    /// An ftrace callback (`open_hook=ftrace`, or the function already has
    /// a direct call, e.g. a BPF fentry program).
    Ftrace,
}

/// The armed hooks: dropping the value disarms them all and returns once
/// no callback of ours runs or can run.
///
/// # Invariants
///
/// While it exists, both hook ops and the open hook (through `open`) are
/// registered and `CTX` is set; at most one exists (`CTX` is non-null only
/// while one does).
pub(crate) struct Hooks {
    open: OpenMode,
}

impl Hooks {
    /// Arms every hook (the observing ones first: an entry a hook adds
    /// always has its removal hooked already; the open hook last), each
    /// running with `ctx`. Either all are armed or none is.
    ///
    /// # Safety
    ///
    /// `ctx` must stay valid for the hooks' callbacks until the returned
    /// value is dropped.
    pub(crate) unsafe fn arm(ctx: *mut c_void) -> Result<Self> {
        CTX.compare_exchange(ptr::null_mut(), ctx, Ordering::AcqRel, Ordering::Relaxed)
            .map_err(|_| EBUSY)?;
        let r = arm_sites().and_then(|()| {
            arm_open().inspect_err(|_| {
                disarm_sites();
            })
        });
        match r {
            // INVARIANT: all registered, `CTX` set above.
            Ok(open) => Ok(Hooks { open }),
            Err(e) => {
                quiesce();
                Err(e)
            }
        }
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        // Each unregistration waits until no callback of that ops runs (the
        // open trampoline is freed after).
        disarm_open(self.open);
        disarm_sites();
        quiesce();
    }
}

/// After the hooks are unregistered: waits until no task is left in our
/// module text, then forgets the context and the learnt addresses.
fn quiesce() {
    // SAFETY: process context. A task may have been preempted in the open
    // hook's trampoline or fast path (both preemptible), or between
    // ftrace's trampoline and a refusal stub: RCU-tasks waits until every
    // task has passed a voluntary schedule point. Then no wake-up of
    // readers queued by a hook is left pending.
    unsafe {
        bindings::synchronize_rcu_tasks();
        raw::escguard_wake_sync();
    }
    for ip in Iterator::chain(SITE_IP.iter(), &SITE_ADDR) {
        ip.store(0, Ordering::Relaxed);
    }
    CTX.store(ptr::null_mut(), Ordering::Release);
}

/// An ops object of the glue's (static, valid for the module's life).
type Ops = *mut bindings::ftrace_ops;

fn register(ops: Ops) -> Result {
    // SAFETY: `ops` is one of the glue's static ops, with its filter set.
    to_result(unsafe { raw::register_ftrace_function(ops) })
}

fn unregister(ops: Ops) {
    // SAFETY: `ops` was registered by `register`. Waits until no callback
    // of it runs.
    unsafe { raw::unregister_ftrace_function(ops) };
}

fn free_filter(ops: Ops) {
    // SAFETY: `ops` is one of the glue's static ops, not registered.
    unsafe { raw::ftrace_free_filter(ops) };
}

/// Adds the function `name` to `ops`' filter: fails unless it exists and
/// is traceable.
fn filter_by_name(ops: Ops, name: &CStr) -> Result {
    let name = name.as_bytes();
    // `ftrace_set_filter()` parses its buffer in place.
    let mut buf = [0u8; KSYM_NAME_LEN];
    let n = name.len().min(KSYM_NAME_LEN - 1);
    buf[..n].copy_from_slice(&name[..n]);
    // SAFETY: `ops` is a static ops, not registered; `buf` holds `n`
    // bytes of the name and a NUL.
    to_result(unsafe { raw::ftrace_set_filter(ops, buf.as_mut_ptr(), n as i32, 0) })
}

/// Sets the two hook ops' filters to the table's functions, then
/// registers them, observers first.
fn arm_sites() -> Result {
    let sites = hooks::sites();
    let mut addrs = KVec::from_elem(0 as c_ulong, SITE_COUNT, GFP_KERNEL)?;
    // SAFETY: `sites` holds `SITE_COUNT` sites, each naming a static C
    // string; `addrs` has room for as many addresses.
    to_result(unsafe {
        raw::escguard_hooks_resolve(sites.as_ptr(), SITE_COUNT as u32, addrs.as_mut_ptr())
    })?;
    // SAFETY: the glue's static ops.
    let (observe, refuse) = unsafe { (raw::escguard_ops_observe(), raw::escguard_ops_refuse()) };
    for (a, addr) in SITE_ADDR.iter().zip(addrs.iter()) {
        a.store(*addr as usize, Ordering::Relaxed);
    }
    let r = sites
        .iter()
        .zip(addrs.iter_mut())
        .try_for_each(|(s, addr)| {
            let ops = if s.refusing != 0 { refuse } else { observe };
            let name = hooks::site_name(s);
            if *addr == 0 && s.optional != 0 {
                // In a driver that is not there: nothing can reach it.
                return Ok(());
            }
            let r = if *addr != 0 {
                // SAFETY: `ops` is not registered yet; `addr` is one address.
                to_result(unsafe { raw::ftrace_set_filter_ips(ops, addr, 1, 0, 0) })
            } else {
                filter_by_name(ops, name)
            };
            r.inspect_err(|e| pr_err!("cannot hook {}: {:?}\n", name, e))
        })
        // EBUSY: another ops already redirects one of the functions (a
        // livepatch, a kprobe with a post handler), or ftrace_enabled is 0.
        .and_then(|()| {
            register(observe)
                .inspect_err(|e| pr_err!("cannot register the observing hooks: {:?}\n", e))
        })
        .and_then(|()| {
            register(refuse).inspect_err(|e| {
                pr_err!("cannot register the refusing hooks: {:?}\n", e);
                unregister(observe);
            })
        });
    if r.is_err() {
        free_filter(refuse);
        free_filter(observe);
    }
    r
}

fn disarm_sites() {
    // SAFETY: the glue's static ops, registered by `arm_sites`.
    let (observe, refuse) = unsafe { (raw::escguard_ops_observe(), raw::escguard_ops_refuse()) };
    unregister(refuse);
    unregister(observe);
    free_filter(refuse);
    free_filter(observe);
}

/// The function the open hook attaches to.
const OPEN_FN: &CStr = kernel::c_str!("security_file_open");

/// Attaches the open hook as the `open_hook` parameter asks, falling back
/// from a direct call to an ftrace callback when the function already has
/// a direct call; the parameter then reads back the mode in effect.
fn arm_open() -> Result<OpenMode> {
    // SAFETY: the parameter's buffer: `ESCGUARD_OPEN_HOOK_LEN` bytes, kept
    // NUL-terminated by the kernel's string parameter parser, read-only
    // (0444) after load.
    let param = unsafe { raw::escguard_param_open_hook() };
    // SAFETY: as above.
    let mode = unsafe { CStr::from_char_ptr(param) };
    let direct = match mode.as_bytes() {
        b"direct" => true,
        b"ftrace" => false,
        _ => {
            pr_err!("open_hook={}: expected direct or ftrace\n", mode);
            return Err(EINVAL);
        }
    };
    if direct {
        // SAFETY: the glue's static ops; its trampoline's address.
        let (ops, tramp) = unsafe {
            (
                raw::escguard_ops_open_direct(),
                raw::escguard_open_tramp_addr(),
            )
        };
        let direct = filter_by_name(ops, OPEN_FN).and_then(|()| {
            // SAFETY: `ops` has its filter set and is not registered;
            // `register_ftrace_direct()` gives it its own callback and
            // flags.
            to_result(unsafe { raw::register_ftrace_direct(ops, tramp) })
        });
        match direct {
            // Not marked permanent itself (register_ftrace_direct() owns
            // the ops' flags): the hook ops registered before it are.
            Ok(()) => return Ok(OpenMode::Direct),
            Err(e) => {
                free_filter(ops);
                if e != EBUSY {
                    pr_err!("cannot hook {} (direct call): {:?}\n", OPEN_FN, e);
                    return Err(e);
                }
                pr_warn!(
                    "{} has a direct call already (BPF fentry?); using an ftrace callback\n",
                    OPEN_FN
                );
            }
        }
    }
    // SAFETY: the glue's static ops.
    let ops = unsafe { raw::escguard_ops_open_ftrace() };
    if let Err(e) = filter_by_name(ops, OPEN_FN).and_then(|()| register(ops)) {
        pr_err!("cannot hook {} through ftrace: {:?}\n", OPEN_FN, e);
        free_filter(ops);
        return Err(e);
    }
    let now = b"ftrace\0";
    // SAFETY: the parameter's buffer (see above) has room for
    // `ESCGUARD_OPEN_HOOK_LEN` bytes; sysfs readers see either value.
    unsafe { ptr::copy_nonoverlapping(now.as_ptr(), param.cast::<u8>(), now.len()) };
    Ok(OpenMode::Ftrace)
}

fn disarm_open(mode: OpenMode) {
    match mode {
        OpenMode::Direct => {
            // SAFETY: registered by `arm_open` with this trampoline; frees
            // the filter. Waits until the trampoline is unused.
            unsafe {
                raw::unregister_ftrace_direct(
                    raw::escguard_ops_open_direct(),
                    raw::escguard_open_tramp_addr(),
                    true,
                )
            };
        }
        OpenMode::Ftrace => {
            // SAFETY: the glue's static ops, registered by `arm_open`.
            let ops = unsafe { raw::escguard_ops_open_ftrace() };
            unregister(ops);
            free_filter(ops);
        }
    }
}

const _: () = assert!(b"ftrace\0".len() <= raw::ESCGUARD_OPEN_HOOK_LEN as usize);
