// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency:
 * - stress: 8 threads and 2 forked children map, unmap, share_map and
 *   dma_handle_map shared buffers, dup and close their fds, pass them over
 *   unix sockets, and open and close sessions with maps alive, for a
 *   bounded time (HAPMEM_RACE_SECS, default 30); a few device reads check
 *   the content of shared buffers all along.
 * - unmap racing a remote access of the same vadsp: the access returns the
 *   map's data or ENOENT, never anything else (the map is held until the
 *   transfer ends).
 * - a dma_handle_map whose answer cannot be copied out, racing unmaps of
 *   the same map: the references must stay exact (no map left behind, no
 *   use after free).
 * At the end of each test every counter is back at 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "rel_test.h"

#define NTHREADS 8
#define NBUFS 4
#define BUF_LEN (16 * HM_PAGE)
#define NCHILD 2

struct shared {
	int sess;			/* one session all threads use */
	int bufs[NBUFS];		/* dma-bufs with known content */
	int socks[NCHILD][2];		/* to the children */
	bool dma;
	double end;
	volatile int stop;
	volatile int dev_reads;		/* device reads in flight budget */
	pthread_mutex_t lock;
	unsigned long ops[NTHREADS], errors[NTHREADS], reads[NTHREADS];
	char why[NTHREADS][160];
};

struct worker {
	struct shared *sh;
	int id;
};

static unsigned int buf_seed(int b)
{
	return 100 + b;
}

/* Read a few bytes of buffer @b, mapped at @vadsp from @off, through the device. */
static int device_check(int sess, uint64_t vadsp, uint64_t off, int b)
{
	unsigned char got[64], want[BUF_LEN];
	int ret = hm_remote_read(sess, vadsp, got, sizeof(got));

	if (ret)
		return ret;
	hm_fill(want, BUF_LEN, buf_seed(b));
	return memcmp(got, want + off, sizeof(got)) ? -EILSEQ : 0;
}

static bool take_read_slot(struct shared *sh)
{
	bool ok = false;

	pthread_mutex_lock(&sh->lock);
	if (sh->dev_reads > 0) {
		sh->dev_reads--;
		ok = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return ok;
}

#define FAIL(fmt, ...) do {						\
		snprintf(sh->why[w->id], sizeof(sh->why[0]), fmt, ##__VA_ARGS__); \
		sh->errors[w->id]++;					\
	} while (0)

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	uint64_t seed = 0x51ed + w->id * 7919;
	int own = hm_open();

	if (own < 0) {
		sh->errors[w->id]++;
		return NULL;
	}
	while (!sh->stop && rel_now() < sh->end) {
		int sess = rel_rand(&seed) & 1 ? own : sh->sess;
		int b = rel_rand(&seed) % NBUFS;
		uint64_t off = HM_PAGE * (rel_rand(&seed) % (BUF_LEN / HM_PAGE));
		uint64_t vadsp = 0;
		int ret;

		sh->ops[w->id]++;
		switch (rel_rand(&seed) % 7) {
		case 0: {	/* request_map + unmap */
			struct hapmem_request_map rm;
			uint64_t len = HM_PAGE * (1 + rel_rand(&seed) % 4);

			ret = hm_request(sess, 0, rel_rand(&seed) & 1, 0, 0, len, &rm);
			if (ret) {
				FAIL("request_map: %s", strerror(-ret));
				break;
			}
			ret = hm_unmap(sess, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len);
			if (ret)
				FAIL("request_unmap: %s", strerror(-ret));
			break;
		}
		case 1: {	/* share_map of a shared buffer, device check, unmap */
			int dup_fd = dup(sh->bufs[b]);

			ret = hm_share(sess, dup_fd, off, HM_PAGE, 0, &vadsp);
			close(dup_fd);	/* the map holds the buffer, not the fd */
			if (ret) {
				FAIL("share_map: %s", strerror(-ret));
				break;
			}
			if (sh->dma && take_read_slot(sh)) {
				ret = device_check(sess, vadsp, off, b);
				sh->reads[w->id]++;
				if (ret)
					FAIL("device read of buffer %d: %s", b, strerror(-ret));
			}
			ret = hm_unmap(sess, HAPMEM_IOC_SHARE_UNMAP, vadsp, HM_PAGE);
			if (ret)
				FAIL("share_unmap: %s", strerror(-ret));
			break;
		}
		case 2: {	/* dma_handle refs from several threads on one range */
			struct hapmem_dma_handle_map m = {
				.fd = sh->bufs[b], .offset = off, .len = HM_PAGE,
			};
			struct hapmem_dma_handle_unmap u = {
				.fd = sh->bufs[b], .len = HM_PAGE,
			};

			ret = hm_test_ioctl(sess, HAPMEM_IOC_DMA_HANDLE_MAP, &m);
			if (ret) {
				FAIL("dma_handle_map: %s", strerror(-ret));
				break;
			}
			/*
			 * Another thread's reference may be the newest of this
			 * length: any one drop is as good, the count is what
			 * matters.
			 */
			ret = hm_test_ioctl(sess, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u);
			if (ret)
				FAIL("dma_handle_unmap: %s", strerror(-ret));
			break;
		}
		case 3: {	/* a session with maps, closed while others run */
			int s2 = hm_open();
			struct hapmem_request_map rm;

			if (s2 < 0) {
				FAIL("open: %s", strerror(errno));
				break;
			}
			hm_request(s2, 0, 0, 0, 0, HM_PAGE, &rm);
			hm_share(s2, sh->bufs[b], off, HM_PAGE, 0, &vadsp);
			close(s2);
			break;
		}
		case 4: {	/* pass a buffer to a child */
			int c = rel_rand(&seed) % NCHILD;

			pthread_mutex_lock(&sh->lock);
			hm_send_fd(sh->socks[c][0], sh->bufs[b]);
			pthread_mutex_unlock(&sh->lock);
			break;
		}
		case 5: {	/* dup/close storms on the shared fds */
			int d = dup(sh->bufs[b]);

			if (d >= 0) {
				ret = hm_share(sess, d, 0, 0, 0, &vadsp);
				close(d);
				if (!ret)
					hm_unmap(sess, HAPMEM_IOC_SHARE_UNMAP, vadsp, BUF_LEN);
				else
					FAIL("share_map whole: %s", strerror(-ret));
			}
			break;
		}
		default: {	/* a fresh buffer mapped then closed while mapped */
			int fd = hm_alloc(sess, HM_PAGE * 2, 0);

			if (fd < 0) {
				FAIL("alloc: %s", strerror(-fd));
				break;
			}
			ret = hm_share(sess, fd, 0, 0, 0, &vadsp);
			close(fd);
			if (!ret)
				ret = hm_unmap(sess, HAPMEM_IOC_SHARE_UNMAP, vadsp, 2 * HM_PAGE);
			if (ret)
				FAIL("alloc+share: %s", strerror(-ret));
			break;
		}
		}
	}
	close(own);
	return NULL;
}

/* A child: takes fds from its socket, maps them, checks one now and then. */
static int child_loop(int sock, bool dma)
{
	int sess = hm_open(), n = 0, bad = 0, reads = 0;

	if (sess < 0)
		return 1;
	for (;;) {
		int fd = hm_recv_fd(sock, 0);
		uint64_t vadsp;
		struct stat st;

		if (fd < 0)
			break;
		n++;
		if (fstat(fd, &st) || hm_share(sess, fd, HM_PAGE, HM_PAGE, 0, &vadsp)) {
			bad++;
			close(fd);
			continue;
		}
		/* Which buffer it is shows in its first bytes, read by the CPU. */
		if (dma && reads < 3 && !(n % 16)) {
			unsigned char *p = mmap(NULL, BUF_LEN, PROT_READ, MAP_SHARED, fd, 0);
			unsigned char got[64];

			reads++;
			if (p == MAP_FAILED ||
			    hm_remote_read(sess, vadsp, got, sizeof(got)) ||
			    memcmp(got, p + HM_PAGE, sizeof(got)))
				bad++;
			if (p != MAP_FAILED)
				munmap(p, BUF_LEN);
		}
		close(fd);
		if (n % 3)
			hm_unmap(sess, HAPMEM_IOC_SHARE_UNMAP, vadsp, HM_PAGE);
	}
	close(sess);	/* with maps still alive */
	return bad ? 2 : 0;
}

FIXTURE(race) {
	struct shared sh;
};

FIXTURE_SETUP(race)
{
	struct hapmem_info info;

	memset(&self->sh, 0, sizeof(self->sh));
	pthread_mutex_init(&self->sh.lock, NULL);
	self->sh.sess = hm_open();
	ASSERT_LE(0, self->sh.sess);
	ASSERT_EQ(0, hm_info(self->sh.sess, &info));
	self->sh.dma = info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE;
	for (int b = 0; b < NBUFS; b++) {
		unsigned char *p;

		self->sh.bufs[b] = hm_alloc(self->sh.sess, BUF_LEN, HAPMEM_ION_FLAG_CACHED);
		ASSERT_LE(0, self->sh.bufs[b]);
		p = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->sh.bufs[b], 0);
		ASSERT_NE(MAP_FAILED, p);
		hm_fill(p, BUF_LEN, buf_seed(b));
		munmap(p, BUF_LEN);
	}
}

FIXTURE_TEARDOWN(race)
{
	for (int b = 0; b < NBUFS; b++)
		if (self->sh.bufs[b] > 0)
			close(self->sh.bufs[b]);
	if (self->sh.sess >= 0)
		close(self->sh.sess);
	EXPECT_TRUE(hm_idle(NULL));
}

TEST_F_TIMEOUT(race, stress, 300)
{
	struct shared *sh = &self->sh;
	double secs = rel_env_u64("HAPMEM_RACE_SECS", 30), t0 = rel_now();
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	pid_t kids[NCHILD];
	unsigned long ops = 0, reads = 0;

	sh->end = t0 + secs;
	sh->dev_reads = 12;
	for (int c = 0; c < NCHILD; c++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sh->socks[c]));
		kids[c] = fork();
		ASSERT_LE(0, kids[c]);
		if (!kids[c]) {
			/* Only the parent may hold the other ends, or no EOF comes. */
			for (int o = 0; o <= c; o++)
				close(sh->socks[o][0]);
			_exit(child_loop(sh->socks[c][1], sh->dma));
		}
		close(sh->socks[c][1]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ sh, i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker, &w[i]));
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int c = 0; c < NCHILD; c++) {
		int status;

		close(sh->socks[c][0]);
		ASSERT_EQ(kids[c], waitpid(kids[c], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("child %d: status %#x", c, status);
	}
	for (int i = 0; i < NTHREADS; i++) {
		ops += sh->ops[i];
		reads += sh->reads[i];
		EXPECT_EQ(0, sh->errors[i]) TH_LOG("thread %d: %lu errors, last: %s", i,
						   sh->errors[i], sh->why[i]);
	}
	TH_LOG("%d threads + %d children, %.1f s: %lu operations, %lu device reads checked",
	       NTHREADS, NCHILD, rel_now() - t0, ops, reads);
	{
		struct hapmem_info info;

		ASSERT_EQ(0, hm_info(sh->sess, &info));
		EXPECT_EQ(0, info.session_maps);
	}
}

struct access_arg {
	int sess;
	volatile uint64_t vadsp;
	volatile int stop;
	unsigned long ok, gone, bad;
};

static void *accessor(void *p)
{
	struct access_arg *a = p;
	unsigned char got[HM_XFER], want1[HM_XFER], want2[HM_XFER];

	hm_fill(want1, sizeof(want1), 1);
	hm_fill(want2, sizeof(want2), 2);
	while (!a->stop) {
		int ret = hm_remote_read(a->sess, a->vadsp, got, sizeof(got));

		if (!ret && (!memcmp(got, want1, sizeof(got)) || !memcmp(got, want2, sizeof(got))))
			a->ok++;
		else if (ret == -ENOENT)
			a->gone++;
		else
			a->bad++;
	}
	return NULL;
}

/*
 * Two buffers with different contents take turns at being mapped; a
 * thread reads whatever is at the current vadsp while the other unmaps
 * it.  Every read is one buffer's content or ENOENT.
 */
TEST_F_TIMEOUT(race, unmap_vs_remote_access, 300)
{
	struct shared *sh = &self->sh;
	struct access_arg a = { .sess = sh->sess };
	int bufs[2];
	uint64_t seed = 77;
	pthread_t th;
	int rounds = rel_env_u64("HAPMEM_RACE_ROUNDS", 40);
	double t0 = rel_now();

	if (!sh->dma)
		SKIP(return, "no DMA engine");
	for (int i = 0; i < 2; i++) {
		unsigned char *p;

		bufs[i] = hm_alloc(sh->sess, HM_PAGE, HAPMEM_ION_FLAG_CACHED);
		ASSERT_LE(0, bufs[i]);
		p = mmap(NULL, HM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, bufs[i], 0);
		ASSERT_NE(MAP_FAILED, p);
		hm_fill(p, HM_XFER, i + 1);
		munmap(p, HM_PAGE);
	}
	{
		uint64_t v;

		ASSERT_EQ(0, hm_share(sh->sess, bufs[0], 0, HM_PAGE, 0, &v));
		a.vadsp = v;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, accessor, &a));
	for (int r = 0; r < rounds; r++) {
		uint64_t v = 0;

		usleep(rel_rand(&seed) % 250000);
		ASSERT_EQ(0, hm_unmap(sh->sess, HAPMEM_IOC_SHARE_UNMAP, a.vadsp, HM_PAGE));
		ASSERT_EQ(0, hm_share(sh->sess, bufs[(r + 1) & 1], 0, HM_PAGE, 0, &v));
		a.vadsp = v;
	}
	a.stop = 1;
	pthread_join(th, NULL);
	EXPECT_EQ(0, hm_unmap(sh->sess, HAPMEM_IOC_SHARE_UNMAP, a.vadsp, HM_PAGE));
	close(bufs[0]);
	close(bufs[1]);
	TH_LOG("%d unmaps raced %lu reads (%lu got the data, %lu ENOENT) in %.1f s", rounds,
	       a.ok + a.gone + a.bad, a.ok, a.gone, rel_now() - t0);
	EXPECT_EQ(0, a.bad);
	EXPECT_LT(0, a.ok);
}

struct dh_arg {
	int sess, buf;
	void *ro;
	volatile int stop;
	unsigned long efault, other;
};

/* dma_handle_map with an argument the kernel can read but not write back. */
static void *dh_readonly(void *p)
{
	struct dh_arg *a = p;

	while (!a->stop) {
		int ret = ioctl(a->sess, HAPMEM_IOC_DMA_HANDLE_MAP, a->ro) ? -errno : 0;

		if (ret == -EFAULT)
			a->efault++;
		else
			a->other++;
	}
	return NULL;
}

static int dh_map(int sess, const struct hapmem_dma_handle_map *m)
{
	struct hapmem_dma_handle_map mm = *m;

	return hm_test_ioctl(sess, HAPMEM_IOC_DMA_HANDLE_MAP, &mm);
}

static int dh_drop(int sess, int buf)
{
	struct hapmem_dma_handle_unmap u = { .fd = buf, .len = HM_PAGE };

	return hm_test_ioctl(sess, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u);
}

TEST_F_TIMEOUT(race, dma_handle_answer_lost_vs_unmap, 120)
{
	struct shared *sh = &self->sh;
	struct hapmem_dma_handle_map m = {
		.size = sizeof(m), .fd = sh->bufs[0], .len = HM_PAGE,
	};
	struct dh_arg a = { .sess = sh->sess, .buf = sh->bufs[0] };
	struct hapmem_info info;
	double end = rel_now() + rel_env_u64("HAPMEM_RACE_DH_SECS", 8);
	unsigned long rounds = 0, extra = 0;
	pthread_t th;

	a.ro = mmap(NULL, HM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.ro);
	memcpy(a.ro, &m, sizeof(m));
	ASSERT_EQ(0, mprotect(a.ro, HM_PAGE, PROT_READ));
	ASSERT_EQ(0, pthread_create(&th, NULL, dh_readonly, &a));
	while (rel_now() < end) {
		int ret;

		ASSERT_EQ(0, dh_map(sh->sess, &m));
		ASSERT_EQ(0, dh_drop(sh->sess, sh->bufs[0]));
		/* A second drop finds the other thread's transient reference, or nothing. */
		ret = dh_drop(sh->sess, sh->bufs[0]);
		ASSERT_TRUE(ret == 0 || ret == -ENOENT) TH_LOG("%s", strerror(-ret));
		extra += !ret;
		rounds++;
	}
	a.stop = 1;
	pthread_join(th, NULL);
	/*
	 * Whatever interleaving happened, no map may be left: nothing is
	 * unmapped before this check, and one more drop finds nothing.
	 */
	ASSERT_EQ(0, hm_info(sh->sess, &info));
	EXPECT_EQ(0, info.session_maps) TH_LOG("maps left after the race");
	EXPECT_EQ(-ENOENT, dh_drop(sh->sess, sh->bufs[0]));
	EXPECT_EQ(0, a.other);
	TH_LOG("%lu map/unmap rounds against %lu lost answers (%lu second drops took a transient reference)",
	       rounds, a.efault, extra);

	/*
	 * The same without luck: lost answers one after the other, on a map
	 * that exists (the reference taken must be given back) and on none
	 * (the new map must be withdrawn).
	 */
	ASSERT_EQ(0, dh_map(sh->sess, &m));
	for (int i = 0; i < 100; i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(sh->sess, HAPMEM_IOC_DMA_HANDLE_MAP, a.ro));
		EXPECT_EQ(EFAULT, errno);
	}
	ASSERT_EQ(0, hm_info(sh->sess, &info));
	EXPECT_EQ(1, info.session_maps);
	EXPECT_EQ(0, dh_drop(sh->sess, sh->bufs[0]));
	EXPECT_EQ(-ENOENT, dh_drop(sh->sess, sh->bufs[0])) TH_LOG("a lost answer kept its reference");
	for (int i = 0; i < 100; i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(sh->sess, HAPMEM_IOC_DMA_HANDLE_MAP, a.ro));
		EXPECT_EQ(EFAULT, errno);
	}
	ASSERT_EQ(0, hm_info(sh->sess, &info));
	EXPECT_EQ(0, info.session_maps) TH_LOG("a lost answer left its new map");
	EXPECT_EQ(-ENOENT, dh_drop(sh->sess, sh->bufs[0]));
	munmap(a.ro, HM_PAGE);
}

/*
 * The same memory mapped many times over: ten ADD_PAGES maps of one user
 * range, ten share_maps of one buffer page, and the buffer on every remote
 * at once.  Each must work (the device reads the same bytes through any of
 * them), and on the debug kernel DMA-API debugging must see no overlapping
 * streaming mappings (it warns from two, and gives up beyond seven).
 */
TEST_F_TIMEOUT(race, same_memory_mapped_many_times, 120)
{
	struct shared *sh = &self->sh;
	unsigned char *user, got[64], want[BUF_LEN];
	struct hapmem_request_map rm[10];
	uint64_t sv[10], rv[4] = {};
	int others[4] = { -1, -1, -1, -1 }, n_others = 0;
	struct hapmem_info info;

	user = mmap(NULL, 4 * HM_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, user);
	hm_fill(user, 4 * HM_PAGE, 5);
	for (int i = 0; i < 10; i++) {
		ASSERT_EQ(0, hm_request(sh->sess, 0, 0, HAPMEM_RFLAG_ADD_PAGES,
					(uintptr_t)user, 4 * HM_PAGE, &rm[i]));
		ASSERT_EQ(0, hm_share(sh->sess, sh->bufs[0], HM_PAGE, HM_PAGE, 0, &sv[i]));
	}
	/* The same buffer on every other remote too. */
	ASSERT_EQ(0, hm_info(sh->sess, &info));
	for (unsigned int r = 0; r < info.num_remotes && n_others < 4; r++) {
		struct hapmem_info ri = { .remote = r };
		char path[48];

		ASSERT_EQ(0, hm_test_ioctl(sh->sess, HAPMEM_IOC_INFO, &ri));
		if (r == info.remote_index)
			continue;
		snprintf(path, sizeof(path), "/dev/hapmem-%s", ri.name);
		others[n_others] = hm_open_dev(path);
		ASSERT_LE(0, others[n_others]);
		ASSERT_EQ(0, hm_share(others[n_others], sh->bufs[0], 0, 0, 0, &rv[n_others]));
		n_others++;
	}
	if (sh->dma) {
		hm_fill(want, BUF_LEN, buf_seed(0));
		ASSERT_EQ(0, hm_remote_read(sh->sess, rm[9].vadsp + 100, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(got, user + 100, sizeof(got)));
		ASSERT_EQ(0, hm_remote_read(sh->sess, sv[9], got, sizeof(got)));
		EXPECT_EQ(0, memcmp(got, want + HM_PAGE, sizeof(got)));
		for (int o = 0; o < n_others; o++) {
			ASSERT_EQ(0, hm_remote_read(others[o], rv[o] + HM_PAGE, got, sizeof(got)));
			EXPECT_EQ(0, memcmp(got, want + HM_PAGE, sizeof(got)));
		}
	}
	for (int i = 0; i < 10; i++) {
		EXPECT_EQ(0, hm_unmap(sh->sess, HAPMEM_IOC_REQUEST_UNMAP, rm[i].vadsp, 4 * HM_PAGE));
		EXPECT_EQ(0, hm_unmap(sh->sess, HAPMEM_IOC_SHARE_UNMAP, sv[i], HM_PAGE));
	}
	for (int o = 0; o < n_others; o++)
		close(others[o]);	/* with its map alive */
	munmap(user, 4 * HM_PAGE);
	TH_LOG("10 user-memory maps, 10 maps of one buffer page, and %d other remote(s) on it",
	       n_others);
}

TEST_HARNESS_MAIN
