// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ESP-IDF heap_trace face: records of caps allocations and frees in
 * the caller's buffer, fed by a caps listener (registered while tracing).
 *
 * Locking: trace_lock protects the buffer and the state; the listener
 * takes it (listeners run with no region lock held).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "compat/esp_heap_trace.h"
#include "hapmem_caps.h"

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static heap_trace_record_t *buf;
static size_t cap;
static heap_trace_summary_t sum;
static bool tracing, allocs_paused;
static int listener = -1;

static uint32_t now_ccount(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Under trace_lock: the newest live record of @p, or NULL. */
static heap_trace_record_t *find(const void *p)
{
	size_t i = sum.count;

	while (i--)
		if (buf[i].address == p && !buf[i].freed)
			return &buf[i];
	return NULL;
}

static void on_event(const struct caps_event *ev, void *arg)
{
	heap_trace_record_t *r;

	(void)arg;
	pthread_mutex_lock(&trace_lock);
	if (!tracing)
		goto out;
	switch (ev->type) {
	case CAPS_EV_ALLOC:
		if (allocs_paused)
			break;
		sum.total_allocations++;
		if (sum.count == cap) {
			sum.has_overflowed = true;
			break;
		}
		r = &buf[sum.count++];
		memset(r, 0, sizeof(*r));
		r->ccount = now_ccount();
		r->address = ev->ptr;
		r->size = ev->size;
		if (sum.count > sum.high_water_mark)
			sum.high_water_mark = sum.count;
		break;
	case CAPS_EV_RESIZE:
		r = find(ev->ptr);
		if (r)
			r->size = ev->size;
		break;
	case CAPS_EV_FREE:
		sum.total_frees++;
		r = find(ev->ptr);
		if (!r)
			break;
		if (sum.mode == HEAP_TRACE_ALL) {
			r->freed = true;
		} else {
			memmove(r, r + 1, (size_t)(&buf[sum.count] - (r + 1)) * sizeof(*r));
			sum.count--;
		}
		break;
	default:
		break;
	}
out:
	pthread_mutex_unlock(&trace_lock);
}

/*
 * The listener is added and removed outside trace_lock: the caps layer
 * calls it with its listener lock held, and it takes trace_lock.
 */
static void drop_listener(int h)
{
	if (h >= 0)
		caps_listener_remove(h);
}

esp_err_t heap_trace_init_standalone(heap_trace_record_t *record_buffer, size_t num_records)
{
	esp_err_t ret = ESP_OK;

	pthread_mutex_lock(&trace_lock);
	if (tracing)
		ret = ESP_ERR_INVALID_STATE;
	else if (!record_buffer != !num_records)
		ret = ESP_ERR_INVALID_ARG;
	else {
		buf = record_buffer;
		cap = num_records;
		memset(&sum, 0, sizeof(sum));
		if (buf)
			memset(buf, 0, cap * sizeof(*buf));
	}
	pthread_mutex_unlock(&trace_lock);
	return ret;
}

/* Start (@reset: empty the buffer first) or resume tracing. */
static esp_err_t trace_on(bool reset, heap_trace_mode_t mode)
{
	int h = caps_listener_add(on_event, NULL);
	esp_err_t ret = ESP_OK;

	if (h < 0)
		return ESP_ERR_INVALID_STATE;
	pthread_mutex_lock(&trace_lock);
	if (!buf || (tracing && !reset)) {
		ret = ESP_ERR_INVALID_STATE;
	} else {
		if (reset) {
			memset(&sum, 0, sizeof(sum));
			sum.mode = mode;
			memset(buf, 0, cap * sizeof(*buf));
		}
		if (!tracing) {
			listener = h;
			h = -1;
		}
		tracing = true;
		allocs_paused = false;
	}
	pthread_mutex_unlock(&trace_lock);
	drop_listener(h);
	return ret;
}

esp_err_t heap_trace_start(heap_trace_mode_t mode)
{
	if (mode != HEAP_TRACE_ALL && mode != HEAP_TRACE_LEAKS)
		return ESP_ERR_INVALID_ARG;
	return trace_on(true, mode);
}

esp_err_t heap_trace_resume(void)
{
	return trace_on(false, HEAP_TRACE_ALL);
}

esp_err_t heap_trace_stop(void)
{
	esp_err_t ret = ESP_OK;
	int h = -1;

	pthread_mutex_lock(&trace_lock);
	if (!tracing) {
		ret = ESP_ERR_INVALID_STATE;
	} else {
		tracing = false;
		h = listener;
		listener = -1;
	}
	pthread_mutex_unlock(&trace_lock);
	drop_listener(h);
	return ret;
}

esp_err_t heap_trace_alloc_pause(void)
{
	esp_err_t ret = ESP_OK;

	pthread_mutex_lock(&trace_lock);
	if (!tracing)
		ret = ESP_ERR_INVALID_STATE;
	else
		allocs_paused = true;
	pthread_mutex_unlock(&trace_lock);
	return ret;
}

size_t heap_trace_get_count(void)
{
	size_t n;

	pthread_mutex_lock(&trace_lock);
	n = sum.count;
	pthread_mutex_unlock(&trace_lock);
	return n;
}

esp_err_t heap_trace_get(size_t index, heap_trace_record_t *record)
{
	esp_err_t ret = ESP_OK;

	if (!record)
		return ESP_ERR_INVALID_ARG;
	pthread_mutex_lock(&trace_lock);
	if (!buf)
		ret = ESP_ERR_INVALID_STATE;
	else if (index >= sum.count)
		ret = ESP_ERR_INVALID_ARG;
	else
		*record = buf[index];
	pthread_mutex_unlock(&trace_lock);
	return ret;
}

esp_err_t heap_trace_summary(heap_trace_summary_t *summary)
{
	if (!summary)
		return ESP_ERR_INVALID_ARG;
	pthread_mutex_lock(&trace_lock);
	*summary = sum;
	summary->capacity = cap;
	pthread_mutex_unlock(&trace_lock);
	return ESP_OK;
}

void heap_trace_dump(void)
{
	size_t i, live = 0, live_bytes = 0;

	pthread_mutex_lock(&trace_lock);
	printf("====== Heap Trace: %zu records (%zu capacity) ======\n", sum.count, cap);
	for (i = 0; i < sum.count; i++) {
		const heap_trace_record_t *r = &buf[i];

		printf("%zu bytes (@ %p) allocated at ccount %u%s\n", r->size, r->address,
		       (unsigned int)r->ccount, r->freed ? ", freed" : "");
		if (!r->freed) {
			live++;
			live_bytes += r->size;
		}
	}
	printf("====== %zu bytes in %zu blocks not freed; %zu allocations, %zu frees%s ======\n",
	       live_bytes, live, sum.total_allocations, sum.total_frees,
	       sum.has_overflowed ? "; buffer overflowed, records lost" : "");
	pthread_mutex_unlock(&trace_lock);
}
