// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: the low-latency (LLC) carve-out.
 *
 * ADD_PAGES_LLC memory comes from one physically contiguous block reserved
 * when the module loads, never from the page allocator: when the block is
 * used up the answer is -ENOMEM, with no silent fallback.  The block is at
 * most MAX_ORDER pages (4 MiB with 4 KiB pages), the largest contiguous
 * allocation the buddy allocator makes.
 */
#include <linux/genalloc.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "hapmem.h"

static unsigned long llc_size = SZ_4M;
module_param(llc_size, ulong, 0444);
MODULE_PARM_DESC(llc_size, "Bytes of the LLC carve-out (0 to disable, at most 4 MiB)");

struct hapmem_llc {
	struct page *block;
	unsigned int order;
	struct gen_pool *pool;
};

static struct hapmem_llc hapmem_llc;

int hapmem_llc_init(void)
{
	struct hapmem_llc *llc = &hapmem_llc;
	int ret;

	if (!llc_size)
		return 0;
	if (!PAGE_ALIGNED(llc_size) || get_order(llc_size) >= MAX_ORDER) {
		pr_err("hapmem: llc_size %lu: must be page aligned and at most %lu\n",
		       llc_size, PAGE_SIZE << (MAX_ORDER - 1));
		return -EINVAL;
	}
	llc->order = get_order(llc_size);
	llc->block = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN,
				 llc->order);
	if (!llc->block) {
		pr_err("hapmem: cannot reserve a %lu byte LLC carve-out\n",
		       llc_size);
		return -ENOMEM;
	}
	llc->pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!llc->pool) {
		ret = -ENOMEM;
		goto err_block;
	}
	/* gen_pool hands out physical addresses here, never touched by it. */
	ret = gen_pool_add(llc->pool, page_to_phys(llc->block), llc_size,
			   NUMA_NO_NODE);
	if (ret)
		goto err_pool;
	return 0;

err_pool:
	gen_pool_destroy(llc->pool);
	llc->pool = NULL;
err_block:
	__free_pages(llc->block, llc->order);
	llc->block = NULL;
	return ret;
}

void hapmem_llc_exit(void)
{
	struct hapmem_llc *llc = &hapmem_llc;

	if (!llc->pool)
		return;
	gen_pool_destroy(llc->pool);
	__free_pages(llc->block, llc->order);
	llc->pool = NULL;
	llc->block = NULL;
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
	unsigned long phys;

	if (!llc->pool)
		return -ENOMEM;
	phys = gen_pool_alloc(llc->pool, size);
	if (!phys)
		return -ENOMEM;
	*page = pfn_to_page(PHYS_PFN(phys));
	return 0;
}

/* Scrub and return memory: the next user must see zeros. */
void hapmem_llc_free(struct page *page, size_t size)
{
	unsigned long i;

	for (i = 0; i < size >> PAGE_SHIFT; i++)
		clear_highpage(page + i);
	gen_pool_free(hapmem_llc.pool, page_to_phys(page), size);
}

void hapmem_llc_usage(u64 *total, u64 *used)
{
	struct hapmem_llc *llc = &hapmem_llc;

	*total = llc->pool ? gen_pool_size(llc->pool) : 0;
	*used = llc->pool ? *total - gen_pool_avail(llc->pool) : 0;
}
