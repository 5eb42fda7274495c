// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP_mmap family: buffers received as fds, mapped for the remote
 * (share_map) and for the CPU, with reference counts.
 *
 * A map is identified by its buffer (the dma-buf's st_dev/st_ino), never
 * by an fd number: a dup, or the same buffer received again over a
 * socket, finds the same map, and a recycled fd number finds nothing.
 *
 * Two counts per map:
 *   map_refs  HAP_mmap (+1, also with HAP_MAP_NO_MAP) / HAP_munmap (-1)
 *   get_refs  HAP_mmap_get (+1) / HAP_mmap_put (-1; at 0: AEE_EBADMAPREFCNT)
 * The map lives while either is non-zero.  HAP_munmap needs a map_ref
 * (else AEE_ENOSUCHMAP), so an address whose last HAP_mmap reference is
 * gone is unknown to HAP_munmap even while a get reference keeps it.
 *
 * Locking: hmap_lock protects both indexes (CPU address -> map, inode ->
 * map) and the counts.  The system calls that create or destroy a map run
 * outside it: a map is indexed once complete, and unindexed before it is
 * torn down.  Two threads mapping the same new buffer at once both map it;
 * the second to index finds the first and undoes its own.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "HAP_mem.h"
#include "faces/aee.h"
#include "util/amap.h"
#include "transport/cpu_map.h"
#include "transport/dmabuf_id.h"
#include "util/fork.h"
#include "faces/hap_mmap.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

struct hmap {
	struct hm_buf_id id;
	uint64_t offset;
	size_t len;		/* page rounded */
	void *cpu;
	uint64_t vadsp;
	unsigned int map_refs;
	unsigned int get_refs;
	struct hmap *next;	/* same inode, other device */
};

/* How the next new map of a buffer is made (hm_hap_mmap_hint). */
struct hhint {
	struct hm_buf_id id;
	unsigned int hint;
};

static pthread_mutex_t hmap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hmap_once = PTHREAD_ONCE_INIT;
static struct hm_amap by_cpu = HM_AMAP_INIT;
static struct hm_amap by_ino = HM_AMAP_INIT;
static struct hhint *hints;
static size_t n_hints, cap_hints;

/* The child forgets the parent's maps; its copy of the CPU mappings stays. */
static void hmap_reset(void)
{
	size_t i;

	for (i = 0; i < by_cpu.n; i++)
		free(by_cpu.v[i].val);
	hm_amap_clear(&by_cpu);
	hm_amap_clear(&by_ino);
	free(hints);
	hints = NULL;
	n_hints = cap_hints = 0;
}

static const struct hm_fork_hooks hmap_fork_hooks = {
	.rank = HM_FORK_HAP_MMAP,
	.lock = &hmap_lock,
	.reset = hmap_reset,
};

static void hmap_init(void)
{
	hm_fork_register(&hmap_fork_hooks);
}

/* Under hmap_lock. */
static struct hmap *find_by_id(const struct hm_buf_id *id)
{
	struct hmap *m = hm_amap_find_exact(&by_ino, id->ino);

	while (m && !hm_buf_id_eq(&m->id, id))
		m = m->next;
	return m;
}

/* Under hmap_lock: the hint of buffer @id, 0 when none. */
static unsigned int hint_of(const struct hm_buf_id *id)
{
	size_t i;

	for (i = 0; i < n_hints; i++)
		if (hm_buf_id_eq(&hints[i].id, id))
			return hints[i].hint;
	return 0;
}

int hm_hap_mmap_hint(const struct hm_buf_id *id, unsigned int hint)
{
	size_t i;
	int ret = 0;

	pthread_once(&hmap_once, hmap_init);
	pthread_mutex_lock(&hmap_lock);
	for (i = 0; i < n_hints && !hm_buf_id_eq(&hints[i].id, id); i++)
		;
	if (i < n_hints) {
		if (hint)
			hints[i].hint = hint;
		else
			hints[i] = hints[--n_hints];
	} else if (hint) {
		if (n_hints == cap_hints) {
			size_t cap = cap_hints ? 2 * cap_hints : 8;
			struct hhint *v = realloc(hints, cap * sizeof(*v));

			if (!v) {
				ret = -ENOMEM;
				goto out;
			}
			hints = v;
			cap_hints = cap;
		}
		hints[n_hints].id = *id;
		hints[n_hints++].hint = hint;
	}
out:
	pthread_mutex_unlock(&hmap_lock);
	return ret;
}

/* Under hmap_lock.  0 or -ENOMEM / -EEXIST. */
static int index_add(struct hmap *m)
{
	struct hmap *head = hm_amap_find_exact(&by_ino, m->id.ino);
	int ret;

	ret = hm_amap_insert(&by_cpu, (uintptr_t)m->cpu, m->len, m);
	if (ret)
		return ret;
	if (head) {
		m->next = head->next;
		head->next = m;
		return 0;
	}
	m->next = NULL;
	ret = hm_amap_insert(&by_ino, m->id.ino, 1, m);
	if (ret)
		hm_amap_remove(&by_cpu, (uintptr_t)m->cpu);
	return ret;
}

/* Under hmap_lock. */
static void index_del(struct hmap *m)
{
	struct hmap *head = hm_amap_find_exact(&by_ino, m->id.ino);

	hm_amap_remove(&by_cpu, (uintptr_t)m->cpu);
	if (head == m) {
		hm_amap_remove(&by_ino, m->id.ino);
		if (m->next)
			hm_amap_insert(&by_ino, m->id.ino, 1, m->next);
	} else {
		while (head && head->next != m)
			head = head->next;
		if (head)
			head->next = m->next;
	}
}

/* Tear down an unindexed map. */
static void hmap_destroy(struct hmap *m, int unmap_device)
{
	int dev;

	if (unmap_device) {
		dev = hm_session_fd();
		if (dev >= 0)
			hm_ioc_share_unmap(dev, m->vadsp, m->len);
	}
	munmap(m->cpu, m->len);
	free(m);
}

static int valid_prot(int prot)
{
	int cache = prot & (HAP_MEM_CACHE_WRITEBACK | HAP_MEM_CACHE_NON_SHARED |
			    HAP_MEM_CACHE_WRITETHROUGH);

	if (prot & HAP_PROT_EXEC)
		return -EOPNOTSUPP;	/* not supported, as on the platform */
	if (prot & ~(HAP_PROT_READ | HAP_PROT_WRITE | HAP_MEM_CACHE_WRITEBACK |
		     HAP_MEM_CACHE_NON_SHARED | HAP_MEM_CACHE_WRITETHROUGH))
		return -EINVAL;
	if (cache & (cache - 1))	/* more than one policy */
		return -EINVAL;
	return 0;
}

static int cpu_prot(int prot)
{
	return ((prot & HAP_PROT_READ) ? PROT_READ : 0) |
	       ((prot & HAP_PROT_WRITE) ? PROT_WRITE : 0);
}

/* HAP_mmap's arguments; *map_len: @len page rounded. */
static int mmap_args_ok(const void *addr, size_t len, int prot, int flags,
			long offset, size_t *map_len)
{
	int ret;

	if (addr || !len)
		return -EINVAL;
	ret = valid_prot(prot);
	if (ret)
		return ret;
	if (flags & ~HAP_MAP_NO_MAP)
		return -EINVAL;
	if (offset < 0 || !hm_page_aligned((uint64_t)offset))
		return -EINVAL;
	if (hm_page_align_up(len, map_len))
		return -EINVAL;
	return 0;
}

/*
 * A map of buffer @id already made: take a reference (0, *out its CPU
 * address), refuse another window of it (-EINVAL), or 1 when there is
 * none (*hint: the buffer's placement hints).
 */
static int ref_existing(const struct hm_buf_id *id, uint64_t offset,
			size_t map_len, void **out, unsigned int *hint)
{
	struct hmap *old;
	int ret = 1;

	pthread_mutex_lock(&hmap_lock);
	old = find_by_id(id);
	if (old && (old->offset != offset || old->len != map_len)) {
		ret = -EINVAL;	/* one window per buffer: a different one is refused */
	} else if (old) {
		old->map_refs++;
		*out = old->cpu;
		ret = 0;
	} else {
		*hint = hint_of(id);
	}
	pthread_mutex_unlock(&hmap_lock);
	return ret;
}

/* A new map: the remote's (share_map), then the CPU's; not yet entered. */
static int map_new(int dev, int fd, const struct hm_buf_id *id, uint64_t offset,
		   size_t map_len, int prot, unsigned int hint, struct hmap **mp)
{
	struct hmap *m;
	int ret = 0;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->id = *id;
	m->offset = offset;
	m->len = map_len;
	m->map_refs = 1;
	ret = hm_ioc_share_map(dev, ((prot & HAP_PROT_WRITE) ? 0 : HAPMEM_MAP_READ_ONLY) |
			       ((hint & HM_HAP_HINT_VA_HIGH) ? HAPMEM_MAP_VA_HIGH : 0),
			       fd, m->offset, map_len, &m->vadsp);
	if (ret) {
		free(m);
		return ret;
	}
	if (!(hint & HM_HAP_HINT_NO_CPU))
		ret = hm_cpu_map(fd, m->offset, map_len, cpu_prot(prot),
				 HM_CPU_MAP_OPTIONAL, &m->cpu);
	if (!ret && !m->cpu) {
		/* protected memory: an address that is a handle, never accessible */
		m->cpu = mmap(NULL, map_len, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m->cpu == MAP_FAILED)
			ret = -errno;
	}
	if (ret) {
		hm_ioc_share_unmap(dev, m->vadsp, map_len);
		free(m);
		return ret;
	}
	*mp = m;
	return 0;
}

/*
 * Enter new map @m, unless another thread mapped the buffer meanwhile:
 * then use that map and undo @m.  *out: the CPU address.
 */
static int map_enter(struct hmap *m, void **out)
{
	struct hmap *old;
	int ret = 0;

	pthread_mutex_lock(&hmap_lock);
	old = find_by_id(&m->id);
	if (old) {
		if (old->offset != m->offset || old->len != m->len) {
			ret = -EINVAL;
		} else {
			old->map_refs++;
			*out = old->cpu;
		}
	} else {
		ret = index_add(m);
		if (!ret)
			*out = m->cpu;
	}
	pthread_mutex_unlock(&hmap_lock);
	if (old || ret)
		hmap_destroy(m, 1);
	return ret;
}

/*
 * HAP_mmap without the face's conventions: check the arguments, reuse the
 * buffer's map if there is one, else map it for the remote and the CPU
 * and enter it.  0 and *out, or -errno.
 */
int hm_hap_mmap(void *addr, size_t len, int prot, int flags, int fd, long offset,
		void **out)
{
	struct hm_buf_id id;
	struct hmap *m;
	unsigned int hint = 0;
	size_t map_len;
	int dev, ret;

	ret = mmap_args_ok(addr, len, prot, flags, offset, &map_len);
	if (ret)
		return ret;
	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return ret;

	pthread_once(&hmap_once, hmap_init);
	ret = ref_existing(&id, (uint64_t)offset, map_len, out, &hint);
	if (ret <= 0)
		return ret;
	if (flags & HAP_MAP_NO_MAP)
		return -ENOENT;

	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	ret = map_new(dev, fd, &id, (uint64_t)offset, map_len, prot, hint, &m);
	if (ret)
		return ret;
	return map_enter(m, out);
}

void *HAP_mmap(void *addr, int len, int prot, int flags, int fd, long offset)
{
	void *p = NULL;
	int ret;

	if (len <= 0) {
		errno = EINVAL;
		return (void *)-1;
	}
	ret = hm_hap_mmap(addr, (size_t)len, prot, flags, fd, offset, &p);
	if (ret) {
		errno = -ret;
		return (void *)-1;
	}
	return p;
}

void *HAP_mmap2(void *addr, size_t len, int prot, int flags, int fd, long offset)
{
	void *p = NULL;
	int ret = hm_hap_mmap(addr, len, prot, flags, fd, offset, &p);

	if (ret) {
		errno = -ret;
		return (void *)-1;
	}
	return p;
}

static int hap_munmap(void *addr, size_t len)
{
	struct hmap *m;
	size_t map_len;
	int destroy = 0;

	if (!addr || !len || hm_page_align_up(len, &map_len))
		return AEE_EBADPARM;
	pthread_mutex_lock(&hmap_lock);
	m = hm_amap_find_exact(&by_cpu, (uintptr_t)addr);
	if (!m || !m->map_refs) {
		pthread_mutex_unlock(&hmap_lock);
		return AEE_ENOSUCHMAP;
	}
	if (m->len != map_len) {
		pthread_mutex_unlock(&hmap_lock);
		return AEE_EBADPARM;
	}
	if (--m->map_refs == 0 && m->get_refs == 0) {
		index_del(m);
		destroy = 1;
	}
	pthread_mutex_unlock(&hmap_lock);
	if (destroy)
		hmap_destroy(m, 1);
	return AEE_SUCCESS;
}

int HAP_munmap(void *addr, int len)
{
	if (len <= 0)
		return AEE_EBADPARM;
	return hap_munmap(addr, (size_t)len);
}

int HAP_munmap2(void *addr, size_t len)
{
	return hap_munmap(addr, len);
}

int HAP_mmap_get(int fd, void **vaddr, uint64 *paddr)
{
	struct hm_buf_id id;
	struct hmap *m;

	if (!vaddr || !paddr)
		return AEE_EBADPARM;
	/* an fd that is not a mapped buffer is "no such map", whatever it is */
	if (hm_buf_id_of(fd, &id))
		return AEE_ENOSUCHMAP;
	pthread_mutex_lock(&hmap_lock);
	m = find_by_id(&id);
	if (m) {
		m->get_refs++;
		*vaddr = m->cpu;
		*paddr = m->vadsp;
	}
	pthread_mutex_unlock(&hmap_lock);
	return m ? AEE_SUCCESS : AEE_ENOSUCHMAP;
}

int HAP_mmap_put(int fd)
{
	struct hm_buf_id id;
	struct hmap *m;
	int ret = AEE_SUCCESS, destroy = 0;

	if (hm_buf_id_of(fd, &id))
		return AEE_ENOSUCHMAP;
	pthread_mutex_lock(&hmap_lock);
	m = find_by_id(&id);
	if (!m) {
		ret = AEE_ENOSUCHMAP;
	} else if (!m->get_refs) {
		ret = AEE_EBADMAPREFCNT;
	} else if (--m->get_refs == 0 && m->map_refs == 0) {
		index_del(m);
		destroy = 1;
	}
	pthread_mutex_unlock(&hmap_lock);
	if (destroy)
		hmap_destroy(m, 1);
	return ret;
}

int hm_hap_mmap_refs(int fd, unsigned int *map_refs, unsigned int *get_refs,
		     uint64_t *vadsp)
{
	struct hm_buf_id id;
	struct hmap *m;
	int ret;

	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return ret;
	pthread_mutex_lock(&hmap_lock);
	m = find_by_id(&id);
	if (m) {
		*map_refs = m->map_refs;
		*get_refs = m->get_refs;
		if (vadsp)
			*vadsp = m->vadsp;
	}
	pthread_mutex_unlock(&hmap_lock);
	return m ? 0 : -ENOENT;
}
