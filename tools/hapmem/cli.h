/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem CLI: what the subcommands share.
 *
 * Exit codes (documented in Documentation/tools.rst):
 *   0  success
 *   1  the operation failed (an ioctl, a read, a malformed file)
 *   2  usage error
 *   3  nothing to look at: no device, debugfs not mounted, no such export
 */
#ifndef HAPMEM_CLI_H
#define HAPMEM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
#define CLI_ABSENT 3

struct cli_opts {
	bool json;
	const char *device; /* --device, $HAPMEM_DEVICE, /dev/hapmem */
	const char *
		debugfs; /* --debugfs, $HAPMEM_DEBUGFS, /sys/kernel/debug/hapmem */
	const char *dir; /* --dir, $HAPMEM_HEAP_EXPORT_DIR, /run/hapmem */
	const char *svg; /* heap --svg FILE */
	long pid; /* --pid, -1 if not given */
	double watch; /* stat --watch SECS, 0 for once */
	long count; /* stat --count N, 0 for no limit */
};

/* One line on stderr, "hapmem: ...", and the exit code to return. */
int cli_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_info(const struct cli_opts *o);
int cmd_maps(const struct cli_opts *o);
int cmd_stat(const struct cli_opts *o);
int cmd_heap(const struct cli_opts *o);

/* Open the hapmem device read-write; -1 after cli_error() (code in *rc). */
int cli_open_device(const struct cli_opts *o, int *rc);

/* "12.0 MiB", "4 KiB", "0 B" into @buf. */
const char *cli_size(char *buf, size_t len, uint64_t bytes);

/*
 * A small JSON writer: values separated by commas as they come.  Keys
 * are NULL inside arrays and at the top level.
 */
struct jw {
	FILE *f;
	int depth;
	bool need_comma[16];
};

void jw_init(struct jw *w, FILE *f);
void jw_obj(struct jw *w, const char *key);
void jw_arr(struct jw *w, const char *key);
void jw_end_obj(struct jw *w);
void jw_end_arr(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_u64(struct jw *w, const char *key, uint64_t val);
void jw_i64(struct jw *w, const char *key, int64_t val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_null(struct jw *w, const char *key);
/* Ends the top-level value with a newline. */
void jw_done(struct jw *w);

/*
 * Check that @s (len bytes) is one well-formed JSON value; with @out, also
 * print it indented by two spaces a level.  0, or -EINVAL when malformed.
 */
int json_pretty(const char *s, size_t len, FILE *out);

#endif /* HAPMEM_CLI_H */
