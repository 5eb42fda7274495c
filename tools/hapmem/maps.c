// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem maps: the live maps of every session, from the driver's debugfs
 * file <debugfs>/maps (driver/debugfs.c):
 *
 *   session pid=P remote=NAME maps=N bytes=B
 *     KIND vadsp=0x.. len=0x.. rflags=0x.. prot=0x.. 2m=N 64k=N 4k=N [fixed]
 *
 * Fields are key=value, so fields the tool does not know are skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct map_line {
	char kind[16];
	uint64_t vadsp, len;
	uint32_t rflags, prot, n2m, n64k, n4k;
	bool fixed;
};

struct session_line {
	long pid;
	char remote[32];
	uint64_t maps, bytes;
};

/* Read a whole (debugfs, size 0 in stat) file; NULL after cli_error(). */
static char *slurp(const char *path, size_t *len, int *rc)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (!f) {
		int e = errno;

		*rc = cli_error(
			e == ENOENT ? CLI_ABSENT : CLI_FAIL, "%s: %s%s", path,
			strerror(e),
			e == ENOENT ?
				" (is debugfs mounted and hapmem.ko loaded?)" :
				"");
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		cap *= 2;
		char *nb = realloc(buf, cap + 1);

		if (!nb) {
			free(buf);
			buf = NULL;
		} else {
			buf = nb;
		}
	}
	if (!buf || ferror(f)) {
		*rc = cli_error(CLI_FAIL, "%s: %s", path,
				buf ? "read error" : "out of memory");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static bool kv(const char *tok, const char *key, const char **val)
{
	size_t k = strlen(key);

	if (strncmp(tok, key, k) || tok[k] != '=')
		return false;
	*val = tok + k + 1;
	return true;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || end == s || *end ? -EINVAL : 0;
}

static int parse_session(char *line, struct session_line *s)
{
	char *save, *tok;
	int seen = 0;

	memset(s, 0, sizeof(*s));
	strtok_r(line, " ", &save); /* "session" */
	while ((tok = strtok_r(NULL, " ", &save))) {
		const char *v;
		uint64_t x;

		if (kv(tok, "pid", &v)) {
			if (parse_u64(v, &x))
				return -EINVAL;
			s->pid = (long)x;
			seen |= 1;
		} else if (kv(tok, "remote", &v)) {
			snprintf(s->remote, sizeof(s->remote), "%s", v);
			seen |= 2;
		} else if (kv(tok, "maps", &v)) {
			if (parse_u64(v, &s->maps))
				return -EINVAL;
		} else if (kv(tok, "bytes", &v)) {
			if (parse_u64(v, &s->bytes))
				return -EINVAL;
		}
	}
	return seen == 3 ? 0 : -EINVAL;
}

static int parse_map(char *line, struct map_line *m)
{
	char *save, *tok;
	int seen = 0;

	memset(m, 0, sizeof(*m));
	tok = strtok_r(line, " ", &save);
	if (!tok)
		return -EINVAL;
	snprintf(m->kind, sizeof(m->kind), "%s", tok);
	while ((tok = strtok_r(NULL, " ", &save))) {
		const char *v;
		uint64_t x = 0;
		int bad = 0;

		if (kv(tok, "vadsp", &v)) {
			bad = parse_u64(v, &m->vadsp);
			seen |= 1;
		} else if (kv(tok, "len", &v)) {
			bad = parse_u64(v, &m->len);
			seen |= 2;
		} else if (kv(tok, "rflags", &v)) {
			bad = parse_u64(v, &x);
			m->rflags = (uint32_t)x;
		} else if (kv(tok, "prot", &v)) {
			bad = parse_u64(v, &x);
			m->prot = (uint32_t)x;
		} else if (kv(tok, "2m", &v)) {
			bad = parse_u64(v, &x);
			m->n2m = (uint32_t)x;
		} else if (kv(tok, "64k", &v)) {
			bad = parse_u64(v, &x);
			m->n64k = (uint32_t)x;
		} else if (kv(tok, "4k", &v)) {
			bad = parse_u64(v, &x);
			m->n4k = (uint32_t)x;
		} else if (!strcmp(tok, "fixed")) {
			m->fixed = true;
		}
		if (bad)
			return -EINVAL;
	}
	return seen == 3 ? 0 : -EINVAL;
}

static void json_map(struct jw *w, const struct map_line *m)
{
	jw_obj(w, NULL);
	jw_str(w, "kind", m->kind);
	jw_u64(w, "vadsp", m->vadsp);
	jw_u64(w, "len", m->len);
	jw_u64(w, "rflags", m->rflags);
	jw_u64(w, "prot", m->prot);
	jw_obj(w, "chunks");
	jw_u64(w, "2m", m->n2m);
	jw_u64(w, "64k", m->n64k);
	jw_u64(w, "4k", m->n4k);
	jw_end_obj(w);
	jw_bool(w, "fixed", m->fixed);
	jw_end_obj(w);
}

/* The listing being written: to a memory stream, printed once all parsed. */
struct listing {
	const struct cli_opts *o;
	FILE *out;
	struct jw w;
	bool in_session, keep; /* inside a session; is it one to show */
	long shown;
};

static void list_begin(struct listing *l)
{
	if (!l->o->json)
		return;
	jw_init(&l->w, l->out);
	jw_obj(&l->w, NULL);
	jw_arr(&l->w, "sessions");
}

static void list_close_session(struct listing *l)
{
	if (l->in_session && l->keep && l->o->json) {
		jw_end_arr(&l->w);
		jw_end_obj(&l->w);
	}
}

/* A "session ..." line: 0, or -1 if it does not parse. */
static int list_session(struct listing *l, char *line)
{
	struct session_line s;
	char b[32];

	if (parse_session(line, &s))
		return -1;
	list_close_session(l);
	l->in_session = true;
	l->keep = l->o->pid < 0 || s.pid == l->o->pid;
	if (!l->keep)
		return 0;
	l->shown++;
	if (l->o->json) {
		jw_obj(&l->w, NULL);
		jw_i64(&l->w, "pid", s.pid);
		jw_str(&l->w, "remote", s.remote);
		jw_u64(&l->w, "maps", s.maps);
		jw_u64(&l->w, "bytes", s.bytes);
		jw_arr(&l->w, "map");
		return 0;
	}
	fprintf(l->out, "%spid %ld  remote %s  %" PRIu64 " maps  %s\n",
		l->shown > 1 ? "\n" : "", s.pid, s.remote, s.maps,
		cli_size(b, sizeof(b), s.bytes));
	if (s.maps)
		fprintf(l->out, "  %-10s %18s %10s %8s %4s %5s %5s %5s\n",
			"KIND", "VADSP", "LEN", "RFLAGS", "PROT", "2M", "64K",
			"4K");
	return 0;
}

/* A map line of the current session: 0, or -1 if it does not parse. */
static int list_map(struct listing *l, char *line)
{
	struct map_line m;
	char b[32];

	if (parse_map(line + strspn(line, " "), &m))
		return -1;
	if (!l->keep)
		return 0;
	if (l->o->json)
		json_map(&l->w, &m);
	else
		fprintf(l->out,
			"  %-10s %#18" PRIx64 " %10s %#8x %#4x %5u %5u %5u%s\n",
			m.kind, m.vadsp, cli_size(b, sizeof(b), m.len),
			m.rflags, m.prot, m.n2m, m.n64k, m.n4k,
			m.fixed ? "  fixed" : "");
	return 0;
}

static void list_end(struct listing *l)
{
	if (l->o->json) {
		list_close_session(l);
		jw_end_arr(&l->w);
		jw_end_obj(&l->w);
		jw_done(&l->w);
	} else if (!l->shown) {
		if (l->o->pid >= 0)
			fprintf(l->out, "no session of pid %ld\n", l->o->pid);
		else
			fprintf(l->out, "no sessions\n");
	}
}

/*
 * Read debugfs's maps file, parse every line into the listing, and print
 * the listing only when the whole file parsed.
 */
int cmd_maps(const struct cli_opts *o)
{
	struct listing l = {.o = o};
	char path[4096], *buf, *line, *save, *text = NULL;
	size_t len, text_len = 0;
	long lineno = 0;
	int rc, bad = 0;

	snprintf(path, sizeof(path), "%s/maps", o->debugfs);
	buf = slurp(path, &len, &rc);
	if (!buf)
		return rc;
	l.out = open_memstream(&text, &text_len);
	if (!l.out) {
		free(buf);
		return cli_error(CLI_FAIL, "out of memory");
	}
	list_begin(&l);
	for (line = strtok_r(buf, "\n", &save); line && !bad;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (!strncmp(line, "session ", 8))
			bad = list_session(&l, line);
		else if (line[0] == ' ' && l.in_session)
			bad = list_map(&l, line);
		else
			bad = -1;
	}
	if (!bad)
		list_end(&l);
	free(buf);
	fclose(l.out);
	if (bad) {
		free(text);
		return cli_error(CLI_FAIL, "%s:%ld: unexpected line", path,
				 lineno);
	}
	fwrite(text, 1, text_len, stdout);
	free(text);
	return CLI_OK;
}
