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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "footprint"))
		footprint();
	else if (argc == 2 && !strcmp(argv[1], "latency"))
		latency();
	else {
		fprintf(stderr, "usage: %s footprint|latency\n", argv[0]);
		return 2;
	}
	return 0;
}
