// SPDX-License-Identifier: GPL-2.0-only
/*
 * The identity of a dma-buf: its inode on the dma-buf filesystem.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "transport/dmabuf_id.h"

int hm_buf_id_of(int fd, struct hm_buf_id *id)
{
	struct statfs sfs;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || fstatfs(fd, &sfs))
		return -EBADF;
	if (sfs.f_type != HM_DMA_BUF_MAGIC)
		return -EBADFD;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}
