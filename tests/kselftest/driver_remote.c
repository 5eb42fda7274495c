// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remotes: every edu PCI device (1234:11e8) in the machine is a remote
 * that HAPMEM_IOC_INFO reports, bound to hapmem, behind an IOMMU.  The
 * reports are cross-checked against sysfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/hapmem.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define MAX_EDU 16

static unsigned long read_hex(const char *dir, const char *file)
{
	char path[512], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return ~0UL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

/* bus << 8 | devfn of every edu device, from sysfs; returns the count. */
static int find_edu(unsigned int *bdf)
{
	struct dirent *d;
	DIR *dir = opendir(PCI_DEVICES);
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < MAX_EDU) {
		char path[512];
		unsigned int dom, bus, dev, fn;

		if (sscanf(d->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s", d->d_name);
		if (read_hex(path, "vendor") == 0x1234 && read_hex(path, "device") == 0x11e8)
			bdf[n++] = bus << 8 | dev << 3 | fn;
	}
	closedir(dir);
	return n;
}

static int info(int fd, unsigned int remote, struct hapmem_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	in->remote = remote;
	return ioctl(fd, HAPMEM_IOC_INFO, in) ? -errno : 0;
}

FIXTURE(remote) {
	int fd;
	int n_edu;
	unsigned int edu[MAX_EDU];
};

FIXTURE_SETUP(remote)
{
	self->n_edu = find_edu(self->edu);
	ASSERT_LE(0, self->n_edu) TH_LOG(PCI_DEVICES ": %s", strerror(errno));
	self->fd = open("/dev/hapmem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/hapmem: %s", strerror(errno));
}

FIXTURE_TEARDOWN(remote)
{
	close(self->fd);
}

TEST_F(remote, present_behind_iommu)
{
	struct hapmem_info in;

	ASSERT_LE(1, self->n_edu) TH_LOG("the VM has no edu device");
	ASSERT_EQ(0, info(self->fd, HAPMEM_INFO_SELF, &in));
	EXPECT_LE(1, in.num_remotes);
	EXPECT_EQ((unsigned int)self->n_edu, in.num_remotes)
		TH_LOG("%d edu devices, %u remotes", self->n_edu, in.num_remotes);
	EXPECT_NE(0, in.remote_flags & HAPMEM_REMOTE_IOMMU)
		TH_LOG("remote_flags %#x", in.remote_flags);
	EXPECT_NE(0, in.name[0]);
}

TEST_F(remote, every_edu_is_a_remote)
{
	struct hapmem_info in;
	unsigned int seen = 0;

	ASSERT_EQ(0, info(self->fd, HAPMEM_INFO_SELF, &in));
	for (unsigned int r = 0; r < in.num_remotes && r < 32; r++) {
		struct hapmem_info ri;
		char path[256];
		int found = 0;

		ASSERT_EQ(0, info(self->fd, r, &ri)) TH_LOG("remote %u", r);
		EXPECT_EQ(r, ri.remote_index);
		EXPECT_EQ(in.num_remotes, ri.num_remotes);
		EXPECT_NE(0, ri.name[0]);
		EXPECT_EQ(0, ri.name[sizeof(ri.name) - 1]);
		for (int i = 0; i < self->n_edu; i++) {
			if (self->edu[i] == ri.pci_bdf) {
				EXPECT_EQ(0, seen & (1U << i)) TH_LOG("bdf %#x twice", ri.pci_bdf);
				seen |= 1U << i;
				found = 1;
			}
		}
		EXPECT_TRUE(found) TH_LOG("remote %u: bdf %#x is no edu device", r, ri.pci_bdf);
		if (!found)
			continue;

		/* sysfs agrees: the device is bound to hapmem, in an IOMMU group. */
		snprintf(path, sizeof(path), PCI_DEVICES "/0000:%02x:%02x.%x/iommu_group",
			 ri.pci_bdf >> 8, (ri.pci_bdf >> 3) & 0x1f, ri.pci_bdf & 7);
		EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_NE(0, ri.remote_flags & HAPMEM_REMOTE_IOMMU);
		snprintf(path, sizeof(path), PCI_DEVICES "/0000:%02x:%02x.%x/driver/module",
			 ri.pci_bdf >> 8, (ri.pci_bdf >> 3) & 0x1f, ri.pci_bdf & 7);
		{
			char link[256] = "";
			ssize_t len = readlink(path, link, sizeof(link) - 1);

			EXPECT_LT(0, len) TH_LOG("%s: %s", path, strerror(errno));
			if (len > 0) {
				link[len] = 0;
				EXPECT_STREQ("hapmem", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
			}
		}
		/* The windows are ordered and the 32-bit one stays below 4 GiB. */
		EXPECT_LT(ri.va32_start, ri.va32_end);
		EXPECT_GE(1ULL << 32, ri.va32_end);
		if (ri.va64_end)
			EXPECT_LT(ri.va64_start, ri.va64_end);
	}
	EXPECT_EQ((1U << self->n_edu) - 1, seen) TH_LOG("edu devices without a remote");
}

TEST_F(remote, unknown_remote_enoent)
{
	struct hapmem_info in;

	ASSERT_EQ(0, info(self->fd, HAPMEM_INFO_SELF, &in));
	EXPECT_EQ(-ENOENT, info(self->fd, in.num_remotes, &in));
	EXPECT_EQ(-ENOENT, info(self->fd, 0x7fffffff, &in));
}

TEST_HARNESS_MAIN
