// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session's remote: description, counters and DMA engine access.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "hapmem_dev.h"
#include "transport/ioctl.h"
#include "transport/session.h"

int hapmem_info(uint32_t remote, struct hapmem_info *info)
{
	int dev;

	if (!info)
		return -EINVAL;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	return hm_ioc_info(dev, remote, info);
}

static int access_dev(uint32_t flags, uint64_t vadsp, void *buf, size_t len)
{
	int dev, ret;

	if (!buf || !len || vadsp + len < vadsp)
		return -EINVAL;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	while (len) {
		size_t n = len < HAPMEM_ACCESS_MAX_LEN ? len : HAPMEM_ACCESS_MAX_LEN;

		ret = hm_ioc_remote_access(dev, flags, vadsp, buf, n, NULL);
		if (ret)
			return ret;
		vadsp += n;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

int hapmem_remote_read(uint64_t vadsp, void *buf, size_t len)
{
	return access_dev(0, vadsp, buf, len);
}

int hapmem_remote_write(uint64_t vadsp, const void *buf, size_t len)
{
	return access_dev(HAPMEM_ACCESS_WRITE, vadsp, (void *)buf, len);
}

/* heapvm addition: a RAW read whose IOMMU faults are the answer. */
int hapmem_remote_probe(uint64_t vadsp, size_t len, uint32_t *faults)
{
	unsigned char buf[4095];
	uint32_t total = 0;
	int dev, ret;

	if (!faults || !len || vadsp + len < vadsp)
		return -EINVAL;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		uint32_t f = 0;

		ret = hm_ioc_remote_access(dev, HAPMEM_ACCESS_RAW, vadsp, buf, n, &f);
		if (ret)
			return ret;
		total += f;
		vadsp += n;
		len -= n;
	}
	*faults = total;
	return 0;
}

const char *hapmem_device_path(void)
{
	const char *p = secure_getenv("HAPMEM_DEVICE");

	return p && *p ? p : HM_DEFAULT_DEVICE;
}
