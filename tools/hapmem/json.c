// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem CLI: writing JSON, and checking and indenting the JSON a process
 * exported (hapmem heap).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void jw_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void jw_key(struct jw *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = true;
	if (key) {
		jw_escaped(w->f, key);
		fputc(':', w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	fputc(c, w->f);
	if (w->depth + 1 <
	    (int)(sizeof(w->need_comma) / sizeof(w->need_comma[0])))
		w->depth++;
	w->need_comma[w->depth] = false;
}

void jw_obj(struct jw *w, const char *key)
{
	jw_open(w, key, '{');
}

void jw_arr(struct jw *w, const char *key)
{
	jw_open(w, key, '[');
}

void jw_end_obj(struct jw *w)
{
	fputc('}', w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_end_arr(struct jw *w)
{
	fputc(']', w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_key(w, key);
	jw_escaped(w->f, val);
}

void jw_u64(struct jw *w, const char *key, uint64_t val)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, val);
}

void jw_i64(struct jw *w, const char *key, int64_t val)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRId64, val);
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	jw_key(w, key);
	fputs(val ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

void jw_done(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}

/* ---- reading: a validating indenter, no tree is built ---- */

struct jr {
	const char *s;
	size_t len, pos;
	FILE *out;
	int depth;
};

static void jr_ws(struct jr *r)
{
	while (r->pos < r->len && strchr(" \t\r\n", r->s[r->pos]))
		r->pos++;
}

static void jr_nl(struct jr *r)
{
	if (!r->out)
		return;
	fputc('\n', r->out);
	for (int i = 0; i < r->depth; i++)
		fputs("  ", r->out);
}

static int jr_string(struct jr *r)
{
	size_t start = r->pos++;

	while (r->pos < r->len && r->s[r->pos] != '"') {
		if ((unsigned char)r->s[r->pos] < 0x20)
			return -EINVAL;
		if (r->s[r->pos] == '\\')
			r->pos++;
		r->pos++;
	}
	if (r->pos >= r->len)
		return -EINVAL;
	r->pos++;
	if (r->out)
		fwrite(r->s + start, 1, r->pos - start, r->out);
	return 0;
}

static int jr_value(struct jr *r);

static int jr_container(struct jr *r, char close)
{
	bool first = true;

	if (r->out)
		fputc(r->s[r->pos], r->out);
	r->pos++;
	if (++r->depth > 64)
		return -EINVAL;
	for (;;) {
		int ret;

		jr_ws(r);
		if (r->pos >= r->len)
			return -EINVAL;
		if (r->s[r->pos] == close) {
			r->pos++;
			r->depth--;
			if (!first)
				jr_nl(r);
			if (r->out)
				fputc(close, r->out);
			return 0;
		}
		if (!first) {
			if (r->s[r->pos] != ',')
				return -EINVAL;
			if (r->out)
				fputc(',', r->out);
			r->pos++;
			jr_ws(r);
		}
		first = false;
		jr_nl(r);
		if (close == '}') {
			if (r->pos >= r->len || r->s[r->pos] != '"')
				return -EINVAL;
			ret = jr_string(r);
			if (ret)
				return ret;
			jr_ws(r);
			if (r->pos >= r->len || r->s[r->pos] != ':')
				return -EINVAL;
			r->pos++;
			if (r->out)
				fputs(": ", r->out);
			jr_ws(r);
		}
		ret = jr_value(r);
		if (ret)
			return ret;
	}
}

static int jr_value(struct jr *r)
{
	size_t start;

	jr_ws(r);
	if (r->pos >= r->len)
		return -EINVAL;
	switch (r->s[r->pos]) {
	case '{':
		return jr_container(r, '}');
	case '[':
		return jr_container(r, ']');
	case '"':
		return jr_string(r);
	}
	/* A number, true, false or null: a run of these characters. */
	start = r->pos;
	while (r->pos < r->len &&
	       strchr("0123456789+-.eEtruefalsn", r->s[r->pos]))
		r->pos++;
	if (r->pos == start)
		return -EINVAL;
	if (r->out)
		fwrite(r->s + start, 1, r->pos - start, r->out);
	return 0;
}

int json_pretty(const char *s, size_t len, FILE *out)
{
	struct jr r = {.s = s, .len = len, .out = out};
	int ret = jr_value(&r);

	if (ret)
		return ret;
	jr_ws(&r);
	if (r.pos != r.len)
		return -EINVAL;
	if (out)
		fputc('\n', out);
	return 0;
}
