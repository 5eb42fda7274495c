// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device node: /dev/hapmem exists as a misc character device, opens
 * (each open one session the driver counts), and answers an ioctl it does
 * not know with ENOTTY without harm to the session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/hapmem.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

#define MISC_MAJOR 10

TEST(node_is_misc_char_device)
{
	char path[128], want[32], got[32] = "";
	struct stat st;
	FILE *f;

	ASSERT_EQ(0, stat("/dev/hapmem", &st)) TH_LOG("stat: %s", strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));

	/* The node is the one the misc class registered. */
	snprintf(path, sizeof(path), "/sys/class/misc/hapmem/dev");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_NE(NULL, fgets(got, sizeof(got), f));
	fclose(f);
	snprintf(want, sizeof(want), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	EXPECT_STREQ(want, got);
}

TEST(opens_read_write_and_closes)
{
	int fd = open("/dev/hapmem", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	EXPECT_NE(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(fd));
}

TEST(many_sessions_at_once)
{
	struct hapmem_info info;
	int fds[64];

	ASSERT_TRUE(hm_idle(&info));
	for (unsigned int i = 0; i < 64; i++) {
		fds[i] = open("/dev/hapmem", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]) TH_LOG("open #%u: %s", i, strerror(errno));
	}
	/* The driver counts 64 sessions, plus the one hm_info opens. */
	ASSERT_EQ(0, hm_info(fds[63], &info));
	EXPECT_EQ(64, info.global_sessions);
	ASSERT_FALSE(hm_idle(&info));
	EXPECT_EQ(65, info.global_sessions);
	/* Each is a session of its own: the first and the last both map. */
	EXPECT_EQ(0, hm_session_works(fds[0], 1));
	EXPECT_EQ(0, hm_session_works(fds[63], 2));
	for (unsigned int i = 0; i < 64; i++)
		EXPECT_EQ(0, close(fds[i]));
	/* Closing gives every session back. */
	EXPECT_TRUE(hm_idle(&info));
	EXPECT_EQ(1, info.global_sessions);
}

TEST(unknown_ioctl_enotty)
{
	/* Outside the command range, another driver's type, every direction. */
	const unsigned long cmds[] = {
		_IO(HAPMEM_TYPE, 0),
		_IO(HAPMEM_TYPE, HAPMEM_CMD_BASE - 1),
		_IO(HAPMEM_TYPE, HAPMEM_CMD_END),
		_IO(HAPMEM_TYPE, 0xff),
		_IOR(HAPMEM_TYPE, 0x01, int),
		_IOW(HAPMEM_TYPE, 0x02, long),
		_IOWR(HAPMEM_TYPE, HAPMEM_CMD_END + 1, char[64]),
		_IO('T', 0x01),
		_IOWR(HAPMEM_TYPE ^ 1, HAPMEM_CMD_INFO, char[16]),
		0,
	};
	char arg[256] = { 0 };
	int fd = open("/dev/hapmem", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], arg)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx: %s", cmds[i], strerror(errno));
	}
	/* The session still works after refusals: a map the device reads. */
	EXPECT_EQ(0, hm_session_works(fd, 3));
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
