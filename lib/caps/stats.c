// SPDX-License-Identifier: GPL-2.0-only
/*
 * caps_stats(): the figures of the regions that can serve a set of
 * capabilities, with the largest size an allocation can get at the
 * current debug level.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <string.h>

#include "caps_internal.h"

/* The largest user size whose guarded block fits in a free block of @lf. */
static size_t allocatable(const struct caps_region *r, enum caps_debug_level lvl, size_t lf)
{
	size_t head, tail;

	hm_caps_dbg_layout(r, lvl, lf, 0, &head, &tail);
	return lf > head + tail ? lf - head - tail : 0;
}

int caps_stats(uint32_t caps, struct caps_stats *out)
{
	enum caps_debug_level lvl = hm_caps_dbg_level();
	bool pick[HAPMEM_CAPS_MAX_REGIONS] = { false };
	unsigned int s;

	if (!out || (caps && hm_caps_validate(caps)))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	hm_caps_reg_rdlock();
	if (caps) {
		const struct caps_cands *c = hm_caps_cands(caps);

		for (s = 0; s < c->n; s++)
			pick[c->slot[s]] = true;
	} else {
		for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++)
			pick[s] = true;
	}
	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r = pick[s] ? hm_caps_region_at(s) : NULL;
		struct hm_core_stats st;
		size_t lf;

		if (!r)
			continue;
		pthread_mutex_lock(&r->lock);
		hm_core_stats(r->core, &st);
		lf = hm_core_largest_free(r->core);
		pthread_mutex_unlock(&r->lock);
		lf = allocatable(r, lvl, lf);
		out->regions++;
		out->total_bytes += st.total_bytes;
		out->free_bytes += st.free_bytes;
		out->allocated_bytes += st.used_bytes;
		out->minimum_free += st.total_bytes - st.peak_used_bytes;
		out->allocated_blocks += st.live_blocks;
		out->free_blocks += st.free_blocks;
		if (lf > out->largest_free)
			out->largest_free = lf;
	}
	hm_caps_reg_unlock();
	return 0;
}
