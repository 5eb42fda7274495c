// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem heap: the HAP heaps processes exported.
 *
 * The export convention (Documentation/tools.rst): a process run with
 * HAPMEM_HEAP_EXPORT=1 has libhapmem write its heap's JSON dump to
 * <dir>/<pid>.json and its heap map picture to <dir>/<pid>.svg, <dir>
 * being $HAPMEM_HEAP_EXPORT_DIR or /run/hapmem, each file replaced
 * atomically (written aside, then renamed).  This tool only reads them:
 *
 *   hapmem heap                    list the exports, and whether each
 *                                  process is still alive
 *   hapmem heap --pid P            P's heap: the JSON, indented (--json: as is)
 *   hapmem heap --pid P --svg F    copy P's picture to F ("-": stdout)
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define HEAP_MAX_FILE (64 << 20)

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	int e;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || st.st_size > HEAP_MAX_FILE) {
		e = st.st_size > HEAP_MAX_FILE ? -EFBIG : -errno;
		fclose(f);
		return e;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*buf, 1, (size_t)st.st_size, f);
	e = ferror(f) ? -EIO : 0;
	fclose(f);
	if (e) {
		free(*buf);
		return e;
	}
	(*buf)[*len] = '\0';
	return 0;
}

static bool alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static void fmt_time(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * The pids with an export in @dir (a <pid>.json), sorted, in *@pids (to
 * free).  No directory is no export.  0 or -errno.
 */
static int read_export_pids(const char *dir, long **pids, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*pids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (pid <= 0 || strcmp(end, ".json"))
			continue;
		if (*n == cap) {
			long *np = realloc(*pids, (cap = cap ? 2 * cap : 16) *
							  sizeof(**pids));

			if (!np) {
				free(*pids);
				*pids = NULL;
				closedir(d);
				return -ENOMEM;
			}
			*pids = np;
		}
		(*pids)[(*n)++] = pid;
	}
	closedir(d);
	if (*n)
		qsort(*pids, *n, sizeof(**pids), cmp_long);
	return 0;
}

/* One export's line (or JSON object); none if its JSON went away meanwhile. */
static void list_export(const struct cli_opts *o, struct jw *w, long pid)
{
	char path[4096], when[32];
	struct stat st;
	bool svg;

	snprintf(path, sizeof(path), "%s/%ld.json", o->dir, pid);
	if (stat(path, &st))
		return;
	fmt_time(when, sizeof(when), st.st_mtime);
	snprintf(path, sizeof(path), "%s/%ld.svg", o->dir, pid);
	svg = access(path, R_OK) == 0;
	if (o->json) {
		jw_obj(w, NULL);
		jw_i64(w, "pid", pid);
		jw_bool(w, "alive", alive(pid));
		jw_str(w, "updated", when);
		jw_bool(w, "svg", svg);
		jw_end_obj(w);
	} else {
		printf("%8ld  %-5s  %-20s  json%s\n", pid,
		       alive(pid) ? "yes" : "no", when, svg ? " svg" : "");
	}
}

static int list_exports(const struct cli_opts *o)
{
	long *pids;
	size_t n;
	struct jw w;
	int ret = read_export_pids(o->dir, &pids, &n);

	if (ret == -ENOMEM)
		return cli_error(CLI_FAIL, "out of memory");
	if (ret)
		return cli_error(CLI_FAIL, "%s: %s", o->dir, strerror(-ret));
	if (o->json) {
		jw_init(&w, stdout);
		jw_obj(&w, NULL);
		jw_str(&w, "dir", o->dir);
		jw_arr(&w, "exports");
	} else if (n) {
		printf("%8s  %-5s  %-20s  %s\n", "PID", "ALIVE", "UPDATED",
		       "FILES");
	} else {
		printf("no heap exports in %s (run a program with HAPMEM_HEAP_EXPORT=1)\n",
		       o->dir);
	}
	for (size_t i = 0; i < n; i++)
		list_export(o, &w, pids[i]);
	if (o->json) {
		jw_end_arr(&w);
		jw_end_obj(&w);
		jw_done(&w);
	}
	free(pids);
	return CLI_OK;
}

static int copy_svg(const struct cli_opts *o)
{
	char path[4096], *buf;
	size_t len;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%ld.svg", o->dir, o->pid);
	ret = read_file(path, &buf, &len);
	if (ret)
		return cli_error(ret == -ENOENT ? CLI_ABSENT : CLI_FAIL,
				 "%s: %s", path, strerror(-ret));
	if (len < 5 || !strstr(buf, "<svg")) {
		free(buf);
		return cli_error(CLI_FAIL, "%s: not an SVG picture", path);
	}
	f = strcmp(o->svg, "-") ? fopen(o->svg, "w") : stdout;
	if (!f) {
		ret = errno;
		free(buf);
		return cli_error(CLI_FAIL, "%s: %s", o->svg, strerror(ret));
	}
	ret = fwrite(buf, 1, len, f) == len ? 0 : -EIO;
	if (f != stdout && fclose(f))
		ret = -errno;
	free(buf);
	if (ret)
		return cli_error(CLI_FAIL, "%s: %s", o->svg, strerror(-ret));
	if (f != stdout && !o->json)
		printf("%s: heap map of pid %ld (%zu bytes)\n", o->svg, o->pid,
		       len);
	return CLI_OK;
}

static int show_export(const struct cli_opts *o)
{
	char path[4096], when[32];
	struct stat st;
	char *buf;
	size_t len;
	int ret;

	if (o->svg)
		return copy_svg(o);
	snprintf(path, sizeof(path), "%s/%ld.json", o->dir, o->pid);
	ret = read_file(path, &buf, &len);
	if (ret == -ENOENT)
		return cli_error(
			CLI_ABSENT,
			"no heap export for pid %ld in %s (run it with HAPMEM_HEAP_EXPORT=1)",
			o->pid, o->dir);
	if (ret)
		return cli_error(CLI_FAIL, "%s: %s", path, strerror(-ret));
	if (json_pretty(buf, len, NULL)) {
		free(buf);
		return cli_error(CLI_FAIL, "%s: malformed JSON", path);
	}
	if (o->json) {
		fwrite(buf, 1, len, stdout);
		if (!len || buf[len - 1] != '\n')
			fputc('\n', stdout);
	} else {
		when[0] = '\0';
		if (!stat(path, &st))
			fmt_time(when, sizeof(when), st.st_mtime);
		printf("pid %ld (%s), exported %s, %s\n", o->pid,
		       alive(o->pid) ? "running" : "gone", when, path);
		json_pretty(buf, len, stdout);
	}
	free(buf);
	return CLI_OK;
}

int cmd_heap(const struct cli_opts *o)
{
	return o->pid < 0 ? list_exports(o) : show_export(o);
}
