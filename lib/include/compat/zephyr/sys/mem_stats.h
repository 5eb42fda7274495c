/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zephyr/sys/mem_stats.h - Zephyr's heap statistics record, as
 * <zephyr/sys/sys_heap.h> uses it.  A porting face (pkg-config
 * libhapmem-compat).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ZEPHYR_INCLUDE_SYS_MEM_STATS_H_
#define ZEPHYR_INCLUDE_SYS_MEM_STATS_H_

#include <stddef.h>

struct sys_memory_stats {
	size_t free_bytes;
	size_t allocated_bytes;
	size_t max_allocated_bytes;
};

#endif /* ZEPHYR_INCLUDE_SYS_MEM_STATS_H_ */
