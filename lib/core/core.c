// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allocator core: segregated fit with out-of-band metadata.
 * Design notes are in core_impl.h and Documentation/heap.rst.
 *
 * Every operation is O(1): size classes come from two bitmaps and a count
 * of leading zeros, neighbours from address-order links, blocks from an
 * address hash.  Metadata arrays grow only on the allocation path, before
 * anything is modified, so free() never allocates and never fails on a
 * valid block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define NO_SEG16	((uint16_t)HM_SEG_NONE)

/* ---- descriptor pool ---------------------------------------------------- */

/* Make @n descriptors available without further allocation. */
static int blk_reserve(struct hm_core *c, uint32_t n)
{
	uint32_t cap, i;
	struct hm_block *nb;

	if (c->blk_spare >= n)
		return 0;
	/* Grow by a sixteenth: the array stays within ~6% of its peak need. */
	cap = c->blk_cap;
	while (cap - c->blk_cap + c->blk_spare < n) {
		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		cap += cap / 16 > 64 ? cap / 16 : 64;
	}
	nb = realloc(c->blk, (size_t)cap * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	/* Id 0 means "none", so a fresh pool starts handing out id 1. */
	for (i = cap; i-- > (c->blk_cap ? c->blk_cap : 1);) {
		nb[i] = (struct hm_block){ .state = ST_POOL, .next_free = c->blk_pool };
		c->blk_pool = i;
		c->blk_spare++;
	}
	if (!c->blk_cap)
		nb[0] = (struct hm_block){ 0 };
	c->blk = nb;
	c->blk_cap = cap;
	return 0;
}

static uint32_t blk_get(struct hm_core *c)
{
	uint32_t id = c->blk_pool;

	c->blk_pool = c->blk[id].next_free;
	c->blk_spare--;
	return id;
}

static void blk_put(struct hm_core *c, uint32_t id)
{
	c->blk[id] = (struct hm_block){ .state = ST_POOL, .next_free = c->blk_pool };
	c->blk_pool = id;
	c->blk_spare++;
}

/* ---- address index ------------------------------------------------------ */

static void ix_put(struct hm_core *c, uint32_t id)
{
	uint32_t i = ix_hash(c, blk_addr(c, &c->blk[id]));

	while (c->ix[i])
		i = ix_next(c, i);
	c->ix[i] = id;
	c->ix_count++;
}

/*
 * Room for one more entry at a load factor of at most 1/2 (short probe
 * chains: free() looks a block up here).  The table doubles when full and
 * halves below 1/8 full (hysteresis), so its size follows the live block
 * count both ways.  Both happen on the allocation path only (free() never
 * allocates); a rehash costs amortised O(1) per operation.
 */
static int ix_reserve(struct hm_core *c)
{
	uint32_t old_size = c->ix_size, size, i, *old = c->ix;
	bool shrink = false;

	if ((uint64_t)(c->ix_count + 1) * 2 <= old_size) {
		if (old_size <= 64 || (uint64_t)c->ix_count * 8 >= old_size)
			return 0;
		size = old_size / 4;
		shrink = true;
	} else {
		if (old_size >= (1u << 31))
			return -ENOMEM;
		size = old_size ? old_size * 2 : 64;
	}
	c->ix = calloc(size, sizeof(*c->ix));
	if (!c->ix) {
		c->ix = old;
		/* A failed shrink is harmless: the larger table stays. */
		return shrink ? 0 : -ENOMEM;
	}
	c->ix_size = size;
	c->ix_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i])
			ix_put(c, old[i]);
	free(old);
	return 0;
}

/* Remove block @id (present) by backward shift, keeping probe chains intact. */
static void ix_remove(struct hm_core *c, uint32_t id)
{
	uint32_t hole = ix_hash(c, blk_addr(c, &c->blk[id])), i, mask = c->ix_size - 1;

	while (c->ix[hole] != id)
		hole = ix_next(c, hole);
	for (i = hole;;) {
		uint32_t home;

		i = ix_next(c, i);
		if (!c->ix[i])
			break;
		home = ix_hash(c, blk_addr(c, &c->blk[c->ix[i]]));
		/* Move slot i into the hole unless its home lies cyclically in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			c->ix[hole] = c->ix[i];
			hole = i;
		}
	}
	c->ix[hole] = 0;
	c->ix_count--;
}

/* ---- segregated free lists ---------------------------------------------- */

static void list_insert(struct hm_core *c, uint32_t id)
{
	struct hm_block *b = &c->blk[id];
	unsigned int bk = bucket_of(b->size);

	b->state = ST_FREE;
	b->prev_free = 0;
	b->next_free = c->heads[bk];
	if (b->next_free)
		c->blk[b->next_free].prev_free = id;
	c->heads[bk] = id;
	c->fl_bitmap |= 1u << (bk / SL_COUNT);
	c->sl_bitmap[bk / SL_COUNT] |= 1u << (bk % SL_COUNT);
	c->free_blocks++;
}

static void list_remove(struct hm_core *c, uint32_t id)
{
	struct hm_block *b = &c->blk[id];
	unsigned int bk = bucket_of(b->size);

	if (b->prev_free)
		c->blk[b->prev_free].next_free = b->next_free;
	else
		c->heads[bk] = b->next_free;
	if (b->next_free)
		c->blk[b->next_free].prev_free = b->prev_free;
	if (!c->heads[bk]) {
		c->sl_bitmap[bk / SL_COUNT] &= ~(1u << (bk % SL_COUNT));
		if (!c->sl_bitmap[bk / SL_COUNT])
			c->fl_bitmap &= ~(1u << (bk / SL_COUNT));
	}
	c->free_blocks--;
}

/* First non-empty class at or above @bk, or BUCKETS. */
static unsigned int bucket_nonempty(const struct hm_core *c, unsigned int bk)
{
	unsigned int fl = bk / SL_COUNT;
	uint32_t sl_map, fl_map;

	if (bk >= BUCKETS)
		return BUCKETS;
	sl_map = c->sl_bitmap[fl] & (~0u << (bk % SL_COUNT));
	if (!sl_map) {
		fl_map = c->fl_bitmap & (~0u << (fl + 1));
		if (!fl_map)
			return BUCKETS;
		fl = (unsigned int)__builtin_ctz(fl_map);
		sl_map = c->sl_bitmap[fl];
	}
	return fl * SL_COUNT + (unsigned int)__builtin_ctz(sl_map);
}

/*
 * Unlink and return a free block of at least @n granules, or 0.  A few
 * blocks of @n's own class are probed first: the rounded-up search alone
 * would skip a block that fits exactly (as when a fresh segment is sized
 * to the request), and trying them first keeps larger blocks whole.
 */
static uint32_t take_free(struct hm_core *c, uint32_t n)
{
	uint32_t id = c->heads[bucket_of(n)];
	unsigned int k, bk;

	for (k = 0; id && k < FIT_PROBE; k++, id = c->blk[id].next_free)
		if (c->blk[id].size >= n)
			goto found;
	bk = bucket_nonempty(c, bucket_fit(n));
	if (bk == BUCKETS)
		return 0;
	id = c->heads[bk];
found:
	list_remove(c, id);
	return id;
}

/* Cut block @id after @n granules; the tail becomes free. One spare descriptor needed. */
static void split_tail(struct hm_core *c, uint32_t id, uint32_t n)
{
	struct hm_block *b = &c->blk[id];
	uint32_t t;

	if (b->size == n)
		return;
	t = blk_get(c);
	b = &c->blk[id];
	c->blk[t] = (struct hm_block){
		.off = b->off + n, .size = b->size - n, .seg = b->seg,
		.prev_phys = id, .next_phys = b->next_phys,
	};
	if (b->next_phys)
		c->blk[b->next_phys].prev_phys = t;
	b->next_phys = t;
	b->size = n;
	list_insert(c, t);
}

/* ---- segment accounting ------------------------------------------------- */

static void unused_link(struct hm_core *c, uint16_t s)
{
	c->unused_gran += c->seg[s].ngran;
	c->seg[s].unused_prev = NO_SEG16;
	c->seg[s].unused_next = c->unused_head;
	if (c->unused_head != NO_SEG16)
		c->seg[c->unused_head].unused_prev = s;
	c->unused_head = s;
	c->nunused++;
}

static void unused_unlink(struct hm_core *c, uint16_t s)
{
	struct hm_seg *g = &c->seg[s];

	c->unused_gran -= g->ngran;
	if (g->unused_prev != NO_SEG16)
		c->seg[g->unused_prev].unused_next = g->unused_next;
	else
		c->unused_head = g->unused_next;
	if (g->unused_next != NO_SEG16)
		c->seg[g->unused_next].unused_prev = g->unused_prev;
	c->nunused--;
}

static void seg_busy_add(struct hm_core *c, uint16_t s, uint32_t n)
{
	if (!c->seg[s].busy)
		unused_unlink(c, s);
	c->seg[s].busy += n;
}

static void seg_busy_sub(struct hm_core *c, uint16_t s, uint32_t n)
{
	c->seg[s].busy -= n;
	if (!c->seg[s].busy)
		unused_link(c, s);
}

static void used_add(struct hm_core *c, uint32_t n)
{
	c->used_gran += n;
	if (c->used_gran > c->peak_used_gran)
		c->peak_used_gran = c->used_gran;
}

static void update_cache_cap(struct hm_core *c)
{
	uint64_t share = c->total_gran / CACHE_HEAP_SHARE;
	uint64_t limit = c->cache_limit >> GRAN_SHIFT;

	c->cache_cap_gran = share < limit ? share : limit;
}

/* ---- block life cycle --------------------------------------------------- */

/* A free block (already unlinked) becomes live and indexed. */
static uintptr_t make_live(struct hm_core *c, uint32_t id)
{
	struct hm_block *b = &c->blk[id];

	b->state = ST_USED;
	b->tag = c->tag;
	ix_put(c, id);
	seg_busy_add(c, b->seg, b->size);
	used_add(c, b->size);
	c->live_blocks++;
	return blk_addr(c, b);
}

/* A live or cached block (already out of the index) returns to the free lists. */
static void release(struct hm_core *c, uint32_t id)
{
	struct hm_block *b = &c->blk[id];
	uint32_t r = b->next_phys, l = b->prev_phys;

	seg_busy_sub(c, b->seg, b->size);
	if (r && c->blk[r].state == ST_FREE) {
		list_remove(c, r);
		b->size += c->blk[r].size;
		b->next_phys = c->blk[r].next_phys;
		if (b->next_phys)
			c->blk[b->next_phys].prev_phys = id;
		blk_put(c, r);
	}
	if (l && c->blk[l].state == ST_FREE) {
		list_remove(c, l);
		c->blk[l].size += b->size;
		c->blk[l].next_phys = b->next_phys;
		if (b->next_phys)
			c->blk[b->next_phys].prev_phys = l;
		blk_put(c, id);
		id = l;
	}
	list_insert(c, id);
}

/* ---- front-end cache ---------------------------------------------------- */

static int cache_put(struct hm_core *c, uint32_t id)
{
	struct hm_block *b = &c->blk[id];
	unsigned int bk;

	if (b->size > CACHE_MAX_GRAN || c->cached_gran + b->size > c->cache_cap_gran)
		return 0;
	bk = bucket_of(b->size);
	if (c->cache_count[bk] >= CACHE_DEPTH)
		return 0;
	b->state = ST_CACHED;
	b->next_free = c->cache_head[bk];
	c->cache_head[bk] = id;
	c->cache_count[bk]++;
	c->cached_gran += b->size;
	c->cached_blocks++;
	return 1;
}

/* A cached block of at least @n granules made live again, or 0. */
static uint32_t cache_get(struct hm_core *c, uint32_t n)
{
	unsigned int bk = bucket_fit(n);
	uint32_t id;
	struct hm_block *b;

	if (bk >= CACHE_BUCKETS || !(id = c->cache_head[bk]))
		return 0;
	b = &c->blk[id];
	c->cache_head[bk] = b->next_free;
	c->cache_count[bk]--;
	c->cached_gran -= b->size;
	c->cached_blocks--;
	b->state = ST_USED;
	b->tag = c->tag;
	used_add(c, b->size);
	c->live_blocks++;
	return id;
}

void hm_core_flush_cache(struct hm_core *c)
{
	unsigned int bk;
	uint32_t id;

	for (bk = 0; bk < CACHE_BUCKETS; bk++) {
		while ((id = c->cache_head[bk]) != 0) {
			c->cache_head[bk] = c->blk[id].next_free;
			c->cached_gran -= c->blk[id].size;
			c->cached_blocks--;
			ix_remove(c, id);
			release(c, id);
		}
		c->cache_count[bk] = 0;
	}
}

void hm_core_set_cache_limit(struct hm_core *c, size_t limit)
{
	c->cache_limit = limit;
	update_cache_cap(c);
	if (c->cached_gran > c->cache_cap_gran)
		hm_core_flush_cache(c);
}

/* ---- allocation --------------------------------------------------------- */

static uint32_t granules(size_t size)
{
	return size ? (uint32_t)((size + HM_CORE_GRANULE - 1) >> GRAN_SHIFT) : 1;
}

size_t hm_core_need(size_t size, size_t align)
{
	size_t lead = align > HM_CORE_GRANULE ? align - HM_CORE_GRANULE : 0;

	if (size > HM_CORE_MAX_BLOCK || lead > HM_CORE_MAX_BLOCK - size)
		return 0;
	return ((size_t)granules(size) << GRAN_SHIFT) + lead;
}

/* Place a live block of @n granules at an address multiple of @align (> granule). */
static uint32_t take_aligned(struct hm_core *c, uint32_t n, size_t align)
{
	uint64_t span = (uint64_t)n + (align >> GRAN_SHIFT) - 1;
	uintptr_t addr, lead;
	uint32_t id, u;

	if (span > UINT32_MAX || !(id = take_free(c, (uint32_t)span)))
		return 0;
	addr = blk_addr(c, &c->blk[id]);
	lead = (((addr + align - 1) & ~(uintptr_t)(align - 1)) - addr) >> GRAN_SHIFT;
	if (!lead)
		return id;
	/* The leading gap stays free; its left neighbour is not free (it was not before). */
	u = blk_get(c);
	c->blk[u] = (struct hm_block){
		.off = c->blk[id].off + (uint32_t)lead, .size = c->blk[id].size - (uint32_t)lead,
		.seg = c->blk[id].seg, .prev_phys = id, .next_phys = c->blk[id].next_phys,
	};
	if (c->blk[u].next_phys)
		c->blk[c->blk[u].next_phys].prev_phys = u;
	c->blk[id].next_phys = u;
	c->blk[id].size = (uint32_t)lead;
	list_insert(c, id);
	return u;
}

int hm_core_alloc(struct hm_core *c, size_t size, size_t align, uintptr_t *out)
{
	uint32_t n, id;
	int retried = 0;

	if (align & (align - 1))
		return -EINVAL;
	if (size > HM_CORE_MAX_BLOCK)
		return -ENOMEM;
	n = granules(size);
	if (align <= HM_CORE_GRANULE && (id = cache_get(c, n)) != 0) {
		*out = blk_addr(c, &c->blk[id]);
		return 0;
	}
	/* Worst case: a leading gap and a tail split, and one index entry. */
	if (blk_reserve(c, 2) || ix_reserve(c))
		return -ENOMEM;
	for (;;) {
		id = align <= HM_CORE_GRANULE ? take_free(c, n) : take_aligned(c, n, align);
		if (id)
			break;
		if (retried || !c->cached_blocks)
			return -ENOMEM;
		/* Cached blocks may coalesce into a fit: a slow path, taken only when full. */
		hm_core_flush_cache(c);
		retried = 1;
	}
	split_tail(c, id, n);
	*out = make_live(c, id);
	return 0;
}

/* Error for an address that is not the start of a live block. */
static int not_live(const struct hm_core *c, uintptr_t addr)
{
	return seg_find(c, addr) == HM_SEG_NONE ? -EFAULT : -EINVAL;
}

int hm_core_free(struct hm_core *c, uintptr_t addr)
{
	uint32_t id = ix_find(c, addr);
	struct hm_block *b;

	if (!id)
		return not_live(c, addr);
	b = &c->blk[id];
	if (b->state != ST_USED)
		return -EINVAL;		/* cached: freed already */
	c->used_gran -= b->size;
	c->live_blocks--;
	if (cache_put(c, id))
		return 0;
	ix_remove(c, id);
	release(c, id);
	return 0;
}

int hm_core_resize(struct hm_core *c, uintptr_t addr, size_t size)
{
	uint32_t id = ix_find(c, addr), n, r, k;
	struct hm_block *b;

	if (!id)
		return not_live(c, addr);
	if (c->blk[id].state != ST_USED)
		return -EINVAL;
	if (size > HM_CORE_MAX_BLOCK)
		return -ENOMEM;
	n = granules(size);
	b = &c->blk[id];
	r = b->next_phys;
	if (n < b->size) {
		k = b->size - n;
		if (r && c->blk[r].state == ST_FREE) {
			/* The freed tail joins the free right neighbour. */
			list_remove(c, r);
			c->blk[r].off -= k;
			c->blk[r].size += k;
			list_insert(c, r);
			b->size = n;
		} else {
			/* Keeping the block whole is a valid (if wasteful) shrink. */
			if (blk_reserve(c, 1))
				return 0;
			split_tail(c, id, n);
		}
		c->used_gran -= k;
		c->seg[c->blk[id].seg].busy -= k;
		return 0;
	}
	k = n - b->size;
	if (!k)
		return 0;
	if (!r || c->blk[r].state != ST_FREE || c->blk[r].size < k)
		return -ENOMEM;
	list_remove(c, r);
	if (c->blk[r].size == k) {
		b->next_phys = c->blk[r].next_phys;
		if (b->next_phys)
			c->blk[b->next_phys].prev_phys = id;
		blk_put(c, r);
	} else {
		c->blk[r].off += k;
		c->blk[r].size -= k;
		list_insert(c, r);
	}
	b->size = n;
	c->seg[b->seg].busy += k;
	used_add(c, k);
	return 0;
}

int hm_core_block_size(const struct hm_core *c, uintptr_t addr, size_t *size)
{
	uint32_t id = ix_find(c, addr);

	if (!id)
		return not_live(c, addr);
	if (c->blk[id].state != ST_USED)
		return -EINVAL;
	*size = (size_t)c->blk[id].size << GRAN_SHIFT;
	return 0;
}

int hm_core_dev_addr(const struct hm_core *c, uintptr_t addr, uint64_t *dev)
{
	unsigned int s = seg_find(c, addr);

	if (s == HM_SEG_NONE)
		return -EFAULT;
	*dev = c->seg[s].dev + (addr - c->seg[s].base);
	return 0;
}

void hm_core_set_tag(struct hm_core *c, uint32_t tag)
{
	c->tag = tag;
}

/* ---- segments ----------------------------------------------------------- */

/* Does [base, base + len) meet a registered segment?  Checked chunk by chunk. */
static int overlaps(const struct hm_core *c, uintptr_t base, size_t len)
{
	uintptr_t a;

	for (a = base & ~(((uintptr_t)1 << HM_SEG_CHUNK_SHIFT) - 1); a < base + len;
	     a += (uintptr_t)1 << HM_SEG_CHUNK_SHIFT) {
		unsigned int lo, hi, s, k;

		hm_seg_index_lookup(&c->segix, a, &lo, &hi);
		for (k = 0; k < 2; k++) {
			s = k ? hi : lo;
			if (s != HM_SEG_NONE && c->seg[s].base < base + len &&
			    base < c->seg[s].base + ((uintptr_t)c->seg[s].ngran << GRAN_SHIFT))
				return 1;
		}
	}
	return 0;
}

int hm_core_add_segment(struct hm_core *c, uintptr_t base, uint64_t dev,
			size_t len, uintptr_t owner)
{
	uint32_t s, id;
	struct hm_seg *g;
	int err;

	len &= ~(size_t)(HM_CORE_GRANULE - 1);
	if ((base & (HM_CORE_GRANULE - 1)) || len < HM_CORE_MIN_SEGMENT ||
	    len > HM_CORE_MAX_BLOCK || base + len < base)
		return -EINVAL;
	if (overlaps(c, base, len))
		return -EEXIST;
	for (s = 0; s < c->seg_slots && c->seg[s].live; s++)
		;
	if (s == c->seg_slots) {
		if (s >= HM_SEG_NONE)
			return -ENOSPC;
		g = realloc(c->seg, (size_t)(s + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		c->seg = g;
		c->seg[s] = (struct hm_seg){ 0 };
		c->seg_slots++;
	}
	err = blk_reserve(c, 1);
	if (!err)
		err = hm_seg_index_add(&c->segix, base, len, s);
	if (err)
		return err;
	g = &c->seg[s];
	*g = (struct hm_seg){
		.base = base, .dev = dev, .owner = owner,
		.ngran = (uint32_t)(len >> GRAN_SHIFT), .gen = g->gen + 1, .live = 1,
	};
	id = blk_get(c);
	c->blk[id] = (struct hm_block){ .size = g->ngran, .seg = (uint16_t)s };
	g->first = id;
	list_insert(c, id);
	unused_link(c, (uint16_t)s);
	c->nsegs++;
	c->total_gran += g->ngran;
	update_cache_cap(c);
	return (int)s;
}

int hm_core_remove_segment(struct hm_core *c, unsigned int seg, uintptr_t *owner)
{
	struct hm_seg *g;

	if (seg >= c->seg_slots || !c->seg[seg].live)
		return -EINVAL;
	g = &c->seg[seg];
	if (g->busy)
		return -EBUSY;
	/* No live or cached block: the segment is a single free block. */
	list_remove(c, g->first);
	blk_put(c, g->first);
	unused_unlink(c, (uint16_t)seg);
	hm_seg_index_remove(&c->segix, g->base, (size_t)g->ngran << GRAN_SHIFT, seg);
	c->total_gran -= g->ngran;
	c->nsegs--;
	g->live = 0;
	if (owner)
		*owner = g->owner;
	update_cache_cap(c);
	if (c->cached_gran > c->cache_cap_gran)
		hm_core_flush_cache(c);
	return 0;
}

int hm_core_unused_segment(const struct hm_core *c)
{
	return c->unused_head == NO_SEG16 ? -ENOENT : c->unused_head;
}

int hm_core_segment(const struct hm_core *c, unsigned int seg, uintptr_t *base,
		    uint64_t *dev, size_t *len, uintptr_t *owner)
{
	if (seg >= c->seg_slots || !c->seg[seg].live)
		return -EINVAL;
	*base = c->seg[seg].base;
	*dev = c->seg[seg].dev;
	*len = (size_t)c->seg[seg].ngran << GRAN_SHIFT;
	*owner = c->seg[seg].owner;
	return 0;
}

/* ---- statistics --------------------------------------------------------- */

size_t hm_core_largest_free(const struct hm_core *c)
{
	unsigned int fl;

	if (!c->fl_bitmap)
		return 0;
	fl = 31u - (unsigned int)__builtin_clz(c->fl_bitmap);
	return (size_t)bucket_min(fl * SL_COUNT + 31u -
				  (unsigned int)__builtin_clz(c->sl_bitmap[fl])) << GRAN_SHIFT;
}

uint64_t hm_core_used_bytes(const struct hm_core *c)
{
	return c->used_gran << GRAN_SHIFT;
}

uint64_t hm_core_unused_bytes(const struct hm_core *c)
{
	return c->unused_gran << GRAN_SHIFT;
}

uint64_t hm_core_cached_bytes(const struct hm_core *c)
{
	return c->cached_gran << GRAN_SHIFT;
}

uint64_t hm_core_free_bytes(const struct hm_core *c)
{
	return (c->total_gran - c->used_gran) << GRAN_SHIFT;
}

void hm_core_stats(const struct hm_core *c, struct hm_core_stats *s)
{
	uint64_t free_gran = c->total_gran - c->used_gran - c->cached_gran;

	*s = (struct hm_core_stats){
		.total_bytes = c->total_gran << GRAN_SHIFT,
		.used_bytes = c->used_gran << GRAN_SHIFT,
		.free_bytes = (c->total_gran - c->used_gran) << GRAN_SHIFT,
		.cached_bytes = c->cached_gran << GRAN_SHIFT,
		.peak_used_bytes = c->peak_used_gran << GRAN_SHIFT,
		.largest_free = hm_core_largest_free(c),
		.live_blocks = c->live_blocks,
		.free_blocks = c->free_blocks,
		.cached_blocks = c->cached_blocks,
		.segments = c->nsegs,
		.segments_free = c->nunused,
		.meta_bytes = sizeof(*c) + (uint64_t)c->blk_cap * sizeof(*c->blk) +
			      (uint64_t)c->ix_size * sizeof(*c->ix) +
			      (uint64_t)c->seg_slots * sizeof(*c->seg) +
			      hm_seg_index_bytes(&c->segix),
	};
	/* Fragmentation of the coalesced free space (the cache is transient). */
	if (free_gran)
		s->frag_permille = (uint32_t)(1000 - (s->largest_free >> GRAN_SHIFT) * 1000 / free_gran);
}

/* ---- life time ---------------------------------------------------------- */

struct hm_core *hm_core_create(void)
{
	struct hm_core *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->unused_head = NO_SEG16;
	c->cache_limit = SIZE_MAX;
	return c;
}

void hm_core_destroy(struct hm_core *c)
{
	if (!c)
		return;
	free(c->blk);
	free(c->ix);
	free(c->seg);
	hm_seg_index_fini(&c->segix);
	free(c);
}
