// SPDX-License-Identifier: GPL-2.0-only
/*
 * Heap map picture: an SVG with one bar per segment of every region,
 * 1000 units wide, showing used (red), free (green) and guard (orange)
 * space.  Blocks are gathered by the incremental walk, a batch per lock
 * hold, and drawn outside the lock.  Every block gets its own rectangles,
 * at least 0.2 units wide, so that even the smallest one shows.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "caps/caps_internal.h"

#define BATCH	256
#define W	1000.0
#define ROW_H	18
#define ROW_GAP	6
#define LEFT	10

struct item {
	uintptr_t addr, seg_base;
	size_t size, seg_len, head, user;	/* head/user: guarded block layout */
	unsigned int seg;
	enum hm_block_state state;
};

struct batch {
	struct caps_region *r;
	struct item it[BATCH * 2 + 1];
	unsigned int n;
};

static void collect(const struct hm_block_info *b, void *arg)
{
	struct batch *bt = arg;
	struct item *it = &bt->it[bt->n++];
	struct caps_rec *rec = NULL;
	uint64_t dev;
	uintptr_t owner;

	it->addr = b->addr;
	it->size = b->size;
	it->seg = b->seg;
	it->state = b->state;
	it->head = it->user = 0;
	hm_core_segment(hm_caps_core(bt->r), b->seg, &it->seg_base, &dev, &it->seg_len, &owner);
	if (b->state == HM_BLOCK_USED && bt->r->recs.count)
		rec = hm_caps_rec_find_raw(bt->r, b->addr);
	if (rec) {
		it->head = rec->head;
		it->user = rec->size;
	}
}

static void rect(FILE *o, double x, double y, double w, const char *cls)
{
	if (w < 0.2)
		w = 0.2;
	fprintf(o, "<rect class=\"%s\" x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\"/>\n",
		cls, x, y, w, ROW_H);
}

static void xml_text(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", o);
		else if (*s == '>')
			fputs("&gt;", o);
		else if (*s == '&')
			fputs("&amp;", o);
		else if (*s == '"')
			fputs("&quot;", o);
		else
			fputc(*s, o);
	}
}

/* A block's rectangles on the row at @y: free, used, or guard-used-guard. */
static void draw_block(FILE *o, const struct item *it, double y)
{
	double k = W / (double)it->seg_len;
	double x = LEFT + (double)(it->addr - it->seg_base) * k;
	double hw, uw;

	if (it->state != HM_BLOCK_USED) {
		rect(o, x, y, (double)it->size * k, "free");
		return;
	}
	if (!it->user && !it->head) {
		rect(o, x, y, (double)it->size * k, "used");
		return;
	}
	hw = (double)it->head * k;
	uw = (double)it->user * k;
	rect(o, x, y, hw, "guard");
	rect(o, x + hw, y, uw, "used");
	rect(o, x + hw + uw, y, (double)(it->size - it->head - it->user) * k, "guard");
}

/* The picture's body as it is drawn: rows go down from y. */
struct canvas {
	FILE *o;
	double y;	/* top of the current row */
	long row_seg;	/* the segment the current row shows; -1: no row yet */
};

/* A batch of blocks, each segment on a row of its own (the walk goes segment by segment). */
static void draw_batch(struct canvas *cv, const struct batch *bt)
{
	unsigned int i;

	for (i = 0; i < bt->n; i++) {
		const struct item *it = &bt->it[i];

		if ((long)it->seg != cv->row_seg) {
			if (cv->row_seg >= 0)
				cv->y += ROW_H + ROW_GAP;
			cv->row_seg = it->seg;
			fprintf(cv->o, "<rect class=\"seg\" x=\"%d\" y=\"%.0f\" width=\"%.0f\" "
				"height=\"%d\"/>\n", LEFT, cv->y, W, ROW_H);
		}
		draw_block(cv->o, it, cv->y);
	}
}

/*
 * One region: its name, then its segments' rows, walked a batch per lock
 * hold and drawn outside the lock.
 */
static void draw_region(struct canvas *cv, struct caps_region *r, struct batch *bt)
{
	struct hm_core_cursor cur = { 0 };
	int more;

	fprintf(cv->o, "<text x=\"%d\" y=\"%.0f\">", LEFT, cv->y + 12);
	xml_text(cv->o, r->name);
	fprintf(cv->o, "%s</text>\n", r->cpu_less ? " (protected: no CPU mapping)" : "");
	cv->y += 18;
	cv->row_seg = -1;
	bt->r = r;
	do {
		bt->n = 0;
		more = hm_core_walk(hm_caps_lock(r), &cur, BATCH, collect, bt);
		hm_caps_unlock(r);
		draw_batch(cv, bt);
	} while (more);
	if (cv->row_seg < 0)
		fprintf(cv->o, "<text x=\"%d\" y=\"%.0f\">(no segment)</text>\n", LEFT, cv->y + 12);
	cv->y += ROW_H + 2 * ROW_GAP;
}

/* Every region, in slot order, under the registry's read lock. */
static void draw_regions(struct canvas *cv, struct batch *bt)
{
	unsigned int s;

	hm_caps_reg_rdlock();
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = hm_caps_region_at(s);

		if (r)
			draw_region(cv, r, bt);
	}
	hm_caps_reg_unlock();
}

/* The document: header and legend (the height is known now), body, end. */
static void write_svg(FILE *out, double height, const char *body, size_t body_len)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\">\n"
		"<style>.used{fill:#d9534f}.free{fill:#5cb85c}.guard{fill:#f0ad4e}"
		".seg{fill:#eeeeee;stroke:#555555;stroke-width:0.5}"
		"text{font:12px sans-serif}</style>\n"
		"<text x=\"%d\" y=\"16\">hapmem caps heap map: "
		"<tspan class=\"used\">used</tspan>, <tspan class=\"free\">free</tspan>, "
		"<tspan class=\"guard\">guard</tspan></text>\n",
		(int)W + 2 * LEFT, height, (int)W + 2 * LEFT, height, LEFT);
	fwrite(body, 1, body_len, out);
	fprintf(out, "</svg>\n");
}

/* The body is drawn into memory first: the header needs its height. */
int caps_heap_map_svg(FILE *out)
{
	struct canvas cv = { .y = 40, .row_seg = -1 };
	struct batch *bt;
	char *body = NULL;
	size_t body_len = 0;

	if (!out)
		return -EINVAL;
	bt = malloc(sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	cv.o = open_memstream(&body, &body_len);
	if (!cv.o) {
		free(bt);
		return -ENOMEM;
	}
	draw_regions(&cv, bt);
	fclose(cv.o);
	write_svg(out, cv.y, body, body_len);
	free(body);
	free(bt);
	return ferror(out) ? -EIO : 0;
}
