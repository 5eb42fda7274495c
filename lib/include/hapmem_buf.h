/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem_buf.h - shared buffers in the style of rpcmem.
 *
 * A buffer is memory the driver allocates and exports as a dma-buf: the
 * process gets a CPU pointer, and the buffer's fd can be handed to the
 * remote (HAP_mmap, apps_mem_share_map, apps_mem_dma_handle_map) or to
 * another process (SCM_RIGHTS).  It is not mapped for the remote until
 * one of those calls does it.
 *
 * These functions return 0 (or an fd, or a pointer) on success and a
 * negative errno on failure (hapmem_buf_alloc returns NULL and sets
 * errno).  All are thread-safe.
 *
 * After fork() the child does not own the parent's buffers: the memory
 * stays mapped in the child (fork copies the address space, and the pages
 * are shared with the parent), but hapmem_buf_free() and
 * hapmem_buf_to_fd() do not know them there (-ENOENT), and the library's
 * fds of them are closed in the child.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_BUF_H
#define HAPMEM_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "hapmem_api.h"

/* Heap ids (as rpcmem's): the driver's one heap under each name. */
#define HAPMEM_BUF_HEAP_ANY	(-1)
#define HAPMEM_BUF_HEAP_DEFAULT	0
#define HAPMEM_BUF_HEAP_SYSTEM	25

/* Flags: at most one of CACHED (the default) and UNCACHED. */
#define HAPMEM_BUF_CACHED	(1U << 0)
#define HAPMEM_BUF_UNCACHED	(1U << 1)	/* write-combined CPU mapping */

HAPMEM_BEGIN_DECLS

/*
 * hapmem_buf_alloc() - allocate a zeroed buffer of @size bytes (rounded up
 * to whole pages; any size_t, 2 GiB and more included) and map it for the
 * CPU, read-write.  Returns the CPU address, or NULL with errno:
 * EINVAL (size 0, unknown heap id or flag, CACHED|UNCACHED), ENOMEM,
 * EDQUOT (the driver's limits), ENODEV (no hapmem device).
 */
void *hapmem_buf_alloc(int heap_id, uint32_t flags, size_t size);

/*
 * hapmem_buf_free() - unmap and release a buffer.  @ptr must be the
 * address hapmem_buf_alloc() returned.  0, -EINVAL (NULL, or inside a
 * buffer but not its start) or -ENOENT (not a buffer of this process).
 * The memory lives on while another process or a remote map holds it.
 */
int hapmem_buf_free(void *ptr);

/*
 * hapmem_buf_to_fd() - the dma-buf fd of the buffer containing @ptr (any
 * address inside it).  The fd stays owned by the library: do not close
 * it (dup it to keep it past hapmem_buf_free).  -ENOENT when @ptr is in
 * no buffer of this process.
 */
int hapmem_buf_to_fd(const void *ptr);

/*
 * hapmem_buf_size() - size in bytes (page rounded) of the buffer that
 * @ptr is the start of, or 0 when it is not one.
 */
size_t hapmem_buf_size(const void *ptr);

HAPMEM_END_DECLS

#endif /* HAPMEM_BUF_H */
