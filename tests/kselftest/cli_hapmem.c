// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hapmem CLI in the VM: every command's text and JSON output checked
 * against what the driver reports through its own ioctls, and every error
 * path's exit code and one-line message.
 *
 * The CLI binary travels with this test: make puts a copy at
 * build/tests/kselftest/bin/hapmem (a directory, so the suite runner does
 * not take it for a test), which lands at /hapmem/kselftest/bin/hapmem.
 * $HAPMEM_CLI overrides the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/hapmem.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

#define OUT_MAX (256 * 1024)

struct run {
	int status;	/* exit code, or 128 + signal */
	char out[OUT_MAX];
	char err[4096];
};

static const char *cli_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("HAPMEM_CLI");
	char exe[PATH_MAX - 16];
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/bin/hapmem", exe);
	return access(path, X_OK) ? NULL : path;
}

/* Read what is there; false at end of file (or when the buffer is full). */
static bool drain(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n = read(fd, buf + *len, cap - 1 - *len);

	if (n > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
	return n > 0 || (n < 0 && errno == EINTR);
}

/*
 * Run the CLI with @argv (NULL-terminated, argv[0] excluded) and, when
 * @env is not NULL, one extra "NAME=value" in its environment.  Returns 0,
 * or -1 if it could not be started.
 */
static int run_cli(struct run *r, const char *env, const char *const *argv)
{
	const char *cli = cli_path();
	int op[2], ep[2];
	size_t olen = 0, elen = 0;
	int status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!cli || pipe(op) || pipe(ep))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *args[32] = { "hapmem" };
		int i;

		for (i = 0; argv[i] && i < 30; i++)
			args[i + 1] = argv[i];
		args[i + 1] = NULL;
		if (env)
			putenv((char *)env);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		close(op[0]);
		close(ep[0]);
		execv(cli, (char *const *)args);
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	{
		struct pollfd p[2] = {
			{ .fd = op[0], .events = POLLIN },
			{ .fd = ep[0], .events = POLLIN },
		};

		/* Until both pipes reach end of file (or 30 s of silence). */
		while (p[0].fd >= 0 || p[1].fd >= 0) {
			if (poll(p, 2, 30000) <= 0)
				break;
			if (p[0].revents && !drain(op[0], r->out, sizeof(r->out), &olen))
				p[0].fd = -1;
			if (p[1].revents && !drain(ep[0], r->err, sizeof(r->err), &elen))
				p[1].fd = -1;
		}
	}
	close(op[0]);
	close(ep[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

#define RUN(r, env, ...)							\
	do {									\
		const char *const _argv[] = { __VA_ARGS__, NULL };		\
		ASSERT_EQ(0, run_cli((r), (env), _argv))			\
			TH_LOG("cannot run the CLI (%s)",			\
			       cli_path() ? cli_path() :			\
			       "not found: build/tests/kselftest/bin/hapmem");	\
	} while (0)

/* An error is exactly one line on stderr, "hapmem: ...", and no stdout. */
static int one_line_error(const struct run *r)
{
	size_t n = strlen(r->err);

	return n > 8 && !strncmp(r->err, "hapmem: ", 8) &&
	       r->err[n - 1] == '\n' && !memchr(r->err, '\n', n - 1) &&
	       r->out[0] == '\0';
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

FIXTURE(cli) {
	int fd;
	struct hapmem_info info;
	struct run r;
};

FIXTURE_SETUP(cli)
{
	self->fd = hm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/hapmem: %s", strerror(errno));
	ASSERT_EQ(0, hm_info(self->fd, &self->info));
	ASSERT_LT(0, self->info.num_remotes);
}

FIXTURE_TEARDOWN(cli)
{
	close(self->fd);
}

TEST_F(cli, info_text_names_every_remote)
{
	struct run *r = &self->r;
	char want[128];

	RUN(r, NULL, "info");
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	snprintf(want, sizeof(want), "remotes: %u\n", self->info.num_remotes);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);
	for (uint32_t i = 0; i < self->info.num_remotes; i++) {
		struct hapmem_info ri = { .size = sizeof(ri), .remote = i };

		ASSERT_EQ(0, ioctl(self->fd, HAPMEM_IOC_INFO, &ri));
		snprintf(want, sizeof(want), "remote %u: %s\n", i, ri.name);
		EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("no '%s' in:\n%s", want, r->out);
		snprintf(want, sizeof(want), "  va32 window   [%#llx, %#llx)",
			 (unsigned long long)ri.va32_start,
			 (unsigned long long)ri.va32_end);
		EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("no '%s' in:\n%s", want, r->out);
	}
	/* The VM boots with intel_iommu=on: the first remote is translated. */
	EXPECT_NE(NULL, strstr(r->out, "  iommu         on")) TH_LOG("%s", r->out);
	EXPECT_NE(NULL, strstr(r->out, "llc carve-out: ")) TH_LOG("%s", r->out);
}

TEST_F(cli, info_json_matches_the_ioctl)
{
	struct run *r = &self->r;
	char want[256];

	RUN(r, NULL, "--json", "info");
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	EXPECT_EQ(1, count_lines(r->out));
	snprintf(want, sizeof(want), "{\"num_remotes\":%u,\"remotes\":[{\"index\":0,",
		 self->info.num_remotes);
	EXPECT_EQ(0, strncmp(r->out, want, strlen(want))) TH_LOG("%s", r->out);
	snprintf(want, sizeof(want),
		 "\"limits\":{\"max_session_bytes\":%llu,\"max_session_maps\":%llu,"
		 "\"max_global_bytes\":%llu}",
		 (unsigned long long)self->info.max_session_bytes,
		 (unsigned long long)self->info.max_session_maps,
		 (unsigned long long)self->info.max_global_bytes);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("no %s in %s", want, r->out);
	snprintf(want, sizeof(want), "\"llc\":{\"total\":%llu,",
		 (unsigned long long)self->info.llc_total);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);
	EXPECT_NE(NULL, strstr(r->out, "\"iommu\":true")) TH_LOG("%s", r->out);
}

TEST_F(cli, maps_shows_this_process_map)
{
	struct run *r = &self->r;
	struct hapmem_request_map m;
	char pid[16], want[512];

	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, 0,
				HM_SZ_2M, &m));
	snprintf(pid, sizeof(pid), "%d", getpid());

	RUN(r, NULL, "maps", "--json", "--pid", pid);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	snprintf(want, sizeof(want),
		 "{\"sessions\":[{\"pid\":%d,\"remote\":\"%s\",\"maps\":1,\"bytes\":%llu,"
		 "\"map\":[{\"kind\":\"request\",\"vadsp\":%llu,\"len\":%llu,"
		 "\"rflags\":%u,",
		 getpid(), self->info.name, HM_SZ_2M,
		 (unsigned long long)m.vadsp, HM_SZ_2M, HAPMEM_RFLAG_ADD_PAGES);
	EXPECT_EQ(0, strncmp(r->out, want, strlen(want)))
		TH_LOG("want prefix\n%s\ngot\n%s", want, r->out);
	/* The chunk counts are the ones request_map reported. */
	snprintf(want, sizeof(want), "\"chunks\":{\"2m\":%u,\"64k\":%u,\"4k\":%u}",
		 m.chunks.n_2m, m.chunks.n_64k, m.chunks.n_4k);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("no %s in %s", want, r->out);

	RUN(r, NULL, "maps", "--pid", pid);
	ASSERT_EQ(0, r->status);
	snprintf(want, sizeof(want), "pid %d  remote %s  1 maps  2 MiB\n", getpid(),
		 self->info.name);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);
	snprintf(want, sizeof(want), "%#llx      2 MiB", (unsigned long long)m.vadsp);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("no '%s' in\n%s", want, r->out);

	/* Unmapped: the session stays, with no maps. */
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, m.vadsp, HM_SZ_2M));
	if (m.fd >= 0)
		close(m.fd);
	RUN(r, NULL, "maps", "--json", "--pid", pid);
	ASSERT_EQ(0, r->status);
	snprintf(want, sizeof(want), "\"pid\":%d,\"remote\":\"%s\",\"maps\":0,\"bytes\":0,\"map\":[]",
		 getpid(), self->info.name);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);

	/* A pid with no session: an empty answer, not an error. */
	RUN(r, NULL, "maps", "--pid", "1");
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("no session of pid 1\n", r->out);
}

TEST_F(cli, stat_counts_what_the_driver_counts)
{
	struct run *r = &self->r;
	struct hapmem_request_map m;
	struct hapmem_info now;
	char want[256];

	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, 0,
				HM_SZ_1M, &m));
	ASSERT_EQ(0, hm_info(self->fd, &now));

	RUN(r, NULL, "stat", "--json");
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	/* Its own session is left out: the count is the one we see. */
	snprintf(want, sizeof(want),
		 "{\"sessions\":%llu,\"maps\":%llu,\"bytes\":%llu,\"buffers\":%llu,",
		 (unsigned long long)now.global_sessions,
		 (unsigned long long)now.global_maps,
		 (unsigned long long)now.global_bytes,
		 (unsigned long long)now.global_buffers);
	EXPECT_EQ(0, strncmp(r->out, want, strlen(want)))
		TH_LOG("want prefix %s got %s", want, r->out);
	EXPECT_LE(1, now.global_maps);

	RUN(r, NULL, "stat");
	ASSERT_EQ(0, r->status);
	snprintf(want, sizeof(want), "maps          %llu\n",
		 (unsigned long long)now.global_maps);
	EXPECT_NE(NULL, strstr(r->out, want)) TH_LOG("%s", r->out);

	/* --watch: a header and one line per sample, as many as --count. */
	RUN(r, NULL, "stat", "--watch", "0.1", "--count", "3");
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	EXPECT_EQ(4, count_lines(r->out)) TH_LOG("%s", r->out);
	RUN(r, NULL, "stat", "--watch", "0.1", "--count", "2", "--json");
	ASSERT_EQ(0, r->status);
	EXPECT_EQ(2, count_lines(r->out)) TH_LOG("%s", r->out);
	EXPECT_EQ(0, strncmp(r->out, "{\"time\":\"", 9)) TH_LOG("%s", r->out);

	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, m.vadsp, HM_SZ_1M));
	if (m.fd >= 0)
		close(m.fd);
}

/* The CLI side of the heap export convention (see Documentation/tools.rst). */
TEST_F(cli, heap_reads_exports)
{
	struct run *r = &self->r;
	char dir[] = "/tmp/cli_heap.XXXXXX", path[128], pid[16], env[160];
	const char *json = "{\"regions\":[{\"name\":\"default\",\"total\":1048576}]}";
	FILE *f;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(env, sizeof(env), "HAPMEM_HEAP_EXPORT_DIR=%s", dir);

	RUN(r, env, "heap");
	EXPECT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "no heap exports in")) TH_LOG("%s", r->out);
	RUN(r, env, "heap", "--pid", pid);
	EXPECT_EQ(3, r->status);
	EXPECT_TRUE(one_line_error(r)) TH_LOG("out '%s' err '%s'", r->out, r->err);

	snprintf(path, sizeof(path), "%s/%d.json", dir, getpid());
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs(json, f);
	fclose(f);
	RUN(r, env, "heap", "--json");
	EXPECT_EQ(0, r->status);
	snprintf(path, sizeof(path), "\"exports\":[{\"pid\":%d,\"alive\":true,", getpid());
	EXPECT_NE(NULL, strstr(r->out, path)) TH_LOG("%s", r->out);
	RUN(r, env, "heap", "--pid", pid, "--json");
	EXPECT_EQ(0, r->status);
	snprintf(path, sizeof(path), "%s\n", json);
	EXPECT_STREQ(path, r->out);
	RUN(r, env, "heap", "--pid", pid);
	EXPECT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "      \"name\": \"default\",\n")) TH_LOG("%s", r->out);

	/* A malformed export is an error, not garbage on stdout. */
	snprintf(path, sizeof(path), "%s/%d.json", dir, getpid());
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("{\"regions\":[", f);
	fclose(f);
	RUN(r, env, "heap", "--pid", pid);
	EXPECT_EQ(1, r->status);
	EXPECT_TRUE(one_line_error(r)) TH_LOG("out '%s' err '%s'", r->out, r->err);
	unlink(path);
	rmdir(dir);
}

TEST_F(cli, errors_are_one_line_with_an_exit_code)
{
	struct run *r = &self->r;

	RUN(r, NULL, "frobnicate");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(one_line_error(r)) TH_LOG("err '%s'", r->err);
	RUN(r, NULL, "info", "--pid", "1");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(one_line_error(r));
	RUN(r, NULL, "stat", "--watch", "-1");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(one_line_error(r));
	RUN(r, NULL, "maps", "--pid", "x");
	EXPECT_EQ(2, r->status);
	EXPECT_TRUE(one_line_error(r));

	RUN(r, "HAPMEM_DEVICE=/dev/hapmem-none", "info");
	EXPECT_EQ(3, r->status);
	EXPECT_TRUE(one_line_error(r)) TH_LOG("err '%s'", r->err);
	EXPECT_NE(NULL, strstr(r->err, "/dev/hapmem-none"));
	RUN(r, "HAPMEM_DEVICE=/dev/null", "info");
	EXPECT_EQ(1, r->status);
	EXPECT_TRUE(one_line_error(r)) TH_LOG("err '%s'", r->err);
	RUN(r, "HAPMEM_DEBUGFS=/nonexistent", "maps");
	EXPECT_EQ(3, r->status);
	EXPECT_TRUE(one_line_error(r)) TH_LOG("err '%s'", r->err);
}

TEST_HARNESS_MAIN
