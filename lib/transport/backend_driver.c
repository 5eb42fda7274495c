// SPDX-License-Identifier: GPL-2.0-only
/*
 * The heap's driver backend: segments are request_map(ADD_PAGES, vin 0)
 * maps, mapped for the CPU through the dma-buf fd the kernel returns.
 *
 * Segments remember the session generation they were made in.  After
 * fork() the child's heap may still hold its parent's segments; releasing
 * one there must not unmap an address in the child's own session (which
 * may well have a map at the same device address), so only its CPU
 * mapping goes.
 *
 * Thread-safe without a lock: each grow/release works on its own segment,
 * and the kernel serialises the session.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transport/backend_driver.h"
#include "transport/cpu_map.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

struct drv_ctx {
	struct hm_driver_backend_cfg cfg;
};

static struct drv_ctx default_ctx = {
	.cfg = {
		.rflags = HAPMEM_RFLAG_ADD_PAGES,
		.ion_flags = HAPMEM_ION_FLAG_CACHED,
		.place = 0,
		.heap_id = HAPMEM_HEAP_ID_DEFAULT,
	},
};

static int drv_grow(void *ctx, size_t len, struct hm_segment_desc *out)
{
	const struct drv_ctx *c = ctx ? ctx : &default_ctx;
	struct hm_request_map_in in = { 0 };
	struct hm_request_map_out res = { 0 };
	int cpu_less = c->cfg.rflags == HAPMEM_RFLAG_REMOTE_HEAP_ADDR;
	uint64_t gen = hm_session_gen();
	void *cpu = NULL;
	int dev, ret;

	if (!len || !hm_page_aligned(len))
		return -EINVAL;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	in.flags = c->cfg.place | (cpu_less ? 0 : HAPMEM_REQUEST_FD);
	in.heap_id = c->cfg.heap_id;
	in.ion_flags = c->cfg.ion_flags;
	in.rflags = c->cfg.rflags;
	in.len = len;
	ret = hm_ioc_request_map(dev, &in, &res);
	if (ret)
		return ret;
	if (!cpu_less) {
		ret = hm_cpu_map(res.fd, 0, len, PROT_READ | PROT_WRITE, 0, &cpu);
		close(res.fd);
		if (ret) {
			hm_ioc_request_unmap(dev, res.vadsp, len);
			return ret;
		}
	}
	out->cpu = cpu;
	out->dev = res.vadsp;
	out->len = len;
	out->handle = (uintptr_t)gen;
	return 0;
}

static void drv_release(void *ctx, const struct hm_segment_desc *seg)
{
	int dev;

	(void)ctx;
	if (seg->cpu)
		munmap(seg->cpu, seg->len);
	if ((uint64_t)seg->handle != hm_session_gen())
		return;	/* made in another session (the parent's) */
	dev = hm_session_fd();
	if (dev >= 0)
		hm_ioc_request_unmap(dev, seg->dev, seg->len);
}

const struct hm_backend_ops hm_backend_driver = {
	.name = "driver",
	.grow = drv_grow,
	.release = drv_release,
};

void *hm_backend_driver_ctx(void)
{
	int dev = hm_session_fd();

	if (dev < 0) {
		errno = -dev;
		return NULL;
	}
	return &default_ctx;
}

void *hm_backend_driver_ctx_new(const struct hm_driver_backend_cfg *cfg)
{
	struct drv_ctx *c;
	int dev;

	if (!cfg || (cfg->ion_flags & ~HAPMEM_ION_FLAGS_VALID) ||
	    (cfg->place & ~(HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH)) ||
	    (cfg->rflags != HAPMEM_RFLAG_ADD_PAGES &&
	     cfg->rflags != HAPMEM_RFLAG_ADD_PAGES_LLC &&
	     cfg->rflags != HAPMEM_RFLAG_REMOTE_HEAP_ADDR &&
	     cfg->rflags != HAPMEM_RFLAG_HEAP_ADDR)) {
		errno = EINVAL;
		return NULL;
	}
	dev = hm_session_fd();
	if (dev < 0) {
		errno = -dev;
		return NULL;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->cfg = *cfg;
	return c;
}

void hm_backend_driver_ctx_free(void *ctx)
{
	if (ctx && ctx != &default_ctx)
		free(ctx);
}
