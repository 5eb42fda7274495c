/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem: the kernel API differences between the versions hapmem builds
 * against, kept in one place.  Known to build and pass the kselftests:
 * Debian bookworm's 6.1 and 6.12 (x86_64), and 6.1 on arm64.
 *
 * This is the one file that tests LINUX_VERSION_CODE, so the code-health
 * check (scripts/check-kernel-style) lets checkpatch's LINUX_VERSION_CODE
 * and CONSTANT_COMPARISON reports through here and nowhere else.
 */
#ifndef _HAPMEM_COMPAT_H
#define _HAPMEM_COMPAT_H

#include <linux/iommu.h>
#include <linux/mmzone.h>
#include <linux/version.h>

/*
 * HAPMEM_MAX_PAGE_ORDER: the largest order the buddy allocator hands out,
 * inclusive.  Up to 6.3 MAX_ORDER was exclusive (orders 0..MAX_ORDER-1);
 * 6.4 made it inclusive, and 6.8 renamed it MAX_PAGE_ORDER.  All three
 * give 10 (4 MiB) with 4 KiB pages on x86_64 and arm64's default.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define HAPMEM_MAX_PAGE_ORDER MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define HAPMEM_MAX_PAGE_ORDER MAX_ORDER
#else
#define HAPMEM_MAX_PAGE_ORDER (MAX_ORDER - 1)
#endif

/* 6.3 gave iommu_map() a gfp argument. */
static inline int hapmem_iommu_map(struct iommu_domain *domain,
				   unsigned long iova, phys_addr_t paddr,
				   size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	/* Page-table growth is charged to the caller's memory cgroup. */
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/* 6.11 replaced the bus-wide allocator with a per-device one. */
static inline struct iommu_domain *hapmem_iommu_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct iommu_domain *domain = iommu_paging_domain_alloc(dev);

	return IS_ERR(domain) ? NULL : domain;
#else
	return iommu_domain_alloc(dev->bus);
#endif
}

/* 6.13 turned the namespace argument into a string literal. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define HAPMEM_IMPORT_DMA_BUF_NS() MODULE_IMPORT_NS("DMA_BUF")
#else
#define HAPMEM_IMPORT_DMA_BUF_NS() MODULE_IMPORT_NS(DMA_BUF)
#endif

#endif /* _HAPMEM_COMPAT_H */
