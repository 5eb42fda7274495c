/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * esp_heap_caps_init.h - ESP-IDF's heap_caps_add_region under its own
 * names, over caps_region_add_mem().  A porting face (pkg-config
 * libhapmem-compat); Documentation/porting.rst lists every difference.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ESP_HEAP_CAPS_INIT_H
#define ESP_HEAP_CAPS_INIT_H

#include <stdint.h>

#include "esp_heap_caps.h"

#ifndef ESP_FAIL
#define ESP_FAIL		-1
#endif
#ifndef ESP_ERR_NO_MEM
#define ESP_ERR_NO_MEM		0x101
#endif
#ifndef ESP_ERR_INVALID_SIZE
#define ESP_ERR_INVALID_SIZE	0x104
#endif

HAPMEM_BEGIN_DECLS

/*
 * Memory [start, end) becomes a heap: with @caps (three MALLOC_CAP_* sets
 * by priority), or MALLOC_CAP_DEFAULT | MALLOC_CAP_8BIT | MALLOC_CAP_32BIT
 * for heap_caps_add_region.  The memory may be a block that heap_caps_malloc
 * gave.  Any size: the heap is the 16-byte aligned part of [start, end).
 * ESP_OK; ESP_ERR_INVALID_ARG (NULL, empty, caps hapmem cannot give);
 * ESP_ERR_INVALID_SIZE (no aligned 16 bytes in it); ESP_FAIL (overlaps
 * another heap without lying inside one of its blocks); ESP_ERR_NO_MEM.
 */
esp_err_t heap_caps_add_region(intptr_t start, intptr_t end);
esp_err_t heap_caps_add_region_with_caps(const uint32_t caps[], intptr_t start, intptr_t end);

HAPMEM_END_DECLS

#endif /* ESP_HEAP_CAPS_INIT_H */
