// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: debugfs.
 *
 *   /sys/kernel/debug/hapmem/counters   global counters
 *   /sys/kernel/debug/hapmem/remotes    remotes, windows, LLC carve-out
 *   /sys/kernel/debug/hapmem/maps       every session and its maps
 *   /sys/kernel/debug/hapmem/<remote>/translate
 *	a remote with an IOMMU domain: write "VADSP [PAGES]", read one line
 *	per page, "vadsp phys", phys as the remote's IOMMU translates it
 *	(0: not mapped)
 */
#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hapmem.h"

static struct dentry *hapmem_debugfs;

static int hapmem_counters_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "sessions %lld\nmaps %lld\nbytes %lld\nbuffers %lld\npages %lld\nreservations %lld\nva_cached %lld\n",
		   atomic64_read(&hapmem_stats.sessions),
		   atomic64_read(&hapmem_stats.maps),
		   atomic64_read(&hapmem_stats.bytes),
		   atomic64_read(&hapmem_stats.buffers),
		   atomic64_read(&hapmem_stats.pages),
		   atomic64_read(&hapmem_stats.reservations),
		   atomic64_read(&hapmem_stats.va_cached));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hapmem_counters);

static int hapmem_remotes_show(struct seq_file *m, void *unused)
{
	struct hapmem_remote *r;
	u64 total, used;

	mutex_lock(&hapmem_remotes_lock);
	list_for_each_entry(r, &hapmem_remotes, node)
		seq_printf(m, "%u %s dev=%s iommu=%s engine=%s va32=[%#llx,%#llx) va64=[%#llx,%#llx)\n",
			   r->index, r->name,
			   r->pdev ? pci_name(r->pdev) : "none",
			   r->domain ? "yes" : "no", r->mmio ? "yes" : "no",
			   r->va32_start, r->va32_end, r->va64_start,
			   r->va64_end);
	mutex_unlock(&hapmem_remotes_lock);
	hapmem_llc_usage(&total, &used);
	seq_printf(m, "llc total=%llu used=%llu\n", total, used);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hapmem_remotes);

static const char *const hapmem_kind_names[] = {
	[HAPMEM_MAP_REQUEST] = "request",
	[HAPMEM_MAP_SHARE] = "share",
	[HAPMEM_MAP_DMA_HANDLE] = "dma_handle",
};

static int hapmem_maps_show(struct seq_file *m, void *unused)
{
	struct hapmem_session *s;

	mutex_lock(&hapmem_sessions_lock);
	list_for_each_entry(s, &hapmem_sessions, node) {
		struct hapmem_map *map;

		mutex_lock(&s->lock);
		seq_printf(m, "session pid=%d remote=%s maps=%llu bytes=%llu\n",
			   s->pid, s->remote->name, s->nr_maps,
			   (u64)atomic64_read(&s->acct->bytes));
		list_for_each_entry(map, &s->map_list, s_node)
			seq_printf(m, "  %s vadsp=%#llx len=%#llx rflags=%#x prot=%#x 2m=%u 64k=%u 4k=%u%s\n",
				   hapmem_kind_names[map->kind], map->va.start,
				   map->va.len, map->rflags, map->prot,
				   map->chunks.n_2m, map->chunks.n_64k,
				   map->chunks.n_4k, map->resv ? " fixed" : "");
		mutex_unlock(&s->lock);
	}
	mutex_unlock(&hapmem_sessions_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hapmem_maps);

/* Pages one read of translate reports at most. */
#define HAPMEM_XLATE_MAX_PAGES	1024

/*
 * Reads the remote's IOMMU page table, as the hardware would.  The file is
 * removed before the domain is freed, and removal waits for a running
 * read.  Every unmap of the remote's domain runs under its revoke lock
 * held for reading (ioctls, session release) or writing (removal): with
 * it held for writing here, no unmap frees a page-table page this walk is
 * reading.  At most HAPMEM_XLATE_MAX_PAGES lookups hold it.
 */
static int hapmem_translate_show(struct seq_file *m, void *unused)
{
	struct hapmem_remote *r = m->private;
	u64 va;
	u32 i, n;
	int ret;

	mutex_lock(&r->xlate_lock);
	va = r->xlate_va;
	n = r->xlate_pages;
	mutex_unlock(&r->xlate_lock);

	ret = down_write_killable(&r->revoke);
	if (ret)
		return ret;
	for (i = 0; i < n; i++, va += PAGE_SIZE)
		seq_printf(m, "%#llx %#llx\n", va,
			   (u64)iommu_iova_to_phys(r->domain, va));
	up_write(&r->revoke);
	return 0;
}

static int hapmem_translate_open(struct inode *inode, struct file *file)
{
	return single_open(file, hapmem_translate_show, inode->i_private);
}

static ssize_t hapmem_translate_write(struct file *file,
				      const char __user *ubuf, size_t len,
				      loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct hapmem_remote *r = m->private;
	u64 va, top = r->va64_end ? r->va64_end : r->va32_end;
	char buf[64], *p, *tok;
	u32 n = 1;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	p = strim(buf);
	tok = strsep(&p, " \t");
	ret = kstrtou64(tok, 0, &va);
	if (ret)
		return ret;
	if (p) {
		ret = kstrtou32(skip_spaces(p), 0, &n);
		if (ret)
			return ret;
		if (!n || n > HAPMEM_XLATE_MAX_PAGES)
			return -EINVAL;
	}
	/*
	 * Inside the remote's windows: past its domain's aperture a page
	 * table walk may alias a lower address, and past 2^64 va wraps.
	 */
	va &= PAGE_MASK;
	if (va >= top || n > (top - va) >> PAGE_SHIFT)
		return -EINVAL;
	mutex_lock(&r->xlate_lock);
	r->xlate_va = va;
	r->xlate_pages = n;
	mutex_unlock(&r->xlate_lock);
	return len;
}

static const struct file_operations hapmem_translate_fops = {
	.owner = THIS_MODULE,
	.open = hapmem_translate_open,
	.read = seq_read,
	.write = hapmem_translate_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * hapmem_debugfs_remote_add() - the remote's debugfs directory
 * @r: a remote being published
 *
 * hapmem/<name>/, with translate when the remote has an IOMMU domain.
 */
void hapmem_debugfs_remote_add(struct hapmem_remote *r)
{
	struct dentry *dir;

	dir = debugfs_create_dir(r->name, hapmem_debugfs);
	if (IS_ERR(dir))
		return;
	r->dbg = dir;
	if (r->domain)
		debugfs_create_file("translate", 0600, dir, r,
				    &hapmem_translate_fops);
}

/* Remove it; returns once no read of it is running. */
void hapmem_debugfs_remote_del(struct hapmem_remote *r)
{
	debugfs_remove_recursive(r->dbg);
	r->dbg = NULL;
}

void hapmem_debugfs_init(void)
{
	hapmem_debugfs = debugfs_create_dir("hapmem", NULL);
	debugfs_create_file("counters", 0444, hapmem_debugfs, NULL,
			    &hapmem_counters_fops);
	debugfs_create_file("remotes", 0444, hapmem_debugfs, NULL,
			    &hapmem_remotes_fops);
	debugfs_create_file("maps", 0400, hapmem_debugfs, NULL,
			    &hapmem_maps_fops);
}

void hapmem_debugfs_exit(void)
{
	debugfs_remove_recursive(hapmem_debugfs);
}
