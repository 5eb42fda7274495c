// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reserved device address ranges through HAP_mem_request, on the real
 * driver: no other map ever lands inside one; a map at a fixed address
 * inside is seen by the device there; overlaps and addresses outside any
 * reservation are refused; unreserving with live maps inside is refused;
 * EXTENDED_MAP gives addresses at or above 4 GiB.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "lib_test.h"

#define FAILED ((void *)-1)
#define RW (HAP_PROT_READ | HAP_PROT_WRITE)
#define RES (8 << 20)

static int reserve(uint64_t len, int flags, uint64_t *va)
{
	HAP_mem_req_payload_t p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.request_id = HAP_RESERVE_VA;
	p.reserve.len = len;
	p.reserve.prot = RW;
	p.reserve.flags = flags;
	ret = HAP_mem_request(&p);
	*va = p.reserve.dsp_va;
	return ret;
}

static int unreserve(uint64_t va, uint64_t len)
{
	HAP_mem_req_payload_t p;

	memset(&p, 0, sizeof(p));
	p.request_id = HAP_UNRESERVE_VA;
	p.unreserve.dsp_va = va;
	p.unreserve.len = len;
	return HAP_mem_request(&p);
}

static int map_at(int fd, uint64_t addr, uint64_t len, uint64_t off, int flags, uint64_t *va)
{
	HAP_mem_req_payload_t p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.request_id = HAP_MEM_MAP;
	p.mmap.addr = addr;
	p.mmap.len = len;
	p.mmap.prot = RW;
	p.mmap.flags = flags;
	p.mmap.fd = fd;
	p.mmap.dsp_pa = off;
	ret = HAP_mem_request(&p);
	*va = p.mmap.dsp_va;
	return ret;
}

static int unmap_at(uint64_t va, uint64_t len)
{
	HAP_mem_req_payload_t p;

	memset(&p, 0, sizeof(p));
	p.request_id = HAP_MEM_UNMAP;
	p.munmap.dsp_va = va;
	p.munmap.len = len;
	return HAP_mem_request(&p);
}

static int outside(uint64_t va, uint64_t len, uint64_t base, uint64_t rlen)
{
	return va + len <= base || va >= base + rlen;
}

FIXTURE(rv) {
	char *buf;
	int fd;
	uint64_t base;
};

FIXTURE_SETUP(rv)
{
	struct hapmem_info info;

	ASSERT_EQ(0, lt_info(&info));
	if (!(info.remote_flags & HAPMEM_REMOTE_FIXED_VA))
		SKIP(return, "remote %s has no IOMMU: no reservations", info.name);
	ASSERT_EQ(0U, info.session_maps);
	self->buf = hapmem_buf_alloc(0, 0, 4 << 20);
	ASSERT_NE(NULL, self->buf);
	self->fd = hapmem_buf_to_fd(self->buf);
	lt_fill(self->buf, 4 << 20, 8);
	ASSERT_EQ(AEE_SUCCESS, reserve(RES, 0, &self->base));
	ASSERT_NE(0U, self->base);
}

FIXTURE_TEARDOWN(rv)
{
	if (!self->buf)
		return;
	EXPECT_EQ(AEE_SUCCESS, unreserve(self->base, RES));
	EXPECT_EQ(0, hapmem_buf_free(self->buf));
	EXPECT_EQ(0, lt_session_maps());
}

/* Maps of every kind, made after the reservation, all land outside it. */
TEST_F(rv, no_other_map_lands_inside)
{
	uint32 va32[8], vd32[8];
	uint64 va64[8], vd64[8], vm[8], pa;
	void *h, *v;
	int i;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, 0, 0, 1 << 20, &va32[i], &vd32[i]));
		EXPECT_TRUE(outside(vd32[i], 1 << 20, self->base, RES));
		ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 1, ADSP_MMAP_ADD_PAGES, 0,
							      1 << 20, &va64[i], &vd64[i]));
		EXPECT_TRUE(outside(vd64[i], 1 << 20, self->base, RES));
		ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, 0, 256 << 10, (uint64_t)i << 18, 0, &vm[i]));
		EXPECT_TRUE(outside(vm[i], 256 << 10, self->base, RES));
	}
	h = HAP_mmap(NULL, 4 << 20, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, h);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_TRUE(outside(pa, 4 << 20, self->base, RES));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(h, 4 << 20));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vd32[i], 1 << 20));
		EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vd64[i], 1 << 20));
		EXPECT_EQ(AEE_SUCCESS, unmap_at(vm[i], 256 << 10));
	}
}

TEST_F(rv, fixed_map_seen_by_device)
{
	unsigned char wb[LT_PROBE];
	uint64_t va;

	/* the buffer's second MiB at the reservation's third MiB */
	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, self->base + (2 << 20), 1 << 20, 1 << 20, 0, &va));
	EXPECT_EQ(self->base + (2 << 20), va);
	EXPECT_EQ(0, lt_dev_matches(va, self->buf + (1 << 20), 1 << 20));
	/* and the device writes land in the buffer */
	lt_fill(wb, sizeof(wb), 99);
	ASSERT_EQ(0, hapmem_remote_write(va + 4096, wb, sizeof(wb)));
	EXPECT_EQ(0, memcmp(self->buf + (1 << 20) + 4096, wb, sizeof(wb)));
	/* the rest of the reservation is not mapped */
	EXPECT_NE(0, hapmem_remote_read(self->base, wb, 8));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(va, 1 << 20));
}

TEST_F(rv, overlap_and_outside_refused)
{
	uint64_t va, v2, other;

	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, self->base + (1 << 20), 2 << 20, 0, 0, &va));
	/* overlapping the fixed map: head, tail, inside, around */
	EXPECT_EQ(AEE_EMAPALREADYPRESENT, map_at(self->fd, self->base, 2 << 20, 0, 0, &v2));
	EXPECT_EQ(AEE_EMAPALREADYPRESENT,
		  map_at(self->fd, self->base + (2 << 20), 2 << 20, 0, 0, &v2));
	EXPECT_EQ(AEE_EMAPALREADYPRESENT,
		  map_at(self->fd, self->base + (3 << 19), 4096, 0, 0, &v2));
	EXPECT_EQ(AEE_EMAPALREADYPRESENT, map_at(self->fd, self->base, 4 << 20, 0, 0, &v2));
	/* touching it is fine */
	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, self->base + (3 << 20), 1 << 20, 0, 0, &v2));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(v2, 1 << 20));
	/* crossing the reservation's end, or outside any reservation */
	EXPECT_NE(AEE_SUCCESS, map_at(self->fd, self->base + RES - (1 << 20), 2 << 20, 0, 0, &v2));
	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, 0, 1 << 20, 0, 0, &other));
	EXPECT_EQ(AEE_ENOSUCHMAP, map_at(self->fd, other + (4 << 20), 4096, 0, 0, &v2));
	/* a second reservation never overlaps the first */
	ASSERT_EQ(AEE_SUCCESS, reserve(RES, 0, &v2));
	EXPECT_TRUE(outside(v2, RES, self->base, RES));
	EXPECT_EQ(AEE_SUCCESS, unreserve(v2, RES));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(other, 1 << 20));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(va, 2 << 20));
}

TEST_F(rv, unreserve_with_live_maps_refused)
{
	uint64_t va;

	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, self->base + RES - 4096, 4096, 0, 0, &va));
	EXPECT_EQ(AEE_EBADSTATE, unreserve(self->base, RES));
	/* still reserved and mapped: the device reads through it */
	EXPECT_EQ(0, lt_dev_matches(va, self->buf, 4096));
	EXPECT_EQ(AEE_EBADPARM, unreserve(self->base, RES / 2));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(va, 4096));
	EXPECT_EQ(AEE_ENOSUCHMAP, unmap_at(va, 4096));
	/* the fixture's teardown unreserves it now that it is empty */
}

TEST_F(rv, extended_map_above_4g)
{
	uint64_t hi, va, va2;
	int fd = -1;

	ASSERT_EQ(AEE_SUCCESS, reserve(RES, HAP_MEM_FLAGS_EXTENDED_MAP, &hi));
	EXPECT_LE(LT_4G, hi);
	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, hi + (1 << 20), 1 << 20, 0, 0, &va));
	EXPECT_EQ(hi + (1 << 20), va);
	EXPECT_EQ(0, lt_dev_matches(va, self->buf, 1 << 20));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(va, 1 << 20));
	EXPECT_EQ(AEE_SUCCESS, unreserve(hi, RES));

	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, 0, 1 << 20, 0, HAP_MEM_FLAGS_EXTENDED_MAP, &va));
	EXPECT_LE(LT_4G, va);
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(1 << 20, HAP_MEM_FLAGS_EXTENDED_MAP, &fd, &va2));
	EXPECT_LE(LT_4G, va2);
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fd));
	EXPECT_EQ(AEE_SUCCESS, unmap_at(va, 1 << 20));
	/* and the 32-bit placement stays below */
	ASSERT_EQ(AEE_SUCCESS, map_at(self->fd, 0, 1 << 20, 0, HAP_MEM_FLAGS_DSP_MAP, &va));
	EXPECT_LE(va + (1 << 20), LT_4G);
	EXPECT_EQ(AEE_SUCCESS, unmap_at(va, 1 << 20));
}

TEST_HARNESS_MAIN
