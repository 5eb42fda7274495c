// SPDX-License-Identifier: GPL-2.0-only
/*
 * Any PCI device as a remote: QEMU's pci-testdev (1b36:0005), which hapmem
 * does not match by default, is bound with driver_override + drivers_probe
 * (and with new_id) and becomes a remote without a DMA engine, with an
 * IOMMU domain of its own.  Its maps are checked in that domain through
 * debugfs (hapmem/<remote>/translate) against the physical pages of the
 * memory: /proc/self/pagemap for user pages (and memfd pages behind a
 * udmabuf), or the bytes at that physical address in /proc/kcore for the
 * driver's own buffers.  Unbinding revokes the remote.
 *
 * The VM needs the device: tests/vm/run --device pci-testdev.  Without it
 * every test skips.  On a machine without an IOMMU the driver must refuse
 * the device: node_and_info checks that, and the other tests skip.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <linux/memfd.h>
#include <linux/udmabuf.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"
#include "revoke_test.h"

#define TESTDEV_VENDOR	0x1b36
#define TESTDEV_DEVICE	0x0005
#define DBG		"/sys/kernel/debug/hapmem"
#define NPAGES		16
#define BIND_SECS	10.0

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
		char path[512], buf[32];

		if (sscanf(d->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			continue;
		snprintf(path, sizeof(path), RV_PCI "/devices/%s/vendor", d->d_name);
		if (rv_read_file(path, buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 16) != TESTDEV_VENDOR)
			continue;
		snprintf(path, sizeof(path), RV_PCI "/devices/%s/device", d->d_name);
		if (rv_read_file(path, buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 16) != TESTDEV_DEVICE)
			continue;
		found = bus << 8 | dev << 3 | fn;
	}
	closedir(dir);
	return found;
}

static int set_override(uint32_t bdf, const char *drv)
{
	return rv_pci_write(bdf, RV_PCI "/devices/%s/driver_override", drv);
}

/* echo hapmem > driver_override; echo <BDF> > drivers_probe */
static int bind_override(uint32_t bdf)
{
	int ret = set_override(bdf, "hapmem");

	return ret ? ret : rv_pci_write(bdf, RV_PCI "/drivers_probe", NULL);
}

/* The name a remote of @index gets, as the driver names them. */
static void remote_name(unsigned int index, char *buf, size_t n)
{
	static const char *const names[] = { "adsp", "cdsp", "sdsp", "mdsp" };

	if (index < 4)
		snprintf(buf, n, "%s", names[index]);
	else
		snprintf(buf, n, "dsp%u", index);
}

/*
 * The remote's IOMMU translation of @n pages from @va, from debugfs:
 * phys[i] is 0 where nothing is mapped.  0 or -errno.
 */
static int translate(const char *remote, uint64_t va, unsigned int n,
		     uint64_t *phys)
{
	char path[128], cmd[64];
	unsigned int i = 0;
	FILE *f;
	int fd, ret = 0;

	snprintf(path, sizeof(path), DBG "/%s/translate", remote);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(cmd, sizeof(cmd), "%#llx %u\n", (unsigned long long)va, n);
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		close(fd);
		return -EIO;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	for (i = 0; i < n; i++) {
		unsigned long long a, p;

		if (fscanf(f, "%llx %llx", &a, &p) != 2 ||
		    a != va + i * HM_PAGE) {
			ret = -EPROTO;
			break;
		}
		phys[i] = p;
	}
	fclose(f);
	return ret;
}

/* Physical address of the page at @addr of this process, 0 if none. */
static uint64_t pagemap_phys(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (uintptr_t)addr / HM_PAGE * 8) != sizeof(e))
		e = 0;
	close(fd);
	if (!(e & (1ULL << 63)))
		return 0;
	return (e & ((1ULL << 55) - 1)) * HM_PAGE;
}

/*
 * /proc/kcore read at a physical address: the RAM segments of its ELF
 * header carry their physical address.  0 or -errno.
 */
static int kcore_read(uint64_t phys, void *buf, size_t len)
{
	int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	int ret = -ENOENT;

	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		close(fd);
		return -EIO;
	}
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph))
			break;
		if (ph.p_type != PT_LOAD || ph.p_paddr == (Elf64_Addr)-1 ||
		    phys < ph.p_paddr || phys + len > ph.p_paddr + ph.p_memsz)
			continue;
		ret = pread(fd, buf, len, ph.p_offset + (phys - ph.p_paddr)) ==
		      (ssize_t)len ? 0 : -EIO;
		break;
	}
	close(fd);
	return ret;
}

/*
 * A dma-buf whose physical pages the test can tell, for share_map and
 * dma_handle_map: a udmabuf over memfd pages (pagemap gives them) where
 * the kernel has udmabuf, else a buffer of the driver's own whose pages
 * are told by a tag the CPU writes in each and /proc/kcore finds at the
 * translated address.
 */
struct refbuf {
	int fd;			/* the dma-buf */
	unsigned char *cpu;	/* its CPU mapping, NPAGES pages */
	uint64_t phys[NPAGES];	/* udmabuf: pagemap's answer */
	bool kcore;
};

static void tag(unsigned char *p, unsigned int page)
{
	hm_fill(p, 64, 0x5a00 + page);
}

static int refbuf_make(int sess, struct refbuf *rb)
{
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);

	memset(rb, 0, sizeof(*rb));
	rb->fd = -1;
	if (dev >= 0) {
		struct udmabuf_create c = {
			.flags = UDMABUF_FLAGS_CLOEXEC,
			.size = NPAGES * HM_PAGE,
		};
		int memfd = syscall(SYS_memfd_create, "driver_bind",
				    MFD_ALLOW_SEALING);

		if (memfd < 0 || ftruncate(memfd, NPAGES * HM_PAGE) ||
		    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
			close(dev);
			return -errno;
		}
		rb->cpu = mmap(NULL, NPAGES * HM_PAGE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, memfd, 0);
		if (rb->cpu == MAP_FAILED) {
			close(memfd);
			close(dev);
			return -errno;
		}
		memset(rb->cpu, 1, NPAGES * HM_PAGE);
		c.memfd = memfd;
		rb->fd = ioctl(dev, UDMABUF_CREATE, &c);
		close(memfd);
		close(dev);
		if (rb->fd < 0)
			return -errno;
		for (unsigned int i = 0; i < NPAGES; i++)
			rb->phys[i] = pagemap_phys(rb->cpu + i * HM_PAGE);
		return 0;
	}
	if (access("/proc/kcore", R_OK))
		return -EOPNOTSUPP;
	rb->kcore = true;
	rb->fd = hm_alloc(sess, NPAGES * HM_PAGE, HAPMEM_ION_FLAG_CACHED);
	if (rb->fd < 0)
		return rb->fd;
	rb->cpu = mmap(NULL, NPAGES * HM_PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, rb->fd, 0);
	if (rb->cpu == MAP_FAILED)
		return -errno;
	for (unsigned int i = 0; i < NPAGES; i++)
		tag(rb->cpu + i * HM_PAGE, i);
	return 0;
}

static void refbuf_free(struct refbuf *rb)
{
	if (rb->cpu && rb->cpu != MAP_FAILED)
		munmap(rb->cpu, NPAGES * HM_PAGE);
	if (rb->fd >= 0)
		close(rb->fd);
}

/*
 * Whether page @i of the buffer is at @phys: pagemap's address, or the
 * page's tag read back from physical memory.
 */
static bool refbuf_is(const struct refbuf *rb, unsigned int i, uint64_t phys)
{
	unsigned char got[64];

	if (!phys)
		return false;
	if (!rb->kcore)
		return rb->phys[i] && rb->phys[i] == phys;
	if (kcore_read(phys, got, sizeof(got)))
		return false;
	return !hm_check(got, sizeof(got), 0x5a00 + i);
}

FIXTURE(bind) {
	int bdf;		/* the pci-testdev, or < 0 */
	int obs;		/* a session of the first remote */
	int fd;			/* a session of the bound device */
	struct hapmem_info info; /* the bound device's remote */
	struct hapmem_info first; /* the first remote */
	unsigned int remotes;	/* remotes before the bind */
	char node[64];
	bool no_iommu;		/* no IOMMU: the bind must be refused */
	int refused;		/* the refusal was logged: 1, 0, -errno */
};

#define NEED_BOUND()							\
	do {								\
		if (self->bdf < 0)					\
			SKIP(return, "no pci-testdev");			\
		if (self->no_iommu)					\
			SKIP(return, "no IOMMU: the device is refused");\
	} while (0)

FIXTURE_SETUP(bind)
{
	self->fd = -1;
	self->obs = -1;
	self->bdf = find_testdev();
	if (self->bdf < 0)
		SKIP(return, "no pci-testdev in the machine (tests/vm/run --device pci-testdev)");
	self->obs = hm_open();
	ASSERT_LE(0, self->obs) TH_LOG("open " HM_DEV ": %s", strerror(errno));
	ASSERT_EQ(0, hm_info(self->obs, &self->first));
	self->remotes = self->first.num_remotes;
	ASSERT_FALSE(rv_pci_bound(self->bdf)) TH_LOG("pci-testdev already bound");

	if (!have_iommu()) {
		int kmsg = hm_kmsg_open();

		self->no_iommu = true;
		bind_override(self->bdf);
		self->refused = kmsg < 0 ? kmsg :
			hm_kmsg_wait(kmsg, "needs one to be a remote", 2000);
		if (kmsg >= 0)
			close(kmsg);
		return;
	}
	ASSERT_EQ(0, bind_override(self->bdf));
	self->fd = rv_open_bdf(self->obs, self->bdf, BIND_SECS);
	ASSERT_LE(0, self->fd) TH_LOG("no remote for the bound device: %s",
				      strerror(-self->fd));
	ASSERT_EQ(0, hm_info(self->fd, &self->info));
	rv_node_path(&self->info, self->node, sizeof(self->node));
}

FIXTURE_TEARDOWN(bind)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->bdf >= 0) {
		if (rv_pci_bound(self->bdf))
			EXPECT_EQ(0, rv_unbind(self->bdf));
		/* An empty override: hapmem does not take it at its next load. */
		EXPECT_EQ(0, set_override(self->bdf, "\n"));
		EXPECT_FALSE(rv_pci_bound(self->bdf));
	}
	if (self->obs >= 0) {
		struct hapmem_info in;

		EXPECT_EQ(0, hm_info(self->obs, &in));
		EXPECT_EQ(self->remotes, in.num_remotes);
		close(self->obs);
	}
}

/* The node, the remote's name and what info says of it. */
TEST_F(bind, node_and_info)
{
	char name[16], path[160], line[256], dev[32];
	struct stat st;
	bool seen = false;
	FILE *f;

	if (self->bdf < 0)
		SKIP(return, "no pci-testdev");
	if (self->no_iommu) {
		/* Refused, with the reason in the kernel log; no new remote. */
		EXPECT_FALSE(rv_pci_bound(self->bdf));
		EXPECT_EQ(1, self->refused);
		EXPECT_EQ(-ENOENT, rv_remote_by_bdf(self->obs, self->bdf, NULL));
		return;
	}
	remote_name(self->info.remote_index, name, sizeof(name));
	EXPECT_STREQ(name, self->info.name);
	ASSERT_EQ(0, stat(self->node, &st)) TH_LOG("%s", self->node);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ((uint32_t)self->bdf, self->info.pci_bdf);
	EXPECT_EQ(self->remotes + 1, self->info.num_remotes);
	EXPECT_NE(self->first.remote_index, self->info.remote_index);

	/* Its own IOMMU domain and windows; no DMA engine. */
	EXPECT_EQ(HAPMEM_REMOTE_IOMMU | HAPMEM_REMOTE_FIXED_VA,
		  self->info.remote_flags) TH_LOG("flags %#x", self->info.remote_flags);
	EXPECT_LT(self->info.va32_start, self->info.va32_end);
	EXPECT_GE(1ULL << 32, self->info.va32_end);
	EXPECT_NE(0, self->info.pgsize_bitmap & HM_PAGE);

	/* sysfs: bound to hapmem, in an IOMMU group. */
	EXPECT_TRUE(rv_pci_bound(self->bdf));
	rv_bdf_str(self->bdf, dev, sizeof(dev));
	snprintf(path, sizeof(path), RV_PCI "/devices/%s/iommu_group", dev);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s", path);

	/* debugfs agrees, and the remote has a translate file. */
	f = fopen(DBG "/remotes", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name) && strstr(line, "engine=no") &&
		    strstr(line, "iommu=yes"))
			seen = true;
	fclose(f);
	EXPECT_TRUE(seen) TH_LOG("remote %s not in " DBG "/remotes", name);
	snprintf(path, sizeof(path), DBG "/%s/translate", name);
	EXPECT_EQ(0, access(path, W_OK)) TH_LOG("%s", path);
}

/* No DMA engine: every remote access is EOPNOTSUPP, as documented. */
TEST_F(bind, remote_access_eopnotsupp)
{
	struct hapmem_request_map rm;
	unsigned char buf[64] = { 0 };
	uint32_t faults = 7;

	NEED_BOUND();
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm));
	EXPECT_EQ(-EOPNOTSUPP, hm_remote_read(self->fd, rm.vadsp, buf, sizeof(buf)));
	EXPECT_EQ(-EOPNOTSUPP, hm_remote_write(self->fd, rm.vadsp, buf, sizeof(buf)));
	EXPECT_EQ(-EOPNOTSUPP, hm_remote(self->fd, rm.vadsp, buf, sizeof(buf),
					 HAPMEM_ACCESS_RAW, &faults));
	EXPECT_EQ(0, faults);
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
}

/*
 * request_map of the caller's pages (ADD_PAGES with vin): each page of the
 * map translates, in the device's domain, to the page pagemap names; after
 * unmap nothing does.  A request_map the driver allocates maps too.
 */
TEST_F(bind, request_map_in_its_domain)
{
	struct hapmem_request_map rm;
	uint64_t phys[NPAGES], want[NPAGES];
	unsigned char *mem;

	NEED_BOUND();
	mem = mmap(NULL, NPAGES * HM_PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x33, NPAGES * HM_PAGE);
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES,
				(uintptr_t)mem, NPAGES * HM_PAGE, &rm));
	ASSERT_NE(0, rm.vadsp);
	for (unsigned int i = 0; i < NPAGES; i++) {
		want[i] = pagemap_phys(mem + i * HM_PAGE);
		ASSERT_NE(0, want[i]) TH_LOG("page %u: no pagemap PFN", i);
	}
	ASSERT_EQ(0, translate(self->info.name, rm.vadsp, NPAGES, phys));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_EQ(want[i], phys[i]) TH_LOG("page %u", i);
	}
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      NPAGES * HM_PAGE));
	ASSERT_EQ(0, translate(self->info.name, rm.vadsp, NPAGES, phys));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_EQ(0, phys[i]) TH_LOG("page %u still mapped", i);
	}
	munmap(mem, NPAGES * HM_PAGE);

	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_MAP_VA_HIGH, 0, 0, 0,
				NPAGES * HM_PAGE, &rm));
	EXPECT_LE(self->info.va64_start, rm.vadsp);
	ASSERT_EQ(0, translate(self->info.name, rm.vadsp, NPAGES, phys));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_NE(0, phys[i]) TH_LOG("page %u not mapped", i);
	}
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      NPAGES * HM_PAGE));
}

/* share_map of a dma-buf: its pages, in the device's domain. */
TEST_F(bind, share_map_in_its_domain)
{
	uint64_t vadsp = 0, phys[NPAGES];
	struct refbuf rb;
	int ret;

	NEED_BOUND();
	ret = refbuf_make(self->fd, &rb);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "neither /dev/udmabuf nor /proc/kcore");
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	TH_LOG("pages told by %s", rb.kcore ? "/proc/kcore" : "udmabuf + pagemap");
	ASSERT_EQ(0, hm_share(self->fd, rb.fd, 0, 0, 0, &vadsp));
	ASSERT_EQ(0, translate(self->info.name, vadsp, NPAGES, phys));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_TRUE(refbuf_is(&rb, i, phys[i]))
			TH_LOG("page %u at %#llx", i, (unsigned long long)phys[i]);
	}
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, vadsp,
			      NPAGES * HM_PAGE));
	refbuf_free(&rb);
}

/* dma_handle_map: the same, and a second map of the range is the same one. */
TEST_F(bind, dma_handle_map_in_its_domain)
{
	struct hapmem_dma_handle_map dh;
	struct hapmem_dma_handle_unmap du;
	uint64_t phys[NPAGES];
	struct refbuf rb;
	int ret;

	NEED_BOUND();
	ret = refbuf_make(self->fd, &rb);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "neither /dev/udmabuf nor /proc/kcore");
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	memset(&dh, 0, sizeof(dh));
	dh.fd = rb.fd;
	dh.len = NPAGES * HM_PAGE;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dh));
	EXPECT_EQ(1, dh.refs);
	ASSERT_EQ(0, translate(self->info.name, dh.vadsp, NPAGES, phys));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_TRUE(refbuf_is(&rb, i, phys[i]))
			TH_LOG("page %u at %#llx", i, (unsigned long long)phys[i]);
	}
	{
		struct hapmem_dma_handle_map again = dh;

		again.vadsp = 0;
		again.refs = 0;
		memset(&again.chunks, 0, sizeof(again.chunks));
		ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &again));
		EXPECT_EQ(dh.vadsp, again.vadsp);
		EXPECT_EQ(2, again.refs);
	}
	for (unsigned int left = 2; left-- > 0;) {
		memset(&du, 0, sizeof(du));
		du.fd = rb.fd;
		du.len = NPAGES * HM_PAGE;
		EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
		EXPECT_EQ(left, du.refs);
	}
	ASSERT_EQ(0, translate(self->info.name, dh.vadsp, NPAGES, phys));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_EQ(0, phys[i]) TH_LOG("page %u still mapped", i);
	}
	refbuf_free(&rb);
}

/*
 * Two remotes, two domains: a buffer mapped on the bound device only is
 * reached in no page through the first remote's domain at that address;
 * mapped on both, both domains name the same pages, and the first
 * remote's DMA engine (when it has one) reads the CPU's bytes there.
 */
TEST_F(bind, distinct_domains)
{
	uint64_t vt = 0, ve = 0, pt[NPAGES], pe[NPAGES];
	unsigned char got[64];
	int buf;

	NEED_BOUND();
	if (!(self->first.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "the first remote has no IOMMU domain");
	buf = hm_alloc(self->fd, NPAGES * HM_PAGE, HAPMEM_ION_FLAG_CACHED);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_share(self->fd, buf, 0, 0, 0, &vt));
	ASSERT_EQ(0, translate(self->info.name, vt, NPAGES, pt));
	ASSERT_EQ(0, translate(self->first.name, vt, NPAGES, pe));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_NE(0, pt[i]);
		for (unsigned int j = 0; j < NPAGES; j++) {
			EXPECT_NE(pt[j], pe[i]) TH_LOG("%s reaches page %u at %#llx",
						       self->first.name, j,
						       (unsigned long long)vt);
		}
	}

	ASSERT_EQ(0, hm_share(self->obs, buf, 0, 0, 0, &ve));
	ASSERT_EQ(0, translate(self->first.name, ve, NPAGES, pe));
	for (unsigned int i = 0; i < NPAGES; i++) {
		EXPECT_EQ(pt[i], pe[i]) TH_LOG("page %u", i);
	}
	if (self->first.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) {
		unsigned char *cpu = mmap(NULL, NPAGES * HM_PAGE,
					  PROT_READ | PROT_WRITE, MAP_SHARED,
					  buf, 0);

		ASSERT_NE(MAP_FAILED, cpu);
		hm_fill(cpu + 5 * HM_PAGE, sizeof(got), 77);
		EXPECT_EQ(0, hm_remote_read(self->obs, ve + 5 * HM_PAGE, got,
					    sizeof(got)));
		EXPECT_EQ(0, hm_check(got, sizeof(got), 77));
		munmap(cpu, NPAGES * HM_PAGE);
	}
	EXPECT_EQ(0, hm_unmap(self->obs, HAPMEM_IOC_SHARE_UNMAP, ve, NPAGES * HM_PAGE));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, vt, NPAGES * HM_PAGE));
	close(buf);
}

/*
 * Unbind revokes: the node and the debugfs directory go, the session's
 * ioctls answer ENODEV, its maps are released; the same device bound
 * again is a working remote under the same name.
 */
TEST_F(bind, unbind_revokes_and_rebind_works)
{
	struct hapmem_request_map rm;
	struct hapmem_info in, before;
	uint64_t vadsp = 0, phys[1];
	char dbg[128], name[16];
	int buf;

	NEED_BOUND();
	ASSERT_EQ(0, hm_info(self->obs, &before));
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, 4 * HM_PAGE, &rm));
	buf = hm_alloc(self->fd, 4 * HM_PAGE, 0);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_share(self->fd, buf, 0, 0, 0, &vadsp));
	ASSERT_EQ(0, hm_info(self->obs, &in));
	EXPECT_EQ(before.global_maps + 2, in.global_maps);

	snprintf(name, sizeof(name), "%s", self->info.name);
	snprintf(dbg, sizeof(dbg), DBG "/%s", name);
	ASSERT_EQ(0, access(dbg, F_OK));
	ASSERT_EQ(0, rv_unbind(self->bdf));
	EXPECT_FALSE(rv_pci_bound(self->bdf));
	EXPECT_NE(0, access(self->node, F_OK)) TH_LOG("%s still there", self->node);
	EXPECT_NE(0, access(dbg, F_OK)) TH_LOG("%s still there", dbg);
	EXPECT_EQ(-ENODEV, hm_info(self->fd, &in));
	EXPECT_EQ(-ENODEV, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm));
	EXPECT_EQ(-ENODEV, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, vadsp,
				    4 * HM_PAGE));
	/* The maps went with the remote; the buffer stays CPU memory. */
	ASSERT_EQ(0, hm_info(self->obs, &in));
	EXPECT_EQ(before.global_maps, in.global_maps);
	EXPECT_EQ(self->remotes, in.num_remotes);
	close(buf);
	close(self->fd);
	self->fd = -1;

	/* driver_override still says hapmem: drivers_probe binds it again. */
	ASSERT_EQ(0, rv_pci_write(self->bdf, RV_PCI "/drivers_probe", NULL));
	self->fd = rv_open_bdf(self->obs, self->bdf, BIND_SECS);
	ASSERT_LE(0, self->fd) TH_LOG("no remote after rebind: %s", strerror(-self->fd));
	ASSERT_EQ(0, hm_info(self->fd, &in));
	EXPECT_STREQ(name, in.name);
	EXPECT_EQ(0, in.remote_flags & HAPMEM_REMOTE_DMA_ENGINE);
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm));
	ASSERT_EQ(0, translate(name, rm.vadsp, 1, phys));
	EXPECT_NE(0, phys[0]);
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
}

/* One write to an open translate file: 0 or -errno. */
static int xlate_write(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));

	if (n < 0)
		return -errno;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* The lines one read of an open translate file reports, or -errno. */
static int xlate_lines(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	int lines = 0;

	if (n < 0)
		return -errno;
	buf[n] = 0;
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

/*
 * translate takes "VADSP [PAGES]" inside the remote's windows only: a
 * range past their end (where a page-table walk may alias a lower
 * address) or past 2^64 is refused, as are 0 or too many pages, and a
 * refused write leaves the previous request in place.
 */
TEST_F(bind, translate_rejects_bad_ranges)
{
	uint64_t top = self->info.va64_end ? self->info.va64_end :
		       self->info.va32_end;
	static char buf[1 << 17];
	char path[128], cmd[96];
	int fd;

	NEED_BOUND();
	snprintf(path, sizeof(path), DBG "/%s/translate", self->info.name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));

	ASSERT_EQ(0, xlate_write(fd, "0x1000 1024"));
	EXPECT_EQ(1024, xlate_lines(fd, buf, sizeof(buf)));
	snprintf(cmd, sizeof(cmd), "%#llx 1", (unsigned long long)top - HM_PAGE);
	EXPECT_EQ(0, xlate_write(fd, cmd)) TH_LOG("last page %s", cmd);

	EXPECT_EQ(-EINVAL, xlate_write(fd, "0xfffffffffffff000 2"));
	EXPECT_EQ(-EINVAL, xlate_write(fd, "0xffffffffffffffff"));
	EXPECT_EQ(-EINVAL, xlate_write(fd, "0x8000000000001000 1"));
	snprintf(cmd, sizeof(cmd), "%#llx 1", (unsigned long long)top);
	EXPECT_EQ(-EINVAL, xlate_write(fd, cmd)) TH_LOG("past the end %s", cmd);
	snprintf(cmd, sizeof(cmd), "%#llx 2", (unsigned long long)top - HM_PAGE);
	EXPECT_EQ(-EINVAL, xlate_write(fd, cmd)) TH_LOG("across the end %s", cmd);
	snprintf(cmd, sizeof(cmd), "%#llx 1",
		 (unsigned long long)(top + self->info.va32_start));
	EXPECT_EQ(-EINVAL, xlate_write(fd, cmd)) TH_LOG("alias %s", cmd);
	EXPECT_EQ(-EINVAL, xlate_write(fd, "0x1000 0"));
	EXPECT_EQ(-EINVAL, xlate_write(fd, "0x1000 1025"));
	EXPECT_EQ(-ERANGE, xlate_write(fd, "0x1000 99999999999"));
	EXPECT_EQ(-EINVAL, xlate_write(fd, "zz"));
	memset(cmd, '1', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	EXPECT_EQ(-EINVAL, xlate_write(fd, cmd));

	/* The last accepted request still stands: one line, the last page. */
	ASSERT_EQ(1, xlate_lines(fd, buf, sizeof(buf)));
	EXPECT_EQ(top - HM_PAGE, strtoull(buf, NULL, 16));
	close(fd);
}

struct xlate_reader {
	int fd;
	int err;		/* the error that ended the reads */
	unsigned long reads;	/* complete reads before it */
};

static void *xlate_reader_run(void *arg)
{
	struct xlate_reader *x = arg;
	static char buf[1 << 17];
	int n;

	while ((n = xlate_lines(x->fd, buf, sizeof(buf))) == 1024)
		x->reads++;
	x->err = n < 0 ? n : -EPROTO;
	return NULL;
}

/*
 * A translate file kept open across the unbind: a reader busy in it while
 * the device goes, and the file used after that, fail with EIO and never
 * reach the freed remote or its domain (KASAN on the debug kernel).
 */
TEST_F(bind, translate_open_across_unbind)
{
	struct xlate_reader x = { .fd = -1 };
	struct hapmem_request_map rm;
	char path[128], buf[128];
	pthread_t th;
	int fd2;

	NEED_BOUND();
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, NPAGES * HM_PAGE, &rm));
	snprintf(path, sizeof(path), DBG "/%s/translate", self->info.name);
	x.fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, x.fd) TH_LOG("%s: %s", path, strerror(errno));
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	snprintf(buf, sizeof(buf), "%#llx 1024", (unsigned long long)rm.vadsp);
	ASSERT_EQ(0, xlate_write(x.fd, buf));
	ASSERT_EQ(0, pthread_create(&th, NULL, xlate_reader_run, &x));
	usleep(300 * 1000);
	ASSERT_EQ(0, rv_unbind(self->bdf));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EIO, x.err);
	EXPECT_LT(0, x.reads);
	EXPECT_EQ(-EIO, xlate_lines(x.fd, buf, sizeof(buf)));
	EXPECT_EQ(-EIO, xlate_write(fd2, "0x1000 1"));
	EXPECT_EQ(-EIO, xlate_lines(fd2, buf, sizeof(buf)));
	EXPECT_NE(0, access(path, F_OK));
	close(x.fd);
	close(fd2);
}

struct mapper {
	int fd;
	int err;		/* the error that stopped it */
	unsigned long maps;	/* maps made and unmapped before it */
};

static void *mapper_run(void *arg)
{
	struct mapper *m = arg;
	struct hapmem_request_map rm;
	int ret;

	for (;;) {
		ret = hm_request(m->fd, 0, 0, 0, 0, 64 * HM_PAGE, &rm);
		if (ret)
			break;
		ret = hm_unmap(m->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			       64 * HM_PAGE);
		/* The revoke may take the map first. */
		if (ret)
			break;
		m->maps++;
	}
	m->err = ret;
	return NULL;
}

/*
 * Unbind while sessions of the device map and unmap in a loop: each call
 * completes or answers ENODEV, no map outlives the remote, and the device
 * bound again is the same remote name, working.
 */
TEST_F(bind, unbind_during_ioctls)
{
	struct mapper m[3];
	pthread_t th[3];
	struct hapmem_info before, in;
	char name[16];
	int fd;

	NEED_BOUND();
	ASSERT_EQ(0, hm_info(self->obs, &before));
	snprintf(name, sizeof(name), "%s", self->info.name);
	for (unsigned int i = 0; i < 3; i++) {
		m[i] = (struct mapper){ .fd = i ? hm_open_dev(self->node) : self->fd };
		ASSERT_LE(0, m[i].fd);
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mapper_run, &m[i]));
	}
	usleep(500 * 1000);
	ASSERT_EQ(0, rv_unbind(self->bdf));
	for (unsigned int i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(-ENODEV, m[i].err) TH_LOG("thread %u: %s after %lu maps",
						    i, strerror(-m[i].err), m[i].maps);
		EXPECT_LT(0, m[i].maps);
		if (i)
			close(m[i].fd);
	}
	ASSERT_EQ(0, hm_info(self->obs, &in));
	EXPECT_EQ(before.global_maps, in.global_maps);
	EXPECT_EQ(self->remotes, in.num_remotes);
	close(self->fd);
	self->fd = -1;

	ASSERT_EQ(0, rv_pci_write(self->bdf, RV_PCI "/drivers_probe", NULL));
	fd = rv_open_bdf(self->obs, self->bdf, BIND_SECS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hm_info(fd, &in));
	EXPECT_STREQ(name, in.name);
	EXPECT_EQ(0, hm_session_works(fd, 3));
	close(fd);
}

static int mod_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	/* As tests/vm/init loads it. */
	ret = syscall(SYS_finit_module, fd, "allow_remote_access=1", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int mod_unload(void)
{
	return syscall(SYS_delete_module, "hapmem", O_NONBLOCK) ? -errno : 0;
}

/*
 * The module unloaded with the foreign device bound: an open translate
 * file pins it (its fops' owner), then the unload revokes the remote and
 * leaves the device unbound, and at the next load driver_override binds
 * the device again as the same remote.
 */
TEST_F(bind, module_unload_with_device_bound)
{
	const char *ko = getenv("HAPMEM_KO");
	struct hapmem_info in;
	char path[128];
	int x, fd;

	NEED_BOUND();
	if (!ko || access(ko, R_OK))
		SKIP(return, "no module file ($HAPMEM_KO unset or unreadable)");
	snprintf(path, sizeof(path), DBG "/%s/translate", self->info.name);
	x = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, x);
	close(self->fd);
	self->fd = -1;
	close(self->obs);
	self->obs = -1;
	EXPECT_EQ(-EWOULDBLOCK, mod_unload());
	close(x);
	ASSERT_EQ(0, mod_unload());
	EXPECT_FALSE(rv_pci_bound(self->bdf));
	EXPECT_NE(0, access(DBG, F_OK));
	EXPECT_NE(0, access(self->node, F_OK));

	ASSERT_EQ(0, mod_load(ko));
	self->obs = hm_open();
	ASSERT_LE(0, self->obs);
	fd = rv_open_bdf(self->obs, self->bdf, BIND_SECS);
	ASSERT_LE(0, fd) TH_LOG("not bound again at load: %s", strerror(-fd));
	ASSERT_EQ(0, hm_info(fd, &in));
	EXPECT_STREQ(self->info.name, in.name);
	EXPECT_EQ(0, hm_session_works(fd, 5));
	close(fd);
	ASSERT_EQ(0, access(path, F_OK));
}

/* new_id binds the device too (without driver_override), remove_id undoes it. */
TEST_F(bind, new_id_binds)
{
	struct hapmem_info in;
	char id[32];
	int fd;

	NEED_BOUND();
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, rv_unbind(self->bdf));
	ASSERT_EQ(0, set_override(self->bdf, "\n"));
	snprintf(id, sizeof(id), "%04x %04x", TESTDEV_VENDOR, TESTDEV_DEVICE);
	ASSERT_EQ(0, rv_write_file(RV_PCI "/drivers/hapmem/new_id", id));
	fd = rv_open_bdf(self->obs, self->bdf, BIND_SECS);
	EXPECT_LE(0, fd) TH_LOG("new_id did not bind: %s", strerror(-fd));
	EXPECT_EQ(0, rv_write_file(RV_PCI "/drivers/hapmem/remove_id", id));
	if (fd < 0)
		return;
	ASSERT_EQ(0, hm_info(fd, &in));
	EXPECT_EQ((uint32_t)self->bdf, in.pci_bdf);
	EXPECT_EQ(HAPMEM_REMOTE_IOMMU | HAPMEM_REMOTE_FIXED_VA, in.remote_flags);
	EXPECT_EQ(0, hm_session_works(fd, 3));
	close(fd);
	EXPECT_EQ(0, rv_unbind(self->bdf));
	/* remove_id took the id away: a probe no longer binds it. */
	rv_pci_write(self->bdf, RV_PCI "/drivers_probe", NULL);
	EXPECT_FALSE(rv_pci_bound(self->bdf));
}

TEST_HARNESS_MAIN
