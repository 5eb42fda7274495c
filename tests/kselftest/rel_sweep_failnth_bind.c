// SPDX-License-Identifier: GPL-2.0-only
/*
 * fail-nth sweep over the bind of a foreign PCI device: QEMU's
 * pci-testdev (1b36:0005), through driver_override + drivers_probe, has
 * its 1st, 2nd, 3rd... memory allocation made to fail (slab and page
 * allocator), until an N no longer reaches a fault.  Each bind must then
 * either give a working remote or leave nothing behind: no remote for the
 * device, as many remotes and hapmem debugfs entries as before (the run's
 * kmemleak scan checks the memory).  A bound remote is checked and
 * unbound.  The number of injection points is printed.
 *
 * Needs the device (tests/vm/run --device pci-testdev), an IOMMU, and
 * CONFIG_FAULT_INJECTION (fail-nth), CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC with debugfs: the debug kernel.  Skips elsewhere.
 * Sorts after the other suites, as rel_sweep_failnth does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"
#include "revoke_test.h"

#define TESTDEV_VENDOR	0x1b36
#define TESTDEV_DEVICE	0x0005
#define DBG		"/sys/kernel/debug/hapmem"
#define SWEEP_MAX	3000

static unsigned long read_hex(const char *path)
{
	char buf[32];

	if (rv_read_file(path, buf, sizeof(buf)))
		return ~0UL;
	return strtoul(buf, NULL, 16);
}

/* The first pci-testdev's bus << 8 | devfn, or -ENOENT. */
static int find_testdev(void)
{
	DIR *dir = opendir(RV_PCI "/devices");
	struct dirent *d;
	int found = -ENOENT;

	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && found < 0) {
		unsigned int dom, bus, dev, fn;
		char path[512];

		if (sscanf(d->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			continue;
		snprintf(path, sizeof(path), RV_PCI "/devices/%s/vendor", d->d_name);
		if (read_hex(path) != TESTDEV_VENDOR)
			continue;
		snprintf(path, sizeof(path), RV_PCI "/devices/%s/device", d->d_name);
		if (read_hex(path) != TESTDEV_DEVICE)
			continue;
		found = bus << 8 | dev << 3 | fn;
	}
	closedir(dir);
	return found;
}

/* Entries in hapmem's debugfs directory. */
static int dbg_entries(void)
{
	DIR *dir = opendir(DBG);
	struct dirent *d;
	int n = 0;

	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

static int fi_configure(void)
{
	static const char *const types[] = { "failslab", "fail_page_alloc" };
	static const char *const knobs[][2] = {
		{ "ignore-gfp-wait", "N" }, { "probability", "0" },
		{ "times", "-1" }, { "verbose", "0" }, { "task-filter", "N" },
	};
	char p[128];
	int ret = 0;

	for (unsigned int i = 0; i < 2; i++) {
		for (unsigned int k = 0; k < 5; k++) {
			snprintf(p, sizeof(p), "/sys/kernel/debug/%s/%s",
				 types[i], knobs[k][0]);
			ret |= rv_write_file(p, knobs[k][1]);
		}
	}
	ret |= rv_write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	ret |= rv_write_file("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	return ret;
}

FIXTURE(bindfail) {
	int bdf;
	int obs;
	int nth;
	unsigned int remotes;
	int entries;
};

FIXTURE_SETUP(bindfail)
{
	struct hapmem_info info;
	struct stat st;
	char path[64];

	self->obs = self->nth = -1;
	self->bdf = find_testdev();
	if (self->bdf < 0)
		SKIP(return, "no pci-testdev (tests/vm/run --device pci-testdev)");
	if (!have_iommu())
		SKIP(return, "no IOMMU: the device is refused");
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	if (stat(path, &st))
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	if (stat("/sys/kernel/debug/failslab", &st) ||
	    stat("/sys/kernel/debug/fail_page_alloc", &st))
		SKIP(return, "no failslab/fail_page_alloc in debugfs");
	ASSERT_EQ(0, fi_configure());
	self->nth = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	self->obs = hm_open();
	ASSERT_LE(0, self->obs);
	ASSERT_EQ(0, hm_info(self->obs, &info));
	self->remotes = info.num_remotes;
	self->entries = dbg_entries();
	ASSERT_LT(0, self->entries);
	ASSERT_FALSE(rv_pci_bound(self->bdf));
	ASSERT_EQ(0, rv_pci_write(self->bdf, RV_PCI "/devices/%s/driver_override",
				  "hapmem"));
}

FIXTURE_TEARDOWN(bindfail)
{
	if (self->nth >= 0) {
		nth_set(self->nth, 0);
		close(self->nth);
	}
	if (self->bdf >= 0) {
		if (rv_pci_bound(self->bdf))
			EXPECT_EQ(0, rv_unbind(self->bdf));
		EXPECT_EQ(0, rv_pci_write(self->bdf,
					  RV_PCI "/devices/%s/driver_override",
					  "\n"));
	}
	if (self->obs >= 0)
		close(self->obs);
}

TEST_F_TIMEOUT(bindfail, sweep, 800)
{
	unsigned int n, failed = 0;
	struct hapmem_info in;
	long left = -1;

	/* A skip in the setup still runs the test. */
	if (self->nth < 0 || self->obs < 0)
		SKIP(return, "nothing to sweep");
	for (n = 1; n <= SWEEP_MAX; n++) {
		bool bound;

		ASSERT_EQ(0, nth_set(self->nth, n));
		rv_pci_write(self->bdf, RV_PCI "/drivers_probe", NULL);
		left = nth_left(self->nth);
		nth_set(self->nth, 0);
		bound = rv_pci_bound(self->bdf);
		if (bound) {
			int fd = rv_open_bdf(self->obs, self->bdf, 5.0);

			ASSERT_LE(0, fd) TH_LOG("n=%u: bound, no remote: %s",
						n, strerror(-fd));
			EXPECT_EQ(0, hm_session_works(fd, n)) TH_LOG("n=%u", n);
			close(fd);
			ASSERT_EQ(0, rv_unbind(self->bdf)) TH_LOG("n=%u", n);
		} else {
			failed++;
			EXPECT_EQ(-ENOENT, rv_remote_by_bdf(self->obs, self->bdf, NULL))
				TH_LOG("n=%u: a remote for an unbound device", n);
		}
		ASSERT_EQ(0, hm_info(self->obs, &in));
		ASSERT_EQ(self->remotes, in.num_remotes) TH_LOG("n=%u", n);
		ASSERT_EQ(self->entries, dbg_entries()) TH_LOG("n=%u", n);
		if (left) {
			ASSERT_TRUE(bound) TH_LOG("n=%u: no fault, no bind", n);
			break;
		}
	}
	ASSERT_LE(n, SWEEP_MAX) TH_LOG("more than %u injection points", SWEEP_MAX);
	TH_LOG("bind of the pci-testdev: %u injection points, %u refused the bind",
	       n - 1, failed);
	EXPECT_LT(0, n - 1);
}

TEST_HARNESS_MAIN
