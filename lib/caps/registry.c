// SPDX-License-Identifier: GPL-2.0-only
/*
 * The region registry: run-time registration of capability regions and
 * the precomputed capability -> candidate-regions table.
 *
 * The table has one entry per capability set (64 of them).  Each entry
 * lists region slots in the order an allocation tries them: priority
 * column 0 first, then 1, then 2; within a priority, smaller capacity
 * first.  A region enters an entry at the first priority whose column
 * names one of the requested capabilities, provided all its columns
 * together cover the request.  The table is rebuilt (under the write
 * lock) whenever a region is added or removed, so an allocation reads
 * one entry and never scans the regions.
 *
 * User regions registered with an attribute are listed per attribute
 * (sorted, found by binary search) for caps_attr_alloc().
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "transport/backend_driver.h"
#include "caps/caps_internal.h"
#include "caps/caps_registry.h"
#include "transport/cpu_map.h"
#include "transport/ioctl.h"
#include "transport/session.h"

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct caps_region *slots[HAPMEM_CAPS_MAX_REGIONS];
static struct caps_cands table[CAPS_TABLE_SIZE];
static struct {
	uint32_t attr;
	struct caps_cands c;
} attrs[HAPMEM_CAPS_MAX_REGIONS];
static unsigned int nattrs;
static uint32_t next_id = 1;

/*
 * The fork gate.  fork()'s prepare hook must see no allocation or free in
 * flight: each runs under the registry's read lock, growth (the backend
 * call) and segment release included.  A write lock would drain them, but
 * glibc's rwlock prefers readers (threads allocating in a loop could keep
 * a writer out for ever) and a write lock cannot be released by the child
 * (glibc tells a writer's unlock by the thread id).  So outermost readers
 * count themselves in @active; prepare closes the gate (new outermost
 * readers then wait on gate_lock), waits for @active to reach zero and
 * takes the read side, which keeps region registration and removal out.
 * A thread already reading (a listener that allocates) passes the gate,
 * or it would wait for prepare, which waits for it.  Increment, then look
 * at the gate (both sequentially consistent): prepare sees the count, or
 * the reader sees the gate.
 */
static atomic_bool gate_closed;
static atomic_uint active;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local unsigned int rd_depth;

void hm_caps_reg_rdlock(void)
{
	hm_caps_dbg_init();
	if (!rd_depth) {
		atomic_fetch_add(&active, 1);
		while (atomic_load(&gate_closed)) {
			atomic_fetch_sub(&active, 1);
			pthread_mutex_lock(&gate_lock);
			pthread_mutex_unlock(&gate_lock);
			atomic_fetch_add(&active, 1);
		}
	}
	pthread_rwlock_rdlock(&reg_lock);
	rd_depth++;
}

void hm_caps_reg_unlock(void)
{
	pthread_rwlock_unlock(&reg_lock);
	if (!--rd_depth)
		atomic_fetch_sub(&active, 1);
}

void hm_caps_reg_fork_prepare(void)
{
	const struct timespec pause = { .tv_nsec = 50000 };

	pthread_mutex_lock(&gate_lock);
	atomic_store(&gate_closed, true);
	while (atomic_load(&active))
		nanosleep(&pause, NULL);	/* bounded: no new reader enters */
	pthread_rwlock_rdlock(&reg_lock);
}

void hm_caps_reg_fork_parent(void)
{
	pthread_rwlock_unlock(&reg_lock);
	atomic_store(&gate_closed, false);
	pthread_mutex_unlock(&gate_lock);
}

static void rebuild_locked(void);

/*
 * Child: every region emptied or dropped (region.c), the candidate table
 * rebuilt without the dropped ones, and the locks of prepare released.
 * The parent's readers did not come across: no count.
 */
void hm_caps_reg_fork_child(void)
{
	unsigned int i;

	atomic_store(&active, 0);
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++)
		if (slots[i] && !hm_caps_region_fork_reset(slots[i]))
			slots[i] = NULL;
	rebuild_locked();
	pthread_rwlock_unlock(&reg_lock);
	atomic_store(&gate_closed, false);
	pthread_mutex_unlock(&gate_lock);
}

int hm_caps_validate(uint32_t caps)
{
	if (caps & ~HAPMEM_CAP_ALL)
		return -EINVAL;
	if ((caps & HAPMEM_CAP_CACHED) && (caps & HAPMEM_CAP_UNCACHED))
		return -EINVAL;
	return 0;
}

uint32_t hm_caps_normalise(uint32_t caps)
{
	return caps ? caps : HAPMEM_CAP_DEFAULT;
}

const struct caps_cands *hm_caps_cands(uint32_t caps)
{
	return &table[hm_caps_normalise(caps) & HAPMEM_CAP_ALL];
}

const struct caps_cands *hm_caps_attr_cands(uint32_t attr)
{
	unsigned int lo = 0, hi = nattrs;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (attrs[mid].attr == attr)
			return &attrs[mid].c;
		if (attrs[mid].attr < attr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct caps_region *hm_caps_region_at(unsigned int slot)
{
	return slot < HAPMEM_CAPS_MAX_REGIONS ? slots[slot] : NULL;
}

/* Append the slots of @pick, ordered by capacity then slot. */
static void append_sorted(struct caps_cands *c, const bool *pick)
{
	unsigned int start = c->n, i, j;

	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		if (!pick[i])
			continue;
		for (j = c->n; j > start && slots[c->slot[j - 1]]->capacity > slots[i]->capacity; j--)
			c->slot[j] = c->slot[j - 1];
		c->slot[j] = (uint8_t)i;
		c->n++;
	}
}

static void rebuild_locked(void)
{
	uint32_t caps;
	unsigned int i, p;

	for (caps = 0; caps < CAPS_TABLE_SIZE; caps++) {
		struct caps_cands *c = &table[caps];
		bool seen[HAPMEM_CAPS_MAX_REGIONS] = { false };

		c->n = 0;
		if (!caps || hm_caps_validate(caps))
			continue;
		for (p = 0; p < HAPMEM_CAPS_PRIORITIES; p++) {
			bool pick[HAPMEM_CAPS_MAX_REGIONS] = { false };

			for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
				const struct caps_region *r = slots[i];

				if (!r || seen[i] || !(r->caps[p] & caps) ||
				    (r->all_caps & caps) != caps)
					continue;
				pick[i] = seen[i] = true;
			}
			append_sorted(c, pick);
		}
	}
	/* attributes: sorted distinct values, each with its regions */
	nattrs = 0;
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		const struct caps_region *r = slots[i];
		unsigned int k;

		if (!r || !r->has_attr)
			continue;
		for (k = 0; k < nattrs && attrs[k].attr != r->attr; k++)
			;
		if (k == nattrs) {
			attrs[nattrs].attr = r->attr;
			attrs[nattrs].c.n = 0;
			nattrs++;
		}
	}
	for (i = 1; i < nattrs; i++)	/* insertion sort by value */
		for (p = i; p > 0 && attrs[p - 1].attr > attrs[p].attr; p--) {
			uint32_t t = attrs[p].attr;

			attrs[p].attr = attrs[p - 1].attr;
			attrs[p - 1].attr = t;
		}
	for (p = 0; p < nattrs; p++) {
		bool pick[HAPMEM_CAPS_MAX_REGIONS] = { false };

		for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++)
			pick[i] = slots[i] && slots[i]->has_attr && slots[i]->attr == attrs[p].attr;
		attrs[p].c.n = 0;
		append_sorted(&attrs[p].c, pick);
	}
}

int hm_caps_register(struct caps_region *r)
{
	unsigned int i, free_slot = HAPMEM_CAPS_MAX_REGIONS;
	int ret;

	hm_caps_dbg_init();
	hm_caps_fork_init();
	pthread_rwlock_wrlock(&reg_lock);
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		if (slots[i] && !strcmp(slots[i]->name, r->name)) {
			pthread_rwlock_unlock(&reg_lock);
			return -EEXIST;
		}
		if (!slots[i] && free_slot == HAPMEM_CAPS_MAX_REGIONS)
			free_slot = i;
	}
	if (free_slot == HAPMEM_CAPS_MAX_REGIONS) {
		ret = -ENOSPC;
	} else {
		r->slot = free_slot;
		r->id = next_id++;
		slots[free_slot] = r;
		rebuild_locked();
		ret = (int)r->id;
	}
	pthread_rwlock_unlock(&reg_lock);
	return ret;
}

static int check_caps_columns(const uint32_t caps[HAPMEM_CAPS_PRIORITIES])
{
	uint32_t all = 0;
	int i;

	for (i = 0; caps && i < HAPMEM_CAPS_PRIORITIES; i++)
		all |= caps[i];
	return hm_caps_validate(all);
}

int hm_caps_region_add_backend(const struct caps_region_cfg *cfg,
			       const struct hm_backend_ops *ops, void *ctx,
			       void (*ctx_free)(void *ctx))
{
	struct caps_region *r;
	int ret;

	if (!cfg || !ops || check_caps_columns(cfg->caps))
		return -EINVAL;
	if (!(cfg->caps[0] | cfg->caps[1] | cfg->caps[2]))
		return -EINVAL;
	if (cfg->min_grow > SIZE_MAX / 2)
		return -EINVAL;
	r = hm_caps_region_new(cfg->name, cfg->caps, ops, ctx, cfg->min_grow,
			       cfg->max_bytes ? cfg->max_bytes : SIZE_MAX);
	if (!r)
		return -EINVAL;
	r->ctx_free = ctx_free;
	ret = hm_caps_register(r);
	if (ret < 0) {
		r->ctx_free = NULL;	/* the caller still owns ctx */
		hm_caps_region_delete(r);
	}
	return ret;
}

int caps_region_add(const struct caps_region_cfg *cfg)
{
	struct hm_driver_backend_cfg dc = {
		.rflags = HAPMEM_RFLAG_ADD_PAGES,
		.ion_flags = HAPMEM_ION_FLAG_CACHED,
		.heap_id = HAPMEM_HEAP_ID_DEFAULT,
	};
	uint32_t all;
	void *ctx;
	int ret;

	if (!cfg || check_caps_columns(cfg->caps))
		return -EINVAL;
	all = cfg->caps[0] | cfg->caps[1] | cfg->caps[2];
	if (all & HAPMEM_CAP_PROTECTED) {
		if (all & (HAPMEM_CAP_CACHED | HAPMEM_CAP_UNCACHED | HAPMEM_CAP_LLC))
			return -EINVAL;	/* no CPU mapping: no cache policy */
		dc.rflags = HAPMEM_RFLAG_REMOTE_HEAP_ADDR;
		dc.ion_flags = 0;
	} else if (all & HAPMEM_CAP_LLC) {
		dc.rflags = HAPMEM_RFLAG_ADD_PAGES_LLC;
	}
	if (all & HAPMEM_CAP_UNCACHED)
		dc.ion_flags = 0;
	if (all & HAPMEM_CAP_32BIT)
		dc.place = HAPMEM_MAP_VA32;
	ctx = hm_backend_driver_ctx_new(&dc);
	if (!ctx)
		return -errno;
	ret = hm_caps_region_add_backend(cfg, &hm_backend_driver, ctx, hm_backend_driver_ctx_free);
	if (ret < 0)
		hm_backend_driver_ctx_free(ctx);
	return ret;
}

/* ---- user regions -------------------------------------------------------- */

static void user_mem_release(void *ctx, const struct hm_segment_desc *seg)
{
	(void)ctx;
	(void)seg;	/* the caller owns the memory */
}

static void user_fd_release(void *ctx, const struct hm_segment_desc *seg)
{
	int dev;

	(void)ctx;
	if (seg->cpu)
		munmap(seg->cpu, seg->len);
	if (!seg->handle || (uint64_t)seg->handle != hm_session_gen())
		return;	/* never shared, or shared by another session */
	dev = hm_session_fd();
	if (dev >= 0)
		hm_ioc_share_unmap(dev, seg->dev, seg->len);
}

static const struct hm_backend_ops user_mem_ops = {
	.name = "user-mem", .release = user_mem_release,
};
static const struct hm_backend_ops user_fd_ops = {
	.name = "user-fd", .release = user_fd_release,
};

static int add_user(const char *name, const struct hm_segment_desc *d, uint32_t attr,
		    const uint32_t caps[HAPMEM_CAPS_PRIORITIES], const struct hm_backend_ops *ops)
{
	struct caps_region *r;
	int ret;

	if (check_caps_columns(caps))
		return -EINVAL;
	if (d->len < HM_CORE_MIN_SEGMENT || ((uintptr_t)d->cpu & (HM_CORE_GRANULE - 1)))
		return -EINVAL;
	if (caps && (caps[0] | caps[1] | caps[2]) & HAPMEM_CAP_PROTECTED && d->cpu)
		return -EINVAL;	/* CPU-reachable memory is not protected */
	ret = hm_caps_region_new_user(name, caps, d, ops == &user_fd_ops ? CAPS_REGION_USER_FD :
				      CAPS_REGION_USER_MEM, ops, &r);
	if (ret < 0)
		return ret;
	r->attr = attr;
	r->has_attr = true;
	ret = hm_caps_register(r);
	if (ret < 0) {
		r->ops = NULL;	/* the caller undoes its own mappings */
		hm_caps_region_delete(r);
	}
	return ret;
}

int caps_region_add_mem(const char *name, void *cpu, uint64_t dev, size_t len,
			uint32_t attr, const uint32_t caps[HAPMEM_CAPS_PRIORITIES])
{
	struct hm_segment_desc d = { .cpu = cpu, .dev = dev, .len = len };

	hm_caps_dbg_init();
	return add_user(name, &d, attr, caps, &user_mem_ops);
}

int caps_region_add_fd(const char *name, int fd, uint64_t offset, size_t len,
		       uint32_t attr, const uint32_t caps[HAPMEM_CAPS_PRIORITIES],
		       uint32_t flags)
{
	struct hm_segment_desc d = { .len = len };
	int ret, dev = -1;

	hm_caps_dbg_init();
	if (fd < 0)
		return -EBADF;
	if (flags & ~HAPMEM_CAPS_REGION_NO_DEVICE || len < HM_CORE_MIN_SEGMENT)
		return -EINVAL;
	ret = hm_cpu_map(fd, offset, len, PROT_READ | PROT_WRITE, HM_CPU_MAP_OPTIONAL, &d.cpu);
	if (ret)
		return ret;
	if (!(flags & HAPMEM_CAPS_REGION_NO_DEVICE)) {
		dev = hm_session_fd();
		ret = dev < 0 ? dev : hm_ioc_share_map(dev, 0, fd, offset, len, &d.dev);
		if (ret)
			goto undo_cpu;
		d.handle = (uintptr_t)hm_session_gen();
	}
	ret = add_user(name, &d, attr, caps, &user_fd_ops);
	if (ret >= 0)
		return ret;
	if (dev >= 0)
		hm_ioc_share_unmap(dev, d.dev, len);
undo_cpu:
	if (d.cpu)
		munmap(d.cpu, len);
	return ret;
}

int caps_region_remove(int region_id)
{
	struct caps_region *r = NULL;
	struct hm_core_stats st;
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&reg_lock);
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		if (!slots[i] || slots[i]->id != (uint32_t)region_id)
			continue;
		/*
		 * No growth is in flight: allocations (growth included) run
		 * under the read side of the lock held here.
		 */
		hm_core_stats(hm_caps_lock(slots[i]), &st);
		hm_caps_unlock(slots[i]);
		if (st.live_blocks) {
			ret = -EBUSY;
			break;
		}
		r = slots[i];
		slots[i] = NULL;
		rebuild_locked();
		ret = 0;
		break;
	}
	pthread_rwlock_unlock(&reg_lock);
	if (r)
		hm_caps_region_delete(r);
	return ret;
}

int hm_caps_remove_all(void)
{
	unsigned int i;
	int busy = 0;

	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		uint32_t id = 0;

		pthread_rwlock_rdlock(&reg_lock);
		if (slots[i])
			id = slots[i]->id;
		pthread_rwlock_unlock(&reg_lock);
		if (id && caps_region_remove((int)id))
			busy++;
	}
	return busy ? -EBUSY : 0;
}

int hm_caps_region_id(const char *name)
{
	unsigned int i;
	int id = -ENOENT;

	pthread_rwlock_rdlock(&reg_lock);
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++)
		if (slots[i] && !strcmp(slots[i]->name, name))
			id = (int)slots[i]->id;
	pthread_rwlock_unlock(&reg_lock);
	return id;
}

const struct hm_caps_std_region hm_caps_std_regions[] = {
	{ "cached", { HAPMEM_CAP_DEFAULT | HAPMEM_CAP_CACHED, 0, 0 } },
	{ "cached32", { HAPMEM_CAP_32BIT, HAPMEM_CAP_CACHED | HAPMEM_CAP_DEFAULT, 0 } },
	{ "uncached", { HAPMEM_CAP_UNCACHED, 0, 0 } },
	{ "uncached32", { HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT, 0, 0 } },
	{ "llc", { HAPMEM_CAP_LLC, 0, 0 } },
	{ "protected", { HAPMEM_CAP_PROTECTED, 0, 0 } },
	{ "protected32", { HAPMEM_CAP_PROTECTED | HAPMEM_CAP_32BIT, 0, 0 } },
};
const unsigned int hm_caps_std_regions_n =
	sizeof(hm_caps_std_regions) / sizeof(hm_caps_std_regions[0]);

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static bool default_done;

int caps_init_default(void)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&default_lock);
	if (default_done)
		goto out;
	ret = hm_session_fd();
	if (ret < 0)
		goto out;
	for (i = 0; i < hm_caps_std_regions_n; i++) {
		struct caps_region_cfg cfg = { .name = hm_caps_std_regions[i].name };

		memcpy(cfg.caps, hm_caps_std_regions[i].caps, sizeof(cfg.caps));
		ret = caps_region_add(&cfg);
		if (ret == -EEXIST)
			ret = 0;	/* the user registered one of that name */
		if (ret < 0)
			goto out;
	}
	ret = 0;
	default_done = true;
out:
	pthread_mutex_unlock(&default_lock);
	return ret;
}
