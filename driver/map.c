// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: maps.
 *
 * A map is memory (a dma-buf from any exporter, or pinned user pages)
 * made reachable by a remote at a device address.  With an IOMMU, the
 * memory's physical chunks are mapped back to back into the remote's own
 * domain at an address from its address space; without one, the DMA API's
 * address is the device address and must be contiguous.
 *
 * A map is refcounted: the session's tree holds one reference and every
 * ioctl using it holds another, so an unmap racing a remote access leaves
 * the memory mapped until the access is done.  The device address goes back
 * to the address space only after the IOMMU mapping is gone, so no new map
 * can land on a range the device can still reach.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "hapmem.h"

/* Count how an IOMMU run of @len bytes at (@iova, @pa) splits into pages. */
static void hapmem_count_chunks(struct hapmem_chunks *c, u64 iova, u64 pa,
				u64 len)
{
	while (len) {
		u64 step;

		if (IS_ALIGNED(iova | pa, SZ_2M) && len >= SZ_2M) {
			step = SZ_2M;
			c->n_2m++;
		} else if (IS_ALIGNED(iova | pa, SZ_64K) && len >= SZ_64K) {
			step = SZ_64K;
			c->n_64k++;
		} else {
			step = PAGE_SIZE;
			c->n_4k++;
		}
		iova += step;
		pa += step;
		len -= step;
	}
}

/*
 * Map @map->va.len bytes of @map->sgt, starting @skip bytes in, at
 * @map->va.start of the remote's domain.  Physically contiguous runs are
 * mapped with one call each so the IOMMU driver can use superpages.
 */
static int hapmem_map_iommu(struct hapmem_map *map, u64 skip)
{
	struct iommu_domain *domain = map->remote->domain;
	u64 iova = map->va.start, left = map->va.len;
	u64 run_pa = 0, run_len = 0;
	/*
	 * Pinned user pages and owned buffers are not DMA-mapped: their
	 * addresses are physical.
	 */
	bool phys = !map->import;
	struct scatterlist *sg;
	int i, ret = 0;

	for_each_sg(map->sgt->sgl, sg, phys ? map->sgt->orig_nents :
		    map->sgt->nents, i) {
		u64 pa = phys ? sg_phys(sg) : sg_dma_address(sg);
		u64 len = phys ? sg->length : sg_dma_len(sg);

		if (skip >= len) {
			skip -= len;
			continue;
		}
		pa += skip;
		len = min(len - skip, left);
		skip = 0;
		if (run_len && run_pa + run_len == pa) {
			run_len += len;
		} else {
			if (run_len) {
				ret = hapmem_iommu_map(domain, iova, run_pa,
						       run_len, map->prot);
				if (ret)
					goto err;
				hapmem_count_chunks(&map->chunks, iova, run_pa,
						    run_len);
				iova += run_len;
				cond_resched();
			}
			run_pa = pa;
			run_len = len;
		}
		left -= len;
		if (!left)
			break;
	}
	if (WARN_ON(left))
		ret = -EINVAL;
	else
		ret = hapmem_iommu_map(domain, iova, run_pa, run_len, map->prot);
	if (ret)
		goto err;
	hapmem_count_chunks(&map->chunks, iova, run_pa, run_len);
	return 0;

err:
	if (iova > map->va.start)
		iommu_unmap(domain, map->va.start, iova - map->va.start);
	memset(&map->chunks, 0, sizeof(map->chunks));
	return ret;
}

/* Without an IOMMU the DMA addresses must form one run: that is the vadsp. */
static int hapmem_map_direct(struct hapmem_map *map, u64 skip, u64 len)
{
	u64 start = 0, next = 0, left = len;
	struct scatterlist *sg;
	int i;

	for_each_sgtable_dma_sg(map->sgt, sg, i) {
		u64 da = sg_dma_address(sg), l = sg_dma_len(sg);

		if (skip >= l) {
			skip -= l;
			continue;
		}
		da += skip;
		l = min(l - skip, left);
		skip = 0;
		if (left == len)
			start = da;
		else if (da != next)
			return -EINVAL;
		next = da + l;
		left -= l;
		hapmem_count_chunks(&map->chunks, da, da, l);
		if (!left)
			break;
	}
	if (left)
		return -EINVAL;
	map->va.start = start;
	map->va.len = len;
	return 0;
}

/* Choose the device address and make the memory reachable there. */
static int hapmem_map_place(struct hapmem_session *s, struct hapmem_map *map,
			    u64 skip, u64 len, u32 map_flags, u64 fixed_va)
{
	struct hapmem_remote *r = map->remote;
	int ret;

	if (!r->domain) {
		if (map_flags & HAPMEM_MAP_FIXED)
			return -EOPNOTSUPP;
		ret = hapmem_map_direct(map, skip, len);
		if (ret)
			return ret;
		if ((map_flags & HAPMEM_MAP_VA32) &&
		    map->va.start + len > HAPMEM_SZ_4G)
			return -ENOSPC;
		if ((map_flags & HAPMEM_MAP_VA_HIGH) &&
		    map->va.start < HAPMEM_SZ_4G)
			return -ENOSPC;
		return 0;
	}

	map->va.kind = HAPMEM_VA_MAP;
	if (map_flags & HAPMEM_MAP_FIXED)
		ret = hapmem_resv_place(s, map, fixed_va, len);
	else
		ret = hapmem_va_alloc_charged(s->acct, r, &map->va, len,
					      map_flags, &s->vcache,
					      &map->va32);
	if (ret)
		return ret;
	map->va.kind = HAPMEM_VA_MAP;

	ret = hapmem_map_iommu(map, skip);
	if (ret) {
		hapmem_map_release_va(map);
		return ret;
	}
	return 0;
}

void hapmem_map_release_va(struct hapmem_map *map)
{
	if (map->resv)
		hapmem_resv_remove(map->remote, map);
	else
		hapmem_va_free(map->remote, &map->va, &map->owner->vcache);
	if (map->va32)
		hapmem_acct_uncharge_va32(map->owner->acct, map->va.len);
	map->va32 = false;
}

/* A map, with @extra bytes of the caller's after it in the same allocation. */
static struct hapmem_map *hapmem_map_new(struct hapmem_session *s, u32 map_flags,
					 size_t extra)
{
	struct hapmem_map *map;

	map = kzalloc(sizeof(*map) + extra, HAPMEM_GFP_USER);
	if (!map)
		return NULL;
	kref_init(&map->kref);
	RB_CLEAR_NODE(&map->dh_node);
	map->remote = s->remote;
	map->owner = s;
	INIT_LIST_HEAD(&map->s_node);
	map->prot = IOMMU_READ;
	if (!(map_flags & HAPMEM_MAP_READ_ONLY))
		map->prot |= IOMMU_WRITE;
	return map;
}

/* Attach @dmabuf for @r, or take a reference on its existing attachment. */
static struct hapmem_import *hapmem_import_get(struct hapmem_remote *r,
					       struct dma_buf *dmabuf)
{
	struct rb_node **link = &r->imports.rb_node, *parent = NULL;
	struct hapmem_import *imp;
	int ret;

	mutex_lock(&r->import_lock);
	while (*link) {
		parent = *link;
		imp = rb_entry(parent, struct hapmem_import, node);
		if (dmabuf == imp->dmabuf) {
			kref_get(&imp->kref);
			goto out;
		}
		link = dmabuf < imp->dmabuf ? &parent->rb_left : &parent->rb_right;
	}

	imp = kzalloc(sizeof(*imp), HAPMEM_GFP_USER);
	if (!imp) {
		imp = ERR_PTR(-ENOMEM);
		goto out;
	}
	imp->attach = dma_buf_attach(dmabuf, hapmem_attach_dev(r));
	if (IS_ERR(imp->attach)) {
		ret = PTR_ERR(imp->attach);
		goto err_free;
	}
	imp->sgt = dma_buf_map_attachment_unlocked(imp->attach,
						   DMA_BIDIRECTIONAL);
	if (IS_ERR(imp->sgt)) {
		ret = PTR_ERR(imp->sgt);
		goto err_detach;
	}
	kref_init(&imp->kref);
	imp->remote = r;
	get_dma_buf(dmabuf);
	imp->dmabuf = dmabuf;
	rb_link_node(&imp->node, parent, link);
	rb_insert_color(&imp->node, &r->imports);
out:
	mutex_unlock(&r->import_lock);
	return imp;

err_detach:
	dma_buf_detach(dmabuf, imp->attach);
err_free:
	kfree(imp);
	imp = ERR_PTR(ret);
	goto out;
}

/*
 * Called with the remote's import_lock held, which it drops only once the
 * buffer is detached: a new map of the same buffer must not attach it
 * again while this attachment is still mapped.
 */
static void hapmem_import_release(struct kref *kref)
{
	struct hapmem_import *imp = container_of(kref, struct hapmem_import,
						 kref);

	rb_erase(&imp->node, &imp->remote->imports);
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	mutex_unlock(&imp->remote->import_lock);
	dma_buf_put(imp->dmabuf);
	kfree(imp);
}

static void hapmem_import_put(struct hapmem_import *imp)
{
	kref_put_mutex(&imp->kref, hapmem_import_release,
		       &imp->remote->import_lock);
}

/* Unpin the first @n pages of @map's, and give back their charge. */
static void hapmem_map_unpin(struct hapmem_map *map, unsigned long n)
{
	unpin_user_pages(map->upages, n);
	kvfree(map->upages);
	map->upages = NULL;
	hapmem_pin_uncharge(map->pin_mm, map->nr_upages);
	mmdrop(map->pin_mm);
	map->pin_mm = NULL;
}

static void hapmem_map_drop_memory(struct hapmem_map *map)
{
	if (map->import)
		hapmem_import_put(map->import);
	if (map->dmabuf)
		dma_buf_put(map->dmabuf);
	if (map->buf) {
		if (map->sgt && !map->remote->domain)
			dma_unmap_sgtable(map->remote->dma_dev, map->sgt,
					  DMA_BIDIRECTIONAL, 0);
		hapmem_buffer_fini(map->buf);
	}
	if (map->upages) {
		if (map->sgt && !map->remote->domain) {
			dma_sync_sgtable_for_cpu(hapmem_attach_dev(map->remote),
						 map->sgt, DMA_BIDIRECTIONAL);
			dma_unmap_sgtable(hapmem_attach_dev(map->remote),
					  map->sgt, DMA_BIDIRECTIONAL,
					  DMA_ATTR_SKIP_CPU_SYNC);
		}
		sg_free_table(&map->usgt);
		hapmem_map_unpin(map, map->nr_upages);
	}
}

static void hapmem_map_release(struct kref *kref)
{
	struct hapmem_map *map = container_of(kref, struct hapmem_map, kref);
	struct hapmem_remote *r = map->remote;

	if (r->domain) {
		size_t unmapped = iommu_unmap(r->domain, map->va.start,
					      map->va.len);

		WARN_ON(unmapped != map->va.len);
		hapmem_map_release_va(map);
	}
	hapmem_map_drop_memory(map);
	atomic64_dec(&hapmem_stats.maps);
	atomic64_sub(map->va.len, &hapmem_stats.bytes);
	kfree(map);
}

void hapmem_map_put(struct hapmem_map *map)
{
	kref_put(&map->kref, hapmem_map_release);
}

static void hapmem_map_account(struct hapmem_map *map)
{
	atomic64_inc(&hapmem_stats.maps);
	atomic64_add(map->va.len, &hapmem_stats.bytes);
}

/**
 * hapmem_map_dmabuf() - map part of a dma-buf for the session's remote
 * @s: the session
 * @dmabuf: the buffer; the map takes its own reference
 * @offset: page aligned offset into @dmabuf
 * @len: page aligned, non-zero, @offset + @len within @dmabuf
 * @map_flags: HAPMEM_MAP_*
 * @fixed_va: the device address with HAPMEM_MAP_FIXED
 *
 * Return: the map with one reference, or an ERR_PTR.
 */
struct hapmem_map *hapmem_map_dmabuf(struct hapmem_session *s,
				     struct dma_buf *dmabuf, u64 offset,
				     u64 len, u32 map_flags, u64 fixed_va)
{
	struct hapmem_map *map;
	int ret;

	map = hapmem_map_new(s, map_flags, 0);
	if (!map)
		return ERR_PTR(-ENOMEM);
	get_dma_buf(dmabuf);
	map->dmabuf = dmabuf;
	map->offset = offset;

	map->import = hapmem_import_get(s->remote, dmabuf);
	if (IS_ERR(map->import)) {
		ret = PTR_ERR(map->import);
		map->import = NULL;
		goto err;
	}
	map->sgt = map->import->sgt;

	ret = hapmem_map_place(s, map, offset, len, map_flags, fixed_va);
	if (ret)
		goto err;
	hapmem_map_account(map);
	return map;

err:
	hapmem_map_drop_memory(map);
	kfree(map);
	return ERR_PTR(ret);
}

/*
 * Long-term pins of a shared file mapping would let the file's pages be
 * written behind the filesystem's back for as long as the map lives, so
 * only anonymous memory, tmpfs/shmem and hugetlbfs may be pinned (as newer
 * kernels' FOLL_LONGTERM enforces itself).
 */
static int hapmem_map_user_check(u64 vin, u64 len)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 addr = vin, end = vin + len;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr) {
			ret = -EFAULT;
			break;
		}
		/* shmem_mapping() is not exported: tmpfs is known by its magic. */
		if (vma->vm_file && (vma->vm_flags & VM_SHARED) &&
		    file_inode(vma->vm_file)->i_sb->s_magic != TMPFS_MAGIC &&
		    !is_vm_hugetlb_page(vma)) {
			ret = -EOPNOTSUPP;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/**
 * hapmem_map_user() - pin the caller's memory and map it for the remote
 * @s: the session
 * @vin: page aligned user address
 * @len: page aligned, non-zero
 * @map_flags: HAPMEM_MAP_*
 *
 * The pages are pinned long-term and charged to the caller's pinned_vm
 * against RLIMIT_MEMLOCK: munmap() of the range leaves them pinned and
 * mapped for the remote until the unmap, and fork() gives the child a copy
 * while the parent keeps the pinned pages (see driver.rst).
 *
 * Return: the map with one reference, or an ERR_PTR: -ENOMEM past
 * RLIMIT_MEMLOCK, -EOPNOTSUPP for a shared mapping of a regular file,
 * -EFAULT for an unmapped range, -EINTR on a fatal signal.
 */
struct hapmem_map *hapmem_map_user(struct hapmem_session *s, u64 vin,
				   u64 len, u32 map_flags)
{
	unsigned long npages = len >> PAGE_SHIFT, pinned = 0;
	struct hapmem_map *map;
	int ret;

	ret = hapmem_map_user_check(vin, len);
	if (ret)
		return ERR_PTR(ret);
	ret = hapmem_pin_charge(current->mm, npages);
	if (ret)
		return ERR_PTR(ret);
	map = hapmem_map_new(s, map_flags, 0);
	if (!map) {
		hapmem_pin_uncharge(current->mm, npages);
		return ERR_PTR(-ENOMEM);
	}
	mmgrab(current->mm);
	map->pin_mm = current->mm;
	map->nr_upages = npages;
	map->upages = kvmalloc_array(npages, sizeof(*map->upages),
				     HAPMEM_GFP_USER);
	if (!map->upages) {
		ret = -ENOMEM;
		goto err_unpin;
	}
	while (pinned < npages) {
		int n = min_t(unsigned long, npages - pinned, SZ_64K);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_unpin;
		}
		ret = pin_user_pages_fast(vin + (pinned << PAGE_SHIFT), n,
					  FOLL_WRITE | FOLL_LONGTERM,
					  map->upages + pinned);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto err_unpin;
		}
		pinned += ret;
	}

	ret = sg_alloc_table_from_pages(&map->usgt, map->upages, npages, 0,
					len, HAPMEM_GFP_USER);
	if (ret)
		goto err_unpin;
	/*
	 * The remote's own domain maps physical addresses; only a remote
	 * without one needs the DMA API's.  The same pages may be mapped by
	 * several maps at once, so the caches are synced explicitly rather
	 * than by each streaming mapping (which DMA-API debugging would report
	 * as overlapping).
	 */
	if (!s->remote->domain) {
		ret = dma_map_sgtable(hapmem_attach_dev(s->remote), &map->usgt,
				      DMA_BIDIRECTIONAL,
				      DMA_ATTR_SKIP_CPU_SYNC);
		if (ret)
			goto err_table;
		dma_sync_sgtable_for_device(hapmem_attach_dev(s->remote),
					    &map->usgt, DMA_BIDIRECTIONAL);
	}
	map->sgt = &map->usgt;

	ret = hapmem_map_place(s, map, 0, len, map_flags, 0);
	if (ret)
		goto err_drop;
	hapmem_map_account(map);
	return map;

err_drop:
	hapmem_map_drop_memory(map);
	kfree(map);
	return ERR_PTR(ret);
err_table:
	sg_free_table(&map->usgt);
err_unpin:
	hapmem_map_unpin(map, pinned);
	kfree(map);
	return ERR_PTR(ret);
}

/* A map and the buffer it owns, in one allocation. */
struct hapmem_owned_map {
	struct hapmem_map map;
	struct hapmem_buffer buf;
};

/**
 * hapmem_map_alloc() - allocate zeroed memory and map it for the remote
 * @s: the session
 * @len: page aligned, non-zero
 * @buf_flags: HAPMEM_BUF_*
 * @map_flags: HAPMEM_MAP_*
 *
 * For a request_map that returns no fd, nothing outside the driver can ever
 * name the memory, so it needs no dma-buf: no file, no attachment, no
 * scatterlist DMA-mapped through the import device.  The map owns the
 * buffer (allocated with it, a one-chunk buffer's scatterlist included),
 * maps its physical chunks into the remote's domain (or, without an
 * IOMMU, DMA-maps them for the remote's device) and frees it, scrubbed if
 * protected, when it is released.
 *
 * Return: the map with one reference, or an ERR_PTR.
 */
struct hapmem_map *hapmem_map_alloc(struct hapmem_session *s, u64 len,
				    u32 buf_flags, u32 map_flags)
{
	struct hapmem_remote *r = s->remote;
	struct hapmem_owned_map *owned;
	struct hapmem_map *map;
	int ret;

	map = hapmem_map_new(s, map_flags, sizeof(*owned) - sizeof(*map));
	if (!map)
		return ERR_PTR(-ENOMEM);
	owned = container_of(map, struct hapmem_owned_map, map);
	ret = hapmem_buffer_init(&owned->buf, len, buf_flags,
				 (buf_flags & HAPMEM_BUF_PROTECTED) ? r : NULL);
	if (ret)
		goto err;
	map->buf = &owned->buf;
	if (!r->domain) {
		ret = dma_map_sgtable(r->dma_dev, &map->buf->table,
				      DMA_BIDIRECTIONAL, 0);
		if (ret)
			goto err;
	}
	map->sgt = &map->buf->table;

	ret = hapmem_map_place(s, map, 0, len, map_flags, 0);
	if (ret)
		goto err;
	hapmem_map_account(map);
	return map;

err:
	hapmem_map_drop_memory(map);
	kfree(map);
	return ERR_PTR(ret);
}
