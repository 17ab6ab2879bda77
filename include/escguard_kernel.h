/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Glue between escguard's Rust code and the parts of the kernel that the 6.12
 * `kernel` crate does not bind (misc device, inline time helpers). The C side
 * (module/helpers.c) is deliberately thin: it only registers kernel objects
 * and forwards callbacks to Rust; all decisions are made in Rust.
 *
 * Included by helpers.c (prototypes: Kbuild builds C with
 * -Werror=missing-prototypes) and run through bindgen for the Rust side, so
 * only plain fixed-width types and opaque pointers may appear here.
 */
#ifndef ESCGUARD_KERNEL_H
#define ESCGUARD_KERNEL_H

#include <linux/types.h>

/* ---- implemented in C (module/helpers.c), called from Rust ---- */

/*
 * Register the misc device /dev/escguard (mode 0600). @ctx is handed back to
 * every escguard_rs_* callback; it must stay valid until
 * escguard_misc_deregister() has returned. Returns 0 or a negative errno.
 */
int escguard_misc_register(void *ctx);
void escguard_misc_deregister(void);

/* CLOCK_REALTIME in nanoseconds (ktime_get_real_ns() is inline). */
__u64 escguard_now_ns(void);

/* ---- implemented in Rust (module/guard.rs), called from C ---- */

int escguard_rs_open(void *ctx);
void escguard_rs_release(void *ctx);
long escguard_rs_ioctl(void *ctx, unsigned int cmd, unsigned long arg);

#endif /* ESCGUARD_KERNEL_H */
