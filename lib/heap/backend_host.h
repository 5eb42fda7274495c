/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: knobs and counters of the host backend, for tests and benchmarks.
 */
#ifndef HAPMEM_HEAP_BACKEND_HOST_H
#define HAPMEM_HEAP_BACKEND_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "heap/backend.h"

/* Fake device addresses start here, segments one after the other. */
#define HM_HOST_DEV_BASE	0xd00000000ull

struct hm_backend_host_counters {
	uint64_t grows, releases;
	uint64_t live_segments, live_bytes;
	size_t last_grow_len;
	uint64_t discards, discard_bytes;	/* discard() calls, bytes advised */
};

void hm_backend_host_counters(void *ctx, struct hm_backend_host_counters *out);
/* grow() fails with -ENOMEM once live_bytes would exceed @bytes (0: no limit). */
void hm_backend_host_set_limit(void *ctx, size_t bytes);

#endif /* HAPMEM_HEAP_BACKEND_HOST_H */
