// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: debugfs.
 *
 *   /sys/kernel/debug/hapmem/counters   global counters
 *   /sys/kernel/debug/hapmem/remotes    remotes, windows, LLC carve-out
 *   /sys/kernel/debug/hapmem/maps       every session and its maps
 */
#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/seq_file.h>

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
