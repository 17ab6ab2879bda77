// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers around the C glue in `module/helpers.c`.
//!
//! Each raw binding from `include/escguard_kernel.h` is used in this file only,
//! behind a small type whose invariants make it safe to use elsewhere.

use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::prelude::*;

#[allow(dead_code, non_camel_case_types, non_upper_case_globals, missing_docs, unreachable_pub, clippy::all)]
mod raw {
    use kernel::ffi;
    include!("kernel_generated.rs");
}

/// Receives the callbacks of the `/dev/escguard` file operations.
pub(crate) trait DeviceOps: Sync {
    /// A task opens the device.
    fn open(&self) -> Result;
    /// A descriptor of the device is closed for the last time.
    fn release(&self);
    /// An ioctl; returns the non-negative value handed back to user space.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;
}

/// The registered misc device `/dev/escguard`, owning the object that serves
/// it.
///
/// Only one may exist at a time: the C glue keeps the device in a static.
///
/// # Invariants
///
/// While a `MiscDevice` exists, the misc device is registered and its context
/// pointer is the address of `self.ops`'s heap allocation, which is neither
/// moved nor freed until `Drop` has deregistered the device.
pub(crate) struct MiscDevice<T: DeviceOps> {
    ops: KBox<T>,
}

impl<T: DeviceOps> MiscDevice<T> {
    /// Registers `/dev/escguard` with `ops` answering its file operations.
    pub(crate) fn register(ops: KBox<T>) -> Result<Self> {
        let ctx = &*ops as *const T as *mut c_void;
        // SAFETY: `ctx` points into `ops`' heap allocation, which the returned
        // value owns and keeps alive (and in place: a `KBox` move does not
        // move its contents) until `drop` has deregistered the device. The C
        // side only hands `ctx` to the `escguard_rs_*` callbacks below, which
        // treat it as `&T`.
        to_result(unsafe { raw::escguard_misc_register(ctx) })?;
        // INVARIANT: registered above with `ctx` = address of `*ops`.
        Ok(Self { ops })
    }

    /// The object serving the device.
    pub(crate) fn ops(&self) -> &T {
        &self.ops
    }
}

impl<T: DeviceOps> Drop for MiscDevice<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the device is registered. After this
        // returns no new open can reach us, and no file operation is still in
        // flight: every open file holds a reference on this module, so module
        // exit (the only place a `MiscDevice` is dropped) cannot have started
        // while one exists.
        unsafe { raw::escguard_misc_deregister() };
    }
}

/// The `T` behind a context pointer handed to a C callback.
///
/// # Safety
///
/// `ctx` must be the context of a live [`MiscDevice<T>`] (the C glue passes
/// exactly the pointer given at registration, and only while registered).
pub(crate) unsafe fn ops_of<'a, T: DeviceOps>(ctx: *mut c_void) -> &'a T {
    // SAFETY: by the function's safety requirement, `ctx` points to a live `T`
    // that is only ever accessed through shared references.
    unsafe { &*(ctx as *const T) }
}

/// Generates the `extern "C"` callbacks declared in `escguard_kernel.h` for
/// the concrete [`DeviceOps`] type of this module.
macro_rules! device_callbacks {
    ($t:ty) => {
        /// C callback: `open` of `/dev/escguard`.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_open(ctx: *mut kernel::ffi::c_void) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            match <$t as $crate::sys::DeviceOps>::open(ops) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }

        /// C callback: last `close` of a `/dev/escguard` descriptor.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_release(ctx: *mut kernel::ffi::c_void) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            <$t as $crate::sys::DeviceOps>::release(ops)
        }

        /// C callback: `unlocked_ioctl` of `/dev/escguard`.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_ioctl(
            ctx: *mut kernel::ffi::c_void,
            cmd: kernel::ffi::c_uint,
            arg: kernel::ffi::c_ulong,
        ) -> kernel::ffi::c_long {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            match <$t as $crate::sys::DeviceOps>::ioctl(ops, cmd, arg as usize) {
                Ok(v) => v as kernel::ffi::c_long,
                Err(e) => e.to_errno() as kernel::ffi::c_long,
            }
        }
    };
}
pub(crate) use device_callbacks;

/// `CLOCK_REALTIME` in nanoseconds.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_real_ns()` may be called from any context.
    unsafe { raw::escguard_now_ns() }
}
