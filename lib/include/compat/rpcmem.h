/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rpcmem.h - the DSP platform's shared-buffer allocator, under its own
 * names, over libhapmem's buffers (hapmem_buf.h).  A porting face: code
 * written for the platform includes <rpcmem.h> and builds unchanged
 * (pkg-config libhapmem-compat).  Documentation/porting.rst lists every
 * difference from the platform.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef RPCMEM_H
#define RPCMEM_H

#include <stddef.h>
#include <stdint.h>

#include "AEEStdDef.h"
#include "hapmem_api.h"

/* Heap ids */
#define RPCMEM_HEAP_ID_SECURE	9	/* protected: only the remote reaches it */
#define RPCMEM_HEAP_ID_CONTIG	22	/* contiguous for the remote */
#define RPCMEM_HEAP_ID_SYSTEM	25
#define RPCMEM_DEFAULT_HEAP	(-1)	/* deprecated: the system heap */

/* Flags */
#define RPCMEM_DEFAULT_FLAGS	1	/* = ION_FLAG_CACHED */
#define RPCMEM_FLAG_UNCACHED	0
#define RPCMEM_FLAG_CACHED	RPCMEM_DEFAULT_FLAGS
#define RPCMEM_FORCE_NOFLUSH	0x01000000
#define RPCMEM_FORCE_NOINVALIDATE 0x02000000
#define RPCMEM_TRY_MAP_STATIC	0x04000000

/* Deprecated flag bits, accepted */
#define RPCMEM_HEAP_DEFAULT	0x80000000
#define RPCMEM_HEAP_NOREG	0x40000000
#define RPCMEM_HEAP_UNCACHED	0x20000000	/* as RPCMEM_FLAG_UNCACHED */
#define RPCMEM_HEAP_NOVA	0x10000000
#define RPCMEM_HEAP_NONCOHERENT	0x08000000

HAPMEM_BEGIN_DECLS

/* Nothing to set up: both are accepted, in any number and order. */
void rpcmem_init(void);
void rpcmem_deinit(void);

/*
 * rpcmem_alloc() - a zeroed buffer of @size bytes (0 < size, up to 2 GiB)
 * from heap @heapid, mapped for the CPU.  NULL on failure (errno set).
 * rpcmem_alloc2() takes any size_t.  rpcmem_alloc_def() is
 * rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, size).
 */
void *rpcmem_alloc(int heapid, uint32 flags, int size);
void *rpcmem_alloc2(int heapid, uint32 flags, size_t size);
void *rpcmem_alloc_def(int size);

/* Free a buffer rpcmem_alloc returned; anything else is ignored. */
void rpcmem_free(void *po);

/* The buffer's dma-buf fd (owned by the library), or -1. */
int rpcmem_to_fd(void *po);

HAPMEM_END_DECLS

#endif /* RPCMEM_H */
