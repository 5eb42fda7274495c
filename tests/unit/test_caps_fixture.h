/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the test_caps_*.c host tests: a fake backend that can hand
 * out CPU-less segments (protected memory) and device addresses below or
 * above 4 GiB, with counters and a byte limit; and a standard region set.
 */
#ifndef HAPMEM_TESTS_CAPS_FIXTURE_H
#define HAPMEM_TESTS_CAPS_FIXTURE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "caps/caps_internal.h"
#include "caps/caps_registry.h"
#include "hapmem_caps.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

struct fake_be {
	bool cpu_less;
	uint64_t next_dev;
	size_t limit, live;
	atomic_int grows, releases;
	pthread_mutex_t lock;
};

static inline int fake_grow(void *ctx, size_t len, struct hm_segment_desc *out)
{
	struct fake_be *f = ctx;
	void *p = NULL;

	pthread_mutex_lock(&f->lock);
	if (f->limit && f->live + len > f->limit) {
		pthread_mutex_unlock(&f->lock);
		return -ENOMEM;
	}
	f->live += len;
	out->dev = f->next_dev;
	f->next_dev += len;
	pthread_mutex_unlock(&f->lock);
	if (!f->cpu_less) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
	}
	out->cpu = p;
	out->len = len;
	out->handle = 0;
	atomic_fetch_add(&f->grows, 1);
	return 0;
}

static inline void fake_release(void *ctx, const struct hm_segment_desc *seg)
{
	struct fake_be *f = ctx;

	if (seg->cpu)
		munmap(seg->cpu, seg->len);
	pthread_mutex_lock(&f->lock);
	f->live -= seg->len;
	pthread_mutex_unlock(&f->lock);
	atomic_fetch_add(&f->releases, 1);
}

static const struct hm_backend_ops fake_ops = {
	.name = "fake", .grow = fake_grow, .release = fake_release,
};

static inline struct fake_be *fake_new(bool cpu_less, uint64_t dev_base, size_t limit)
{
	struct fake_be *f = calloc(1, sizeof(*f));

	f->cpu_less = cpu_less;
	f->next_dev = dev_base;
	f->limit = limit;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

static inline void fake_free(void *ctx)
{
	free(ctx);
}

/* A growable test region; returns its id (> 0). */
static inline int add_region(const char *name, uint32_t c0, uint32_t c1, uint32_t c2, size_t max_bytes,
		      struct fake_be **out)
{
	struct caps_region_cfg cfg = { .name = name, .caps = { c0, c1, c2 },
				       .max_bytes = max_bytes };
	uint32_t all = c0 | c1 | c2;
	struct fake_be *f = fake_new(all & HAPMEM_CAP_PROTECTED,
				     all & HAPMEM_CAP_32BIT ? 0x10000000ull : 0x900000000ull,
				     max_bytes);
	int id = hm_caps_region_add_backend(&cfg, &fake_ops, f, fake_free);

	if (id < 0)
		free(f);
	if (out)
		*out = id > 0 ? f : NULL;
	return id;
}

/* caps_init_default()'s regions (its own table), on the fake backend. */
static inline int add_std_set(size_t max_bytes)
{
	unsigned int i;

	for (i = 0; i < hm_caps_std_regions_n; i++) {
		const struct hm_caps_std_region *r = &hm_caps_std_regions[i];
		int id = add_region(r->name, r->caps[0], r->caps[1], r->caps[2], max_bytes, NULL);

		if (id <= 0)
			return id ? id : -EINVAL;
	}
	return 0;
}

/* Is [p, p+1) readable by the CPU?  (write(2) from it fails with EFAULT if not.) */
static inline bool cpu_readable(const void *p)
{
	int fds[2];
	bool ok;

	if (pipe(fds))
		return true;
	ok = write(fds[1], p, 1) == 1;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

#endif
