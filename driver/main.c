// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: module entry points.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>

static long hapmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations hapmem_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hapmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice hapmem_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hapmem",
	.fops = &hapmem_fops,
};

static int __init hapmem_init(void)
{
	return misc_register(&hapmem_misc);
}

static void __exit hapmem_exit(void)
{
	misc_deregister(&hapmem_misc);
}

module_init(hapmem_init);
module_exit(hapmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("DSP-platform memory services");
