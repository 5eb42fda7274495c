// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: module entry points, parameters and global counters.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include "hapmem.h"

unsigned long hapmem_max_session_bytes = SZ_4G;
module_param_named(max_session_bytes, hapmem_max_session_bytes, ulong, 0644);
MODULE_PARM_DESC(max_session_bytes, "Bytes one session may map (EDQUOT beyond)");

unsigned int hapmem_max_session_maps = 65536;
module_param_named(max_session_maps, hapmem_max_session_maps, uint, 0644);
MODULE_PARM_DESC(max_session_maps, "Maps one session may hold (EDQUOT beyond)");

/*
 * Reservations hold device address space, not memory: without a bound,
 * one session could take a remote's whole 32-bit window from every other.
 */
unsigned long hapmem_max_session_reserved = SZ_1G;
module_param_named(max_session_reserved_bytes, hapmem_max_session_reserved,
		   ulong, 0644);
MODULE_PARM_DESC(max_session_reserved_bytes,
		 "Bytes of device address space one session may reserve (EDQUOT beyond)");

/* And all sessions together, since a process may open many sessions. */
unsigned long hapmem_max_global_reserved = SZ_2G;
module_param_named(max_global_reserved_bytes, hapmem_max_global_reserved,
		   ulong, 0644);
MODULE_PARM_DESC(max_global_reserved_bytes,
		 "Bytes of device address space all sessions together may reserve (EDQUOT beyond)");
atomic64_t hapmem_reserved;

unsigned long hapmem_max_global_bytes = 16ULL * SZ_1G;
module_param_named(max_global_bytes, hapmem_max_global_bytes, ulong, 0644);
MODULE_PARM_DESC(max_global_bytes, "Bytes all sessions together may map (EDQUOT beyond)");

struct hapmem_counters hapmem_stats;

struct miscdevice hapmem_alias = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hapmem",
	.fops = &hapmem_fops,
	.mode = 0666,
};

static int __init hapmem_init(void)
{
	int ret;

	ret = hapmem_llc_init();
	if (ret)
		return ret;
	ret = hapmem_remotes_init();
	if (ret)
		goto err_llc;
	ret = misc_register(&hapmem_alias);
	if (ret)
		goto err_remotes;
	hapmem_debugfs_init();
	return 0;

err_remotes:
	hapmem_remotes_exit();
err_llc:
	hapmem_llc_exit();
	return ret;
}

/*
 * Sessions hold the module through their file's owner and exported buffers
 * through dma-buf's, so nothing of ours is alive when this runs.
 */
static void __exit hapmem_exit(void)
{
	hapmem_debugfs_exit();
	misc_deregister(&hapmem_alias);
	hapmem_remotes_exit();
	hapmem_llc_exit();
}

module_init(hapmem_init);
module_exit(hapmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("DSP-platform memory services: apps_mem and HAP_mem for Linux");
MODULE_AUTHOR("The hapmem authors");
HAPMEM_IMPORT_DMA_BUF_NS();
