// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ioctl fuzzer for /dev/hapmem, run inside the VM.
 *
 * Every operation is one of:
 * - a random ioctl number (type, direction, size and command bits);
 * - a structure-aware call of a real ioctl: each member drawn from edge
 *   values (0, 1, page - 1, page, 2^31, 2^32, 2^63, ~0...), from values
 *   that are valid in this session (addresses of live maps and
 *   reservations, their lengths), or at random; random flags; the struct
 *   size drawn from its versions, random sizes and larger sizes with a zero
 *   or non-zero tail; the argument pointer sometimes NULL, unmapped, or a
 *   read-only page (so the answer cannot be copied out); fds valid,
 *   closed, recycled into a non-dma-buf, non-dma-buf (pipe, memfd, the
 *   session itself), negative or huge;
 * - a valid call (alloc, map, unmap, reserve...) that keeps live state for
 *   the others to aim at.
 *
 * Invariants checked: every errno is one the uapi documents for that
 * ioctl; an unknown number is ENOTTY; a successful call's answer makes
 * sense (addresses inside the windows, fds that are dma-bufs of the right
 * size); a map the fuzzer never saw made cannot be unmapped; the session's
 * map count equals the maps the fuzzer saw made and not unmapped; at the
 * end every counter is back at 0.  The kernel must not splat (the VM
 * runner fails the run on any report).
 *
 * By default (make check) the run is the same every time: seed
 * FUZZ_SEED_DEFAULT and FUZZ_OPS_DEFAULT operations, both printed; only
 * a host too slow to finish them in FUZZ_SECS_DEFAULT seconds ends the
 * run early, cleanly (the operations done are printed, and replay it).
 * HAPMEM_FUZZ_SEED=N runs seed N, HAPMEM_FUZZ_SEED=time a seed from the
 * clock; HAPMEM_FUZZ_OPS sets the number of operations and
 * HAPMEM_FUZZ_SECS the time bound (0: none).  A failure prints the variables that replay it; make
 * fuzz-vm runs a longer, time-seeded fuzz in the VM.  While it runs,
 * max_session_bytes is lowered to 64 MiB so that edge-value lengths get
 * EDQUOT instead of the VM's memory.
 */
#define _GNU_SOURCE
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "rel_test.h"

#define FUZZ_LIMIT	(64ULL << 20)
#define MAX_MAPS	256
#define MAX_BUFS	16
#define MAX_RESV	8
#define PARAM		"/sys/module/hapmem/parameters/max_session_bytes"

struct fmap {
	int kind;		/* 0 request, 1 share, 2 dma_handle */
	uint64_t vadsp, len;
	int sess;
};

struct fresv {
	uint64_t vadsp, len;
	int sess;
};

struct fuzz {
	uint64_t seed;
	int sess[2];			/* sessions: first remote, last remote */
	uint64_t nmaps[2];		/* maps each session holds */
	struct fmap maps[MAX_MAPS];
	unsigned int n_maps;
	struct fresv resv[MAX_RESV];
	unsigned int n_resv;
	int bufs[MAX_BUFS];		/* dma-buf fds */
	uint64_t buf_len[MAX_BUFS];
	unsigned int n_bufs;
	int notbuf[3];			/* a pipe end, a memfd, /dev/null */
	int closed_fd;			/* a number known to be closed */
	unsigned char *arg;		/* a page for ioctl arguments */
	unsigned char *ro;		/* a read-only page */
	unsigned char *user;		/* user memory for ADD_PAGES */
	struct hapmem_info info;
	uint64_t ops, calls, ok, unmapped_unknown, bad_errno, bad_answer;
	int dma_budget;			/* calls allowed to reach the engine */
	uint64_t errs[160];
};

static uint64_t R(struct fuzz *f)
{
	return rel_rand(&f->seed);
}

static uint64_t pick(struct fuzz *f, uint64_t n)
{
	return n ? R(f) % n : 0;
}

static const uint64_t edges[] = {
	0, 1, 2, 4095, 4096, 4097, 8192, 0x10000, 0x200000, 0x7ffff000,
	0x7fffffff, 0x80000000ULL, 0xfffff000ULL, 0xffffffffULL,
	0x100000000ULL, 0x100001000ULL, 1ULL << 47, 1ULL << 62, 1ULL << 63,
	(1ULL << 63) + 4096, ~0ULL - 4095, ~0ULL - 4096, ~0ULL - 1, ~0ULL,
};

/* A length: mostly small valid ones, else edges, else random. */
static uint64_t rlen(struct fuzz *f)
{
	switch (pick(f, 8)) {
	case 0: case 1: case 2:
		return HM_PAGE * (1 + pick(f, 16));
	case 3:
		return 1 + pick(f, 3 * HM_PAGE);
	case 4: case 5: case 6:
		return edges[pick(f, sizeof(edges) / sizeof(edges[0]))];
	default:
		return R(f) >> pick(f, 64);
	}
}

static int rsess(struct fuzz *f)
{
	return pick(f, 2);
}

/* A device address: a live map's or reservation's (maybe off by a bit), an edge, random. */
static uint64_t rvadsp(struct fuzz *f, int s)
{
	uint64_t v;

	switch (pick(f, 6)) {
	case 0: case 1:
		if (f->n_maps) {
			v = f->maps[pick(f, f->n_maps)].vadsp;
			return pick(f, 4) ? v : v + (pick(f, 2) ? HM_PAGE : -HM_PAGE) + pick(f, 2);
		}
		/* fall through */
	case 2:
		if (f->n_resv)
			return f->resv[pick(f, f->n_resv)].vadsp + HM_PAGE * pick(f, 16);
		/* fall through */
	case 3:
		return edges[pick(f, sizeof(edges) / sizeof(edges[0]))];
	case 4:
		return pick(f, 2) ? f->info.va32_start + HM_PAGE * pick(f, 4096) :
				    f->info.va64_start + HM_PAGE * pick(f, 4096);
	default:
		(void)s;
		return R(f);
	}
}

/* An fd for a dma-buf member. */
static int rfd(struct fuzz *f)
{
	switch (pick(f, 10)) {
	case 0: case 1: case 2: case 3: case 4:
		if (f->n_bufs)
			return f->bufs[pick(f, f->n_bufs)];
		return -1;
	case 5:
		return f->notbuf[pick(f, 3)];
	case 6:
		return f->sess[rsess(f)];
	case 7:
		return f->closed_fd;
	case 8:
		return pick(f, 2) ? -1 : (int)R(f);
	default:
		return (int)pick(f, 1200);
	}
}

static uint32_t rflags(struct fuzz *f, uint32_t valid)
{
	switch (pick(f, 4)) {
	case 0:
		return 0;
	case 1: case 2:
		return (uint32_t)R(f) & valid;
	default:
		return (uint32_t)R(f) >> pick(f, 32);
	}
}

/* The errnos hapmem's uapi documents, by ioctl (bit per errno). */
#define E(x) ((unsigned __int128)1 << (x))
static const unsigned __int128 common_errs = E(EFAULT) | E(EINVAL) | E(E2BIG);
static const unsigned __int128 ok_errs[HAPMEM_CMD_END - HAPMEM_CMD_BASE] = {
	[HAPMEM_CMD_INFO - HAPMEM_CMD_BASE] = E(ENOENT),
	[HAPMEM_CMD_ALLOC - HAPMEM_CMD_BASE] = E(EDQUOT) | E(ENOMEM) | E(EINTR) | E(EMFILE),
	[HAPMEM_CMD_REQUEST_MAP - HAPMEM_CMD_BASE] = E(EDQUOT) | E(ENOMEM) | E(ENOSPC) |
		E(EPERM) | E(EINTR) | E(EMFILE),
	[HAPMEM_CMD_REQUEST_UNMAP - HAPMEM_CMD_BASE] = E(ENOENT),
	[HAPMEM_CMD_SHARE_MAP - HAPMEM_CMD_BASE] = E(EBADF) | E(ENODEV) | E(EDQUOT) |
		E(ENOMEM) | E(ENOSPC) | E(EEXIST) | E(ENOENT) | E(EOPNOTSUPP) | E(EPERM),
	[HAPMEM_CMD_SHARE_UNMAP - HAPMEM_CMD_BASE] = E(ENOENT),
	[HAPMEM_CMD_DMA_HANDLE_MAP - HAPMEM_CMD_BASE] = E(EBADF) | E(ENODEV) | E(EDQUOT) |
		E(ENOMEM) | E(ENOSPC) | E(EPERM),
	[HAPMEM_CMD_DMA_HANDLE_UNMAP - HAPMEM_CMD_BASE] = E(EBADF) | E(ENODEV) | E(ENOENT),
	[HAPMEM_CMD_REMOTE_ACCESS - HAPMEM_CMD_BASE] = E(ENOENT) | E(EPERM) | E(EOPNOTSUPP) |
		E(EIO) | E(ENOMEM) | E(EINTR),
	[HAPMEM_CMD_RESERVE_VA - HAPMEM_CMD_BASE] = E(EDQUOT) | E(ENOMEM) | E(ENOSPC) |
		E(EOPNOTSUPP),
	[HAPMEM_CMD_UNRESERVE_VA - HAPMEM_CMD_BASE] = E(ENOENT) | E(EBUSY),
	[HAPMEM_CMD_NOP - HAPMEM_CMD_BASE] = 0,
};

static const unsigned int struct_size[HAPMEM_CMD_END - HAPMEM_CMD_BASE] = {
	sizeof(struct hapmem_info), sizeof(struct hapmem_alloc),
	sizeof(struct hapmem_request_map), sizeof(struct hapmem_unmap),
	sizeof(struct hapmem_share_map), sizeof(struct hapmem_unmap),
	sizeof(struct hapmem_dma_handle_map), sizeof(struct hapmem_dma_handle_unmap),
	sizeof(struct hapmem_remote_access), sizeof(struct hapmem_reserve_va),
	sizeof(struct hapmem_unreserve_va), sizeof(struct hapmem_nop),
};

static void track_map(struct fuzz *f, int s, int kind, uint64_t vadsp, uint64_t len)
{
	f->nmaps[s]++;
	if (f->n_maps < MAX_MAPS)
		f->maps[f->n_maps++] = (struct fmap){ kind, vadsp, len, s };
}

/* A tracked map of @kind at @vadsp of session @s, or -1. */
static int find_map(struct fuzz *f, int s, int kind, uint64_t vadsp)
{
	for (unsigned int i = 0; i < f->n_maps; i++)
		if (f->maps[i].sess == s && f->maps[i].vadsp == vadsp &&
		    f->maps[i].kind == kind)
			return i;
	return -1;
}

static void drop_map(struct fuzz *f, int i)
{
	f->nmaps[f->maps[i].sess]--;
	f->maps[i] = f->maps[--f->n_maps];
}

static void add_buf(struct fuzz *f, int fd, uint64_t len)
{
	if (fd < 0)
		return;
	/* Unmapped buffers are not charged to the session: keep only small ones. */
	if (len > HM_SZ_1M) {
		close(fd);
		f->closed_fd = fd;
		return;
	}
	if (f->n_bufs == MAX_BUFS) {
		unsigned int i = pick(f, MAX_BUFS);

		close(f->bufs[i]);
		f->closed_fd = f->bufs[i];
		f->bufs[i] = fd;
		f->buf_len[i] = len;
		return;
	}
	f->buf_len[f->n_bufs] = len;
	f->bufs[f->n_bufs++] = fd;
}

static uint64_t page_align(uint64_t x)
{
	return (x + HM_PAGE - 1) & ~(HM_PAGE - 1);
}

/*
 * Judge a call's outcome and keep the bookkeeping right.  @a is the
 * argument as the kernel answered it (valid only on success).
 */
static void account(struct __test_metadata *_metadata, struct fuzz *f,
		    int s, unsigned int nr, int ret, void *a, bool answered)
{
	unsigned int i = nr - HAPMEM_CMD_BASE;

	f->calls++;
	if (ret) {
		int e = -ret;

		if (e < 160)
			f->errs[e]++;
		if (e >= 128 || !((common_errs | ok_errs[i]) & E(e))) {
			f->bad_errno++;
			TH_LOG("op %llu: ioctl %#x: undocumented errno %d (%s)",
			       (unsigned long long)f->ops, nr, e, strerror(e));
		}
		return;
	}
	f->ok++;
	if (!answered) {
		/* The answer was not copied out: the call must have failed. */
		f->bad_answer++;
		TH_LOG("op %llu: ioctl %#x succeeded without an answer", (unsigned long long)f->ops, nr);
		return;
	}
	switch (nr) {
	case HAPMEM_CMD_ALLOC: {
		struct hapmem_alloc *x = a;

		if (lseek(x->fd, 0, SEEK_END) != (off_t)page_align(x->len)) {
			f->bad_answer++;
			TH_LOG("op %llu: alloc fd %d len %#llx", (unsigned long long)f->ops,
			       x->fd, (unsigned long long)x->len);
		}
		add_buf(f, x->fd, page_align(x->len));
		break;
	}
	case HAPMEM_CMD_REQUEST_MAP: {
		struct hapmem_request_map *x = a;
		uint64_t len = page_align(x->len);

		if (x->fd >= 0)
			add_buf(f, x->fd, len);
		if (x->rflags == HAPMEM_RFLAG_HLOS_FD) {
			if (x->vadsp || x->fd < 0)
				f->bad_answer++;
			break;
		}
		if (!x->vadsp || ((x->flags & HAPMEM_MAP_VA32) && x->vadsp + len > (1ULL << 32)) ||
		    ((x->flags & HAPMEM_MAP_VA_HIGH) && x->vadsp < (1ULL << 32))) {
			f->bad_answer++;
			TH_LOG("op %llu: request_map answered vadsp %#llx len %#llx flags %#x",
			       (unsigned long long)f->ops, (unsigned long long)x->vadsp,
			       (unsigned long long)len, x->flags);
		}
		track_map(f, s, 0, x->vadsp, len);
		break;
	}
	case HAPMEM_CMD_SHARE_MAP: {
		struct hapmem_share_map *x = a;

		if (!x->vadsp || !x->len || x->len & (HM_PAGE - 1))
			f->bad_answer++;
		track_map(f, s, 1, x->vadsp, x->len);
		break;
	}
	case HAPMEM_CMD_DMA_HANDLE_MAP: {
		struct hapmem_dma_handle_map *x = a;

		/* Tracked as one map; further references are not maps. */
		if (x->refs == 1)
			track_map(f, s, 2, x->vadsp, x->len);
		else if (!x->refs)
			f->bad_answer++;
		break;
	}
	case HAPMEM_CMD_DMA_HANDLE_UNMAP: {
		struct hapmem_dma_handle_unmap *x = a;

		if (!x->refs) {
			/* Which map went is not said: forget one that may be it. */
			f->nmaps[s]--;
			for (unsigned int k = 0; k < f->n_maps; k++)
				if (f->maps[k].sess == s && f->maps[k].kind == 2 &&
				    f->maps[k].len == page_align(x->len)) {
					f->maps[k] = f->maps[--f->n_maps];
					break;
				}
		}
		break;
	}
	case HAPMEM_CMD_REQUEST_UNMAP:
	case HAPMEM_CMD_SHARE_UNMAP: {
		struct hapmem_unmap *x = a;
		int k = find_map(f, s, nr == HAPMEM_CMD_REQUEST_UNMAP ? 0 : 1, x->vadsp);

		if (k < 0 || f->maps[k].len != page_align(x->len)) {
			/* Maps beyond MAX_MAPS are not tracked by address. */
			if (f->n_maps < MAX_MAPS) {
				f->unmapped_unknown++;
				TH_LOG("op %llu: unmapped %#llx len %#llx: no such map made",
				       (unsigned long long)f->ops, (unsigned long long)x->vadsp,
				       (unsigned long long)x->len);
			}
			f->nmaps[s]--;
		} else {
			drop_map(f, k);
		}
		break;
	}
	case HAPMEM_CMD_RESERVE_VA: {
		struct hapmem_reserve_va *x = a;

		if (f->n_resv < MAX_RESV)
			f->resv[f->n_resv++] = (struct fresv){ x->vadsp, x->len, s };
		break;
	}
	case HAPMEM_CMD_UNRESERVE_VA: {
		struct hapmem_unreserve_va *x = a;

		for (unsigned int k = 0; k < f->n_resv; k++)
			if (f->resv[k].sess == s && f->resv[k].vadsp == x->vadsp) {
				f->resv[k] = f->resv[--f->n_resv];
				break;
			}
		break;
	}
	default:
		break;
	}
}

/* Fill the argument of ioctl @nr in @a, structure-aware. */
static void fill(struct fuzz *f, int s, unsigned int nr, unsigned char *a)
{
	memset(a, 0, 512);
	switch (nr) {
	case HAPMEM_CMD_INFO: {
		struct hapmem_info *x = (void *)a;

		x->remote = pick(f, 4) ? HAPMEM_INFO_SELF : (uint32_t)pick(f, 4);
		if (!pick(f, 8))
			x->remote = R(f);
		x->flags = pick(f, 8) ? 0 : R(f);
		break;
	}
	case HAPMEM_CMD_ALLOC: {
		struct hapmem_alloc *x = (void *)a;

		x->flags = rflags(f, HAPMEM_ALLOC_VALID);
		x->len = rlen(f);
		x->fd = R(f);
		break;
	}
	case HAPMEM_CMD_REQUEST_MAP: {
		static const uint32_t rf[] = {
			0, HAPMEM_RFLAG_HEAP_ADDR, HAPMEM_RFLAG_REMOTE_HEAP_ADDR,
			HAPMEM_RFLAG_ADD_PAGES, HAPMEM_RFLAG_ADD_PAGES_LLC,
			HAPMEM_RFLAG_HLOS_FD,
		};
		struct hapmem_request_map *x = (void *)a;

		x->flags = rflags(f, HAPMEM_REQUEST_MAP_VALID);
		x->heap_id = pick(f, 4) ? (int)pick(f, 2) - 1 : (int)R(f);
		if (!pick(f, 6))
			x->heap_id = HAPMEM_HEAP_ID_SYSTEM;
		x->ion_flags = rflags(f, HAPMEM_ION_FLAGS_VALID);
		x->rflags = pick(f, 5) ? rf[pick(f, 6)] : (uint32_t)R(f);
		if (x->rflags == HAPMEM_RFLAG_ADD_PAGES && pick(f, 2))
			x->vin = pick(f, 3) ? (uintptr_t)f->user + HM_PAGE * pick(f, 8) : rvadsp(f, s);
		x->len = rlen(f);
		x->__reserved = pick(f, 16) ? 0 : R(f);
		x->__reserved2 = pick(f, 16) ? 0 : R(f);
		break;
	}
	case HAPMEM_CMD_REQUEST_UNMAP:
	case HAPMEM_CMD_SHARE_UNMAP: {
		struct hapmem_unmap *x = (void *)a;

		x->flags = pick(f, 8) ? 0 : R(f);
		if (f->n_maps && pick(f, 2)) {
			struct fmap *m = &f->maps[pick(f, f->n_maps)];

			x->vadsp = m->vadsp;
			x->len = pick(f, 3) ? m->len : m->len - pick(f, 2 * HM_PAGE);
		} else {
			x->vadsp = rvadsp(f, s);
			x->len = rlen(f);
		}
		break;
	}
	case HAPMEM_CMD_SHARE_MAP: {
		struct hapmem_share_map *x = (void *)a;

		x->flags = rflags(f, HAPMEM_SHARE_MAP_VALID);
		x->fd = rfd(f);
		x->offset = pick(f, 2) ? HM_PAGE * pick(f, 4) : rlen(f);
		x->len = pick(f, 4) ? rlen(f) : 0;
		x->vadsp = (x->flags & HAPMEM_MAP_FIXED) ? rvadsp(f, s) : (pick(f, 4) ? 0 : R(f));
		x->__reserved = pick(f, 16) ? 0 : R(f);
		break;
	}
	case HAPMEM_CMD_DMA_HANDLE_MAP: {
		struct hapmem_dma_handle_map *x = (void *)a;

		x->flags = rflags(f, HAPMEM_DMA_HANDLE_MAP_VALID);
		x->fd = rfd(f);
		x->offset = pick(f, 2) ? HM_PAGE * pick(f, 4) : rlen(f);
		x->len = rlen(f);
		x->__reserved = pick(f, 16) ? 0 : R(f);
		x->__reserved2 = pick(f, 16) ? 0 : R(f);
		break;
	}
	case HAPMEM_CMD_DMA_HANDLE_UNMAP: {
		struct hapmem_dma_handle_unmap *x = (void *)a;

		x->flags = pick(f, 8) ? 0 : R(f);
		x->fd = rfd(f);
		x->len = rlen(f);
		x->__reserved = pick(f, 16) ? 0 : R(f);
		break;
	}
	case HAPMEM_CMD_REMOTE_ACCESS: {
		struct hapmem_remote_access *x = (void *)a;

		x->flags = rflags(f, HAPMEM_ACCESS_VALID);
		x->vadsp = rvadsp(f, s);
		x->len = rlen(f);
		x->uptr = pick(f, 4) ? (uintptr_t)(a + 1024) : R(f);
		x->__reserved = pick(f, 16) ? 0 : R(f);
		/*
		 * A transfer that would run costs ~100 ms per 4 KiB on QEMU:
		 * keep those that may reach the engine to a few bytes.
		 */
		if (x->len && x->len <= HAPMEM_ACCESS_MAX_LEN) {
			x->len = 1 + pick(f, 64);
			if (!(x->flags & ~HAPMEM_ACCESS_VALID) && !x->__reserved &&
			    f->dma_budget-- <= 0)
				x->len = pick(f, 2) ? 0 : HAPMEM_ACCESS_MAX_LEN + 1;
		}
		break;
	}
	case HAPMEM_CMD_RESERVE_VA: {
		struct hapmem_reserve_va *x = (void *)a;

		x->flags = rflags(f, HAPMEM_RESERVE_VA_VALID);
		x->len = rlen(f);
		x->vadsp = pick(f, 4) ? 0 : R(f);
		break;
	}
	case HAPMEM_CMD_UNRESERVE_VA: {
		struct hapmem_unreserve_va *x = (void *)a;

		x->flags = pick(f, 8) ? 0 : R(f);
		if (f->n_resv && pick(f, 2)) {
			x->vadsp = f->resv[pick(f, f->n_resv)].vadsp;
			x->len = f->resv[pick(f, f->n_resv)].len;
		} else {
			x->vadsp = rvadsp(f, s);
			x->len = rlen(f);
		}
		break;
	}
	default: {
		struct hapmem_nop *x = (void *)a;

		x->flags = pick(f, 4) ? 0 : R(f);
		break;
	}
	}
}

/* One structure-aware call of ioctl @nr on session @s. */
static void fuzz_call(struct __test_metadata *_metadata, struct fuzz *f, int s,
		      unsigned int nr)
{
	unsigned int ksize = struct_size[nr - HAPMEM_CMD_BASE];
	unsigned char *a = f->arg;
	uint32_t size = ksize;
	bool answered = true, bad_tail = false;
	void *ptr = a;
	int ret;

	fill(f, s, nr, a);
	switch (pick(f, 20)) {
	case 0:
		size = pick(f, ksize + 1);
		break;
	case 1:
		size = ksize + 1 + pick(f, 64);
		break;
	case 2:
		size = ksize + 1 + pick(f, 64);
		a[ksize + pick(f, size - ksize)] = 1 + pick(f, 255);
		bad_tail = true;
		break;
	case 3:
		size = R(f);
		break;
	default:
		break;
	}
	memcpy(a, &size, sizeof(size));
	switch (pick(f, 40)) {
	case 0:
		ptr = NULL;
		answered = false;
		break;
	case 1:
		ptr = (void *)(uintptr_t)(R(f) | (1ULL << 63));
		answered = false;
		break;
	case 2:
		/* Readable, not writable: the answer cannot be copied out. */
		mprotect(f->ro, HM_PAGE, PROT_READ | PROT_WRITE);
		memcpy(f->ro, a, 512);
		mprotect(f->ro, HM_PAGE, PROT_READ);
		ptr = f->ro;
		answered = false;
		break;
	default:
		break;
	}
	ret = ioctl(f->sess[s], _IO(HAPMEM_TYPE, nr), ptr) ? -errno : 0;
	if (!ret && bad_tail) {
		f->bad_answer++;
		TH_LOG("op %llu: ioctl %#x accepted a non-zero tail", (unsigned long long)f->ops, nr);
	}
	/* NOP and unmaps answer nothing that matters; unreserve neither. */
	if (!ret && !answered && (nr == HAPMEM_CMD_NOP || nr == HAPMEM_CMD_REQUEST_UNMAP ||
				  nr == HAPMEM_CMD_SHARE_UNMAP || nr == HAPMEM_CMD_UNRESERVE_VA)) {
		if (ptr == f->ro)
			memcpy(a, f->ro, 512);
		answered = true;
	}
	account(_metadata, f, s, nr, ret, a, answered);
}

/*
 * Numbers the VFS answers itself (fs/ioctl.c do_vfs_ioctl) before the
 * driver sees them: FIONCLEX succeeds on any fd, FIGETBSZ answers the
 * filesystem's block size.  They say nothing about hapmem, so they are
 * never sent.
 */
static bool vfs_owned(unsigned long cmd)
{
	static const unsigned long vfs[] = {
		FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW,
		FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE, FIDEDUPERANGE,
		FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR,
	};
	size_t i;

	for (i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
		if ((unsigned int)cmd == (unsigned int)vfs[i])
			return true;
	return false;
}

/* A random ioctl number: must be ENOTTY unless it is a real one. */
static void fuzz_number(struct __test_metadata *_metadata, struct fuzz *f, int s)
{
	unsigned int type = pick(f, 4) ? HAPMEM_TYPE : (unsigned int)pick(f, 256);
	unsigned int nr = pick(f, 2) ? HAPMEM_CMD_BASE - 4 + pick(f, 20) : (unsigned int)pick(f, 256);
	unsigned int dir = pick(f, 2) ? 0 : (unsigned int)pick(f, 4);
	unsigned int sz = dir ? (unsigned int)pick(f, 1 << 14) : 0;
	unsigned long cmd = _IOC(dir, type, nr, sz);
	bool real = type == HAPMEM_TYPE && !dir && !sz && nr >= HAPMEM_CMD_BASE &&
		    nr < HAPMEM_CMD_END;
	int ret;

	if (real) {
		fuzz_call(_metadata, f, s, nr);
		return;
	}
	if (vfs_owned(cmd))
		return;
	memset(f->arg, 0, 64);
	f->arg[0] = 64;
	ret = ioctl(f->sess[s], cmd, f->arg) ? errno : 0;
	f->calls++;
	if (ret != ENOTTY) {
		f->bad_errno++;
		TH_LOG("op %llu: ioctl %#lx: %s, not ENOTTY", (unsigned long long)f->ops, cmd,
		       strerror(ret));
	}
}

/* Valid calls keep live state around for the fuzzed ones to hit. */
static void valid_call(struct __test_metadata *_metadata, struct fuzz *f)
{
	int s = rsess(f);
	unsigned char *a = f->arg;
	int ret;

	memset(a, 0, 512);
	switch (pick(f, 9)) {
	case 0: {
		struct hapmem_alloc *x = (void *)a;

		x->len = HM_PAGE * (1 + pick(f, 64));
		x->flags = pick(f, 2);
		ret = hm_test_ioctl(f->sess[s], HAPMEM_IOC_ALLOC, x);
		account(_metadata, f, s, HAPMEM_CMD_ALLOC, ret, x, true);
		break;
	}
	case 1: case 2: {
		struct hapmem_request_map *x = (void *)a;

		ret = hm_request(f->sess[s], pick(f, 4) ? 0 : HAPMEM_REQUEST_FD, pick(f, 2),
				 0, 0, HM_PAGE * (1 + pick(f, 16)), x);
		account(_metadata, f, s, HAPMEM_CMD_REQUEST_MAP, ret, x, true);
		break;
	}
	case 3: case 4: {
		struct hapmem_share_map *x = (void *)a;
		unsigned int b;

		if (!f->n_bufs)
			break;
		b = pick(f, f->n_bufs);
		x->fd = f->bufs[b];
		x->len = HM_PAGE;
		x->offset = HM_PAGE * pick(f, f->buf_len[b] / HM_PAGE);
		ret = hm_test_ioctl(f->sess[s], HAPMEM_IOC_SHARE_MAP, x);
		account(_metadata, f, s, HAPMEM_CMD_SHARE_MAP, ret, x, true);
		break;
	}
	case 5: {
		struct hapmem_dma_handle_map *x = (void *)a;

		if (!f->n_bufs)
			break;
		x->fd = f->bufs[pick(f, f->n_bufs)];
		x->len = HM_PAGE;
		ret = hm_test_ioctl(f->sess[s], HAPMEM_IOC_DMA_HANDLE_MAP, x);
		account(_metadata, f, s, HAPMEM_CMD_DMA_HANDLE_MAP, ret, x, true);
		break;
	}
	case 6: case 7: {
		struct hapmem_unmap *x = (void *)a;
		struct fmap *m;

		if (!f->n_maps)
			break;
		m = &f->maps[pick(f, f->n_maps)];
		if (m->kind == 2)
			break;
		x->vadsp = m->vadsp;
		x->len = m->len;
		s = m->sess;
		ret = hm_test_ioctl(f->sess[s], m->kind ? HAPMEM_IOC_SHARE_UNMAP :
			       HAPMEM_IOC_REQUEST_UNMAP, x);
		if (ret) {
			f->bad_errno++;
			TH_LOG("op %llu: unmap of a live map: %s", (unsigned long long)f->ops,
			       strerror(-ret));
		}
		account(_metadata, f, s, m->kind ? HAPMEM_CMD_SHARE_UNMAP :
			HAPMEM_CMD_REQUEST_UNMAP, ret, x, true);
		break;
	}
	default: {
		struct hapmem_reserve_va *x = (void *)a;

		if (!(f->info.remote_flags & HAPMEM_REMOTE_FIXED_VA) || f->n_resv >= MAX_RESV / 2)
			break;
		x->len = HM_SZ_1M;
		ret = hm_test_ioctl(f->sess[s], HAPMEM_IOC_RESERVE_VA, x);
		account(_metadata, f, s, HAPMEM_CMD_RESERVE_VA, ret, x, true);
		break;
	}
	}
}

/* Close a dma-buf and put something else at its number. */
static void recycle(struct fuzz *f)
{
	unsigned int i;
	int fd;

	if (!f->n_bufs)
		return;
	i = pick(f, f->n_bufs);
	fd = f->bufs[i];
	close(fd);
	f->bufs[i] = f->bufs[--f->n_bufs];
	f->buf_len[i] = f->buf_len[f->n_bufs];
	/* The lowest free number, most likely the one just closed. */
	f->closed_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (f->closed_fd >= 0 && f->closed_fd != fd) {
		close(f->closed_fd);
		f->closed_fd = fd;
	}
	if (f->closed_fd == fd) {
		/* A non-dma-buf now sits where a dma-buf was. */
		close(f->notbuf[2]);
		f->notbuf[2] = fd;
		f->closed_fd = fd + 1000;
	}
}

static bool session_count_ok(struct __test_metadata *_metadata, struct fuzz *f)
{
	bool ok = true;

	for (int s = 0; s < 2; s++) {
		struct hapmem_info info;

		if (f->sess[s] == f->sess[!s] && s)
			break;
		if (hm_info(f->sess[s], &info))
			return false;
		if (info.session_maps != f->nmaps[s]) {
			TH_LOG("op %llu: session %d holds %llu maps, the fuzzer made %llu",
			       (unsigned long long)f->ops, s,
			       (unsigned long long)info.session_maps,
			       (unsigned long long)f->nmaps[s]);
			ok = false;
		}
	}
	return ok;
}

static int write_param(uint64_t v)
{
	char s[32];
	int fd = open(PARAM, O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return -errno;
	n = snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	n = write(fd, s, n) == n ? 0 : -errno;
	close(fd);
	return n;
}

static uint64_t read_param(void)
{
	char s[32] = "";
	int fd = open(PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, s, sizeof(s) - 1) < 0)
		s[0] = 0;
	close(fd);
	return strtoull(s, NULL, 0);
}

static int open_last_remote(void)
{
	char path[64];
	struct hapmem_info info;
	int fd = hm_open(), n;

	if (fd < 0 || hm_info(fd, &info))
		return fd;
	n = info.num_remotes;
	close(fd);
	if (n > 1) {
		info.remote = n - 1;
		fd = hm_open();
		if (fd >= 0 && !hm_test_ioctl(fd, HAPMEM_IOC_INFO, &info)) {
			close(fd);
			snprintf(path, sizeof(path), "/dev/hapmem-%s", info.name);
			return hm_open_dev(path);
		}
		if (fd >= 0)
			close(fd);
	}
	return hm_open();
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

#define FUZZ_SEED_DEFAULT 0x5eed0f0c4a11ULL
#define FUZZ_OPS_DEFAULT 150000
/* Well inside the test's timeout, so that the run ends by itself. */
#define FUZZ_SECS_DEFAULT 600
/* Session 1 is closed and opened again every this many operations. */
#define FUZZ_RESTART_OPS 16384

TEST_F_TIMEOUT(fuzz, ioctls, 900)
{
	static struct fuzz fz;
	struct fuzz *f = &fz;
	uint64_t max_ops = rel_env_u64("HAPMEM_FUZZ_OPS", FUZZ_OPS_DEFAULT);
	double secs = rel_env_u64("HAPMEM_FUZZ_SECS", FUZZ_SECS_DEFAULT);
	const char *seed_env = getenv("HAPMEM_FUZZ_SEED");
	uint64_t old_limit = read_param();
	double t0 = rel_now();
	int pipefd[2];
	bool root = geteuid() == 0;
	uint64_t seed0;

	memset(f, 0, sizeof(*f));
	if (seed_env && !strcmp(seed_env, "time"))
		f->seed = ((uint64_t)time(NULL) << 20) ^ getpid() ^ 0x9e3779b97f4a7c15ULL;
	else
		f->seed = rel_env_u64("HAPMEM_FUZZ_SEED", FUZZ_SEED_DEFAULT);
	if (!f->seed)
		f->seed = FUZZ_SEED_DEFAULT;	/* xorshift cannot start at 0 */
	seed0 = f->seed;
	TH_LOG("seed %#llx, %llu ops, time bound %.0f s (0: none) (replay: HAPMEM_FUZZ_SEED=%#llx HAPMEM_FUZZ_OPS=%llu)",
	       (unsigned long long)f->seed, (unsigned long long)max_ops, secs,
	       (unsigned long long)f->seed, (unsigned long long)max_ops);

	if (root && old_limit)
		ASSERT_EQ(0, write_param(FUZZ_LIMIT));
	f->sess[0] = hm_open();
	ASSERT_LE(0, f->sess[0]);
	f->sess[1] = open_last_remote();
	ASSERT_LE(0, f->sess[1]);
	ASSERT_EQ(0, hm_info(f->sess[0], &f->info));
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	close(pipefd[1]);
	f->notbuf[0] = pipefd[0];
	f->notbuf[1] = memfd_create("fuzz", MFD_CLOEXEC);
	f->notbuf[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, f->notbuf[1]);
	ASSERT_LE(0, f->notbuf[2]);
	f->closed_fd = 999;
	f->dma_budget = rel_env_u64("HAPMEM_FUZZ_DMA", 40);
	f->arg = mmap(NULL, 2 * HM_PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->ro = mmap(NULL, HM_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->user = mmap(NULL, 8 * HM_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, f->arg);
	ASSERT_NE(MAP_FAILED, f->ro);
	ASSERT_NE(MAP_FAILED, f->user);

	for (f->ops = 0; f->ops < max_ops; f->ops++) {
		int s = rsess(f);
		unsigned int r = pick(f, 100);

		if (r < 45)
			fuzz_call(_metadata, f, s, HAPMEM_CMD_BASE + pick(f, HAPMEM_CMD_END - HAPMEM_CMD_BASE));
		else if (r < 55)
			fuzz_number(_metadata, f, s);
		else if (r < 99)
			valid_call(_metadata, f);
		else
			recycle(f);

		/* Too many maps slow everything: unmap some now and then. */
		while (f->n_maps > MAX_MAPS - 32) {
			struct fmap *m = &f->maps[pick(f, f->n_maps)];
			struct hapmem_unmap u = { .vadsp = m->vadsp, .len = m->len };
			int ret;

			if (m->kind == 2) {
				/* No fd at hand to unmap it: it stays, untracked. */
				*m = f->maps[--f->n_maps];
				continue;
			}
			ret = hm_test_ioctl(f->sess[m->sess], m->kind ? HAPMEM_IOC_SHARE_UNMAP :
				       HAPMEM_IOC_REQUEST_UNMAP, &u);
			ASSERT_EQ(0, ret) TH_LOG("op %llu: unmap of a live map", (unsigned long long)f->ops);
			drop_map(f, m - f->maps);
		}
		if (!(f->ops & 1023)) {
			EXPECT_TRUE(session_count_ok(_metadata, f));
			/* Start over now and then: close() must clean everything. */
			if (f->ops && !(f->ops % FUZZ_RESTART_OPS)) {
				close(f->sess[1]);
				f->sess[1] = open_last_remote();
				ASSERT_LE(0, f->sess[1]);
				for (unsigned int k = 0; k < f->n_maps; k++)
					if (f->maps[k].sess == 1)
						f->maps[k--] = f->maps[--f->n_maps];
				for (unsigned int k = 0; k < f->n_resv; k++)
					if (f->resv[k].sess == 1)
						f->resv[k--] = f->resv[--f->n_resv];
				f->nmaps[1] = 0;
			}
			if (secs && rel_now() - t0 > secs)
				break;
		}
		if (f->bad_errno + f->bad_answer + f->unmapped_unknown > 20)
			break;
	}
	EXPECT_TRUE(session_count_ok(_metadata, f));
	for (unsigned int i = 0; i < f->n_bufs; i++)
		close(f->bufs[i]);
	close(f->sess[0]);
	close(f->sess[1]);
	for (int i = 0; i < 3; i++)
		close(f->notbuf[i]);
	if (root && old_limit)
		EXPECT_EQ(0, write_param(old_limit));

	TH_LOG("%llu ops, %llu ioctls (%llu succeeded) in %.1f s, seed %#llx",
	       (unsigned long long)f->ops, (unsigned long long)f->calls,
	       (unsigned long long)f->ok, rel_now() - t0, (unsigned long long)seed0);
	for (int e = 1; e < 160; e++)
		if (f->errs[e])
			TH_LOG("  %-12s %llu", strerrorname_np(e) ? strerrorname_np(e) : "?",
			       (unsigned long long)f->errs[e]);
	EXPECT_EQ(0, f->bad_errno);
	EXPECT_EQ(0, f->bad_answer);
	EXPECT_EQ(0, f->unmapped_unknown);
	EXPECT_TRUE(hm_idle(NULL));
	if (f->ops < max_ops)
		f->ops++;	/* the loop stopped inside this one */
	if (!_metadata->passed)
		TH_LOG("replay: make fuzz-vm FUZZ_VM_SEED=%#llx FUZZ_VM_OPS=%llu "
		       "(in the VM: HAPMEM_FUZZ_SEED=%#llx HAPMEM_FUZZ_OPS=%llu rel_fuzz)",
		       (unsigned long long)seed0, (unsigned long long)f->ops,
		       (unsigned long long)seed0, (unsigned long long)f->ops);
}

TEST_HARNESS_MAIN
