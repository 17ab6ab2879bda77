// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY. Holds the one ftrace direct call security_file_open() can have,
 * as a BPF fentry/fexit program on it would, with a trampoline that does
 * nothing. escguard loaded after it must fall back to its ftrace callback
 * (open_hook reads back "ftrace") and still judge every open. Never load
 * this outside the test guest.
 */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/linkage.h>
#include <asm/nospec-branch.h>

/* Entered from security_file_open()'s fentry site: back to its body. */
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
	"	leave\n"
	ASM_RET
	".size escguard_test_tramp, .-escguard_test_tramp\n"
	".popsection\n"
);

static struct ftrace_ops escguard_test_ops;

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
MODULE_DESCRIPTION("TEST ONLY: a no-op ftrace direct call on security_file_open");
