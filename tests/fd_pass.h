/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests/fd_pass.h: pass a file descriptor over a unix socket
 * (SCM_RIGHTS), for the tests that share buffers between processes.
 */
#ifndef HAPMEM_TESTS_FD_PASS_H
#define HAPMEM_TESTS_FD_PASS_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

union hm_fd_cmsg {
	struct cmsghdr h;
	char b[CMSG_SPACE(sizeof(int))];
};

/* Send @fd (and one byte) on @sock: 0 or -errno. */
static inline __attribute__((unused)) int hm_send_fd(int sock, int fd)
{
	char c = 'f';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union hm_fd_cmsg u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.b, .msg_controllen = sizeof(u.b),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/*
 * Receive an fd sent by hm_send_fd() (close-on-exec; @flags: more
 * recvmsg flags, MSG_DONTWAIT say): the fd, or -errno (-EBADMSG when the
 * message carries no fd).
 */
static inline __attribute__((unused)) int hm_recv_fd(int sock, int flags)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union hm_fd_cmsg u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.b, .msg_controllen = sizeof(u.b),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int fd;

	memset(&u, 0, sizeof(u));
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	if (n != 1)
		return n < 0 ? -errno : -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

#endif /* HAPMEM_TESTS_FD_PASS_H */
