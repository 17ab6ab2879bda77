// SPDX-License-Identifier: GPL-2.0

//! escguard: detects and blocks container escapes.
//!
//! This crate is the Rust part of `escguard.ko`; `module/helpers.c` is the C
//! glue where the 6.12 `kernel` crate cannot reach (registration, per-CPU
//! data, trampolines, accessors for inline functions and locks). User space
//! talks to it through `/dev/escguard`, whose ABI is `include/escguard_abi.h`.
//!
//! Hooks on fork (`wake_up_new_task`), exec (`finalize_exec`) and exit
//! (`exit_files` in `do_exit`) keep a table of every task's key information
//! and compare container tasks with the host on each call (see `table.rs`
//! and `verdict.rs`). An escaped task is reported on the event ring and, in
//! enforce mode, SIGKILLed before it runs another instruction of user code.
//!
//! This file holds the module's state and its load and unload. The hooks
//! are in `lifecycle.rs` (fork, exec, exit), `open.rs` (file opens) and
//! `observe.rs` (the other observation points); `/dev/escguard` is in
//! `device.rs`; `sys.rs` and `sys/` are the bindings layer: the hooks'
//! entries and the table of hooked functions (`sys/hooks.rs`), the open
//! hook's lock-free fast path (`sys/fast.rs`), tasks (`sys/task.rs`) and
//! files and paths (`sys/vfs.rs`), over the C glue.

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::SpinLock;
use kernel::{new_spinlock, try_pin_init};

mod abi;
mod bytes;
mod counters;
mod device;
mod events;
mod lifecycle;
mod lineage;
mod observe;
mod open;
mod policy;
mod presets;
mod report;
mod sys;
mod table;
mod verdict;
mod writes;

use counters::Counters;
use device::ModuleRef;
use lifecycle::TidSwaps;
use lineage::{OriginFilter, Origins};
use policy::Policy;
use presets::Presets;
use table::Table;
use verdict::Baseline;

/// Size of the path buffers, NUL included (`ESCGUARD_PATH_LEN`).
pub(crate) const PATH_LEN: usize = abi::ESCGUARD_PATH_LEN as usize;

/// Kinds of namespace (`ESCGUARD_NS_*`) a task, a container and the host have.
pub(crate) const NS_COUNT: usize = abi::ESCGUARD_NS_COUNT as usize;

module! {
    type: Escguard,
    name: "escguard",
    author: "escguard developers",
    description: "Detects and blocks container escapes",
    license: "GPL",
}

/// Module version, from the repository's `VERSION` file (set by `Kbuild`).
pub(crate) const VERSION: &str = env!("ESCGUARD_VERSION");

/// Accepted ranges of the `max_tasks` and `ring_events` parameters.
const MAX_TASKS_RANGE: core::ops::RangeInclusive<u32> = 64..=4_194_304;
const RING_EVENTS_RANGE: core::ops::RangeInclusive<u32> = 16..=16_384;

/// Everything the hooks and `/dev/escguard` share.
#[pin_data]
struct State {
    #[pin]
    table: SpinLock<Table>,
    #[pin]
    ring: SpinLock<events::Ring>,
    base: Baseline,
    loaded_ns: u64,
    mode: AtomicU32,
    tid_swaps: TidSwaps,
    c: Counters,
    /// The reference this module holds on itself that makes rmmod fail,
    /// if it holds one (see `lock`).
    #[pin]
    module_ref: SpinLock<Option<ModuleRef>>,
    /// Group whose members may read events and status (`ESCGUARD_NO_GID`).
    events_gid: u32,
    presets: Presets,
    #[pin]
    policy: SpinLock<Policy>,
    #[pin]
    origins: SpinLock<Origins>,
    /// Where containers with read-only host mounts may write (see
    /// `writes`).
    #[pin]
    grants: SpinLock<writes::Grants>,
    /// Which devices and directories may hold a container root noted in
    /// `origins`, lock-free (see `OriginFilter`).
    origin_filter: OriginFilter,
    /// The open hook's lock-free state: the container filter, the clean
    /// verdicts of container tasks (written under the table lock) and the
    /// policy's file-access mask (written under the policy lock).
    fast: sys::OpenFast,
}

impl State {
    /// The state for the module parameters `p`, allocated in process
    /// context; the table stays empty until `snapshot` fills it.
    fn new(p: &sys::Params) -> Result<Pin<KBox<Self>>> {
        let base = Baseline::from_info(&sys::baseline()?);
        let ring = events::Ring::new(p.ring_events as usize)?;
        let policy = Policy::defaults()?;
        let fast = sys::OpenFast::new()?;
        let origins = Origins::new()?;
        let grants = writes::Grants::new()?;
        KBox::pin_init(
            try_pin_init!(State {
                table <- new_spinlock!(Table::new(p.max_tasks as u64), "escguard_table"),
                ring <- new_spinlock!(ring, "escguard_ring"),
                base,
                loaded_ns: sys::now_ns(),
                mode: AtomicU32::new(abi::ESCGUARD_MODE_ENFORCE),
                tid_swaps: TidSwaps::new(),
                c: Counters::default(),
                module_ref <- new_spinlock!(None, "escguard_module_ref"),
                events_gid: p.events_gid,
                presets: Presets::new(),
                policy <- new_spinlock!(policy, "escguard_policy"),
                origins <- new_spinlock!(origins, "escguard_origins"),
                grants <- new_spinlock!(grants, "escguard_grants"),
                origin_filter: OriginFilter::new(),
                fast,
            }? Error),
            GFP_KERNEL,
        )
    }

    /// Whether escapes and rule hits are refused (enforce mode), not only
    /// reported (monitor mode).
    fn enforcing(&self) -> bool {
        self.mode.load(Ordering::Relaxed) == abi::ESCGUARD_MODE_ENFORCE
    }
}

sys::callbacks!(State);

/// The loaded module: the state, with the hooks and `/dev/escguard`
/// registered to call into it until it is dropped.
struct Escguard {
    reg: sys::Registration<State>,
}

impl kernel::Module for Escguard {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if sys::kernel_preempt_rt() {
            // Hooks run in atomic context and take spinlocks, which sleep
            // on PREEMPT_RT.
            pr_err!("PREEMPT_RT kernels are not supported; not loading\n");
            return Err(Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32)));
        }
        let p = sys::params();
        if !MAX_TASKS_RANGE.contains(&p.max_tasks) {
            pr_err!(
                "max_tasks={} is outside {}..={}\n",
                p.max_tasks,
                MAX_TASKS_RANGE.start(),
                MAX_TASKS_RANGE.end()
            );
            return Err(EINVAL);
        }
        if !RING_EVENTS_RANGE.contains(&p.ring_events) {
            pr_err!(
                "ring_events={} is outside {}..={}\n",
                p.ring_events,
                RING_EVENTS_RANGE.start(),
                RING_EVENTS_RANGE.end()
            );
            return Err(EINVAL);
        }
        // Before anything reads a mount or a procfs inode.
        sys::verify_private_layout()?;
        sys::note_host_sysfs();
        let state = State::new(&p)?;
        let reg = sys::Registration::new(state, |s| s.snapshot())?;
        // Last: nothing after this can fail and leave the reference behind.
        if p.locked {
            reg.state().lock();
        }
        let (h, c) = reg.state().table.lock().counts();
        pr_info!(
            "version {} loaded (ABI {}.{}): enforce mode, {}, {} host and {} container tasks\n",
            VERSION,
            abi::ESCGUARD_ABI_MAJOR,
            abi::ESCGUARD_ABI_MINOR,
            if p.locked { "locked" } else { "unlocked" },
            h,
            c
        );
        Ok(Escguard { reg })
    }
}

impl Drop for Escguard {
    fn drop(&mut self) {
        let s = self.reg.state();
        pr_info!(
            "unloading: {} verdicts, {} kills, {} events ({} dropped)\n",
            s.c.verdicts.get(),
            s.c.kills.get(),
            s.c.events_emitted.get(),
            s.c.events_dropped.get()
        );
    }
}
