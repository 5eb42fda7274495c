// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: the dma-buf exporter.
 *
 * Memory is allocated in chunks whose sizes are IOMMU page sizes, largest
 * first: 2 MiB chunks let the remote's IOMMU use superpages (one page
 * table entry and one IOTLB entry where 512 would be needed), 64 KiB
 * chunks still cut the scatterlist and the page walks by 16, and 4 KiB
 * pages fill whatever is left.  Large orders are asked for without
 * reclaim or retries, so a fragmented system falls back to smaller chunks
 * at once instead of stalling in compaction.
 *
 * Protected buffers (REMOTE_HEAP_ADDR) have no CPU path: no mmap, no vmap,
 * no CPU access, and only their own remote's import device may attach.
 * Their direct-map entries stay as they are (changing them is x86 only,
 * and the distro kernel exports no way for a module to unmap pages from
 * the direct map); the DMA mapping of the attachment cleans the zeroed
 * pages out of the CPU caches for the remote.  They are scrubbed before
 * they are freed.
 *
 * CPU cache attributes are portable: an uncached buffer gets a
 * write-combining pgprot on its user and kernel mappings, and
 * begin/end_cpu_access do the cache maintenance the architecture needs
 * through the DMA API, as dma-heap exporters do.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "hapmem.h"

struct hapmem_attachment {
	struct device *dev;
	struct sg_table table;
	struct list_head node;
	bool mapped;
	unsigned long attrs;
};

/* Orders tried, largest first: 2 MiB, 64 KiB, 4 KiB (with 4 KiB pages). */
static const unsigned int hapmem_orders[] = {
	ilog2(SZ_2M) - PAGE_SHIFT, ilog2(SZ_64K) - PAGE_SHIFT, 0
};

#define HAPMEM_GFP	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT |	\
			 __GFP_RETRY_MAYFAIL)
/* No reclaim, no retries, no warnings: a miss falls back to a lower order. */
#define HAPMEM_GFP_HIGH							\
	((HAPMEM_GFP | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY) &	\
	 ~(__GFP_RECLAIM | __GFP_RETRY_MAYFAIL))
/* 64 KiB may wake kswapd, but still gives up rather than stall. */
#define HAPMEM_GFP_MID							\
	((HAPMEM_GFP | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY) &	\
	 ~__GFP_RETRY_MAYFAIL)
/* Contiguous buffers live in the direct map (page_address() is used). */
#define HAPMEM_GFP_CONTIG (HAPMEM_GFP_USER | __GFP_ZERO | __GFP_NOWARN)

static gfp_t hapmem_order_gfp(unsigned int order)
{
	if (order >= hapmem_orders[0])
		return HAPMEM_GFP_HIGH;
	if (order)
		return HAPMEM_GFP_MID;
	return HAPMEM_GFP;
}

static const struct dma_buf_ops hapmem_buffer_ops;

bool hapmem_is_buffer(struct dma_buf *dmabuf)
{
	return dmabuf->ops == &hapmem_buffer_ops;
}

static struct page *hapmem_alloc_chunk(unsigned long remaining,
				       unsigned int max_order,
				       unsigned int *order)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hapmem_orders); i++) {
		struct page *page;

		if (hapmem_orders[i] > max_order ||
		    remaining < (PAGE_SIZE << hapmem_orders[i]))
			continue;
		page = alloc_pages(hapmem_order_gfp(hapmem_orders[i]),
				   hapmem_orders[i]);
		if (page) {
			*order = hapmem_orders[i];
			return page;
		}
	}
	return NULL;
}

/* Gather every page of @buf, for calls that take page arrays. */
static struct page **hapmem_buffer_pages(struct hapmem_buffer *buf)
{
	struct sg_page_iter piter;
	struct page **pages;
	unsigned long i = 0;

	pages = kvmalloc_array(buf->nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for_each_sgtable_page(&buf->table, &piter, 0)
		pages[i++] = sg_page_iter_page(&piter);
	return pages;
}

static void hapmem_buffer_free_contig(struct hapmem_buffer *buf,
				      struct page *page)
{
	if (buf->flags & HAPMEM_BUF_LLC)
		hapmem_llc_free(page, buf->size);
	else
		free_pages_exact(page_address(page), buf->size);
}

static void hapmem_buffer_free_pages(struct hapmem_buffer *buf)
{
	struct scatterlist *sg;
	int i;

	for_each_sgtable_sg(&buf->table, sg, i) {
		struct page *page = sg_page(sg);

		if (buf->flags & HAPMEM_BUF_PROTECTED) {
			unsigned long p;

			/* Scrub before the pages return to the system. */
			for (p = 0; p < sg->length >> PAGE_SHIFT; p++)
				clear_highpage(page + p);
		}
		cond_resched();
		if (buf->flags & (HAPMEM_BUF_LLC | HAPMEM_BUF_CONTIG))
			hapmem_buffer_free_contig(buf, page);
		else
			__free_pages(page, get_order(sg->length));
	}
}

/* A table of @n entries; a single one is @buf's own, not allocated. */
static int hapmem_buffer_alloc_table(struct hapmem_buffer *buf,
				     unsigned int n)
{
	if (n > 1)
		return sg_alloc_table(&buf->table, n, HAPMEM_GFP_USER);
	sg_init_table(&buf->sg_one, 1);
	buf->table.sgl = &buf->sg_one;
	buf->table.nents = 1;
	buf->table.orig_nents = 1;
	return 0;
}

static void hapmem_buffer_free_table(struct hapmem_buffer *buf)
{
	if (buf->table.sgl != &buf->sg_one)
		sg_free_table(&buf->table);
}

/*
 * One physically contiguous chunk: LLC memory, or any memory of a remote
 * without an IOMMU, whose device address must be one run.  The page
 * allocator's largest order (HAPMEM_MAX_PAGE_ORDER) bounds the latter.
 */
static int hapmem_buffer_alloc_contig(struct hapmem_buffer *buf)
{
	struct page *page;
	void *va;
	int ret;

	if (buf->flags & HAPMEM_BUF_LLC) {
		ret = hapmem_llc_alloc(buf->size, &page);
		if (ret)
			return ret;
	} else {
		if (get_order(buf->size) > HAPMEM_MAX_PAGE_ORDER)
			return -ENOMEM;
		va = alloc_pages_exact(buf->size, HAPMEM_GFP_CONTIG);
		if (!va)
			return -ENOMEM;
		page = virt_to_page(va);
	}
	hapmem_buffer_alloc_table(buf, 1);
	sg_set_page(buf->table.sgl, page, buf->size, 0);
	return 0;
}

/*
 * Fill buf->table with zeroed chunks.  Stops on a fatal signal, since a
 * large buffer can take long and the caller is going away anyway.  The
 * chunks wait on a list threaded through their pages until their number is
 * known, so no array sized by the buffer is needed.
 */
static int hapmem_buffer_alloc_pages(struct hapmem_buffer *buf)
{
	unsigned long remaining = buf->size;
	unsigned int max_order = hapmem_orders[0], order;
	struct page *page, *tmp;
	struct scatterlist *sg;
	unsigned int n = 0;
	LIST_HEAD(chunks);
	int ret;

	if (buf->flags & (HAPMEM_BUF_LLC | HAPMEM_BUF_CONTIG))
		return hapmem_buffer_alloc_contig(buf);

	while (remaining) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_free;
		}
		/* Gigabytes take seconds to zero: let others run. */
		cond_resched();
		page = hapmem_alloc_chunk(remaining, max_order, &order);
		if (!page) {
			ret = -ENOMEM;
			goto err_free;
		}
		list_add_tail(&page->lru, &chunks);
		/* Once an order fails, do not try it again for this buffer. */
		max_order = order;
		remaining -= PAGE_SIZE << order;
		n++;
	}

	ret = hapmem_buffer_alloc_table(buf, n);
	if (ret)
		goto err_free;
	sg = buf->table.sgl;
	list_for_each_entry_safe(page, tmp, &chunks, lru) {
		list_del(&page->lru);
		sg_set_page(sg, page, PAGE_SIZE << compound_order(page), 0);
		sg = sg_next(sg);
	}
	return 0;

err_free:
	list_for_each_entry_safe(page, tmp, &chunks, lru) {
		list_del(&page->lru);
		__free_pages(page, compound_order(page));
	}
	return ret;
}

static int hapmem_buffer_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attachment)
{
	struct hapmem_remote *r = hapmem_remote_by_attach_dev(attachment->dev);
	struct hapmem_buffer *buf = dmabuf->priv;
	struct hapmem_attachment *a;
	struct scatterlist *src, *dst;
	int ret, i;

	/*
	 * Protected memory is reachable by its own remote only, and not at
	 * all once that remote is removed.
	 */
	if ((buf->flags & HAPMEM_BUF_PROTECTED) && r != buf->remote)
		return -EPERM;

	a = kzalloc(sizeof(*a), HAPMEM_GFP_USER);
	if (!a)
		return -ENOMEM;
	/* Each attachment gets its own table: DMA addresses are per device. */
	ret = sg_alloc_table(&a->table, buf->table.orig_nents,
			     HAPMEM_GFP_USER);
	if (ret) {
		kfree(a);
		return ret;
	}
	dst = a->table.sgl;
	for_each_sgtable_sg(&buf->table, src, i) {
		sg_set_page(dst, sg_page(src), src->length, src->offset);
		dst = sg_next(dst);
	}
	a->dev = attachment->dev;
	/*
	 * hapmem's import devices map a buffer once per remote only to learn
	 * where it lies, so several remotes map it at once: the caches are
	 * synced explicitly around those mappings, which keeps DMA-API
	 * debugging from reporting them as overlapping streaming mappings.
	 */
	if (r && attachment->dev == hapmem_import_dev(r))
		a->attrs = DMA_ATTR_SKIP_CPU_SYNC;
	attachment->priv = a;

	mutex_lock(&buf->lock);
	list_add(&a->node, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void hapmem_buffer_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attachment)
{
	struct hapmem_buffer *buf = dmabuf->priv;
	struct hapmem_attachment *a = attachment->priv;

	mutex_lock(&buf->lock);
	list_del(&a->node);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *hapmem_buffer_map(struct dma_buf_attachment *attachment,
					  enum dma_data_direction dir)
{
	struct hapmem_attachment *a = attachment->priv;
	int ret;

	ret = dma_map_sgtable(attachment->dev, &a->table, dir, a->attrs);
	if (ret)
		return ERR_PTR(ret);
	if (a->attrs & DMA_ATTR_SKIP_CPU_SYNC)
		dma_sync_sgtable_for_device(attachment->dev, &a->table, dir);
	a->mapped = true;
	return &a->table;
}

static void hapmem_buffer_unmap(struct dma_buf_attachment *attachment,
				struct sg_table *table,
				enum dma_data_direction dir)
{
	struct hapmem_attachment *a = attachment->priv;

	a->mapped = false;
	if (a->attrs & DMA_ATTR_SKIP_CPU_SYNC)
		dma_sync_sgtable_for_cpu(attachment->dev, table, dir);
	dma_unmap_sgtable(attachment->dev, table, dir, a->attrs);
}

static int hapmem_buffer_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	struct hapmem_buffer *buf = dmabuf->priv;
	struct hapmem_attachment *a;

	if (buf->flags & HAPMEM_BUF_PROTECTED)
		return -EPERM;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt)
		invalidate_kernel_vmap_range(buf->vaddr, buf->size);
	list_for_each_entry(a, &buf->attachments, node)
		if (a->mapped)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, dir);
	mutex_unlock(&buf->lock);
	return 0;
}

static int hapmem_buffer_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	struct hapmem_buffer *buf = dmabuf->priv;
	struct hapmem_attachment *a;

	if (buf->flags & HAPMEM_BUF_PROTECTED)
		return -EPERM;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt)
		flush_kernel_vmap_range(buf->vaddr, buf->size);
	list_for_each_entry(a, &buf->attachments, node)
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->table, dir);
	mutex_unlock(&buf->lock);
	return 0;
}

static pgprot_t hapmem_buffer_pgprot(struct hapmem_buffer *buf, pgprot_t prot)
{
	return (buf->flags & HAPMEM_BUF_CACHED) ? prot : pgprot_writecombine(prot);
}

static int hapmem_buffer_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct hapmem_buffer *buf = dmabuf->priv;
	unsigned long addr = vma->vm_start;
	unsigned long skip = vma->vm_pgoff << PAGE_SHIFT;
	struct scatterlist *sg;
	int i, ret;

	if (buf->flags & HAPMEM_BUF_PROTECTED)
		return -EPERM;

	vma->vm_page_prot = hapmem_buffer_pgprot(buf, vma->vm_page_prot);
	for_each_sgtable_sg(&buf->table, sg, i) {
		unsigned long len = sg->length;
		unsigned long pfn = page_to_pfn(sg_page(sg));

		if (skip >= len) {
			skip -= len;
			continue;
		}
		pfn += skip >> PAGE_SHIFT;
		len -= skip;
		skip = 0;
		len = min(len, vma->vm_end - addr);
		ret = remap_pfn_range(vma, addr, pfn, len, vma->vm_page_prot);
		if (ret)
			return ret;
		addr += len;
		if (addr >= vma->vm_end)
			break;
	}
	return 0;
}

static int hapmem_buffer_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct hapmem_buffer *buf = dmabuf->priv;
	struct page **pages;
	void *vaddr;
	int ret = 0;

	if (buf->flags & HAPMEM_BUF_PROTECTED)
		return -EPERM;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt) {
		buf->vmap_cnt++;
		iosys_map_set_vaddr(map, buf->vaddr);
		goto out;
	}
	pages = hapmem_buffer_pages(buf);
	if (!pages) {
		ret = -ENOMEM;
		goto out;
	}
	vaddr = vmap(pages, buf->nr_pages, VM_MAP,
		     hapmem_buffer_pgprot(buf, PAGE_KERNEL));
	kvfree(pages);
	if (!vaddr) {
		ret = -ENOMEM;
		goto out;
	}
	buf->vaddr = vaddr;
	buf->vmap_cnt = 1;
	iosys_map_set_vaddr(map, vaddr);
out:
	mutex_unlock(&buf->lock);
	return ret;
}

static void hapmem_buffer_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct hapmem_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!--buf->vmap_cnt) {
		vunmap(buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->lock);
	iosys_map_clear(map);
}

static void hapmem_buffer_release(struct dma_buf *dmabuf)
{
	struct hapmem_buffer *buf = dmabuf->priv;

	WARN_ON(buf->vmap_cnt);
	if (buf->acct) {
		hapmem_acct_uncharge(buf->acct, buf->size);
		hapmem_acct_put(buf->acct);
	}
	hapmem_buffer_fini(buf);
	kfree(buf);
}

static const struct dma_buf_ops hapmem_buffer_ops = {
	.attach = hapmem_buffer_attach,
	.detach = hapmem_buffer_detach,
	.map_dma_buf = hapmem_buffer_map,
	.unmap_dma_buf = hapmem_buffer_unmap,
	.begin_cpu_access = hapmem_buffer_begin_cpu_access,
	.end_cpu_access = hapmem_buffer_end_cpu_access,
	.mmap = hapmem_buffer_mmap,
	.vmap = hapmem_buffer_vmap,
	.vunmap = hapmem_buffer_vunmap,
	.release = hapmem_buffer_release,
};

/**
 * hapmem_buffer_init() - allocate zeroed memory for a buffer, not exported
 * @buf: zeroed storage for the buffer
 * @size: bytes, a non-zero multiple of PAGE_SIZE
 * @flags: HAPMEM_BUF_*
 * @remote: for protected buffers, the only remote that may attach (the
 *	buffer holds a reference on it), else NULL
 *
 * A map that no file descriptor will ever name holds its buffer this way,
 * in its own allocation, with no dma-buf around it; hapmem_buffer_export()
 * wraps one in a dma-buf.
 *
 * Return: 0, -ENOMEM, or -EINTR on a fatal signal; on error nothing is
 * left to free in @buf.
 */
int hapmem_buffer_init(struct hapmem_buffer *buf, size_t size, u32 flags,
		       struct hapmem_remote *remote)
{
	int ret;

	if (WARN_ON(!size || !PAGE_ALIGNED(size)))
		return -EINVAL;

	buf->size = size;
	buf->nr_pages = size >> PAGE_SHIFT;
	buf->flags = flags;
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);

	ret = hapmem_buffer_alloc_pages(buf);
	if (ret)
		return ret;
	if (remote) {
		hapmem_remote_get(remote);
		buf->remote = remote;
	}
	atomic64_inc(&hapmem_stats.buffers);
	atomic64_add(buf->nr_pages, &hapmem_stats.pages);
	return 0;
}

/**
 * hapmem_buffer_fini() - scrub (if protected) and free a buffer's memory
 * @buf: initialised by hapmem_buffer_init(); its storage is the caller's
 */
void hapmem_buffer_fini(struct hapmem_buffer *buf)
{
	hapmem_buffer_free_pages(buf);
	hapmem_buffer_free_table(buf);
	if (buf->remote)
		hapmem_remote_put(buf->remote);
	atomic64_dec(&hapmem_stats.buffers);
	atomic64_sub(buf->nr_pages, &hapmem_stats.pages);
}

/**
 * hapmem_buffer_export() - allocate zeroed memory and export it
 * @size: bytes, a non-zero multiple of PAGE_SIZE
 * @flags: HAPMEM_BUF_*
 * @remote: for protected buffers, the only remote that may attach
 * @acct: the session account charged for @size bytes until the buffer is
 *	freed
 *
 * Return: the dma-buf (one reference, owned by the caller) or an ERR_PTR:
 * -EDQUOT past the account's limits, -ENOMEM, -EINTR on a fatal signal.
 */
struct dma_buf *hapmem_buffer_export(size_t size, u32 flags,
				     struct hapmem_remote *remote,
				     struct hapmem_acct *acct)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct hapmem_buffer *buf;
	struct dma_buf *dmabuf;
	int ret;

	ret = hapmem_acct_charge(acct, size);
	if (ret)
		return ERR_PTR(ret);
	buf = kzalloc(sizeof(*buf), HAPMEM_GFP_USER);
	if (!buf) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	ret = hapmem_buffer_init(buf, size, flags, remote);
	if (ret)
		goto err_free;

	exp_info.ops = &hapmem_buffer_ops;
	exp_info.size = size;
	exp_info.flags = O_RDWR;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_fini;
	}
	hapmem_acct_get(acct);
	buf->acct = acct;
	buf->dmabuf = dmabuf;
	return dmabuf;

err_fini:
	hapmem_buffer_fini(buf);
err_free:
	kfree(buf);
err_uncharge:
	hapmem_acct_uncharge(acct, size);
	return ERR_PTR(ret);
}
