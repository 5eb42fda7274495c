/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests/fault_probe.h: whether a CPU access to an address faults, for the
 * host unit tests and the VM tests alike (SIGSEGV caught and turned into
 * an answer).  A probing write stores the byte already there, so a write
 * that does not fault changes nothing.
 */
#ifndef HAPMEM_FAULT_PROBE_H
#define HAPMEM_FAULT_PROBE_H

#include <setjmp.h>
#include <signal.h>

static sigjmp_buf hm_probe_env;

static void hm_probe_segv(int sig)
{
	(void)sig;
	siglongjmp(hm_probe_env, 1);
}

/* 1 when reading (or, with @write, rewriting) the byte at @p faults. */
static __attribute__((noinline, unused)) int
hm_probe(const volatile unsigned char *p, int write)
{
	struct sigaction sa = { .sa_handler = hm_probe_segv }, old;
	volatile int faulted = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	if (!sigsetjmp(hm_probe_env, 1)) {
		if (write)
			*(volatile unsigned char *)p = *p;
		else
			(void)*p;
	} else {
		faulted = 1;
	}
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

static inline __attribute__((unused)) int read_faults(const volatile void *p)
{
	return hm_probe(p, 0);
}

static inline __attribute__((unused)) int write_faults(volatile void *p)
{
	return hm_probe(p, 1);
}

#endif /* HAPMEM_FAULT_PROBE_H */
