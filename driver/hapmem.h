/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem: internal declarations shared by the driver's files.
 *
 * Data flows one way: ioctl -> session -> map -> (buffer exporter, remote's
 * IOMMU domain).  See Documentation/driver.rst for the design.
 */
#ifndef _HAPMEM_H
#define _HAPMEM_H

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/kref.h>
#include <linux/maple_tree.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/hapmem.h>

#include "compat.h"

#define HAPMEM_SZ_4G		BIT_ULL(32)

/*
 * Everything allocated on a caller's behalf: charged to its memory cgroup,
 * and failing with ENOMEM rather than invoking the OOM killer (in the
 * cgroup or globally), so a process at its limit gets an error and no
 * bystander is killed.
 */
#define HAPMEM_GFP_USER		(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)
/* The lowest device address handed out: 0 always means "no address". */
#define HAPMEM_VA_BASE		0x100000ULL

struct hapmem_session;

/* /dev/hapmem, the first remote's alias (main.c) */
extern struct miscdevice hapmem_alias;

/* Module parameters; read with READ_ONCE, they may change. */
extern unsigned long hapmem_max_session_bytes;	/* account.c */
extern unsigned int hapmem_max_session_maps;	/* account.c */
extern unsigned long hapmem_max_global_bytes;	/* account.c */
extern bool hapmem_allow_remote_access;		/* main.c */

/**
 * struct hapmem_acct - what one session allocated and maps, charged to its
 *	user; outlives the session while buffers it allocated live
 * @kref: the session's reference and one per exported buffer it allocated
 * @user: the user charged too (struct hapmem_user, account.c)
 * @bytes: bytes allocated and mapped
 * @va32: bytes of the 32-bit window held
 */
struct hapmem_acct {
	struct kref kref;
	struct hapmem_user *user;
	atomic64_t bytes;
	atomic64_t va32;
};

/* account.c */
void hapmem_account_init(void);
struct hapmem_acct *hapmem_acct_new(void);
void hapmem_acct_get(struct hapmem_acct *a);
void hapmem_acct_put(struct hapmem_acct *a);
int hapmem_acct_charge(struct hapmem_acct *a, u64 len);
void hapmem_acct_uncharge(struct hapmem_acct *a, u64 len);
int hapmem_acct_charge_va32(struct hapmem_acct *a, u64 len);
void hapmem_acct_uncharge_va32(struct hapmem_acct *a, u64 len);
int hapmem_pin_charge(struct mm_struct *mm, unsigned long npages);
void hapmem_pin_uncharge(struct mm_struct *mm, unsigned long npages);

/**
 * struct hapmem_counters - global counters, all back at 0 when idle
 * @sessions: open sessions
 * @maps: live maps (request, share and dma_handle)
 * @bytes: bytes those maps cover
 * @buffers: live buffers this driver exported
 * @pages: pages those buffers hold
 * @reservations: live address reservations
 * @va_cached: address ranges sessions keep for reuse (struct hapmem_va_cache)
 */
struct hapmem_counters {
	atomic64_t sessions;
	atomic64_t maps;
	atomic64_t bytes;
	atomic64_t buffers;
	atomic64_t pages;
	atomic64_t reservations;
	atomic64_t va_cached;
};

extern struct hapmem_counters hapmem_stats;

/**
 * enum hapmem_va_kind - what occupies a range of a remote's address space
 * @HAPMEM_VA_MAP: a map (struct hapmem_map)
 * @HAPMEM_VA_RESV: a reservation (struct hapmem_resv)
 * @HAPMEM_VA_BLOCKED: never handed out (IOMMU reserved regions, the DMA
 *	engine's bounce page)
 * @HAPMEM_VA_CACHED: a range a session unmapped and keeps for its next map
 *	of the same size (hapmem_va_cached, one shared entry)
 */
enum hapmem_va_kind {
	HAPMEM_VA_MAP,
	HAPMEM_VA_RESV,
	HAPMEM_VA_BLOCKED,
	HAPMEM_VA_CACHED,
};

/* The common head of everything stored in a remote's address space tree. */
struct hapmem_va {
	u64 start;
	u64 len;
	enum hapmem_va_kind kind;
};

/**
 * struct hapmem_remote - one remote processor and its device address space
 * @kref: the probe's reference (dropped at removal), one per session and
 *	per protected buffer bound to it
 * @revoke: held for reading by every ioctl and session open or release,
 *	for writing while removal revokes the remote's sessions
 * @dead: set once removal starts: sessions answer ENODEV, the DMA engine
 *	stops; nothing of the device is touched after removal
 * @index: position in probe order; names the device node
 * @name: "adsp", "cdsp", ...
 * @misc: the /dev/hapmem-<name> node
 * @misc_name: storage for @misc's name
 * @pdev: the PCI device (edu, or any device bound to hapmem), or NULL for
 *	the software remote
 * @dma_dev: the device whose DMA reaches the remote's memory
 * @import_pdev: a directly mapped device used to attach dma-bufs and learn
 *	their physical addresses, which are then mapped into @domain
 * @domain: the remote's own IOMMU domain, or NULL when the DMA API's
 *	addresses are used as device addresses
 * @va_lock: protects @va and every reservation's tree
 * @va: the device address space: struct hapmem_va entries by range
 * @va32_start: first address of the 32-bit window
 * @va32_end: end of the 32-bit window (exclusive)
 * @va64_start: first address of the high window
 * @va64_end: end of the high window (exclusive), 0 if none
 * @vcaches: every open session's struct hapmem_va_cache, under @va_lock
 * @mmio: BAR0 of an edu device (its DMA engine), or NULL: no engine
 * @engine_lock: serialises the DMA engine and @bounce
 * @bounce: a page the engine stages transfers through
 * @bounce_vapps: its CPU address
 * @bounce_vadsp: its device address
 * @bounce_blk: its entry in @va
 * @import_lock: protects @imports
 * @imports: struct hapmem_import by dma-buf: the buffers attached for maps
 * @dbg: its debugfs directory, hapmem/<name>/, or NULL
 * @xlate_lock: protects @xlate_va and @xlate_pages
 * @xlate_va: the device address debugfs translate reports from
 * @xlate_pages: how many pages it reports
 * @node: on hapmem_remotes
 */
struct hapmem_remote {
	struct kref kref;
	struct rw_semaphore revoke;
	bool dead;
	unsigned int index;
	char name[16];
	struct miscdevice misc;
	char misc_name[32];
	struct pci_dev *pdev;
	struct device *dma_dev;
	struct platform_device *import_pdev;
	struct iommu_domain *domain;
	struct mutex va_lock; /* see @va_lock above */
	struct maple_tree va;
	u64 va32_start;
	u64 va32_end;
	u64 va64_start;
	u64 va64_end;
	struct list_head vcaches;
	void __iomem *mmio;
	struct mutex engine_lock; /* see @engine_lock above */
	struct page *bounce;
	void *bounce_vapps;
	dma_addr_t bounce_vadsp;
	struct hapmem_va bounce_blk;
	struct mutex import_lock; /* see @import_lock above */
	struct rb_root imports;
	struct dentry *dbg;
	struct mutex xlate_lock; /* see @xlate_lock above */
	u64 xlate_va;
	u32 xlate_pages;
	struct list_head node;
};

static inline struct device *hapmem_import_dev(struct hapmem_remote *r)
{
	return &r->import_pdev->dev;
}

/*
 * The device memory is attached to for this remote: the import device when
 * hapmem maps into the remote's own domain (it needs physical addresses),
 * else the remote's DMA device, whose DMA-API addresses are the vadsp.
 */
static inline struct device *hapmem_attach_dev(struct hapmem_remote *r)
{
	return r->domain ? hapmem_import_dev(r) : r->dma_dev;
}

/* Sizes a session caches freed ranges of: 1 to 16 pages. */
#define HAPMEM_VA_CACHE_CLASSES	16
/* Ranges kept per size. */
#define HAPMEM_VA_CACHE_DEPTH	8
/* Pages of address space all of a session's cached ranges may cover. */
#define HAPMEM_VA_CACHE_PAGES	64

/**
 * struct hapmem_va_cache - ranges of the 32-bit window a session unmapped,
 * kept reserved in the remote's tree for its next maps of the same size
 * @start: by size class (pages - 1), a stack of range starts
 * @n: ranges in each class
 * @pages: pages all of them cover, at most HAPMEM_VA_CACHE_PAGES
 * @node: on the remote's @vcaches, from the session's open to its release
 *
 * A range enters the cache only once its IOMMU mapping is gone and the
 * IOTLB flushed, so the device faults on it exactly as on a free range;
 * only the address tree is spared.  Bounded in ranges and in pages, and
 * emptied back into the tree, every session's, when the 32-bit window runs
 * out of room for any session or reservation.
 * Protected by the remote's va_lock.
 */
struct hapmem_va_cache {
	u64 start[HAPMEM_VA_CACHE_CLASSES][HAPMEM_VA_CACHE_DEPTH];
	u8 n[HAPMEM_VA_CACHE_CLASSES];
	unsigned int pages;
	struct list_head node;
};

/* remote.c */
extern struct list_head hapmem_remotes;
extern struct mutex hapmem_remotes_lock;
int hapmem_remotes_init(void);
void hapmem_remotes_exit(void);
struct hapmem_remote *hapmem_remote_by_index(unsigned int index);
struct hapmem_remote *hapmem_remote_first(void);
struct hapmem_remote *hapmem_remote_by_attach_dev(struct device *dev);
void hapmem_remote_get(struct hapmem_remote *r);
void hapmem_remote_put(struct hapmem_remote *r);
unsigned int hapmem_remote_count(void);
u32 hapmem_remote_flags(struct hapmem_remote *r);

/* va.c: the remote's device address space */
int hapmem_va_alloc(struct hapmem_remote *r, struct hapmem_va *va, u64 len,
		    u32 map_flags, struct hapmem_va_cache *cache);
int hapmem_va_alloc_charged(struct hapmem_acct *acct, struct hapmem_remote *r,
			    struct hapmem_va *va, u64 len, u32 map_flags,
			    struct hapmem_va_cache *cache, bool *va32);
void hapmem_va_free(struct hapmem_remote *r, struct hapmem_va *va,
		    struct hapmem_va_cache *cache);
void hapmem_va_cache_init(struct hapmem_remote *r,
			  struct hapmem_va_cache *cache);
void hapmem_va_cache_drain(struct hapmem_remote *r,
			   struct hapmem_va_cache *cache);
int hapmem_va_block(struct hapmem_remote *r, struct hapmem_va *va,
		    u64 start, u64 len);
void *hapmem_mas_erase(struct ma_state *mas);
struct hapmem_va *hapmem_va_lookup(struct hapmem_remote *r, u64 addr);

/* engine.c: the remote's DMA engine */
int hapmem_engine_init(struct hapmem_remote *r);
void hapmem_engine_exit(struct hapmem_remote *r);
int hapmem_engine_access(struct hapmem_remote *r, u64 vadsp, u64 len,
			 void __user *ubuf, bool write, u32 *faults);

/**
 * struct hapmem_buffer - memory this driver allocated and exports
 * @dmabuf: the dma-buf
 * @size: bytes, whole pages
 * @flags: HAPMEM_BUF_*
 * @remote: the only remote a protected buffer may be attached by (a
 *	reference is held), or NULL
 * @acct: the account charged for an exported buffer's @size, or NULL
 * @table: one entry per physically contiguous chunk
 * @sg_one: @table's only entry when the buffer is one chunk (no allocation)
 * @nr_pages: pages held
 * @lock: protects @attachments, @vmap_cnt and @vaddr
 * @attachments: struct hapmem_attachment list
 * @vmap_cnt: kernel mappings
 * @vaddr: the kernel mapping while @vmap_cnt > 0
 */
struct hapmem_buffer {
	struct dma_buf *dmabuf;
	size_t size;
	u32 flags;
	struct hapmem_remote *remote;
	struct hapmem_acct *acct;
	struct sg_table table;
	struct scatterlist sg_one;
	unsigned long nr_pages;
	struct mutex lock; /* see @lock above */
	struct list_head attachments;
	unsigned int vmap_cnt;
	void *vaddr;
};

#define HAPMEM_BUF_CACHED	BIT(0)	/* CPU mappings cached */
#define HAPMEM_BUF_PROTECTED	BIT(1)	/* no CPU path at all */
#define HAPMEM_BUF_LLC		BIT(2)	/* from the LLC carve-out */
#define HAPMEM_BUF_CONTIG	BIT(3)	/* one physically contiguous chunk */

/* buffer.c */
int hapmem_buffer_init(struct hapmem_buffer *buf, size_t size, u32 flags,
		       struct hapmem_remote *remote);
void hapmem_buffer_fini(struct hapmem_buffer *buf);
struct dma_buf *hapmem_buffer_export(size_t size, u32 flags,
				     struct hapmem_remote *remote,
				     struct hapmem_acct *acct);
bool hapmem_is_buffer(struct dma_buf *dmabuf);

/* llc.c: the low-latency carve-out */
int hapmem_llc_init(void);
void hapmem_llc_exit(void);
int hapmem_llc_alloc(size_t size, struct page **page);
void hapmem_llc_free(struct page *page, size_t size);
void hapmem_llc_usage(u64 *total, u64 *used);

enum hapmem_map_kind {
	HAPMEM_MAP_REQUEST,
	HAPMEM_MAP_SHARE,
	HAPMEM_MAP_DMA_HANDLE,
};

/**
 * struct hapmem_resv - a reserved range of a remote's address space
 * @va: the range, in the remote's tree
 * @maps: fixed maps inside it, by range (under the remote's va_lock)
 * @owner: the session that made it
 * @va32: the range is charged to the owner's 32-bit window share
 * @node: on the owning session's list
 */
struct hapmem_resv {
	struct hapmem_va va;
	bool va32;
	struct maple_tree maps;
	struct hapmem_session *owner;
	struct list_head node;
};

/* resv.c */
int hapmem_resv_create(struct hapmem_session *s, u64 len, u32 flags,
		       u64 *vadsp);
int hapmem_resv_destroy(struct hapmem_session *s, u64 vadsp, u64 len);
void hapmem_resv_destroy_all(struct hapmem_session *s);
struct hapmem_va *hapmem_resv_lookup(struct hapmem_resv *resv, u64 addr);

/**
 * struct hapmem_map - a range of memory mapped for the remote
 * @kref: the session's tree holds one reference; ioctls in flight hold more
 * @va: the device address range (in the remote's tree, or in @resv's)
 * @kind: which ioctl made it, and so which unmap undoes it
 * @remote: the remote whose address space holds it
 * @resv: the reservation a fixed map sits in, or NULL
 * @owner: the session that made it
 * @s_node: on @owner's map list while published there (under its lock)
 * @dmabuf: the memory, or NULL for pinned user pages and @buf
 * @import: @dmabuf as attached for the remote, shared with its other maps
 * @buf: memory the map allocated and owns, with no dma-buf (a request_map
 *	that returns no fd), allocated with the map; or NULL
 * @sgt: the DMA addresses of the memory, from @import, @buf or @upages
 * @offset: where the map starts in @dmabuf
 * @upages: pinned user pages (ADD_PAGES with vin)
 * @nr_upages: how many
 * @pin_mm: the mm their pinning is charged to (a grab is held)
 * @usgt: @upages as a DMA-mapped table
 * @charge: bytes charged to the owner's account while published
 * @va32: its range is charged to the owner's 32-bit window share
 * @prot: IOMMU_READ | IOMMU_WRITE
 * @rflags: the request's rflags (request maps)
 * @chunks: the IOMMU layout, for info and debugfs
 * @dh_node: on the session's dma_handle tree (dma_handle maps)
 * @dh_refs: dma_handle_map references (under the session lock)
 * @dh_seq: creation order, newest first on unmap
 */
struct hapmem_map {
	struct kref kref;
	struct hapmem_va va;
	enum hapmem_map_kind kind;
	struct hapmem_remote *remote;
	struct hapmem_resv *resv;
	struct hapmem_session *owner;
	struct list_head s_node;
	struct dma_buf *dmabuf;
	struct hapmem_import *import;
	struct hapmem_buffer *buf;
	struct sg_table *sgt;
	u64 offset;
	struct page **upages;
	unsigned long nr_upages;
	struct mm_struct *pin_mm;
	struct sg_table usgt;
	u64 charge;
	bool va32;
	int prot;
	u32 rflags;
	struct hapmem_chunks chunks;
	struct rb_node dh_node;
	unsigned int dh_refs;
	u64 dh_seq;
};

/**
 * struct hapmem_import - a dma-buf attached for one remote
 * @kref: one reference per map of the buffer on the remote
 * @remote: the remote
 * @dmabuf: the buffer; a reference is held
 * @attach: the attachment to the remote's attach device
 * @sgt: its DMA-mapped table
 * @node: in the remote's imports, by @dmabuf
 *
 * Every map of one buffer on one remote shares one attachment, so a buffer
 * mapped many times (at other offsets, by other sessions) is attached and
 * DMA-mapped once, not once per map.
 */
struct hapmem_import {
	struct kref kref;
	struct hapmem_remote *remote;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct rb_node node;
};

/* map.c */
struct hapmem_map *hapmem_map_dmabuf(struct hapmem_session *s,
				     struct dma_buf *dmabuf, u64 offset,
				     u64 len, u32 map_flags, u64 fixed_va);
struct hapmem_map *hapmem_map_user(struct hapmem_session *s, u64 vin,
				   u64 len, u32 map_flags);
struct hapmem_map *hapmem_map_alloc(struct hapmem_session *s, u64 len,
				    u32 buf_flags, u32 map_flags);
void hapmem_map_put(struct hapmem_map *map);
void hapmem_map_release_va(struct hapmem_map *map);
int hapmem_resv_place(struct hapmem_session *s, struct hapmem_map *map,
		      u64 start, u64 len);
void hapmem_resv_remove(struct hapmem_remote *r, struct hapmem_map *map);
static inline void hapmem_map_get(struct hapmem_map *map)
{
	kref_get(&map->kref);
}

/**
 * struct hapmem_session - one open file of a remote's device node
 * @remote: the remote it is bound to
 * @lock: protects everything below
 * @map_list: every published map (struct hapmem_map, @s_node)
 * @maps: without an IOMMU, every map by the page its device address starts
 *	in; with one, the remote's address tree finds maps and this is empty
 * @dh_root: dma_handle maps by (buffer, offset, len)
 * @dh_seq: next dma_handle creation number
 * @resvs: reservations
 * @acct: bytes allocated and mapped, 32-bit window share (account.c)
 * @nr_maps: maps in @maps
 * @nr_resvs: reservations in @resvs (max_session_maps at most)
 * @resv_bytes: bytes they cover (max_session_reserved_bytes at most; all
 *	sessions' together, max_global_reserved_bytes)
 * @vcache: address ranges its maps had, kept for its next maps
 * @pid: the opener, for debugfs
 * @node: on hapmem_sessions
 */
struct hapmem_session {
	struct hapmem_remote *remote;
	struct mutex lock; /* see @lock above */
	struct list_head map_list;
	struct xarray maps;
	struct rb_root dh_root;
	u64 dh_seq;
	struct list_head resvs;
	struct hapmem_acct *acct;
	u64 nr_maps;
	u64 nr_resvs;
	u64 resv_bytes;
	struct hapmem_va_cache vcache;
	pid_t pid;
	struct list_head node;
};

/* account.c: the session's counts */
int hapmem_session_charge(struct hapmem_session *s, u64 len);
void hapmem_session_uncharge(struct hapmem_session *s, u64 len);
int hapmem_resv_charge(struct hapmem_session *s, u64 len);
void hapmem_resv_uncharge(struct hapmem_session *s, u64 len);

/* session.c */
extern const struct file_operations hapmem_fops;
extern struct list_head hapmem_sessions;
extern struct mutex hapmem_sessions_lock;
void hapmem_sessions_revoke(struct hapmem_remote *r);
int hapmem_session_add(struct hapmem_session *s, struct hapmem_map *map);
void hapmem_session_del(struct hapmem_session *s, struct hapmem_map *map);
bool hapmem_session_has(struct hapmem_session *s, struct hapmem_map *map);
struct hapmem_map *hapmem_session_take(struct hapmem_session *s, u64 vadsp,
				       u64 len, enum hapmem_map_kind kind,
				       int *err);
struct hapmem_map *hapmem_session_find(struct hapmem_session *s, u64 vadsp,
				       u64 len);
/* Any map, whatever its permissions and placement. */
#define HAPMEM_DH_ANY	U32_MAX
struct hapmem_map *hapmem_session_dh_find(struct hapmem_session *s,
					  struct dma_buf *dmabuf, u64 offset,
					  u64 len, u32 map_flags);
void hapmem_session_dh_add(struct hapmem_session *s, struct hapmem_map *map);
void hapmem_session_dh_del(struct hapmem_session *s, struct hapmem_map *map);

/* ioctl.c */
long hapmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* debugfs.c */
void hapmem_debugfs_init(void);
void hapmem_debugfs_exit(void);
void hapmem_debugfs_remote_add(struct hapmem_remote *r);
void hapmem_debugfs_remote_del(struct hapmem_remote *r);

#endif /* _HAPMEM_H */
