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

/* The options given on the command line, to check they fit the command. */
struct given {
	bool pid, watch, count, svg, dir;
};

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

static const struct command {
	const char *name;
	int (*run)(const struct cli_opts *o);
} commands[] = {
	{"info", cmd_info},
	{"maps", cmd_maps},
	{"stat", cmd_stat},
	{"heap", cmd_heap},
};

static int parse_watch(const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || !(*out > 0) || *out > 86400)
		return cli_error(
			CLI_USAGE,
			"--watch: not a number of seconds in (0, 86400]: '%s'",
			arg);
	return 0;
}

/* One option into @o and @g: 0, or the exit code (-1: --help printed). */
static int parse_option(int c, struct cli_opts *o, struct given *g)
{
	long v;
	int ret = 0;

	switch (c) {
	case O_JSON:
		o->json = true;
		break;
	case O_DEVICE:
		o->device = optarg;
		break;
	case O_DEBUGFS:
		o->debugfs = optarg;
		break;
	case O_DIR:
		o->dir = optarg;
		g->dir = true;
		break;
	case O_PID:
		ret = parse_long(optarg, "--pid", 1, &v);
		if (!ret)
			o->pid = v;
		g->pid = true;
		break;
	case O_WATCH:
		ret = parse_watch(optarg, &o->watch);
		g->watch = true;
		break;
	case O_COUNT:
		ret = parse_long(optarg, "--count", 1, &o->count);
		g->count = true;
		break;
	case O_SVG:
		o->svg = optarg;
		g->svg = true;
		break;
	case 'h':
	case O_HELP:
		fputs(usage, stdout);
		return -1;
	default:
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	return ret;
}

/* The one command word, after the options: its entry, or NULL (*rc set). */
static const struct command *find_command(int argc, char **argv, int *rc)
{
	const char *cmd;
	size_t i;

	if (optind >= argc) {
		*rc = cli_error(
			CLI_USAGE,
			"no command (info, maps, stat, heap); see hapmem --help");
		return NULL;
	}
	cmd = argv[optind];
	if (optind + 1 < argc) {
		*rc = cli_error(CLI_USAGE, "%s: unexpected argument '%s'", cmd,
				argv[optind + 1]);
		return NULL;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return &commands[i];
	*rc = cli_error(CLI_USAGE,
			"unknown command '%s' (info, maps, stat, heap)", cmd);
	return NULL;
}

/* Options that do not apply to @cmd: the exit code, or 0. */
static int check_options(const char *cmd, const struct given *g)
{
	bool maps = !strcmp(cmd, "maps"), heap = !strcmp(cmd, "heap");
	bool stat = !strcmp(cmd, "stat");

	if (g->pid && !maps && !heap)
		return cli_error(CLI_USAGE,
				 "%s: --pid applies to maps and heap", cmd);
	if ((g->watch || g->count) && !stat)
		return cli_error(CLI_USAGE,
				 "%s: --watch and --count apply to stat", cmd);
	if (g->count && !g->watch)
		return cli_error(CLI_USAGE, "stat: --count needs --watch");
	if ((g->svg || g->dir) && !heap)
		return cli_error(CLI_USAGE, "%s: --svg and --dir apply to heap",
				 cmd);
	if (g->svg && !g->pid)
		return cli_error(CLI_USAGE, "heap: --svg needs --pid");
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_opts o = {
		.device = env_or("HAPMEM_DEVICE", "/dev/hapmem"),
		.debugfs = env_or("HAPMEM_DEBUGFS", "/sys/kernel/debug/hapmem"),
		.dir = env_or("HAPMEM_HEAP_EXPORT_DIR", "/run/hapmem"),
		.pid = -1,
	};
	const struct command *cmd;
	struct given g = {0};
	int c, ret;

	/* Options may come before or after the command: "+" is not used. */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		ret = parse_option(c, &o, &g);
		if (ret)
			return ret < 0 ? CLI_OK : ret;
	}
	cmd = find_command(argc, argv, &ret);
	if (!cmd)
		return ret;
	ret = check_options(cmd->name, &g);
	if (ret)
		return ret;

	ret = cmd->run(&o);
	if (ret == CLI_OK && (fflush(stdout) || ferror(stdout)))
		return cli_error(CLI_FAIL, "writing the output: %s",
				 strerror(errno));
	return ret;
}
