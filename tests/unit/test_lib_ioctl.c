// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem's ioctl layer against a scripted ioctl(2): the retry on EINTR
 * and EAGAIN (and no retry on anything else), the cleared and sized
 * argument, results copied out only on success, and ENODEV from a
 * buffer-fd call reported as EBADFD.
 *
 * This program defines ioctl() itself; the executable's definition comes
 * before libc's, so lib/transport/ioctl.c's call lands here.  Each call takes the
 * next scripted answer: an errno to fail with, or 0 to succeed, in which
 * case the "kernel" writes a recognisable answer into the argument.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "kselftest_harness.h"

#include "transport/ioctl.h"

#define SCRIPT_MAX 16

static int script[SCRIPT_MAX];
static int script_len, calls;
static unsigned long last_req;
static unsigned char seen[256];		/* the argument as the kernel saw it */
static size_t seen_len;

static void play(const int *answers, int n)
{
	memcpy(script, answers, sizeof(*answers) * (size_t)n);
	script_len = n;
	calls = 0;
	memset(seen, 0, sizeof(seen));
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	unsigned char *arg;
	uint32_t size;
	int err;

	va_start(ap, req);
	arg = va_arg(ap, unsigned char *);
	va_end(ap);
	(void)fd;
	last_req = req;
	memcpy(&size, arg, sizeof(size));	/* every hapmem struct starts with size */
	seen_len = size < sizeof(seen) ? size : sizeof(seen);
	memcpy(seen, arg, seen_len);
	err = calls < script_len ? script[calls] : EIO;
	calls++;
	if (err) {
		/*
		 * A call that failed for good may have written part of its
		 * answer (a driver bug, or a future one): the
		 * layer must not copy it out.  An interrupted call writes
		 * nothing, as the driver copies out only on success.
		 */
		if (err != EINTR && err != EAGAIN)
			memset(arg + sizeof(size), 0x5a, size - sizeof(size));
		errno = err;
		return -1;
	}
	if (req == HAPMEM_IOC_REQUEST_MAP) {
		struct hapmem_request_map *m = (void *)arg;

		m->vadsp = 0x123456000ULL;
		m->fd = 77;
		m->chunks.n_2m = 3;
	} else if (req == HAPMEM_IOC_SHARE_MAP) {
		((struct hapmem_share_map *)arg)->vadsp = 0xabc000ULL;
	} else if (req == HAPMEM_IOC_INFO) {
		((struct hapmem_info *)arg)->num_remotes = 5;
	}
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

TEST(retries_eintr_and_eagain_then_copies_out)
{
	static const int answers[] = { EINTR, EAGAIN, EINTR, 0 };
	struct hm_request_map_in in = { .flags = HAPMEM_REQUEST_FD, .heap_id = 25,
					.ion_flags = 1, .rflags = 0x1000, .len = 8192 };
	struct hm_request_map_out out = { .vadsp = 1, .fd = -5 };
	struct hapmem_request_map *k = (void *)seen;

	play(answers, 4);
	ASSERT_EQ(0, hm_ioc_request_map(3, &in, &out));
	EXPECT_EQ(4, calls);
	EXPECT_EQ(HAPMEM_IOC_REQUEST_MAP, last_req);
	EXPECT_EQ(0x123456000ULL, out.vadsp);
	EXPECT_EQ(77, out.fd);
	EXPECT_EQ(3, out.chunks.n_2m);
	/* What the kernel saw on the last try: sized, filled, reserved zero. */
	EXPECT_EQ(sizeof(*k), seen_len);
	EXPECT_EQ(sizeof(*k), k->size);
	EXPECT_EQ(HAPMEM_REQUEST_FD, k->flags);
	EXPECT_EQ(25, k->heap_id);
	EXPECT_EQ(0x1000u, k->rflags);
	EXPECT_EQ(8192u, k->len);
	EXPECT_EQ(0u, k->__reserved);
	EXPECT_EQ(0u, k->__reserved2);
	EXPECT_TRUE(all_zero((const unsigned char *)&k->chunks, sizeof(k->chunks)));
}

TEST(other_errors_are_not_retried_and_copy_nothing)
{
	static const int errs[] = { EFAULT, EINVAL, ENOMEM, EPERM, ENOTTY };
	unsigned int i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct hm_request_map_in in = { .len = 4096 };
		struct hm_request_map_out out;

		memset(&out, 0xa5, sizeof(out));
		play(&errs[i], 1);
		EXPECT_EQ(-errs[i], hm_ioc_request_map(3, &in, &out));
		EXPECT_EQ(1, calls);
		EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, out.vadsp);
	}
}

TEST(retry_then_hard_error)
{
	static const int answers[] = { EINTR, EAGAIN, EBUSY, 0 };
	struct hapmem_info info;

	memset(&info, 0xa5, sizeof(info));
	play(answers, 4);
	EXPECT_EQ(-EBUSY, hm_ioc_info(3, 0, &info));
	EXPECT_EQ(3, calls);
	EXPECT_EQ(0xa5a5a5a5u, info.num_remotes);
	play(answers + 3, 1);
	EXPECT_EQ(0, hm_ioc_info(3, 1, &info));
	EXPECT_EQ(5u, info.num_remotes);
	EXPECT_EQ(1u, ((struct hapmem_info *)seen)->remote);
}

TEST(buffer_fd_enodev_is_ebadfd)
{
	static const int enodev = ENODEV, ok = 0;
	uint64_t vadsp = 0;

	play(&enodev, 1);
	EXPECT_EQ(-EBADFD, hm_ioc_share_map(3, 0, 9, 0, 4096, &vadsp));
	EXPECT_EQ(0u, vadsp);
	play(&ok, 1);
	EXPECT_EQ(0, hm_ioc_share_map(3, 0, 9, 0, 4096, &vadsp));
	EXPECT_EQ(0xabc000ULL, vadsp);
	EXPECT_EQ(9, ((struct hapmem_share_map *)seen)->fd);
	/* A call that takes no buffer fd keeps ENODEV: "no hapmem device". */
	play(&enodev, 1);
	EXPECT_EQ(-ENODEV, hm_ioc_nop(3));
}

TEST_HARNESS_MAIN
