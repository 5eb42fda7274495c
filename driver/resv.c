// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: reservations of a remote's address space (HAP_RESERVE_VA).
 *
 * A reservation takes a range out of the remote's allocator; only fixed
 * maps of the session that made it land inside, each recorded in the
 * reservation's own tree, which refuses overlaps.  Everything here is under
 * the remote's va_lock.
 */
#include <linux/overflow.h>
#include <linux/slab.h>

#include "hapmem.h"

int hapmem_resv_create(struct hapmem_session *s, u64 len, u32 flags,
		       u64 *vadsp)
{
	struct hapmem_remote *r = s->remote;
	struct hapmem_resv *resv;
	int ret;

	if (!r->domain)
		return -EOPNOTSUPP;
	/* Charged first, without the lock held across the allocations. */
	ret = hapmem_resv_charge(s, len);
	if (ret)
		return ret;
	resv = kzalloc(sizeof(*resv), HAPMEM_GFP_USER);
	if (!resv) {
		ret = -ENOMEM;
		goto uncharge;
	}
	mt_init_flags(&resv->maps, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&resv->maps, &r->va_lock);
	resv->owner = s;
	resv->va.kind = HAPMEM_VA_RESV;
	ret = hapmem_va_alloc_charged(s->acct, r, &resv->va, len, flags, NULL,
				      &resv->va32);
	if (ret)
		goto free;
	mutex_lock(&s->lock);
	list_add_tail(&resv->node, &s->resvs);
	mutex_unlock(&s->lock);
	atomic64_inc(&hapmem_stats.reservations);
	*vadsp = resv->va.start;
	return 0;

free:
	kfree(resv);
uncharge:
	mutex_lock(&s->lock);
	hapmem_resv_uncharge(s, len);
	mutex_unlock(&s->lock);
	return ret;
}

static void hapmem_resv_free(struct hapmem_remote *r, struct hapmem_resv *resv)
	__must_hold(&r->va_lock)
{
	MA_STATE(mas, &r->va, resv->va.start, resv->va.start);

	WARN_ON(hapmem_mas_erase(&mas) != &resv->va);
	__mt_destroy(&resv->maps);
	if (resv->va32)
		hapmem_acct_uncharge_va32(resv->owner->acct, resv->va.len);
	atomic64_dec(&hapmem_stats.reservations);
}

int hapmem_resv_destroy(struct hapmem_session *s, u64 vadsp, u64 len)
{
	struct hapmem_remote *r = s->remote;
	struct hapmem_resv *resv, *found = NULL;
	int ret = 0;

	mutex_lock(&s->lock);
	list_for_each_entry(resv, &s->resvs, node) {
		if (resv->va.start == vadsp) {
			found = resv;
			break;
		}
	}
	if (!found) {
		ret = -ENOENT;
		goto out;
	}
	if (found->va.len != len) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&r->va_lock);
	if (!mtree_empty(&found->maps)) {
		ret = -EBUSY;
	} else {
		hapmem_resv_free(r, found);
		list_del(&found->node);
		hapmem_resv_uncharge(s, len);
	}
	mutex_unlock(&r->va_lock);
	if (!ret)
		kfree(found);
out:
	mutex_unlock(&s->lock);
	return ret;
}

/* At session release or removal, after every map of the session is gone. */
void hapmem_resv_destroy_all(struct hapmem_session *s)
{
	struct hapmem_remote *r = s->remote;
	struct hapmem_resv *resv, *tmp;

	mutex_lock(&s->lock);
	list_for_each_entry_safe(resv, tmp, &s->resvs, node) {
		mutex_lock(&r->va_lock);
		WARN_ON(!mtree_empty(&resv->maps));
		hapmem_resv_free(r, resv);
		mutex_unlock(&r->va_lock);
		list_del(&resv->node);
		hapmem_resv_uncharge(s, resv->va.len);
		kfree(resv);
		cond_resched();
	}
	mutex_unlock(&s->lock);
}

/* Record [@start, @last] in @resv's tree, unless it overlaps a map there. */
static int hapmem_resv_insert(struct hapmem_resv *resv, struct hapmem_va *va,
			      u64 start, u64 last)
{
	MA_STATE(mas, &resv->maps, start, start);

	if (mas_find(&mas, last))
		return -EEXIST;
	mas_set_range(&mas, start, last);
	return mas_store_gfp(&mas, va, HAPMEM_GFP_USER);
}

/**
 * hapmem_resv_place() - put a fixed map inside one of the session's
 * reservations
 * @s: the session
 * @map: the map; its va is filled in
 * @start: page aligned device address
 * @len: page aligned length
 *
 * Return: 0; -ENOENT if [@start, @start + @len) is not inside a
 * reservation of @s; -EEXIST if it overlaps a map there; -ENOMEM.
 */
int hapmem_resv_place(struct hapmem_session *s, struct hapmem_map *map,
		      u64 start, u64 len)
{
	MA_STATE(mas, &s->remote->va, start, start);
	struct hapmem_remote *r = s->remote;
	struct hapmem_resv *resv;
	struct hapmem_va *va;
	u64 last;
	int ret;

	if (check_add_overflow(start, len - 1, &last))
		return -EINVAL;

	mutex_lock(&r->va_lock);
	va = mas_walk(&mas);
	if (!va || va->kind != HAPMEM_VA_RESV) {
		ret = -ENOENT;
		goto out;
	}
	resv = container_of(va, struct hapmem_resv, va);
	if (resv->owner != s || last > va->start + va->len - 1) {
		ret = -ENOENT;
		goto out;
	}

	ret = hapmem_resv_insert(resv, &map->va, start, last);
	if (ret)
		goto out;
	map->va.start = start;
	map->va.len = len;
	map->resv = resv;
out:
	mutex_unlock(&r->va_lock);
	return ret;
}

/**
 * hapmem_resv_lookup() - the entry holding @addr in a reservation
 * @resv: the reservation, its remote's va_lock held
 * @addr: a device address inside it
 *
 * Return: the fixed map's entry, or NULL.
 */
struct hapmem_va *hapmem_resv_lookup(struct hapmem_resv *resv, u64 addr)
{
	MA_STATE(mas, &resv->maps, addr, addr);

	return mas_walk(&mas);
}

void hapmem_resv_remove(struct hapmem_remote *r, struct hapmem_map *map)
{
	MA_STATE(mas, &map->resv->maps, map->va.start, map->va.start);

	mutex_lock(&r->va_lock);
	WARN_ON(hapmem_mas_erase(&mas) != &map->va);
	mutex_unlock(&r->va_lock);
}
