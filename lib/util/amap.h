/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: an address map, a sorted array of disjoint ranges
 * [start, start + len) with a value each.  Lookups are O(log n) binary
 * searches; insert and remove move the tail (O(n), fine for the tables of
 * maps a process holds).  Not thread-safe: the owner locks.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_AMAP_H
#define HAPMEM_LIB_AMAP_H

#include <stddef.h>
#include <stdint.h>

struct hm_amap_ent {
	uint64_t start;
	uint64_t len;
	void *val;
};

struct hm_amap {
	struct hm_amap_ent *v;
	size_t n;
	size_t cap;
};

#define HM_AMAP_INIT { NULL, 0, 0 }

/* 0, -EINVAL (len 0 or start + len overflows), -EEXIST (overlap), -ENOMEM. */
int hm_amap_insert(struct hm_amap *m, uint64_t start, uint64_t len, void *val);
/* Value of the range containing @addr, or NULL. */
void *hm_amap_find(const struct hm_amap *m, uint64_t addr);
/* Value of the range starting exactly at @start, or NULL. */
void *hm_amap_find_exact(const struct hm_amap *m, uint64_t start);
/* The entry starting exactly at @start, or NULL (valid until the next change). */
const struct hm_amap_ent *hm_amap_entry(const struct hm_amap *m, uint64_t start);
/* True when some range intersects [start, start + len). */
int hm_amap_overlaps(const struct hm_amap *m, uint64_t start, uint64_t len);
/* Remove the range starting at @start; returns its value or NULL. */
void *hm_amap_remove(struct hm_amap *m, uint64_t start);
/* Forget every range and free the array (values are the caller's). */
void hm_amap_clear(struct hm_amap *m);

#endif /* HAPMEM_LIB_AMAP_H */
