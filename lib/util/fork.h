/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: fork() handling of libhapmem's state.
 *
 * Every module that keeps a lock and state registers one hook table.  At
 * fork() the modules' locks are taken in ascending rank (outer locks
 * first, the order the code nests them), and released in descending rank
 * in the parent; in the child each module's reset function runs, lock
 * held, in descending rank, then the lock is released.  Reset functions
 * run in the child's only thread, after glibc has made malloc usable
 * again there, so they may free memory and close fds (see
 * Documentation/library.rst, "fork").
 *
 * A module with one mutex gives .lock and .reset.  A module with more
 * locks (the heaps) leaves .lock NULL and gives .prepare (take them all),
 * .parent (release them) and .reset (reset and release them).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_FORK_H
#define HAPMEM_LIB_FORK_H

#include <pthread.h>

/* The lock order, outermost first: one slot per module. */
enum hm_fork_rank {
	HM_FORK_DOMAIN,			/* compat/domain.c */
	HM_FORK_FASTRPC,		/* compat/fastrpc.c */
	HM_FORK_APPS_MEM,		/* faces/apps_mem.c */
	HM_FORK_BUFFER,			/* faces/buffer.c */
	HM_FORK_HAP_MMAP,		/* faces/hap_mmap.c */
	HM_FORK_HAP_APPS_MEM,		/* faces/hap_apps_mem.c */
	HM_FORK_HAP_MEM_REQUEST,	/* faces/hap_mem_request.c */
	HM_FORK_CAPS,			/* caps/caps_fork.c */
	HM_FORK_HEAP,			/* heap/heap_fork.c */
	HM_FORK_SESSION,		/* transport/session.c, innermost */
	HM_FORK_NR_RANKS
};

struct hm_fork_hooks {
	enum hm_fork_rank rank;
	pthread_mutex_t *lock;	/* taken before .prepare, released after .parent / .reset */
	void (*prepare)(void);
	void (*parent)(void);
	void (*reset)(void);	/* the child's state; called in the child only */
};

/*
 * Register @h (which must stay valid) in its rank's slot.  Each rank has
 * a slot of its own, so registration cannot run out of room; registering
 * the same table again is a no-op.  Two different tables for one rank are
 * a bug in the library: it aborts there rather than leave a module's
 * locks out of fork().
 */
void hm_fork_register(const struct hm_fork_hooks *h);

#endif /* HAPMEM_LIB_FORK_H */
