// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: module entry points, the test-interface switch and global
 * counters.  The limits live with the accounting (account.c).
 */
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "hapmem.h"

/*
 * REMOTE_ACCESS drives the stand-in remote's DMA engine: a test interface,
 * refused unless enabled, as iommufd keeps its test ioctls behind a config
 * option.
 */
bool hapmem_allow_remote_access;
module_param_named(allow_remote_access, hapmem_allow_remote_access, bool, 0644);
MODULE_PARM_DESC(allow_remote_access,
		 "Enable the REMOTE_ACCESS test ioctl (EPERM otherwise; off by default)");

struct hapmem_counters hapmem_stats;

struct miscdevice hapmem_alias = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hapmem",
	.fops = &hapmem_fops,
	.mode = 0600,
};

static int __init hapmem_init(void)
{
	int ret;

	hapmem_account_init();
	ret = hapmem_llc_init();
	if (ret)
		return ret;
	/* Before the remotes: each gets a directory in it. */
	hapmem_debugfs_init();
	ret = hapmem_remotes_init();
	if (ret)
		goto err_debugfs;
	ret = misc_register(&hapmem_alias);
	if (ret)
		goto err_remotes;
	return 0;

err_remotes:
	hapmem_remotes_exit();
err_debugfs:
	hapmem_debugfs_exit();
	hapmem_llc_exit();
	return ret;
}

/*
 * Sessions hold the module through their file's owner and exported buffers
 * through dma-buf's, so nothing of ours is alive when this runs.
 */
static void __exit hapmem_exit(void)
{
	misc_deregister(&hapmem_alias);
	hapmem_remotes_exit();
	hapmem_debugfs_exit();
	hapmem_llc_exit();
}

module_init(hapmem_init);
module_exit(hapmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("DSP-platform memory services: apps_mem and HAP_mem for Linux");
MODULE_AUTHOR("The hapmem authors");
HAPMEM_IMPORT_DMA_BUF_NS();
