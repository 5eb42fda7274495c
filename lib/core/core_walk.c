// SPDX-License-Identifier: GPL-2.0-only
/*
 * Iteration over the core's blocks (incremental) and the full metadata
 * consistency check used by tests and the fuzzer.
 */
#include <errno.h>

#include "core_impl.h"

/*
 * A block's public state and tag: live, or else free (indexed, or an
 * orphan: there are no cached blocks while there are orphans) or cached.
 */
static void block_state(const struct hm_core *c, unsigned int seg, uint32_t off,
			struct hm_block_info *info)
{
	info->state = !nl_test(&c->seg[seg], off) ? HM_BLOCK_USED :
		      c->orphans || rix_find(c, seg, off) ? HM_BLOCK_FREE : HM_BLOCK_CACHED;
	/* Free blocks carry no tag. */
	info->tag = info->state == HM_BLOCK_FREE ? 0 : tag_find(c, seg, off);
}

/*
 * Where to continue in segment @cur->seg.  A batch always stops just after
 * a live or cached block; the walk resumes at the first block starting
 * after it, found in the block-start bitmap whether or not that block
 * still exists (blocks starting at or before it were reported, or are
 * new: merged free space).
 */
static uint32_t resume(const struct hm_core *c, const struct hm_core_cursor *cur)
{
	const struct hm_seg *g = &c->seg[cur->seg];

	/* Stopped before the segment's first live block: start over. */
	if (!cur->last)
		return 0;
	return bm_next(g, (uint64_t)((cur->last - g->base) >> GRAN_SHIFT) + 1);
}

int hm_core_walk(struct hm_core *c, struct hm_core_cursor *cur,
		 unsigned int budget, hm_core_visit_fn fn, void *arg)
{
	if (!budget)
		budget = 1;
	for (; cur->seg < c->seg_slots; cur->seg++, cur->in_seg = false) {
		const struct hm_seg *g = &c->seg[cur->seg];
		uint32_t off, next;

		if (!g->live || (cur->in_seg && g->gen != cur->seg_gen))
			continue;
		if (cur->in_seg) {
			off = resume(c, cur);
		} else {
			cur->in_seg = true;
			cur->seg_gen = g->gen;
			cur->last = 0;
			off = 0;
		}
		for (; off < g->ngran; off = next) {
			struct hm_block_info info = {
				.addr = seg_addr(c, cur->seg, off),
				.dev = g->dev + ((uint64_t)off << GRAN_SHIFT),
				.seg = cur->seg,
			};

			next = bm_next(g, (uint64_t)off + 1);
			info.size = (size_t)(next - off) << GRAN_SHIFT;
			block_state(c, cur->seg, off, &info);
			/* Stop only right after a live or cached block: see resume(). */
			if (!budget)
				return 1;
			fn(&info, arg);
			if (info.state != HM_BLOCK_FREE) {
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
		for (prev = 0, id = c->heads[bk]; id; prev = id, id = c->rec[id].next) {
			CHECK(id < c->rec_cap, "free list id out of range");
			CHECK(c->rec[id].state == ST_FREE, "non-free block on a free list");
			CHECK(bucket_of(c->rec[id].size) == bk, "free block in the wrong class");
			CHECK(c->rec[id].prev == prev, "free list back link broken");
			CHECK(++*nfree <= c->rec_cap, "free list cycle");
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
		for (depth = 0, id = c->cache_head[bk]; id; id = c->rec[id].next, depth++) {
			CHECK(id < c->rec_cap, "cache id out of range");
			const struct hm_rec *b = &c->rec[id];

			CHECK(b->state == ST_CACHED, "non-cached block in the cache");
			CHECK(bucket_of(b->size) == bk, "cached block in the wrong class");
			CHECK(b->seg < c->seg_slots && c->seg[b->seg].live, "cached block of a dead segment");
			CHECK(bm_test(&c->seg[b->seg], b->off) && nl_test(&c->seg[b->seg], b->off) &&
			      blk_size(&c->seg[b->seg], b->off) == b->size, "cached block not in its segment");
			CHECK(!rix_find(c, b->seg, b->off), "cached block indexed");
			CHECK(depth < c->cache_count[bk], "cache depth exceeds its count");
			gran += c->rec[id].size;
			n++;
		}
		CHECK(depth == c->cache_count[bk], "cache count mismatch");
	}
	CHECK(gran == c->cached_gran && n == c->cached_blocks, "cache totals mismatch");
	CHECK(gran <= c->cache_cap_gran, "cache above its bound");
	return 0;
}

/* Every summary bit of @g's bitmap says whether the word below it is non-zero. */
static int check_bitmap(const struct hm_seg *g, const char **why)
{
	unsigned int k;
	uint32_t w;

	CHECK(g->bm_nw[g->bm_top] == 1, "bitmap top level is not one word");
	for (k = 1; k <= g->bm_top; k++)
		for (w = 0; w < g->bm_nw[k - 1]; w++)
			CHECK(!!g->bm[g->bm_lo[k - 1] + w] ==
			      (int)((g->bm[g->bm_lo[k] + w / 64] >> (w % 64)) & 1),
			      "bitmap summary bit disagrees with its word");
	CHECK(bm_test(g, 0), "segment start is not a block start");
	for (w = 0; w < g->bm_nw[0]; w++)
		CHECK(!(g->nl[w] & ~g->bm[w]), "not-live bit off a block start");
	if (g->ngran % 64)
		CHECK(!(g->bm[g->bm_nw[0] - 1] >> (g->ngran % 64)), "bitmap bit past segment end");
	return 0;
}

/* Records: every free one is indexed, every index entry is free, the pool is whole. */
static int check_records(const struct hm_core *c, uint32_t *nrec, const char **why)
{
	uint32_t id, n = 0, i;

	*nrec = 0;
	for (id = 1; id < c->rec_cap; id++) {
		const struct hm_rec *b = &c->rec[id];

		if (b->state == ST_POOL) {
			n++;
			continue;
		}
		CHECK(b->state == ST_FREE || b->state == ST_CACHED, "record in an unknown state");
		CHECK(b->seg < c->seg_slots && c->seg[b->seg].live, "record of a dead segment");
		if (b->state == ST_FREE) {
			CHECK(rix_find(c, b->seg, b->off) == id, "free record missing from its index");
			++*nrec;
		}
	}
	CHECK(n == c->rec_spare, "record pool count mismatch");
	for (n = 0, id = c->rec_pool; id; id = c->rec[id].next) {
		CHECK(id < c->rec_cap && c->rec[id].state == ST_POOL, "non-pool record in the pool");
		CHECK(++n <= c->rec_spare, "record pool cycle");
	}
	CHECK(n == c->rec_spare, "record pool list mismatch");
	for (n = 0, i = 0; i < c->rix_size; i++)
		if (c->rix[i]) {
			CHECK(c->rix[i] < c->rec_cap && c->rec[c->rix[i]].state == ST_FREE,
			      "index entry of a record not free");
			n++;
		}
	CHECK(n == c->rix_count && n == *nrec, "record index count mismatch");
	CHECK((uint64_t)(c->rix_count + c->cached_blocks) * 2 <= c->rix_size || !c->rix_size,
	      "record index has no room to flush the cache");
	return 0;
}

int hm_core_check(const struct hm_core *c, const char **why)
{
	uint64_t total = 0, used = 0;
	uint32_t nfree_list, nrec, nfree = 0, ncached = 0, nlive = 0, ntagged = 0;
	uint32_t nunused = 0, nsegs = 0, norphans = 0, s;
	uint64_t unused_gran = 0;
	uint16_t u;
	int err;

	err = check_lists(c, &nfree_list, why);
	if (!err)
		err = check_cache(c, why);
	if (!err)
		err = check_records(c, &nrec, why);
	if (err)
		return err;
	for (s = 0; s < c->seg_slots; s++) {
		const struct hm_seg *g = &c->seg[s];
		uint32_t off, next, id, orphans = 0;
		bool prev_free = false;
		uint64_t busy = 0;

		if (!g->live)
			continue;
		nsegs++;
		CHECK(seg_find(c, g->base) == s, "segment map misses a segment start");
		CHECK(seg_find(c, g->base + ((uintptr_t)g->ngran << GRAN_SHIFT) - 1) == s,
		      "segment map misses a segment end");
		err = check_bitmap(g, why);
		if (err)
			return err;
		for (off = 0; off < g->ngran; off = next) {
			next = bm_next(g, (uint64_t)off + 1);
			CHECK(next > off && next <= g->ngran, "bitmap search out of order");
			CHECK(bm_prev(g, next - 1) == off, "bitmap backward search disagrees");
			id = rix_find(c, s, off);
			CHECK(!id || nl_test(g, off), "free block marked live");
			if (id) {
				CHECK(c->rec[id].size == next - off, "record size disagrees with bitmap");
				CHECK(!prev_free, "adjacent free blocks");
				CHECK(!tag_find(c, s, off), "free block with a tag");
				nfree++;
				prev_free = true;
				continue;
			}
			if (nl_test(g, off) && c->orphans) {
				/* A free block without a record. */
				CHECK(!prev_free, "orphan next to a free block");
				CHECK(!tag_find(c, s, off), "orphan with a tag");
				orphans++;
				prev_free = true;
				continue;
			}
			prev_free = false;
			busy += next - off;
			ntagged += !!tag_find(c, s, off);
			if (nl_test(g, off)) {
				ncached++;
			} else {
				nlive++;
				used += next - off;
			}
		}
		CHECK(busy == g->busy, "segment busy count mismatch");
		CHECK(orphans == g->orphans, "segment orphan count mismatch");
		norphans += orphans;
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
	CHECK(norphans == c->orphans, "orphan count mismatch");
	CHECK(!c->orphans || (!c->cached_blocks && !c->cache_cap_gran), "cache open beside orphans");
	CHECK(nfree == nfree_list && nfree == c->free_blocks, "free block count mismatch");
	CHECK(ncached == c->cached_blocks && nfree == nrec, "record totals mismatch");
	CHECK(nlive == c->live_blocks && used == c->used_gran, "live totals mismatch");
	CHECK(ntagged == c->tag_count, "tag table holds stale entries");
	CHECK(!c->tag_count || (uint64_t)c->tag_count * 2 <= c->tag_size, "tag table overfull");
	CHECK(c->peak_used_gran >= c->used_gran, "peak below current use");
	return 0;
}
