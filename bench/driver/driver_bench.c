// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver benchmark, run in the test VM on the distro kernel:
 *
 *   tests/vm/run -- build/bench/driver_bench [SECONDS_PER_SIZE]
 *
 * Raw ioctls on /dev/hapmem (uapi/linux/hapmem.h), except the HAP heap
 * figures, which go through libhapmem's HAP_malloc and its driver backend.
 * Prints "name: value" lines between "drvbench: begin" and
 * "drvbench: end"; lines starting with '#' are information.
 * Times from CLOCK_MONOTONIC; every figure is a median of repeats.
 *
 * What the request_map throughput is compared with: the driver must hand
 * out zeroed memory, so zeroing the same bytes is the bound.  The headline
 * peer is memset() of memory that is already faulted in but not in the
 * cache (a rotating 256 MiB pool), i.e. the zeroing alone.  Beside it:
 * memset of the same hot buffer, mmap+memset+munmap of fresh memory
 * (first touch: page faults, the kernel's zeroing and then memset's) and
 * mmap(MAP_POPULATE)+munmap (the kernel's own alloc+zero, no IOMMU).
 *
 * Where the kernel has /dev/dma_heap/system (the 6.12 VM), the driver's
 * real peer is measured too, alternated with request_map in the same run:
 * a dma-heap buffer's alloc + close (zeroed pages, an sg table, a dma-buf
 * file; no device mapping) against request_map + request_unmap (the same,
 * plus the IOMMU map and its unmap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/hapmem.h>

#include "HAP_mem.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define POOL_BYTES (256 * MiB)
#define MAX_SAMPLES 4096

static int dev = -1;
static double budget_s = 1.0;	/* per size, for the throughput loop */

static void die(const char *what)
{
	fprintf(stderr, "driver_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void put(const char *name, double v)
{
	printf("%s: %.4g\n", name, v);
	fflush(stdout);
}

static void putf(double v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(double v, const char *fmt, ...)
{
	char name[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	put(name, v);
}

/* Size names: 4k, 64k, 1m, 64m. */
static const char *sz(uint64_t n)
{
	static char buf[4][16];
	static int i;
	char *b = buf[i++ & 3];

	if (n >= MiB)
		snprintf(b, 16, "%llum", (unsigned long long)(n / MiB));
	else
		snprintf(b, 16, "%lluk", (unsigned long long)(n / KiB));
	return b;
}

/* ---- raw ioctls ---------------------------------------------------- */

static int ioc(unsigned long req, void *arg, uint32_t size)
{
	*(uint32_t *)arg = size;
	return ioctl(dev, req, arg) ? -errno : 0;
}

static int nop(void)
{
	struct hapmem_nop n = { 0 };

	return ioc(HAPMEM_IOC_NOP, &n, sizeof(n));
}

static int req_map(uint64_t len, struct hapmem_request_map *m)
{
	memset(m, 0, sizeof(*m));
	m->heap_id = HAPMEM_HEAP_ID_DEFAULT;
	m->ion_flags = HAPMEM_ION_FLAG_CACHED;
	m->rflags = 0;
	m->len = len;
	return ioc(HAPMEM_IOC_REQUEST_MAP, m, sizeof(*m));
}

static int unmap(unsigned long req, uint64_t vadsp, uint64_t len)
{
	struct hapmem_unmap u = { .vadsp = vadsp, .len = len };

	return ioc(req, &u, sizeof(u));
}

static uint64_t map_or_die(uint64_t len, struct hapmem_chunks *c)
{
	struct hapmem_request_map m;
	int ret = req_map(len, &m);

	if (ret) {
		errno = -ret;
		die("request_map");
	}
	if (c)
		*c = m.chunks;
	return m.vadsp;
}

static void unmap_or_die(uint64_t vadsp, uint64_t len)
{
	int ret = unmap(HAPMEM_IOC_REQUEST_UNMAP, vadsp, len);

	if (ret) {
		errno = -ret;
		die("request_unmap");
	}
}

/* ---- sections ------------------------------------------------------ */

static void info(void)
{
	struct hapmem_info in = { .remote = HAPMEM_INFO_SELF };
	struct utsname u;
	char line[256];
	FILE *f;

	if (!uname(&u))
		printf("# kernel %s\n", u.release);
	if (ioc(HAPMEM_IOC_INFO, &in, sizeof(in)))
		die("info");
	printf("# remote %s, %u remote(s), flags 0x%x, pgsize_bitmap 0x%llx\n",
	       in.name, in.num_remotes, in.remote_flags,
	       (unsigned long long)in.pgsize_bitmap);
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("# clocksource %s", line);
	if (f)
		fclose(f);
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("# thp %s", line);
	if (f)
		fclose(f);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			printf("# cpu%s", strchr(line, ':') + 1);
			break;
		}
	if (f)
		fclose(f);
}

/* IOMMU chunking of a 64 MiB map: first thing in the run (a fresh VM). */
static void chunking(const char *key)
{
	struct hapmem_chunks c;
	uint64_t len = 64 * MiB, va = map_or_die(len, &c);
	double b2m = (double)c.n_2m * 2 * MiB;

	unmap_or_die(va, len);
	putf(c.n_2m, "%s_2m_chunks", key);
	putf(c.n_64k, "%s_64k_chunks", key);
	putf(c.n_4k, "%s_4k_chunks", key);
	putf(b2m / len, "%s_2m_chunk_fraction", key);
}

static double clock_cost_ns(void)
{
	double s[15];
	int i, k;

	for (i = 0; i < 15; i++) {
		double t0 = now_ns(), t1;

		for (k = 0; k < 1000; k++)
			t1 = now_ns();
		s[i] = (t1 - t0) / 1000;
	}
	return median(s, 15);
}

/* Per-op time of @fn over batches of @batch calls: median of @rounds. */
static double batch_ns(int (*fn)(void), int batch, int rounds)
{
	double s[64];
	int i, k;

	for (i = 0; i < rounds; i++) {
		double t0 = now_ns();

		for (k = 0; k < batch; k++)
			if (fn())
				die("batched ioctl");
		s[i] = (now_ns() - t0) / batch;
	}
	return median(s, rounds);
}

static int map_unmap_4k(void)
{
	struct hapmem_request_map m;
	int ret = req_map(4 * KiB, &m);

	return ret ? ret : unmap(HAPMEM_IOC_REQUEST_UNMAP, m.vadsp, 4 * KiB);
}

/*
 * What a 4 KiB request_map + unmap is made of, each part timed alone
 * (batched, per operation):
 *   alloc+close   a new hapmem dma-buf (pages, sg table, file, inode) and
 *                 its release: the buffer, without any device mapping;
 *   share         share_map + share_unmap of an existing 4 KiB buffer:
 *                 attach + DMA map of the attachment + IOVA + IOMMU map,
 *                 and back (IOTLB flush included);
 *   share-attached the same with a second map of the buffer kept, so the
 *                 attachment is reused: IOVA + IOMMU + session only.
 */
static int part_fd = -1;

static int alloc_close_4k(void)
{
	struct hapmem_alloc a = { .len = 4 * KiB, .flags = HAPMEM_ION_FLAG_CACHED };
	int ret = ioc(HAPMEM_IOC_ALLOC, &a, sizeof(a));

	if (!ret)
		close(a.fd);
	return ret;
}

static int share_4k(void)
{
	struct hapmem_share_map s = { .fd = part_fd };
	int ret = ioc(HAPMEM_IOC_SHARE_MAP, &s, sizeof(s));

	return ret ? ret : unmap(HAPMEM_IOC_SHARE_UNMAP, s.vadsp, 4 * KiB);
}

static void roundtrip_parts(double null_ns)
{
	struct hapmem_alloc a = { .len = 4 * KiB, .flags = HAPMEM_ION_FLAG_CACHED };
	struct hapmem_share_map keep = { 0 };
	double t;

	t = batch_ns(alloc_close_4k, 200, 15);
	put("buffer_4k_alloc_close_ns", t);
	put("buffer_4k_alloc_close_over_null_ioctl", t / null_ns);
	if (ioc(HAPMEM_IOC_ALLOC, &a, sizeof(a)))
		die("alloc 4k");
	part_fd = a.fd;
	t = batch_ns(share_4k, 200, 15);
	put("share_4k_roundtrip_ns", t);
	put("share_4k_roundtrip_over_null_ioctl", t / null_ns);
	keep.fd = a.fd;
	if (ioc(HAPMEM_IOC_SHARE_MAP, &keep, sizeof(keep)))
		die("share_map keep");
	t = batch_ns(share_4k, 200, 15);
	put("share_4k_attached_roundtrip_ns", t);
	put("share_4k_attached_roundtrip_over_null_ioctl", t / null_ns);
	if (unmap(HAPMEM_IOC_SHARE_UNMAP, keep.vadsp, 4 * KiB))
		die("share_unmap keep");
	close(a.fd);
	part_fd = -1;
}

/*
 * memset() of one hot 4 KiB page in user space, batched, beside the round
 * trip.  (The guest kernel zeroes every page it allocates, init_on_alloc,
 * with clear_page(): under TCG its "rep stosb" costs several times this
 * user-space memset, so this is not the floor of a map's zeroing there.)
 */
static char zero_page[4096] __attribute__((aligned(4096)));

static int memset_4k(void)
{
	memset(zero_page, 0, sizeof(zero_page));
	__asm__ volatile("" : : "r"(zero_page) : "memory");
	return 0;
}

static void roundtrip(void)
{
	double null_ns, rt_ns, mp[400], um[400], nb[15], rb[15], ratio[15];
	double zb[15], zratio[15];
	int i;

	for (i = 0; i < 200; i++)	/* warm up */
		if (nop() || map_unmap_4k())
			die("warm-up");
	/*
	 * Batches of each, alternated, so that a change in the host's load
	 * hits both: the ratio is the median of the per-round ratios.
	 */
	for (i = 0; i < 15; i++) {
		nb[i] = batch_ns(nop, 2000, 1);
		rb[i] = batch_ns(map_unmap_4k, 200, 1);
		ratio[i] = rb[i] / nb[i];
		zb[i] = batch_ns(memset_4k, 2000, 1);
		zratio[i] = rb[i] / zb[i];
	}
	null_ns = median(nb, 15);
	rt_ns = median(rb, 15);
	put("memset_4k_ns", median(zb, 15));
	put("memset_4k_over_null_ioctl", median(zb, 15) / null_ns);
	put("map_4k_roundtrip_over_memset_4k", median(zratio, 15));
	for (i = 0; i < 400; i++) {
		struct hapmem_request_map m;
		double t0 = now_ns(), t1, t2;

		if (req_map(4 * KiB, &m))
			die("request_map 4k");
		t1 = now_ns();
		unmap_or_die(m.vadsp, 4 * KiB);
		t2 = now_ns();
		mp[i] = t1 - t0;
		um[i] = t2 - t1;
	}
	put("null_ioctl_ns", null_ns);
	put("map_4k_roundtrip_ns", rt_ns);
	put("map_4k_map_ns", median(mp, 400));
	put("map_4k_unmap_ns", median(um, 400));
	put("map_4k_roundtrip_over_null_ioctl", median(ratio, 15));
	put("map_4k_roundtrip_median_op_over_null_ioctl",
	    (median(mp, 400) + median(um, 400)) / null_ns);
	roundtrip_parts(null_ns);
}

/* request_map throughput against the zeroing peers, one size. */
struct tput {
	uint64_t size;
	double map, unmap, rt, set_hot, set_cold, first, populate;
};

static void throughput_one(char *pool, uint64_t size, struct tput *out)
{
	static double mp[MAX_SAMPLES], um[MAX_SAMPLES], rt[MAX_SAMPLES];
	static double hot[MAX_SAMPLES], cold[MAX_SAMPLES], ft[MAX_SAMPLES], pop[MAX_SAMPLES];
	static uint64_t cursor;
	int n = 0, min_reps = 5;
	double start = now_ns();

	while (n < MAX_SAMPLES &&
	       (n < min_reps || now_ns() - start < budget_s * 1e9)) {
		struct hapmem_request_map m;
		double t0, t1, t2;
		char *p;

		/* hapmem: alloc + zero + map for the remote, then unmap */
		t0 = now_ns();
		if (req_map(size, &m))
			die("request_map");
		t1 = now_ns();
		unmap_or_die(m.vadsp, size);
		t2 = now_ns();
		mp[n] = t1 - t0;
		um[n] = t2 - t1;
		rt[n] = t2 - t0;

		/* memset of faulted-in memory that is not in the cache */
		if (cursor + size > POOL_BYTES)
			cursor = 0;
		p = pool + cursor;
		cursor += size;
		t0 = now_ns();
		memset(p, 0, size);
		cold[n] = now_ns() - t0;
		__asm__ volatile("" : : "r"(p) : "memory");

		/* memset of the same, hot buffer (the pool's last slot) */
		p = pool + POOL_BYTES - size;
		t0 = now_ns();
		memset(p, 0, size);
		hot[n] = now_ns() - t0;
		__asm__ volatile("" : : "r"(p) : "memory");

		/* fresh memory: mmap + memset (first touch) + munmap */
		t0 = now_ns();
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		memset(p, 0, size);
		__asm__ volatile("" : : "r"(p) : "memory");
		munmap(p, size);
		ft[n] = now_ns() - t0;

		/* the kernel's alloc + zero: mmap(MAP_POPULATE) + munmap */
		t0 = now_ns();
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			die("mmap populate");
		munmap(p, size);
		pop[n] = now_ns() - t0;
		n++;
	}
	out->size = size;
	out->map = median(mp, n);
	out->unmap = median(um, n);
	out->rt = median(rt, n);
	out->set_cold = median(cold, n);
	out->set_hot = median(hot, n);
	out->first = median(ft, n);
	out->populate = median(pop, n);
	printf("# %s: %d repeats\n", sz(size), n);
}

/* MiB/s for @bytes in @ns */
static double mibps(uint64_t bytes, double ns)
{
	return ns > 0 ? (double)bytes / MiB / (ns / 1e9) : 0;
}

static void throughput(void)
{
	struct tput t[16];
	int n = 0, i;
	uint64_t s;
	char *pool;

	pool = mmap(NULL, POOL_BYTES, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (pool == MAP_FAILED)
		die("mmap pool");
	memset(pool, 1, POOL_BYTES);

	for (s = 4 * KiB; s <= 64 * MiB; s *= 4)
		throughput_one(pool, s, &t[n++]);
	munmap(pool, POOL_BYTES);

	for (i = 0; i < n; i++) {
		const char *k = sz(t[i].size);

		putf(t[i].map / 1e3, "map_%s_map_us", k);
		putf(t[i].unmap / 1e3, "map_%s_unmap_us", k);
		putf(mibps(t[i].size, t[i].rt), "map_%s_mibps", k);
		putf(mibps(t[i].size, t[i].map), "map_%s_maponly_mibps", k);
		putf(mibps(t[i].size, t[i].set_cold), "memset_%s_mibps", k);
		putf(mibps(t[i].size, t[i].set_hot), "memset_hot_%s_mibps", k);
		putf(mibps(t[i].size, t[i].first), "memset_firsttouch_%s_mibps", k);
		putf(mibps(t[i].size, t[i].populate), "mmap_populate_%s_mibps", k);
		putf(t[i].set_cold / t[i].rt, "map_%s_ratio_vs_memset", k);
	}
	i = n - 1;	/* 64 MiB */
	put("map_64m_maponly_ratio_vs_memset", t[i].set_cold / t[i].map);
	put("map_64m_ratio_vs_memset_hot", t[i].set_hot / t[i].rt);
	put("map_64m_ratio_vs_memset_firsttouch", t[i].first / t[i].rt);
	put("map_64m_ratio_vs_mmap_populate", t[i].populate / t[i].rt);

	/* plot data (the guest keeps no files): size, then MiB/s of each */
	for (i = 0; i < n; i++)
		printf("plot_tput %llu %.1f %.1f %.1f %.1f %.1f\n",
		       (unsigned long long)t[i].size,
		       mibps(t[i].size, t[i].rt), mibps(t[i].size, t[i].set_cold),
		       mibps(t[i].size, t[i].set_hot), mibps(t[i].size, t[i].first),
		       mibps(t[i].size, t[i].populate));
}

/* The cost of one unmap (and one map) with N live 4 KiB maps. */
static uint64_t lcg_state = 12345;
static uint32_t lcg(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return lcg_state >> 33;
}

static void scale(void)
{
	/* fine steps at the low end show where the cost steps up */
	static const int levels[] = { 1, 4, 8, 10, 12, 16, 20, 24, 32, 64, 100, 1000, 10000 };
	enum { NL = sizeof(levels) / sizeof(levels[0]), REPS = 300 };
	static uint64_t live[10000];
	double um[REPS], mp[REPS], res[NL], r10 = 0, r1k = 0, r10k = 0;
	int nlive = 0, l, i;

	for (l = 0; l < NL; l++) {
		while (nlive < levels[l])
			live[nlive++] = map_or_die(4 * KiB, NULL);
		for (i = 0; i < REPS; i++) {
			int victim = lcg() % nlive;
			double t0 = now_ns(), t1;

			unmap_or_die(live[victim], 4 * KiB);
			t1 = now_ns();
			live[victim] = map_or_die(4 * KiB, NULL);
			um[i] = t1 - t0;
			mp[i] = now_ns() - t1;
		}
		res[l] = median(um, REPS);
		putf(res[l], "unmap_live%d_ns", levels[l]);
		putf(median(mp, REPS), "map_live%d_ns", levels[l]);
		printf("plot_scale %d %.0f %.0f\n", levels[l], res[l], median(mp, REPS));
		if (levels[l] == 10)
			r10 = res[l];
		if (levels[l] == 1000)
			r1k = res[l];
		if (levels[l] == 10000)
			r10k = res[l];
	}
	while (nlive)
		unmap_or_die(live[--nlive], 4 * KiB);
	put("unmap_1k_over_10", r1k / r10);
	put("unmap_10k_over_10", r10k / r10);
}

/* share_map / dma_handle_map of an existing 1 MiB buffer. */
static void sharing(void)
{
	struct hapmem_alloc a = { .len = MiB, .flags = HAPMEM_ION_FLAG_CACHED };
	double sm[200], su[200], dm[200], du[200], wm[200];
	struct hapmem_share_map keep;
	int i, ret;

	if (ioc(HAPMEM_IOC_ALLOC, &a, sizeof(a)))
		die("alloc");
	for (i = 0; i < 200; i++) {
		struct hapmem_share_map s = { .fd = a.fd };
		struct hapmem_dma_handle_map d = { .fd = a.fd, .len = MiB };
		struct hapmem_dma_handle_unmap du_ = { .fd = a.fd, .len = MiB };
		double t0 = now_ns(), t1, t2;

		if (ioc(HAPMEM_IOC_SHARE_MAP, &s, sizeof(s)))
			die("share_map");
		t1 = now_ns();
		if (unmap(HAPMEM_IOC_SHARE_UNMAP, s.vadsp, MiB))
			die("share_unmap");
		t2 = now_ns();
		sm[i] = t1 - t0;
		su[i] = t2 - t1;

		t0 = now_ns();
		if (ioc(HAPMEM_IOC_DMA_HANDLE_MAP, &d, sizeof(d)))
			die("dma_handle_map");
		t1 = now_ns();
		if (ioc(HAPMEM_IOC_DMA_HANDLE_UNMAP, &du_, sizeof(du_)) || du_.refs)
			die("dma_handle_unmap");
		t2 = now_ns();
		dm[i] = t1 - t0;
		du[i] = t2 - t1;
	}
	put("share_map_1m_map_ns", median(sm, 200));
	put("share_map_1m_unmap_ns", median(su, 200));
	put("dma_handle_map_1m_map_ns", median(dm, 200));
	put("dma_handle_map_1m_unmap_ns", median(du, 200));

	/* with one map of the buffer kept: the attachment is reused */
	memset(&keep, 0, sizeof(keep));
	keep.fd = a.fd;
	if (ioc(HAPMEM_IOC_SHARE_MAP, &keep, sizeof(keep)))
		die("share_map keep");
	for (i = 0; i < 200; i++) {
		struct hapmem_share_map s = { .fd = a.fd };
		double t0 = now_ns();

		if (ioc(HAPMEM_IOC_SHARE_MAP, &s, sizeof(s)))
			die("share_map");
		wm[i] = now_ns() - t0;
		if (unmap(HAPMEM_IOC_SHARE_UNMAP, s.vadsp, MiB))
			die("share_unmap");
	}
	put("share_map_1m_attached_map_ns", median(wm, 200));
	ret = unmap(HAPMEM_IOC_SHARE_UNMAP, keep.vadsp, MiB);
	if (ret)
		die("share_unmap keep");
	close(a.fd);
}

/* Median ns of a HAP_malloc(64) + HAP_free pair. */
static double hap_pair_ns(void)
{
	double t0, s[31];
	void *q;
	int i, k;

	for (i = 0; i < 31; i++) {
		t0 = now_ns();
		for (k = 0; k < 20000; k++) {
			if (HAP_malloc(64, &q) != AEE_SUCCESS)
				die("HAP_malloc");
			__asm__ volatile("" : : "r"(q) : "memory");
			HAP_free(q);
		}
		s[i] = (now_ns() - t0) / 20000;
	}
	return median(s, 31);
}

/*
 * The same pairs with HAPMEM_HEAP_FRONT_END=@value (the front end is on by
 * default; "1" keeps it on, "0" turns it off), which the library reads at
 * the heap's first use: in a child that has not used the heap yet (run
 * before hap_heap(), whose heap a fork would carry over).
 */
static void hap_heap_front_end(const char *value, const char *key)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		if (setenv("HAPMEM_HEAP_FRONT_END", value, 1))
			die("setenv");
		put(key, hap_pair_ns());
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die("front-end child");
}

/* The HAP heap through libhapmem's driver backend (defaults: front end on). */
static void hap_heap(void)
{
	struct HAP_mem_stats st;
	double t0, first, s[31];
	void *p, *q;
	int i, k;

	t0 = now_ns();
	if (HAP_malloc(64, &p) != AEE_SUCCESS)
		die("first HAP_malloc");
	first = now_ns() - t0;
	if (HAP_mem_get_stats(&st) != AEE_SUCCESS)
		die("HAP_mem_get_stats");
	put("hap_first_malloc_us", first / 1e3);
	put("hap_first_malloc_segments", st.seg_used + st.seg_free);
	put("hap_first_malloc_heap_mib",
	    (double)(st.bytes_free + st.bytes_used) / MiB);

	put("hap_malloc_free_pair_ns", hap_pair_ns());
	for (i = 0; i < 31; i++) {
		t0 = now_ns();
		for (k = 0; k < 20000; k++) {
			q = malloc(64);
			__asm__ volatile("" : : "r"(q) : "memory");
			free(q);
		}
		s[i] = (now_ns() - t0) / 20000;
	}
	put("glibc_malloc_free_pair_ns", median(s, 31));
	HAP_free(p);
}

/* ---- the system dma-buf heap, the driver's peer ----------------------- */

static int dmaheap = -1;

static int dmaheap_alloc_close(uint64_t len)
{
	struct dma_heap_allocation_data a = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(dmaheap, DMA_HEAP_IOCTL_ALLOC, &a))
		return -errno;
	close(a.fd);
	return 0;
}

static int dmaheap_4k(void)
{
	return dmaheap_alloc_close(4 * KiB);
}

/*
 * 4 KiB: batches of request_map + unmap and of dma-heap alloc + close,
 * alternated, the ratio the median of the per-round ratios.  64 MiB: one
 * of each alternated (which goes first alternates too), at least 15
 * pairs, the throughput ratio the median of the per-pair ratios (dma-heap
 * time over request_map time).
 */
static void dmaheap_peer(void)
{
	enum { ROUNDS = 21, BIG_MIN = 15, BIG_MAX = 64 };
	double mb[ROUNDS], db[ROUNDS], r[ROUNDS];
	double mt[BIG_MAX], mo[BIG_MAX], dt[BIG_MAX], rt[BIG_MAX], ro[BIG_MAX];
	uint64_t big = 64 * MiB;
	double start;
	int i, n;

	dmaheap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (dmaheap < 0) {
		printf("# no /dev/dma_heap/system: dma-heap figures not measured\n");
		return;
	}
	for (i = 0; i < 200; i++)	/* warm up */
		if (dmaheap_4k() || map_unmap_4k())
			die("dma-heap warm-up");
	for (i = 0; i < ROUNDS; i++) {
		mb[i] = batch_ns(map_unmap_4k, 200, 1);
		db[i] = batch_ns(dmaheap_4k, 200, 1);
		r[i] = mb[i] / db[i];
	}
	put("dmaheap_4k_alloc_close_ns", median(db, ROUNDS));
	put("map_4k_roundtrip_alt_ns", median(mb, ROUNDS));
	put("map_4k_roundtrip_over_dmaheap", median(r, ROUNDS));

	start = now_ns();
	for (n = 0; n < BIG_MAX && (n < BIG_MIN || now_ns() - start < 4 * budget_s * 1e9); n++) {
		struct hapmem_request_map m;
		double t0, t1, t2;
		int ret = 0;

		/* Which goes first alternates, so a drift in the host's load cancels. */
		if (n & 1) {
			t0 = now_ns();
			ret = dmaheap_alloc_close(big);
			dt[n] = now_ns() - t0;
		}
		t0 = now_ns();
		if (req_map(big, &m))
			die("request_map 64m");
		t1 = now_ns();
		unmap_or_die(m.vadsp, big);
		t2 = now_ns();
		mo[n] = t1 - t0;
		mt[n] = t2 - t0;
		if (!(n & 1)) {
			t0 = now_ns();
			ret = dmaheap_alloc_close(big);
			dt[n] = now_ns() - t0;
		}
		if (ret) {
			errno = -ret;
			die("dma-heap 64m");
		}
		rt[n] = dt[n] / mt[n];
		ro[n] = dt[n] / mo[n];
	}
	printf("# dma-heap 64m: %d pairs\n", n);
	put("dmaheap_64m_alloc_close_mibps", mibps(big, median(dt, n)));
	put("map_64m_roundtrip_alt_mibps", mibps(big, median(mt, n)));
	put("map_64m_throughput_ratio_vs_dmaheap", median(rt, n));
	put("map_64m_maponly_throughput_ratio_vs_dmaheap", median(ro, n));
	close(dmaheap);
	dmaheap = -1;
}

/* With DRVBENCH_TRACE=<tracefs>/tracing_on, trace only the measured loop. */
static void trace_on(int on)
{
	const char *path = getenv("DRVBENCH_TRACE");
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, on ? "1" : "0", 1) != 1)
		die("tracing_on");
	close(fd);
}

/*
 * "ops OP N [LIVE]": only do N operations, for bench/driver/profile (which
 * traces them): nop, map4k (map + unmap), map64m, unmap4k (unmap + map
 * of one of LIVE 4 KiB maps), dmaheap4k and dmaheap64m (alloc + close of a
 * system dma-heap buffer).
 */
static int ops(int argc, char **argv)
{
	static uint64_t live[100000];
	int n = argc > 3 ? atoi(argv[3]) : 100, nlive = argc > 4 ? atoi(argv[4]) : 10;
	int i;

	if (argc < 3 || n <= 0 || nlive <= 0 || nlive > 100000) {
		fprintf(stderr, "usage: driver_bench ops nop|map4k|map64m|unmap4k|dmaheap4k|dmaheap64m N [LIVE]\n");
		return 2;
	}
	if (strcmp(argv[2], "unmap4k"))
		trace_on(1);
	if (!strcmp(argv[2], "nop")) {
		for (i = 0; i < n; i++)
			if (nop())
				die("nop");
	} else if (!strcmp(argv[2], "map4k")) {
		for (i = 0; i < n; i++)
			if (map_unmap_4k())
				die("map4k");
	} else if (!strcmp(argv[2], "map64m")) {
		for (i = 0; i < n; i++)
			unmap_or_die(map_or_die(64 * MiB, NULL), 64 * MiB);
	} else if (!strcmp(argv[2], "dmaheap4k") || !strcmp(argv[2], "dmaheap64m")) {
		uint64_t len = argv[2][7] == '4' ? 4 * KiB : 64 * MiB;

		dmaheap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (dmaheap < 0)
			die("open /dev/dma_heap/system");
		for (i = 0; i < n; i++)
			if (dmaheap_alloc_close(len))
				die("dma-heap alloc");
	} else if (!strcmp(argv[2], "unmap4k")) {
		for (i = 0; i < nlive; i++)
			live[i] = map_or_die(4 * KiB, NULL);
		trace_on(1);
		for (i = 0; i < n; i++) {
			int v = lcg() % nlive;

			unmap_or_die(live[v], 4 * KiB);
			live[v] = map_or_die(4 * KiB, NULL);
		}
	} else {
		fprintf(stderr, "driver_bench: unknown op %s\n", argv[2]);
		return 2;
	}
	trace_on(0);
	return 0;
}

int main(int argc, char **argv)
{
	double t0 = now_ns();

	dev = open("/dev/hapmem", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open /dev/hapmem");
	if (argc > 1 && !strcmp(argv[1], "ops"))
		return ops(argc, argv);
	if (argc > 1)
		budget_s = atof(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("drvbench: begin\n");
	info();
	chunking("map_64m");	/* first: the figure is for a fresh VM */
	put("clock_gettime_ns", clock_cost_ns());
	roundtrip();
	dmaheap_peer();
	throughput();
	scale();
	sharing();
	hap_heap_front_end("1", "hap_front_end_malloc_free_pair_ns");
	hap_heap_front_end("0", "hap_front_end_off_malloc_free_pair_ns");
	hap_heap();
	chunking("map_64m_end");	/* after everything else, for comparison */
	put("drvbench_seconds", (now_ns() - t0) / 1e9);
	printf("drvbench: end\n");
	close(dev);
	return 0;
}
