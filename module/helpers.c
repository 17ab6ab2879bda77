// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for escguard: the kernel objects whose types or helpers the 6.12
 * Rust `kernel` crate lacks. No policy lives here; every callback forwards to
 * Rust with the context pointer Rust registered.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/timekeeping.h>

#include "escguard_abi.h"
#include "escguard_kernel.h"

/*
 * Set before misc_register() and cleared after misc_deregister(). Readers are
 * file operations, which hold a module reference (fops.owner), so they can
 * never run after module exit has started; no further locking is needed.
 */
static void *escguard_ctx;

static int escguard_fop_open(struct inode *inode, struct file *file)
{
	/* The device node is 0600, but a descriptor may be passed around: the
	 * Rust side decides again. */
	return escguard_rs_open(escguard_ctx);
}

static int escguard_fop_release(struct inode *inode, struct file *file)
{
	escguard_rs_release(escguard_ctx);
	return 0;
}

static long escguard_fop_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	return escguard_rs_ioctl(escguard_ctx, cmd, arg);
}

static const struct file_operations escguard_fops = {
	.owner = THIS_MODULE,
	.open = escguard_fop_open,
	.release = escguard_fop_release,
	.unlocked_ioctl = escguard_fop_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice escguard_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = ESCGUARD_DEVICE_NAME,
	.fops = &escguard_fops,
	.mode = 0600,
};

int escguard_misc_register(void *ctx)
{
	int ret;

	escguard_ctx = ctx;
	ret = misc_register(&escguard_misc);
	if (ret)
		escguard_ctx = NULL;
	return ret;
}

void escguard_misc_deregister(void)
{
	misc_deregister(&escguard_misc);
	escguard_ctx = NULL;
}

u64 escguard_now_ns(void)
{
	return ktime_get_real_ns();
}
