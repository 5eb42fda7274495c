// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem under contention (run it under TSan too): 8 threads share a
 * few buffers through HAP_mmap / HAP_mmap_get / put / HAP_munmap, and
 * each makes and checks its own apps_mem maps, buffers and reservations.
 * At the end nothing is left, in the library or the simulated kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "test_lib_fake_kernel.h"

#include "HAP_mem.h"
#include "apps_mem.h"
#include "faces/hap_mmap.h"
#include "hapmem_buf.h"

#define THREADS 8
#define ITERS 400
#define SHARED 4
#define SLEN (64 << 10)
#define FAILED ((void *)-1)

static int shared_fd[SHARED];
static void *shared_addr[SHARED];	/* set once by whichever thread maps first */
static pthread_mutex_t addr_lock = PTHREAD_MUTEX_INITIALIZER;

struct worker {
	int id;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned int seed = (unsigned int)w->id * 7919u;
	int i;

	for (i = 0; i < ITERS; i++) {
		int k = rand_r(&seed) % SHARED, fd = shared_fd[k];
		void *a, *v;
		uint64 pa;

		/* shared buffers: every map of a buffer is the same address */
		a = HAP_mmap(NULL, SLEN, HAP_PROT_READ | HAP_PROT_WRITE, 0, fd, 0);
		if (a == FAILED) {
			w->errors++;
			continue;
		}
		pthread_mutex_lock(&addr_lock);
		if (!shared_addr[k])
			shared_addr[k] = a;
		pthread_mutex_unlock(&addr_lock);
		if (HAP_mmap_get(fd, &v, &pa) || v != a)
			w->errors++;
		((volatile char *)a)[w->id] = (char)i;
		if (HAP_mmap_put(fd))
			w->errors++;
		if (HAP_munmap(a, SLEN))
			w->errors++;

		/* private: an apps_mem map, its bytes, its unmap */
		if (i % 4 == 0) {
			uint32 vapps, vadsp;

			if (apps_mem_request_map(0, 1, 0, 0, 8192, &vapps, &vadsp)) {
				w->errors++;
			} else {
				memset((void *)(uintptr_t)vapps, w->id, 8192);
				if (((char *)(uintptr_t)vapps)[8191] != w->id)
					w->errors++;
				if (apps_mem_request_unmap(vadsp, 8192))
					w->errors++;
			}
		}
		/* private: a buffer */
		if (i % 8 == 1) {
			char *b = hapmem_buf_alloc(0, 0, 4096);

			if (!b || hapmem_buf_to_fd(b + 100) < 0 || hapmem_buf_free(b))
				w->errors++;
		}
		/* private: a reservation with a fixed map inside */
		if (i % 16 == 2) {
			HAP_mem_req_payload_t r, m;
			uint64_t base;

			memset(&r, 0, sizeof(r));
			r.request_id = HAP_RESERVE_VA;
			r.reserve.len = 1 << 20;
			if (HAP_mem_request(&r)) {
				w->errors++;
				continue;
			}
			base = r.reserve.dsp_va;
			memset(&m, 0, sizeof(m));
			m.request_id = HAP_MEM_MAP;
			m.mmap.addr = base;
			m.mmap.len = 4096;
			m.mmap.fd = fd;
			m.mmap.prot = HAP_PROT_READ;
			if (HAP_mem_request(&m))
				w->errors++;
			memset(&m, 0, sizeof(m));
			m.request_id = HAP_MEM_UNMAP;
			m.munmap.dsp_va = base;
			m.munmap.len = 4096;
			if (HAP_mem_request(&m))
				w->errors++;
			memset(&r, 0, sizeof(r));
			r.request_id = HAP_UNRESERVE_VA;
			r.unreserve.dsp_va = base;
			r.unreserve.len = 1 << 20;
			if (HAP_mem_request(&r))
				w->errors++;
		}
	}
	return NULL;
}

TEST(contention)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	unsigned int mr, gr;
	int i;

	fake_setup();
	for (i = 0; i < SHARED; i++) {
		shared_fd[i] = fake_new_buf(SLEN);
		ASSERT_LE(0, shared_fd[i]);
	}
	for (i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].errors = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, work, &w[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].errors) {
			TH_LOG("thread %d", i);
		}
	}
	for (i = 0; i < SHARED; i++) {
		EXPECT_EQ(-ENOENT, hm_hap_mmap_refs(shared_fd[i], &mr, &gr, NULL));
		close(shared_fd[i]);
	}
	EXPECT_EQ(0, fake_live(FK_FREE));
	EXPECT_EQ(0, fake_live(FK_RESV));
}

TEST_HARNESS_MAIN
