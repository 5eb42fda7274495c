/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * esp_heap_trace.h - ESP-IDF's standalone heap tracing (the record API)
 * under its own names, over the caps layer's event listeners.  Traces the
 * allocations and frees of every caps_* / heap_caps_* call (not plain
 * malloc).  A porting face: Documentation/porting.rst lists every
 * difference from ESP-IDF.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ESP_HEAP_TRACE_H
#define ESP_HEAP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hapmem_api.h"

#ifndef ESP_OK
typedef int esp_err_t;
#define ESP_OK			0
#define ESP_ERR_INVALID_ARG	0x102
#endif
#ifndef ESP_ERR_INVALID_STATE
#define ESP_ERR_INVALID_STATE	0x103
#endif

/* Fixed here (the library's record layout), whatever the project config. */
#define HEAP_TRACE_STACK_DEPTH	2

typedef enum {
	HEAP_TRACE_ALL,		/* every allocation; frees mark their record */
	HEAP_TRACE_LEAKS,	/* a free removes its allocation's record */
} heap_trace_mode_t;

typedef struct {
	uint32_t ccount;	/* low 32 bits of CLOCK_MONOTONIC in ns at the allocation */
	void *address;
	size_t size;
	void *alloced_by[HEAP_TRACE_STACK_DEPTH];	/* not recorded: zeros */
	void *freed_by[HEAP_TRACE_STACK_DEPTH];		/* not recorded: zeros */
	bool freed;		/* HEAP_TRACE_ALL: the block was freed since */
} heap_trace_record_t;

typedef struct {
	heap_trace_mode_t mode;
	size_t total_allocations;
	size_t total_frees;
	size_t count;		/* records in the buffer */
	size_t capacity;
	size_t high_water_mark;
	bool has_overflowed;
} heap_trace_summary_t;

HAPMEM_BEGIN_DECLS

/* @record_buffer of @num_records; NULL, 0 gives it back.  Not while tracing. */
esp_err_t heap_trace_init_standalone(heap_trace_record_t *record_buffer, size_t num_records);
/* Empty the buffer and trace in @mode. */
esp_err_t heap_trace_start(heap_trace_mode_t mode);
esp_err_t heap_trace_stop(void);
/* Trace again, keeping the records. */
esp_err_t heap_trace_resume(void);
/* Stop recording allocations; frees are still recorded. */
esp_err_t heap_trace_alloc_pause(void);
size_t heap_trace_get_count(void);
esp_err_t heap_trace_get(size_t index, heap_trace_record_t *record);
void heap_trace_dump(void);
esp_err_t heap_trace_summary(heap_trace_summary_t *summary);

HAPMEM_END_DECLS

#endif /* ESP_HEAP_TRACE_H */
