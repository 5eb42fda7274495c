// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: accounting, the one place where work done for user space is
 * charged and bounded.
 *
 * Four things are counted, each against a limit set by a module parameter:
 *
 * - bytes: memory a session allocated (every exported buffer, for as long
 *   as it lives) and bytes it maps, per session (struct hapmem_acct, which
 *   outlives the session while buffers it allocated live), per user (all
 *   sessions of one uid, struct hapmem_user) and for all users together;
 * - maps and reservations, per session, in number;
 * - the 32-bit window: bytes of device address space below 4 GiB a session
 *   and a user hold, maps and reservations together, so that one user
 *   cannot take a remote's whole window from the others;
 * - pinned user pages: charged to the pinning process's mm (pinned_vm,
 *   VmPin in /proc/<pid>/status) against RLIMIT_MEMLOCK unless the caller
 *   has CAP_IPC_LOCK, the way RDMA's umem and iommufd do.
 *
 * Memory itself (buffers, map and reservation objects, their trees) is
 * also charged to the caller's memory cgroup through __GFP_ACCOUNT at each
 * allocation.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include "hapmem.h"

/* Byte limits accept 0 to 1 TiB: every sum of them fits in 64 bits. */
#define HAPMEM_MAX_LIMIT_BYTES	BIT_ULL(40)
#define HAPMEM_MAX_LIMIT_COUNT	BIT(20)

static int hapmem_param_set_bytes(const char *val, const struct kernel_param *kp)
{
	u64 v;
	int ret = kstrtoull(val, 0, &v);

	/* Out of range for the type is out of range for the limit. */
	if (ret)
		return ret == -ERANGE ? -EINVAL : ret;
	if (v > HAPMEM_MAX_LIMIT_BYTES)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops hapmem_param_bytes_ops = {
	.set = hapmem_param_set_bytes,
	.get = param_get_ulong,
};

static int hapmem_param_set_count(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	/* Out of range for the type is out of range for the limit. */
	if (ret)
		return ret == -ERANGE ? -EINVAL : ret;
	if (v < 1 || v > HAPMEM_MAX_LIMIT_COUNT)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops hapmem_param_count_ops = {
	.set = hapmem_param_set_count,
	.get = param_get_uint,
};

unsigned long hapmem_max_session_bytes = SZ_4G;
module_param_cb(max_session_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_session_bytes, 0644);
MODULE_PARM_DESC(max_session_bytes,
		 "Bytes one session may allocate and map (EDQUOT beyond) (0 to 2^40)");

unsigned int hapmem_max_session_maps = 65536;
module_param_cb(max_session_maps, &hapmem_param_count_ops,
		&hapmem_max_session_maps, 0644);
MODULE_PARM_DESC(max_session_maps,
		 "Maps, and reservations, one session may hold (EDQUOT beyond; 1 to 2^20)");

/* 0 until load, where it becomes a quarter of RAM unless set. */
static unsigned long hapmem_max_user_bytes;
module_param_cb(max_user_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_user_bytes, 0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Bytes all sessions and buffers of one user may allocate and map (EDQUOT beyond; default a quarter of RAM) (0 to 2^40)");

unsigned long hapmem_max_global_bytes = 16ULL * SZ_1G;
module_param_cb(max_global_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_global_bytes, 0644);
MODULE_PARM_DESC(max_global_bytes,
		 "Bytes all sessions together may allocate and map (EDQUOT beyond) (0 to 2^40)");

/*
 * Reservations hold device address space, not memory: without a bound,
 * one session could take a remote's whole window from every other.
 */
static unsigned long hapmem_max_session_reserved = SZ_1G;
module_param_cb(max_session_reserved_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_session_reserved, 0644);
MODULE_PARM_DESC(max_session_reserved_bytes,
		 "Bytes of device address space one session may reserve (EDQUOT beyond) (0 to 2^40)");

static unsigned long hapmem_max_global_reserved = SZ_2G;
module_param_cb(max_global_reserved_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_global_reserved, 0644);
MODULE_PARM_DESC(max_global_reserved_bytes,
		 "Bytes of device address space all sessions together may reserve (EDQUOT beyond) (0 to 2^40)");

static unsigned long hapmem_max_session_va32 = SZ_1G;
module_param_cb(max_session_va32_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_session_va32, 0644);
MODULE_PARM_DESC(max_session_va32_bytes,
		 "Bytes of a remote's 32-bit window one session may hold, maps and reservations (EDQUOT beyond) (0 to 2^40)");

static unsigned long hapmem_max_user_va32 = SZ_1G;
module_param_cb(max_user_va32_bytes, &hapmem_param_bytes_ops,
		&hapmem_max_user_va32, 0644);
MODULE_PARM_DESC(max_user_va32_bytes,
		 "Bytes of the 32-bit windows one user may hold, maps and reservations (EDQUOT beyond) (0 to 2^40)");

/* Bytes charged to everyone, and reserved by everyone. */
static atomic64_t hapmem_charged = ATOMIC64_INIT(0);
static atomic64_t hapmem_reserved = ATOMIC64_INIT(0);

/* Users with a live session or buffer, by uid. */
static DEFINE_XARRAY(hapmem_users);
static DEFINE_MUTEX(hapmem_users_lock); /* protects hapmem_users, user krefs */

/**
 * struct hapmem_user - what one uid holds, all sessions together
 * @kref: one per struct hapmem_acct of the user
 * @uid: the user
 * @bytes: bytes allocated and mapped
 * @va32: bytes of 32-bit windows held
 */
struct hapmem_user {
	struct kref kref;
	kuid_t uid;
	atomic64_t bytes;
	atomic64_t va32;
};

/*
 * Add @len to @v unless the sum would pass @max.  Lock-free: concurrent
 * callers can never together pass the limit.
 */
static bool hapmem_add_within(atomic64_t *v, u64 len, u64 max)
{
	s64 old = atomic64_read(v);

	do {
		if (len > max || (u64)old > max - len)
			return false;
	} while (!atomic64_try_cmpxchg(v, &old, old + len));
	return true;
}

void hapmem_account_init(void)
{
	if (!hapmem_max_user_bytes)
		hapmem_max_user_bytes = min_t(u64, HAPMEM_MAX_LIMIT_BYTES,
					      (totalram_pages() / 4) << PAGE_SHIFT);
}

static struct hapmem_user *hapmem_user_get(kuid_t uid)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	struct hapmem_user *u;
	int ret;

	mutex_lock(&hapmem_users_lock);
	u = xa_load(&hapmem_users, key);
	if (u) {
		kref_get(&u->kref);
		goto out;
	}
	u = kzalloc(sizeof(*u), HAPMEM_GFP_USER);
	if (!u) {
		u = ERR_PTR(-ENOMEM);
		goto out;
	}
	kref_init(&u->kref);
	u->uid = uid;
	ret = xa_err(xa_store(&hapmem_users, key, u, HAPMEM_GFP_USER));
	if (ret) {
		kfree(u);
		u = ERR_PTR(ret);
	}
out:
	mutex_unlock(&hapmem_users_lock);
	return u;
}

static void hapmem_user_release(struct kref *kref)
	__must_hold(&hapmem_users_lock)
{
	struct hapmem_user *u = container_of(kref, struct hapmem_user, kref);

	WARN_ON(atomic64_read(&u->bytes) || atomic64_read(&u->va32));
	xa_erase(&hapmem_users, from_kuid(&init_user_ns, u->uid));
	kfree(u);
}

/**
 * hapmem_acct_new() - a session's account, charged to the calling user
 *
 * Return: the account with one reference, or an ERR_PTR.
 */
struct hapmem_acct *hapmem_acct_new(void)
{
	struct hapmem_acct *a;

	a = kzalloc(sizeof(*a), HAPMEM_GFP_USER);
	if (!a)
		return ERR_PTR(-ENOMEM);
	a->user = hapmem_user_get(current_uid());
	if (IS_ERR(a->user)) {
		int ret = PTR_ERR(a->user);

		kfree(a);
		return ERR_PTR(ret);
	}
	kref_init(&a->kref);
	return a;
}

static void hapmem_acct_release(struct kref *kref)
{
	struct hapmem_acct *a = container_of(kref, struct hapmem_acct, kref);

	WARN_ON(atomic64_read(&a->bytes) || atomic64_read(&a->va32));
	mutex_lock(&hapmem_users_lock);
	kref_put(&a->user->kref, hapmem_user_release);
	mutex_unlock(&hapmem_users_lock);
	kfree(a);
}

void hapmem_acct_get(struct hapmem_acct *a)
{
	kref_get(&a->kref);
}

void hapmem_acct_put(struct hapmem_acct *a)
{
	kref_put(&a->kref, hapmem_acct_release);
}

/**
 * hapmem_acct_charge() - charge @len bytes allocated or mapped
 * @a: the session's account
 * @len: bytes
 *
 * Return: 0, or -EDQUOT when the session's, the user's or the global limit
 * would be passed (nothing is charged then).
 */
int hapmem_acct_charge(struct hapmem_acct *a, u64 len)
{
	if (!hapmem_add_within(&a->bytes, len,
			       READ_ONCE(hapmem_max_session_bytes)))
		return -EDQUOT;
	if (!hapmem_add_within(&a->user->bytes, len,
			       READ_ONCE(hapmem_max_user_bytes)))
		goto err_session;
	if (!hapmem_add_within(&hapmem_charged, len,
			       READ_ONCE(hapmem_max_global_bytes)))
		goto err_user;
	return 0;

err_user:
	atomic64_sub(len, &a->user->bytes);
err_session:
	atomic64_sub(len, &a->bytes);
	return -EDQUOT;
}

void hapmem_acct_uncharge(struct hapmem_acct *a, u64 len)
{
	atomic64_sub(len, &hapmem_charged);
	atomic64_sub(len, &a->user->bytes);
	atomic64_sub(len, &a->bytes);
}

/**
 * hapmem_acct_charge_va32() - charge @len bytes of a 32-bit window
 * @a: the session's account
 * @len: bytes
 *
 * Return: 0, or -EDQUOT past the session's or the user's share.
 */
int hapmem_acct_charge_va32(struct hapmem_acct *a, u64 len)
{
	if (!hapmem_add_within(&a->va32, len,
			       READ_ONCE(hapmem_max_session_va32)))
		return -EDQUOT;
	if (!hapmem_add_within(&a->user->va32, len,
			       READ_ONCE(hapmem_max_user_va32))) {
		atomic64_sub(len, &a->va32);
		return -EDQUOT;
	}
	return 0;
}

void hapmem_acct_uncharge_va32(struct hapmem_acct *a, u64 len)
{
	atomic64_sub(len, &a->user->va32);
	atomic64_sub(len, &a->va32);
}

/**
 * hapmem_session_charge() - account one more map of @len bytes
 * @s: the session, locked
 * @len: bytes
 *
 * Return: 0 or -EDQUOT when a session, user or global limit would be
 * passed.
 */
int hapmem_session_charge(struct hapmem_session *s, u64 len)
	__must_hold(&s->lock)
{
	int ret;

	if (s->nr_maps >= READ_ONCE(hapmem_max_session_maps))
		return -EDQUOT;
	ret = hapmem_acct_charge(s->acct, len);
	if (ret)
		return ret;
	s->nr_maps++;
	return 0;
}

void hapmem_session_uncharge(struct hapmem_session *s, u64 len)
	__must_hold(&s->lock)
{
	s->nr_maps--;
	hapmem_acct_uncharge(s->acct, len);
}

/**
 * hapmem_resv_charge() - account a reservation of @len bytes
 * @s: the session
 * @len: bytes
 *
 * At most max_session_maps reservations and max_session_reserved_bytes in
 * all per session, and all sessions together at most
 * max_global_reserved_bytes.
 *
 * Return: 0 or -EDQUOT.
 */
int hapmem_resv_charge(struct hapmem_session *s, u64 len)
{
	int ret = -EDQUOT;

	mutex_lock(&s->lock);
	if (s->nr_resvs < READ_ONCE(hapmem_max_session_maps) &&
	    len <= READ_ONCE(hapmem_max_session_reserved) &&
	    s->resv_bytes <= READ_ONCE(hapmem_max_session_reserved) - len &&
	    hapmem_add_within(&hapmem_reserved, len,
			      READ_ONCE(hapmem_max_global_reserved))) {
		s->nr_resvs++;
		s->resv_bytes += len;
		ret = 0;
	}
	mutex_unlock(&s->lock);
	return ret;
}

void hapmem_resv_uncharge(struct hapmem_session *s, u64 len)
	__must_hold(&s->lock)
{
	s->nr_resvs--;
	s->resv_bytes -= len;
	atomic64_sub(len, &hapmem_reserved);
}

/**
 * hapmem_pin_charge() - charge @npages long-term pinned pages to @mm
 * @mm: the caller's mm
 * @npages: pages about to be pinned
 *
 * Return: 0, or -ENOMEM past RLIMIT_MEMLOCK (nothing charged then).
 */
int hapmem_pin_charge(struct mm_struct *mm, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	s64 pinned = atomic64_add_return(npages, &mm->pinned_vm);

	if ((u64)pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &mm->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

void hapmem_pin_uncharge(struct mm_struct *mm, unsigned long npages)
{
	atomic64_sub(npages, &mm->pinned_vm);
}
