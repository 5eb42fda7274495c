// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator benchmark harness: every allocator behind one function-pointer
 * interface (struct allocator), every workload written once.
 *
 * The source is built into one program per allocator family, because
 * Debian's jemalloc and mimalloc both export malloc() and would replace
 * glibc's in any program linked with them:
 *   alloc_bench           hap (HAP heap with HAP_malloc's defaults: front
 *                         end and release policy on, no setup call),
 *                         hap-compact (the same, front end off), core (no
 *                         lock), glibc, null
 *   alloc_bench_jemalloc  jemalloc through mallocx/dallocx   (-DPEER_JEMALLOC)
 *   alloc_bench_mimalloc  mimalloc through mi_malloc/mi_free (-DPEER_MIMALLOC)
 *
 *   alloc_bench ALLOCATOR WORKLOAD [ARG]
 * prints "name: value" lines.  WORKLOAD is one of
 *   pairs SIZE | mixed random|fifo|lifo | larson | stress PCT |
 *   stress-inband PCT | phases | xthread [same|split] | latency FILE |
 *   cg-pairs SIZE | cg-mixed     (the cg- ones for callgrind)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#if defined(PEER_JEMALLOC)
#include <jemalloc/jemalloc.h>
#elif defined(PEER_MIMALLOC)
#include <mimalloc.h>
#else
#include "core/core.h"
#include "heap/backend_host.h"
#include "heap/heap.h"
#endif

struct allocator {
	const char *name;
	void *(*alloc)(size_t size);
	void (*free)(void *p);
	/* Bytes the allocator holds for its blocks now, if it can tell (else NULL). */
	uint64_t (*footprint)(void);
};

/*
 * The wrappers are named a_<allocator>_{alloc,free} and never inlined:
 * callgrind counts instructions inside them only (--toggle-collect=a_*),
 * so the harness's own loop is not counted.
 */
#define WRAP __attribute__((noinline))

#if defined(PEER_JEMALLOC)
WRAP void *a_jemalloc_alloc(size_t n) { return mallocx(n, 0); }
WRAP void a_jemalloc_free(void *p) { dallocx(p, 0); }
static const struct allocator allocators[] = {
	{ "jemalloc", a_jemalloc_alloc, a_jemalloc_free, NULL },
};
#elif defined(PEER_MIMALLOC)
WRAP void *a_mimalloc_alloc(size_t n) { return mi_malloc(n); }
WRAP void a_mimalloc_free(void *p) { mi_free(p); }
static const struct allocator allocators[] = {
	{ "mimalloc", a_mimalloc_alloc, a_mimalloc_free, NULL },
};
#else
static struct hm_heap *hap;
static void *hap_ctx;
WRAP void *a_hap_alloc(size_t n) { return hm_heap_malloc(hap, n); }
WRAP void a_hap_free(void *p) { hm_heap_free(hap, p); }

static uint64_t hap_footprint(void)
{
	struct hm_heap_stats st;

	hm_heap_stats(hap, &st);
	return st.peak_footprint_bytes;
}

/* The core alone: one thread, no lock (what a bare-metal single-core user gets). */
static struct hm_core *core;
WRAP void *a_core_alloc(size_t n) { uintptr_t a; return hm_core_alloc(core, n, 0, &a) ? NULL : (void *)a; }
WRAP void a_core_free(void *p) { hm_core_free(core, (uintptr_t)p); }

static uint64_t core_footprint(void)
{
	struct hm_core_stats st;

	hm_core_stats(core, &st);
	return st.peak_used_bytes;
}

WRAP void *a_glibc_alloc(size_t n) { return malloc(n); }
WRAP void a_glibc_free(void *p) { free(p); }

/* Harness cost: hands out one static block. */
static char null_block[4096] __attribute__((aligned(16)));
WRAP void *a_null_alloc(size_t n) { (void)n; return null_block; }
WRAP void a_null_free(void *p) { (void)p; }

static const struct allocator allocators[] = {
	{ "hap", a_hap_alloc, a_hap_free, hap_footprint },
	{ "hap-compact", a_hap_alloc, a_hap_free, hap_footprint },
	{ "core", a_core_alloc, a_core_free, core_footprint },
	{ "glibc", a_glibc_alloc, a_glibc_free, NULL },
	{ "null", a_null_alloc, a_null_free, NULL },
};
#endif

static const struct allocator *A;

static void setup(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
		if (!strcmp(allocators[i].name, name))
			A = &allocators[i];
	if (!A) {
		fprintf(stderr, "alloc_bench: unknown allocator %s\n", name);
		exit(2);
	}
#if !defined(PEER_JEMALLOC) && !defined(PEER_MIMALLOC)
	if (!strncmp(name, "hap", 3)) {
		hap_ctx = hm_backend_host_ctx_new();
		/* What HAP_malloc gets: the defaults, no setup call; compact: front end off. */
		hap = hm_heap_create_default(&hm_backend_host, hap_ctx);
		if (strcmp(name, "hap"))
			hm_heap_set_front_end(hap, false);
	} else if (!strcmp(name, "core")) {
		uintptr_t base = (uintptr_t)mmap(NULL, 256 << 20, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		core = hm_core_create();
		hm_core_add_segment(core, base, 0, 256 << 20, 0);
	}
#endif
}

/* ---- workloads ------------------------------------------------------------ */

static uint64_t lcg = 1;
static uint32_t rnd(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(lcg >> 33);
}

/* Log-distributed size in [2^lo, 2^hi). */
static size_t log_size(unsigned int lo_bits, unsigned int hi_bits)
{
	unsigned int b = lo_bits + rnd() % (hi_bits - lo_bits);

	return ((size_t)1 << b) + (rnd() & ((1u << b) - 1));
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * CPU time of the calling thread.  On a shared machine a wall-clock loop
 * also counts the time the thread sat preempted (other tenants' builds
 * and VMs: 2 cores, load average 5 - 15): the timed ratios below use the
 * thread's CPU time, which only the allocator's and the harness's work
 * (and what the cache loses to other tenants) makes up.
 */
static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define WINDOW	1000
#define STEPS	2000000

static size_t mixed_sizes[STEPS];
static uint32_t mixed_victims[STEPS];

static void prepare_mixed(unsigned int steps)
{
	unsigned int i;

	lcg = 3;
	for (i = 0; i < steps; i++) {
		mixed_sizes[i] = log_size(4, 12);
		mixed_victims[i] = rnd() % WINDOW;
	}
}

/*
 * Mixed: a window of 1000 blocks of 16 B .. 4 KiB.  Each step frees one
 * block and allocates another: random victim, or the oldest (fifo); lifo
 * allocates a batch of 1000 and frees it newest first.  ns per step.
 */
static double mixed_wall_ns;	/* the same run's wall-clock ns per step */

static double mixed(const char *order, unsigned int steps)
{
	static void *win[WINDOW];
	double t0, c0;
	unsigned int i, j;

	for (i = 0; i < WINDOW; i++)
		win[i] = A->alloc(mixed_sizes[i]);
	t0 = now_ns();
	c0 = cpu_ns();
	if (!strcmp(order, "lifo")) {
		for (i = 0; i < WINDOW; i++)
			A->free(win[i]);
		for (i = 0; i < steps; i += WINDOW) {
			for (j = 0; j < WINDOW; j++)
				win[j] = A->alloc(mixed_sizes[i + j]);
			for (j = WINDOW; j-- > 0;)
				A->free(win[j]);
		}
		c0 = cpu_ns() - c0;
		mixed_wall_ns = (now_ns() - t0) / steps;
		return c0 / steps;
	}
	for (i = 0; i < steps; i++) {
		uint32_t v = order[0] == 'f' ? i % WINDOW : mixed_victims[i];

		A->free(win[v]);
		win[v] = A->alloc(mixed_sizes[i]);
	}
	c0 = cpu_ns() - c0;
	mixed_wall_ns = (now_ns() - t0) / steps;
	for (i = 0; i < WINDOW; i++)
		A->free(win[i]);
	return c0 / steps;
}

/* ns per alloc+free pair of @size bytes. */
static double pairs(size_t size, unsigned int n)
{
	unsigned int i;
	double t0 = now_ns();

	for (i = 0; i < n; i++) {
		void *p = A->alloc(size);

		__asm__ volatile("" : : "r"(p) : "memory");
		A->free(p);
	}
	return (now_ns() - t0) / n;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* TSC ticks per ns, against CLOCK_MONOTONIC. */
static double tsc_per_ns(void)
{
	double t0 = now_ns(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do
		t1 = now_ns();
	while (t1 - t0 < 20e6);
	c1 = __rdtsc();
	return (double)(c1 - c0) / (t1 - t0);
}

/*
 * Worst case: per-operation latency over 1M operations on a fragmented
 * heap (20000 slots of 16 B .. 4 KiB, every other one freed, then random
 * slots toggled).  The timer's own cost (median) is measured and subtracted.
 * Writes the sorted latencies (ns) of every 100th operation to @file.
 */
static void latency(const char *file)
{
	enum { N = 1000000, LIVE = 20000 };
	static void *live[LIVE];
	static uint64_t t[N];
	unsigned int i, aux;
	uint64_t floor;
	double f = tsc_per_ns();
	FILE *out;

	/*
	 * The timer's own cost: the median of back-to-back reads (this
	 * guest's TSC advances in steps of ~25 ticks, so the minimum is one
	 * step below what a read pair usually costs).
	 */
	for (i = 0; i < 100001; i++) {
		uint64_t t0 = __rdtscp(&aux), t1 = __rdtscp(&aux);

		t[i] = t1 - t0;
	}
	qsort(t, 100001, sizeof(t[0]), cmp_u64);
	floor = t[50000];
	lcg = 7;
	for (i = 0; i < LIVE; i++)
		live[i] = A->alloc(log_size(4, 12));
	for (i = 0; i < LIVE; i += 2) {		/* holes everywhere */
		A->free(live[i]);
		live[i] = NULL;
	}
	for (i = 0; i < N; i++) {
		uint32_t v = rnd() % LIVE;
		size_t sz = log_size(4, 12);
		uint64_t t0;

		t0 = __rdtscp(&aux);
		if (live[v]) {
			A->free(live[v]);
			live[v] = NULL;
		} else {
			live[v] = A->alloc(sz);
		}
		t[i] = __rdtscp(&aux) - t0;
		t[i] = t[i] > floor ? t[i] - floor : 0;
	}
	for (i = 0; i < LIVE; i++)
		if (live[i])
			A->free(live[i]);
	qsort(t, N, sizeof(t[0]), cmp_u64);
	printf("latency_%s_p50_ns: %.1f\nlatency_%s_p99_ns: %.1f\n"
	       "latency_%s_p999_ns: %.1f\nlatency_%s_max_ns: %.1f\n"
	       "latency_%s_p999_over_p50: %.2f\nlatency_%s_timer_floor_ns: %.1f\n",
	       A->name, t[N / 2] / f, A->name, t[N * 99 / 100] / f,
	       A->name, t[N * 999 / 1000] / f, A->name, t[N - 1] / f,
	       A->name, (double)t[N * 999 / 1000] / (double)(t[N / 2] ? t[N / 2] : 1),
	       A->name, floor / f);
	out = fopen(file, "w");
	if (!out)
		return;
	for (i = 0; i < N; i += 100)
		fprintf(out, "%.5f %.1f\n", (double)i / N, t[i] / f);
	fprintf(out, "1.0 %.1f\n", t[N - 1] / f);
	fclose(out);
}

/*
 * Larson-like: one thread, a rolling window of 5000 live blocks of 8 ..
 * 1000 B.  ns per step, and (where the allocator can tell) its peak
 * footprint over the peak of live bytes.
 */
static void larson(void)
{
	enum { LIVE = 5000, N = 2000000 };
	static void *blk[LIVE];
	static size_t sz[LIVE];
	uint64_t live = 0, peak_live = 0;
	unsigned int i;
	double t0;

	lcg = 11;
	t0 = now_ns();
	for (i = 0; i < N; i++) {
		unsigned int v = rnd() % LIVE;

		if (blk[v]) {
			A->free(blk[v]);
			live -= sz[v];
		}
		sz[v] = 8 + rnd() % 993;
		blk[v] = A->alloc(sz[v]);
		live += sz[v];
		if (live > peak_live)
			peak_live = live;
	}
	t0 = now_ns() - t0;
	printf("larson_%s_ns: %.1f\n", A->name, t0 / N);
	if (A->footprint)
		printf("larson_%s_peak_over_live: %.3f\n", A->name,
		       (double)A->footprint() / (double)peak_live);
	for (i = 0; i < LIVE; i++)
		if (blk[i])
			A->free(blk[i]);
}

/* ---- phase trace: memory given back ------------------------------------- */

/* Resident bytes now (VmRSS) or at the process's peak (VmHWM). */
static uint64_t proc_kb(const char *key)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			kb = strtoull(line + strlen(key), NULL, 10);
	fclose(f);
	return kb << 10;
}

#if !defined(PEER_JEMALLOC) && !defined(PEER_MIMALLOC)
static uint64_t heap_segment_bytes(void)
{
	struct hm_heap_stats st;

	if (!hap)
		return 0;
	hm_heap_stats(hap, &st);
	return st.core.total_bytes;
}
#else
static uint64_t heap_segment_bytes(void) { return 0; }
#endif

#define PH_MAX	(1u << 20)
static void *ph_blk[PH_MAX];
static uint32_t ph_sz[PH_MAX];
static unsigned int ph_n;
static uint64_t ph_live, ph_peak_live, ph_seg_peak;
static double ph_pinned_max;

static void ph_alloc(size_t size)
{
	void *p;

	if (ph_n == PH_MAX)
		return;
	p = A->alloc(size);
	if (!p)
		return;
	memset(p, 0x5a, size);		/* resident, as a program's data is */
	ph_blk[ph_n] = p;
	ph_sz[ph_n++] = (uint32_t)size;
	ph_live += size;
	if (ph_live > ph_peak_live)
		ph_peak_live = ph_live;
}

static void ph_free(unsigned int i)
{
	A->free(ph_blk[i]);
	ph_live -= ph_sz[i];
	ph_blk[i] = ph_blk[--ph_n];
	ph_sz[i] = ph_sz[ph_n];
}

static void ph_sample(void)
{
	uint64_t seg = heap_segment_bytes();

	if (seg > ph_seg_peak)
		ph_seg_peak = seg;
}

/*
 * MiB of the 4 KiB pages that hold at least one byte of a live block: the
 * least RSS any allocator that does not move blocks can have with the
 * blocks where this one put them.  Diagnostic (PH_PINNED=1): its own
 * array would count in the RSS figures.
 */
static double ph_pinned_mib(void)
{
	uint64_t *pg, n = 0, u = 0, i;

	pg = malloc(sizeof(*pg) * (ph_n * 2 + 16 + (ph_live >> 12)));
	if (!pg)
		return 0;
	for (i = 0; i < ph_n; i++) {
		uint64_t a = (uintptr_t)ph_blk[i] >> 12, b = ((uintptr_t)ph_blk[i] + ph_sz[i] - 1) >> 12;

		while (a <= b)
			pg[n++] = a++;
	}
	qsort(pg, n, sizeof(*pg), cmp_u64);
	for (i = 0; i < n; i++)
		u += !i || pg[i] != pg[i - 1];
	free(pg);
	return u * 4096.0 / 1048576.0;
}

/*
 * After each phase: RSS and segment bytes over the bytes live, and the
 * backend's grow/release calls so far (information: where a miss is).
 */
static uint64_t ph_base;
static unsigned int ph_no;
static double ph_t0;

static void ph_report(void)
{
	uint64_t rss = proc_kb("VmRSS:");

	ph_no++;
	printf("phases_%s_p%u_ms: %.1f\n", A->name, ph_no, (now_ns() - ph_t0) / 1e6);
	printf("phases_%s_p%u_live_mib: %.2f\n", A->name, ph_no, ph_live / 1048576.0);
	if (getenv("PH_PINNED")) {	/* its array would add to the RSS measured */
		double pinned = ph_pinned_mib();

		printf("phases_%s_p%u_pinned_mib: %.2f\n", A->name, ph_no, pinned);
		if (pinned > ph_pinned_max)
			ph_pinned_max = pinned;
	}
	printf("phases_%s_p%u_rss_mib: %.2f\n", A->name, ph_no,
	       (rss > ph_base ? rss - ph_base : 0) / 1048576.0);
	/* The peak so far: the phase in which the key's peak RSS is reached. */
	printf("phases_%s_p%u_hwm_mib: %.2f\n", A->name, ph_no,
	       (proc_kb("VmHWM:") - ph_base) / 1048576.0);
#if !defined(PEER_JEMALLOC) && !defined(PEER_MIMALLOC)
	/* The backend's counters: reading them does not touch the heap. */
	if (hap_ctx) {
		struct hm_backend_host_counters n;

		hm_backend_host_counters(hap_ctx, &n);
		printf("phases_%s_p%u_segment_mib: %.2f\n", A->name, ph_no, n.live_bytes / 1048576.0);
		printf("phases_%s_p%u_grows: %llu\n", A->name, ph_no, (unsigned long long)n.grows);
		printf("phases_%s_p%u_releases: %llu\n", A->name, ph_no, (unsigned long long)n.releases);
		printf("phases_%s_p%u_discards: %llu\n", A->name, ph_no, (unsigned long long)n.discards);
	}
#endif
	ph_t0 = now_ns();
}

/* Free a random @pct % of the live blocks. */
static void ph_release(unsigned int pct)
{
	unsigned int k = (unsigned int)((uint64_t)ph_n * pct / 100);

	ph_sample();
	while (k--)
		ph_free(rnd() % ph_n);
}

static void ph_grow(uint64_t target, unsigned int lo_bits, unsigned int hi_bits)
{
	while (ph_live < target && ph_n < PH_MAX)
		ph_alloc(log_size(lo_bits, hi_bits));
	ph_sample();
}

static void ph_churn(unsigned int steps, unsigned int lo_bits, unsigned int hi_bits)
{
	while (steps--) {
		ph_free(rnd() % ph_n);
		ph_alloc(log_size(lo_bits, hi_bits));
	}
	ph_sample();
}

/*
 * The 8-phase trace: growth (16 B .. 4 KiB to 64 MiB live), churn, release
 * of 80 %, regrowth with larger blocks (4 .. 64 KiB) to 64 MiB, churn of
 * both sizes, release of 95 %, small-object regrowth (16 .. 256 B) to 32
 * MiB, and free-all.  Every block is written whole.  Peak RSS (VmHWM)
 * and the RSS after free-all are taken relative to the RSS before the
 * trace (the harness's arrays already resident).
 */
static void phases(void)
{
	uint64_t base, hwm, end, end_seg;
	unsigned int i;

	lcg = 13;
	memset(ph_blk, 0, sizeof(ph_blk));
	memset(ph_sz, 0, sizeof(ph_sz));
	base = proc_kb("VmRSS:");
	ph_base = base;
	ph_no = 0;
	ph_pinned_max = 0;
	ph_t0 = now_ns();
	ph_grow(64 << 20, 4, 12);		/* 1 growth */
	ph_report();
	ph_churn(300000, 4, 12);		/* 2 churn */
	ph_report();
	ph_release(80);				/* 3 release 80 % */
	ph_report();
	ph_grow(64 << 20, 12, 16);		/* 4 regrowth, larger blocks */
	ph_report();
	for (i = 0; i < 200000; i++) {		/* 5 churn, both sizes, at 64 MiB */
		while (ph_live > 64 << 20)
			ph_free(rnd() % ph_n);
		ph_alloc(rnd() % 2 ? log_size(4, 12) : log_size(12, 16));
	}
	ph_report();
	ph_release(95);				/* 6 release 95 % */
	ph_report();
	ph_grow(32 << 20, 4, 8);		/* 7 small-object regrowth */
	ph_report();
	ph_release(100);			/* 8 free-all */
	ph_report();
	end_seg = heap_segment_bytes();
	hwm = proc_kb("VmHWM:");
	end = proc_kb("VmRSS:");
	printf("phases_%s_peak_live_bytes: %llu\n", A->name, (unsigned long long)ph_peak_live);
	printf("phases_%s_peak_rss_bytes: %llu\n", A->name, (unsigned long long)(hwm - base));
	printf("phases_%s_rss_over_live: %.3f\n", A->name, (double)(hwm - base) / ph_peak_live);
	/*
	 * A floor under the key with these placements: the most pages
	 * holding a live byte at a phase's end, over the peak live bytes
	 * (resident at that moment whatever the release policy).
	 */
	if (ph_pinned_max > 0)
		printf("phases_%s_pinned_floor: %.3f\n", A->name,
		       ph_pinned_max * 1048576.0 / ph_peak_live);
	printf("phases_%s_rss_after_free_all_bytes: %llu\n", A->name,
	       (unsigned long long)(end > base ? end - base : 0));
	printf("phases_%s_release_pct: %.1f\n", A->name,
	       100.0 * (1 - (double)(end > base ? end - base : 0) / (double)(hwm - base)));
	if (ph_seg_peak)
		printf("phases_%s_segments_released_pct: %.1f\n", A->name,
		       100.0 * (1 - (double)end_seg / (double)ph_seg_peak));
}

/* ---- two-thread producer/consumer ---------------------------------------- */

#define XT_BATCH	256u
#define XT_SLOTS	8u
#define XT_N		(4000000u / XT_BATCH)	/* batches */
static void *xt_blocks[XT_SLOTS][XT_BATCH];
static atomic_uint xt_full[XT_SLOTS];

/* Spin a while (the other thread is running), then let it run. */
static void xt_wait(unsigned int *spins)
{
	if (++*spins < 2000) {
		_mm_pause();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static double xt_free_cpu;	/* consumer: CPU ns in its free loops */
static const char *xt_tag = "";	/* "", "same_cpu_" or "split_cpu_" */
static int xt_cpu[2] = { -1, -1 };	/* producer's and consumer's CPU, -1: any */

static void xt_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "xthread: cannot pin to CPU %d\n", cpu);
}

static void *xt_consumer(void *arg)
{
	unsigned int i, j;
	double sum = 0;

	(void)arg;
	xt_pin(xt_cpu[1]);
	for (i = 0; i < XT_N; i++) {
		unsigned int k = i % XT_SLOTS, spins = 0;
		double c0;

		while (!atomic_load_explicit(&xt_full[k], memory_order_acquire))
			xt_wait(&spins);
		c0 = cpu_ns();
		for (j = 0; j < XT_BATCH; j++)
			A->free(xt_blocks[k][j]);
		sum += cpu_ns() - c0;
		atomic_store_explicit(&xt_full[k], 0, memory_order_release);
	}
	xt_free_cpu = sum;
	return NULL;
}

/*
 * One thread allocates blocks of 16 B .. 1 KiB and hands them, in batches
 * of 256 through 8 slots, to another, which frees them: every free is a
 * free from another thread, and the hand-over costs little per block.
 * Blocks (million) per second of CPU time spent in the allocation and
 * free loops (each thread's CPU clock around each batch: waits for the
 * other thread, spinning or preempted, do not count), and per second of
 * wall time (hand-over waits and preemption included) beside it.
 * @pin: "" the scheduler places the threads; "same" both on CPU 0 (they
 * take turns: the allocator's own work, no cache line crosses cores);
 * "split" producer on CPU 0, consumer on CPU 1 (every remote free pulls
 * the block's and the slab's lines across cores).
 */
static void xthread(const char *pin)
{
	pthread_t t;
	unsigned int i, j;
	double t0, alloc_cpu = 0;

	if (!strcmp(pin, "same")) {
		xt_tag = "same_cpu_";
		xt_cpu[0] = xt_cpu[1] = 0;
	} else if (!strcmp(pin, "split")) {
		xt_tag = "split_cpu_";
		xt_cpu[0] = 0;
		xt_cpu[1] = 1;
	}
	xt_pin(xt_cpu[0]);
	lcg = 17;
	t0 = now_ns();
	pthread_create(&t, NULL, xt_consumer, NULL);
	for (i = 0; i < XT_N; i++) {
		unsigned int k = i % XT_SLOTS, spins = 0;
		double c0;

		while (atomic_load_explicit(&xt_full[k], memory_order_acquire))
			xt_wait(&spins);
		c0 = cpu_ns();
		for (j = 0; j < XT_BATCH; j++) {
			void *p = A->alloc(log_size(4, 10));

			*(volatile char *)p = 1;
			xt_blocks[k][j] = p;
		}
		alloc_cpu += cpu_ns() - c0;
		atomic_store_explicit(&xt_full[k], 1, memory_order_release);
	}
	pthread_join(t, NULL);
	printf("xthread_%s%s_mblocks_per_s: %.2f\n", xt_tag, A->name,
	       (double)XT_N * XT_BATCH / (alloc_cpu + xt_free_cpu) * 1e3);
	if (*xt_tag)
		return;
	printf("xthread_%s_alloc_cpu_ns: %.2f\n", A->name, alloc_cpu / ((double)XT_N * XT_BATCH));
	printf("xthread_%s_free_cpu_ns: %.2f\n", A->name, xt_free_cpu / ((double)XT_N * XT_BATCH));
	printf("xthread_%s_wall_mblocks_per_s: %.2f\n", A->name,
	       (double)XT_N * XT_BATCH / (now_ns() - t0) * 1e3);
#if !defined(PEER_JEMALLOC) && !defined(PEER_MIMALLOC)
	if (hap_ctx) {
		struct hm_backend_host_counters n;

		hm_backend_host_counters(hap_ctx, &n);
		printf("xthread_%s_backend_grows: %llu\n", A->name, (unsigned long long)n.grows);
		printf("xthread_%s_backend_releases: %llu\n", A->name, (unsigned long long)n.releases);
		printf("xthread_%s_backend_discards: %llu\n", A->name, (unsigned long long)n.discards);
	}
#endif
}

#if !defined(PEER_JEMALLOC) && !defined(PEER_MIMALLOC)
/*
 * Stress (after Zephyr's sys_heap stress test): fixed-seed LCRNG, sizes
 * log-distributed over 1 B .. 4 KiB, at most 4096 live blocks, target fill
 * @pct of a 1 MiB budget.  Returns success % over non-zero requests.
 *
 * core: the segment is 1 MiB minus the core's metadata, measured as its
 * peak in a first run, so metadata and blocks share the same 1 MiB.
 * hap/hap-compact: the HAP heap on the host backend limited to 1 MiB
 * (its metadata is outside the budget; reported beside it).
 */
/* Live blocks: 1 MiB holds at most 65536 blocks of one granule. */
#define STRESS_MAXBLK	65536u
static double stress_meta_per_block;	/* core: mean of meta bytes / live blocks, sampled */

/*
 * In-band (core), two ways of taking the metadata's memory out of the
 * same 1 MiB as the blocks:
 *  - bytes (the key): an allocation fails when the live blocks' bytes
 *    plus meta_bytes would pass 1 MiB;
 *  - chunks (information, inband_chunks): the metadata is held in
 *    META_CHUNK blocks allocated from the core itself (what an in-band
 *    build growing its pools from the heap would do), so it also costs
 *    the fragmentation a block costs, and an allocation fails when the
 *    chunks cannot follow it.
 */
#define META_CHUNK	1024u
static uintptr_t meta_chunk[(1 << 20) / META_CHUNK];
static unsigned int meta_chunks;
static bool inband_chunks;

/* Hold chunks for all of meta_bytes (one spare at most); -1 if the 1 MiB cannot. */
static int meta_fit(void)
{
	struct hm_core_stats st;
	uintptr_t a;

	for (;;) {
		hm_core_stats(core, &st);
		if ((uint64_t)meta_chunks * META_CHUNK >= st.meta_bytes + 2 * META_CHUNK) {
			hm_core_free(core, meta_chunk[--meta_chunks]);
			continue;
		}
		if ((uint64_t)meta_chunks * META_CHUNK >= st.meta_bytes)
			return 0;
		if (meta_chunks == sizeof(meta_chunk) / sizeof(meta_chunk[0]) ||
		    hm_core_alloc(core, META_CHUNK, 0, &a))
			return -1;
		meta_chunk[meta_chunks++] = a;
	}
}

static void stress_run(unsigned int pct, size_t seg_len, unsigned int maxlive, double *success,
		       double *fill, uint64_t *meta_peak, double *peak_ratio)
{
	enum { N = 500000 };
	static void *blk[STRESS_MAXBLK];
	static size_t sz[STRESS_MAXBLK];
	uint64_t live = 0, tries = 0, ok = 0, fill_sum = 0, peak_live = 0, samples = 0;
	double per_block = 0;
	unsigned int n = 0, i;
	void *ctx = NULL;
	uintptr_t base = 0;
	struct hm_core_stats st;

	if (core) {
		hm_core_destroy(core);
		core = NULL;
	}
	if (hap) {
		hm_heap_destroy(hap);
		hm_backend_host_ctx_free(hap_ctx);
		hap = NULL;
	}
	if (!strcmp(A->name, "core")) {
		base = (uintptr_t)mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		core = hm_core_create();
		hm_core_set_cache_limit(core, 0);	/* compact: no parked blocks */
		hm_core_add_segment(core, base, 0, seg_len, 0);
		meta_chunks = 0;
		if (inband_chunks && meta_fit()) {
			fprintf(stderr, "alloc_bench: metadata does not fit in the segment\n");
			exit(1);
		}
	} else {
		ctx = hap_ctx = hm_backend_host_ctx_new();
		hm_backend_host_set_limit(ctx, 1 << 20);
		hap = hm_heap_create(&hm_backend_host, ctx);
		hm_heap_set_grow_size(hap, 0, 0);
		hm_heap_set_front_end(hap, !strcmp(A->name, "hap"));
	}
	*meta_peak = 0;
	lcg = 42;
	for (i = 0; i < N; i++) {
		if (n && (live * 100 >= (uint64_t)pct << 20 || n == maxlive || rnd() % 4 == 0)) {
			unsigned int v = rnd() % n;

			A->free(blk[v]);
			live -= sz[v];
			blk[v] = blk[--n];
			sz[v] = sz[n];
			if (core && inband_chunks)
				meta_fit();	/* a free may grow the metadata too */
		} else {
			size_t s = rnd() & ((2u << (rnd() % 12)) - 1);	/* 0 .. 4 KiB, log */

			if (!s)
				continue;
			tries++;
			blk[n] = A->alloc(s);
			if (blk[n] && core && maxlive == STRESS_MAXBLK) {
				/* In-band: no room for the metadata (bytes or chunks). */
				hm_core_stats(core, &st);
				if (inband_chunks ? meta_fit() != 0 :
				    st.used_bytes + st.meta_bytes > 1 << 20) {
					A->free(blk[n]);
					blk[n] = NULL;
				}
			}
			if (blk[n]) {
				ok++;
				sz[n++] = s;
				live += s;
				if (live > peak_live)
					peak_live = live;
			}
		}
		fill_sum += live;
		if (core && (i & 63) == 0) {
			hm_core_stats(core, &st);
			if (st.meta_bytes > *meta_peak)
				*meta_peak = st.meta_bytes;
			if (st.live_blocks > meta_chunks) {
				per_block += (double)st.meta_bytes / (st.live_blocks - meta_chunks);
				samples++;
			}
		}
	}
	stress_meta_per_block = samples ? per_block / samples : 0;
	*success = 100.0 * ok / tries;
	*fill = 100.0 * fill_sum / N / (1 << 20);
	*peak_ratio = (double)A->footprint() / (double)peak_live;
	while (n)
		A->free(blk[--n]);
	while (core && meta_chunks)
		hm_core_free(core, meta_chunk[--meta_chunks]);
	if (core) {
		hm_core_stats(core, &st);
		if (st.meta_bytes > *meta_peak)
			*meta_peak = st.meta_bytes;
		hm_core_destroy(core);
		core = NULL;
		munmap((void *)base, 1 << 20);
	}
}

/*
 * @maxlive 4096: the historical stress (live blocks capped; for core the
 * segment is 1 MiB minus the metadata's peak, measured in a first run).
 * In-band (@maxlive STRESS_MAXBLK, core only): no cap; an allocation
 * fails when the bytes of the live blocks plus the core's metadata would
 * pass 1 MiB, so what limits the live blocks is the 1 MiB that holds
 * them and their metadata.  Then again with the metadata held in blocks
 * of the same segment (inband_chunks, "_inband_chunked" figures).
 */
static void stress(unsigned int pct, unsigned int maxlive)
{
	const char *tag = maxlive == STRESS_MAXBLK ? "_inband" : "";
	double success, fill, ratio;
	uint64_t meta, meta2;
	size_t reserve = 0;

	if (!strcmp(A->name, "core") && maxlive == STRESS_MAXBLK) {
		/*
		 * No live-block cap: metadata grows with the block count, so
		 * it is charged as it goes (stress_run()), not reserved.
		 */
		inband_chunks = true;
		stress_run(pct, 1 << 20, maxlive, &success, &fill, &meta, &ratio);
		printf("stress%u_inband_chunked_%s_meta_bytes: %llu\n", pct, A->name,
		       (unsigned long long)meta);
		printf("stress%u_inband_chunked_%s_meta_bytes_per_block: %.1f\n", pct, A->name,
		       stress_meta_per_block);
		printf("stress%u_inband_chunked_%s_success_pct: %.1f\n", pct, A->name, success);
		inband_chunks = false;
		stress_run(pct, 1 << 20, maxlive, &success, &fill, &meta, &ratio);
		printf("stress%u%s_%s_meta_bytes: %llu\n", pct, tag, A->name, (unsigned long long)meta);
		printf("stress%u%s_%s_meta_bytes_per_block: %.1f\n", pct, tag, A->name,
		       stress_meta_per_block);
	} else if (!strcmp(A->name, "core")) {
		stress_run(pct, 1 << 20, maxlive, &success, &fill, &meta, &ratio);
		reserve = (meta + 4095) & ~(size_t)4095;
		stress_run(pct, (1 << 20) - reserve, maxlive, &success, &fill, &meta2, &ratio);
		printf("stress%u%s_%s_meta_bytes: %llu%s\n", pct, tag, A->name,
		       (unsigned long long)meta2, meta2 > reserve ? " (EXCEEDS RESERVE)" : "");
		printf("stress%u%s_%s_meta_bytes_per_block: %.1f\n", pct, tag, A->name,
		       stress_meta_per_block);
	} else {
		stress_run(pct, 0, maxlive, &success, &fill, &meta, &ratio);
	}
	printf("stress%u%s_%s_success_pct: %.1f\n", pct, tag, A->name, success);
	printf("stress%u%s_%s_avg_fill_pct: %.1f\n", pct, tag, A->name, fill);
	printf("stress%u%s_%s_peak_over_live: %.3f\n", pct, tag, A->name, ratio);
}
#endif

int main(int argc, char **argv)
{
	const char *w = argc > 2 ? argv[2] : "";
	const char *arg = argc > 3 ? argv[3] : "";

	if (argc < 3) {
		fprintf(stderr, "usage: %s ALLOCATOR WORKLOAD [ARG]\n", argv[0]);
		return 2;
	}
	setup(argv[1]);
	if (!strcmp(w, "pairs")) {
		double best = 1e30, x;
		int r;

		for (r = 0; r < 3; r++)
			if ((x = pairs(strtoul(arg, NULL, 0), 2000000)) < best)
				best = x;
		printf("pairs_%s_%s_ns: %.2f\n", A->name, arg, best);
	} else if (!strcmp(w, "mixed")) {
		double best = 1e30, wall = 1e30, x;
		int r;

		/* CPU time per step, the best of 3 runs (the wall clock's beside it). */
		prepare_mixed(STEPS);
		for (r = 0; r < 3; r++) {
			if ((x = mixed(arg, STEPS)) < best)
				best = x;
			if (mixed_wall_ns < wall)
				wall = mixed_wall_ns;
		}
		printf("mixed_%s_%s_ns: %.2f\n", arg, A->name, best);
		printf("mixed_%s_%s_wall_ns: %.2f\n", arg, A->name, wall);
	} else if (!strcmp(w, "cg-pairs")) {
		pairs(strtoul(arg, NULL, 0), 100000);
		printf("ops: %u\n", 200000);
	} else if (!strcmp(w, "cg-mixed")) {
		prepare_mixed(200000);
		mixed("random", 200000);
		printf("ops: %u\n", 2 * (200000 + WINDOW));
	} else if (!strcmp(w, "larson")) {
		larson();
	} else if (!strcmp(w, "phases")) {
		phases();
	} else if (!strcmp(w, "xthread")) {
		xthread(arg);
	} else if (!strcmp(w, "latency")) {
		latency(arg);
#if !defined(PEER_JEMALLOC) && !defined(PEER_MIMALLOC)
	} else if (!strcmp(w, "stress")) {
		stress((unsigned int)strtoul(arg, NULL, 0), 4096);
	} else if (!strcmp(w, "stress-inband")) {
		stress((unsigned int)strtoul(arg, NULL, 0), STRESS_MAXBLK);
#endif
	} else {
		fprintf(stderr, "alloc_bench: unknown workload %s\n", w);
		return 2;
	}
	return 0;
}
