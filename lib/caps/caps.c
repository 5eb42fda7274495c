// SPDX-License-Identifier: GPL-2.0-only
/*
 * caps_malloc and friends: allocation by capability over the registered
 * regions, and caps_free for a block of any region.
 *
 * An allocation reads the precomputed candidate list of its capability
 * set (registry.c) under the registry's read lock and tries each region
 * in order.  A free finds its segment, hence its region, through the
 * address map (addr_map.c) in O(1).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "caps/caps_internal.h"

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static caps_alloc_failed_fn failed_fn;
static void *failed_arg;
static atomic_bool abort_on_failure;

void caps_set_alloc_failed_hook(caps_alloc_failed_fn fn, void *arg)
{
	pthread_mutex_lock(&hook_lock);
	failed_fn = fn;
	failed_arg = arg;
	pthread_mutex_unlock(&hook_lock);
}

void caps_set_abort_on_failure(bool on)
{
	atomic_store(&abort_on_failure, on);
}

/* fork: hook_lock is a leaf (nothing is called under it). */
void hm_caps_hook_fork_prepare(void)
{
	pthread_mutex_lock(&hook_lock);
}

void hm_caps_hook_fork_release(void)
{
	pthread_mutex_unlock(&hook_lock);
}

void hm_caps_failed(size_t size, uint32_t caps, const char *func, int err)
{
	caps_alloc_failed_fn fn;
	void *arg;

	pthread_mutex_lock(&hook_lock);
	fn = failed_fn;
	arg = failed_arg;
	pthread_mutex_unlock(&hook_lock);
	if (fn)
		fn(size, caps, func, arg);
	if (atomic_load(&abort_on_failure)) {
		hm_caps_report("hapmem caps: %s(%zu, caps 0x%x) failed: %s; aborting",
			       func, size, caps, strerror(-err));
		abort();
	}
	errno = -err;
}

int hm_caps_alloc_cands(const struct caps_cands *c, size_t size, size_t align,
			const char *file, int line, const char *func, void **out,
			struct caps_region **where)
{
	enum caps_debug_level lvl = hm_caps_dbg_level();
	void *bt[CAPS_BT_DEPTH];
	int bt_n = 0, err = -E2BIG;
	unsigned int i;

	*out = NULL;
	if (!c || !c->n)
		return -ENOTSUP;
	if (align & (align - 1))
		return -EINVAL;
	if (lvl >= CAPS_DEBUG_TRACE)
		bt_n = hm_caps_backtrace(bt, CAPS_BT_DEPTH);
	for (i = 0; i < c->n; i++) {
		struct caps_region *r = hm_caps_region_at(c->slot[i]);
		size_t head, tail, total;
		uintptr_t raw;
		int e;

		if (!r)
			continue;
		hm_caps_dbg_layout(r, lvl, size, align, &head, &tail);
		if (size > SIZE_MAX - head - tail)
			return -ENOMEM;
		total = size + head + tail;
		e = hm_caps_region_alloc(r, total, align > head ? align : 0, &raw);
		if (e) {
			if (err == -E2BIG)
				err = e;
			continue;
		}
		e = hm_caps_dbg_on_alloc(r, lvl, raw, head, size, file, line, func, bt, bt_n);
		if (e) {
			struct hm_segment_desc rel;

			hm_caps_lock(r);
			hm_caps_region_free_locked(r, raw, &rel);
			hm_caps_unlock(r);
			hm_caps_region_release_seg(r, &rel);
			return e;
		}
		*out = (void *)(raw + head);
		if (where)
			*where = r;
		if (hm_caps_listening()) {
			uint64_t dev = 0;

			hm_core_dev_addr(hm_caps_lock(r), raw + head, &dev);
			hm_caps_unlock(r);
			hm_caps_emit(CAPS_EV_ALLOC, r, *out, size, 0, dev);
		}
		return 0;
	}
	return err;
}

static int alloc_caps(size_t size, size_t align, uint32_t caps, const char *file, int line,
		      const char *func, void **out)
{
	int err = hm_caps_validate(caps);

	*out = NULL;
	if (err)
		return err;
	hm_caps_reg_rdlock();
	err = hm_caps_alloc_cands(hm_caps_cands(caps), size, align, file, line, func, out, NULL);
	hm_caps_reg_unlock();
	return err;
}

static void *result(int err, void *p, size_t size, uint32_t caps, const char *func)
{
	if (!err)
		return p;
	hm_caps_failed(size, caps, func, err);
	return NULL;
}

void *caps_malloc(size_t size, uint32_t caps)
{
	void *p = NULL;
	int err = alloc_caps(size, 0, caps, NULL, 0, NULL, &p);

	return result(err, p, size, caps, __func__);
}

void *caps_malloc_site(size_t size, uint32_t caps, const char *file, int line, const char *func)
{
	void *p = NULL;
	int err = alloc_caps(size, 0, caps, file, line, func, &p);

	return result(err, p, size, caps, "caps_malloc");
}

void *caps_aligned_alloc(size_t align, size_t size, uint32_t caps)
{
	void *p = NULL;
	int err = align && !(align & (align - 1)) ? 0 : -EINVAL;

	if (!err)
		err = alloc_caps(size, align, caps, NULL, 0, NULL, &p);
	return result(err, p, size, caps, __func__);
}

void *caps_calloc(size_t n, size_t size, uint32_t caps)
{
	size_t bytes;
	void *p = NULL;
	int err;

	if (__builtin_mul_overflow(n, size, &bytes))
		err = -ENOMEM;
	else
		err = alloc_caps(bytes, 0, caps, NULL, 0, NULL, &p);
	if (!err) {
		if (caps_region_caps(p) & HAPMEM_CAP_PROTECTED) {
			/* the CPU cannot zero it; the driver gives zeroed pages,
			 * but a recycled block is not: refuse */
			caps_free(p);
			err = -EPERM;
		} else {
			memset(p, 0, bytes);
		}
	}
	return result(err, p, bytes, caps, __func__);
}

void *caps_malloc_prefer(size_t size, unsigned int n, ...)
{
	uint32_t caps = 0;
	va_list ap;
	unsigned int i;
	void *p = NULL;
	int err = -EINVAL;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		int e;

		caps = va_arg(ap, uint32_t);
		e = alloc_caps(size, 0, caps, NULL, 0, NULL, &p);
		if (!e) {
			err = 0;
			break;
		}
		/* the most telling error: a full candidate beats "no such caps" */
		if (err == -EINVAL || err == -ENOTSUP || err == -E2BIG)
			err = e;
	}
	va_end(ap);
	return result(err, p, size, caps, __func__);
}

void *caps_attr_alloc(uint32_t attr, size_t size, size_t align)
{
	void *p = NULL;
	int err = (align & (align - 1)) ? -EINVAL : 0;

	if (!err) {
		hm_caps_reg_rdlock();
		err = hm_caps_alloc_cands(hm_caps_attr_cands(attr), size, align, NULL, 0, NULL,
					  &p, NULL);
		hm_caps_reg_unlock();
	}
	return result(err, p, size, 0, __func__);
}

/* ---- free ----------------------------------------------------------------- */

int caps_free(void *ptr)
{
	struct caps_region *r = NULL;
	struct hm_segment_desc rel = { .len = 0 };
	struct caps_seg *seg;
	size_t size = 0, lf = 0;
	uintptr_t raw = 0;
	uint64_t dev = 0;
	int err;

	if (!ptr)
		return 0;
	hm_caps_reg_rdlock();
	hm_caps_amap_rdlock();
	seg = hm_caps_amap_find((uintptr_t)ptr);
	if (!seg) {
		err = -EFAULT;
	} else {
		struct hm_core *c;

		r = seg->region;
		c = hm_caps_lock(r);
		if (hm_caps_listening())
			dev = seg->desc.dev + ((uintptr_t)ptr - seg->base);
		err = hm_caps_dbg_on_free_locked(r, (uintptr_t)ptr, &raw, &size);
		if (!err)
			err = hm_caps_region_free_locked(r, raw, &rel);
		lf = hm_core_largest_free(c);
		hm_caps_unlock(r);
	}
	hm_caps_amap_unlock();
	if (err && hm_caps_dbg_level() >= CAPS_DEBUG_BASIC) {
		if (err == -EFAULT)
			hm_caps_report("hapmem caps: invalid free of %p: not in any region", ptr);
		else
			hm_caps_report("hapmem caps: double or invalid free of %p in region %s",
				       ptr, r->name);
	}
	if (!err) {
		hm_caps_region_release_seg(r, &rel);
		if ((size_t)atomic_load(&r->min_wait) <= lf)
			hm_caps_wake(r, lf);
		hm_caps_emit(CAPS_EV_FREE, r, ptr, size, 0, dev);
	}
	hm_caps_reg_unlock();
	return err;
}

/* ---- realloc -------------------------------------------------------------- */

/* Whether @r is among the regions that may serve @caps (0: any). */
static bool region_serves(const struct caps_region *r, uint32_t caps)
{
	const struct caps_cands *c;
	unsigned int i;

	if (!caps)
		return true;
	c = hm_caps_cands(caps);
	for (i = 0; i < c->n; i++)
		if (c->slot[i] == r->slot)
			return true;
	return false;
}

/*
 * r->lock held: resize the block at @ptr in place, its old size in *@old;
 * -ENOMEM when it must move instead (guarded blocks always do).
 */
static int resize_in_place_locked(struct caps_region *r, void *ptr, size_t size,
				  bool must_move, size_t *old)
{
	size_t oldblk = 0, newblk = 0;
	int err;

	if (r->recs.count && hm_caps_rec_find(r, (uintptr_t)ptr)) {
		*old = hm_caps_rec_find(r, (uintptr_t)ptr)->size;
		return -ENOMEM;
	}
	err = hm_core_block_size(hm_caps_core(r), (uintptr_t)ptr, &oldblk);
	*old = oldblk;
	if (!err && must_move)
		err = -ENOMEM;
	else if (!err)
		err = hm_core_resize(hm_caps_core(r), (uintptr_t)ptr, size);
	if (err)
		return err;
	hm_caps_win_note(r);
	if (r->verify_free) {
		hm_core_block_size(hm_caps_core(r), (uintptr_t)ptr, &newblk);
		if (newblk < oldblk)	/* the tail went back: keep it poisoned */
			memset((char *)ptr + newblk, CAPS_POISON_FREE, oldblk - newblk);
		else if (newblk > oldblk)
			memset((char *)ptr + oldblk, CAPS_POISON_ALLOC, newblk - oldblk);
	}
	return 0;
}

/* What a move needs to know of the block's region, read under the locks. */
struct realloc_src {
	uint32_t keep;		/* the region's capabilities */
	uint32_t attr;
	bool has_attr;
	bool cpu_less;
	size_t old;		/* the block's size */
};

/*
 * Move the block to a new one with @caps, or with its region's
 * capabilities (or attribute) when @caps is 0; the old block is freed
 * only once the copy is made.
 */
static void *realloc_move(void *ptr, size_t size, uint32_t caps, const struct realloc_src *src)
{
	void *n = NULL;

	if (caps || src->keep)
		n = caps_malloc(size, caps ? caps : src->keep);
	else if (src->has_attr)
		n = caps_attr_alloc(src->attr, size, 0);
	if (!n)
		return NULL;	/* the failure hook ran already; ptr is intact */
	memcpy(n, ptr, src->old < size ? src->old : size);
	caps_free(ptr);
	return n;
}

void *caps_realloc(void *ptr, size_t size, uint32_t caps)
{
	struct realloc_src src = { 0 };
	struct caps_region *r;
	struct caps_seg *seg;
	bool must_move;
	int err;

	if (!ptr)
		return caps_malloc(size, caps);
	if (!size) {
		caps_free(ptr);
		return NULL;
	}
	err = hm_caps_validate(caps);
	if (err) {
		hm_caps_failed(size, caps, __func__, err);
		return NULL;
	}
	hm_caps_reg_rdlock();
	hm_caps_amap_rdlock();
	seg = hm_caps_amap_find((uintptr_t)ptr);
	if (!seg) {
		err = -EFAULT;
		goto unlock;
	}
	r = seg->region;
	/* asked-for capabilities its region lacks: the block moves */
	must_move = !region_serves(r, caps);
	src.keep = r->all_caps;
	src.attr = r->attr;
	src.has_attr = r->has_attr;
	src.cpu_less = r->cpu_less;
	hm_caps_lock(r);
	err = resize_in_place_locked(r, ptr, size, must_move, &src.old);
	hm_caps_unlock(r);
	if (!err) {
		hm_caps_amap_unlock();
		hm_caps_reg_unlock();
		hm_caps_emit(CAPS_EV_RESIZE, r, ptr, size, src.old, 0);
		return ptr;
	}
unlock:
	hm_caps_amap_unlock();
	hm_caps_reg_unlock();
	if (err == -ENOMEM && src.cpu_less)
		err = -EPERM;	/* the CPU cannot copy protected memory */
	if (err == -ENOMEM)
		return realloc_move(ptr, size, caps, &src);
	if (err == -EFAULT || err == -EINVAL)
		hm_caps_report("hapmem caps: caps_realloc of %p: not a live block", ptr);
	hm_caps_failed(size, caps, __func__, err);
	return NULL;
}

/* ---- queries -------------------------------------------------------------- */

int caps_dev_addr(const void *ptr, uint64_t *dev)
{
	struct caps_seg *seg;
	int err = -EFAULT;

	hm_caps_amap_rdlock();
	seg = hm_caps_amap_find((uintptr_t)ptr);
	if (seg) {
		*dev = seg->desc.dev + ((uintptr_t)ptr - seg->base);
		err = 0;
	}
	hm_caps_amap_unlock();
	return err;
}

size_t caps_block_size(const void *ptr)
{
	struct caps_seg *seg;
	size_t size = 0;

	hm_caps_reg_rdlock();
	hm_caps_amap_rdlock();
	seg = hm_caps_amap_find((uintptr_t)ptr);
	if (seg) {
		struct caps_region *r = seg->region;
		struct hm_core *c = hm_caps_lock(r);
		struct caps_rec *rec;

		rec = r->recs.count ? hm_caps_rec_find(r, (uintptr_t)ptr) : NULL;
		if (rec)
			size = rec->size;
		else if (hm_core_block_size(c, (uintptr_t)ptr, &size))
			size = 0;
		hm_caps_unlock(r);
	}
	hm_caps_amap_unlock();
	hm_caps_reg_unlock();
	return size;
}

const char *caps_region_name(const void *ptr)
{
	struct caps_seg *seg;
	const char *name = NULL;

	hm_caps_amap_rdlock();
	seg = hm_caps_amap_find((uintptr_t)ptr);
	if (seg)
		name = seg->region->name;	/* valid while the block lives */
	hm_caps_amap_unlock();
	return name;
}

uint32_t caps_region_caps(const void *ptr)
{
	struct caps_seg *seg;
	uint32_t caps = 0;

	hm_caps_amap_rdlock();
	seg = hm_caps_amap_find((uintptr_t)ptr);
	if (seg)
		caps = seg->region->all_caps;
	hm_caps_amap_unlock();
	return caps;
}
