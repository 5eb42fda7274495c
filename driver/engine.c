// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: the remote's DMA engine (QEMU edu).
 *
 * The edu device copies up to 4 KiB between its internal buffer (device
 * address 0x40000) and memory, through the IOMMU.  A remote access is
 * staged through a bounce page that hapmem maps for the device: a read is
 * memory -> edu buffer -> bounce page, a write the reverse.  Every byte
 * therefore really passes through the device's DMA at the address asked.
 *
 * The engine completes a transfer about 100 ms after it starts (a timer in
 * QEMU), so completion is polled with sleeps rather than spun on, and
 * callers should move the few bytes they need, not megabytes.
 */
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hapmem.h"

#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)	/* edu buffer -> memory */
#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
/*
 * QEMU's range check wants the end of a transfer strictly inside the
 * buffer, so one transfer moves at most 4095 bytes.
 */
#define EDU_XFER_MAX		(EDU_BUF_SIZE - 1)
#define EDU_DMA_TIMEOUT_US	(5 * USEC_PER_SEC)

int hapmem_engine_init(struct hapmem_remote *r)
{
	int ret;

	if (!r->mmio)
		return 0;

	if (!r->domain) {
		r->bounce_vapps = dma_alloc_coherent(r->dma_dev, PAGE_SIZE,
						     &r->bounce_vadsp, GFP_KERNEL);
		return r->bounce_vapps ? 0 : -ENOMEM;
	}

	r->bounce = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!r->bounce)
		return -ENOMEM;
	r->bounce_vapps = page_address(r->bounce);
	r->bounce_blk.kind = HAPMEM_VA_BLOCKED;
	ret = hapmem_va_alloc(r, &r->bounce_blk, PAGE_SIZE, HAPMEM_MAP_VA32,
			      NULL);
	if (ret)
		goto err_page;
	r->bounce_blk.kind = HAPMEM_VA_BLOCKED;
	ret = hapmem_iommu_map(r->domain, r->bounce_blk.start,
			       page_to_phys(r->bounce), PAGE_SIZE,
			       IOMMU_READ | IOMMU_WRITE);
	if (ret)
		goto err_va;
	r->bounce_vadsp = r->bounce_blk.start;
	return 0;

err_va:
	hapmem_va_free(r, &r->bounce_blk, NULL);
err_page:
	__free_page(r->bounce);
	r->bounce = NULL;
	return ret;
}

void hapmem_engine_exit(struct hapmem_remote *r)
{
	if (!r->mmio)
		return;
	if (!r->domain) {
		dma_free_coherent(r->dma_dev, PAGE_SIZE, r->bounce_vapps,
				  r->bounce_vadsp);
		return;
	}
	iommu_unmap(r->domain, r->bounce_blk.start, PAGE_SIZE);
	hapmem_va_free(r, &r->bounce_blk, NULL);
	__free_page(r->bounce);
	r->bounce = NULL;
}

static int hapmem_engine_dma(struct hapmem_remote *r, u64 src, u64 dst,
			     u32 cnt, bool to_ram)
	__must_hold(&r->engine_lock)
{
	u64 cmd;

	/*
	 * 64-bit accesses: edu ignores the upper halves of its DMA registers
	 * when they are written as two 32-bit halves.
	 */
	writeq(src, r->mmio + EDU_REG_DMA_SRC);
	writeq(dst, r->mmio + EDU_REG_DMA_DST);
	writeq(cnt, r->mmio + EDU_REG_DMA_CNT);
	writeq(EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0),
	       r->mmio + EDU_REG_DMA_CMD);
	return readq_poll_timeout(r->mmio + EDU_REG_DMA_CMD, cmd,
				  !(cmd & EDU_DMA_START), 1000,
				  EDU_DMA_TIMEOUT_US) ? -EIO : 0;
}

/* How many pages of [dva, dva + len) the remote's IOMMU does not translate. */
static u32 hapmem_engine_untranslated(struct hapmem_remote *r, u64 dva, u32 len)
{
	u64 page = round_down(dva, PAGE_SIZE), last = dva + len - 1;
	u32 n = 0;

	if (!r->domain)
		return 0;
	/* Up to the last byte: a range at the top of the space ends at 2^64. */
	for (;; page += PAGE_SIZE) {
		n += !iommu_iova_to_phys(r->domain, page);
		if (last - page < PAGE_SIZE)
			break;
	}
	return n;
}

/**
 * hapmem_engine_access() - move bytes between user memory and the remote
 * @r: the remote
 * @vadsp: device address
 * @len: bytes
 * @ubuf: user buffer
 * @write: true to write @ubuf's bytes at @vadsp, false to read them
 * @faults: out: pages of the range the IOMMU refused the device
 *
 * Return: 0, -EOPNOTSUPP without a DMA engine, -EFAULT for @ubuf, -EIO if
 * the engine did not finish, -EINTR on a fatal signal between chunks,
 * -ENODEV when the remote is being removed.
 */
int hapmem_engine_access(struct hapmem_remote *r, u64 vadsp, u64 len,
			 void __user *ubuf, bool write, u32 *faults)
{
	u64 off;
	u8 *kbuf;
	int ret = 0;

	*faults = 0;
	if (!r->mmio)
		return -EOPNOTSUPP;
	kbuf = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;

	for (off = 0; off < len; off += EDU_XFER_MAX) {
		u32 n = min_t(u64, len - off, EDU_XFER_MAX);
		u64 dva = vadsp + off;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/* Removal is waiting for this access: stop between transfers. */
		if (READ_ONCE(r->dead)) {
			ret = -ENODEV;
			break;
		}
		if (write && copy_from_user(kbuf, ubuf + off, n)) {
			ret = -EFAULT;
			break;
		}

		mutex_lock(&r->engine_lock);
		*faults += hapmem_engine_untranslated(r, dva, n);
		if (write) {
			memcpy(r->bounce_vapps, kbuf, n);
			ret = hapmem_engine_dma(r, r->bounce_vadsp, EDU_BUF_ADDR,
						n, false);
			if (!ret)
				ret = hapmem_engine_dma(r, EDU_BUF_ADDR, dva, n,
							true);
		} else {
			ret = hapmem_engine_dma(r, dva, EDU_BUF_ADDR, n, false);
			if (!ret)
				ret = hapmem_engine_dma(r, EDU_BUF_ADDR,
							r->bounce_vadsp, n, true);
			memcpy(kbuf, r->bounce_vapps, n);
		}
		mutex_unlock(&r->engine_lock);
		if (ret)
			break;

		if (!write && copy_to_user(ubuf + off, kbuf, n)) {
			ret = -EFAULT;
			break;
		}
	}
	kfree(kbuf);
	return ret;
}
