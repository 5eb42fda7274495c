/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: the failure path of the layers' invariant checks
 * (HM_CORE_ASSERT, HM_TC_ASSERT), compiled in with HAPMEM_DEBUG only.
 * A broken invariant prints "<layer>: file:line: invariant broken: cond"
 * on stderr and aborts.
 */
#ifndef HAPMEM_UTIL_INVARIANT_H
#define HAPMEM_UTIL_INVARIANT_H

#ifdef HAPMEM_DEBUG
#include <stdio.h>
#include <stdlib.h>

static inline __attribute__((noreturn, cold)) void hm_invariant_fail(const char *layer,
								     const char *cond,
								     const char *file, int line)
{
	fprintf(stderr, "%s: %s:%d: invariant broken: %s\n", layer, file, line, cond);
	abort();
}

#define HM_INVARIANT(layer, cond) \
	(__builtin_expect(!!(cond), 1) ? (void)0 : hm_invariant_fail(layer, #cond, __FILE__, __LINE__))
#else
#define HM_INVARIANT(layer, cond) ((void)0)
#endif

#endif /* HAPMEM_UTIL_INVARIANT_H */
