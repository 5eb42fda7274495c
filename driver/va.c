// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: a remote's device address space.
 *
 * A maple tree with gap tracking holds every range in use (maps,
 * reservations, blocked ranges), so finding room and finding the owner of
 * an address both stay O(log n) however many maps a remote carries.  The
 * tree is locked by the remote's va_lock, a mutex, so node allocation may
 * sleep.
 *
 * Small maps come and go often, and putting a range back into the tree
 * rewrites nodes and their gaps up to the root.  So a session keeps the
 * last few ranges of each small size it unmapped (struct hapmem_va_cache):
 * the range stays in the tree, its entry swapped for hapmem_va_cached, and
 * the session's next map of that size takes it back by swapping the entry
 * again.  Swapping one entry for another over the same range rewrites a
 * single slot: no allocation, no gap update.  The ranges are unmapped in
 * the IOMMU (and the IOTLB flushed) before they are cached, like any freed
 * range, and go back to the tree when the session closes.
 */
#include <linux/overflow.h>
#include <linux/sizes.h>

#include "hapmem.h"

/* The tree's entry for every cached range: no map, owned by no one. */
static struct hapmem_va hapmem_va_cached = { .kind = HAPMEM_VA_CACHED };

/*
 * Align a map to the largest IOMMU page size it can use, so that chunks of
 * 2 MiB (and 64 KiB) in memory land on IOMMU superpages.
 */
static u64 hapmem_va_align(u64 len)
{
	if (len >= SZ_2M)
		return SZ_2M;
	if (len >= SZ_64K)
		return SZ_64K;
	return PAGE_SIZE;
}

static int hapmem_va_find(struct hapmem_remote *r, struct hapmem_va *va,
			  u64 len, u64 lo, u64 hi)
	__must_hold(&r->va_lock)
{
	MA_STATE(mas, &r->va, 0, 0);
	u64 align = hapmem_va_align(len);
	u64 need, start;
	int ret;

	if (check_add_overflow(len, align - PAGE_SIZE, &need) || hi <= lo ||
	    need > hi - lo)
		return -ENOSPC;
	ret = mas_empty_area(&mas, lo, hi - 1, need);
	if (ret)
		return -ENOSPC;
	start = ALIGN(mas.index, align);
	mas_set_range(&mas, start, start + len - 1);
	ret = mas_store_gfp(&mas, va, HAPMEM_GFP_USER);
	if (ret)
		return ret;
	va->start = start;
	va->len = len;
	return 0;
}

/* The cache class of a @len byte range, or -1 if it is not cached. */
static int hapmem_va_class(u64 len)
{
	u64 pages = len >> PAGE_SHIFT;

	return pages && pages <= HAPMEM_VA_CACHE_CLASSES ? pages - 1 : -1;
}

/*
 * Put @new over exactly [@start, @start + @len) of the tree, whose entry
 * is @old.  Never allocates: the range is unchanged, one slot is rewritten.
 */
static void hapmem_va_swap(struct hapmem_remote *r, u64 start, u64 len,
			   struct hapmem_va *old, struct hapmem_va *new)
	__must_hold(&r->va_lock)
{
	MA_STATE(mas, &r->va, start, start);

	WARN_ON(mas_walk(&mas) != old || mas.index != start ||
		mas.last != start + len - 1);
	mas_store_gfp(&mas, new, GFP_KERNEL | __GFP_NOFAIL);
}

/* Take a cached range of @len bytes for @va, if the cache has one. */
static bool hapmem_va_cache_get(struct hapmem_remote *r,
				struct hapmem_va_cache *cache,
				struct hapmem_va *va, u64 len)
	__must_hold(&r->va_lock)
{
	int c = hapmem_va_class(len);
	u64 start;

	if (!cache || c < 0 || !cache->n[c])
		return false;
	start = cache->start[c][--cache->n[c]];
	cache->pages -= len >> PAGE_SHIFT;
	hapmem_va_swap(r, start, len, &hapmem_va_cached, va);
	atomic64_dec(&hapmem_stats.va_cached);
	va->start = start;
	va->len = len;
	return true;
}

/*
 * Keep @va's range for the session's next map of its size, if it is in
 * the 32-bit window (which every map without HAPMEM_MAP_VA_HIGH tries
 * first, so handing it out again keeps that order) and its class has room.
 */
static bool hapmem_va_cache_put(struct hapmem_remote *r,
				struct hapmem_va_cache *cache,
				struct hapmem_va *va)
	__must_hold(&r->va_lock)
{
	int c = hapmem_va_class(va->len);

	if (!cache || c < 0 || cache->n[c] >= HAPMEM_VA_CACHE_DEPTH ||
	    cache->pages + c + 1 > HAPMEM_VA_CACHE_PAGES ||
	    va->start < r->va32_start || va->start + va->len > r->va32_end)
		return false;
	hapmem_va_swap(r, va->start, va->len, va, &hapmem_va_cached);
	cache->start[c][cache->n[c]++] = va->start;
	cache->pages += c + 1;
	atomic64_inc(&hapmem_stats.va_cached);
	return true;
}

/* Erase every cached range from the tree; return whether there was one. */
static bool hapmem_va_cache_empty(struct hapmem_remote *r,
				  struct hapmem_va_cache *cache)
	__must_hold(&r->va_lock)
{
	MA_STATE(mas, &r->va, 0, 0);
	bool any = cache && cache->pages;
	int c;

	for (c = 0; any && c < HAPMEM_VA_CACHE_CLASSES; c++) {
		while (cache->n[c]) {
			mas_set(&mas, cache->start[c][--cache->n[c]]);
			WARN_ON(hapmem_mas_erase(&mas) != &hapmem_va_cached);
			atomic64_dec(&hapmem_stats.va_cached);
		}
	}
	if (any)
		cache->pages = 0;
	return any;
}

/* Empty every session's cache on @r; return whether one held a range. */
static bool hapmem_va_cache_empty_all(struct hapmem_remote *r)
	__must_hold(&r->va_lock)
{
	struct hapmem_va_cache *cache;
	bool any = false;

	list_for_each_entry(cache, &r->vcaches, node)
		any |= hapmem_va_cache_empty(r, cache);
	return any;
}

/**
 * hapmem_va_alloc() - find room for @len bytes in a remote's address space
 * @r: the remote
 * @va: the entry to record; its kind is set by the caller
 * @len: bytes, a multiple of PAGE_SIZE
 * @map_flags: HAPMEM_MAP_VA32 for the 32-bit window only,
 *	HAPMEM_MAP_VA_HIGH for the high window only, neither for the 32-bit
 *	window first and the high one after
 * @cache: the session's cache of freed ranges, tried first (it holds
 *	32-bit window ranges only), or NULL; when the 32-bit window is full,
 *	every session's cache on @r goes back to it before -ENOSPC
 *
 * Return: 0, -ENOSPC when no window has room, or -ENOMEM.
 */
int hapmem_va_alloc(struct hapmem_remote *r, struct hapmem_va *va, u64 len,
		    u32 map_flags, struct hapmem_va_cache *cache)
{
	int ret = -ENOSPC;

	mutex_lock(&r->va_lock);
	if (!(map_flags & HAPMEM_MAP_VA_HIGH)) {
		if (hapmem_va_cache_get(r, cache, va, len))
			ret = 0;
		else
			ret = hapmem_va_find(r, va, len, r->va32_start,
					     r->va32_end);
		if (ret == -ENOSPC && hapmem_va_cache_empty_all(r))
			ret = hapmem_va_find(r, va, len, r->va32_start,
					     r->va32_end);
	}
	if (ret == -ENOSPC && !(map_flags & HAPMEM_MAP_VA32))
		ret = hapmem_va_find(r, va, len, r->va64_start, r->va64_end);
	mutex_unlock(&r->va_lock);
	return ret;
}

/**
 * hapmem_va_alloc_charged() - hapmem_va_alloc() for a session, within its
 *	share of the 32-bit window
 * @acct: the session's account, charged for a range in the 32-bit window
 * @r: the remote
 * @va: the entry to record
 * @len: bytes, a multiple of PAGE_SIZE
 * @map_flags: as for hapmem_va_alloc(); without a placement flag, a
 *	request past the share goes to the high window
 * @cache: as for hapmem_va_alloc()
 * @va32: out: whether the range was charged to the 32-bit window share
 *	(uncharge it with hapmem_acct_uncharge_va32() when it is freed)
 *
 * Return: 0, -EDQUOT past the share (for HAPMEM_MAP_VA32, or when the
 * remote has no high window), -ENOSPC, or -ENOMEM.
 */
int hapmem_va_alloc_charged(struct hapmem_acct *acct, struct hapmem_remote *r,
			    struct hapmem_va *va, u64 len, u32 map_flags,
			    struct hapmem_va_cache *cache, bool *va32)
{
	bool over = false;
	int ret;

	*va32 = false;
	if (!(map_flags & HAPMEM_MAP_VA_HIGH)) {
		ret = hapmem_acct_charge_va32(acct, len);
		if (ret && (map_flags & HAPMEM_MAP_VA32))
			return ret;
		if (ret) {
			over = true;
			map_flags |= HAPMEM_MAP_VA_HIGH;
		} else {
			*va32 = true;
		}
	}
	ret = hapmem_va_alloc(r, va, len, map_flags, cache);
	if (*va32 && (ret || va->start >= r->va32_end)) {
		hapmem_acct_uncharge_va32(acct, len);
		*va32 = false;
	}
	return ret == -ENOSPC && over ? -EDQUOT : ret;
}

/**
 * hapmem_mas_erase() - remove the entry at @mas's index
 * @mas: a maple state at one index of the entry; its tree locked
 *
 * mas_erase() gives up quietly when the tree needs a node it cannot
 * allocate, and leaves the entry in place.  Every entry hapmem erases is
 * about to be freed, so this one does not give up: an erase needs at most
 * a few small nodes.
 *
 * Return: the entry that was there, or NULL.
 */
void *hapmem_mas_erase(struct ma_state *mas)
{
	void *entry = mas_walk(mas);

	if (entry) {
		mas_set_range(mas, mas->index, mas->last);
		mas_store_gfp(mas, NULL, GFP_KERNEL | __GFP_NOFAIL);
	}
	return entry;
}

/**
 * hapmem_va_lookup() - the entry holding @addr in a remote's address space
 * @r: the remote, its va_lock held
 * @addr: a device address
 *
 * Return: the entry (a map, a reservation, a blocked or cached range), or
 * NULL.
 */
struct hapmem_va *hapmem_va_lookup(struct hapmem_remote *r, u64 addr)
	__must_hold(&r->va_lock)
{
	MA_STATE(mas, &r->va, addr, addr);

	return mas_walk(&mas);
}

/**
 * hapmem_va_free() - give a range back
 * @r: the remote
 * @va: what hapmem_va_alloc() or hapmem_va_block() recorded
 * @cache: the session's cache to keep the range in, or NULL; the range
 *	must no longer be reachable by the device
 */
void hapmem_va_free(struct hapmem_remote *r, struct hapmem_va *va,
		    struct hapmem_va_cache *cache)
{
	MA_STATE(mas, &r->va, va->start, va->start);

	mutex_lock(&r->va_lock);
	if (!hapmem_va_cache_put(r, cache, va))
		WARN_ON(hapmem_mas_erase(&mas) != va);
	mutex_unlock(&r->va_lock);
}

/**
 * hapmem_va_cache_init() - start a session's cache, known to the remote
 * @r: the remote
 * @cache: the session's cache, zeroed
 */
void hapmem_va_cache_init(struct hapmem_remote *r,
			  struct hapmem_va_cache *cache)
{
	mutex_lock(&r->va_lock);
	list_add(&cache->node, &r->vcaches);
	mutex_unlock(&r->va_lock);
}

/**
 * hapmem_va_cache_drain() - give every cached range back to the tree, at
 * the session's release
 * @r: the remote
 * @cache: a session's cache, emptied and forgotten by the remote
 */
void hapmem_va_cache_drain(struct hapmem_remote *r,
			   struct hapmem_va_cache *cache)
{
	mutex_lock(&r->va_lock);
	hapmem_va_cache_empty(r, cache);
	list_del(&cache->node);
	mutex_unlock(&r->va_lock);
}

/**
 * hapmem_va_block() - keep a fixed range out of the allocator
 * @r: the remote
 * @va: the entry to record (kind set to HAPMEM_VA_BLOCKED)
 * @start: page aligned start
 * @len: page aligned length
 *
 * Return: 0, -EEXIST if part of the range is taken, or -ENOMEM.
 */
int hapmem_va_block(struct hapmem_remote *r, struct hapmem_va *va,
		    u64 start, u64 len)
{
	MA_STATE(mas, &r->va, start, start);
	int ret;

	va->kind = HAPMEM_VA_BLOCKED;
	va->start = start;
	va->len = len;
	mutex_lock(&r->va_lock);
	if (mas_find(&mas, start + len - 1)) {
		ret = -EEXIST;
	} else {
		mas_set_range(&mas, start, start + len - 1);
		ret = mas_store_gfp(&mas, va, HAPMEM_GFP_USER);
	}
	mutex_unlock(&r->va_lock);
	return ret;
}
