// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace level: a short backtrace per live block (kept in the block's
 * record, rec_table.c) and the leak report.
 *
 * Frames are printed as the address, the object that holds it and the
 * offset inside it (what addr2line -e OBJECT wants), with the symbol when
 * the dynamic symbol table knows it.  Sites given through
 * caps_malloc_site() / CAPS_MALLOC() are printed as file:line (function).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <string.h>

#include "caps/caps_internal.h"

#define SKIP	1	/* this function */

int hm_caps_backtrace(void **bt, int max)
{
	void *all[CAPS_BT_DEPTH + SKIP];
	int n = backtrace(all, max + SKIP);

	if (n <= SKIP)
		return 0;
	memcpy(bt, all + SKIP, (size_t)(n - SKIP) * sizeof(void *));
	return n - SKIP;
}

static void print_frame(FILE *out, int i, void *pc)
{
	Dl_info di;

	if (dladdr(pc, &di) && di.dli_fname) {
		const char *base = strrchr(di.dli_fname, '/');

		fprintf(out, "    #%d %p %s+0x%lx", i, pc, base ? base + 1 : di.dli_fname,
			(unsigned long)((uintptr_t)pc - (uintptr_t)di.dli_fbase));
		if (di.dli_sname)
			fprintf(out, " (%s+0x%lx)", di.dli_sname,
				(unsigned long)((uintptr_t)pc - (uintptr_t)di.dli_saddr));
		fputc('\n', out);
	} else {
		fprintf(out, "    #%d %p\n", i, pc);
	}
}

long caps_debug_leak_report(FILE *out)
{
	unsigned int s;
	long n = 0;
	size_t bytes = 0;

	hm_caps_reg_rdlock();
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = hm_caps_region_at(s);
		size_t i;

		if (!r)
			continue;
		hm_caps_lock(r);
		for (i = 0; r->recs.b && i <= r->recs.mask; i++) {
			const struct caps_rec *rec;

			for (rec = r->recs.b[i]; rec; rec = rec->next) {
				int f;

				n++;
				bytes += rec->size;
				if (!out)
					continue;
				fprintf(out, "hapmem caps: leak: %zu bytes at %p in region %s",
					rec->size, (void *)rec->user, r->name);
				if (rec->file)
					fprintf(out, ", allocated at %s:%d (%s)", rec->file,
						rec->line, rec->func ? rec->func : "?");
				fputc('\n', out);
				for (f = 0; f < rec->bt_n; f++)
					print_frame(out, f, rec->bt[f]);
			}
		}
		hm_caps_unlock(r);
	}
	hm_caps_reg_unlock();
	if (out)
		fprintf(out, "hapmem caps: %ld live block(s) traced, %zu bytes\n", n, bytes);
	return n;
}
