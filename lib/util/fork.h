/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: fork() handling of libhapmem's state.
 *
 * Every module that keeps a lock and state registers hooks once.  At
 * fork() the prepare hooks run in ascending @rank (outer locks first, so
 * the order matches the order the code nests its locks), and the parent
 * and child hooks in descending rank.  A prepare hook takes the module's
 * lock; the parent hook releases it; the child hook resets the module's
 * state for the child (see Documentation/library.rst, "fork") and releases
 * the lock.  Child hooks run in the child's only thread, after glibc has
 * made malloc usable again there, so they may free memory and close fds.
 *
 * Ranks: faces 10..49, the heap 50..79, backend 80..89, session 100.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_FORK_H
#define HAPMEM_LIB_FORK_H

struct hm_fork_hooks {
	int rank;
	void (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
};

/* 0 or -ENOSPC (the table holds HM_FORK_MAX_HOOKS).  @h must stay valid. */
#define HM_FORK_MAX_HOOKS 16
int hm_fork_register(const struct hm_fork_hooks *h);

#endif /* HAPMEM_LIB_FORK_H */
