// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module lifetime: 20 rmmod/insmod cycles leave no trace.  After each
 * load the device node, the misc class entry and the remotes' PCI
 * bindings are exactly as before; after each unload all of them are
 * gone; the module never stays pinned.  (A warning or leak in the cycles
 * is caught by tests/vm/run from the kernel log and kmemleak.)
 *
 * Needs the module file: $HAPMEM_KO, which tests/vm/run sets in the VM.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/hapmem.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

#define CYCLES 20

static int mod_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "allow_remote_access=1", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int mod_unload(void)
{
	return syscall(SYS_delete_module, "hapmem", O_NONBLOCK) ? -errno : 0;
}

static int mod_loaded(void)
{
	return access("/sys/module/hapmem/initstate", F_OK) == 0;
}

/* Everything the module makes visible, as one comparable string. */
static void snapshot(char *out, size_t size)
{
	static const char *const dirs[] = {
		"/dev", "/sys/class/misc", "/sys/bus/pci/drivers/hapmem",
	};
	size_t used = 0;

	out[0] = 0;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct dirent *d;
		DIR *dir = opendir(dirs[i]);

		if (!dir)
			continue;
		while ((d = readdir(dir))) {
			/* Nodes and class entries named hapmem*, bound devices. */
			if (strncmp(d->d_name, "hapmem", 6) && strncmp(d->d_name, "0000:", 5))
				continue;
			if (!strncmp(d->d_name, "0000:", 5) && i != 2)
				continue;
			used += snprintf(out + used, size - used, "%s/%s\n", dirs[i], d->d_name);
			if (used >= size)
				return;
		}
		closedir(dir);
	}
}

static int lines_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* readdir order may change between loads: compare sorted. */
static void sort_lines(char *s)
{
	char *lines[256], *p, *copy = strdup(s);
	size_t n = 0, used = 0;

	if (!copy)
		return;
	for (p = strtok(copy, "\n"); p && n < 256; p = strtok(NULL, "\n"))
		lines[n++] = p;
	qsort(lines, n, sizeof(lines[0]), lines_cmp);
	s[0] = 0;
	for (size_t i = 0; i < n; i++)
		used += sprintf(s + used, "%s\n", lines[i]);
	free(copy);
}

/* A cycle takes about 2.5 s on the debug kernel under TCG. */
FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
}

/* Whatever happened, leave the module loaded for the tests that follow. */
FIXTURE_TEARDOWN(reload)
{
	const char *ko = getenv("HAPMEM_KO");

	if (ko && !mod_loaded())
		mod_load(ko);
}

TEST_F_TIMEOUT(reload, twenty_cycles_leave_no_trace, 600)
{
	const char *ko = getenv("HAPMEM_KO");
	static char before[8192], now[8192];
	int fd, ret;

	if (!ko || access(ko, R_OK))
		SKIP(return, "no module file ($HAPMEM_KO unset or unreadable)");
	if (geteuid())
		SKIP(return, "needs root");
	if (!mod_loaded())
		ASSERT_EQ(0, mod_load(ko));
	snapshot(before, sizeof(before));
	sort_lines(before);
	ASSERT_NE(NULL, strstr(before, "/dev/hapmem\n")) TH_LOG("state:\n%s", before);

	for (int i = 0; i < CYCLES; i++) {
		/* A session pins the module: unload must be refused... */
		fd = open("/dev/hapmem", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("cycle %d: open: %s", i, strerror(errno));
		EXPECT_EQ(-EWOULDBLOCK, mod_unload()) TH_LOG("cycle %d", i);
		ASSERT_TRUE(mod_loaded());
		/* ...and the session still works: a map the device reads. */
		EXPECT_EQ(0, hm_session_works(fd, i)) TH_LOG("cycle %d", i);
		close(fd);

		ret = mod_unload();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: rmmod: %s", i, strerror(-ret));
		EXPECT_FALSE(mod_loaded());
		snapshot(now, sizeof(now));
		EXPECT_STREQ("", now) TH_LOG("cycle %d: left after rmmod:\n%s", i, now);
		EXPECT_EQ(-1, open("/dev/hapmem", O_RDWR | O_CLOEXEC));

		ret = mod_load(ko);
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: insmod: %s", i, strerror(-ret));
		snapshot(now, sizeof(now));
		sort_lines(now);
		EXPECT_STREQ(before, now) TH_LOG("cycle %d", i);
		fd = open("/dev/hapmem", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("cycle %d: open after insmod: %s", i, strerror(errno));
		EXPECT_EQ(0, hm_session_works(fd, 100 + i)) TH_LOG("cycle %d", i);
		close(fd);
	}
}

TEST_F_TIMEOUT(reload, unload_refused_while_a_buffer_lives, 120)
{
	const char *ko = getenv("HAPMEM_KO");
	struct hapmem_alloc a = { .size = sizeof(a), .len = 4096 };
	int fd;

	if (!ko || access(ko, R_OK))
		SKIP(return, "no module file ($HAPMEM_KO unset or unreadable)");
	if (geteuid())
		SKIP(return, "needs root");
	if (!mod_loaded())
		ASSERT_EQ(0, mod_load(ko));
	fd = open("/dev/hapmem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* A refused ALLOC is a finding, not a reason to skip. */
	ASSERT_EQ(0, ioctl(fd, HAPMEM_IOC_ALLOC, &a)) TH_LOG("ALLOC: %s", strerror(errno));
	close(fd);
	/* The session is gone but its exported buffer still pins the module. */
	EXPECT_EQ(-EWOULDBLOCK, mod_unload());
	EXPECT_TRUE(mod_loaded());
	close(a.fd);
	EXPECT_EQ(0, mod_unload());
	ASSERT_EQ(0, mod_load(ko));
}

TEST_HARNESS_MAIN
