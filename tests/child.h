/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests/child.h: checks inside a fork()ed child, for the host unit tests
 * and the VM tests alike.  The harness's ASSERT/EXPECT report from the
 * test process; a child reports by its exit status instead: 0 when every
 * check held, else the number of the first check that failed.
 *
 *	pid = fork();
 *	if (!pid) {
 *		HM_CHILD_EXIT_UNLESS(1, p != NULL);
 *		HM_CHILD_EXIT(0);
 *	}
 *	EXPECT_EQ(0, hm_child_status(pid));
 */
#ifndef HAPMEM_TESTS_CHILD_H
#define HAPMEM_TESTS_CHILD_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Leave the child at once, with status @n, by the raw system call:
 * ThreadSanitizer intercepts _exit() and would report the parent's
 * threads, which the child never had, as leaked.
 */
#define HM_CHILD_EXIT(n) syscall(SYS_exit_group, (n))

/* In a child: leave with status @n unless @cond holds. */
#define HM_CHILD_EXIT_UNLESS(n, cond)					\
	do {								\
		if (!(cond))						\
			HM_CHILD_EXIT(n);				\
	} while (0)

/* Child @pid's exit status; 128 + the signal that killed it; -1 if waitpid fails. */
static inline __attribute__((unused)) int hm_child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

#endif /* HAPMEM_TESTS_CHILD_H */
