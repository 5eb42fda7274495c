/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests/unit/death_test.h: the invariant checks' death tests
 * (test_core_assert, test_heap_assert).  Include after kselftest_harness.h.
 */
#ifndef HAPMEM_TESTS_UNIT_DEATH_TEST_H
#define HAPMEM_TESTS_UNIT_DEATH_TEST_H

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run @corrupt in a child and expect it to die of SIGABRT with
 * "<@layer>: ... invariant broken" on stderr.  @corrupt returns only when
 * no check fired (the child then exits 0) or when its setup failed (exit
 * 2).  (The harness counts SIGABRT as a failed ASSERT, hence no
 * TEST_SIGNAL.)
 */
static void expect_abort(struct __test_metadata *_metadata, const char *layer,
			 int (*corrupt)(void))
{
	char msg[512] = "";
	int fds[2], status;
	ssize_t len;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		_exit(corrupt() ? 2 : 0);
	}
	close(fds[1]);
	len = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	if (len > 0)
		msg[len] = 0;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)
		TH_LOG("child status %#x: no check fired", status);
	EXPECT_NE(NULL, strstr(msg, layer)) TH_LOG("stderr: %s", msg);
	EXPECT_NE(NULL, strstr(msg, "invariant broken")) TH_LOG("stderr: %s", msg);
}

#endif /* HAPMEM_TESTS_UNIT_DEATH_TEST_H */
