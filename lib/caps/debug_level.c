// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debug level of the capability heaps, its environment variable, where
 * reports go, and the per-process canary value.
 *
 * $HAPMEM_CAPS_DEBUG = none | basic | poison | canary | trace [,leaks]
 * is read once, at the first use of the caps API; caps_debug_set_level()
 * overrides it at any time (for blocks allocated from then on).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "caps/caps_internal.h"

static atomic_int level = CAPS_DEBUG_NONE;
static atomic_ulong errors;
static uint64_t canary;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t rep_lock = PTHREAD_MUTEX_INITIALIZER;
static caps_report_fn rep_fn;
static void *rep_arg;
static atomic_bool leaks_at_exit, atexit_done;

static const char *const names[] = {
	[CAPS_DEBUG_NONE] = "none", [CAPS_DEBUG_BASIC] = "basic",
	[CAPS_DEBUG_POISON] = "poison", [CAPS_DEBUG_CANARY] = "canary",
	[CAPS_DEBUG_TRACE] = "trace",
};

static void at_exit(void)
{
	if (atomic_load(&leaks_at_exit) && hm_caps_dbg_level() >= CAPS_DEBUG_TRACE)
		caps_debug_leak_report(stderr);
}

static void arm_at_exit(void)
{
	if (!atomic_exchange(&atexit_done, true))
		atexit(at_exit);
}

static void init(void)
{
	const char *env = secure_getenv("HAPMEM_CAPS_DEBUG");
	unsigned int i;

	/* random, and with no zero byte (a string terminator would not stop at it) */
	if (getrandom(&canary, sizeof(canary), GRND_NONBLOCK) != sizeof(canary))
		canary = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() ^
			 (uint64_t)(uintptr_t)&canary;
	for (i = 0; i < 8; i++)
		if (!((canary >> (8 * i)) & 0xff))
			canary |= 0x5aull << (8 * i);
	if (!env || !*env)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (!strncmp(env, names[i], n) && (env[n] == 0 || env[n] == ',')) {
			atomic_store(&level, (int)i);
			if (!strcmp(env + n, ",leaks")) {
				atomic_store(&leaks_at_exit, true);
				arm_at_exit();
			}
			return;
		}
	}
	fprintf(stderr, "hapmem caps: HAPMEM_CAPS_DEBUG=%s not understood; "
		"use none, basic, poison, canary or trace[,leaks]\n", env);
}

void hm_caps_dbg_init(void)
{
	pthread_once(&once, init);
}

enum caps_debug_level hm_caps_dbg_level(void)
{
	return (enum caps_debug_level)atomic_load_explicit(&level, memory_order_relaxed);
}

uint64_t hm_caps_canary(void)
{
	hm_caps_dbg_init();
	return canary;
}

int caps_debug_set_level(enum caps_debug_level l)
{
	hm_caps_dbg_init();
	if ((int)l < CAPS_DEBUG_NONE || l > CAPS_DEBUG_TRACE)
		return -EINVAL;
	if (l >= CAPS_DEBUG_TRACE) {
		void *bt[2];

		hm_caps_backtrace(bt, 2);	/* loads the unwinder now, not under a lock */
	}
	atomic_store(&level, (int)l);
	return 0;
}

enum caps_debug_level caps_debug_level(void)
{
	hm_caps_dbg_init();
	return hm_caps_dbg_level();
}

void caps_debug_set_reporter(caps_report_fn fn, void *arg)
{
	pthread_mutex_lock(&rep_lock);
	rep_fn = fn;
	rep_arg = arg;
	pthread_mutex_unlock(&rep_lock);
}

unsigned long caps_debug_errors(void)
{
	return atomic_load(&errors);
}

void caps_debug_leak_report_at_exit(bool on)
{
	atomic_store(&leaks_at_exit, on);
	if (on)
		arm_at_exit();
}

/* Every report is an error found: counted, then sent to the reporter. */
void hm_caps_report(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&errors, 1);
	pthread_mutex_lock(&rep_lock);
	if (rep_fn)
		rep_fn(msg, rep_arg);
	else
		fprintf(stderr, "%s\n", msg);
	pthread_mutex_unlock(&rep_lock);
}

/*
 * fork, child: the reporter runs under rep_lock and may call anything, so
 * prepare does not take it; a thread of the parent may have held it at
 * fork().  The child starts with a fresh lock and no error count.
 */
void hm_caps_dbg_fork_child(void)
{
	pthread_mutex_init(&rep_lock, NULL);
	atomic_store(&errors, 0);
}
