// SPDX-License-Identifier: GPL-2.0-only
/*
 * caps_stats(): the figures of the regions that can serve a set of
 * capabilities, with the largest size an allocation can get at the
 * current debug level; caps_walk(): their blocks.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <string.h>

#include "caps_internal.h"

/* The largest user size whose guarded block fits in a free block of @lf. */
static size_t allocatable(const struct caps_region *r, enum caps_debug_level lvl, size_t lf)
{
	size_t head, tail;

	hm_caps_dbg_layout(r, lvl, lf, 0, &head, &tail);
	return lf > head + tail ? lf - head - tail : 0;
}

atomic_bool hm_caps_win_on;

int hm_caps_window_start(void)
{
	unsigned int s;

	/* on first, so no allocation after a region's reset goes unnoted */
	atomic_store(&hm_caps_win_on, true);
	hm_caps_reg_rdlock();
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = hm_caps_region_at(s);

		if (!r)
			continue;
		r->win_peak = (size_t)hm_core_used_bytes(hm_caps_lock(r));
		hm_caps_unlock(r);
	}
	hm_caps_reg_unlock();
	return 0;
}

int hm_caps_window_stop(void)
{
	bool on = true;

	return atomic_compare_exchange_strong(&hm_caps_win_on, &on, false) ? 0 : -EINVAL;
}

/* Region lock held: total minus the most used (since the window's start, if on). */
static size_t min_free(const struct caps_region *r, const struct hm_core_stats *st)
{
	uint64_t peak = st->peak_used_bytes;

	if (atomic_load(&hm_caps_win_on))
		peak = r->win_peak > st->used_bytes ? r->win_peak : st->used_bytes;
	return st->total_bytes > peak ? (size_t)(st->total_bytes - peak) : 0;
}

/* Under the registry lock: the regions that can serve @caps (0: all). */
static void pick_regions(uint32_t caps, bool pick[HAPMEM_CAPS_MAX_REGIONS])
{
	unsigned int s;

	if (caps) {
		const struct caps_cands *c = hm_caps_cands(caps);

		for (s = 0; s < c->n; s++)
			pick[c->slot[s]] = true;
	} else {
		for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++)
			pick[s] = true;
	}
}

int caps_stats(uint32_t caps, struct caps_stats *out)
{
	enum caps_debug_level lvl = hm_caps_dbg_level();
	bool pick[HAPMEM_CAPS_MAX_REGIONS] = { false };
	unsigned int s;

	if (!out || (caps && hm_caps_validate(caps)))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	hm_caps_reg_rdlock();
	pick_regions(caps, pick);
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = pick[s] ? hm_caps_region_at(s) : NULL;
		struct hm_core_stats st;
		struct hm_core *c;
		size_t lf, mf;

		if (!r)
			continue;
		c = hm_caps_lock(r);
		hm_core_stats(c, &st);
		lf = hm_core_largest_free(c);
		mf = min_free(r, &st);
		hm_caps_unlock(r);
		lf = allocatable(r, lvl, lf);
		out->regions++;
		out->total_bytes += st.total_bytes;
		out->free_bytes += st.free_bytes;
		out->allocated_bytes += st.used_bytes;
		out->minimum_free += mf;
		out->allocated_blocks += st.live_blocks;
		out->free_blocks += st.free_blocks;
		if (lf > out->largest_free)
			out->largest_free = lf;
	}
	hm_caps_reg_unlock();
	return 0;
}

#define WALK_BATCH 64

struct walk_batch {
	struct hm_block_info b[WALK_BATCH];
	unsigned int n;
};

static void collect(const struct hm_block_info *blk, void *arg)
{
	struct walk_batch *wb = arg;

	if (wb->n < WALK_BATCH)
		wb->b[wb->n++] = *blk;
}

int caps_walk(uint32_t caps, caps_walk_fn fn, void *arg)
{
	bool pick[HAPMEM_CAPS_MAX_REGIONS] = { false };
	struct walk_batch wb;
	unsigned int s, i;

	if (!fn || (caps && hm_caps_validate(caps)))
		return -EINVAL;
	hm_caps_reg_rdlock();
	pick_regions(caps, pick);
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = pick[s] ? hm_caps_region_at(s) : NULL;
		struct hm_core_cursor cur = { 0 };
		unsigned int skip_seg = UINT32_MAX;
		int more = 1;

		if (!r)
			continue;
		while (more) {
			struct caps_walk_block w = { .region = r->name };
			uintptr_t base = 0, owner;
			uint64_t dev;
			size_t len = 0;
			unsigned int seg = UINT32_MAX;

			wb.n = 0;
			more = hm_core_walk(hm_caps_lock(r), &cur, WALK_BATCH, collect, &wb);
			hm_caps_unlock(r);
			for (i = 0; i < wb.n; i++) {
				const struct hm_block_info *b = &wb.b[i];

				if (b->seg == skip_seg)
					continue;
				if (b->seg != seg) {
					seg = b->seg;
					if (hm_core_segment(hm_caps_lock(r), seg, &base, &dev,
							    &len, &owner))
						base = len = 0;
					hm_caps_unlock(r);
				}
				w.seg_start = base;
				w.seg_end = base + len;
				w.ptr = (void *)b->addr;
				w.size = b->size;
				w.used = b->state == HM_BLOCK_USED;
				if (!fn(&w, arg))
					skip_seg = seg;
			}
		}
	}
	hm_caps_reg_unlock();
	return 0;
}
