// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY. Holds the one ftrace direct call security_file_open() can have,
 * with a trampoline that behaves as a BPF fexit program's does: it calls the
 * function itself and sees its return value, then returns to the caller.
 * escguard loaded after it must fall back to its ftrace callback (open_hook
 * reads back "ftrace") and still judge every open -- and a refusal must not
 * be lost: a BPF trampoline calls the function's body at a fixed address
 * unless an IPMODIFY ftrace_ops asked it (ops_func) to share the function,
 * after which it calls through the return address that ops may have
 * redirected (BPF_TRAMP_F_SHARE_IPMODIFY / BPF_TRAMP_F_ORIG_STACK). This
 * module does the same, and counts the calls it saw refused with -EPERM
 * (parameter "refused"). Never load this outside the test guest.
 */
#include <linux/atomic.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/objtool.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/linkage.h>
#include <asm/nospec-branch.h>

/* Set when an IPMODIFY ops asked to share the function (see ops_func). */
static bool shared;
module_param(shared, bool, 0444);
MODULE_PARM_DESC(shared, "An IPMODIFY ftrace_ops shares the function (calls go through the stack)");

/* Calls that returned -EPERM, as an fexit program would see them. */
static unsigned int refused;
module_param(refused, uint, 0444);
MODULE_PARM_DESC(refused, "Calls of security_file_open() seen returning -EPERM");

/* The function's body, as first seen (the address after the fentry call). */
static unsigned long escguard_test_body;

/* Which address the trampoline calls: the body at its fixed address, as a
 * BPF trampoline generated without SHARE_IPMODIFY does, or the address on
 * the stack, which an IPMODIFY ops may have replaced. */
static unsigned long __used notrace escguard_test_pick(unsigned long stack_ip)
{
	unsigned long body = READ_ONCE(escguard_test_body);

	if (!body) {
		/* First call: escguard is not loaded yet (the test loads this
		 * module first), so the stack holds the body's address. */
		WRITE_ONCE(escguard_test_body, stack_ip);
		body = stack_ip;
	}
	return READ_ONCE(shared) ? stack_ip : body;
}

static long __used notrace escguard_test_seen(long ret)
{
	if (ret == -EPERM)
		WRITE_ONCE(refused, READ_ONCE(refused) + 1);
	return ret;
}

/*
 * Entered from security_file_open()'s fentry site (directly, or through
 * ftrace_regs_caller when an ftrace_ops shares the function): 8(%rbp) is
 * where the function would continue, 16(%rbp) its caller's return address,
 * %rdi its argument. Calls the function, then returns to its caller with
 * the function's return value, skipping the function's own frame.
 */
asmlinkage void escguard_test_tramp(void);
asm(
	".pushsection .text, \"ax\", @progbits\n"
	".type escguard_test_tramp, @function\n"
	ASM_FUNC_ALIGN
	"escguard_test_tramp:\n"
	ASM_ENDBR
	"	pushq %rbp\n"
	"	movq %rsp, %rbp\n"
	CALL_DEPTH_ACCOUNT
	"	pushq %rdi\n"
	"	pushq %rdi\n"
	"	movq 8(%rbp), %rdi\n"
	"	call escguard_test_pick\n"
	"	movq %rax, %r11\n"
	"	movq (%rsp), %rdi\n"
	"	call __x86_indirect_thunk_r11\n"
	"	movq %rax, %rdi\n"
	"	call escguard_test_seen\n"
	"	leave\n"
	"	addq $8, %rsp\n"
	ASM_RET
	".size escguard_test_tramp, .-escguard_test_tramp\n"
	".popsection\n"
);

/* It returns past its caller's frame, as a BPF trampoline does. */
STACK_FRAME_NON_STANDARD(escguard_test_tramp);

/* What a BPF trampoline answers when an IPMODIFY ops comes to share its
 * function: yes, and from now on call through the stack. */
static int escguard_test_ops_func(struct ftrace_ops *op, enum ftrace_ops_cmd cmd)
{
	switch (cmd) {
	case FTRACE_OPS_CMD_ENABLE_SHARE_IPMODIFY_SELF:
	case FTRACE_OPS_CMD_ENABLE_SHARE_IPMODIFY_PEER:
		WRITE_ONCE(shared, true);
		return 0;
	case FTRACE_OPS_CMD_DISABLE_SHARE_IPMODIFY_PEER:
		WRITE_ONCE(shared, false);
		return 0;
	}
	return -EBUSY;
}

static struct ftrace_ops escguard_test_ops = {
	.ops_func = escguard_test_ops_func,
};

static int __init escguard_test_direct_init(void)
{
	char sym[] = "security_file_open";
	int ret;

	ret = ftrace_set_filter(&escguard_test_ops, sym, strlen(sym), 1);
	if (!ret)
		ret = register_ftrace_direct(&escguard_test_ops, (unsigned long)escguard_test_tramp);
	if (ret)
		ftrace_free_filter(&escguard_test_ops);
	return ret;
}

static void __exit escguard_test_direct_exit(void)
{
	unregister_ftrace_direct(&escguard_test_ops, (unsigned long)escguard_test_tramp, true);
	/* A task may still be between the fentry call and the trampoline's
	 * return: wait before the module text goes. */
	synchronize_rcu_tasks();
}

module_init(escguard_test_direct_init);
module_exit(escguard_test_direct_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TEST ONLY: an fexit-like ftrace direct call on security_file_open");
