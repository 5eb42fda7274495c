// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON dump of every capability region: its capabilities, totals, peak,
 * largest free block, fragmentation and block counts.  Statistics come
 * from the core in O(1) per region (no walk).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <stdio.h>

#include "caps/caps_internal.h"

static const char *const level_names[] = {
	"none", "basic", "poison", "canary", "trace",
};

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

int caps_dump_json(FILE *out)
{
	unsigned int s;
	bool first = true;

	if (!out)
		return -EINVAL;
	hm_caps_reg_rdlock();
	fprintf(out, "{\n  \"debug_level\": \"%s\",\n  \"debug_errors\": %lu,\n  \"regions\": [",
		level_names[hm_caps_dbg_level()], caps_debug_errors());
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = hm_caps_region_at(s);
		struct hm_core_stats st;
		size_t guarded, total;

		if (!r)
			continue;
		hm_core_stats(hm_caps_lock(r), &st);
		guarded = r->recs.count;
		total = (size_t)st.total_bytes;
		hm_caps_unlock(r);
		fprintf(out, "%s\n    {\n      \"name\": ", first ? "" : ",");
		first = false;
		json_string(out, r->name);
		fprintf(out, ",\n      \"id\": %u,\n      \"caps\": [%u, %u, %u],\n"
			"      \"all_caps\": %u,\n", r->id, r->caps[0], r->caps[1], r->caps[2],
			r->all_caps);
		if (r->has_attr)
			fprintf(out, "      \"attr\": %u,\n", r->attr);
		else
			fprintf(out, "      \"attr\": null,\n");
		fprintf(out, "      \"kind\": \"%s\",\n      \"cpu_less\": %s,\n",
			r->kind == CAPS_REGION_USER_FD ? "user-fd" :
			r->kind == CAPS_REGION_USER_MEM ? "user-mem" : "growable",
			r->cpu_less ? "true" : "false");
		if (r->capacity == SIZE_MAX)
			fprintf(out, "      \"capacity\": null,\n");
		else
			fprintf(out, "      \"capacity\": %zu,\n", r->capacity);
		fprintf(out,
			"      \"segments\": %u,\n      \"segments_free\": %u,\n"
			"      \"total_bytes\": %zu,\n      \"used_bytes\": %llu,\n"
			"      \"free_bytes\": %llu,\n      \"peak_used_bytes\": %llu,\n"
			"      \"largest_free\": %zu,\n      \"fragmentation_permille\": %u,\n"
			"      \"live_blocks\": %u,\n      \"free_blocks\": %u,\n"
			"      \"guarded_blocks\": %zu,\n      \"meta_bytes\": %llu\n    }",
			st.segments, st.segments_free, total, (unsigned long long)st.used_bytes,
			(unsigned long long)st.free_bytes, (unsigned long long)st.peak_used_bytes,
			(size_t)st.largest_free, st.frag_permille, st.live_blocks, st.free_blocks,
			guarded, (unsigned long long)st.meta_bytes);
	}
	fprintf(out, "\n  ]\n}\n");
	hm_caps_reg_unlock();
	return ferror(out) ? -EIO : 0;
}
