// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-region hash table of debug records (canary and trace levels): one
 * record per live guarded block, reachable by the address the user holds
 * (free) and by the block's start in the core (walks).  Out of band, so
 * protected memory has records too.  Region lock held throughout.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <stdlib.h>

#include "caps/caps_internal.h"

static size_t slot(size_t mask, uintptr_t a)
{
	return (size_t)(((uint64_t)a * 0x9e3779b97f4a7c15ull) >> 24) & mask;
}

static int grow(struct caps_rec_table *t)
{
	size_t n = t->b ? (t->mask + 1) * 2 : 256, i;
	struct caps_rec **b = calloc(n, sizeof(*b)), **br = calloc(n, sizeof(*br));

	if (!b || !br) {
		free(b);
		free(br);
		return -ENOMEM;
	}
	for (i = 0; t->b && i <= t->mask; i++) {
		struct caps_rec *r = t->b[i], *next;

		for (; r; r = next) {
			size_t s = slot(n - 1, r->user), sr = slot(n - 1, r->raw);

			next = r->next;
			r->next = b[s];
			b[s] = r;
			r->next_raw = br[sr];
			br[sr] = r;
		}
	}
	free(t->b);
	free(t->braw);
	t->b = b;
	t->braw = br;
	t->mask = n - 1;
	return 0;
}

struct caps_rec *hm_caps_rec_find(struct caps_region *reg, uintptr_t user)
{
	struct caps_rec_table *t = &reg->recs;
	struct caps_rec *r;

	if (!t->b)
		return NULL;
	for (r = t->b[slot(t->mask, user)]; r; r = r->next)
		if (r->user == user)
			return r;
	return NULL;
}

struct caps_rec *hm_caps_rec_find_raw(struct caps_region *reg, uintptr_t raw)
{
	struct caps_rec_table *t = &reg->recs;
	struct caps_rec *r;

	if (!t->b)
		return NULL;
	for (r = t->braw[slot(t->mask, raw)]; r; r = r->next_raw)
		if (r->raw == raw)
			return r;
	return NULL;
}

int hm_caps_rec_add(struct caps_region *reg, struct caps_rec *rec)
{
	struct caps_rec_table *t = &reg->recs;
	size_t s;

	if ((!t->b || t->count >= t->mask + 1) && grow(t))
		return -ENOMEM;
	s = slot(t->mask, rec->user);
	rec->next = t->b[s];
	t->b[s] = rec;
	s = slot(t->mask, rec->raw);
	rec->next_raw = t->braw[s];
	t->braw[s] = rec;
	t->count++;
	return 0;
}

struct caps_rec *hm_caps_rec_del(struct caps_region *reg, uintptr_t user)
{
	struct caps_rec_table *t = &reg->recs;
	struct caps_rec **pp, *r;

	if (!t->b)
		return NULL;
	for (pp = &t->b[slot(t->mask, user)]; (r = *pp); pp = &r->next)
		if (r->user == user)
			break;
	if (!r)
		return NULL;
	*pp = r->next;
	for (pp = &t->braw[slot(t->mask, r->raw)]; *pp; pp = &(*pp)->next_raw)
		if (*pp == r) {
			*pp = r->next_raw;
			break;
		}
	t->count--;
	return r;
}

void hm_caps_rec_free_all(struct caps_region *reg)
{
	struct caps_rec_table *t = &reg->recs;
	size_t i;

	for (i = 0; t->b && i <= t->mask; i++) {
		struct caps_rec *r = t->b[i], *next;

		for (; r; r = next) {
			next = r->next;
			free(r);
		}
	}
	free(t->b);
	free(t->braw);
	*t = (struct caps_rec_table){ 0 };
}
