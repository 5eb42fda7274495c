// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the HAP heap's front end spends its footprint and its latency
 * tail (a diagnostic, not part of `make bench`; it reads heap internals).
 *
 *   make bench-build        (builds it with the benchmarks)
 *   build/bench/heap_probe footprint   larson-like workload (as alloc_bench):
 *                                      per class, at the peak of slab bytes,
 *                                      slabs, slab bytes, slot bytes in use,
 *                                      requested bytes and stranded bytes
 *   build/bench/heap_probe latency     alloc_bench's fragmented-heap latency
 *                                      loop, each operation tagged with the
 *                                      path it took (fast, refill from a
 *                                      partial or spare slab, new slab from
 *                                      the core, a release of empty slabs):
 *                                      percentiles per path, in TSC ticks
 *                                      after the median timer cost, and how
 *                                      many of the ops above the overall
 *                                      p99.9 each path holds
 *   build/bench/heap_probe phases      alloc_bench's phase trace on the
 *                                      default heap: after each phase (and
 *                                      every 500 steps of the early churn
 *                                      phase 5), the heap's resident pages
 *                                      by what they hold: a byte of a live
 *                                      block (pinned), only free slots of
 *                                      a slab, only free core memory
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "heap/backend_host.h"
#include "heap/tcache.h"

static uint64_t lcg;

static uint32_t rnd(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(lcg >> 33);
}

static size_t log_size(unsigned int lo, unsigned int hi)
{
	unsigned int b = lo + rnd() % (hi - lo);

	return ((size_t)1 << b) + (rnd() & ((1u << b) - 1));
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static struct hm_heap *heap_new(void)
{
	struct hm_heap *h = hm_heap_create(&hm_backend_host, hm_backend_host_ctx_new());

	if (!h)
		exit(1);
	hm_heap_set_grow_size(h, 64 << 20, 64 << 20);
	hm_heap_set_front_end(h, true);
	return h;
}

/* ---- footprint ------------------------------------------------------------ */

struct snap {
	uint64_t slab_bytes[HM_TC_NCLASSES], used[HM_TC_NCLASSES], req[HM_TC_NCLASSES], nslab[HM_TC_NCLASSES];
	uint64_t live;
};

static void footprint(void)
{
	enum { LIVE = 5000, N = 2000000 };
	static void *blk[LIVE];
	static size_t sz[LIVE];
	static uint8_t cl[LIVE];
	static struct snap best;
	struct hm_heap *h = heap_new();
	uint64_t live = 0, peak_live = 0, peak_slab = 0, reqc[HM_TC_NCLASSES] = { 0 };
	uint64_t ts = 0, tu = 0, tr = 0;
	struct hm_heap_stats st;
	struct hm_slab *s;
	unsigned int i, c;

	lcg = 11;
	for (i = 0; i < N; i++) {
		unsigned int v = rnd() % LIVE;

		if (blk[v]) {
			hm_heap_free(h, blk[v]);
			live -= sz[v];
			reqc[cl[v]] -= sz[v];
		}
		sz[v] = 8 + rnd() % 993;
		blk[v] = hm_heap_malloc(h, sz[v]);
		live += sz[v];
		cl[v] = hm_class_of[(sz[v] + 15) >> 4];
		reqc[cl[v]] += sz[v];
		if (live > peak_live)
			peak_live = live;
		if (h->slab_bytes <= peak_slab)
			continue;
		peak_slab = h->slab_bytes;
		memset(&best, 0, sizeof(best));
		for (s = h->slabs; s; s = s->all_next) {
			uint64_t nfree = (uint64_t)__builtin_popcountll(HM_TC_LOAD(&s->free));

			best.slab_bytes[s->cls] += s->bytes;
			best.used[s->cls] += (s->nslots - nfree) * s->bsize;
			best.nslab[s->cls]++;
		}
		memcpy(best.req, reqc, sizeof(reqc));
		best.live = live;
	}
	hm_heap_stats(h, &st);
	printf("peak live %llu B, peak footprint %llu B: %.3f (live at the slab peak %llu B)\n",
	       (unsigned long long)peak_live, (unsigned long long)st.core.peak_used_bytes,
	       (double)st.core.peak_used_bytes / (double)peak_live, (unsigned long long)best.live);
	printf("class  size slabs  slab_KiB  used_KiB   req_KiB  stranded_KiB\n");
	for (c = 0; c < HM_TC_NCLASSES; c++) {
		if (!best.nslab[c] && !best.req[c])
			continue;
		printf("%5u %5u %5llu %9.1f %9.1f %9.1f %13.1f\n", c, hm_class_size[c],
		       (unsigned long long)best.nslab[c], best.slab_bytes[c] / 1024.,
		       best.used[c] / 1024., best.req[c] / 1024.,
		       (best.slab_bytes[c] - best.used[c]) / 1024.);
		ts += best.slab_bytes[c];
		tu += best.used[c];
		tr += best.req[c];
	}
	printf("total: slabs %.1f KiB, slots in use %.1f KiB, requested %.1f KiB: "
	       "class rounding %.3f, stranded free slots %.3f\n",
	       ts / 1024., tu / 1024., tr / 1024., (double)tu / (double)tr, (double)ts / (double)tu);
	printf("(used is by slab class, requested by request class: borrowing moves blocks up)\n");
}

/* ---- latency -------------------------------------------------------------- */

enum { LN = 1000000, LLIVE = 20000, NPATH = 7 };
static const char *const path_name[NPATH] = {
	"alloc fast", "alloc refill (partial/spare)", "alloc new slab (core)",
	"free", "free full->partial", "free releasing slabs", "other",
};
static uint64_t lt[LN], sorted[LN], per[LN];
static uint8_t path[LN];

static void latency(void)
{
	static void *live[LLIVE];
	struct hm_heap *h = heap_new();
	unsigned int aux, i, k;
	uint64_t floor, p999;

	for (i = 0; i < 100001; i++) {
		uint64_t a = __rdtscp(&aux), b = __rdtscp(&aux);

		lt[i] = b - a;
	}
	qsort(lt, 100001, sizeof(lt[0]), cmp_u64);
	floor = lt[50000];
	lcg = 7;
	for (i = 0; i < LLIVE; i++)
		live[i] = hm_heap_malloc(h, log_size(4, 12));
	for (i = 0; i < LLIVE; i += 2) {
		hm_heap_free(h, live[i]);
		live[i] = NULL;
	}
	for (i = 0; i < LN; i++) {
		uint32_t v = rnd() % LLIVE;
		size_t sz = log_size(4, 12);
		uint64_t ns0 = h->nslabs, t0;
		struct hm_tcache *tc = hm_tls_cur.tc;
		unsigned int c = hm_class_of[(sz + 15) >> 4];
		struct hm_slab *act0 = tc->bin[c].active, *fs;
		void *freed = live[v];

		/*
		 * Nothing of the block's slab is read before the timed
		 * operation (that would warm the cache for it): a free is
		 * classified afterwards, from the slab's word.
		 */
		t0 = __rdtscp(&aux);
		if (live[v]) {
			hm_heap_free(h, live[v]);
			live[v] = NULL;
		} else {
			live[v] = hm_heap_malloc(h, sz);
		}
		lt[i] = __rdtscp(&aux) - t0;
		lt[i] = lt[i] > floor ? lt[i] - floor : 0;
		if (live[v])
			path[i] = h->nslabs > ns0 ? 2 : !hm_slab_lookup((uintptr_t)live[v]) ? 6 :
				  tc->bin[c].active != act0 ? 1 : 0;
		else if (h->nslabs < ns0)
			path[i] = 5;
		else if (!(fs = hm_slab_lookup((uintptr_t)freed)))
			path[i] = 6;
		else
			path[i] = fs->state == SLAB_PARTIAL &&
				  __builtin_popcountll(HM_TC_LOAD(&fs->free)) == 1 ? 4 : 3;
	}
	memcpy(sorted, lt, sizeof(lt));
	qsort(sorted, LN, sizeof(sorted[0]), cmp_u64);
	p999 = sorted[LN * 999 / 1000];
	printf("TSC ticks after the timer floor (%llu): p50 %llu p99 %llu p99.9 %llu max %llu\n",
	       (unsigned long long)floor, (unsigned long long)sorted[LN / 2],
	       (unsigned long long)sorted[LN * 99 / 100], (unsigned long long)p999,
	       (unsigned long long)sorted[LN - 1]);
	printf("%-30s %8s %6s %6s %7s %8s %10s\n", "path", "ops", "p50", "p99", "p99.9", "max",
	       ">p99.9");
	for (k = 0; k < NPATH; k++) {
		unsigned int n = 0, over = 0;

		for (i = 0; i < LN; i++) {
			if (path[i] != k)
				continue;
			per[n++] = lt[i];
			over += lt[i] > p999;
		}
		if (!n)
			continue;
		qsort(per, n, sizeof(per[0]), cmp_u64);
		printf("%-30s %8u %6llu %6llu %7llu %8llu %10u\n", path_name[k], n,
		       (unsigned long long)per[n / 2], (unsigned long long)per[n * 99 / 100],
		       (unsigned long long)per[n * 999 / 1000], (unsigned long long)per[n - 1], over);
	}
}

/* ---- phases: where the resident pages are ---------------------------------- */

#define PG		4096u
#define PH_MAX		(1u << 20)
static void *ph_blk[PH_MAX];
static uint32_t ph_sz[PH_MAX];
static unsigned int ph_n;
static uint64_t ph_live;
static struct hm_heap *ph_h;

enum { PG_NONE, PG_LIVE, PG_SLAB, PG_FREE, PG_KINDS };

struct ph_seg {
	uintptr_t base;
	size_t len;
	uint8_t *kind;
};

static struct ph_seg ph_seg[256];

static struct ph_seg *seg_of(uintptr_t a)
{
	unsigned int i;

	for (i = 0; i < 256; i++)
		if (ph_seg[i].kind && a >= ph_seg[i].base && a - ph_seg[i].base < ph_seg[i].len)
			return &ph_seg[i];
	return NULL;
}

/* Mark the pages of [a, a + n) as @k unless they hold a live byte. */
static void mark(uintptr_t a, size_t n, uint8_t k)
{
	struct ph_seg *g = seg_of(a);
	uintptr_t p;

	if (!g || !n)
		return;
	for (p = (a - g->base) / PG; p <= (a + n - 1 - g->base) / PG; p++)
		if (g->kind[p] != PG_LIVE)
			g->kind[p] = k;
}

static void visit(const struct hm_block_info *b, void *arg)
{
	struct hm_slab *s = hm_slab_lookup(b->addr);

	(void)arg;
	if (b->seg >= 256)
		return;
	if (!ph_seg[b->seg].kind) {
		uintptr_t base;
		uint64_t dev;
		size_t len;
		uintptr_t handle;

		if (hm_core_segment(ph_h->core, b->seg, &base, &dev, &len, &handle))
			return;
		ph_seg[b->seg] = (struct ph_seg){ .base = base, .len = len,
						   .kind = calloc(len / PG + 1, 1) };
	}
	if (b->state != HM_BLOCK_USED)
		mark(b->addr, b->size, PG_FREE);
	else if (s && s->base == b->addr)
		mark(b->addr, b->size, PG_SLAB);
}

/* Resident MiB by kind: live (holds a live byte), slab free slots, free core memory. */
static void ph_resident(const char *at)
{
	struct hm_core_cursor cur = { 0 };
	uint64_t n[PG_KINDS] = { 0 };
	unsigned int i;
	uintptr_t p;

	for (i = 0; i < 256; i++) {
		free(ph_seg[i].kind);
		ph_seg[i].kind = NULL;
	}
	pthread_mutex_lock(&ph_h->lock);
	while (hm_core_walk(ph_h->core, &cur, 256, visit, NULL))
		;
	pthread_mutex_unlock(&ph_h->lock);
	for (i = 0; i < ph_n; i++)
		mark((uintptr_t)ph_blk[i], ph_sz[i], PG_LIVE);
	/* Pages holding a live byte last: they win over the free marks. */
	for (i = 0; i < 256; i++) {
		struct ph_seg *g = &ph_seg[i];
		unsigned char *v;

		if (!g->kind || !(v = malloc(g->len / PG + 1)))
			continue;
		if (!mincore((void *)g->base, g->len, v))
			for (p = 0; p < g->len / PG; p++)
				if (v[p] & 1)
					n[g->kind[p]]++;
		free(v);
	}
	printf("%-10s live %6.2f MiB  resident: live pages %6.2f  slab-free %6.2f  core-free %6.2f"
	       "  other %5.2f\n", at, ph_live / 1048576.0, n[PG_LIVE] * (PG / 1048576.0),
	       n[PG_SLAB] * (PG / 1048576.0), n[PG_FREE] * (PG / 1048576.0),
	       n[PG_NONE] * (PG / 1048576.0));
}

static void ph_alloc(size_t size)
{
	void *p;

	if (ph_n == PH_MAX || !(p = hm_heap_malloc(ph_h, size)))
		return;
	memset(p, 0x5a, size);
	ph_blk[ph_n] = p;
	ph_sz[ph_n++] = (uint32_t)size;
	ph_live += size;
}

static void ph_free(unsigned int i)
{
	hm_heap_free(ph_h, ph_blk[i]);
	ph_live -= ph_sz[i];
	ph_blk[i] = ph_blk[--ph_n];
	ph_sz[i] = ph_sz[ph_n];
}

static void ph_release(unsigned int pct)
{
	unsigned int k = (unsigned int)((uint64_t)ph_n * pct / 100);

	while (k--)
		ph_free(rnd() % ph_n);
}

static void ph_grow(uint64_t target, unsigned int lo, unsigned int hi)
{
	while (ph_live < target && ph_n < PH_MAX)
		ph_alloc(log_size(lo, hi));
}

/* alloc_bench's phases(), step for step (the same seed and draws). */
static void phases(void)
{
	unsigned int i;
	char at[32];

	ph_h = hm_heap_create_default(&hm_backend_host, hm_backend_host_ctx_new());
	if (!ph_h)
		exit(1);
	lcg = 13;
	ph_grow(64 << 20, 4, 12);
	ph_resident("1 growth");
	for (i = 0; i < 300000; i++) {
		ph_free(rnd() % ph_n);
		ph_alloc(log_size(4, 12));
	}
	ph_resident("2 churn");
	ph_release(80);
	ph_resident("3 release");
	ph_grow(64 << 20, 12, 16);
	ph_resident("4 regrowth");
	for (i = 0; i < 200000; i++) {
		while (ph_live > 64 << 20)
			ph_free(rnd() % ph_n);
		ph_alloc(rnd() % 2 ? log_size(4, 12) : log_size(12, 16));
		if (i && i <= 5000 && i % 500 == 0) {
			snprintf(at, sizeof(at), "5 @%u", i);
			ph_resident(at);
		}
	}
	ph_resident("5 churn");
	ph_release(95);
	ph_resident("6 release");
	ph_grow(32 << 20, 4, 8);
	ph_resident("7 small");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "footprint"))
		footprint();
	else if (argc == 2 && !strcmp(argv[1], "latency"))
		latency();
	else if (argc == 2 && !strcmp(argv[1], "phases"))
		phases();
	else {
		fprintf(stderr, "usage: %s footprint|latency|phases\n", argv[0]);
		return 2;
	}
	return 0;
}
