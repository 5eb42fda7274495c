// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: the low-latency (LLC) carve-out.
 *
 * ADD_PAGES_LLC memory comes from one physically contiguous block reserved
 * when the module loads, never from the page allocator: when the block is
 * used up the answer is -ENOMEM, with no silent fallback.  The block is at
 * most one block of the buddy allocator's largest order,
 * HAPMEM_MAX_PAGE_ORDER (4 MiB with 4 KiB pages).
 */
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "hapmem.h"

static unsigned long llc_size = SZ_4M;
module_param(llc_size, ulong, 0444);
MODULE_PARM_DESC(llc_size, "Bytes of the LLC carve-out (0 to disable, at most 4 MiB)");

/*
 * One bit per page of the block.  The carve-out is small (at most 1024
 * pages) and allocations are rare and large, so a first-fit bitmap search
 * under a mutex is all it needs.
 */
struct hapmem_llc {
	struct page *block;
	unsigned int order;
	unsigned long nr_pages;
	unsigned long used;
	unsigned long *map;
	struct mutex lock; /* protects @map and @used */
};

static struct hapmem_llc hapmem_llc;

int hapmem_llc_init(void)
{
	struct hapmem_llc *llc = &hapmem_llc;

	mutex_init(&llc->lock);
	if (!llc_size)
		return 0;
	if (!PAGE_ALIGNED(llc_size) || get_order(llc_size) > HAPMEM_MAX_PAGE_ORDER) {
		pr_err("hapmem: llc_size %lu: must be page aligned and at most %lu\n",
		       llc_size, PAGE_SIZE << HAPMEM_MAX_PAGE_ORDER);
		return -EINVAL;
	}
	llc->nr_pages = llc_size >> PAGE_SHIFT;
	llc->map = bitmap_zalloc(llc->nr_pages, GFP_KERNEL);
	if (!llc->map)
		return -ENOMEM;
	llc->order = get_order(llc_size);
	llc->block = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN,
				 llc->order);
	if (!llc->block) {
		pr_err("hapmem: cannot reserve a %lu byte LLC carve-out\n",
		       llc_size);
		bitmap_free(llc->map);
		llc->map = NULL;
		return -ENOMEM;
	}
	/* Pages of the block past llc_size are never handed out. */
	return 0;
}

void hapmem_llc_exit(void)
{
	struct hapmem_llc *llc = &hapmem_llc;

	if (!llc->block)
		return;
	WARN_ON(llc->used);
	__free_pages(llc->block, llc->order);
	bitmap_free(llc->map);
	llc->block = NULL;
	llc->map = NULL;
}

/**
 * hapmem_llc_alloc() - take zeroed, contiguous memory from the carve-out
 * @size: bytes, page aligned
 * @page: out: the first page
 *
 * Return: 0, or -ENOMEM when the carve-out is absent or has no room.
 */
int hapmem_llc_alloc(size_t size, struct page **page)
{
	struct hapmem_llc *llc = &hapmem_llc;
	unsigned long n = size >> PAGE_SHIFT, first;
	int ret = -ENOMEM;

	if (!llc->block || n > llc->nr_pages)
		return -ENOMEM;
	mutex_lock(&llc->lock);
	first = bitmap_find_next_zero_area(llc->map, llc->nr_pages, 0, n, 0);
	if (first < llc->nr_pages) {
		bitmap_set(llc->map, first, n);
		llc->used += n;
		*page = llc->block + first;
		ret = 0;
	}
	mutex_unlock(&llc->lock);
	return ret;
}

/* Scrub and return memory: the next user must see zeros. */
void hapmem_llc_free(struct page *page, size_t size)
{
	struct hapmem_llc *llc = &hapmem_llc;
	unsigned long n = size >> PAGE_SHIFT, i;

	for (i = 0; i < n; i++)
		clear_highpage(page + i);
	mutex_lock(&llc->lock);
	bitmap_clear(llc->map, page - llc->block, n);
	llc->used -= n;
	mutex_unlock(&llc->lock);
}

void hapmem_llc_usage(u64 *total, u64 *used)
{
	struct hapmem_llc *llc = &hapmem_llc;

	mutex_lock(&llc->lock);
	*total = (u64)llc->nr_pages << PAGE_SHIFT;
	*used = (u64)llc->used << PAGE_SHIFT;
	mutex_unlock(&llc->lock);
}
