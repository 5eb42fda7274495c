/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem_caps.h - allocation by capability over several kinds of memory,
 * and heap debugging.
 *
 * A *region* is one heap over one kind of memory (cached, uncached, LLC,
 * protected, below 4 GiB, or a buffer the user registered).  Each region
 * lists its capabilities in up to three priority columns, as ESP-IDF's
 * heap_caps does.  caps_malloc(size, caps) tries, priority by priority,
 * every region whose column of that priority names one of @caps and whose
 * capabilities together cover all of @caps; within a priority the region
 * with the smallest capacity that can hold the request comes first.  The
 * candidates of every capability set are precomputed when regions change.
 *
 * caps_free() takes a block of any region, found in O(1) by address.
 *
 * Protected (remote-only) memory has no CPU mapping.  Its blocks are
 * still named by a process address, inside a PROT_NONE reservation the
 * size of the region's segment: the address is a handle, not something
 * to dereference.  caps_dev_addr() gives the device address.
 *
 * Errors: functions returning int give 0 or a negative errno; functions
 * returning a pointer give NULL and set errno:
 *   EINVAL   unknown capability bits, CACHED together with UNCACHED, an
 *            alignment that is not a power of two;
 *   ENOTSUP  no registered region has these capabilities (fails at once,
 *            never waits);
 *   E2BIG    no candidate region could ever hold this size (at once);
 *   ENOMEM   the candidates are full (and could not grow);
 *   ETIMEDOUT caps_malloc_timeout() waited in vain;
 *   EPERM    caps_realloc() of protected memory (the CPU cannot copy it).
 *
 * Every function is thread-safe.  Failure callbacks run with no lock of
 * the library held.  Listeners run with no region lock held and may
 * allocate and free, but must not add or remove regions (the registry is
 * read-locked around them).  The debug reporter must not call this API.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_CAPS_H
#define HAPMEM_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hapmem_api.h"

/* Capability bits. */
#define HAPMEM_CAP_DEFAULT	(1U << 0) /* what plain malloc-like use should get */
#define HAPMEM_CAP_CACHED	(1U << 1) /* CPU-cached, kept coherent */
#define HAPMEM_CAP_UNCACHED	(1U << 2) /* write-combined CPU mapping */
#define HAPMEM_CAP_LLC		(1U << 3) /* the driver's low-latency carve-out; privileged */
#define HAPMEM_CAP_PROTECTED	(1U << 4) /* remote-only; no CPU mapping; privileged */
#define HAPMEM_CAP_32BIT	(1U << 5) /* device address + size <= 4 GiB */
#define HAPMEM_CAP_ALL		0x3fU

#define HAPMEM_CAPS_PRIORITIES	3
#define HAPMEM_CAPS_MAX_REGIONS	64
#define HAPMEM_CAPS_NAME_MAX	32

/* caps_region_add_fd() flags */
#define HAPMEM_CAPS_REGION_NO_DEVICE	(1U << 0) /* no device mapping (dev addr 0) */

/* Debug levels: each includes the ones before it. */
enum caps_debug_level {
	CAPS_DEBUG_NONE = 0,	/* the core's own cheap checks only, silent */
	CAPS_DEBUG_BASIC,	/* invalid and double frees reported */
	CAPS_DEBUG_POISON,	/* fill on alloc and free; write-after-free found */
	CAPS_DEBUG_CANARY,	/* head and tail guards, checked on free and by caps_check */
	CAPS_DEBUG_TRACE,	/* live blocks with a backtrace; leak reports */
};

/* Fill patterns of the poison level. */
#define CAPS_POISON_ALLOC	0xa5
#define CAPS_POISON_FREE	0xdd

enum caps_event_type {
	CAPS_EV_ALLOC,
	CAPS_EV_FREE,
	CAPS_EV_RESIZE,
	CAPS_EV_SEG_GROW,
	CAPS_EV_SEG_RELEASE,
};

struct caps_event {
	enum caps_event_type type;
	const char *region;	/* the region's name */
	void *ptr;		/* the block, or the segment's base address */
	size_t size;		/* bytes asked for; the segment length */
	size_t old_size;	/* CAPS_EV_RESIZE: the previous size */
	uint64_t dev;		/* device address of ptr */
};

typedef void (*caps_listener_fn)(const struct caps_event *ev, void *arg);
typedef void (*caps_alloc_failed_fn)(size_t size, uint32_t caps, const char *function,
				     void *arg);
typedef void (*caps_report_fn)(const char *msg, void *arg);

/* Description of one region for caps_region_add(). */
struct caps_region_cfg {
	const char *name;	/* up to HAPMEM_CAPS_NAME_MAX - 1 characters, unique */
	uint32_t caps[HAPMEM_CAPS_PRIORITIES];
	size_t max_bytes;	/* growth bound; 0: unbounded */
	size_t min_grow;	/* smallest segment; 0: 1 MiB */
};

/* Resumable position of caps_check_step(); zero it to start a pass. */
struct caps_check_cursor {
	unsigned int region;
	uint32_t region_id;
	uint32_t seg_gen_, seg_;
	uintptr_t last_;
	bool in_seg_;
	unsigned long blocks;	/* blocks checked in this pass so far */
	unsigned long errors;	/* corruptions found in this pass so far */
};

HAPMEM_BEGIN_DECLS

/* ---- regions ------------------------------------------------------------ */

/*
 * caps_init_default() - register the standard driver regions once (later
 * calls return 0): "cached" {DEFAULT|CACHED}, "cached32" {32BIT,
 * CACHED|DEFAULT}, "uncached" {UNCACHED}, "uncached32" {UNCACHED|32BIT},
 * "llc" {LLC}, "protected" {PROTECTED}, "protected32" {PROTECTED|32BIT}.
 * -ENODEV without a hapmem device.  Privileged kinds fail with EPERM at
 * their first growth for an unprivileged caller, and the allocation moves
 * on to the next candidate.
 */
int caps_init_default(void)
	HAPMEM_SYMBOL(caps_init_default);

/*
 * caps_region_add() - a growable region on the driver.  The memory kind
 * follows from the union of @cfg->caps: PROTECTED (REMOTE_HEAP_ADDR, no
 * CPU mapping), LLC (ADD_PAGES_LLC), UNCACHED or CACHED (ADD_PAGES), and
 * 32BIT places it below 4 GiB.  Returns a region id (> 0) or -errno.
 */
int caps_region_add(const struct caps_region_cfg *cfg)
	HAPMEM_SYMBOL(caps_region_add);

/*
 * caps_region_add_fd() - a region over @len bytes at @offset of the
 * dma-buf @fd the caller holds, in the style of Zephyr's shared
 * multi-heap.  The library maps it for the CPU (none when the buffer
 * refuses, as protected memory does) and for the remote (share_map),
 * unless HAPMEM_CAPS_REGION_NO_DEVICE.  The caller may close @fd
 * afterwards.  @attr is opaque: caps_attr_alloc(attr, ...) picks among
 * regions registered with it.  @caps (may be NULL) lets caps_malloc() use
 * it too.  Returns a region id (> 0) or -errno.
 */
int caps_region_add_fd(const char *name, int fd, uint64_t offset, size_t len,
		       uint32_t attr, const uint32_t caps[HAPMEM_CAPS_PRIORITIES],
		       uint32_t flags)
	HAPMEM_SYMBOL(caps_region_add_fd);

/*
 * caps_region_add_mem() - the same over memory the caller already has:
 * @cpu (NULL for CPU-less memory) and device address @dev.  The caller
 * keeps ownership of the memory and must not release it before
 * caps_region_remove().  Any size from 16 bytes (@cpu 16-byte aligned).
 * The memory may lie inside a live block of another region (a heap made
 * of a block, as ESP-IDF allows); overlapping another region otherwise is
 * -EEXIST.
 */
int caps_region_add_mem(const char *name, void *cpu, uint64_t dev, size_t len,
			uint32_t attr, const uint32_t caps[HAPMEM_CAPS_PRIORITIES])
	HAPMEM_SYMBOL(caps_region_add_mem);

/* caps_region_remove() - -EBUSY while it holds live blocks, -ENOENT. */
int caps_region_remove(int region_id)
	HAPMEM_SYMBOL(caps_region_remove);

/* caps_region_name() - the name of the region holding @ptr, or NULL. */
const char *caps_region_name(const void *ptr)
	HAPMEM_SYMBOL(caps_region_name);

/* caps_region_caps() - union of the capabilities of @ptr's region, or 0. */
uint32_t caps_region_caps(const void *ptr)
	HAPMEM_SYMBOL(caps_region_caps);

/* ---- allocation --------------------------------------------------------- */

void *caps_malloc(size_t size, uint32_t caps)
	HAPMEM_SYMBOL(caps_malloc);
void *caps_calloc(size_t n, size_t size, uint32_t caps)
	HAPMEM_SYMBOL(caps_calloc);
/* @align: any power of two. */
void *caps_aligned_alloc(size_t align, size_t size, uint32_t caps)
	HAPMEM_SYMBOL(caps_aligned_alloc);
/*
 * caps_realloc() - resize in place when possible, otherwise move to a
 * region with the same capabilities as the block's region (not
 * necessarily the same region) and copy.  A non-zero @caps that the
 * block's region does not have moves the block to a region that has them
 * (even when it could grow in place).  Protected blocks cannot be
 * copied by the CPU: a resize that cannot be done in place fails with
 * EPERM and the block stays as it was.  @ptr NULL: caps_malloc(size,
 * caps); size 0: frees and returns NULL.
 */
void *caps_realloc(void *ptr, size_t size, uint32_t caps)
	HAPMEM_SYMBOL(caps_realloc);
/* caps_free() - 0, -EFAULT (not a block of any region) or -EINVAL (not live). */
int caps_free(void *ptr)
	HAPMEM_SYMBOL(caps_free);

/* caps_malloc_prefer() - try @n capability sets (uint32_t) in order. */
void *caps_malloc_prefer(size_t size, unsigned int n, ...)
	HAPMEM_SYMBOL(caps_malloc_prefer);

/* caps_attr_alloc() - from the user regions registered with @attr. */
void *caps_attr_alloc(uint32_t attr, size_t size, size_t align)
	HAPMEM_SYMBOL(caps_attr_alloc);

/*
 * caps_malloc_timeout() - as caps_malloc(), but when the candidates are
 * full, wait up to @timeout_ms (negative: forever) for frees.  A waiter is
 * woken only by a free that leaves a candidate region's largest free block
 * able to hold the request.  Fails at once with ENOTSUP or E2BIG.
 */
void *caps_malloc_timeout(size_t size, uint32_t caps, long timeout_ms)
	HAPMEM_SYMBOL(caps_malloc_timeout);

/* caps_dev_addr() - device address of any address inside a block. */
int caps_dev_addr(const void *ptr, uint64_t *dev)
	HAPMEM_SYMBOL(caps_dev_addr);
/* caps_block_size() - usable bytes of the block @ptr starts, or 0. */
size_t caps_block_size(const void *ptr)
	HAPMEM_SYMBOL(caps_block_size);

/* ---- hooks --------------------------------------------------------------- */

/* caps_set_alloc_failed_hook() - called on every failed allocation. */
void caps_set_alloc_failed_hook(caps_alloc_failed_fn fn, void *arg)
	HAPMEM_SYMBOL(caps_set_alloc_failed_hook);
/* caps_set_abort_on_failure() - abort() after the hook on a failure. */
void caps_set_abort_on_failure(bool on)
	HAPMEM_SYMBOL(caps_set_abort_on_failure);

/* caps_listener_add() - up to 8 listeners; returns a handle (>= 0) or -errno. */
int caps_listener_add(caps_listener_fn fn, void *arg)
	HAPMEM_SYMBOL(caps_listener_add);
int caps_listener_remove(int handle)
	HAPMEM_SYMBOL(caps_listener_remove);

/* ---- debugging ---------------------------------------------------------- */

/*
 * caps_debug_set_level() - for blocks allocated from now on.  The initial
 * level comes from $HAPMEM_CAPS_DEBUG: none, basic, poison, canary or
 * trace, optionally followed by ",leaks" (leak report at exit).
 * Write-after-free checks need the region's free memory poisoned from its
 * start: they cover regions created while the level was poison or above.
 */
int caps_debug_set_level(enum caps_debug_level level)
	HAPMEM_SYMBOL(caps_debug_set_level);
enum caps_debug_level caps_debug_level(void)
	HAPMEM_SYMBOL(caps_debug_level);
/* caps_debug_set_reporter() - where reports go; NULL: stderr. */
void caps_debug_set_reporter(caps_report_fn fn, void *arg)
	HAPMEM_SYMBOL(caps_debug_set_reporter);
/* caps_debug_errors() - corruptions and bad frees reported so far. */
unsigned long caps_debug_errors(void)
	HAPMEM_SYMBOL(caps_debug_errors);
/* caps_debug_leak_report_at_exit() - trace level: report live blocks at exit. */
void caps_debug_leak_report_at_exit(bool on)
	HAPMEM_SYMBOL(caps_debug_leak_report_at_exit);

/*
 * caps_debug_leak_report() - (trace level) every live block traced, with
 * its size, region, allocation site (when given through the _site
 * functions) and backtrace, to @out.  Returns the number of blocks.
 */
long caps_debug_leak_report(FILE *out)
	HAPMEM_SYMBOL(caps_debug_leak_report);

/* Allocation with an explicit site, recorded at the trace level. */
void *caps_malloc_site(size_t size, uint32_t caps, const char *file, int line,
		       const char *func)
	HAPMEM_SYMBOL(caps_malloc_site);
#define CAPS_MALLOC(size, caps) caps_malloc_site((size), (caps), __FILE__, __LINE__, __func__)

/*
 * caps_check_step() - check up to @budget blocks (the region lock is held
 * for at most that many), resuming at @cur: canaries of live blocks,
 * poison of free blocks, guard bookkeeping.  Returns 1 while more remain,
 * 0 when the pass is complete; @cur->errors counts what it found.
 */
int caps_check_step(struct caps_check_cursor *cur, unsigned int budget)
	HAPMEM_SYMBOL(caps_check_step);
/* caps_check_all() - a whole pass in steps of 256; the number of errors. */
long caps_check_all(void)
	HAPMEM_SYMBOL(caps_check_all);

/*
 * caps_stats() - the regions that can serve @caps (0: every region),
 * summed; the figures of the segments they hold now (a growable region
 * may grow beyond them).  @largest_free is the largest size caps_malloc()
 * of these caps serves now without growing, at the current debug level
 * (guards deducted).  @minimum_free is total - peak used per region.
 * 0, or -EINVAL (@out NULL, invalid @caps).
 */
struct caps_stats {
	size_t total_bytes;
	size_t free_bytes;
	size_t allocated_bytes;
	size_t largest_free;
	size_t minimum_free;
	size_t allocated_blocks;
	size_t free_blocks;
	unsigned int regions;
};
int caps_stats(uint32_t caps, struct caps_stats *out)
	HAPMEM_SYMBOL(caps_stats);

/*
 * caps_walk() - every block of the regions that can serve @caps (0: every
 * region), segment by segment in address order.  @fn gets the block as
 * the core holds it (@ptr its start, guards of the debug levels included)
 * and returns true to go on, false to skip the rest of that segment.  @fn
 * runs with no region lock held (the registry read-locked, as for
 * listeners: it may allocate and free, not add or remove regions), on
 * batches read under the region's lock: a heap that changes meanwhile is
 * walked as it is when reached.
 * 0 or -EINVAL.
 */
struct caps_walk_block {
	const char *region;
	uintptr_t seg_start, seg_end;	/* the segment: [seg_start, seg_end) */
	void *ptr;
	size_t size;
	bool used;
};
typedef bool (*caps_walk_fn)(const struct caps_walk_block *blk, void *arg);
int caps_walk(uint32_t caps, caps_walk_fn fn, void *arg)
	HAPMEM_SYMBOL(caps_walk);

/* caps_dump_json() - every region: totals, largest free block, fragmentation... */
int caps_dump_json(FILE *out)
	HAPMEM_SYMBOL(caps_dump_json);
/* caps_heap_map_svg() - a picture of every region: used, free and guard space. */
int caps_heap_map_svg(FILE *out)
	HAPMEM_SYMBOL(caps_heap_map_svg);

HAPMEM_END_DECLS

#endif /* HAPMEM_CAPS_H */
