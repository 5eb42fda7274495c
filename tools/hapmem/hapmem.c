// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem: look at the hapmem driver and the processes using it.
 *
 *   hapmem [OPTIONS] info            remotes, IOMMU, windows, limits, LLC
 *   hapmem [OPTIONS] maps [--pid P]  live maps (debugfs)
 *   hapmem [OPTIONS] stat [--watch SECS [--count N]]   global counters
 *   hapmem [OPTIONS] heap [--pid P [--svg FILE]]       exported HAP heaps
 *
 * Readable text by default, --json for scripts.  Errors are one line on
 * stderr and an exit code (cli.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
	"usage: hapmem [--json] [--device DEV] [--debugfs DIR] COMMAND [ARGS]\n"
	"\n"
	"  info                     remotes, IOMMU state, address windows, limits, LLC\n"
	"  maps [--pid P]           live maps: size, flags, vadsp, IOMMU chunks\n"
	"  stat [--watch SECS] [--count N]\n"
	"                           global counters, once or every SECS seconds\n"
	"  heap [--pid P] [--svg FILE] [--dir DIR]\n"
	"                           HAP heaps exported by processes run with\n"
	"                           HAPMEM_HEAP_EXPORT=1 (listing, or one process's)\n"
	"\n"
	"exit: 0 ok, 1 failed, 2 usage, 3 nothing to look at (no device, no\n"
	"debugfs, no export)\n";

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("hapmem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_open_device(const struct cli_opts *o, int *rc)
{
	int fd = open(o->device, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		*rc = cli_error(e == ENOENT || e == ENODEV || e == ENXIO ?
					CLI_ABSENT :
					CLI_FAIL,
				"%s: %s%s", o->device, strerror(e),
				e == ENOENT ? " (is hapmem.ko loaded?)" : "");
		return -1;
	}
	return fd;
}

const char *cli_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"B",   "KiB", "MiB",
					    "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

static int parse_long(const char *s, const char *what, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return cli_error(CLI_USAGE, "%s: not a valid number: '%s'",
				 what, s);
	*out = v;
	return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

int main(int argc, char **argv)
{
	enum {
		O_JSON = 256,
		O_DEVICE,
		O_DEBUGFS,
		O_DIR,
		O_PID,
		O_WATCH,
		O_COUNT,
		O_SVG,
		O_HELP
	};
	static const struct option longopts[] = {
		{"json", no_argument, NULL, O_JSON},
		{"device", required_argument, NULL, O_DEVICE},
		{"debugfs", required_argument, NULL, O_DEBUGFS},
		{"dir", required_argument, NULL, O_DIR},
		{"pid", required_argument, NULL, O_PID},
		{"watch", required_argument, NULL, O_WATCH},
		{"count", required_argument, NULL, O_COUNT},
		{"svg", required_argument, NULL, O_SVG},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	struct cli_opts o = {
		.device = env_or("HAPMEM_DEVICE", "/dev/hapmem"),
		.debugfs = env_or("HAPMEM_DEBUGFS", "/sys/kernel/debug/hapmem"),
		.dir = env_or("HAPMEM_HEAP_EXPORT_DIR", "/run/hapmem"),
		.pid = -1,
	};
	const char *cmd = NULL;
	bool has_pid = false, has_watch = false, has_count = false;
	bool has_svg = false, has_dir = false;
	int c, ret;

	/* Options may come before or after the command: "+" is not used. */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		long v;
		char *end;

		switch (c) {
		case O_JSON:
			o.json = true;
			break;
		case O_DEVICE:
			o.device = optarg;
			break;
		case O_DEBUGFS:
			o.debugfs = optarg;
			break;
		case O_DIR:
			o.dir = optarg;
			has_dir = true;
			break;
		case O_PID:
			ret = parse_long(optarg, "--pid", 1, &v);
			if (ret)
				return ret;
			o.pid = v;
			has_pid = true;
			break;
		case O_WATCH:
			errno = 0;
			o.watch = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o.watch > 0) ||
			    o.watch > 86400)
				return cli_error(
					CLI_USAGE,
					"--watch: not a number of seconds in (0, 86400]: '%s'",
					optarg);
			has_watch = true;
			break;
		case O_COUNT:
			ret = parse_long(optarg, "--count", 1, &o.count);
			if (ret)
				return ret;
			has_count = true;
			break;
		case O_SVG:
			o.svg = optarg;
			has_svg = true;
			break;
		case 'h':
		case O_HELP:
			fputs(usage, stdout);
			return CLI_OK;
		default:
			fputs(usage, stderr);
			return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_error(
			CLI_USAGE,
			"no command (info, maps, stat, heap); see hapmem --help");
	cmd = argv[optind];
	if (optind + 1 < argc)
		return cli_error(CLI_USAGE, "%s: unexpected argument '%s'", cmd,
				 argv[optind + 1]);

	if (strcmp(cmd, "info") && strcmp(cmd, "maps") && strcmp(cmd, "stat") &&
	    strcmp(cmd, "heap"))
		return cli_error(
			CLI_USAGE,
			"unknown command '%s' (info, maps, stat, heap)", cmd);
	if (has_pid && strcmp(cmd, "maps") && strcmp(cmd, "heap"))
		return cli_error(CLI_USAGE,
				 "%s: --pid applies to maps and heap", cmd);
	if ((has_watch || has_count) && strcmp(cmd, "stat"))
		return cli_error(CLI_USAGE,
				 "%s: --watch and --count apply to stat", cmd);
	if (has_count && !has_watch)
		return cli_error(CLI_USAGE, "stat: --count needs --watch");
	if ((has_svg || has_dir) && strcmp(cmd, "heap"))
		return cli_error(CLI_USAGE, "%s: --svg and --dir apply to heap",
				 cmd);
	if (has_svg && !has_pid)
		return cli_error(CLI_USAGE, "heap: --svg needs --pid");

	if (!strcmp(cmd, "info"))
		ret = cmd_info(&o);
	else if (!strcmp(cmd, "maps"))
		ret = cmd_maps(&o);
	else if (!strcmp(cmd, "stat"))
		ret = cmd_stat(&o);
	else
		ret = cmd_heap(&o);
	if (ret == CLI_OK && (fflush(stdout) || ferror(stdout)))
		return cli_error(CLI_FAIL, "writing the output: %s",
				 strerror(errno));
	return ret;
}
