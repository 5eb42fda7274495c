// SPDX-License-Identifier: GPL-2.0-only
/*
 * A sorted array of disjoint address ranges.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/amap.h"

/* Index of the first range whose start is > @addr. */
static size_t upper_bound(const struct hm_amap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int hm_amap_overlaps(const struct hm_amap *m, uint64_t start, uint64_t len)
{
	size_t i;

	if (!len)
		return 0;
	i = upper_bound(m, start);
	/* the range before may reach into [start, ...) */
	if (i > 0 && m->v[i - 1].start + m->v[i - 1].len > start)
		return 1;
	/* the next range may begin before start + len */
	if (i < m->n && m->v[i].start - start < len)
		return 1;
	return 0;
}

int hm_amap_insert(struct hm_amap *m, uint64_t start, uint64_t len, void *val)
{
	size_t i;

	if (!len || start + len < start)
		return -EINVAL;
	if (hm_amap_overlaps(m, start, len))
		return -EEXIST;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct hm_amap_ent *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	i = upper_bound(m, start);
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(m->v[0]));
	m->v[i].start = start;
	m->v[i].len = len;
	m->v[i].val = val;
	m->n++;
	return 0;
}

void *hm_amap_find(const struct hm_amap *m, uint64_t addr)
{
	size_t i = upper_bound(m, addr);

	if (i > 0 && addr - m->v[i - 1].start < m->v[i - 1].len)
		return m->v[i - 1].val;
	return NULL;
}

const struct hm_amap_ent *hm_amap_entry(const struct hm_amap *m, uint64_t start)
{
	size_t i = upper_bound(m, start);

	if (i > 0 && m->v[i - 1].start == start)
		return &m->v[i - 1];
	return NULL;
}

void *hm_amap_find_exact(const struct hm_amap *m, uint64_t start)
{
	const struct hm_amap_ent *e = hm_amap_entry(m, start);

	return e ? e->val : NULL;
}

void *hm_amap_remove(struct hm_amap *m, uint64_t start)
{
	size_t i = upper_bound(m, start);
	void *val;

	if (i == 0 || m->v[i - 1].start != start)
		return NULL;
	i--;
	val = m->v[i].val;
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
	m->n--;
	return val;
}

void hm_amap_clear(struct hm_amap *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
	m->cap = 0;
}
