// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: sessions.
 *
 * Each open file of a remote's device node is a session.  It keeps its maps
 * on a list.  By device address, the remote's address tree finds them when
 * the remote has an IOMMU (a map in the tree knows its session, so
 * publishing or unmapping one allocates and frees nothing); without one,
 * an xarray by the page of their device address does.  Its dma_handle maps
 * are also found by the buffer they map, in an rbtree: the buffer itself,
 * never the fd number, so a recycled fd cannot reach a stale map.  Closing
 * the file releases all of it; so does the removal of its remote, which
 * leaves the session dead until it is closed.
 */
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "hapmem.h"

/* Every open session, for debugfs. */
LIST_HEAD(hapmem_sessions);
DEFINE_MUTEX(hapmem_sessions_lock); /* protects hapmem_sessions */

/* The session's index of a map starting at @vadsp (remotes without IOMMU). */
static unsigned long hapmem_session_key(u64 vadsp)
{
	return vadsp >> PAGE_SHIFT;
}

/**
 * hapmem_session_add() - publish a map in the session, taking over the
 * caller's reference
 * @s: the session, locked, with the map already charged
 * @map: the map, made by @s
 *
 * With an IOMMU the map is already in the remote's address tree, which
 * finds it by address, so publishing it only links it on the session's
 * list: nothing to allocate.  Without one, device addresses are the DMA
 * API's, and the session indexes its maps by address itself.
 *
 * Return: 0, -EEXIST when a map of the session starts in the same page
 * (only possible without an IOMMU), or -ENOMEM; on error the caller keeps
 * its reference.
 */
int hapmem_session_add(struct hapmem_session *s, struct hapmem_map *map)
	__must_hold(&s->lock)
{
	if (!s->remote->domain) {
		int ret = xa_insert(&s->maps, hapmem_session_key(map->va.start),
				    map, GFP_KERNEL);

		if (ret)
			return ret == -EBUSY ? -EEXIST : ret;
	}
	list_add_tail(&map->s_node, &s->map_list);
	return 0;
}

/**
 * hapmem_session_del() - take a published map out of the session
 * @s: the session, locked
 * @map: the map; the session's reference becomes the caller's
 */
void hapmem_session_del(struct hapmem_session *s, struct hapmem_map *map)
	__must_hold(&s->lock)
{
	if (!s->remote->domain)
		WARN_ON(xa_erase(&s->maps,
				 hapmem_session_key(map->va.start)) != map);
	list_del_init(&map->s_node);
	hapmem_session_uncharge(s, map->charge);
}

/**
 * hapmem_session_has() - whether @map is published in @s
 * @s: the session, locked
 * @map: any map of the session's remote
 */
bool hapmem_session_has(struct hapmem_session *s, struct hapmem_map *map)
	__must_hold(&s->lock)
{
	/* Only the owner's lock guards @s_node: test the owner first. */
	return map->owner == s && !list_empty(&map->s_node);
}

/*
 * The session's map holding @vadsp.  With an IOMMU the remote's address
 * space knows which map holds an address, and the map knows whether it is
 * published in this session; without one, device addresses are the DMA
 * API's and only the session's own maps can say.
 */
static struct hapmem_map *hapmem_session_lookup(struct hapmem_session *s,
						u64 vadsp)
	__must_hold(&s->lock)
{
	struct hapmem_remote *r = s->remote;
	struct hapmem_map *map;
	struct hapmem_va *va;
	unsigned long index;

	if (r->domain) {
		map = NULL;
		mutex_lock(&r->va_lock);
		/*
		 * The map may belong to any session, and may not be published
		 * yet or be on its way out: check it against this session.
		 */
		va = hapmem_va_lookup(r, vadsp);
		if (va && va->kind == HAPMEM_VA_RESV)
			va = hapmem_resv_lookup(container_of(va,
							     struct hapmem_resv,
							     va), vadsp);
		if (va && va->kind == HAPMEM_VA_MAP) {
			map = container_of(va, struct hapmem_map, va);
			if (!hapmem_session_has(s, map))
				map = NULL;
		}
		mutex_unlock(&r->va_lock);
		return map;
	}
	map = xa_load(&s->maps, hapmem_session_key(vadsp));
	if (map)
		return map;
	xa_for_each(&s->maps, index, map)
		if (vadsp >= map->va.start && vadsp - map->va.start < map->va.len)
			return map;
	return NULL;
}

/**
 * hapmem_session_take() - remove the map that starts at @vadsp
 * @s: the session, locked
 * @vadsp: the device address the map returned
 * @len: the map's length
 * @kind: the kind of map the caller may undo
 * @err: out: -ENOENT when there is no such map, -EINVAL when @len or
 *	@kind do not match it
 *
 * Return: the map, with the session's reference now the caller's, or NULL.
 */
struct hapmem_map *hapmem_session_take(struct hapmem_session *s, u64 vadsp,
				       u64 len, enum hapmem_map_kind kind,
				       int *err)
	__must_hold(&s->lock)
{
	struct hapmem_map *map;

	if (s->remote->domain)
		map = hapmem_session_lookup(s, vadsp);
	else
		map = xa_load(&s->maps, hapmem_session_key(vadsp));
	if (!map || map->va.start != vadsp) {
		*err = -ENOENT;
		return NULL;
	}
	if (map->va.len != len || map->kind != kind) {
		*err = -EINVAL;
		return NULL;
	}
	hapmem_session_del(s, map);
	return map;
}

/**
 * hapmem_session_find() - the map holding [@vadsp, @vadsp + @len)
 * @s: the session
 * @vadsp: device address
 * @len: non-zero length, @vadsp + @len not overflowing
 *
 * Return: the map with a new reference, or NULL.
 */
struct hapmem_map *hapmem_session_find(struct hapmem_session *s, u64 vadsp,
				       u64 len)
{
	struct hapmem_map *map;

	mutex_lock(&s->lock);
	map = hapmem_session_lookup(s, vadsp);
	if (map && vadsp >= map->va.start &&
	    vadsp + len <= map->va.start + map->va.len)
		hapmem_map_get(map);
	else
		map = NULL;
	mutex_unlock(&s->lock);
	return map;
}

/* dma_handle maps: by (buffer, creation order), newest first per buffer. */
static bool hapmem_dh_less(struct rb_node *a, const struct rb_node *b)
{
	struct hapmem_map *ma = rb_entry(a, struct hapmem_map, dh_node);
	struct hapmem_map *mb = rb_entry(b, struct hapmem_map, dh_node);

	if (ma->dmabuf != mb->dmabuf)
		return ma->dmabuf < mb->dmabuf;
	return ma->dh_seq > mb->dh_seq;
}

static int hapmem_dh_cmp_buf(const void *key, const struct rb_node *node)
{
	const struct dma_buf *dmabuf = key;
	struct hapmem_map *map = rb_entry(node, struct hapmem_map, dh_node);

	if (dmabuf == map->dmabuf)
		return 0;
	return dmabuf < map->dmabuf ? -1 : 1;
}

/*
 * Whether @map gives what @map_flags asks: the same permissions, and the
 * 32-bit window if asked for.  A map is reused only then.
 */
static bool hapmem_dh_match(struct hapmem_map *map, u32 map_flags)
{
	bool ro = !(map->prot & IOMMU_WRITE);

	if (map_flags == HAPMEM_DH_ANY)
		return true;
	if (ro != !!(map_flags & HAPMEM_MAP_READ_ONLY))
		return false;
	return !(map_flags & HAPMEM_MAP_VA32) ||
	       map->va.start + map->va.len <= HAPMEM_SZ_4G;
}

/**
 * hapmem_session_dh_find() - the newest dma_handle map of @dmabuf that
 * matches
 * @s: the session, locked
 * @dmabuf: the buffer
 * @offset: the offset to match, or U64_MAX for any
 * @len: the length to match
 * @map_flags: the permissions and placement to match (HAPMEM_MAP_*), or
 *	HAPMEM_DH_ANY
 *
 * Return: the map (no new reference) or NULL.
 */
struct hapmem_map *hapmem_session_dh_find(struct hapmem_session *s,
					  struct dma_buf *dmabuf, u64 offset,
					  u64 len, u32 map_flags)
	__must_hold(&s->lock)
{
	struct rb_node *node = rb_find_first(dmabuf, &s->dh_root,
					     hapmem_dh_cmp_buf);

	for (; node; node = rb_next(node)) {
		struct hapmem_map *map = rb_entry(node, struct hapmem_map,
						  dh_node);

		if (map->dmabuf != dmabuf)
			break;
		if (map->va.len == len &&
		    (offset == U64_MAX || map->offset == offset) &&
		    hapmem_dh_match(map, map_flags))
			return map;
	}
	return NULL;
}

void hapmem_session_dh_add(struct hapmem_session *s, struct hapmem_map *map)
	__must_hold(&s->lock)
{
	map->dh_seq = s->dh_seq++;
	rb_add(&map->dh_node, &s->dh_root, hapmem_dh_less);
}

void hapmem_session_dh_del(struct hapmem_session *s, struct hapmem_map *map)
	__must_hold(&s->lock)
{
	rb_erase(&map->dh_node, &s->dh_root);
	RB_CLEAR_NODE(&map->dh_node);
}

/* The remote a node opens, with a new reference, or NULL. */
static struct hapmem_remote *hapmem_file_remote(struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct hapmem_remote *r;

	if (misc == &hapmem_alias)
		return hapmem_remote_first();
	/* Removal deregisters the node before it drops its reference. */
	r = container_of(misc, struct hapmem_remote, misc);
	hapmem_remote_get(r);
	return r;
}

static int hapmem_open(struct inode *inode, struct file *file)
{
	struct hapmem_remote *r = hapmem_file_remote(file);
	struct hapmem_session *s;
	int ret;

	if (!r)
		return -ENODEV;
	s = kzalloc(sizeof(*s), HAPMEM_GFP_USER);
	if (!s) {
		ret = -ENOMEM;
		goto err_remote;
	}
	s->acct = hapmem_acct_new();
	if (IS_ERR(s->acct)) {
		ret = PTR_ERR(s->acct);
		goto err_free;
	}
	s->remote = r;
	mutex_init(&s->lock);
	INIT_LIST_HEAD(&s->map_list);
	xa_init(&s->maps);
	s->dh_root = RB_ROOT;
	INIT_LIST_HEAD(&s->resvs);
	s->pid = task_tgid_nr(current);

	/* Either removal finds this session, or the session sees it dead. */
	down_read(&r->revoke);
	if (r->dead) {
		up_read(&r->revoke);
		ret = -ENODEV;
		goto err_acct;
	}
	hapmem_va_cache_init(r, &s->vcache);
	mutex_lock(&hapmem_sessions_lock);
	list_add_tail(&s->node, &hapmem_sessions);
	mutex_unlock(&hapmem_sessions_lock);
	up_read(&r->revoke);

	atomic64_inc(&hapmem_stats.sessions);
	file->private_data = s;
	return 0;

err_acct:
	hapmem_acct_put(s->acct);
err_free:
	kfree(s);
err_remote:
	hapmem_remote_put(r);
	return ret;
}

/*
 * Release everything the session holds on its remote: maps (unmapped from
 * the IOMMU, pages unpinned), cached ranges, reservations.  Called at
 * release, or at the remote's removal with its revoke lock held for
 * writing; either way no ioctl of the session is running.  Yields between
 * maps: a session may hold max_session_maps of them.
 */
static void hapmem_session_teardown(struct hapmem_session *s)
{
	struct hapmem_map *map, *tmp;
	LIST_HEAD(maps);

	mutex_lock(&s->lock);
	list_splice_init(&s->map_list, &maps);
	list_for_each_entry(map, &maps, s_node)
		hapmem_session_uncharge(s, map->charge);
	xa_destroy(&s->maps);
	s->dh_root = RB_ROOT;
	mutex_unlock(&s->lock);

	list_for_each_entry_safe(map, tmp, &maps, s_node) {
		list_del_init(&map->s_node);
		hapmem_map_put(map);
		cond_resched();
	}
	hapmem_va_cache_drain(s->remote, &s->vcache);
	hapmem_resv_destroy_all(s);
}

/**
 * hapmem_sessions_revoke() - turn every session of a removed remote dead
 * @r: the remote, dead, its revoke lock held for writing
 */
void hapmem_sessions_revoke(struct hapmem_remote *r)
{
	struct hapmem_session *s;

	lockdep_assert_held_write(&r->revoke);
	mutex_lock(&hapmem_sessions_lock);
	list_for_each_entry(s, &hapmem_sessions, node)
		if (s->remote == r)
			hapmem_session_teardown(s);
	mutex_unlock(&hapmem_sessions_lock);
}

static int hapmem_release(struct inode *inode, struct file *file)
{
	struct hapmem_session *s = file->private_data;
	struct hapmem_remote *r = s->remote;

	/* No ioctl can be running: this was the file's last reference. */
	down_read(&r->revoke);
	mutex_lock(&hapmem_sessions_lock);
	list_del(&s->node);
	mutex_unlock(&hapmem_sessions_lock);
	/* A removed remote's sessions were torn down by its removal. */
	if (!r->dead)
		hapmem_session_teardown(s);
	up_read(&r->revoke);

	hapmem_acct_put(s->acct);
	atomic64_dec(&hapmem_stats.sessions);
	kfree(s);
	hapmem_remote_put(r);
	return 0;
}

const struct file_operations hapmem_fops = {
	.owner = THIS_MODULE,
	.open = hapmem_open,
	.release = hapmem_release,
	.unlocked_ioctl = hapmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
