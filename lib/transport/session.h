/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: the process's hapmem session (one open device node).
 *
 * The node is opened lazily, once, by the first call that needs it:
 * $HAPMEM_DEVICE if set (e.g. /dev/hapmem-cdsp for another remote, read
 * with secure_getenv), else /dev/hapmem.  A failed open is not remembered:
 * the next call tries again.
 *
 * After fork() the child does not use the parent's session: the inherited
 * fd is closed in the child and the child opens its own session on first
 * use; hm_session_gen() changes so that state tied to the old session can
 * be recognised as stale.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_SESSION_H
#define HAPMEM_LIB_SESSION_H

#include <stdint.h>

#define HM_DEFAULT_DEVICE "/dev/hapmem"

/*
 * The session's fd (>= 0) or -errno: -ENODEV when the node is missing or
 * is not a hapmem device, -EACCES, -EMFILE ... as open(2) said.
 */
int hm_session_fd(void);

/*
 * Generation of the session state: bumps in a fork child and at
 * hm_session_close().  Maps recorded under another generation belong to a
 * session that is not this process's current one.
 */
uint64_t hm_session_gen(void);

/*
 * Close the session now (the kernel releases every map and reservation it
 * held).  For tests and teardown: the caller makes sure no other thread is
 * using the library and that no module still holds maps of the session.
 */
void hm_session_close(void);

#endif /* HAPMEM_LIB_SESSION_H */
