// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: remotes.
 *
 * A remote is a processor that reaches memory through its own device
 * address space.  Each PCI device bound to hapmem is one remote: QEMU's edu
 * devices (1234:11e8) by default, any other device when the administrator
 * binds it (driver_override or new_id).  When an IOMMU translates for it,
 * the remote gets an IOMMU domain of its own, whose addresses hapmem hands
 * out as vadsp.  An edu device's DMA engine is the remote's (the test
 * instrument); other devices have none, and must have an IOMMU.  An edu
 * device without an IOMMU uses the DMA API's addresses instead.  When no
 * device is bound at load, a software remote (no DMA engine) keeps the
 * driver usable.
 *
 * A remote can go away while it is in use: PCI removal, hot-unplug or an
 * unbind through sysfs.  Removal revokes it (hapmem_remote_revoke()): the
 * node goes, every session of the remote turns dead (its ioctls answer
 * ENODEV), every map is unmapped from the IOMMU and released, pinned pages
 * unpinned, reservations and cached ranges dropped, and only then do the
 * DMA engine, the address space and the IOMMU domain go.  The structure
 * itself is refcounted and freed when the last session or protected buffer
 * bound to it lets go; nothing of the device is reached after removal.
 */
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "hapmem.h"

#define PCI_VENDOR_ID_QEMU_EDU	0x1234
#define PCI_DEVICE_ID_QEMU_EDU	0x11e8
#define EDU_REG_ID		0x00
#define EDU_ID_MAGIC		0xedU

/* Every published remote, in probe order, under hapmem_remotes_lock. */
LIST_HEAD(hapmem_remotes);
DEFINE_MUTEX(hapmem_remotes_lock); /* protects hapmem_remotes */
static struct hapmem_remote *hapmem_soft_remote;
static DEFINE_IDA(hapmem_remote_ida);

/* The names multi-DSP users know, in probe order. */
static const char *const hapmem_remote_names[] = { "adsp", "cdsp", "sdsp", "mdsp" };

static void hapmem_remote_release(struct kref *kref)
{
	struct hapmem_remote *r = container_of(kref, struct hapmem_remote,
					       kref);

	WARN_ON(!RB_EMPTY_ROOT(&r->imports));
	kfree(r);
}

void hapmem_remote_get(struct hapmem_remote *r)
{
	kref_get(&r->kref);
}

void hapmem_remote_put(struct hapmem_remote *r)
{
	kref_put(&r->kref, hapmem_remote_release);
}

/**
 * hapmem_remote_by_index() - a published remote by index
 * @index: its index
 *
 * Return: the remote with a new reference, or NULL.
 */
struct hapmem_remote *hapmem_remote_by_index(unsigned int index)
{
	struct hapmem_remote *r, *found = NULL;

	mutex_lock(&hapmem_remotes_lock);
	list_for_each_entry(r, &hapmem_remotes, node) {
		if (r->index == index) {
			found = r;
			hapmem_remote_get(r);
			break;
		}
	}
	mutex_unlock(&hapmem_remotes_lock);
	return found;
}

/**
 * hapmem_remote_by_attach_dev() - the published remote @dev attaches
 *	dma-bufs for
 * @dev: a device
 *
 * A removed remote is no longer published, so a buffer bound to it finds
 * no remote here, even should a new device take its old address.
 *
 * Return: the remote (no reference: compare it only) or NULL.
 */
struct hapmem_remote *hapmem_remote_by_attach_dev(struct device *dev)
{
	struct hapmem_remote *r, *found = NULL;

	mutex_lock(&hapmem_remotes_lock);
	list_for_each_entry(r, &hapmem_remotes, node) {
		if (hapmem_attach_dev(r) == dev) {
			found = r;
			break;
		}
	}
	mutex_unlock(&hapmem_remotes_lock);
	return found;
}

/* The first published remote, with a new reference, or NULL. */
struct hapmem_remote *hapmem_remote_first(void)
{
	struct hapmem_remote *r;

	mutex_lock(&hapmem_remotes_lock);
	r = list_first_entry_or_null(&hapmem_remotes, struct hapmem_remote,
				     node);
	if (r)
		hapmem_remote_get(r);
	mutex_unlock(&hapmem_remotes_lock);
	return r;
}

unsigned int hapmem_remote_count(void)
{
	struct hapmem_remote *r;
	unsigned int n = 0;

	mutex_lock(&hapmem_remotes_lock);
	list_for_each_entry(r, &hapmem_remotes, node)
		n++;
	mutex_unlock(&hapmem_remotes_lock);
	return n;
}

u32 hapmem_remote_flags(struct hapmem_remote *r)
{
	u32 flags = 0;

	if (r->domain)
		flags |= HAPMEM_REMOTE_IOMMU | HAPMEM_REMOTE_FIXED_VA;
	if (r->mmio)
		flags |= HAPMEM_REMOTE_DMA_ENGINE;
	return flags;
}

/*
 * Keep the IOMMU's reserved regions (the interrupt window on x86) out of
 * the address space: a map there would never reach memory.
 */
static int hapmem_remote_block_resv_regions(struct hapmem_remote *r)
{
	struct iommu_resv_region *region;
	struct iommu_group *group;
	LIST_HEAD(regions);
	int ret = 0;

	group = iommu_group_get(&r->pdev->dev);
	if (!group)
		return 0;
	ret = iommu_get_group_resv_regions(group, &regions);
	iommu_group_put(group);
	if (ret)
		goto out;

	list_for_each_entry(region, &regions, list) {
		u64 start = max_t(u64, region->start, r->va32_start);
		u64 end = region->start + region->length;
		struct hapmem_va *blk;

		if (region->type == IOMMU_RESV_DIRECT_RELAXABLE ||
		    region->type == IOMMU_RESV_DIRECT)
			dev_warn(&r->pdev->dev,
				 "direct-mapped region %pa+%zx is not mapped for the remote\n",
				 &region->start, region->length);
		end = min_t(u64, end, r->va64_end ? r->va64_end : r->va32_end);
		if (start >= end)
			continue;
		blk = kzalloc(sizeof(*blk), GFP_KERNEL);
		if (!blk) {
			ret = -ENOMEM;
			break;
		}
		start = round_down(start, PAGE_SIZE);
		ret = hapmem_va_block(r, blk, start,
				      round_up(end, PAGE_SIZE) - start);
		if (ret) {
			kfree(blk);
			break;
		}
	}
out:
	iommu_put_resv_regions(&r->pdev->dev, &regions);
	return ret;
}

/* Free the blocked ranges hapmem_remote_block_resv_regions() allocated. */
static void hapmem_remote_free_va(struct hapmem_remote *r)
{
	MA_STATE(mas, &r->va, 0, 0);
	struct hapmem_va *va;

	mutex_lock(&r->va_lock);
	mas_for_each(&mas, va, ULONG_MAX) {
		/* Anything else is a leak, and not this function's to free. */
		if (WARN_ON(va->kind != HAPMEM_VA_BLOCKED))
			continue;
		if (va != &r->bounce_blk)
			kfree(va);
	}
	__mt_destroy(&r->va);
	mutex_unlock(&r->va_lock);
}

static int hapmem_remote_setup_iommu(struct hapmem_remote *r)
{
	struct device *dev = &r->pdev->dev;
	struct iommu_domain *domain;
	u64 end;
	int ret;

	if (!device_iommu_mapped(dev))
		return 0;

	domain = hapmem_iommu_domain_alloc(dev);
	if (!domain)
		return -ENOMEM;
	ret = iommu_attach_device(domain, dev);
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}
	r->domain = domain;

	end = domain->geometry.force_aperture ?
		domain->geometry.aperture_end : U64_MAX;
	r->va32_start = HAPMEM_VA_BASE;
	r->va32_end = min_t(u64, end, HAPMEM_SZ_4G - 1) + 1;
	if (end >= HAPMEM_SZ_4G && end != U64_MAX) {
		r->va64_start = HAPMEM_SZ_4G;
		r->va64_end = end + 1;
	}
	return 0;
}

static void hapmem_remote_teardown_iommu(struct hapmem_remote *r)
{
	if (!r->domain)
		return;
	iommu_detach_device(r->domain, &r->pdev->dev);
	iommu_domain_free(r->domain);
	r->domain = NULL;
}

/* The software remote and DMA-API remotes: addresses are what the DMA API says. */
static void hapmem_remote_direct_windows(struct hapmem_remote *r)
{
	r->va32_start = 0;
	r->va32_end = HAPMEM_SZ_4G;
	r->va64_start = HAPMEM_SZ_4G;
	r->va64_end = U64_MAX;
}

static struct hapmem_remote *hapmem_remote_alloc(struct device *parent)
{
	struct platform_device_info pinfo = {
		.parent = parent,
		.name = "hapmem-import",
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct hapmem_remote *r;
	int index;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	kref_init(&r->kref);
	init_rwsem(&r->revoke);

	index = ida_alloc(&hapmem_remote_ida, GFP_KERNEL);
	if (index < 0) {
		kfree(r);
		return ERR_PTR(index);
	}
	r->index = index;
	if (index < ARRAY_SIZE(hapmem_remote_names))
		strscpy(r->name, hapmem_remote_names[index], sizeof(r->name));
	else
		snprintf(r->name, sizeof(r->name), "dsp%d", index);
	mutex_init(&r->va_lock);
	INIT_LIST_HEAD(&r->vcaches);
	mutex_init(&r->engine_lock);
	mutex_init(&r->import_lock);
	mutex_init(&r->xlate_lock);
	r->xlate_pages = 1;
	r->imports = RB_ROOT;
	mt_init_flags(&r->va, MT_FLAGS_ALLOC_RANGE | MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&r->va, &r->va_lock);
	INIT_LIST_HEAD(&r->node);

	/*
	 * dma-bufs are attached to this directly mapped device, so the
	 * exporter's scatterlist gives physical addresses, which are then
	 * mapped into the remote's own domain at addresses hapmem chooses.
	 * Attaching to the edu device itself would map them into its DMA-API
	 * domain, which the remote no longer uses.
	 */
	pinfo.id = index;
	r->import_pdev = platform_device_register_full(&pinfo);
	if (IS_ERR(r->import_pdev)) {
		int ret = PTR_ERR(r->import_pdev);

		ida_free(&hapmem_remote_ida, index);
		kfree(r);
		return ERR_PTR(ret);
	}
	/* Chunks are up to 2 MiB; the IOMMU maps runs of any length. */
	dma_set_max_seg_size(hapmem_import_dev(r), UINT_MAX);
	return r;
}

/* Undo hapmem_remote_alloc(); the structure goes with its last reference. */
static void hapmem_remote_free(struct hapmem_remote *r)
{
	platform_device_unregister(r->import_pdev);
	ida_free(&hapmem_remote_ida, r->index);
	hapmem_remote_put(r);
}

static int hapmem_remote_publish(struct hapmem_remote *r)
{
	int ret;

	snprintf(r->misc_name, sizeof(r->misc_name), "hapmem-%s", r->name);
	r->misc.minor = MISC_DYNAMIC_MINOR;
	r->misc.name = r->misc_name;
	r->misc.fops = &hapmem_fops;
	r->misc.mode = 0600;
	ret = misc_register(&r->misc);
	if (ret)
		return ret;

	mutex_lock(&hapmem_remotes_lock);
	list_add_tail(&r->node, &hapmem_remotes);
	mutex_unlock(&hapmem_remotes_lock);
	hapmem_debugfs_remote_add(r);
	return 0;
}

static void hapmem_remote_unpublish(struct hapmem_remote *r)
{
	/* Waits for a running debugfs read: none touches the domain after. */
	hapmem_debugfs_remote_del(r);
	mutex_lock(&hapmem_remotes_lock);
	list_del_init(&r->node);
	mutex_unlock(&hapmem_remotes_lock);
	/* Opens run under misc_register's lock: none is running after this. */
	misc_deregister(&r->misc);
}

/*
 * Take a published remote away from its users: no new session, every
 * session dead, everything they held on the remote released, then the
 * remote's own resources.  The device's registers and domain are not
 * touched after this returns.
 */
static void hapmem_remote_revoke(struct hapmem_remote *r)
{
	hapmem_remote_unpublish(r);
	/* Stops a running remote access between its transfers. */
	WRITE_ONCE(r->dead, true);
	down_write(&r->revoke);
	hapmem_sessions_revoke(r);
	up_write(&r->revoke);
	hapmem_engine_exit(r);
	hapmem_remote_free_va(r);
	hapmem_remote_teardown_iommu(r);
	dev_info(r->dma_dev, "remote %s removed\n", r->name);
	hapmem_remote_free(r);
}

/* The edu engine's BAR, checked to be an edu device's. */
static int hapmem_edu_map_engine(struct hapmem_remote *r)
{
	struct pci_dev *pdev = r->pdev;
	u32 ident;
	int ret;

	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	ident = ioread32(pcim_iomap_table(pdev)[0] + EDU_REG_ID);
	if ((ident & 0xffff) != EDU_ID_MAGIC) {
		dev_err(&pdev->dev, "not an edu device (id %#x)\n", ident);
		return -ENODEV;
	}
	r->mmio = pcim_iomap_table(pdev)[0];
	return 0;
}

static bool hapmem_is_edu(struct pci_dev *pdev)
{
	return pdev->vendor == PCI_VENDOR_ID_QEMU_EDU &&
	       pdev->device == PCI_DEVICE_ID_QEMU_EDU;
}

/*
 * Any PCI device bound to hapmem (the id table matches edu; driver_override
 * or new_id binds others) is a remote.  An edu device brings the DMA
 * engine; any other device is a remote without one, and must have an
 * IOMMU domain of its own: without it hapmem could not choose its device
 * addresses, and the DMA API's would depend on a DMA mask only the
 * device's own driver knows.
 */
static int hapmem_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	bool edu = hapmem_is_edu(pdev);
	struct hapmem_remote *r;
	int ret;

	/* Refused before it is enabled: nothing of it is touched. */
	if (!edu && !device_iommu_mapped(&pdev->dev)) {
		dev_err(&pdev->dev, "no IOMMU translates for this device: a device other than edu needs one to be a remote\n");
		return -ENODEV;
	}
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	r = hapmem_remote_alloc(&pdev->dev);
	if (IS_ERR(r))
		return PTR_ERR(r);
	r->pdev = pdev;
	r->dma_dev = &pdev->dev;
	if (edu) {
		ret = hapmem_edu_map_engine(r);
		if (ret)
			goto err_free;
	}

	ret = hapmem_remote_setup_iommu(r);
	if (ret && !edu) {
		dev_err(&pdev->dev, "no IOMMU domain of its own (%d): a device other than edu needs one to be a remote\n",
			ret);
		goto err_free;
	}
	if (ret) {
		dev_warn(&pdev->dev, "no IOMMU domain of its own (%d): using DMA-API addresses\n",
			 ret);
		ret = 0;
	}
	/* Only now, in the domain it keeps: its DMA reaches nothing else. */
	pci_set_master(pdev);
	if (r->domain) {
		/* It may have blocked some ranges before it failed. */
		ret = hapmem_remote_block_resv_regions(r);
		if (ret)
			goto err_va;
	} else {
		hapmem_remote_direct_windows(r);
		ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
		if (ret)
			goto err_iommu;
		dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	}

	ret = hapmem_engine_init(r);
	if (ret)
		goto err_va;
	ret = hapmem_remote_publish(r);
	if (ret)
		goto err_engine;
	pci_set_drvdata(pdev, r);

	if (r->domain)
		dev_info(&pdev->dev,
			 "remote %s: IOMMU translates, windows [%#llx, %#llx) [%#llx, %#llx), page sizes %#lx, %s\n",
			 r->name, r->va32_start, r->va32_end, r->va64_start,
			 r->va64_end, r->domain->pgsize_bitmap,
			 r->mmio ? "DMA engine" : "no DMA engine");
	else
		dev_info(&pdev->dev,
			 "remote %s: no IOMMU translates, DMA-API addresses\n",
			 r->name);
	return 0;

err_engine:
	hapmem_engine_exit(r);
err_va:
	hapmem_remote_free_va(r);
err_iommu:
	hapmem_remote_teardown_iommu(r);
err_free:
	hapmem_remote_free(r);
	return ret;
}

static void hapmem_pci_remove(struct pci_dev *pdev)
{
	hapmem_remote_revoke(pci_get_drvdata(pdev));
}

/* edu by default; any other device only when the administrator binds it. */
static const struct pci_device_id hapmem_edu_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_QEMU_EDU, PCI_DEVICE_ID_QEMU_EDU) },
	{ }
};
MODULE_DEVICE_TABLE(pci, hapmem_edu_ids);

static struct pci_driver hapmem_pci_driver = {
	.name = "hapmem",
	.id_table = hapmem_edu_ids,
	.probe = hapmem_pci_probe,
	.remove = hapmem_pci_remove,
	/* The remote's domain is managed here, not by the DMA API. */
	.driver_managed_dma = true,
};

static int hapmem_soft_remote_create(void)
{
	struct hapmem_remote *r;
	int ret;

	r = hapmem_remote_alloc(NULL);
	if (IS_ERR(r))
		return PTR_ERR(r);
	r->dma_dev = hapmem_import_dev(r);
	hapmem_remote_direct_windows(r);
	ret = hapmem_remote_publish(r);
	if (ret) {
		hapmem_remote_free(r);
		return ret;
	}
	hapmem_soft_remote = r;
	pr_info("hapmem: no PCI device bound: software remote %s, DMA-API addresses, no DMA engine\n",
		r->name);
	return 0;
}

int hapmem_remotes_init(void)
{
	int ret;

	ret = pci_register_driver(&hapmem_pci_driver);
	if (ret)
		return ret;
	if (hapmem_remote_count())
		return 0;
	ret = hapmem_soft_remote_create();
	if (ret)
		pci_unregister_driver(&hapmem_pci_driver);
	return ret;
}

void hapmem_remotes_exit(void)
{
	if (hapmem_soft_remote) {
		hapmem_remote_revoke(hapmem_soft_remote);
		hapmem_soft_remote = NULL;
	}
	pci_unregister_driver(&hapmem_pci_driver);
}
