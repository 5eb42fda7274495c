/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: the identity of a dma-buf, independent of fd numbers.
 *
 * Each dma-buf has its own inode on the dma-buf pseudo filesystem, so
 * (st_dev, st_ino) names the buffer whatever fd (or dup, or fd received
 * from another process) refers to it.  A recycled fd number therefore
 * never matches a stale entry.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_DMABUF_ID_H
#define HAPMEM_LIB_DMABUF_ID_H

#include <errno.h>
#include <stdint.h>

#define HM_DMA_BUF_MAGIC 0x444d4142	/* "DMAB", f_type of dma-buf files */

struct hm_buf_id {
	uint64_t dev;
	uint64_t ino;
};

/*
 * Identity of the buffer behind @fd: 0, -EBADF (not open) or -EBADFD
 * (open, but not a dma-buf).  Out of line, alone in dmabuf_id.c, so that
 * host tests can replace it.
 */
int hm_buf_id_of(int fd, struct hm_buf_id *id);

static inline int hm_buf_id_eq(const struct hm_buf_id *a,
			       const struct hm_buf_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

#endif /* HAPMEM_LIB_DMABUF_ID_H */
