/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: configurations of the driver backend beyond the default one.
 *
 * hm_backend_driver_ctx() (heap/backend.h) is the default: ADD_PAGES,
 * cached, anywhere in the device windows, with a CPU mapping.  Other
 * kinds of memory (uncached, LLC, protected, below 4 GiB) are contexts
 * made here, for the capability heaps.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_BACKEND_DRIVER_H
#define HAPMEM_LIB_BACKEND_DRIVER_H

#include <stdint.h>

#include "heap/backend.h"

struct hm_driver_backend_cfg {
	uint32_t rflags;	/* HAPMEM_RFLAG_ADD_PAGES, _ADD_PAGES_LLC, _REMOTE_HEAP_ADDR, _HEAP_ADDR */
	uint32_t ion_flags;	/* HAPMEM_ION_FLAG_CACHED or 0 */
	uint32_t place;		/* 0, HAPMEM_MAP_VA32 or HAPMEM_MAP_VA_HIGH */
	int32_t heap_id;	/* HAPMEM_HEAP_ID_* */
};

/*
 * A context for hm_backend_driver with @cfg, or NULL with errno (EINVAL
 * for a bad cfg, ENODEV without a device, ENOMEM).  REMOTE_HEAP_ADDR
 * segments have cpu == NULL.  Free with hm_backend_driver_ctx_free().
 */
void *hm_backend_driver_ctx_new(const struct hm_driver_backend_cfg *cfg);
void hm_backend_driver_ctx_free(void *ctx);

#endif /* HAPMEM_LIB_BACKEND_DRIVER_H */
