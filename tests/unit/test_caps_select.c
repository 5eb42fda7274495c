// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capability regions: selection by caps, priorities, prefer lists, user
 * regions by attribute, O(1) free from any region, realloc keeping caps,
 * listeners, failure hooks, and threads under contention.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_caps_fixture.h"

/* Reference model of the candidate order: the first region that should serve @caps. */
static int model_first(uint32_t caps)
{
	unsigned int p, i;

	caps = caps ? caps : HAPMEM_CAP_DEFAULT;
	for (p = 0; p < 3; p++)
		for (i = 0; i < hm_caps_std_regions_n; i++) {
			uint32_t all = hm_caps_std_regions[i].caps[0] | hm_caps_std_regions[i].caps[1] | hm_caps_std_regions[i].caps[2];

			if ((hm_caps_std_regions[i].caps[p] & caps) && (all & caps) == caps)
				return (int)i;
		}
	return -1;
}

TEST(every_combination)
{
	uint32_t caps;
	int ok = 0, refused = 0;

	ASSERT_EQ(0, add_std_set(0));
	for (caps = 0; caps <= 0xff; caps++) {
		bool bad = (caps & ~HAPMEM_CAP_ALL) ||
			   ((caps & HAPMEM_CAP_CACHED) && (caps & HAPMEM_CAP_UNCACHED));
		int want = bad ? -1 : model_first(caps);
		void *p;

		errno = 0;
		p = caps_malloc(100, caps);
		if (want < 0) {
			EXPECT_EQ(NULL, p);
			EXPECT_EQ(bad ? EINVAL : ENOTSUP, errno) TH_LOG("caps 0x%x", caps);
			refused++;
			continue;
		}
		ASSERT_NE(NULL, p) TH_LOG("caps 0x%x: %s", caps, strerror(errno));
		/* the region has every capability asked for, and is the model's first */
		EXPECT_EQ(caps ? caps : HAPMEM_CAP_DEFAULT,
			  caps_region_caps(p) & (caps ? caps : HAPMEM_CAP_DEFAULT));
		EXPECT_STREQ(hm_caps_std_regions[want].name, caps_region_name(p)) TH_LOG("caps 0x%x", caps);
		if (caps & HAPMEM_CAP_32BIT) {
			uint64_t dev;

			ASSERT_EQ(0, caps_dev_addr(p, &dev));
			EXPECT_LE(dev + 100, 1ull << 32);
		}
		if (caps & HAPMEM_CAP_PROTECTED) {
			EXPECT_FALSE(cpu_readable(p));
		} else {
			memset(p, 0x5a, 100);
		}
		EXPECT_EQ(0, caps_free(p));
		ok++;
	}
	/*
	 * Served: 0 (as DEFAULT) and every non-empty subset of a region's
	 * capabilities: 7 of {32BIT, CACHED, DEFAULT}, {UNCACHED}, {UNCACHED,
	 * 32BIT}, {LLC}, {PROTECTED}, {PROTECTED, 32BIT}: 13.  The other 243
	 * of the 256 values are refused at once.
	 */
	EXPECT_EQ(13, ok);
	EXPECT_EQ(243, refused);
	TH_LOG("%d served, %d refused", ok, refused);
}

TEST(unsatisfiable_fails_at_once)
{
	struct fake_be *f;
	void *p;

	ASSERT_GT(add_region("small", HAPMEM_CAP_CACHED, 0, 0, 1 * MiB, &f), 0);
	errno = 0;
	EXPECT_EQ(NULL, caps_malloc(16, HAPMEM_CAP_PROTECTED));
	EXPECT_EQ(ENOTSUP, errno);
	EXPECT_EQ(NULL, caps_malloc(16, HAPMEM_CAP_CACHED | HAPMEM_CAP_UNCACHED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, caps_malloc(16, 1u << 9));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, caps_malloc(2 * MiB, HAPMEM_CAP_CACHED));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(NULL, caps_aligned_alloc(24, 16, HAPMEM_CAP_CACHED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, atomic_load(&f->grows));	/* nothing was even tried */
	p = caps_malloc(16, HAPMEM_CAP_CACHED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, atomic_load(&f->grows));
	caps_free(p);
}

/*
 * A growth adds max(need, min_grow) rounded to 1 MiB, cut to the room
 * left under max_bytes; at most one fully unused segment is kept.
 */
TEST(growth_fits_capacity_and_one_unused_segment_kept)
{
	struct caps_region_cfg cfg = { .name = "fit", .caps = { HAPMEM_CAP_CACHED, 0, 0 },
				       .max_bytes = 5 * MiB, .min_grow = 4 * MiB };
	struct fake_be *f = fake_new(false, 0x900000000ull, 0), *g;
	struct caps_stats st;
	void *a, *b;

	ASSERT_GT(hm_caps_region_add_backend(&cfg, &fake_ops, f, fake_free), 0);
	a = caps_malloc(3 * MiB + MiB / 2, HAPMEM_CAP_CACHED);	/* one 4 MiB segment */
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_CACHED, &st));
	EXPECT_EQ(4 * MiB, st.total_bytes);
	b = caps_malloc(900 * KiB, HAPMEM_CAP_CACHED);	/* 4 MiB cut to the 1 MiB left */
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_CACHED, &st));
	EXPECT_EQ(5 * MiB, st.total_bytes);
	EXPECT_EQ(2, atomic_load(&f->grows));
	errno = 0;
	EXPECT_EQ(NULL, caps_malloc(600 * KiB, HAPMEM_CAP_CACHED));	/* no room left */
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(2, atomic_load(&f->grows));
	caps_free(a);					/* one unused segment: kept */
	EXPECT_EQ(0, atomic_load(&f->releases));
	caps_free(b);					/* a second one: goes back */
	EXPECT_EQ(1, atomic_load(&f->releases));
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_CACHED, &st));
	EXPECT_EQ(0, st.allocated_bytes);
	EXPECT_EQ(f->live, st.total_bytes);
	EXPECT_TRUE(st.total_bytes == 1 * MiB || st.total_bytes == 4 * MiB);

	/* Beyond what a core block can be: no growth is even tried. */
	ASSERT_GT(add_region("huge", HAPMEM_CAP_UNCACHED, 0, 0, 0, &g), 0);
	errno = 0;
	EXPECT_EQ(NULL, caps_malloc((size_t)1 << 40, HAPMEM_CAP_UNCACHED));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(0, atomic_load(&g->grows));
}

static struct {
	size_t size;
	uint32_t caps;
	char func[32];
	int calls;
} failed;

static void on_failed(size_t size, uint32_t caps, const char *func, void *arg)
{
	(void)arg;
	failed.size = size;
	failed.caps = caps;
	snprintf(failed.func, sizeof(failed.func), "%s", func);
	failed.calls++;
}

TEST(failed_hook_and_abort)
{
	pid_t pid;
	int st;

	ASSERT_GT(add_region("c", HAPMEM_CAP_CACHED, 0, 0, 1 * MiB, NULL), 0);
	caps_set_alloc_failed_hook(on_failed, NULL);
	EXPECT_EQ(NULL, caps_malloc(12345, HAPMEM_CAP_LLC));
	EXPECT_EQ(1, failed.calls);
	EXPECT_EQ(12345, failed.size);
	EXPECT_EQ(HAPMEM_CAP_LLC, failed.caps);
	EXPECT_STREQ("caps_malloc", failed.func);
	EXPECT_EQ(NULL, caps_calloc(1, 3 * MiB, HAPMEM_CAP_CACHED));
	EXPECT_STREQ("caps_calloc", failed.func);
	EXPECT_EQ(NULL, caps_malloc_prefer(10, 2, HAPMEM_CAP_LLC, HAPMEM_CAP_PROTECTED));
	EXPECT_STREQ("caps_malloc_prefer", failed.func);
	EXPECT_EQ(3, failed.calls);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		caps_debug_set_reporter(NULL, NULL);
		caps_set_abort_on_failure(true);
		close(2);	/* keep the abort message out of the TAP output */
		caps_malloc(1, HAPMEM_CAP_LLC);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGABRT, WTERMSIG(st));
}

TEST(priorities_and_smallest_first)
{
	void *p[8];
	int i;

	/* "big": DEFAULT at priority 0, 2 MiB.  "small": DEFAULT at priority 0, 1 MiB.
	 * "backup": DEFAULT only at priority 1. */
	ASSERT_GT(add_region("big", HAPMEM_CAP_DEFAULT, 0, 0, 2 * MiB, NULL), 0);
	ASSERT_GT(add_region("backup", 0, HAPMEM_CAP_DEFAULT, 0, 1 * MiB, NULL), 0);
	ASSERT_GT(add_region("small", HAPMEM_CAP_DEFAULT, 0, 0, 1 * MiB, NULL), 0);
	/* smallest region of priority 0 first ... */
	p[0] = caps_malloc(600 * KiB, 0);
	ASSERT_NE(NULL, p[0]);
	EXPECT_STREQ("small", caps_region_name(p[0]));
	/* ... then the bigger one of the same priority ... */
	p[1] = caps_malloc(600 * KiB, 0);
	EXPECT_STREQ("big", caps_region_name(p[1]));
	p[2] = caps_malloc(600 * KiB, 0);
	EXPECT_STREQ("big", caps_region_name(p[2]));
	/* ... and only then priority 1 */
	p[3] = caps_malloc(600 * KiB, 0);
	ASSERT_NE(NULL, p[3]);
	EXPECT_STREQ("backup", caps_region_name(p[3]));
	p[4] = caps_malloc(600 * KiB, 0);
	EXPECT_EQ(NULL, p[4]);
	EXPECT_EQ(ENOMEM, errno);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, caps_free(p[i]));
}

TEST(prefer_lists)
{
	void *a, *b, *c;

	ASSERT_GT(add_region("unc", HAPMEM_CAP_UNCACHED, 0, 0, 1 * MiB, NULL), 0);
	ASSERT_GT(add_region("cac", HAPMEM_CAP_CACHED | HAPMEM_CAP_DEFAULT, 0, 0, 4 * MiB, NULL), 0);
	/* LLC does not exist: skipped; UNCACHED is next */
	a = caps_malloc_prefer(700 * KiB, 3, HAPMEM_CAP_LLC, HAPMEM_CAP_UNCACHED, HAPMEM_CAP_CACHED);
	ASSERT_NE(NULL, a);
	EXPECT_STREQ("unc", caps_region_name(a));
	/* uncached is full now: the third choice */
	b = caps_malloc_prefer(700 * KiB, 3, HAPMEM_CAP_LLC, HAPMEM_CAP_UNCACHED, HAPMEM_CAP_CACHED);
	ASSERT_NE(NULL, b);
	EXPECT_STREQ("cac", caps_region_name(b));
	/* the order is the caller's: cached first when asked first */
	c = caps_malloc_prefer(16, 2, HAPMEM_CAP_CACHED, HAPMEM_CAP_UNCACHED);
	EXPECT_STREQ("cac", caps_region_name(c));
	caps_free(a);
	caps_free(b);
	caps_free(c);
}

TEST(free_any_region_and_bad_frees)
{
	void *p[HAPMEM_CAPS_MAX_REGIONS];
	unsigned int i;
	int x;

	ASSERT_EQ(0, add_std_set(0));
	for (i = 0; i < hm_caps_std_regions_n; i++) {
		p[i] = caps_malloc(64, hm_caps_std_regions[i].caps[0]);
		ASSERT_NE(NULL, p[i]);
		EXPECT_STREQ(hm_caps_std_regions[i].name, caps_region_name(p[i]));
	}
	EXPECT_EQ(-EFAULT, caps_free(&x));		/* not in any region */
	EXPECT_EQ(-EINVAL, caps_free((char *)p[0] + 16));	/* inside, not a block */
	for (i = 0; i < hm_caps_std_regions_n; i++)
		EXPECT_EQ(0, caps_free(p[i]));
	EXPECT_EQ(-EINVAL, caps_free(p[0]));	/* double free */
	EXPECT_EQ(0, caps_free(NULL));
}

TEST(aligned_and_calloc)
{
	size_t a;

	ASSERT_EQ(0, add_std_set(0));
	for (a = 1; a <= 256 * KiB; a <<= 1) {
		unsigned char *p = caps_aligned_alloc(a, 100, HAPMEM_CAP_CACHED);
		uint64_t dev;

		ASSERT_NE(NULL, p);
		EXPECT_EQ(0, (uintptr_t)p % a);
		ASSERT_EQ(0, caps_dev_addr(p, &dev));
		EXPECT_EQ(0, dev % (a < 4096 ? a : 4096));	/* segments are page aligned */
		memset(p, 1, 100);
		caps_free(p);
	}
	{
		unsigned char *p = caps_malloc(4096, HAPMEM_CAP_CACHED), *q;
		size_t i, nz = 0;

		memset(p, 0xff, 4096);
		caps_free(p);
		q = caps_calloc(64, 64, HAPMEM_CAP_CACHED);
		ASSERT_NE(NULL, q);
		for (i = 0; i < 4096; i++)
			nz += q[i] != 0;
		EXPECT_EQ(0, nz);
		caps_free(q);
	}
	EXPECT_EQ(NULL, caps_calloc(SIZE_MAX / 2, 3, HAPMEM_CAP_CACHED));
	EXPECT_EQ(ENOMEM, errno);
	/* protected memory cannot be zeroed by the CPU */
	EXPECT_EQ(NULL, caps_calloc(1, 64, HAPMEM_CAP_PROTECTED));
	EXPECT_EQ(EPERM, errno);
}

TEST(realloc_keeps_caps)
{
	unsigned char *p, *q, *big;
	void *pr, *pr2;
	size_t i, bad = 0;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	/* in place */
	p = caps_malloc(64, HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, p);
	for (i = 0; i < 64; i++)
		p[i] = (unsigned char)i;
	q = caps_realloc(p, 256, 0);
	EXPECT_EQ(p, q);
	/* a neighbour blocks in-place growth: it moves, to a region with the same caps */
	big = caps_malloc(64, HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, big);
	q = caps_realloc(p, 1 * MiB, 0);
	ASSERT_NE(NULL, q);
	EXPECT_NE(p, q);
	EXPECT_EQ(HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT,
		  caps_region_caps(q) & (HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT));
	for (i = 0; i < 64; i++)
		bad += q[i] != (unsigned char)i;
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, caps_block_size(p));	/* the old block is gone */
	caps_free(q);
	caps_free(big);

	/* protected: in place works, a move is refused and the block stays */
	pr = caps_malloc(64, HAPMEM_CAP_PROTECTED);
	ASSERT_NE(NULL, pr);
	pr2 = caps_malloc(64, HAPMEM_CAP_PROTECTED);
	ASSERT_NE(NULL, pr2);
	errno = 0;
	EXPECT_EQ(NULL, caps_realloc(pr, 4096, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(64, caps_block_size(pr));
	EXPECT_EQ(pr2, caps_realloc(pr2, 4096, 0));	/* free space behind it: in place */
	EXPECT_EQ(0, caps_free(pr));
	EXPECT_EQ(0, caps_free(pr2));
	/* NULL and 0 */
	p = caps_realloc(NULL, 10, HAPMEM_CAP_CACHED);
	EXPECT_STREQ("cached", caps_region_name(p));
	EXPECT_EQ(NULL, caps_realloc(p, 0, 0));
	EXPECT_EQ(-EINVAL, caps_free(p));
}

/* Capabilities the block's region lacks: it moves, though it could stay. */
TEST(realloc_with_caps_moves)
{
	unsigned char *p, *q;
	size_t i, bad = 0;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	p = caps_malloc(100, HAPMEM_CAP_CACHED);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("cached", caps_region_name(p));
	for (i = 0; i < 100; i++)
		p[i] = (unsigned char)(i * 7);
	/* same size, caps the region has: in place */
	EXPECT_EQ(p, caps_realloc(p, 100, HAPMEM_CAP_CACHED));
	/* uncached asked: a move to an uncached region, bytes kept */
	q = caps_realloc(p, 100, HAPMEM_CAP_UNCACHED);
	ASSERT_NE(NULL, q);
	EXPECT_NE(p, q);
	EXPECT_TRUE(caps_region_caps(q) & HAPMEM_CAP_UNCACHED);
	for (i = 0; i < 100; i++)
		bad += q[i] != (unsigned char)(i * 7);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, caps_block_size(p));
	/* smaller and 32-bit: moves again, to uncached32 */
	p = caps_realloc(q, 50, HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("uncached32", caps_region_name(p));
	EXPECT_EQ(0, caps_block_size(q));
	EXPECT_EQ((unsigned char)(49 * 7), p[49]);
	/* caps that are not valid: NULL, the block stays */
	errno = 0;
	EXPECT_EQ(NULL, caps_realloc(p, 60, 1U << 30));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_LE(50, caps_block_size(p));
	EXPECT_EQ(0, caps_free(p));
}

/* The native choice for 0 bytes: a unique, freeable block (not NULL). */
TEST(zero_byte_requests)
{
	void *a, *b, *c;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	a = caps_malloc(0, 0);
	b = caps_calloc(0, 8, HAPMEM_CAP_UNCACHED);
	c = caps_aligned_alloc(256, 0, 0);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, c);
	EXPECT_NE(a, c);
	EXPECT_EQ(0, (uintptr_t)c % 256);
	EXPECT_STREQ("uncached", caps_region_name(b));
	EXPECT_EQ(0, caps_free(a));
	EXPECT_EQ(0, caps_free(b));
	EXPECT_EQ(0, caps_free(c));
}

TEST(protected_has_no_cpu_mapping)
{
	void *p;
	uint64_t dev, dev2;

	ASSERT_EQ(0, add_std_set(0));
	p = caps_malloc(4096, HAPMEM_CAP_PROTECTED | HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("protected32", caps_region_name(p));
	EXPECT_FALSE(cpu_readable(p));
	ASSERT_EQ(0, caps_dev_addr(p, &dev));
	ASSERT_EQ(0, caps_dev_addr((char *)p + 100, &dev2));
	EXPECT_EQ(dev + 100, dev2);
	EXPECT_LT(dev, 1ull << 32);
	EXPECT_EQ(0, caps_free(p));
}

/* A 32-bit region whose backend hands out high memory refuses it. */
TEST(region_32bit_rejects_high_memory)
{
	struct caps_region_cfg cfg = { .name = "liar32", .caps = { HAPMEM_CAP_32BIT, 0, 0 } };
	struct fake_be *f = fake_new(false, 0x200000000ull, 0);

	ASSERT_GT(hm_caps_region_add_backend(&cfg, &fake_ops, f, fake_free), 0);
	EXPECT_EQ(NULL, caps_malloc(64, HAPMEM_CAP_32BIT));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(1, atomic_load(&f->grows));
	EXPECT_EQ(1, atomic_load(&f->releases));	/* given straight back */
}

TEST(user_regions_by_attribute)
{
	size_t len = 256 * KiB;
	void *m1 = aligned_alloc(4096, len), *m2 = aligned_alloc(4096, len), *p, *q;
	int id1, id2, fd, idf;
	unsigned char c = 0;

	id1 = caps_region_add_mem("attr7-a", m1, 0x1000000, len, 7, NULL);
	ASSERT_GT(id1, 0);
	id2 = caps_region_add_mem("attr9", m2, 0x2000000, len, 9, NULL);
	ASSERT_GT(id2, 0);
	EXPECT_EQ(-EEXIST, caps_region_add_mem("attr9", m2, 0, len, 9, NULL));
	EXPECT_EQ(-EINVAL, caps_region_add_mem("empty", m2, 0, 0, 9, NULL));
	p = caps_attr_alloc(7, 1000, 0);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("attr7-a", caps_region_name(p));
	EXPECT_TRUE((char *)p >= (char *)m1 && (char *)p < (char *)m1 + len);
	q = caps_attr_alloc(9, 1000, 64);
	EXPECT_STREQ("attr9", caps_region_name(q));
	EXPECT_EQ(0, (uintptr_t)q % 64);
	EXPECT_EQ(NULL, caps_attr_alloc(8, 10, 0));
	EXPECT_EQ(ENOTSUP, errno);
	EXPECT_EQ(NULL, caps_attr_alloc(7, len + 1, 0));
	EXPECT_EQ(E2BIG, errno);
	/* attribute-only regions are not used by caps_malloc */
	EXPECT_EQ(NULL, caps_malloc(10, HAPMEM_CAP_DEFAULT));
	EXPECT_EQ(-EBUSY, caps_region_remove(id1));
	caps_free(p);
	caps_free(q);
	EXPECT_EQ(0, caps_region_remove(id1));
	EXPECT_EQ(-ENOENT, caps_region_remove(id1));
	EXPECT_EQ(NULL, caps_attr_alloc(7, 10, 0));

	/* a buffer held as an fd (a memfd here; a dma-buf in the VM test) */
	fd = memfd_create("caps-user", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, (off_t)len));
	idf = caps_region_add_fd("fdreg", fd, 0, len, 11, NULL, HAPMEM_CAPS_REGION_NO_DEVICE);
	ASSERT_GT(idf, 0);
	p = caps_attr_alloc(11, 100, 0);
	ASSERT_NE(NULL, p);
	memset(p, 0x7e, 100);
	{
		uintptr_t off;
		void *base = p;
		uint64_t dev;

		ASSERT_EQ(0, caps_dev_addr(base, &dev));
		off = (uintptr_t)dev;	/* no device map: device address is the offset */
		ASSERT_EQ(1, pread(fd, &c, 1, (off_t)off));
	}
	EXPECT_EQ(0x7e, c);
	caps_free(p);
	EXPECT_EQ(0, caps_region_remove(idf));
	close(fd);
	EXPECT_EQ(0, caps_region_remove(id2));
	free(m1);
	free(m2);
}

struct evlog {
	pthread_mutex_t lock;
	int n[5];
	char last_region[5][HAPMEM_CAPS_NAME_MAX];
};

static void on_event(const struct caps_event *ev, void *arg)
{
	struct evlog *l = arg;

	pthread_mutex_lock(&l->lock);
	l->n[ev->type]++;
	snprintf(l->last_region[ev->type], HAPMEM_CAPS_NAME_MAX, "%s", ev->region);
	pthread_mutex_unlock(&l->lock);
}

TEST(listener_events)
{
	struct evlog l = { .lock = PTHREAD_MUTEX_INITIALIZER };
	void *a, *b, *c;
	int h;

	ASSERT_GT(add_region("lis", HAPMEM_CAP_CACHED, 0, 0, 0, NULL), 0);
	h = caps_listener_add(on_event, &l);
	ASSERT_GE(h, 0);
	a = caps_malloc(100, HAPMEM_CAP_CACHED);	/* grows a segment */
	ASSERT_NE(NULL, a);
	a = caps_realloc(a, 200, 0);			/* in place: RESIZE */
	b = caps_malloc(3 * MiB, HAPMEM_CAP_CACHED);	/* a second segment */
	c = caps_malloc(3 * MiB, HAPMEM_CAP_CACHED);	/* a third */
	caps_free(b);
	caps_free(c);					/* two unused: one goes back */
	caps_free(a);
	EXPECT_EQ(3, l.n[CAPS_EV_ALLOC]);
	EXPECT_EQ(3, l.n[CAPS_EV_FREE]);
	EXPECT_EQ(1, l.n[CAPS_EV_RESIZE]);
	EXPECT_EQ(3, l.n[CAPS_EV_SEG_GROW]);
	EXPECT_GE(l.n[CAPS_EV_SEG_RELEASE], 1);
	EXPECT_STREQ("lis", l.last_region[CAPS_EV_SEG_RELEASE]);
	EXPECT_STREQ("lis", l.last_region[CAPS_EV_ALLOC]);
	EXPECT_EQ(0, caps_listener_remove(h));
	EXPECT_EQ(-ENOENT, caps_listener_remove(h));
	caps_free(caps_malloc(1, HAPMEM_CAP_CACHED));
	EXPECT_EQ(3, l.n[CAPS_EV_ALLOC]);
}

/* 8 threads allocate, check and free across every region, by caps. */
#define THREADS 8
#define ROUNDS 20000

static void *hammer(void *arg)
{
	static const uint32_t choices[] = {
		HAPMEM_CAP_DEFAULT, HAPMEM_CAP_CACHED, HAPMEM_CAP_UNCACHED, HAPMEM_CAP_32BIT,
		HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT, HAPMEM_CAP_LLC, HAPMEM_CAP_PROTECTED,
	};
	unsigned int seed = (unsigned int)(uintptr_t)arg, i;
	struct { unsigned char *p; size_t n; unsigned char v; bool cpu; } live[32] = { 0 };
	long bad = 0;

	for (i = 0; i < ROUNDS; i++) {
		unsigned int k = (unsigned int)rand_r(&seed) % 32;
		size_t j;

		if (live[k].p) {
			for (j = 0; live[k].cpu && j < live[k].n; j++)
				bad += live[k].p[j] != live[k].v;
			if (caps_free(live[k].p))
				bad++;
			live[k].p = NULL;
		} else {
			uint32_t caps = choices[(unsigned int)rand_r(&seed) % 7];

			live[k].n = 1 + (size_t)rand_r(&seed) % 3000;
			live[k].p = caps_malloc(live[k].n, caps);
			if (!live[k].p) {
				bad++;
				continue;
			}
			live[k].cpu = !(caps & HAPMEM_CAP_PROTECTED);
			live[k].v = (unsigned char)rand_r(&seed);
			if (live[k].cpu)
				memset(live[k].p, live[k].v, live[k].n);
		}
	}
	for (i = 0; i < 32; i++)
		if (live[i].p && caps_free(live[i].p))
			bad++;
	return (void *)bad;
}

TEST(contention)
{
	pthread_t t[THREADS];
	long total = 0;
	char *json;
	size_t len;
	FILE *f;
	int i;

	ASSERT_EQ(0, add_std_set(0));
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)(i + 1)));
	for (i = 0; i < THREADS; i++) {
		void *r;

		pthread_join(t[i], &r);
		total += (long)r;
	}
	EXPECT_EQ(0, total);
	/* nothing is left live in any region */
	f = open_memstream(&json, &len);
	caps_dump_json(f);
	fclose(f);
	EXPECT_EQ(NULL, strstr(json, "\"live_blocks\": 1"));
	EXPECT_NE(NULL, strstr(json, "\"live_blocks\": 0"));
	free(json);
	EXPECT_EQ(0, hm_caps_remove_all());
}

TEST_HARNESS_MAIN
