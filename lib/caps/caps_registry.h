/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: registry entry points beyond the public API, for the unit
 * tests and for regions over another backend (the host backend, say).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_CAPS_REGISTRY_H
#define HAPMEM_CAPS_REGISTRY_H

#include "hapmem_caps.h"
#include "heap/backend.h"

/* A growable region over @ops/@ctx; @ctx_free (may be NULL) runs at removal. */
int hm_caps_region_add_backend(const struct caps_region_cfg *cfg,
			       const struct hm_backend_ops *ops, void *ctx,
			       void (*ctx_free)(void *ctx));
/* Remove every region; -EBUSY if some still hold blocks (those stay). */
int hm_caps_remove_all(void);
/* Id of the region called @name, or -ENOENT. */
int hm_caps_region_id(const char *name);

/* The regions caps_init_default() registers, in order. */
struct hm_caps_std_region {
	const char *name;
	uint32_t caps[HAPMEM_CAPS_PRIORITIES];
};
extern const struct hm_caps_std_region hm_caps_std_regions[];
extern const unsigned int hm_caps_std_regions_n;

#endif /* HAPMEM_CAPS_REGISTRY_H */
