/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Segment backends of the HAP heap.
 *
 * The heap never maps memory itself: when it runs out it asks a backend for
 * one more segment, and hands fully unused segments back to it.  The backend
 * is the only layer that knows where segments come from (the hapmem driver
 * through request_map with ADD_PAGES, or plain mmap on the host for tests).
 *
 * Both callbacks are invoked WITHOUT the heap lock held, possibly from
 * several threads at once; a backend serialises itself if it needs to.
 */
#ifndef HAPMEM_HEAP_BACKEND_H
#define HAPMEM_HEAP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* One contiguous piece of memory handed to the heap by a backend. */
struct hm_segment_desc {
	void *cpu;		/* CPU mapping, or NULL for CPU-less (device-only) memory */
	uint64_t dev;		/* device address (vadsp) of the first byte */
	size_t len;		/* bytes; a multiple of 1 MiB */
	uintptr_t handle;	/* backend's own cookie (fd, map id ...) for release */
};

struct hm_backend_ops {
	const char *name;
	/*
	 * Obtain a new segment of exactly @len bytes (a multiple of 1 MiB).
	 * Returns 0 and fills @out, or -errno (-ENOMEM, -ENODEV ...).
	 */
	int (*grow)(void *ctx, size_t len, struct hm_segment_desc *out);
	/* Give back a segment previously returned by grow(). Cannot fail. */
	void (*release)(void *ctx, const struct hm_segment_desc *seg);
	/*
	 * Optional (NULL: not supported).  The pages [@cpu, @cpu + @len) of
	 * a segment (page-aligned) hold nothing the heap needs: the backend
	 * may give their memory back, keeping the range mapped; what they
	 * read afterwards is unspecified.  Called WITH the heap lock held
	 * (the range must not be handed out meanwhile), so it must not call
	 * into the heap.  Cannot fail.
	 */
	void (*discard)(void *ctx, void *cpu, size_t len);
};

/* The real backend: the hapmem driver (lib/transport/backend_driver.c, helper "lib"). */
extern const struct hm_backend_ops hm_backend_driver;
/* Context for hm_backend_driver; NULL with errno set (ENODEV) without /dev/hapmem. */
void *hm_backend_driver_ctx(void);

/* Host backend (lib/heap/backend_host.c): anonymous mmap and a fake device
 * address.  For unit tests and benchmarks only; never a silent fallback. */
extern const struct hm_backend_ops hm_backend_host;
/* A fresh host-backend context; NULL on ENOMEM.  Free with hm_backend_host_ctx_free(). */
void *hm_backend_host_ctx_new(void);
void hm_backend_host_ctx_free(void *ctx);

#endif /* HAPMEM_HEAP_BACKEND_H */
