// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr shared multi-heap face
 * (<zephyr/multi_heap/shared_multi_heap.h>) over the capability heaps:
 * each region is a caps user region (caps_region_add_mem) registered with
 * the attribute SMH_CAPS_ATTR(attr) and no capabilities, so only this
 * face's allocations (caps_attr_alloc) use it; blocks are freed by
 * caps_free, found by address.  A region that lies inside a block of a
 * hapmem heap keeps that block's device address.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "compat/zephyr/multi_heap/shared_multi_heap.h"
#include "compat/zephyr/sys/multi_heap.h"

#include "hapmem_caps.h"

/* caps attributes of this face ("SMH" + the Zephyr attribute), apart from
 * those of other users of caps_region_add_mem (ESP-IDF's regions use 0) */
#define SMH_CAPS_ATTR(a)	(0x534d4800u | (uint32_t)(a))
#define SMH_ALIGN		16u

struct smh_region {
	uintptr_t lo, hi;
	void *user_data;
};

static pthread_mutex_t smh_lock = PTHREAD_MUTEX_INITIALIZER;
static struct smh_region smh[SMH_REG_ATTR_NUM][MAX_MULTI_HEAPS];
static unsigned int smh_count[SMH_REG_ATTR_NUM];
static atomic_bool smh_inited;

int shared_multi_heap_pool_init(void)
{
	bool no = false;

	return atomic_compare_exchange_strong(&smh_inited, &no, true) ? 0 : -EALREADY;
}

int shared_multi_heap_add(struct shared_multi_heap_region *region, void *user_data)
{
	static atomic_uint seq;
	char name[HAPMEM_CAPS_NAME_MAX];
	uintptr_t base, top;
	uint64_t dev = 0;
	uint32_t attr;
	int ret;

	if (!region || region->attr >= SMH_REG_ATTR_NUM)
		return -EINVAL;
	attr = region->attr;
	base = (region->addr + SMH_ALIGN - 1) & ~(uintptr_t)(SMH_ALIGN - 1);
	top = (region->addr + region->size) & ~(uintptr_t)(SMH_ALIGN - 1);
	if (!region->addr || region->addr + region->size < region->addr || top <= base)
		return -EINVAL;
	pthread_mutex_lock(&smh_lock);
	if (smh_count[attr] >= MAX_MULTI_HEAPS) {
		pthread_mutex_unlock(&smh_lock);
		return -ENOMEM;
	}
	if (caps_dev_addr((void *)base, &dev))
		dev = 0;	/* plain memory: no device address */
	snprintf(name, sizeof(name), "smh-%u-%u", (unsigned int)attr, atomic_fetch_add(&seq, 1));
	ret = caps_region_add_mem(name, (void *)base, dev, top - base, SMH_CAPS_ATTR(attr), NULL);
	if (ret > 0) {
		smh[attr][smh_count[attr]++] = (struct smh_region){
			.lo = base, .hi = top, .user_data = user_data,
		};
		ret = 0;
	} else if (ret == -ENOSPC) {
		ret = -ENOMEM;
	}
	pthread_mutex_unlock(&smh_lock);
	return ret;
}

void *shared_multi_heap_aligned_alloc(enum shared_multi_heap_attr attr, size_t align,
				      size_t bytes)
{
	if ((unsigned int)attr >= SMH_REG_ATTR_NUM || !bytes || (align & (align - 1)))
		return NULL;
	return caps_attr_alloc(SMH_CAPS_ATTR(attr), bytes, align);
}

void *shared_multi_heap_alloc(enum shared_multi_heap_attr attr, size_t bytes)
{
	return shared_multi_heap_aligned_alloc(attr, 0, bytes);
}

void shared_multi_heap_free(void *block)
{
	if (block)
		caps_free(block);
}

/* Is @p in a region of @attr? */
static bool in_attr(uintptr_t p, unsigned int attr)
{
	bool yes = false;
	unsigned int i;

	pthread_mutex_lock(&smh_lock);
	for (i = 0; i < smh_count[attr] && !yes; i++)
		yes = p >= smh[attr][i].lo && p < smh[attr][i].hi;
	pthread_mutex_unlock(&smh_lock);
	return yes;
}

void *shared_multi_heap_realloc(enum shared_multi_heap_attr attr, void *ptr, size_t bytes)
{
	size_t old;
	void *p;

	if ((unsigned int)attr >= SMH_REG_ATTR_NUM)
		return NULL;
	if (!ptr)
		return shared_multi_heap_alloc(attr, bytes);
	if (!bytes) {
		shared_multi_heap_free(ptr);
		return NULL;
	}
	/* in a region of that attribute: in place, or moved among them */
	if (in_attr((uintptr_t)ptr, (unsigned int)attr))
		return caps_realloc(ptr, bytes, 0);
	old = caps_block_size(ptr);
	if (!old)
		return NULL;
	p = shared_multi_heap_alloc(attr, bytes);
	if (p) {
		memcpy(p, ptr, old < bytes ? old : bytes);
		caps_free(ptr);
	}
	return p;
}
