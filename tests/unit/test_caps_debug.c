// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debug levels of the capability heaps, each proved by deliberately
 * broken code; the incremental integrity check; the JSON dump and the
 * SVG heap map, validated.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_caps_fixture.h"

extern char **environ;

static struct {
	pthread_mutex_t lock;
	char text[8192];
	int n;
} rep = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void capture(const char *msg, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rep.lock);
	snprintf(rep.text + strlen(rep.text), sizeof(rep.text) - strlen(rep.text), "%s\n", msg);
	rep.n++;
	pthread_mutex_unlock(&rep.lock);
}

static int setup(enum caps_debug_level lvl)
{
	if (caps_debug_set_level(lvl))
		return -1;
	caps_debug_set_reporter(capture, NULL);
	rep.text[0] = 0;
	rep.n = 0;
	if (add_region("dbg", HAPMEM_CAP_CACHED | HAPMEM_CAP_DEFAULT, 0, 0, 0, NULL) <= 0)
		return -1;
	return add_region("prot", HAPMEM_CAP_PROTECTED, 0, 0, 0, NULL) <= 0 ? -1 : 0;
}
#define SETUP(l) ASSERT_EQ(0, setup(l))

TEST(none_is_silent)
{
	void *p;

	SETUP(CAPS_DEBUG_NONE);
	p = caps_malloc(32, 0);
	caps_free(p);
	EXPECT_EQ(-EINVAL, caps_free(p));	/* still refused ... */
	EXPECT_EQ(0, rep.n);			/* ... but not reported */
}

TEST(basic_reports_bad_frees)
{
	void *p;
	int x;
	char want[64];

	SETUP(CAPS_DEBUG_BASIC);
	p = caps_malloc(32, 0);
	ASSERT_NE(NULL, p);
	caps_free(p);
	EXPECT_EQ(-EINVAL, caps_free(p));
	snprintf(want, sizeof(want), "%p in region dbg", p);
	EXPECT_NE(NULL, strstr(rep.text, want)) TH_LOG("%s", rep.text);
	EXPECT_NE(NULL, strstr(rep.text, "double or invalid free"));
	EXPECT_EQ(-EFAULT, caps_free(&x));
	snprintf(want, sizeof(want), "invalid free of %p", (void *)&x);
	EXPECT_NE(NULL, strstr(rep.text, want));
	EXPECT_EQ(2, rep.n);
	EXPECT_GE(caps_debug_errors(), 2);
}

TEST(poison_catches_write_after_free)
{
	unsigned char *p, *q;
	size_t i, alloc_fill = 0;

	SETUP(CAPS_DEBUG_POISON);
	p = caps_malloc(256, 0);
	ASSERT_NE(NULL, p);
	for (i = 0; i < 256; i++)
		alloc_fill += p[i] == CAPS_POISON_ALLOC;
	EXPECT_EQ(256, alloc_fill);
	caps_free(p);
	EXPECT_EQ(CAPS_POISON_FREE, p[100]);	/* freed memory is filled */
	EXPECT_EQ(0, rep.n);
	p[100] = 0x42;				/* the bug: a write after free */
	q = caps_malloc(256, 0);		/* the same block comes back */
	ASSERT_EQ(p, q);
	EXPECT_EQ(1, rep.n);
	EXPECT_NE(NULL, strstr(rep.text, "write after free")) TH_LOG("%s", rep.text);
	EXPECT_NE(NULL, strstr(rep.text, "offset 100"));
	EXPECT_NE(NULL, strstr(rep.text, "region dbg"));
	caps_free(q);
	/* the integrity check finds it too, before anyone allocates it */
	q[7] = 1;
	EXPECT_EQ(1, caps_check_all());
	EXPECT_NE(NULL, strstr(rep.text, "found by the integrity check"));
	q[7] = CAPS_POISON_FREE;
	EXPECT_EQ(0, caps_check_all());
}

TEST(canary_catches_overruns)
{
	unsigned char *p, *q;
	void *pp;
	struct caps_check_cursor cur = { 0 };
	int steps = 0;

	SETUP(CAPS_DEBUG_CANARY);
	p = caps_malloc(100, 0);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(100, caps_block_size(p));
	p[100] = 0;				/* the bug: one byte past the end */
	EXPECT_EQ(0, rep.n);
	caps_free(p);
	EXPECT_EQ(1, rep.n);
	EXPECT_NE(NULL, strstr(rep.text, "tail canary")) TH_LOG("%s", rep.text);
	EXPECT_NE(NULL, strstr(rep.text, "overrun at offset 100"));

	q = caps_aligned_alloc(256, 40, 0);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(0, (uintptr_t)q % 256);
	q[-3] = 0;				/* an underrun */
	/* found by the incremental check with one block per step */
	while (caps_check_step(&cur, 1))
		steps++;
	EXPECT_EQ(1, cur.errors);
	EXPECT_GE(steps, 2);
	EXPECT_NE(NULL, strstr(rep.text, "head canary")) TH_LOG("%s", rep.text);
	caps_free(q);
	EXPECT_EQ(3, rep.n);	/* check + free */

	/* protected memory: guards out of band, no byte written (it would fault) */
	pp = caps_malloc(100, HAPMEM_CAP_PROTECTED);
	ASSERT_NE(NULL, pp);
	EXPECT_FALSE(cpu_readable(pp));
	EXPECT_EQ(0, caps_check_all());
	EXPECT_EQ(0, caps_free(pp));
	EXPECT_EQ(3, rep.n);
}

static void *leaky(void)
{
	return CAPS_MALLOC(77, HAPMEM_CAP_CACHED);	/* LEAK-SITE */
}

TEST(trace_leak_report_names_the_site)
{
	char *out, want[128], line_no[16];
	size_t len;
	FILE *f;
	void *a, *b;
	Dl_info di;
	long n;
	int line = __LINE__ - 11;	/* the LEAK-SITE line */

	SETUP(CAPS_DEBUG_TRACE);
	a = leaky();
	ASSERT_NE(NULL, a);
	b = caps_malloc(5, 0);
	caps_free(b);
	f = open_memstream(&out, &len);
	n = caps_debug_leak_report(f);
	fclose(f);
	EXPECT_EQ(1, n);
	snprintf(line_no, sizeof(line_no), "%d", line);
	snprintf(want, sizeof(want), "77 bytes at %p in region dbg, allocated at %s:%s (leaky)",
		 a, __FILE__, line_no);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s\nwant %s", out, want);
	/* the backtrace's first frame is in this program */
	EXPECT_NE(NULL, strstr(out, "#0 0x"));
	ASSERT_TRUE(dladdr((void *)leaky, &di));
	EXPECT_NE(NULL, strstr(out, strrchr(di.dli_fname, '/') + 1)) TH_LOG("%s", out);
	free(out);
	caps_free(a);
	EXPECT_EQ(0, caps_debug_leak_report(NULL));
}

/* ---- JSON: a small validating parser ------------------------------------ */

static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *value(const char *s, int depth);

static const char *string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 4;
			} else if (!strchr("\"\\/bfnrt", *s) || !*s) {
				return NULL;
			}
		}
		s++;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *value(const char *s, int depth)
{
	s = ws(s);
	if (depth > 32)
		return NULL;
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';
		bool obj = *s == '{';

		s = ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (obj) {
				s = string(ws(s));
				if (!s)
					return NULL;
				s = ws(s);
				if (*s++ != ':')
					return NULL;
			}
			s = value(s, depth + 1);
			if (!s)
				return NULL;
			s = ws(s);
			if (*s == ',') {
				s++;
				continue;
			}
			return *s == close ? s + 1 : NULL;
		}
	}
	if (*s == '"')
		return string(s);
	if (!strncmp(s, "true", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (!strncmp(s, "null", 4))
		return s + 4;
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		char *end;

		strtod(s, &end);
		return end > s ? end : NULL;
	}
	return NULL;
}

static bool json_valid(const char *s)
{
	s = value(s, 0);
	return s && !*ws(s);
}

static bool have_python(void)
{
	return !system("python3 -c 'import json, xml.etree.ElementTree' 2>/dev/null");
}

TEST(json_dump_parses)
{
	char *out, path[] = "/tmp/caps-json-XXXXXX", cmd[256];
	size_t len;
	FILE *f;
	void *p[20];
	int i, fd;

	SETUP(CAPS_DEBUG_CANARY);
	ASSERT_GT(add_region("we\"ird\\name", HAPMEM_CAP_UNCACHED, 0, 0, 0, NULL), 0);
	for (i = 0; i < 20; i++)
		p[i] = caps_malloc((size_t)(i + 1) * 1000, i % 3 ? 0 : HAPMEM_CAP_PROTECTED);
	for (i = 0; i < 20; i += 2)
		caps_free(p[i]);
	f = open_memstream(&out, &len);
	ASSERT_EQ(0, caps_dump_json(f));
	fclose(f);
	EXPECT_TRUE(json_valid(out)) TH_LOG("%s", out);
	EXPECT_FALSE(json_valid("{\"a\": 1,}"));	/* the validator does reject */
	EXPECT_NE(NULL, strstr(out, "\"name\": \"dbg\""));
	EXPECT_NE(NULL, strstr(out, "\"name\": \"we\\\"ird\\\\name\""));
	EXPECT_NE(NULL, strstr(out, "\"largest_free\""));
	EXPECT_NE(NULL, strstr(out, "\"fragmentation_permille\""));
	/* live: the odd i; protected when i % 3 == 0 (3, 9, 15), dbg the other 7 */
	EXPECT_NE(NULL, strstr(out, "\"live_blocks\": 7,"));
	EXPECT_NE(NULL, strstr(out, "\"live_blocks\": 3,"));
	EXPECT_NE(NULL, strstr(out, "\"debug_level\": \"canary\""));
	if (have_python()) {
		fd = mkstemp(path);
		ASSERT_GE(fd, 0);
		ASSERT_EQ((ssize_t)len, write(fd, out, len));
		close(fd);
		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import json,sys; d=json.load(open(\"%s\")); "
			 "sys.exit(0 if len(d[\"regions\"]) == 3 else 1)'", path);
		EXPECT_EQ(0, system(cmd));
		unlink(path);
	} else {
		TH_LOG("python3 absent: only the in-test parser checked the JSON");
	}
	free(out);
	for (i = 1; i < 20; i += 2)
		caps_free(p[i]);
}

/* Well-formed XML: balanced tags, quoted attributes; @root is the first element. */
static bool xml_valid(const char *s, char *root, size_t rootlen)
{
	char stack[64][32];
	int depth = 0;
	bool seen_root = false;

	root[0] = 0;
	while ((s = strchr(s, '<'))) {
		const char *e = strchr(s, '>'), *q;
		char name[32];
		size_t n;
		bool closing = s[1] == '/', selfc;

		if (!e)
			return false;
		if (s[1] == '?' || s[1] == '!') {
			s = e + 1;
			continue;
		}
		q = s + 1 + closing;
		n = strcspn(q, " />\n");
		if (!n || n >= sizeof(name))
			return false;
		memcpy(name, q, n);
		name[n] = 0;
		for (q = q + n; q < e; q++)	/* attribute quotes balance */
			if (*q == '"') {
				q = strchr(q + 1, '"');
				if (!q || q > e)
					return false;
			}
		selfc = e[-1] == '/';
		if (closing) {
			if (!depth || strcmp(stack[--depth], name))
				return false;
		} else {
			if (!seen_root) {
				snprintf(root, rootlen, "%s", name);
				seen_root = true;
			} else if (!depth) {
				return false;	/* a second root */
			}
			if (!selfc) {
				if (depth == 64)
					return false;
				snprintf(stack[depth++], 32, "%s", name);
			}
		}
		s = e + 1;
	}
	return seen_root && !depth;
}

TEST(svg_heap_map_is_valid)
{
	char *out, root[32], path[] = "/tmp/caps-svg-XXXXXX", cmd[300];
	size_t len;
	FILE *f;
	void *p[40];
	int i, fd;

	SETUP(CAPS_DEBUG_CANARY);
	for (i = 0; i < 40; i++)
		p[i] = caps_malloc(500 + (size_t)i * 300, i % 4 ? 0 : HAPMEM_CAP_PROTECTED);
	for (i = 0; i < 40; i += 3)
		caps_free(p[i]);
	f = open_memstream(&out, &len);
	ASSERT_EQ(0, caps_heap_map_svg(f));
	fclose(f);
	EXPECT_TRUE(xml_valid(out, root, sizeof(root))) TH_LOG("%.2000s", out);
	EXPECT_STREQ("svg", root);
	EXPECT_FALSE(xml_valid("<svg><g></svg></g>", root, sizeof(root)));
	EXPECT_NE(NULL, strstr(out, "xmlns=\"http://www.w3.org/2000/svg\""));
	EXPECT_NE(NULL, strstr(out, "class=\"used\" x="));
	EXPECT_NE(NULL, strstr(out, "class=\"free\" x="));
	EXPECT_NE(NULL, strstr(out, "class=\"guard\" x="));
	EXPECT_NE(NULL, strstr(out, ">prot (protected"));
	if (have_python()) {
		fd = mkstemp(path);
		ASSERT_GE(fd, 0);
		ASSERT_EQ((ssize_t)len, write(fd, out, len));
		close(fd);
		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import sys, xml.etree.ElementTree as E; "
			 "r=E.parse(\"%s\").getroot(); "
			 "sys.exit(0 if r.tag == \"{http://www.w3.org/2000/svg}svg\" else 1)'", path);
		EXPECT_EQ(0, system(cmd));
		unlink(path);
	}
	if (getenv("CAPS_SVG_OUT")) {	/* to look at it */
		f = fopen(getenv("CAPS_SVG_OUT"), "w");
		if (f) {
			fwrite(out, 1, len, f);
			fclose(f);
		}
	}
	free(out);
	for (i = 0; i < 40; i++)
		if (i % 3)
			caps_free(p[i]);
}

/* The level comes from $HAPMEM_CAPS_DEBUG in a fresh process (see main). */
TEST(environment_selects_level)
{
	static const char *const names[] = { "none", "basic", "poison", "canary", "trace" };
	int i;

	for (i = 0; i < 5; i++) {
		char env[64], exe[] = "/proc/self/exe";
		char *argv[] = { exe, NULL };
		char *envp[] = { env, "CAPS_TEST_CHILD=1", NULL };
		posix_spawn_file_actions_t fa;
		char buf[4096] = { 0 };
		size_t got = 0;
		ssize_t r;
		pid_t pid;
		int st, fds[2];

		ASSERT_EQ(0, pipe(fds));
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
		posix_spawn_file_actions_addclose(&fa, fds[0]);
		snprintf(env, sizeof(env), "HAPMEM_CAPS_DEBUG=%s%s", names[i], i == 4 ? ",leaks" : "");
		ASSERT_EQ(0, posix_spawn(&pid, exe, &fa, NULL, argv, envp));
		posix_spawn_file_actions_destroy(&fa);
		close(fds[1]);
		while ((r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)r;
		close(fds[0]);
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		ASSERT_TRUE(WIFEXITED(st));
		EXPECT_EQ(i, WEXITSTATUS(st)) TH_LOG("%s", env);
		if (i == 4) {	/* the report at exit names the site */
			EXPECT_NE(NULL, strstr(buf, "leak: 9 bytes")) TH_LOG("%s", buf);
			EXPECT_NE(NULL, strstr(buf, "test_caps_debug.c"));
			EXPECT_NE(NULL, strstr(buf, "(child)"));
		} else {
			EXPECT_EQ(0, got) TH_LOG("%s", buf);
		}
	}
}

/* Child of environment_selects_level: exit with the level seen. */
static int child(void)
{
	int lvl = caps_debug_level();

	if (lvl == CAPS_DEBUG_TRACE) {
		/* ",leaks": a block left live is reported at exit, with its site */
		add_region("c", HAPMEM_CAP_CACHED, 0, 0, 0, NULL);
		if (!CAPS_MALLOC(9, HAPMEM_CAP_CACHED))
			return 101;
	}
	return lvl;
}

int main(int argc, char **argv)
{
	if (getenv("CAPS_TEST_CHILD"))
		return child();
	return test_harness_run(argc, argv);
}
