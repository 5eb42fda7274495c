// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: ioctl dispatch and handlers.
 *
 * Every ioctl struct starts with its size.  The dispatcher reads that many
 * bytes (the tail past the kernel's struct must be zero, the head at least
 * the first published version), calls the handler through a table indexed
 * by the command number, and handlers copy their results back with
 * hapmem_respond() before they publish anything that cannot be taken back,
 * such as an fd.
 */
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "hapmem.h"

struct hapmem_ucmd {
	void __user *ubuffer;
	u32 user_size;
	u32 kernel_size;
	void *cmd;
};

union hapmem_ucmd_buffer {
	struct hapmem_info info;
	struct hapmem_alloc alloc;
	struct hapmem_request_map request_map;
	struct hapmem_unmap unmap;
	struct hapmem_share_map share_map;
	struct hapmem_dma_handle_map dma_handle_map;
	struct hapmem_dma_handle_unmap dma_handle_unmap;
	struct hapmem_remote_access remote_access;
	struct hapmem_reserve_va reserve_va;
	struct hapmem_unreserve_va unreserve_va;
	struct hapmem_nop nop;
};

/* Copy the whole struct back, up to the smaller of both sizes. */
static int hapmem_respond(struct hapmem_ucmd *ucmd)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min(ucmd->user_size, ucmd->kernel_size)))
		return -EFAULT;
	return 0;
}

/* Lengths the driver will ever map; keeps every later sum from overflowing. */
static bool hapmem_len_ok(u64 len)
{
	return len && len <= READ_ONCE(hapmem_max_session_bytes) &&
	       len <= U64_MAX - PAGE_SIZE;
}

static int hapmem_fd_to_dmabuf(int fd, struct dma_buf **dmabuf)
{
	struct dma_buf *d = dma_buf_get(fd);

	if (IS_ERR(d))
		/* dma_buf_get() says -EINVAL for an open fd that is not one. */
		return PTR_ERR(d) == -EINVAL ? -ENODEV : PTR_ERR(d);
	*dmabuf = d;
	return 0;
}

/* The placement bits are exclusive. */
static bool hapmem_placement_ok(u32 flags)
{
	return (flags & (HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH)) !=
	       (HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH);
}

static int hapmem_ioctl_info(struct hapmem_session *s, struct hapmem_ucmd *ucmd)
{
	struct hapmem_info *cmd = ucmd->cmd;
	struct hapmem_remote *r;
	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	if (cmd->remote == HAPMEM_INFO_SELF) {
		r = s->remote;
		hapmem_remote_get(r);
	} else {
		r = hapmem_remote_by_index(cmd->remote);
		if (!r)
			return -ENOENT;
	}
	/*
	 * Another remote may be on its way out: read it under its lock, taken
	 * inside this session's own (removal of one never waits for another).
	 */
	if (r != s->remote)
		down_read_nested(&r->revoke, SINGLE_DEPTH_NESTING);
	if (r->dead) {
		ret = -ENOENT;
		goto out;
	}

	cmd->num_remotes = hapmem_remote_count();
	cmd->remote_index = r->index;
	cmd->remote_flags = hapmem_remote_flags(r);
	memset(cmd->name, 0, sizeof(cmd->name));
	strscpy(cmd->name, r->name, sizeof(cmd->name));
	cmd->pci_bdf = r->pdev ? pci_dev_id(r->pdev) : ~0U;
	cmd->va32_start = r->va32_start;
	cmd->va32_end = r->va32_end;
	cmd->va64_start = r->va64_start;
	cmd->va64_end = r->va64_end;
	cmd->pgsize_bitmap = r->domain ? r->domain->pgsize_bitmap : PAGE_SIZE;
	cmd->max_session_bytes = READ_ONCE(hapmem_max_session_bytes);
	cmd->max_session_maps = READ_ONCE(hapmem_max_session_maps);
	cmd->max_global_bytes = READ_ONCE(hapmem_max_global_bytes);
	hapmem_llc_usage(&cmd->llc_total, &cmd->llc_used);
	mutex_lock(&s->lock);
	cmd->session_maps = s->nr_maps;
	mutex_unlock(&s->lock);
	cmd->session_bytes = atomic64_read(&s->acct->bytes);
	cmd->global_sessions = atomic64_read(&hapmem_stats.sessions);
	cmd->global_maps = atomic64_read(&hapmem_stats.maps);
	cmd->global_bytes = atomic64_read(&hapmem_stats.bytes);
	cmd->global_buffers = atomic64_read(&hapmem_stats.buffers);
	cmd->global_pages = atomic64_read(&hapmem_stats.pages);
	cmd->global_reservations = atomic64_read(&hapmem_stats.reservations);
	ret = hapmem_respond(ucmd);
out:
	if (r != s->remote)
		up_read(&r->revoke);
	hapmem_remote_put(r);
	return ret;
}

/*
 * Copy the results out, then install @fd for @dmabuf.  The fd was only
 * reserved until now, so a failed copy leaves nothing behind for user
 * space to close (the double-fput class of bugs cannot happen).
 */
static int hapmem_respond_install(struct hapmem_ucmd *ucmd, int fd,
				  struct dma_buf *dmabuf)
{
	int ret = hapmem_respond(ucmd);

	if (ret) {
		put_unused_fd(fd);
		return ret;
	}
	get_dma_buf(dmabuf);
	fd_install(fd, dmabuf->file);
	return 0;
}

/* The exporter flags for memory a session allocates. */
static u32 hapmem_buf_flags(struct hapmem_session *s, u32 ion_flags,
			    u32 rflags)
{
	u32 flags = 0;

	if (ion_flags & HAPMEM_ION_FLAG_CACHED)
		flags |= HAPMEM_BUF_CACHED;
	if (rflags == HAPMEM_RFLAG_REMOTE_HEAP_ADDR)
		flags |= HAPMEM_BUF_PROTECTED;
	if (rflags == HAPMEM_RFLAG_ADD_PAGES_LLC)
		flags |= HAPMEM_BUF_LLC;
	/* Without an IOMMU a device address covers one physical run. */
	if (!s->remote->domain)
		flags |= HAPMEM_BUF_CONTIG;
	return flags;
}

static int hapmem_ioctl_alloc(struct hapmem_session *s, struct hapmem_ucmd *ucmd)
{
	struct hapmem_alloc *cmd = ucmd->cmd;
	struct dma_buf *dmabuf;
	int fd, ret;

	if ((cmd->flags & ~HAPMEM_ALLOC_VALID) || cmd->__reserved || !cmd->len)
		return -EINVAL;
	if (!hapmem_len_ok(cmd->len))
		return -EDQUOT;

	dmabuf = hapmem_buffer_export(PAGE_ALIGN(cmd->len),
				      hapmem_buf_flags(s, cmd->flags, 0), NULL,
				      s->acct);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	cmd->fd = fd;
	ret = hapmem_respond_install(ucmd, fd, dmabuf);
out:
	dma_buf_put(dmabuf);
	return ret;
}

/*
 * Drop one dma_handle reference on @map, a map of @s; the last one takes
 * the map out of the session and hands the tree's reference to *@gone.
 * Return: the references left.
 */
static unsigned int hapmem_dh_unref(struct hapmem_session *s,
				    struct hapmem_map *map,
				    struct hapmem_map **gone)
	__must_hold(&s->lock)
{
	if (--map->dh_refs)
		return map->dh_refs;
	hapmem_session_dh_del(s, map);
	hapmem_session_del(s, map);
	*gone = map;
	return 0;
}

/*
 * Publish a new map in the session, then answer.  If the answer cannot be
 * copied out, the map is withdrawn again, unless another thread of the
 * same process already unmapped it.  The caller keeps its own reference.
 */
static int hapmem_publish_map(struct hapmem_session *s, struct hapmem_map *map,
			      struct hapmem_ucmd *ucmd, int fd)
{
	struct dma_buf *dmabuf = map->dmabuf;
	int ret;

	/*
	 * A buffer exported with its map (@fd) is charged as allocated
	 * memory for as long as it lives; its first map adds nothing more.
	 */
	map->charge = fd >= 0 ? 0 : map->va.len;
	mutex_lock(&s->lock);
	ret = hapmem_session_charge(s, map->charge);
	if (!ret) {
		ret = hapmem_session_add(s, map);
		if (ret)
			hapmem_session_uncharge(s, map->charge);
	}
	if (!ret) {
		hapmem_map_get(map);
		if (map->kind == HAPMEM_MAP_DMA_HANDLE)
			hapmem_session_dh_add(s, map);
	}
	mutex_unlock(&s->lock);
	if (ret)
		goto err_fd;

	ret = hapmem_respond(ucmd);
	if (ret)
		goto err_withdraw;
	if (fd >= 0) {
		get_dma_buf(dmabuf);
		fd_install(fd, dmabuf->file);
	}
	return 0;

err_withdraw:
	mutex_lock(&s->lock);
	if (hapmem_session_has(s, map)) {
		struct hapmem_map *gone = NULL;

		/* Others may hold dma_handle references by now: drop ours. */
		if (map->kind == HAPMEM_MAP_DMA_HANDLE) {
			hapmem_dh_unref(s, map, &gone);
		} else {
			hapmem_session_del(s, map);
			gone = map;
		}
		/* Not the last reference: the caller holds one. */
		if (gone)
			hapmem_map_put(gone);
	}
	mutex_unlock(&s->lock);
err_fd:
	if (fd >= 0)
		put_unused_fd(fd);
	return ret;
}

static bool hapmem_rflags_ok(u32 rflags)
{
	switch (rflags) {
	case 0:
	case HAPMEM_RFLAG_HEAP_ADDR:
	case HAPMEM_RFLAG_REMOTE_HEAP_ADDR:
	case HAPMEM_RFLAG_ADD_PAGES:
	case HAPMEM_RFLAG_ADD_PAGES_LLC:
	case HAPMEM_RFLAG_HLOS_FD:
		return true;
	default:
		/* Unknown bits, or two sources of memory at once. */
		return false;
	}
}

static int hapmem_request_validate(struct hapmem_request_map *cmd)
{
	bool user = cmd->vin != 0;
	u64 end;

	if ((cmd->flags & ~HAPMEM_REQUEST_MAP_VALID) ||
	    !hapmem_placement_ok(cmd->flags) || cmd->__reserved ||
	    cmd->__reserved2 || (cmd->ion_flags & ~HAPMEM_ION_FLAGS_VALID) ||
	    !hapmem_rflags_ok(cmd->rflags))
		return -EINVAL;
	if (cmd->heap_id != HAPMEM_HEAP_ID_ANY &&
	    cmd->heap_id != HAPMEM_HEAP_ID_DEFAULT &&
	    cmd->heap_id != HAPMEM_HEAP_ID_SYSTEM)
		return -EINVAL;
	if (!cmd->len || ((cmd->flags & HAPMEM_MAP_VA32) && cmd->len > INT_MAX))
		return -EINVAL;
	if (user) {
		if (cmd->rflags != 0 && cmd->rflags != HAPMEM_RFLAG_ADD_PAGES)
			return -EINVAL;
		if (!PAGE_ALIGNED(cmd->vin) || !PAGE_ALIGNED(cmd->len) ||
		    check_add_overflow(cmd->vin, cmd->len, &end) ||
		    end > TASK_SIZE)
			return -EINVAL;
	}
	if (!hapmem_len_ok(cmd->len))
		return -EDQUOT;
	if ((cmd->rflags == HAPMEM_RFLAG_REMOTE_HEAP_ADDR ||
	     cmd->rflags == HAPMEM_RFLAG_ADD_PAGES_LLC) &&
	    !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static int hapmem_ioctl_request_map(struct hapmem_session *s,
				    struct hapmem_ucmd *ucmd)
{
	struct hapmem_request_map *cmd = ucmd->cmd;
	u32 place = cmd->flags & (HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH);
	bool hlos = cmd->rflags == HAPMEM_RFLAG_HLOS_FD;
	struct dma_buf *dmabuf = NULL;
	struct hapmem_map *map;
	int fd = -1, ret;
	u32 buf_flags;

	ret = hapmem_request_validate(cmd);
	if (ret)
		return ret;
	buf_flags = hapmem_buf_flags(s, cmd->ion_flags, cmd->rflags);
	cmd->fd = -1;
	memset(&cmd->chunks, 0, sizeof(cmd->chunks));

	if (cmd->vin) {
		map = hapmem_map_user(s, cmd->vin, cmd->len, place);
		if (IS_ERR(map))
			return PTR_ERR(map);
		goto publish;
	}
	/* No fd will name the memory: it needs no dma-buf. */
	if (!hlos && !(cmd->flags & HAPMEM_REQUEST_FD)) {
		map = hapmem_map_alloc(s, PAGE_ALIGN(cmd->len), buf_flags,
				       place);
		if (IS_ERR(map))
			return PTR_ERR(map);
		goto publish;
	}

	dmabuf = hapmem_buffer_export(PAGE_ALIGN(cmd->len), buf_flags,
				      (buf_flags & HAPMEM_BUF_PROTECTED) ?
				      s->remote : NULL, s->acct);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_buf;
	}
	cmd->fd = fd;

	/* HLOS_FD memory lives on the application side until first needed. */
	if (hlos) {
		cmd->vadsp = 0;
		ret = hapmem_respond_install(ucmd, fd, dmabuf);
		goto out_buf;
	}

	map = hapmem_map_dmabuf(s, dmabuf, 0, PAGE_ALIGN(cmd->len), place, 0);
	if (IS_ERR(map)) {
		ret = PTR_ERR(map);
		put_unused_fd(fd);
		goto out_buf;
	}
publish:
	map->kind = HAPMEM_MAP_REQUEST;
	map->rflags = cmd->rflags;
	cmd->vadsp = map->va.start;
	cmd->chunks = map->chunks;
	ret = hapmem_publish_map(s, map, ucmd, fd);
	hapmem_map_put(map);
out_buf:
	if (dmabuf)
		dma_buf_put(dmabuf);
	return ret;
}

static int hapmem_unmap_kind(struct hapmem_session *s, struct hapmem_ucmd *ucmd,
			     enum hapmem_map_kind kind)
{
	struct hapmem_unmap *cmd = ucmd->cmd;
	struct hapmem_map *map;
	int ret = 0;

	if (cmd->flags || !cmd->len || cmd->len > U64_MAX - PAGE_SIZE)
		return -EINVAL;
	mutex_lock(&s->lock);
	map = hapmem_session_take(s, cmd->vadsp, PAGE_ALIGN(cmd->len), kind,
				  &ret);
	mutex_unlock(&s->lock);
	if (!map)
		return ret;
	hapmem_map_put(map);
	return 0;
}

static int hapmem_ioctl_request_unmap(struct hapmem_session *s,
				      struct hapmem_ucmd *ucmd)
{
	return hapmem_unmap_kind(s, ucmd, HAPMEM_MAP_REQUEST);
}

static int hapmem_ioctl_share_unmap(struct hapmem_session *s,
				    struct hapmem_ucmd *ucmd)
{
	return hapmem_unmap_kind(s, ucmd, HAPMEM_MAP_SHARE);
}

/*
 * Check a (buffer, offset, len) range: page aligned, inside the buffer.
 * A @len of 0 means "to the end" where @to_end allows it.
 */
static int hapmem_range_ok(struct dma_buf *dmabuf, u64 offset, u64 *len,
			   bool to_end)
{
	u64 end;

	if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(*len))
		return -EINVAL;
	if (!*len && to_end) {
		if (offset >= dmabuf->size)
			return -EINVAL;
		*len = dmabuf->size - offset;
	}
	if (!*len || check_add_overflow(offset, *len, &end) ||
	    end > dmabuf->size)
		return -EINVAL;
	if (!hapmem_len_ok(*len))
		return -EDQUOT;
	return 0;
}

static int hapmem_ioctl_share_map(struct hapmem_session *s,
				  struct hapmem_ucmd *ucmd)
{
	struct hapmem_share_map *cmd = ucmd->cmd;
	struct dma_buf *dmabuf;
	struct hapmem_map *map;
	u64 len = cmd->len;
	int ret;

	if ((cmd->flags & ~HAPMEM_SHARE_MAP_VALID) || cmd->__reserved ||
	    !hapmem_placement_ok(cmd->flags))
		return -EINVAL;
	if (cmd->flags & HAPMEM_MAP_FIXED) {
		if ((cmd->flags & (HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH)) ||
		    !cmd->vadsp || !PAGE_ALIGNED(cmd->vadsp))
			return -EINVAL;
	}
	ret = hapmem_fd_to_dmabuf(cmd->fd, &dmabuf);
	if (ret)
		return ret;
	ret = hapmem_range_ok(dmabuf, cmd->offset, &len, true);
	if (ret)
		goto out;

	map = hapmem_map_dmabuf(s, dmabuf, cmd->offset, len,
				cmd->flags & HAPMEM_SHARE_MAP_VALID,
				cmd->vadsp);
	if (IS_ERR(map)) {
		ret = PTR_ERR(map);
		goto out;
	}
	map->kind = HAPMEM_MAP_SHARE;
	cmd->vadsp = map->va.start;
	cmd->len = len;
	cmd->chunks = map->chunks;
	ret = hapmem_publish_map(s, map, ucmd, -1);
	hapmem_map_put(map);
out:
	dma_buf_put(dmabuf);
	return ret;
}

static int hapmem_ioctl_dma_handle_map(struct hapmem_session *s,
				       struct hapmem_ucmd *ucmd)
{
	struct hapmem_dma_handle_map *cmd = ucmd->cmd;
	struct hapmem_map *map;
	struct dma_buf *dmabuf;
	u64 len = cmd->len;
	int ret;

	if ((cmd->flags & ~HAPMEM_DMA_HANDLE_MAP_VALID) || cmd->__reserved ||
	    cmd->__reserved2)
		return -EINVAL;
	ret = hapmem_fd_to_dmabuf(cmd->fd, &dmabuf);
	if (ret)
		return ret;
	ret = hapmem_range_ok(dmabuf, cmd->offset, &len, false);
	if (ret)
		goto out;

	/*
	 * The same range with the same permissions and placement again: one
	 * more reference on the same map.
	 */
	mutex_lock(&s->lock);
	map = hapmem_session_dh_find(s, dmabuf, cmd->offset, len, cmd->flags);
	if (map) {
		/* Other threads may unmap it while the answer goes out. */
		hapmem_map_get(map);
		cmd->refs = ++map->dh_refs;
		cmd->vadsp = map->va.start;
		cmd->chunks = map->chunks;
	}
	mutex_unlock(&s->lock);
	if (map) {
		ret = hapmem_respond(ucmd);
		if (ret) {
			struct hapmem_map *gone = NULL;

			mutex_lock(&s->lock);
			/* Unless unmaps already took it out with our reference. */
			if (!RB_EMPTY_NODE(&map->dh_node))
				hapmem_dh_unref(s, map, &gone);
			mutex_unlock(&s->lock);
			if (gone)
				hapmem_map_put(gone);
		}
		hapmem_map_put(map);
		goto out;
	}

	map = hapmem_map_dmabuf(s, dmabuf, cmd->offset, len,
				cmd->flags & HAPMEM_DMA_HANDLE_MAP_VALID, 0);
	if (IS_ERR(map)) {
		ret = PTR_ERR(map);
		goto out;
	}
	map->kind = HAPMEM_MAP_DMA_HANDLE;
	map->dh_refs = 1;
	cmd->refs = 1;
	cmd->vadsp = map->va.start;
	cmd->chunks = map->chunks;
	ret = hapmem_publish_map(s, map, ucmd, -1);
	hapmem_map_put(map);
out:
	dma_buf_put(dmabuf);
	return ret;
}

static int hapmem_ioctl_dma_handle_unmap(struct hapmem_session *s,
					 struct hapmem_ucmd *ucmd)
{
	struct hapmem_dma_handle_unmap *cmd = ucmd->cmd;
	struct hapmem_map *map, *gone = NULL;
	struct dma_buf *dmabuf;
	int ret;

	if (cmd->flags || cmd->__reserved || cmd->__reserved2 || !cmd->len ||
	    cmd->len > U64_MAX - PAGE_SIZE)
		return -EINVAL;
	/* A reference dropped cannot be taken back: check the answer can go out. */
	ret = hapmem_respond(ucmd);
	if (ret)
		return ret;
	ret = hapmem_fd_to_dmabuf(cmd->fd, &dmabuf);
	if (ret)
		return ret;

	mutex_lock(&s->lock);
	map = hapmem_session_dh_find(s, dmabuf, U64_MAX, PAGE_ALIGN(cmd->len),
				     HAPMEM_DH_ANY);
	if (!map)
		ret = -ENOENT;
	else
		cmd->refs = hapmem_dh_unref(s, map, &gone);
	mutex_unlock(&s->lock);
	dma_buf_put(dmabuf);
	if (gone)
		hapmem_map_put(gone);
	return ret ? ret : hapmem_respond(ucmd);
}

static int hapmem_ioctl_remote_access(struct hapmem_session *s,
				      struct hapmem_ucmd *ucmd)
{
	struct hapmem_remote_access *cmd = ucmd->cmd;
	struct hapmem_map *map = NULL;
	u64 end;
	int ret;

	if (!READ_ONCE(hapmem_allow_remote_access))
		return -EPERM;
	if ((cmd->flags & ~HAPMEM_ACCESS_VALID) || cmd->__reserved ||
	    !cmd->len || cmd->len > HAPMEM_ACCESS_MAX_LEN ||
	    check_add_overflow(cmd->vadsp, cmd->len, &end))
		return -EINVAL;
	if (cmd->flags & HAPMEM_ACCESS_RAW) {
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
	} else {
		/* Held until the transfer ends: an unmap cannot pull it away. */
		map = hapmem_session_find(s, cmd->vadsp, cmd->len);
		if (!map)
			return -ENOENT;
	}
	ret = hapmem_engine_access(s->remote, cmd->vadsp, cmd->len,
				   u64_to_user_ptr(cmd->uptr),
				   cmd->flags & HAPMEM_ACCESS_WRITE,
				   &cmd->faults);
	/*
	 * The IOMMU refuses a write into a map the remote may only read; the
	 * device cannot tell, so count the refusal here: every page.
	 */
	if (!ret && map && (cmd->flags & HAPMEM_ACCESS_WRITE) &&
	    !(map->prot & IOMMU_WRITE))
		cmd->faults = (round_up(end, PAGE_SIZE) -
			       round_down(cmd->vadsp, PAGE_SIZE)) >> PAGE_SHIFT;
	if (map)
		hapmem_map_put(map);
	return ret ? ret : hapmem_respond(ucmd);
}

static int hapmem_ioctl_reserve_va(struct hapmem_session *s,
				   struct hapmem_ucmd *ucmd)
{
	struct hapmem_reserve_va *cmd = ucmd->cmd;
	int ret;

	if ((cmd->flags & ~HAPMEM_RESERVE_VA_VALID) ||
	    !hapmem_placement_ok(cmd->flags) || !cmd->len ||
	    !PAGE_ALIGNED(cmd->len))
		return -EINVAL;
	if (!hapmem_len_ok(cmd->len))
		return -EDQUOT;
	ret = hapmem_resv_create(s, cmd->len, cmd->flags, &cmd->vadsp);
	if (ret)
		return ret;
	ret = hapmem_respond(ucmd);
	if (ret)
		hapmem_resv_destroy(s, cmd->vadsp, cmd->len);
	return ret;
}

static int hapmem_ioctl_unreserve_va(struct hapmem_session *s,
				     struct hapmem_ucmd *ucmd)
{
	struct hapmem_unreserve_va *cmd = ucmd->cmd;

	if (cmd->flags || !cmd->len)
		return -EINVAL;
	return hapmem_resv_destroy(s, cmd->vadsp, cmd->len);
}

static int hapmem_ioctl_nop(struct hapmem_session *s, struct hapmem_ucmd *ucmd)
{
	struct hapmem_nop *cmd = ucmd->cmd;

	return cmd->flags ? -EINVAL : 0;
}

struct hapmem_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct hapmem_session *s, struct hapmem_ucmd *ucmd);
};

#define HAPMEM_OP(_cmd, _fn, _struct, _last)				\
	[(_cmd) - HAPMEM_CMD_BASE] = {					\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union hapmem_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.execute = _fn,						\
	}

static const struct hapmem_ioctl_op hapmem_ioctl_ops[] = {
	HAPMEM_OP(HAPMEM_CMD_INFO, hapmem_ioctl_info, struct hapmem_info,
		  global_reservations),
	HAPMEM_OP(HAPMEM_CMD_ALLOC, hapmem_ioctl_alloc, struct hapmem_alloc,
		  __reserved),
	HAPMEM_OP(HAPMEM_CMD_REQUEST_MAP, hapmem_ioctl_request_map,
		  struct hapmem_request_map, __reserved2),
	HAPMEM_OP(HAPMEM_CMD_REQUEST_UNMAP, hapmem_ioctl_request_unmap,
		  struct hapmem_unmap, len),
	HAPMEM_OP(HAPMEM_CMD_SHARE_MAP, hapmem_ioctl_share_map,
		  struct hapmem_share_map, vadsp),
	HAPMEM_OP(HAPMEM_CMD_SHARE_UNMAP, hapmem_ioctl_share_unmap,
		  struct hapmem_unmap, len),
	HAPMEM_OP(HAPMEM_CMD_DMA_HANDLE_MAP, hapmem_ioctl_dma_handle_map,
		  struct hapmem_dma_handle_map, __reserved2),
	HAPMEM_OP(HAPMEM_CMD_DMA_HANDLE_UNMAP, hapmem_ioctl_dma_handle_unmap,
		  struct hapmem_dma_handle_unmap, __reserved2),
	HAPMEM_OP(HAPMEM_CMD_REMOTE_ACCESS, hapmem_ioctl_remote_access,
		  struct hapmem_remote_access, __reserved),
	HAPMEM_OP(HAPMEM_CMD_RESERVE_VA, hapmem_ioctl_reserve_va,
		  struct hapmem_reserve_va, vadsp),
	HAPMEM_OP(HAPMEM_CMD_UNRESERVE_VA, hapmem_ioctl_unreserve_va,
		  struct hapmem_unreserve_va, len),
	HAPMEM_OP(HAPMEM_CMD_NOP, hapmem_ioctl_nop, struct hapmem_nop, flags),
};

/*
 * The largest argument size accepted: larger ones would only make the
 * kernel check more bytes for zero (openat2 and clone3 cap theirs alike).
 */
#define HAPMEM_UCMD_MAX_SIZE	PAGE_SIZE

long hapmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hapmem_session *s = file->private_data;
	struct hapmem_remote *r = s->remote;
	union hapmem_ucmd_buffer buf;
	const struct hapmem_ioctl_op *op;
	struct hapmem_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) != HAPMEM_TYPE || _IOC_DIR(cmd) != _IOC_NONE ||
	    _IOC_SIZE(cmd) || nr < HAPMEM_CMD_BASE || nr >= HAPMEM_CMD_END)
		return -ENOTTY;
	op = &hapmem_ioctl_ops[array_index_nospec(nr - HAPMEM_CMD_BASE,
						  ARRAY_SIZE(hapmem_ioctl_ops))];
	if (!op->execute)
		return -ENOTTY;

	/* Removal waits for running ioctls, and later ones find it dead. */
	down_read(&r->revoke);
	if (r->dead) {
		ret = -ENODEV;
		goto out;
	}
	ucmd.ubuffer = (void __user *)arg;
	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		goto out;
	if (ucmd.user_size < op->min_size) {
		ret = -EINVAL;
		goto out;
	}
	if (ucmd.user_size > HAPMEM_UCMD_MAX_SIZE) {
		ret = -E2BIG;
		goto out;
	}
	ucmd.kernel_size = op->size;
	ret = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		goto out;
	ucmd.cmd = &buf;
	ret = op->execute(s, &ucmd);
out:
	up_read(&r->revoke);
	return ret;
}
