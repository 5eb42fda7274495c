// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote.h face over the simulated kernel: remote_mmap64 (buffers and
 * kernel memory), remote_mem_map with domains, fastrpc_mmap with each
 * kind, its AEE answers, and how each kind meets HAP_mmap.
 *
 * Domain nodes live beside $HAPMEM_DEVICE: a scratch directory where
 * hapmem and hapmem-adsp are the same node (/dev/null) and hapmem-cdsp is
 * another (a regular file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../fault_probe.h"

#include "test_lib_fake_kernel.h"

#include <remote.h>
#include <rpcmem.h>
#include <HAP_mem.h>
#include <apps_mem.h>
#include "hapmem_dev.h"

#include "compat/compat_internal.h"
#include "faces/hap_mmap.h"

#define LEN (64 << 10)
#define RW (HAP_PROT_READ | HAP_PROT_WRITE)

static char dir[64];

static void setup_nodes(void)
{
	fake_setup();
	setenv("HAPMEM_DEVICE", getenv("HM_TEST_DEVICE"), 1);
}

/* Made once in the harness's own process, removed when it exits. */
static void __attribute__((constructor)) make_nodes(void)
{
	char path[128];
	int fd;

	strcpy(dir, "/tmp/hm-compat-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/hapmem", dir);
	if (symlink("/dev/null", path))
		abort();
	setenv("HM_TEST_DEVICE", path, 1);
	snprintf(path, sizeof(path), "%s/hapmem-adsp", dir);
	if (symlink("/dev/null", path))
		abort();
	snprintf(path, sizeof(path), "%s/hapmem-cdsp", dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	if (fd < 0)
		abort();
	close(fd);
}

static void __attribute__((destructor)) cleanup_nodes(void)
{
	char path[128];
	static const char *const names[] = { "hapmem", "hapmem-adsp", "hapmem-cdsp" };
	size_t i;

	if (!dir[0])
		return;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

TEST(constants_match_the_platform)
{
	EXPECT_EQ(0, FASTRPC_MAP_STATIC);
	EXPECT_EQ(1, FASTRPC_MAP_RESERVED);
	EXPECT_EQ(2, FASTRPC_MAP_FD);
	EXPECT_EQ(3, FASTRPC_MAP_FD_DELAYED);
	EXPECT_EQ(16, FASTRPC_MAP_FD_NOMAP);
	EXPECT_EQ(17, FASTRPC_MAP_FD_EXTENDED);
	EXPECT_EQ(18, FASTRPC_MAP_FD_DELAYED_EXTENDED);
	EXPECT_EQ(0, ADSP_DOMAIN_ID);
	EXPECT_EQ(1, MDSP_DOMAIN_ID);
	EXPECT_EQ(2, SDSP_DOMAIN_ID);
	EXPECT_EQ(3, CDSP_DOMAIN_ID);
	EXPECT_EQ(4, CDSP1_DOMAIN_ID);
	EXPECT_EQ(0, REMOTE_MAP_MEM_STATIC);
}

TEST(remote_mmap64_buffer)
{
	uint64_t va = 0;
	char *p, rb[8] = { 0 };
	int fd, live;

	setup_nodes();
	p = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, LEN);
	ASSERT_NE(NULL, p);
	fd = rpcmem_to_fd(p);
	live = fake_live(FK_SHARE);
	ASSERT_EQ(AEE_SUCCESS, remote_mmap64(fd, 0, (uint64_t)(uintptr_t)p, LEN - 100, &va));
	EXPECT_NE(0U, va);
	EXPECT_EQ(live + 1, fake_live(FK_SHARE));
	/* the remote reads what the CPU wrote */
	strcpy(p + LEN - 8, "remote");
	ASSERT_EQ(0, hapmem_remote_read(va + LEN - 8, rb, 7));
	EXPECT_STREQ("remote", rb);
	/* unmap: the size must be the mapped one (page rounded) */
	EXPECT_EQ(AEE_EBADPARM, remote_munmap64(va, 2 * LEN));
	EXPECT_EQ(AEE_EBADPARM, remote_munmap64(va, 0));
	EXPECT_EQ(AEE_ENOSUCHMAP, remote_munmap64(va + 4096, LEN));
	EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, LEN));
	EXPECT_EQ(live, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_ENOSUCHMAP, remote_munmap64(va, LEN));
	/* bad arguments */
	EXPECT_EQ(AEE_EBADPARM, remote_mmap64(fd, 0, 0, 0, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mmap64(fd, 0, 0, -1, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mmap64(fd, 0, 0, LEN, NULL));
	EXPECT_EQ(AEE_EBADPARM, remote_mmap64(fd, 0, 0, 2 * LEN, &va));	/* past the end */
	EXPECT_EQ(AEE_EBADFD, remote_mmap64(-1, 0, 0, LEN, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mmap64(fd, 0x7, 0, LEN, &va));	/* flags with an fd */
	rpcmem_free(p);
}

TEST(remote_mmap64_kernel_memory)
{
	static const uint32_t rflags[] = { ADSP_MMAP_HEAP_ADDR, ADSP_MMAP_REMOTE_HEAP_ADDR,
					   ADSP_MMAP_ADD_PAGES, ADSP_MMAP_ADD_PAGES_LLC };
	uint64_t va;
	size_t i;
	int live;

	setup_nodes();
	live = fake_live(FK_REQUEST);
	for (i = 0; i < sizeof(rflags) / sizeof(rflags[0]); i++) {
		va = 0;
		ASSERT_EQ(AEE_SUCCESS, remote_mmap64(-1, rflags[i], 0, 3 * 4096, &va));
		EXPECT_NE(0U, va);
		EXPECT_EQ(live + 1, fake_live(FK_REQUEST));
		EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, 3 * 4096));
		EXPECT_EQ(live, fake_live(FK_REQUEST));
	}
	EXPECT_EQ(AEE_EBADPARM, remote_mmap64(-1, FASTRPC_ALLOC_HLOS_FD, 0, 4096, &va));
	fake_fail(HAPMEM_IOC_REQUEST_MAP, EPERM);
	EXPECT_EQ(AEE_EPRIVLEVEL, remote_mmap64(-1, ADSP_MMAP_REMOTE_HEAP_ADDR, 0, 4096, &va));
}

TEST(remote_mem_map_domains)
{
	uint64_t va = 0, vc = 0;
	char *p;
	int fd, live;

	setup_nodes();
	p = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, LEN);
	ASSERT_NE(NULL, p);
	fd = rpcmem_to_fd(p);
	live = fake_live(FK_SHARE);
	/* ADSP is the process's session; CDSP a session of its own */
	ASSERT_EQ(AEE_SUCCESS, remote_mem_map(ADSP_DOMAIN_ID, fd, REMOTE_MAP_MEM_STATIC,
					      (uintptr_t)p, LEN, &va));
	ASSERT_EQ(AEE_SUCCESS, remote_mem_map(CDSP_DOMAIN_ID, fd, REMOTE_MAP_MEM_STATIC,
					      (uintptr_t)p, LEN, &vc));
	EXPECT_EQ(live + 2, fake_live(FK_SHARE));
	/* each domain knows only its own maps */
	EXPECT_EQ(AEE_ENOSUCHMAP, remote_mem_unmap(ADSP_DOMAIN_ID, vc, LEN));
	EXPECT_EQ(AEE_ENOSUCHMAP, remote_mem_unmap(CDSP_DOMAIN_ID, va, LEN));
	/* remote_mmap64 and ADSP share the process's session */
	EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, LEN));
	EXPECT_EQ(AEE_SUCCESS, remote_mem_unmap(CDSP_DOMAIN_ID, vc, LEN));
	EXPECT_EQ(live, fake_live(FK_SHARE));
	/* no node for that domain, no such domain, bad flags and sizes */
	EXPECT_EQ(AEE_ERESOURCENOTFOUND, remote_mem_map(SDSP_DOMAIN_ID, fd, 0, 0, LEN, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mem_map(5, fd, 0, 0, LEN, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mem_map(-1, fd, 0, 0, LEN, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mem_map(ADSP_DOMAIN_ID, fd, REMOTE_MAP_MAX_FLAG, 0,
					       LEN, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mem_map(ADSP_DOMAIN_ID, fd, 0, 0, 0, &va));
	EXPECT_EQ(AEE_EBADPARM, remote_mem_map(ADSP_DOMAIN_ID, fd, 0, 0, LEN, NULL));
	EXPECT_EQ(AEE_EBADPARM, remote_mem_unmap(9, va, LEN));
	rpcmem_free(p);
}

FIXTURE(frpc) {
	char *p;
	int fd;
	int live;
};

FIXTURE_SETUP(frpc)
{
	setup_nodes();
	self->p = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, LEN);
	ASSERT_NE(NULL, self->p);
	self->fd = rpcmem_to_fd(self->p);
	self->live = fake_live(FK_SHARE);
	memset(self->p, 0x5a, LEN);
}

FIXTURE_TEARDOWN(frpc)
{
	EXPECT_EQ(self->live, fake_live(FK_SHARE));
	rpcmem_free(self->p);
}

/* STATIC: mapped at once on the domain's session, no HAP_mmap map. */
TEST_F(frpc, static_kind)
{
	unsigned int mr, gr;
	uint64_t va = 0;
	unsigned char rb[4];

	ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					    FASTRPC_MAP_STATIC));
	EXPECT_EQ(self->live + 1, fake_live(FK_SHARE));
	ASSERT_EQ(0, hm_fastrpc_vadsp(ADSP_DOMAIN_ID, self->fd, &va));
	ASSERT_EQ(0, hapmem_remote_read(va + LEN - 4, rb, 4));
	EXPECT_EQ(0x5a, rb[3]);
	EXPECT_EQ(-ENOENT, hm_hap_mmap_refs(self->fd, &mr, &gr, NULL));
	/* a second registration, any kind: EALREADY */
	EXPECT_EQ(AEE_EALREADY, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_STATIC));
	EXPECT_EQ(AEE_EALREADY, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_FD));
	/* another domain is another registration */
	ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(CDSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					    FASTRPC_MAP_STATIC));
	EXPECT_EQ(self->live + 2, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, 2 * LEN));
	EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
	EXPECT_EQ(AEE_ENOSUCHMAP, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
	EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(CDSP_DOMAIN_ID, self->fd, self->p, LEN));
}

/* FD and FD_EXTENDED: a HAP_mmap reference now, HAP_mmap_get finds it. */
TEST_F(frpc, fd_kinds)
{
	static const enum fastrpc_map_flags kinds[] = { FASTRPC_MAP_FD,
							FASTRPC_MAP_FD_EXTENDED };
	unsigned int mr, gr;
	size_t k;

	for (k = 0; k < 2; k++) {
		void *v = NULL;
		uint64 pa = 0;

		ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
						    kinds[k]));
		EXPECT_EQ(self->live + 1, fake_live(FK_SHARE));
		ASSERT_EQ(0, hm_hap_mmap_refs(self->fd, &mr, &gr, NULL));
		EXPECT_EQ(1U, mr);
		ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
		EXPECT_NE(0U, pa);
		EXPECT_EQ(0x5a, ((unsigned char *)v)[LEN - 1]);
		EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
		/* only the domain HAP_mmap maps on */
		EXPECT_EQ(AEE_EUNSUPPORTED, fastrpc_mmap(CDSP_DOMAIN_ID, self->fd, self->p, 0,
							 LEN, kinds[k]));
		EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
		EXPECT_EQ(-ENOENT, hm_hap_mmap_refs(self->fd, &mr, &gr, NULL));
		EXPECT_EQ(self->live, fake_live(FK_SHARE));
	}
}

/* The delayed kinds: no map until HAP_mmap; NOMAP gives no CPU access. */
TEST_F(frpc, delayed_kinds)
{
	static const enum fastrpc_map_flags kinds[] = {
		FASTRPC_MAP_FD_DELAYED, FASTRPC_MAP_FD_NOMAP, FASTRPC_MAP_FD_DELAYED_EXTENDED,
	};
	size_t k;

	for (k = 0; k < 3; k++) {
		unsigned char *a, *v = NULL, rb[2];
		uint64 pa = 0;

		ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, NULL, 0, LEN,
						    kinds[k]));
		EXPECT_EQ(self->live, fake_live(FK_SHARE));
		EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(self->fd, (void **)&v, &pa));
		EXPECT_EQ(AEE_EALREADY, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, NULL, 0, LEN,
						     kinds[k]));
		a = HAP_mmap(NULL, LEN, RW, 0, self->fd, 0);
		ASSERT_NE((void *)-1, a);
		EXPECT_EQ(self->live + 1, fake_live(FK_SHARE));
		ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, (void **)&v, &pa));
		EXPECT_EQ(a, v);
		ASSERT_EQ(0, hapmem_remote_read(pa, rb, 2));
		EXPECT_EQ(0x5a, rb[1]);
		/* NOMAP: the address is a handle, the CPU cannot touch it */
		EXPECT_EQ(kinds[k] == FASTRPC_MAP_FD_NOMAP, write_faults((char *)a));
		EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
		EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
		EXPECT_EQ(self->live, fake_live(FK_SHARE));
		EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, NULL, LEN));
	}
}

TEST_F(frpc, refused)
{
	int other = open("/dev/null", O_RDONLY);

	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_RESERVED));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     (enum fastrpc_map_flags)4));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_MAX));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, 0,
					     FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 100, LEN,
					     FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, -4096, LEN,
					     FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(7, self->fd, self->p, 0, LEN, FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_ERESOURCENOTFOUND, fastrpc_mmap(SDSP_DOMAIN_ID, self->fd, self->p, 0,
						      LEN, FASTRPC_MAP_STATIC));
	EXPECT_EQ(AEE_EBADFD, fastrpc_mmap(ADSP_DOMAIN_ID, -1, self->p, 0, LEN,
					   FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_EINVALIDFD, fastrpc_mmap(ADSP_DOMAIN_ID, other, self->p, 0, LEN,
					       FASTRPC_MAP_FD));
	/* beyond the buffer: the kernel's EINVAL */
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, 2 * LEN,
					     FASTRPC_MAP_STATIC));
	EXPECT_EQ(AEE_ENOSUCHMAP, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, 0));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_munmap(-1, self->fd, self->p, LEN));
	close(other);
}

struct racer {
	int fd;
	void *p;
	enum fastrpc_map_flags kind;
	pthread_barrier_t *go;
	int ret;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->ret = fastrpc_mmap(ADSP_DOMAIN_ID, r->fd, r->p, 0, LEN, r->kind);
	return NULL;
}

/* Threads registering one buffer at once: one wins, the rest EALREADY, one map. */
TEST_F(frpc, concurrent_registration)
{
	static const enum fastrpc_map_flags kinds[] = { FASTRPC_MAP_STATIC, FASTRPC_MAP_FD };
	struct racer r[6];
	pthread_t t[6];
	pthread_barrier_t go;
	size_t k;
	int i, wins, already;

	for (k = 0; k < 2; k++) {
		pthread_barrier_init(&go, NULL, 6);
		for (i = 0; i < 6; i++) {
			r[i] = (struct racer){ self->fd, self->p, kinds[k], &go, -1 };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, race, &r[i]));
		}
		wins = already = 0;
		for (i = 0; i < 6; i++) {
			pthread_join(t[i], NULL);
			wins += r[i].ret == AEE_SUCCESS;
			already += r[i].ret == AEE_EALREADY;
		}
		pthread_barrier_destroy(&go);
		EXPECT_EQ(1, wins);
		EXPECT_EQ(5, already);
		EXPECT_EQ(self->live + 1, fake_live(FK_SHARE));
		EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
		EXPECT_EQ(self->live, fake_live(FK_SHARE));
	}
}

/* A fork child does not inherit registrations or maps: they are the parent's. */
TEST_F(frpc, fork_child_starts_empty)
{
	uint64_t va = 0;
	int status, dupfd;
	pid_t pid;

	ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					    FASTRPC_MAP_FD_DELAYED));
	ASSERT_EQ(AEE_SUCCESS, remote_mmap64(self->fd, 0, 0, LEN, &va));
	/* the library closes its own buffer fds in a child: the child uses a dup */
	dupfd = dup(self->fd);
	ASSERT_LE(0, dupfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bad = 0;

		bad |= (remote_munmap64(va, LEN) != AEE_ENOSUCHMAP) << 0;
		bad |= (fastrpc_munmap(ADSP_DOMAIN_ID, dupfd, self->p, LEN) !=
			AEE_ENOSUCHMAP) << 1;
		bad |= (fastrpc_mmap(ADSP_DOMAIN_ID, dupfd, self->p, 0, LEN,
				     FASTRPC_MAP_FD_DELAYED) != AEE_SUCCESS) << 2;
		bad |= (fastrpc_munmap(ADSP_DOMAIN_ID, dupfd, self->p, LEN) !=
			AEE_SUCCESS) << 3;
		_exit(bad);
	}
	close(dupfd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the parent's are intact */
	EXPECT_EQ(AEE_EALREADY, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_FD_DELAYED));
	EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, LEN));
	EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
}

TEST_HARNESS_MAIN
