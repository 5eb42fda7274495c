// SPDX-License-Identifier: GPL-2.0-only
/*
 * Limits a user of the device nodes cannot get around:
 * - pins of user pages are charged to the caller's RLIMIT_MEMLOCK (VmPin),
 *   ENOMEM beyond it, given back on unmap and close;
 * - every buffer a session allocates (ALLOC, HLOS_FD) counts in its
 *   session_bytes and against max_session_bytes;
 * - one uid's processes together are bound by max_user_bytes, and another
 *   uid still gets memory;
 * - map metadata is charged to the caller's memory cgroup;
 * - one uid's share of the shared 32-bit window is bounded, another uid
 *   still gets a 32-bit map, and a map without placement goes high;
 * - a map is reused only when its permissions and window match, and a
 *   remote write into a read-only map reports its faults and writes
 *   nothing;
 * - bounds: range-checked parameters, a huge reservation, the ioctl
 *   argument size, long-term pins of files that cannot take them, the
 *   close of a session at its map limit (timed, printed), and remote
 *   access refused unless allow_remote_access is set.
 *
 * Unprivileged parts run in forked children as other uids; the device
 * nodes are opened up (0666) for them and put back in the teardown, as is
 * every module parameter a test changes.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <inttypes.h>
#include <sys/vfs.h>

#include "kselftest_harness.h"
#include "revoke_test.h"

#define NOBODY 65534
#define UID_A 1001
#define UID_B 1002
#define SZ_64M (64ULL << 20)
#define SZ_4G (1ULL << 32)
#define SZ_1G (1ULL << 30)
#define TIB (1ULL << 40)

#define CG_ROOT "/sys/fs/cgroup"
#define CG_TEST CG_ROOT "/hapmem-rel-limits"
#define RAMFS_DIR "/tmp/hapmem-ramfs"

static const char *const limit_params[] = {
	"max_session_bytes", "max_session_maps", "max_session_reserved_bytes",
	"max_global_reserved_bytes", "max_global_bytes", "max_user_bytes",
	"max_session_va32_bytes", "max_user_va32_bytes",
	"allow_remote_access", NULL,
};

FIXTURE(limits) {
	int fd;
	struct hapmem_info info;
	struct rv_params saved;
	struct rv_nodes nodes;
	bool nodes_opened, ramfs, cgroup;
	struct rel_counters base;	/* seen from @fd at setup */
	uint64_t base_sessions;
};

FIXTURE_SETUP(limits)
{
	rv_params_save(&self->saved, limit_params);
	self->fd = hm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open " HM_DEV ": %s", strerror(errno));
	ASSERT_EQ(0, hm_info(self->fd, &self->info));
	ASSERT_EQ(0, rel_counters(self->fd, &self->base));
	self->base_sessions = self->info.global_sessions;
}

FIXTURE_TEARDOWN(limits)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->nodes_opened)
		rv_nodes_restore(&self->nodes);
	if (self->ramfs) {
		umount2(RAMFS_DIR, MNT_DETACH);
		rmdir(RAMFS_DIR);
	}
	if (self->cgroup)
		rmdir(CG_TEST);
	EXPECT_EQ(0, rv_params_restore(&self->saved));
}

#define REQUIRE_ROOT()							\
	do {								\
		if (geteuid())						\
			SKIP(return, "needs root");			\
	} while (0)

/* The global counters are back where they were at setup. */
static void expect_back(struct __test_metadata *_metadata,
			FIXTURE_DATA(limits) *self)
{
	struct rel_counters now;
	struct hapmem_info info;
	char a[256], b[256];

	ASSERT_EQ(0, rel_counters(self->fd, &now));
	rel_counters_str(&self->base, a, sizeof(a));
	rel_counters_str(&now, b, sizeof(b));
	EXPECT_TRUE(rel_counters_eq(&self->base, &now)) TH_LOG("counters were %s, now %s", a, b);
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(self->base_sessions, info.global_sessions);
}

/* Let the unprivileged children of a test open the nodes. */
static void open_nodes(struct __test_metadata *_metadata,
		       FIXTURE_DATA(limits) *self)
{
	ASSERT_EQ(0, rv_nodes_chmod(&self->nodes, 0666));
	self->nodes_opened = true;
}

/* What a child reports: a step that failed, errnos and figures. */
struct report {
	volatile int phase;		/* for children that wait on each other */
	volatile int go;
	int err[8];
	long long val[8];
	char why[256];
};

#define CHILD_FAIL(rep, step, fmt, ...) do {				\
		snprintf((rep)->why, sizeof((rep)->why), fmt, ##__VA_ARGS__); \
		return (step);						\
	} while (0)

static void wait_for(volatile int *flag, int value, double secs)
{
	double end = rel_now() + secs;

	while (*flag < value && rel_now() < end)
		usleep(10 * 1000);
}

/* --- pins and RLIMIT_MEMLOCK ------------------------------------------- */

static int memlock_child(void *arg)
{
	struct report *rep = arg;
	struct rlimit rl = { .rlim_cur = 64 << 10, .rlim_max = 64 << 10 };
	const uint64_t big = 256 << 10, small = 32 << 10;
	struct hapmem_request_map rm, rm2;
	long long pin0, pin;
	unsigned char *mem;
	int fd, ret;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		CHILD_FAIL(rep, 10, "setrlimit: %s", strerror(errno));
	if (rv_become(NOBODY, NOBODY))
		CHILD_FAIL(rep, 11, "setuid: %s", strerror(errno));
	fd = hm_open();
	if (fd < 0)
		CHILD_FAIL(rep, 12, "open as uid %d: %s", NOBODY, strerror(errno));
	mem = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		CHILD_FAIL(rep, 13, "mmap: %s", strerror(errno));
	memset(mem, 0x77, big);
	pin0 = rv_status_kb("VmPin");
	rep->val[0] = pin0;

	ret = hm_request(fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)mem, big, &rm);
	rep->err[0] = -ret;
	rep->val[1] = rv_status_kb("VmPin");
	if (ret != -ENOMEM)
		CHILD_FAIL(rep, 1, "pin of 256 KiB under a 64 KiB RLIMIT_MEMLOCK: %s (VmPin %lld -> %lld kB)",
			   ret ? strerror(-ret) : "succeeded", pin0, rep->val[1]);
	if (rep->val[1] != pin0)
		CHILD_FAIL(rep, 2, "refused pin left VmPin at %lld kB (was %lld)", rep->val[1], pin0);

	ret = hm_request(fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)mem, small, &rm);
	if (ret)
		CHILD_FAIL(rep, 3, "pin of 32 KiB: %s", strerror(-ret));
	pin = rv_status_kb("VmPin");
	rep->val[2] = pin;
	if (pin != pin0 + 32)
		CHILD_FAIL(rep, 4, "VmPin %lld -> %lld kB after a 32 KiB pin", pin0, pin);
	/* 32 + 40 KiB is beyond the 64 KiB limit: the charge adds up. */
	ret = hm_request(fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)mem + small, 40 << 10, &rm2);
	rep->err[1] = -ret;
	if (ret != -ENOMEM)
		CHILD_FAIL(rep, 5, "second pin (32 + 40 KiB): %s", ret ? strerror(-ret) : "succeeded");
	ret = hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, small);
	if (ret)
		CHILD_FAIL(rep, 6, "unmap: %s", strerror(-ret));
	pin = rv_status_kb("VmPin");
	if (pin != pin0)
		CHILD_FAIL(rep, 7, "VmPin %lld kB after the unmap (was %lld)", pin, pin0);
	/* Close gives the charge back too. */
	ret = hm_request(fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)mem, small, &rm);
	if (ret)
		CHILD_FAIL(rep, 8, "pin again: %s", strerror(-ret));
	close(fd);
	pin = rv_status_kb("VmPin");
	if (pin != pin0)
		CHILD_FAIL(rep, 9, "VmPin %lld kB after close (was %lld)", pin, pin0);
	return 0;
}

TEST_F_TIMEOUT(limits, memlock_pin_charged, 120)
{
	struct report *rep = rv_shared(sizeof(*rep));
	int ret;

	REQUIRE_ROOT();
	ASSERT_NE(NULL, rep);
	open_nodes(_metadata, self);
	ret = rv_wait(rv_spawn(memlock_child, rep), 100);
	EXPECT_EQ(0, ret) TH_LOG("step %d: %s", ret, rep->why);
	TH_LOG("uid %d, RLIMIT_MEMLOCK 64 KiB: 256 KiB pin -> %s, VmPin %lld kB -> %lld kB with 32 KiB pinned",
	       NOBODY, strerror(rep->err[0]), rep->val[0], rep->val[2]);
}

/* --- buffers in session_bytes ------------------------------------------ */

static uint64_t session_bytes(struct __test_metadata *_metadata, int fd)
{
	struct hapmem_info info;

	EXPECT_EQ(0, hm_info(fd, &info));
	return info.session_bytes;
}

TEST_F_TIMEOUT(limits, buffers_count_in_session_bytes, 120)
{
	const uint64_t M = HM_SZ_1M;
	struct hapmem_request_map rm;
	uint64_t b0;
	int a, h, a2, a3;

	b0 = session_bytes(_metadata, self->fd);
	a = hm_alloc(self->fd, M, 0);
	ASSERT_LE(0, a);
	EXPECT_EQ(b0 + M, session_bytes(_metadata, self->fd)) TH_LOG("ALLOC not counted");
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, 2 * M, &rm));
	h = rm.fd;
	EXPECT_EQ(b0 + 3 * M, session_bytes(_metadata, self->fd)) TH_LOG("HLOS_FD not counted");
	/* The last fd of a buffer closed: its bytes are given back. */
	close(a);
	EXPECT_EQ(b0 + 2 * M, session_bytes(_metadata, self->fd));
	close(h);
	EXPECT_EQ(b0, session_bytes(_metadata, self->fd));

	/* And they count against max_session_bytes, together with the maps. */
	REQUIRE_ROOT();
	ASSERT_EQ(0, rv_param_set_u64("max_session_bytes", 4 * M));
	a = hm_alloc(self->fd, 3 * M, 0);
	ASSERT_LE(0, a);
	EXPECT_EQ(-EDQUOT, hm_alloc(self->fd, 2 * M, 0));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, 2 * M, &rm));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, 2 * M, &rm));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, HAPMEM_REQUEST_FD, 0, 0, 0, 2 * M, &rm));
	a2 = hm_alloc(self->fd, M, 0);
	EXPECT_LE(0, a2) TH_LOG("the last MiB of the limit: %s", strerror(-a2));
	EXPECT_EQ(b0 + 4 * M, session_bytes(_metadata, self->fd));
	EXPECT_EQ(-EDQUOT, hm_alloc(self->fd, HM_PAGE, 0));
	close(a);
	if (a2 >= 0)
		close(a2);
	a3 = hm_alloc(self->fd, 4 * M, 0);
	EXPECT_LE(0, a3) TH_LOG("the whole limit once the buffers are gone: %s", strerror(-a3));
	if (a3 >= 0)
		close(a3);
}

/* --- max_user_bytes ----------------------------------------------------- */

struct user_job {
	struct report rep;
	uid_t uid;
	uint64_t first, second;	/* bytes to allocate */
	int want_first;		/* 0 or -EDQUOT */
	bool hold;		/* keep the memory until rep.go */
};

static int user_work(struct user_job *j)
{
	int fd, b1, b2;

	if (rv_become(j->uid, j->uid))
		CHILD_FAIL(&j->rep, 10, "setuid: %s", strerror(errno));
	fd = hm_open();
	if (fd < 0)
		CHILD_FAIL(&j->rep, 11, "open as uid %d: %s", j->uid, strerror(errno));
	b1 = hm_alloc(fd, j->first, 0);
	j->rep.err[0] = b1 < 0 ? -b1 : 0;
	if ((b1 < 0 ? b1 : 0) != j->want_first)
		CHILD_FAIL(&j->rep, 1, "uid %d: ALLOC %llu MiB: %s, wanted %s", j->uid,
			   (unsigned long long)(j->first >> 20),
			   b1 < 0 ? strerror(-b1) : "success",
			   j->want_first ? strerror(-j->want_first) : "success");
	if (j->second) {
		b2 = hm_alloc(fd, j->second, 0);
		j->rep.err[1] = b2 < 0 ? -b2 : 0;
		if (b2 < 0)
			CHILD_FAIL(&j->rep, 2, "uid %d: ALLOC %llu MiB: %s", j->uid,
				   (unsigned long long)(j->second >> 20), strerror(-b2));
	}
	return 0;
}

/* Does its part, then (even when it failed) holds it until told. */
static int user_child(void *arg)
{
	struct user_job *j = arg;
	int ret = user_work(j);

	j->rep.phase = 1;
	if (j->hold)
		wait_for(&j->rep.go, 1, 120);
	return ret;
}

/*
 * Two processes of one uid share max_user_bytes (64 MiB here): the second
 * gets EDQUOT for what would go beyond it, and a smaller amount that fits;
 * a process of another uid still gets its memory; nobody is OOM-killed.
 */
TEST_F_TIMEOUT(limits, user_bound_two_processes, 180)
{
	struct user_job *j = rv_shared(3 * sizeof(*j));
	pid_t hog;
	int ret;

	REQUIRE_ROOT();
	ASSERT_NE(NULL, j);
	open_nodes(_metadata, self);
	ret = rv_param_set_u64("max_user_bytes", SZ_64M);
	ASSERT_EQ(0, ret) TH_LOG("max_user_bytes: %s", strerror(-ret));

	j[0] = (struct user_job){ .uid = UID_A, .first = 40ULL << 20, .hold = true };
	j[1] = (struct user_job){ .uid = UID_A, .first = 40ULL << 20, .want_first = -EDQUOT,
				  .second = 16ULL << 20 };
	j[2] = (struct user_job){ .uid = UID_B, .first = 40ULL << 20 };
	hog = rv_spawn(user_child, &j[0]);
	ASSERT_LT(0, hog);
	wait_for(&j[0].rep.phase, 1, 60);
	EXPECT_EQ(1, j[0].rep.phase) TH_LOG("first process of uid %d: %s", UID_A, j[0].rep.why);

	ret = rv_wait(rv_spawn(user_child, &j[1]), 60);
	EXPECT_EQ(0, ret) TH_LOG("second process of uid %d: step %d: %s", UID_A, ret, j[1].rep.why);
	ret = rv_wait(rv_spawn(user_child, &j[2]), 60);
	EXPECT_EQ(0, ret) TH_LOG("process of uid %d: step %d: %s", UID_B, ret, j[2].rep.why);

	j[0].rep.go = 1;
	ret = rv_wait(hog, 60);
	EXPECT_EQ(0, ret) TH_LOG("first process of uid %d: step %d: %s", UID_A, ret, j[0].rep.why);
	expect_back(_metadata, self);
}

/* --- memory cgroup ------------------------------------------------------ */

static int cg_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", CG_TEST, file);
	return rv_write_file(path, val);
}

#define CGROUP2_MAGIC 0x63677270

static int cgroup_ready(void)
{
	struct statfs sf;
	int ret;

	if (statfs(CG_ROOT, &sf) || sf.f_type != CGROUP2_MAGIC) {
		if (mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
			return -errno;
	}
	ret = rv_write_file(CG_ROOT "/cgroup.subtree_control", "+memory");
	if (ret)
		return ret;
	if (mkdir(CG_TEST, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

#define MEMCG_MAX_MAPS (1 << 22)

/*
 * memory.current through an fd opened (and read once, which allocates the
 * read buffer) before the cgroup is full: at the limit, opening a file
 * would itself be charged, and the memcg OOM killer would answer it.
 */
static long long cg_pread(int cfd)
{
	char buf[64];
	ssize_t n = pread(cfd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

static int memcg_child(void *arg)
{
	struct report *rep = arg;
	long long c0, c1;
	double end;
	int fd, buf, cfd, ret = 0, n = 0;

	/*
	 * Fault the report's page in before joining: at the cgroup's limit,
	 * even the page tables of a first write would be charged there.
	 */
	rep->err[0] = 0;
	rep->val[0] = rep->val[1] = rep->val[2] = 0;
	if (cg_write("cgroup.procs", "0"))
		CHILD_FAIL(rep, 10, "joining the cgroup: %s", strerror(errno));
	cfd = open(CG_TEST "/memory.current", O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		CHILD_FAIL(rep, 13, "memory.current: %s", strerror(errno));
	fd = hm_open();
	if (fd < 0)
		CHILD_FAIL(rep, 11, "open: %s", strerror(errno));
	buf = hm_alloc(fd, HM_PAGE, 0);
	if (buf < 0)
		CHILD_FAIL(rep, 12, "alloc: %s", strerror(-buf));
	c0 = cg_pread(cfd);
	end = rel_now() + 400;
	while (n < MEMCG_MAX_MAPS && rel_now() < end) {
		uint64_t va = 0;

		ret = hm_share(fd, buf, 0, HM_PAGE, 0, &va);
		if (ret)
			break;
		n++;
	}
	c1 = cg_pread(cfd);
	rep->err[0] = -ret;
	rep->val[0] = n;
	rep->val[1] = c0;
	rep->val[2] = c1;
	rep->phase = 1;
	close(fd);
	close(buf);
	if (!ret)
		CHILD_FAIL(rep, 1, "%d share_maps and no error", n);
	return 0;
}

static int bystander(void *arg)
{
	size_t len = 16 << 20;
	char *p = malloc(len);

	(void)arg;
	if (!p)
		return 1;
	for (;;) {
		memset(p, 1, len);
		sleep(1);
	}
	return 0;
}

/*
 * In a 64 MiB memory cgroup, share_maps of one 4 KiB buffer until the
 * driver refuses: the refusal is ENOMEM or EDQUOT (not the OOM killer),
 * the cgroup's memory.current grew with the maps (their metadata is
 * charged to it), and a process outside the cgroup is untouched.
 */
TEST_F_TIMEOUT(limits, memcg_charged, 600)
{
	struct report *rep = rv_shared(sizeof(*rep));
	long long grew, oom;
	pid_t by, hog;
	int ret;

	REQUIRE_ROOT();
	ASSERT_NE(NULL, rep);
	ret = cgroup_ready();
	ASSERT_EQ(0, ret) TH_LOG("cgroup v2 with the memory controller: %s", strerror(-ret));
	self->cgroup = true;
	/* Small enough that the maps' metadata meets it before the map limit
	 * (65536 maps take about 17 MiB), large enough for the process itself.
	 */
	ASSERT_EQ(0, cg_write("memory.max", "12582912"));
	by = rv_spawn(bystander, NULL);
	ASSERT_LT(0, by);
	hog = rv_spawn(memcg_child, rep);
	ASSERT_LT(0, hog);
	ret = rv_wait(hog, 560);
	EXPECT_EQ(0, ret) TH_LOG("the process in the cgroup: %s%s",
				 ret < -128 ? "killed by signal " : "",
				 ret < -128 ? strsignal(-ret - 128) : rep->why);
	EXPECT_EQ(0, waitpid(by, NULL, WNOHANG)) TH_LOG("the bystander died");
	kill(by, SIGKILL);
	waitpid(by, NULL, 0);

	oom = -1;
	{
		char path[256], line[64];
		FILE *f;

		snprintf(path, sizeof(path), CG_TEST "/memory.events");
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "oom_kill ", 9))
				oom = strtoll(line + 9, NULL, 10);
		if (f)
			fclose(f);
	}
	grew = rep->val[2] - rep->val[1];
	TH_LOG("%lld share_maps, then %s; memory.current %lld -> %lld (%lld bytes a map), oom_kill %lld",
	       rep->val[0], strerror(rep->err[0]), rep->val[1], rep->val[2],
	       rep->val[0] ? grew / rep->val[0] : 0, oom);
	EXPECT_TRUE(rep->err[0] == ENOMEM || rep->err[0] == EDQUOT)
		TH_LOG("refused with %s", strerror(rep->err[0]));
	EXPECT_LT(0, rep->val[0]);
	/* A map's metadata is at least 64 bytes. */
	EXPECT_LE(rep->val[0] * 64, grew) TH_LOG("map metadata not charged to the memcg");
	EXPECT_EQ(0, oom);
	expect_back(_metadata, self);
}

/* --- the 32-bit window share -------------------------------------------- */

struct va32_job {
	struct report rep;
	uid_t uid;
	bool hog;
	uint64_t share_s, share_u;	/* session and user shares */
	uint64_t va32_end;
	bool high;			/* the remote has a high window */
};

static int va32_work(struct va32_job *j)
{
	struct hapmem_reserve_va rv;
	int fd, fd2, buf, n = 0, ret;
	uint64_t va;

	if (rv_become(j->uid, j->uid))
		CHILD_FAIL(&j->rep, 10, "setuid: %s", strerror(errno));
	fd = hm_open();
	fd2 = hm_open();
	if (fd < 0 || fd2 < 0)
		CHILD_FAIL(&j->rep, 11, "open as uid %d: %s", j->uid, strerror(errno));
	buf = hm_alloc(fd, SZ_64M, 0);
	if (buf < 0)
		CHILD_FAIL(&j->rep, 12, "alloc 64 MiB: %s", strerror(-buf));

	if (!j->hog) {
		/* Another uid: the window is there for it. */
		va = 0;
		ret = hm_share(fd, buf, 0, 0, HAPMEM_MAP_VA32, &va);
		if (ret)
			CHILD_FAIL(&j->rep, 1, "uid %d: VA32 share_map of 64 MiB: %s", j->uid,
				   strerror(-ret));
		if (va + SZ_64M > j->va32_end)
			CHILD_FAIL(&j->rep, 2, "VA32 map at %#llx", (unsigned long long)va);
		memset(&rv, 0, sizeof(rv));
		rv.flags = HAPMEM_MAP_VA32;
		rv.len = SZ_64M;
		ret = hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &rv);
		if (ret)
			CHILD_FAIL(&j->rep, 3, "uid %d: VA32 reservation of 64 MiB: %s", j->uid,
				   strerror(-ret));
		return 0;
	}

	/* The hog: VA32 maps of 64 MiB until refused. */
	for (;;) {
		va = 0;
		ret = hm_share(fd, buf, 0, 0, HAPMEM_MAP_VA32, &va);
		if (ret)
			break;
		n++;
		if (n > 128)
			break;
	}
	j->rep.val[0] = n;
	j->rep.err[0] = -ret;
	if (ret != -EDQUOT)
		CHILD_FAIL(&j->rep, 4, "VA32 maps of 64 MiB: %d, then %s (wanted EDQUOT)", n,
			   ret ? strerror(-ret) : "no error");
	if (n * SZ_64M > j->share_s)
		CHILD_FAIL(&j->rep, 5, "%d VA32 maps of 64 MiB: beyond the session share %llu MiB", n,
			   (unsigned long long)(j->share_s >> 20));
	/* Beyond the share, a map without placement goes to the high window. */
	if (j->high) {
		va = 0;
		ret = hm_share(fd, buf, 0, 0, 0, &va);
		j->rep.val[1] = va;
		if (ret)
			CHILD_FAIL(&j->rep, 6, "share_map without placement: %s", strerror(-ret));
		if (va < SZ_4G)
			CHILD_FAIL(&j->rep, 7, "share_map without placement beyond the share at %#llx",
				   (unsigned long long)va);
	}
	/* VA32 reservations count in the same share. */
	memset(&rv, 0, sizeof(rv));
	rv.flags = HAPMEM_MAP_VA32;
	rv.len = SZ_64M;
	ret = hm_test_ioctl(fd, HAPMEM_IOC_RESERVE_VA, &rv);
	if (ret != -EDQUOT)
		CHILD_FAIL(&j->rep, 8, "VA32 reservation beyond the share: %s",
			   ret ? strerror(-ret) : "succeeded");
	/* The same uid's other session: the user's share is used up too. */
	if (n * SZ_64M + SZ_64M > j->share_u) {
		ret = hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &rv);
		if (ret != -EDQUOT)
			CHILD_FAIL(&j->rep, 9, "VA32 reservation of the user's 2nd session: %s",
				   ret ? strerror(-ret) : "succeeded");
		va = 0;
		ret = hm_share(fd2, buf, 0, 0, HAPMEM_MAP_VA32, &va);
		if (ret != -EDQUOT)
			CHILD_FAIL(&j->rep, 14, "VA32 map of the user's 2nd session: %s",
				   ret ? strerror(-ret) : "succeeded");
	}
	return 0;
}

/* The hog holds what it got (even after a failed step) until told. */
static int va32_child(void *arg)
{
	struct va32_job *j = arg;
	int ret = va32_work(j);

	j->rep.phase = 1;
	if (j->hog)
		wait_for(&j->rep.go, 1, 300);
	return ret;
}

TEST_F_TIMEOUT(limits, va32_window_shared_by_two_users, 400)
{
	struct va32_job *j = rv_shared(2 * sizeof(*j));
	uint64_t share_s = SZ_1G, share_u = SZ_1G;
	pid_t hog;
	int ret;

	REQUIRE_ROOT();
	ASSERT_NE(NULL, j);
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU: no window of the driver's own");
	/*
	 * Every map of the shared buffer counts its bytes for the session
	 * and the user: let the window share, not max_user_bytes, be what
	 * stops the hog.
	 */
	EXPECT_EQ(0, rv_param_set_u64("max_user_bytes", 16 * SZ_1G));
	/* The documented defaults, unless the module says otherwise. */
	EXPECT_EQ(0, rv_param_u64("max_session_va32_bytes", &share_s));
	EXPECT_EQ(0, rv_param_u64("max_user_va32_bytes", &share_u));
	open_nodes(_metadata, self);
	for (int i = 0; i < 2; i++) {
		j[i].uid = i ? UID_B : UID_A;
		j[i].hog = !i;
		j[i].share_s = share_s;
		j[i].share_u = share_u;
		j[i].va32_end = self->info.va32_end;
		j[i].high = self->info.va64_end > SZ_4G;
	}
	hog = rv_spawn(va32_child, &j[0]);
	ASSERT_LT(0, hog);
	wait_for(&j[0].rep.phase, 1, 300);
	ret = rv_wait(rv_spawn(va32_child, &j[1]), 120);
	EXPECT_EQ(0, ret) TH_LOG("uid %d: step %d: %s", UID_B, ret, j[1].rep.why);
	j[0].rep.go = 1;
	ret = rv_wait(hog, 120);
	EXPECT_EQ(0, ret) TH_LOG("uid %d: step %d: %s", UID_A, ret, j[0].rep.why);
	TH_LOG("uid %d: %lld VA32 maps of 64 MiB, then %s (shares: session %llu MiB, user %llu MiB)",
	       UID_A, j[0].rep.val[0], strerror(j[0].rep.err[0]),
	       (unsigned long long)(share_s >> 20), (unsigned long long)(share_u >> 20));
	expect_back(_metadata, self);
}

/* --- flags on reuse ------------------------------------------------------ */

static int dh_map(int fd, int buf, uint64_t off, uint64_t len, uint32_t flags,
		  struct hapmem_dma_handle_map *dm)
{
	memset(dm, 0, sizeof(*dm));
	dm->fd = buf;
	dm->offset = off;
	dm->len = len;
	dm->flags = flags;
	return hm_test_ioctl(fd, HAPMEM_IOC_DMA_HANDLE_MAP, dm);
}

static int dh_unmap(int fd, int buf, uint64_t len, uint32_t *refs)
{
	struct hapmem_dma_handle_unmap du = { .fd = buf, .len = len };
	int ret = hm_test_ioctl(fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du);

	if (!ret && refs)
		*refs = du.refs;
	return ret;
}

/*
 * The remote writes a page's worth (one transfer per page) at @va over
 * @pages pages; returns the faults reported in all, or -errno.
 */
static long write_pages(int fd, uint64_t va, unsigned int pages, unsigned int seed)
{
	unsigned char data[HM_XFER];
	long faults = 0;

	hm_fill(data, sizeof(data), seed);
	for (unsigned int i = 0; i < pages; i++) {
		uint32_t f = 0;
		int ret = hm_remote(fd, va + i * HM_PAGE, data, sizeof(data),
				    HAPMEM_ACCESS_WRITE, &f);

		if (ret)
			return ret;
		faults += f;
	}
	return faults;
}

/* A CPU view of a fresh 2-page buffer filled with @seed. */
static int filled_buffer(int fd, unsigned char **p, unsigned int seed)
{
	int buf = hm_alloc(fd, 2 * HM_PAGE, HAPMEM_ION_FLAG_CACHED);

	if (buf < 0)
		return buf;
	*p = mmap(NULL, 2 * HM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (*p == MAP_FAILED) {
		close(buf);
		return -errno;
	}
	hm_fill(*p, 2 * HM_PAGE, seed);
	return buf;
}

/*
 * dma_handle_map of a range mapped RW, now READ_ONLY: a new map (refs 1,
 * another address) through which the remote cannot write; the RW map
 * still takes writes.
 */
TEST_F_TIMEOUT(limits, dma_handle_read_only_after_rw, 120)
{
	struct hapmem_dma_handle_map rw, ro;
	unsigned char *p, put[64];
	uint32_t refs = 99;
	int buf;

	HM_REQUIRE_ENGINE(self->info);
	buf = filled_buffer(self->fd, &p, 51);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, dh_map(self->fd, buf, 0, 2 * HM_PAGE, 0, &rw));
	EXPECT_EQ(1, rw.refs);
	ASSERT_EQ(0, dh_map(self->fd, buf, 0, 2 * HM_PAGE, HAPMEM_MAP_READ_ONLY, &ro));
	EXPECT_EQ(1, ro.refs) TH_LOG("READ_ONLY request took a reference on the RW map");
	EXPECT_NE(rw.vadsp, ro.vadsp);
	EXPECT_EQ(2, write_pages(self->fd, ro.vadsp, 2, 52))
		TH_LOG("the remote wrote through a READ_ONLY map");
	EXPECT_EQ(0, hm_check(p, 2 * HM_PAGE, 51)) TH_LOG("a write through the READ_ONLY map landed");
	hm_fill(put, sizeof(put), 53);
	EXPECT_EQ(0, hm_remote_write(self->fd, rw.vadsp, put, sizeof(put)));
	EXPECT_EQ(0, memcmp(p, put, sizeof(put))) TH_LOG("the RW map lost a write");
	/* Two maps, one reference each. */
	EXPECT_EQ(0, dh_unmap(self->fd, buf, 2 * HM_PAGE, &refs));
	EXPECT_EQ(0, refs);
	EXPECT_EQ(0, dh_unmap(self->fd, buf, 2 * HM_PAGE, &refs));
	EXPECT_EQ(0, refs);
	EXPECT_EQ(-ENOENT, dh_unmap(self->fd, buf, 2 * HM_PAGE, NULL));
	munmap(p, 2 * HM_PAGE);
	close(buf);
}

/* The reverse order: the RW map made after a READ_ONLY one takes writes. */
TEST_F_TIMEOUT(limits, dma_handle_rw_after_read_only, 120)
{
	struct hapmem_dma_handle_map rw, ro;
	unsigned char *p, put[64];
	int buf;

	HM_REQUIRE_ENGINE(self->info);
	buf = filled_buffer(self->fd, &p, 61);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, dh_map(self->fd, buf, 0, 2 * HM_PAGE, HAPMEM_MAP_READ_ONLY, &ro));
	ASSERT_EQ(0, dh_map(self->fd, buf, 0, 2 * HM_PAGE, 0, &rw));
	EXPECT_EQ(1, rw.refs) TH_LOG("RW request took a reference on the READ_ONLY map");
	EXPECT_NE(rw.vadsp, ro.vadsp);
	hm_fill(put, sizeof(put), 62);
	EXPECT_EQ(0, hm_remote_write(self->fd, rw.vadsp + HM_PAGE, put, sizeof(put)));
	EXPECT_EQ(0, memcmp(p + HM_PAGE, put, sizeof(put))) TH_LOG("a write through the RW map was dropped");
	memcpy(p + HM_PAGE, put, 0);
	hm_fill(p, 2 * HM_PAGE, 61);
	EXPECT_EQ(2, write_pages(self->fd, ro.vadsp, 2, 63));
	EXPECT_EQ(0, hm_check(p, 2 * HM_PAGE, 61));
	EXPECT_EQ(0, dh_unmap(self->fd, buf, 2 * HM_PAGE, NULL));
	EXPECT_EQ(0, dh_unmap(self->fd, buf, 2 * HM_PAGE, NULL));
	munmap(p, 2 * HM_PAGE);
	close(buf);
}

/*
 * A dma_handle_map that went to the high window (the 32-bit window, or
 * the session's share of it, was used up), then a VA32 dma_handle_map of
 * the same range once the window is free again: a new map below 4 GiB,
 * never the high one.
 */
TEST_F_TIMEOUT(limits, dma_handle_va32_after_high, 400)
{
	struct hapmem_dma_handle_map hi, lo;
	uint64_t fill[256], fill_len[256], len = SZ_64M;
	unsigned char *p;
	int big, buf, n = 0, ret = 0;

	HM_REQUIRE_ENGINE(self->info);
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU) || self->info.va64_end <= SZ_4G)
		SKIP(return, "no high window");
	/* Maps of one buffer count their bytes for the user: raise the bound. */
	if (!geteuid())
		rv_param_set_u64("max_user_bytes", 16 * SZ_1G);
	buf = filled_buffer(self->fd, &p, 71);
	ASSERT_LE(0, buf);
	big = hm_alloc(self->fd, SZ_64M, 0);
	ASSERT_LE(0, big);
	/*
	 * Use up the 32-bit window (or this session's share of it): VA32
	 * maps of 64 MiB until refused, then of halves down to a page.
	 */
	while (n < 256) {
		fill[n] = 0;
		ret = hm_share(self->fd, big, 0, len, HAPMEM_MAP_VA32, &fill[n]);
		if (!ret) {
			fill_len[n++] = len;
			continue;
		}
		if (ret != -ENOSPC && ret != -EDQUOT)
			break;
		if (len == HM_PAGE)
			break;
		len /= 2;
	}
	ASSERT_TRUE(ret == -ENOSPC || ret == -EDQUOT) TH_LOG("%d VA32 maps, then %s", n,
							     strerror(-ret));
	TH_LOG("%d VA32 maps (64 MiB, then halves), then %s", n, strerror(-ret));
	ASSERT_EQ(0, dh_map(self->fd, buf, 0, 2 * HM_PAGE, 0, &hi));
	ASSERT_LE(SZ_4G, hi.vadsp) TH_LOG("the map without placement landed at %#llx",
					 (unsigned long long)hi.vadsp);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, fill[i], fill_len[i]));
	}
	ASSERT_EQ(0, dh_map(self->fd, buf, 0, 2 * HM_PAGE, HAPMEM_MAP_VA32, &lo));
	EXPECT_EQ(1, lo.refs) TH_LOG("VA32 request took a reference on the map at %#llx",
				     (unsigned long long)hi.vadsp);
	EXPECT_NE(hi.vadsp, lo.vadsp);
	EXPECT_GE(SZ_4G, lo.vadsp + 2 * HM_PAGE) TH_LOG("VA32 map at %#llx",
						     (unsigned long long)lo.vadsp);
	{
		unsigned char got[64];

		EXPECT_EQ(0, hm_remote_read(self->fd, lo.vadsp, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(got, p, sizeof(got)));
	}
	EXPECT_EQ(0, dh_unmap(self->fd, buf, 2 * HM_PAGE, NULL));
	EXPECT_EQ(0, dh_unmap(self->fd, buf, 2 * HM_PAGE, NULL));
	munmap(p, 2 * HM_PAGE);
	close(big);
	close(buf);
}

/*
 * A remote WRITE into a READ_ONLY share_map: the call reports one fault a
 * page (never 0) and the CPU sees none of it; reads through it work.
 */
TEST_F_TIMEOUT(limits, remote_write_into_read_only_share_map, 120)
{
	unsigned char *p, got[256];
	uint64_t va = 0;
	int buf;

	HM_REQUIRE_ENGINE(self->info);
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU to refuse the write");
	buf = filled_buffer(self->fd, &p, 81);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_share(self->fd, buf, 0, 0, HAPMEM_MAP_READ_ONLY, &va));
	EXPECT_EQ(2, write_pages(self->fd, va, 2, 82)) TH_LOG("faults of a write into a READ_ONLY map");
	EXPECT_EQ(0, hm_check(p, 2 * HM_PAGE, 81)) TH_LOG("the READ_ONLY buffer changed");
	EXPECT_EQ(0, hm_remote_read(self->fd, va + HM_PAGE, got, sizeof(got)));
	{
		unsigned char want[2 * HM_PAGE];

		hm_fill(want, sizeof(want), 81);
		EXPECT_EQ(0, memcmp(got, want + HM_PAGE, sizeof(got)));
	}
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, va, 2 * HM_PAGE));
	munmap(p, 2 * HM_PAGE);
	close(buf);
}

/* --- bounds -------------------------------------------------------------- */

/*
 * Every limit parameter refuses values out of its range with EINVAL and
 * keeps its value: bytes 0 .. 2^40, map counts 1 .. 2^20.
 */
TEST_F(limits, parameters_range_checked)
{
	static const char *const bytes[] = {
		"max_session_bytes", "max_global_bytes", "max_session_reserved_bytes",
		"max_global_reserved_bytes", "max_user_bytes", "max_session_va32_bytes",
		"max_user_va32_bytes",
	};
	static const char *const bad_bytes[] = {
		"18446744073709551615", "1099511627777", "-1", "99999999999999999999",
	};
	static const char *const bad_maps[] = {
		"18446744073709551615", "0", "1048577", "4294967296", "-1",
	};
	uint64_t before, now, mem_kb = 0;
	char line[128];
	int ret;
	FILE *f;

	REQUIRE_ROOT();
	for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
		ASSERT_EQ(0, rv_param_u64(bytes[i], &before)) TH_LOG("no parameter %s", bytes[i]);
		for (size_t k = 0; k < sizeof(bad_bytes) / sizeof(bad_bytes[0]); k++) {
			ret = rv_param_set(bytes[i], bad_bytes[k]);
			/* A number beyond u64 may fail in the parsing already. */
			if (k == 3 && ret == -ERANGE)
				ret = -EINVAL;
			EXPECT_EQ(-EINVAL, ret) TH_LOG("%s=%s", bytes[i], bad_bytes[k]);
			EXPECT_EQ(0, rv_param_u64(bytes[i], &now));
			EXPECT_EQ(before, now) TH_LOG("%s=%s changed it", bytes[i], bad_bytes[k]);
		}
		EXPECT_EQ(0, rv_param_set_u64(bytes[i], TIB)) TH_LOG("%s=2^40", bytes[i]);
		EXPECT_EQ(0, rv_param_u64(bytes[i], &now));
		EXPECT_EQ(TIB, now);
		EXPECT_EQ(0, rv_param_set_u64(bytes[i], before));
	}
	ASSERT_EQ(0, rv_param_u64("max_session_maps", &before));
	for (size_t k = 0; k < sizeof(bad_maps) / sizeof(bad_maps[0]); k++) {
		ret = rv_param_set("max_session_maps", bad_maps[k]);
		/* Beyond 32 bits a count may already fail in the parsing. */
		if ((k == 0 || k == 3) && ret == -ERANGE)
			ret = -EINVAL;
		EXPECT_EQ(-EINVAL, ret) TH_LOG("max_session_maps=%s", bad_maps[k]);
		EXPECT_EQ(0, rv_param_u64("max_session_maps", &now));
		EXPECT_EQ(before, now);
	}
	EXPECT_EQ(0, rv_param_set_u64("max_session_maps", 1 << 20));
	EXPECT_EQ(0, rv_param_set_u64("max_session_maps", before));

	/* max_user_bytes shows its effective default: a quarter of RAM. */
	f = fopen("/proc/meminfo", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %" SCNu64, &mem_kb) == 1)
			break;
	fclose(f);
	ASSERT_EQ(0, rv_param_u64("max_user_bytes", &now));
	EXPECT_LT(0, now);
	EXPECT_GE(mem_kb * 1024 / 4 + HM_SZ_1M, now) TH_LOG("max_user_bytes %llu, MemTotal %llu kB",
							    (unsigned long long)now,
							    (unsigned long long)mem_kb);
	EXPECT_LE(mem_kb * 1024 / 4 - 64 * HM_SZ_1M, now);
}

/*
 * The argument size is capped at 4096 (E2BIG beyond, before reading it):
 * a size of 0xffffffff on a one-page struct followed by a hole gets E2BIG
 * (not EFAULT from reading on), so does a zero-padded 4097; 4096 with a
 * zero tail is accepted.  And 0xffffffff over 4 GiB of zero pages returns
 * E2BIG without walking them (the time is printed).
 */
TEST_F_TIMEOUT(limits, ioctl_size_capped, 300)
{
	static const unsigned long reqs[] = {
		HAPMEM_IOC_INFO, HAPMEM_IOC_ALLOC, HAPMEM_IOC_REQUEST_MAP,
		HAPMEM_IOC_REQUEST_UNMAP, HAPMEM_IOC_SHARE_MAP, HAPMEM_IOC_SHARE_UNMAP,
		HAPMEM_IOC_DMA_HANDLE_MAP, HAPMEM_IOC_DMA_HANDLE_UNMAP,
		HAPMEM_IOC_REMOTE_ACCESS, HAPMEM_IOC_RESERVE_VA, HAPMEM_IOC_UNRESERVE_VA,
		HAPMEM_IOC_NOP,
	};
	const size_t big = (4ULL << 30) + 2 * HM_PAGE;
	unsigned char *two, *zero;
	uint32_t *size;
	double t0, dt;
	int ret;

	two = mmap(NULL, 3 * HM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	/* The third page is a hole. */
	ASSERT_EQ(0, munmap(two + 2 * HM_PAGE, HM_PAGE));
	size = (uint32_t *)(two + HM_PAGE);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		memset(two, 0, 2 * HM_PAGE);
		*size = 0xffffffff;
		ret = ioctl(self->fd, reqs[i], size) ? -errno : 0;
		EXPECT_EQ(-E2BIG, ret) TH_LOG("ioctl %#lx, size 0xffffffff: %s", reqs[i],
					      strerror(-ret));
	}
	/* A NOP of 4097 zero-padded bytes; of 4096, accepted. */
	memset(two, 0, 2 * HM_PAGE);
	size = (uint32_t *)two;
	*size = 4097;
	EXPECT_EQ(-1, ioctl(self->fd, HAPMEM_IOC_NOP, size));
	EXPECT_EQ(E2BIG, errno);
	*size = 4096;
	EXPECT_EQ(0, ioctl(self->fd, HAPMEM_IOC_NOP, size)) TH_LOG("size 4096: %s", strerror(errno));
	/* INFO of 4097 bytes, a valid head and a zero tail. */
	{
		struct hapmem_info *info = (struct hapmem_info *)two;

		memset(two, 0, 2 * HM_PAGE);
		info->size = 4097;
		info->remote = HAPMEM_INFO_SELF;
		EXPECT_EQ(-1, ioctl(self->fd, HAPMEM_IOC_INFO, info));
		EXPECT_EQ(E2BIG, errno);
	}
	munmap(two, 2 * HM_PAGE);

	zero = mmap(NULL, big, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, zero);
	*(uint32_t *)zero = 0xffffffff;
	t0 = rel_now();
	ret = ioctl(self->fd, HAPMEM_IOC_NOP, zero) ? -errno : 0;
	dt = rel_now() - t0;
	EXPECT_EQ(-E2BIG, ret) TH_LOG("NOP of 0xffffffff bytes over zero pages: %s after %.3f s",
				      ret ? strerror(-ret) : "success", dt);
	TH_LOG("NOP with size 0xffffffff over 4 GiB of zero pages: %s in %.6f s",
	       ret ? strerror(-ret) : "success", dt);
	munmap(zero, big);
}

/*
 * Long-term pins of MAP_SHARED pages of a file other than shmem/tmpfs or
 * hugetlbfs (here ramfs) are refused with EOPNOTSUPP; tmpfs ones work.
 */
TEST_F_TIMEOUT(limits, longterm_pin_of_ramfs_file_refused, 120)
{
	const uint64_t len = 16 * HM_PAGE;
	struct hapmem_request_map rm;
	unsigned char *p;
	int f, ret;

	REQUIRE_ROOT();
	if (mkdir(RAMFS_DIR, 0700) && errno != EEXIST)
		ASSERT_EQ(0, -errno);
	ASSERT_EQ(0, mount("ramfs", RAMFS_DIR, "ramfs", 0, NULL)) TH_LOG("mount ramfs: %s",
									 strerror(errno));
	self->ramfs = true;
	f = open(RAMFS_DIR "/file", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, ftruncate(f, len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x42, len);
	ret = hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)p, len, &rm);
	EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("pin of MAP_SHARED ramfs pages: %s",
					   ret ? strerror(-ret) : "succeeded");
	if (!ret)
		hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len);
	munmap(p, len);
	close(f);

	/* The same from tmpfs (/dev/shm): a long-term pin is fine there. */
	f = open("/dev/shm/hapmem-rel-limits", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, f);
	unlink("/dev/shm/hapmem-rel-limits");
	ASSERT_EQ(0, ftruncate(f, len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x43, len);
	ret = hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)p, len, &rm);
	EXPECT_EQ(0, ret) TH_LOG("pin of MAP_SHARED tmpfs pages: %s", strerror(-ret));
	if (!ret) {
		if (self->info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) {
			unsigned char got[64];

			EXPECT_EQ(0, hm_remote_read(self->fd, rm.vadsp + HM_PAGE, got, sizeof(got)));
			EXPECT_EQ(0x43, got[0]);
		}
		EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
	}
	munmap(p, len);
	close(f);
}

/*
 * A session holding max_session_maps maps (65536 by default) of one 4 KiB
 * buffer: one more is refused, and its close finishes (on the debug
 * kernel, without an RCU stall: tests/vm/run panics on one).  The close
 * time is printed.
 */
TEST_F_TIMEOUT(limits, close_at_map_limit, 900)
{
	struct hapmem_info info;
	uint64_t maps, va;
	struct hapmem_info before;
	double t0, t_map, t_close;
	int fd, buf, ret;

	ASSERT_EQ(0, hm_info(self->fd, &before));
	fd = hm_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hm_info(fd, &info));
	maps = info.max_session_maps;
	TH_LOG("max_session_maps %llu", (unsigned long long)maps);
	buf = hm_alloc(self->fd, HM_PAGE, 0);
	ASSERT_LE(0, buf);
	t0 = rel_now();
	for (uint64_t i = 0; i < maps; i++) {
		va = 0;
		ret = hm_share(fd, buf, 0, HM_PAGE, 0, &va);
		if (ret) {
			ASSERT_EQ(0, ret) TH_LOG("map %llu of %llu: %s", (unsigned long long)i,
						 (unsigned long long)maps, strerror(-ret));
		}
	}
	t_map = rel_now() - t0;
	va = 0;
	EXPECT_EQ(-EDQUOT, hm_share(fd, buf, 0, HM_PAGE, 0, &va));
	ASSERT_EQ(0, hm_info(fd, &info));
	EXPECT_EQ(maps, info.session_maps);
	t0 = rel_now();
	EXPECT_EQ(0, close(fd));
	t_close = rel_now() - t0;
	TH_LOG("%llu share_maps in %.2f s; close of the session in %.2f s",
	       (unsigned long long)maps, t_map, t_close);
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(before.global_maps, info.global_maps);
	EXPECT_EQ(before.global_sessions, info.global_sessions);
	close(buf);
}

/*
 * REMOTE_ACCESS is a test interface: refused with EPERM while the module
 * parameter allow_remote_access is 0, working again once it is 1.
 */
TEST_F_TIMEOUT(limits, remote_access_needs_parameter, 120)
{
	unsigned char got[64];
	uint64_t va = 0;
	int buf, ret;

	REQUIRE_ROOT();
	HM_REQUIRE_ENGINE(self->info);
	buf = hm_alloc(self->fd, HM_PAGE, 0);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_share(self->fd, buf, 0, 0, 0, &va));
	ret = rv_param_set("allow_remote_access", "0");
	ASSERT_EQ(0, ret) TH_LOG("allow_remote_access: %s", strerror(-ret));
	EXPECT_EQ(-EPERM, hm_remote_read(self->fd, va, got, sizeof(got)));
	EXPECT_EQ(-EPERM, hm_remote_write(self->fd, va, got, sizeof(got)));
	EXPECT_EQ(-EPERM, hm_remote(self->fd, va, got, sizeof(got), HAPMEM_ACCESS_RAW, NULL));
	ASSERT_EQ(0, rv_param_set("allow_remote_access", "1"));
	EXPECT_EQ(0, hm_remote_read(self->fd, va, got, sizeof(got)));
	EXPECT_TRUE(hm_all_zero(got, sizeof(got)));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, va, HM_PAGE));
	close(buf);
}

/*
 * A reservation whose length, aligned, would wrap: refused, even with the
 * byte limits as high as they go.  Last in the file: where it is not
 * refused it corrupts the remote's address tree for every later test.  (The kernel log, checked by
 * tests/vm/run, must stay free of warnings.)
 */
TEST_F(limits, huge_reserve_va_refused)
{
	static const uint32_t flags[] = { 0, HAPMEM_MAP_VA32, HAPMEM_MAP_VA_HIGH };
	static const uint64_t lens[] = { 0xffffffffffffe000ULL, 0xfffffffffffff000ULL,
					 1ULL << 63, TIB + HM_PAGE };

	REQUIRE_ROOT();
	if (!(self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA))
		SKIP(return, "no reserve_va on this remote");
	/* As high as the module lets them go. */
	for (int i = 0; i < 4; i++) {
		static const char *const names[] = {
			"max_session_bytes", "max_global_bytes",
			"max_session_reserved_bytes", "max_global_reserved_bytes",
		};
		const char *p = names[i];

		if (rv_param_set(p, "18446744073709551615"))
			EXPECT_EQ(0, rv_param_set_u64(p, TIB)) TH_LOG("%s", p);
	}
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct hapmem_reserve_va rv = { .flags = flags[f], .len = lens[l] };
			int ret = hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &rv);

			EXPECT_TRUE(ret == -EINVAL || ret == -EDQUOT || ret == -ENOSPC)
				TH_LOG("reserve_va(%#llx, flags %#x): %s at %#llx",
				       (unsigned long long)lens[l], flags[f],
				       ret ? strerror(-ret) : "succeeded",
				       (unsigned long long)rv.vadsp);
			if (!ret) {
				struct hapmem_unreserve_va uv = { .vadsp = rv.vadsp, .len = rv.len };

				hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &uv);
			}
		}
	}
	/* An ordinary reservation still works. */
	{
		struct hapmem_reserve_va rv = { .len = HM_SZ_1M };
		struct hapmem_unreserve_va uv = { .len = HM_SZ_1M };

		EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &rv));
		uv.vadsp = rv.vadsp;
		EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &uv));
	}
}

TEST_HARNESS_MAIN
