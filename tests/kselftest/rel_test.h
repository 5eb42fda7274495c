/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the reliability suites (tests/kselftest/rel_*.c): counter
 * snapshots that must come back unchanged, fd-table probes, time, and a
 * small seeded PRNG.
 */
#ifndef REL_TEST_H
#define REL_TEST_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "hapmem_test.h"
#include "../fd_pass.h"

/* Everything that must return to where it was after a failed call. */
struct rel_counters {
	uint64_t session_maps, session_bytes;
	uint64_t maps, bytes, buffers, pages, reservations, llc_used;
};

static inline int rel_counters(int fd, struct rel_counters *c)
{
	struct hapmem_info info;
	int ret = hm_info(fd, &info);

	if (ret)
		return ret;
	c->session_maps = info.session_maps;
	c->session_bytes = info.session_bytes;
	c->maps = info.global_maps;
	c->bytes = info.global_bytes;
	c->buffers = info.global_buffers;
	c->pages = info.global_pages;
	c->reservations = info.global_reservations;
	c->llc_used = info.llc_used;
	return 0;
}

static inline bool rel_counters_eq(const struct rel_counters *a,
				   const struct rel_counters *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline void rel_counters_str(const struct rel_counters *c, char *s,
				    size_t n)
{
	snprintf(s, n, "smaps=%llu sbytes=%llu maps=%llu bytes=%llu bufs=%llu pages=%llu resv=%llu llc=%llu",
		 (unsigned long long)c->session_maps,
		 (unsigned long long)c->session_bytes,
		 (unsigned long long)c->maps, (unsigned long long)c->bytes,
		 (unsigned long long)c->buffers, (unsigned long long)c->pages,
		 (unsigned long long)c->reservations,
		 (unsigned long long)c->llc_used);
}

/* The fd the next open would get: a leaked fd takes the lowest slot. */
static inline int rel_next_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static inline double rel_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible from the printed seed. */
static inline uint64_t rel_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rel_env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* fail-nth: arm the task's injection at the @n-th fault site from now. */
static inline int nth_set(int nth, unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	return pwrite(nth, s, len, 0) == len ? 0 : -errno;
}

/* fail-nth: 0 when the fault was injected, else what was left of N. */
static inline long nth_left(int nth)
{
	char s[32] = "";
	ssize_t n = pread(nth, s, sizeof(s) - 1, 0);

	return n > 0 ? strtol(s, NULL, 10) : -1;
}

#endif /* REL_TEST_H */
