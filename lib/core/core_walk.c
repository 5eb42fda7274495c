// SPDX-License-Identifier: GPL-2.0-only
/*
 * Iteration over the core's blocks (incremental) and the full metadata
 * consistency check used by tests and the fuzzer.
 */
#include <errno.h>

#include "core_impl.h"

static enum hm_block_state public_state(uint8_t st)
{
	return st == ST_USED ? HM_BLOCK_USED : st == ST_CACHED ? HM_BLOCK_CACHED : HM_BLOCK_FREE;
}

/*
 * Where to continue in segment @cur->seg.  A batch always stops just after
 * a live or cached block, which the address index finds again in O(1).  If
 * that block was freed in the meantime its position is gone, and the walk
 * rescans the segment from the start, skipping what it already reported.
 */
static uint32_t resume(const struct hm_core *c, const struct hm_core_cursor *cur)
{
	uint32_t id = ix_find(c, cur->last);

	if (id && c->blk[id].seg == cur->seg)
		return c->blk[id].next_phys;
	for (id = c->seg[cur->seg].first; id && blk_addr(c, &c->blk[id]) <= cur->last;)
		id = c->blk[id].next_phys;
	return id;
}

int hm_core_walk(struct hm_core *c, struct hm_core_cursor *cur,
		 unsigned int budget, hm_core_visit_fn fn, void *arg)
{
	if (!budget)
		budget = 1;
	for (; cur->seg < c->seg_slots; cur->seg++, cur->in_seg = false) {
		const struct hm_seg *g = &c->seg[cur->seg];
		uint32_t id;

		if (!g->live || (cur->in_seg && g->gen != cur->seg_gen))
			continue;
		if (cur->in_seg) {
			id = resume(c, cur);
		} else {
			cur->in_seg = true;
			cur->seg_gen = g->gen;
			cur->last = 0;
			id = g->first;
		}
		for (; id; id = c->blk[id].next_phys) {
			const struct hm_block *b = &c->blk[id];
			struct hm_block_info info = {
				.addr = blk_addr(c, b),
				.size = (size_t)b->size << GRAN_SHIFT,
				.dev = g->dev + ((uint64_t)b->off << GRAN_SHIFT),
				.seg = cur->seg,
				.tag = b->state == ST_FREE ? 0 : b->tag,	/* free blocks carry no tag */
				.state = public_state(b->state),
			};

			/* Stop only right after a live or cached block: see resume(). */
			if (!budget)
				return 1;
			fn(&info, arg);
			if (b->state != ST_FREE) {
				cur->last = info.addr;
				budget--;
			}
		}
	}
	return 0;
}

#define CHECK(cond, msg) do { if (!(cond)) { *why = (msg); return -EUCLEAN; } } while (0)

static int check_lists(const struct hm_core *c, uint32_t *nfree, const char **why)
{
	unsigned int bk;
	uint32_t id, prev;

	*nfree = 0;
	for (bk = 0; bk < BUCKETS; bk++) {
		unsigned int fl = bk / SL_COUNT, sl = bk % SL_COUNT;
		int bit = !!(c->sl_bitmap[fl] & (1u << sl));

		CHECK(bit == !!c->heads[bk], "second-level bit disagrees with its list");
		CHECK(!!c->sl_bitmap[fl] == !!(c->fl_bitmap & (1u << fl)),
		      "first-level bit disagrees with second level");
		for (prev = 0, id = c->heads[bk]; id; prev = id, id = c->blk[id].next_free) {
			CHECK(id < c->blk_cap, "free list id out of range");
			CHECK(c->blk[id].state == ST_FREE, "non-free block on a free list");
			CHECK(bucket_of(c->blk[id].size) == bk, "free block in the wrong class");
			CHECK(c->blk[id].prev_free == prev, "free list back link broken");
			CHECK(++*nfree <= c->blk_cap, "free list cycle");
		}
	}
	return 0;
}

static int check_cache(const struct hm_core *c, const char **why)
{
	uint64_t gran = 0;
	uint32_t n = 0, id, depth;
	unsigned int bk;

	for (bk = 0; bk < CACHE_BUCKETS; bk++) {
		for (depth = 0, id = c->cache_head[bk]; id; id = c->blk[id].next_free, depth++) {
			CHECK(c->blk[id].state == ST_CACHED, "non-cached block in the cache");
			CHECK(bucket_of(c->blk[id].size) == bk, "cached block in the wrong class");
			CHECK(depth < c->cache_count[bk], "cache depth exceeds its count");
			gran += c->blk[id].size;
			n++;
		}
		CHECK(depth == c->cache_count[bk], "cache count mismatch");
	}
	CHECK(gran == c->cached_gran && n == c->cached_blocks, "cache totals mismatch");
	CHECK(gran <= c->cache_cap_gran, "cache above its bound");
	return 0;
}

int hm_core_check(const struct hm_core *c, const char **why)
{
	uint64_t total = 0, used = 0;
	uint32_t nfree_list, nfree = 0, nlive = 0, nindexed = 0, nunused = 0, nsegs = 0, s;
	uint64_t unused_gran = 0;
	uint16_t u;
	int err;

	err = check_lists(c, &nfree_list, why);
	if (!err)
		err = check_cache(c, why);
	if (err)
		return err;
	for (s = 0; s < c->seg_slots; s++) {
		const struct hm_seg *g = &c->seg[s];
		uint32_t id, prev = 0, off = 0;
		uint64_t busy = 0;

		if (!g->live)
			continue;
		nsegs++;
		CHECK(seg_find(c, g->base) == s, "segment map misses a segment start");
		CHECK(seg_find(c, g->base + ((uintptr_t)g->ngran << GRAN_SHIFT) - 1) == s,
		      "segment map misses a segment end");
		for (id = g->first; id; prev = id, id = c->blk[id].next_phys) {
			const struct hm_block *b = &c->blk[id];

			CHECK(b->seg == s, "block in the wrong segment");
			CHECK(b->prev_phys == prev, "address-order back link broken");
			CHECK(b->off == off && b->size, "blocks not contiguous");
			CHECK((uint64_t)off + b->size <= g->ngran, "block past segment end");
			off += b->size;
			if (b->state == ST_FREE) {
				CHECK(!prev || c->blk[prev].state != ST_FREE, "adjacent free blocks");
				nfree++;
			} else {
				CHECK(b->state == ST_USED || b->state == ST_CACHED, "pool block in a segment");
				CHECK(ix_find(c, blk_addr(c, b)) == id, "live block missing from index");
				busy += b->size;
				nindexed++;
				if (b->state == ST_USED) {
					nlive++;
					used += b->size;
				}
			}
		}
		CHECK(off == g->ngran, "blocks do not cover the segment");
		CHECK(busy == g->busy, "segment busy count mismatch");
		total += g->ngran;
	}
	for (u = c->unused_head; u != (uint16_t)HM_SEG_NONE; u = c->seg[u].unused_next) {
		CHECK(c->seg[u].live && !c->seg[u].busy, "busy segment on the unused list");
		CHECK(++nunused <= c->seg_slots, "unused list cycle");
		unused_gran += c->seg[u].ngran;
	}
	CHECK(nunused == c->nunused, "unused segment count mismatch");
	CHECK(unused_gran == c->unused_gran, "unused segment granules mismatch");
	CHECK(nsegs == c->nsegs && total == c->total_gran, "segment totals mismatch");
	CHECK(nfree == nfree_list && nfree == c->free_blocks, "free block count mismatch");
	CHECK(nlive == c->live_blocks && used == c->used_gran, "live totals mismatch");
	CHECK(nindexed == c->ix_count, "index holds stale entries");
	CHECK(c->peak_used_gran >= c->used_gran, "peak below current use");
	return 0;
}
