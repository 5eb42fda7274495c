// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incremental integrity check of the capability heaps.
 *
 * caps_check_step() walks at most @budget blocks per call, with the
 * region lock held for that batch only (hm_core_walk is resumable), so a
 * full pass over a large heap never stops the other threads for longer
 * than @budget block checks.  Blocks that change between steps are
 * checked as they are when the walk reaches them.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <string.h>

#include "caps/caps_internal.h"

struct check_ctx {
	struct caps_region *r;
	unsigned long blocks, errors;
};

static void visit(const struct hm_block_info *b, void *arg)
{
	struct check_ctx *c = arg;

	c->blocks++;
	c->errors += hm_caps_dbg_check_block(c->r, b);
}

int caps_check_step(struct caps_check_cursor *cur, unsigned int budget)
{
	int more = 0;

	if (!budget)
		budget = 1;
	hm_caps_reg_rdlock();
	while (cur->region < HAPMEM_CAPS_MAX_REGIONS) {
		struct caps_region *r = hm_caps_region_at(cur->region);
		struct hm_core_cursor cc = {
			.seg = cur->seg_, .seg_gen = cur->seg_gen_, .last = cur->last_,
			.in_seg = cur->in_seg_,
		};
		struct check_ctx c = { .r = r };

		if (!r || (cur->region_id && cur->region_id != r->id)) {
			/* gone or replaced: next slot */
			cur->region++;
			cur->region_id = 0;
			memset(&cc, 0, sizeof(cc));
			cur->seg_ = cur->seg_gen_ = 0;
			cur->last_ = 0;
			cur->in_seg_ = false;
			continue;
		}
		cur->region_id = r->id;
		more = hm_core_walk(hm_caps_lock(r), &cc, budget, visit, &c);
		hm_caps_unlock(r);
		cur->blocks += c.blocks;
		cur->errors += c.errors;
		if (more) {
			cur->seg_ = cc.seg;
			cur->seg_gen_ = cc.seg_gen;
			cur->last_ = cc.last;
			cur->in_seg_ = cc.in_seg;
			break;
		}
		cur->region++;
		cur->region_id = 0;
		cur->seg_ = cur->seg_gen_ = 0;
		cur->last_ = 0;
		cur->in_seg_ = false;
		more = cur->region < HAPMEM_CAPS_MAX_REGIONS;
		break;
	}
	hm_caps_reg_unlock();
	return more;
}

long caps_check_all(void)
{
	struct caps_check_cursor cur = { 0 };

	while (caps_check_step(&cur, 256))
		;
	return (long)cur.errors;
}
