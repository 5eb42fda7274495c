// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host backend of the HAP heap: anonymous mmap and a fake device address.
 * For unit tests and benchmarks only; the HAP_* face never falls back to it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "heap/backend_host.h"

struct host_ctx {
	pthread_mutex_t lock;	/* grow/release run unlocked by the heap, maybe concurrently */
	uint64_t next_dev;
	size_t limit;
	struct hm_backend_host_counters n;
};

static int host_grow(void *ctx, size_t len, struct hm_segment_desc *out)
{
	struct host_ctx *h = ctx;
	void *p;

	pthread_mutex_lock(&h->lock);
	if (h->limit && h->n.live_bytes + len > h->limit) {
		pthread_mutex_unlock(&h->lock);
		return -ENOMEM;
	}
	h->n.live_bytes += len;		/* claimed before the unlocked mmap */
	pthread_mutex_unlock(&h->lock);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_mutex_lock(&h->lock);
	if (p == MAP_FAILED) {
		h->n.live_bytes -= len;
		pthread_mutex_unlock(&h->lock);
		return -ENOMEM;
	}
	*out = (struct hm_segment_desc){ .cpu = p, .dev = h->next_dev, .len = len };
	h->next_dev += len;
	h->n.grows++;
	h->n.live_segments++;
	h->n.last_grow_len = len;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

static void host_release(void *ctx, const struct hm_segment_desc *seg)
{
	struct host_ctx *h = ctx;

	munmap(seg->cpu, seg->len);
	pthread_mutex_lock(&h->lock);
	h->n.releases++;
	h->n.live_segments--;
	h->n.live_bytes -= seg->len;
	pthread_mutex_unlock(&h->lock);
}

/* Anonymous private memory: MADV_DONTNEED frees the pages (they read zero). */
static void host_discard(void *ctx, void *cpu, size_t len)
{
	struct host_ctx *h = ctx;

	madvise(cpu, len, MADV_DONTNEED);
	pthread_mutex_lock(&h->lock);
	h->n.discards++;
	h->n.discard_bytes += len;
	pthread_mutex_unlock(&h->lock);
}

const struct hm_backend_ops hm_backend_host = {
	.name = "host",
	.grow = host_grow,
	.release = host_release,
	.discard = host_discard,
};

void *hm_backend_host_ctx_new(void)
{
	struct host_ctx *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	h->next_dev = HM_HOST_DEV_BASE;
	return h;
}

void hm_backend_host_ctx_free(void *ctx)
{
	struct host_ctx *h = ctx;

	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void hm_backend_host_counters(void *ctx, struct hm_backend_host_counters *out)
{
	struct host_ctx *h = ctx;

	pthread_mutex_lock(&h->lock);
	*out = h->n;
	pthread_mutex_unlock(&h->lock);
}

void hm_backend_host_set_limit(void *ctx, size_t bytes)
{
	struct host_ctx *h = ctx;

	pthread_mutex_lock(&h->lock);
	h->limit = bytes;
	pthread_mutex_unlock(&h->lock);
}
