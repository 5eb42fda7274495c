// SPDX-License-Identifier: GPL-2.0-only
/*
 * Poison and canary guards of the capability heaps.
 *
 * Poison: a region created at the poison level or above has every free
 * byte filled with CAPS_POISON_FREE (fresh segments are filled when they
 * arrive, freed blocks when they are freed).  A block handed out is first
 * checked to still hold that pattern (a write after free shows here),
 * then filled with CAPS_POISON_ALLOC.
 *
 * Canary: the block grows by a head guard (16 bytes, or the alignment)
 * and a 16-byte tail guard, both filled with the per-process random
 * canary.  The user's size and the guards' places live in an out-of-band
 * record (rec_table.c), checked on free and by caps_check_step().
 *
 * Protected memory gets the same guard space, and its record, but no
 * fill and no canary bytes: the CPU may not touch it.  Its guards are
 * only bookkeeping (and they keep a device overrun off the neighbour).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps/caps_internal.h"

#define TAIL	16u

void hm_caps_dbg_layout(const struct caps_region *r, enum caps_debug_level lvl, size_t size,
			size_t align, size_t *head, size_t *tail)
{
	(void)r;
	(void)size;
	*head = *tail = 0;
	if (lvl < CAPS_DEBUG_CANARY)
		return;
	*head = align > HM_CORE_GRANULE ? align : HM_CORE_GRANULE;
	*tail = TAIL;
}

static void fill_canary(unsigned char *p, size_t n)
{
	uint64_t c = hm_caps_canary();
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(c >> (8 * ((uintptr_t)(p + i) & 7)));
}

/* Offset of the first byte of [p, p+n) that is not the canary, or n. */
static size_t bad_canary(const unsigned char *p, size_t n)
{
	uint64_t c = hm_caps_canary();
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(c >> (8 * ((uintptr_t)(p + i) & 7))))
			return i;
	return n;
}

static size_t not_byte(const unsigned char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return i;
	return n;
}

static const char *site(const struct caps_rec *rec, char *buf, size_t len)
{
	if (rec && rec->file)
		snprintf(buf, len, ", allocated at %s:%d (%s)", rec->file, rec->line,
			 rec->func ? rec->func : "?");
	else
		buf[0] = 0;
	return buf;
}

void hm_caps_dbg_new_seg(struct caps_region *r, const struct hm_segment_desc *d)
{
	if (!r->verify_free)
		return;
	if (d->cpu && hm_caps_dbg_level() >= CAPS_DEBUG_POISON && !r->fixed)
		memset(d->cpu, CAPS_POISON_FREE, d->len);
	else if (d->cpu && r->fixed)
		memset(d->cpu, CAPS_POISON_FREE, d->len);	/* a fresh user region */
	else
		r->verify_free = false;	/* this segment's free bytes are unknown */
}

int hm_caps_dbg_on_alloc(struct caps_region *r, enum caps_debug_level lvl, uintptr_t raw,
			 size_t head, size_t size, const char *file, int line, const char *func,
			 void *const *bt, int bt_n)
{
	size_t blk = head + size + (head ? TAIL : 0), off;
	struct caps_rec *rec = NULL;
	bool verify;
	int err;

	if (lvl < CAPS_DEBUG_POISON)
		return 0;	/* nothing to fill, check or record */
	if (lvl >= CAPS_DEBUG_CANARY) {
		rec = calloc(1, sizeof(*rec));
		if (!rec)
			return -ENOMEM;
		rec->user = raw + head;
		rec->raw = raw;
		rec->size = size;
		rec->head = head;
		rec->level = (uint8_t)lvl;
		rec->file = file;
		rec->line = line;
		rec->func = func;
		if (lvl >= CAPS_DEBUG_TRACE && bt_n > 0) {
			rec->bt_n = (uint8_t)bt_n;
			memcpy(rec->bt, bt, (size_t)bt_n * sizeof(void *));
		}
	}
	hm_core_block_size(hm_caps_lock(r), raw, &blk);
	verify = r->verify_free;
	err = rec ? hm_caps_rec_add(r, rec) : 0;
	hm_caps_unlock(r);
	if (err) {
		free(rec);
		return err;
	}
	if (r->cpu_less)
		return 0;
	/* the block is ours now: no lock needed to look at it */
	if (verify && lvl >= CAPS_DEBUG_POISON &&
	    (off = not_byte((const unsigned char *)raw, blk, CAPS_POISON_FREE)) < blk)
		hm_caps_report("hapmem caps: write after free detected at %p (offset %zu of the "
			       "free block %p, %zu bytes) in region %s, found when handing it out",
			       (void *)(raw + off), off, (void *)raw, blk, r->name);
	if (lvl >= CAPS_DEBUG_POISON)
		memset((void *)(raw + head), CAPS_POISON_ALLOC, size);
	if (rec) {
		fill_canary((unsigned char *)raw, head);
		fill_canary((unsigned char *)(raw + head + size), TAIL);
	}
	return 0;
}

/* Check a record's guards; reports and returns the number of bad guards. */
static unsigned int check_rec(struct caps_region *r, const struct caps_rec *rec, const char *when)
{
	unsigned int bad = 0;
	size_t off;
	char s[300];

	if (r->cpu_less || rec->level < CAPS_DEBUG_CANARY)
		return 0;
	off = bad_canary((const unsigned char *)rec->raw, rec->head);
	if (off < rec->head) {
		bad++;
		hm_caps_report("hapmem caps: head canary of block %p (%zu bytes) in region %s "
			       "overwritten %zu bytes before it (%s)%s", (void *)rec->user,
			       rec->size, r->name, rec->head - off, when, site(rec, s, sizeof(s)));
	}
	off = bad_canary((const unsigned char *)(rec->user + rec->size), TAIL);
	if (off < TAIL) {
		bad++;
		hm_caps_report("hapmem caps: tail canary of block %p (%zu bytes) in region %s "
			       "overwritten: overrun at offset %zu (%s)%s", (void *)rec->user,
			       rec->size, r->name, rec->size + off, when, site(rec, s, sizeof(s)));
	}
	return bad;
}

int hm_caps_dbg_on_free_locked(struct caps_region *r, uintptr_t user, uintptr_t *raw,
			       size_t *size)
{
	struct caps_rec *rec = r->recs.count ? hm_caps_rec_find(r, user) : NULL;
	bool fill = !r->cpu_less && (r->verify_free || hm_caps_dbg_level() >= CAPS_DEBUG_POISON);
	size_t blk;
	int err;

	*raw = rec ? rec->raw : user;
	*size = 0;
	if (!rec && !fill && !hm_caps_listening())
		return 0;	/* the core's free validates the pointer */
	err = hm_core_block_size(hm_caps_core(r), *raw, &blk);
	if (err)
		return err;
	*size = rec ? rec->size : blk;
	if (rec) {
		check_rec(r, rec, "found at free");
		free(hm_caps_rec_del(r, user));
	}
	if (fill)
		memset((void *)*raw, CAPS_POISON_FREE, blk);
	return 0;
}

unsigned int hm_caps_dbg_check_block(struct caps_region *r, const struct hm_block_info *b)
{
	if (b->state == HM_BLOCK_USED) {
		struct caps_rec *rec;

		if (!r->recs.count)
			return 0;
		rec = hm_caps_rec_find_raw(r, b->addr);
		if (!rec)
			return 0;	/* an unguarded block */
		if (rec->head + rec->size + TAIL > b->size) {
			hm_caps_report("hapmem caps: record of %p says %zu bytes but its block in "
				       "region %s has %zu", (void *)rec->user, rec->size, r->name,
				       b->size);
			return 1;
		}
		return check_rec(r, rec, "found by the integrity check");
	}
	if (r->verify_free && !r->cpu_less) {
		size_t off = not_byte((const unsigned char *)b->addr, b->size, CAPS_POISON_FREE);

		if (off < b->size) {
			hm_caps_report("hapmem caps: write after free at %p (offset %zu of the free "
				       "block %p) in region %s, found by the integrity check",
				       (void *)(b->addr + off), off, (void *)b->addr, r->name);
			return 1;
		}
	}
	return 0;
}
