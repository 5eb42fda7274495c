// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem stat: the driver's global counters, once or every --watch SECS.
 *
 * They come from HAPMEM_IOC_INFO, so no debugfs is needed; the session the
 * tool itself opens is left out of "sessions".
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/hapmem.h>

#include "cli.h"

struct counters {
	uint64_t sessions, maps, bytes, buffers, pages, reservations, llc_used;
};

static int sample(int fd, struct counters *c)
{
	struct hapmem_info info = {
		.size = sizeof(info),
		.remote = HAPMEM_INFO_SELF,
	};

	if (ioctl(fd, HAPMEM_IOC_INFO, &info))
		return -errno;
	c->sessions = info.global_sessions ? info.global_sessions - 1 : 0;
	c->maps = info.global_maps;
	c->bytes = info.global_bytes;
	c->buffers = info.global_buffers;
	c->pages = info.global_pages;
	c->reservations = info.global_reservations;
	c->llc_used = info.llc_used;
	return 0;
}

static void print_json(const struct counters *c, double t)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	if (t >= 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%.3f", t);
		jw_str(&w, "time", buf);
	}
	jw_u64(&w, "sessions", c->sessions);
	jw_u64(&w, "maps", c->maps);
	jw_u64(&w, "bytes", c->bytes);
	jw_u64(&w, "buffers", c->buffers);
	jw_u64(&w, "pages", c->pages);
	jw_u64(&w, "reservations", c->reservations);
	jw_u64(&w, "llc_used", c->llc_used);
	jw_end_obj(&w);
	jw_done(&w);
}

static void print_once(const struct counters *c)
{
	char b[32];

	printf("sessions      %" PRIu64 "\n", c->sessions);
	printf("maps          %" PRIu64 "\n", c->maps);
	printf("bytes         %" PRIu64 " (%s)\n", c->bytes,
	       cli_size(b, sizeof(b), c->bytes));
	printf("buffers       %" PRIu64 "\n", c->buffers);
	printf("pages         %" PRIu64 "\n", c->pages);
	printf("reservations  %" PRIu64 "\n", c->reservations);
	printf("llc used      %" PRIu64 "\n", c->llc_used);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_stat(const struct cli_opts *o)
{
	struct counters c;
	double t0 = now();
	int fd, ret, rc;

	fd = cli_open_device(o, &rc);
	if (fd < 0)
		return rc;
	if (o->watch <= 0) {
		ret = sample(fd, &c);
		close(fd);
		if (ret)
			return cli_error(CLI_FAIL, "HAPMEM_IOC_INFO: %s",
					 strerror(-ret));
		if (o->json)
			print_json(&c, -1);
		else
			print_once(&c);
		return CLI_OK;
	}
	if (!o->json)
		printf("%9s %9s %9s %12s %9s %9s %6s %10s\n", "time",
		       "sessions", "maps", "bytes", "buffers", "pages", "resv",
		       "llc_used");
	for (long n = 0; !o->count || n < o->count; n++) {
		struct timespec ts;

		if (n) {
			double s = o->watch;

			ts.tv_sec = (time_t)s;
			ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		ret = sample(fd, &c);
		if (ret) {
			close(fd);
			return cli_error(CLI_FAIL, "HAPMEM_IOC_INFO: %s",
					 strerror(-ret));
		}
		if (o->json)
			print_json(&c, now() - t0);
		else
			printf("%9.1f %9" PRIu64 " %9" PRIu64 " %12" PRIu64
			       " %9" PRIu64 " %9" PRIu64 " %6" PRIu64
			       " %10" PRIu64 "\n",
			       now() - t0, c.sessions, c.maps, c.bytes,
			       c.buffers, c.pages, c.reservations, c.llc_used);
		fflush(stdout);
	}
	close(fd);
	return CLI_OK;
}
