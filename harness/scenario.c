/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "scenario.h"
#include "hh-error.h"
#include "image.h"
#include "selftest.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	gint value;
} errnos[] = {
	{ "EPERM", EPERM },   { "ENOENT", ENOENT }, { "EIO", EIO },
	{ "ENXIO", ENXIO },   { "E2BIG", E2BIG },   { "EAGAIN", EAGAIN },
	{ "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "EFAULT", EFAULT },
	{ "EBUSY", EBUSY },   { "EEXIST", EEXIST }, { "ENODEV", ENODEV },
	{ "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "ERANGE", ERANGE },
	{ "ENOSYS", ENOSYS }, { "EOPNOTSUPP", EOPNOTSUPP },
	{ "ENAMETOOLONG", ENAMETOOLONG },
};

gint hh_errno_from_name(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(errnos); i++) {
		if (g_str_equal(errnos[i].name, name))
			return errnos[i].value;
	}
	return -1;
}

gint hh_kernel_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		guint64 x = g_ascii_strtoull(a, (char **)&a, 10);
		guint64 y = g_ascii_strtoull(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		/* past the number: on to the next field, or the end */
		a = *a == '.' ? a + 1 : a + strlen(a);
		b = *b == '.' ? b + 1 : b + strlen(b);
	}
	return 0;
}

const char *hh_errno_name(gint err)
{
	for (gsize i = 0; i < G_N_ELEMENTS(errnos); i++) {
		if (errnos[i].value == err)
			return errnos[i].name;
	}
	return err ? "E?" : "ok";
}

static void expect_free(gpointer p)
{
	HhExpect *e = p;

	g_free(e->text);
	g_free(e->path);
	g_free(e->value);
	g_free(e->zone);
	g_free(e->device);
	if (e->regex)
		g_regex_unref(e->regex);
	g_free(e);
}

static void step_free(gpointer p)
{
	HhStep *s = p;

	g_free(s->text);
	g_free(s->path);
	g_free(s->value);
	g_strfreev(s->argv);
	g_free(s->id);
	g_ptr_array_unref(s->expects);
	g_free(s);
}

static void require_free(gpointer p)
{
	HhRequire *r = p;

	g_free(r->value);
	g_free(r->because);
	g_free(r);
}

void hh_scenario_free(HhScenario *s)
{
	if (!s)
		return;
	g_free(s->name);
	g_free(s->path);
	g_free(s->description);
	if (s->expect_crash)
		g_regex_unref(s->expect_crash);
	g_ptr_array_unref(s->requires);
	g_ptr_array_unref(s->variants);
	if (s->collect)
		g_ptr_array_unref(s->collect);
	g_ptr_array_unref(s->steps);
	g_clear_error(&s->unresolved);
	g_free(s);
}

/* ---- tokens ---- */

typedef struct {
	char *text;
	guint col;		/* 1-based */
	gboolean quoted;
} Token;

typedef struct {
	const char *path;
	guint line;
	GArray *tokens;		/* Token */
	guint pos;
	guint end_col;
	GError **error;
	GHashTable *vars;
	GError **unresolved;
} Line;

static void token_clear(gpointer p)
{
	g_free(((Token *)p)->text);
}

static gboolean syntax(Line *l, guint col, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static gboolean syntax(Line *l, guint col, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(l->error, HH_ERROR, HH_ERROR_CONFIG, "%s:%u:%u: %s",
		    l->path, l->line, col, msg);
	return FALSE;
}

/* Replaces ${NAME} with the variant's value (takes text). */
static char *expand(Line *l, guint col, char *text)
{
	GString *out;
	const char *p = text;

	if (!strstr(text, "${"))
		return text;
	out = g_string_new(NULL);
	while (*p) {
		const char *end;
		g_autofree char *name = NULL;
		const char *value;

		if (p[0] != '$' || p[1] != '{' || !(end = strchr(p, '}'))) {
			g_string_append_c(out, *p++);
			continue;
		}
		name = g_strndup(p + 2, end - p - 2);
		value = l->vars ? g_hash_table_lookup(l->vars, name) : NULL;
		if (!value) {
			if (!*l->unresolved)
				g_set_error(l->unresolved, HH_ERROR,
					    HH_ERROR_CONFIG,
					    "%s:%u:%u: ${%s} is not defined by "
					    "the variant's [params]",
					    l->path, l->line, col, name);
			value = "0";
		}
		g_string_append(out, value);
		p = end + 1;
	}
	g_free(text);
	return g_string_free(out, FALSE);
}

static gboolean tokenize(Line *l, const char *s)
{
	const char *p = s;

	l->tokens = g_array_new(FALSE, TRUE, sizeof(Token));
	g_array_set_clear_func(l->tokens, token_clear);
	while (*p) {
		GString *t;
		Token tok = { 0 };

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		tok.col = (guint)(p - s) + 1;
		t = g_string_new(NULL);
		if (*p == '"') {
			tok.quoted = TRUE;
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				g_string_append_c(t, *p);
			}
			if (*p != '"') {
				g_string_free(t, TRUE);
				return syntax(l, tok.col,
					      "expected a closing '\"'");
			}
			p++;
		} else {
			while (*p && *p != ' ' && *p != '\t')
				g_string_append_c(t, *p++);
		}
		tok.text = expand(l, tok.col, g_string_free(t, FALSE));
		g_array_append_val(l->tokens, tok);
	}
	l->end_col = (guint)strlen(s) + 1;
	return TRUE;
}

static Token *peek(Line *l)
{
	return l->pos < l->tokens->len ?
		&g_array_index(l->tokens, Token, l->pos) : NULL;
}

static guint col_here(Line *l)
{
	Token *t = peek(l);

	return t ? t->col : l->end_col;
}

static const char *word(Line *l, const char *what)
{
	Token *t = peek(l);

	if (!t) {
		syntax(l, l->end_col, "expected %s", what);
		return NULL;
	}
	l->pos++;
	return t->text;
}

static gboolean at_end(Line *l)
{
	if (peek(l))
		return syntax(l, col_here(l), "unexpected '%s' at end of line",
			      peek(l)->text);
	return TRUE;
}

static gboolean number(Line *l, const char *what, gint64 min, gint64 max,
		       gint *out)
{
	guint col = col_here(l);
	const char *w = word(l, what);
	gint64 v;

	if (!w)
		return FALSE;
	if (!g_ascii_string_to_signed(w, 10, min, max, &v, NULL))
		return syntax(l, col, "expected %s, got '%s'", what, w);
	*out = (gint)v;
	return TRUE;
}

#define MAX_DURATION_MS (24.0 * 3600 * 1000)

static gboolean duration(Line *l, guint col, const char *w, guint *ms)
{
	char *end;
	double v = g_ascii_strtod(w, &end);

	if (end == w || !(v >= 0))	/* NaN too */
		goto bad;
	if (g_str_equal(end, "s") || !*end)
		v *= 1000;
	else if (!g_str_equal(end, "ms"))
		goto bad;
	if (v > MAX_DURATION_MS)	/* (guint)v would be undefined */
		goto bad;
	*ms = (guint)v;
	return TRUE;
bad:
	return syntax(l, col, "expected a duration like 500ms or 5s (at most "
		      "24h), got '%s'", w);
}

static GRegex *regex(Line *l, guint col, const char *pattern)
{
	g_autoptr(GError) err = NULL;
	GRegex *re = g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, &err);

	if (!re)
		syntax(l, col, "expected a regular expression: %s",
		       err->message);
	return re;
}

/* Options of the form key=value after the fixed words. */
static gboolean option(Line *l, const char *w, const char *key,
		       const char **value)
{
	gsize n = strlen(key);

	if (strncmp(w, key, n) || w[n] != '=')
		return FALSE;
	*value = w + n + 1;
	return TRUE;
}

/* ---- expectations ---- */

static gboolean common_option(Line *l, HhExpect *e, const char *w, guint col,
			      gboolean *handled)
{
	const char *v;

	*handled = TRUE;
	if (option(l, w, "within", &v))
		return duration(l, col, v, &e->within_ms);
	*handled = FALSE;
	return TRUE;
}

static gboolean parse_log(Line *l, HhExpect *e)
{
	guint col = col_here(l);
	const char *pat = word(l, "a regular expression in quotes");
	Token *t;

	if (!pat || !(e->regex = regex(l, col, pat)))
		return FALSE;
	while ((t = peek(l))) {
		const char *v;
		gboolean handled;

		l->pos++;
		if (!common_option(l, e, t->text, t->col, &handled))
			return FALSE;
		if (handled)
			continue;
		if (g_str_equal(t->text, "since=boot")) {
			e->since_boot = TRUE;
		} else if (option(l, t->text, "count", &v) &&
			   e->kind == HH_EXP_LOG) {
			guint64 n;

			if (!g_ascii_string_to_unsigned(v, 10, 0, 1000000, &n,
							NULL))
				return syntax(l, t->col + 6,
					      "expected a count, got '%s'", v);
			e->count = (gint)n;
		} else {
			return syntax(l, t->col,
				      "expected since=boot, %swithin=DURATION",
				      e->kind == HH_EXP_LOG ? "count=N, " : "");
		}
	}
	return TRUE;
}

static gboolean parse_trailing(Line *l, HhExpect *e)
{
	Token *t;

	while ((t = peek(l))) {
		const char *v;
		gboolean handled;

		l->pos++;
		if (!common_option(l, e, t->text, t->col, &handled))
			return FALSE;
		if (handled)
			continue;
		if (option(l, t->text, "node", &v) &&
		    e->kind == HH_EXP_CPU_STATE) {
			guint64 n;

			if (!g_ascii_string_to_unsigned(v, 10, 0, 1023, &n,
							NULL))
				return syntax(l, t->col + 5,
					      "expected a node number");
			e->node = (gint)n;
		} else if (option(l, t->text, "zone", &v) &&
			   e->kind == HH_EXP_BLOCK_STATE) {
			e->zone = g_strdup(v);
		} else {
			return syntax(l, t->col, "expected %s",
				      e->kind == HH_EXP_CPU_STATE ?
					      "node=N or within=DURATION" :
				      e->kind == HH_EXP_BLOCK_STATE ?
					      "zone=NAME or within=DURATION" :
					      "within=DURATION");
		}
	}
	return TRUE;
}

static gboolean parse_size_word(Line *l, HhExpect *e)
{
	guint col = col_here(l);
	const char *w = word(l, "a size like 131072kB, 128M or +128M");
	g_autofree char *s = NULL;
	g_autoptr(GError) err = NULL;
	gsize n;

	if (!w)
		return FALSE;
	if (*w == '+') {
		e->delta = TRUE;
		w++;
	}
	s = g_strdup(w);
	n = strlen(s);
	if (n > 2 && g_ascii_strcasecmp(s + n - 2, "kB") == 0)
		s[n - 1] = '\0'; /* "131072kB" -> "131072k" */
	if (!hh_parse_size(s, &e->size, &err))
		return syntax(l, col, "expected a size like 131072kB, 128M "
			      "or +128M, got '%s'", w);
	return TRUE;
}

static gboolean parse_state_word(Line *l, HhExpect *e, const char *const *ok)
{
	guint col = col_here(l);
	const char *w = word(l, "a state");

	if (!w)
		return FALSE;
	for (int i = 0; ok[i]; i++) {
		if (g_str_equal(w, ok[i])) {
			e->value = g_strdup(w);
			return TRUE;
		}
	}
	{
		g_autofree char *list = g_strjoinv(" or ", (char **)ok);

		return syntax(l, col, "expected %s, got '%s'", list, w);
	}
}

/* virtio-mem ID plugged SIZE | <SIZE | >SIZE */
static gboolean parse_virtio_mem_expect(Line *l, HhExpect *e)
{
	const char *id = word(l, "a virtio-mem device id");
	guint col = col_here(l);
	const char *what = id ? word(l, "plugged") : NULL;
	const char *w;
	g_autoptr(GError) err = NULL;

	if (!what)
		return FALSE;
	e->device = g_strdup(id);
	if (!g_str_equal(what, "plugged"))
		return syntax(l, col, "expected plugged, got '%s'", what);
	col = col_here(l);
	w = word(l, "a size like 128M, <128M or >0");
	if (!w)
		return FALSE;
	e->cmp = *w == '<' ? HH_CMP_LT : *w == '>' ? HH_CMP_GT : HH_CMP_EQ;
	if (e->cmp != HH_CMP_EQ)
		w++;
	if (!hh_parse_size(w, &e->size, &err))
		return syntax(l, col, "expected a size like 128M, <128M or "
			      ">0, got '%s'", w);
	return parse_trailing(l, e);
}

static HhExpect *parse_expect(Line *l, const char *kw, const char *raw)
{
	static const char *const onoff[] = { "online", "offline", NULL };
	static const char *const cpu_states[] = {
		"online", "offline", "present", "absent", NULL,
	};
	static const char *const block_states[] = {
		"online", "offline", "going-offline", "absent", NULL,
	};
	g_autoptr(GPtrArray) hold = g_ptr_array_new_with_free_func(expect_free);
	HhExpect *e = g_new0(HhExpect, 1);
	gboolean ok = FALSE;

	g_ptr_array_add(hold, e);
	e->line = l->line;
	e->text = g_strdup(raw);
	e->count = -1;
	e->node = -1;
	if (g_str_equal(kw, "log") || g_str_equal(kw, "no-log")) {
		e->kind = kw[0] == 'l' ? HH_EXP_LOG : HH_EXP_NO_LOG;
		ok = parse_log(l, e);
	} else if (g_str_equal(kw, "file")) {
		const char *path = word(l, "a path");
		guint col = col_here(l);
		const char *op = path ? word(l, "== or =~") : NULL;
		guint vcol = col_here(l);
		const char *v = op ? word(l, "a value in quotes") : NULL;

		if (!v)
			return NULL;
		e->path = g_strdup(path);
		if (g_str_equal(op, "==")) {
			e->kind = HH_EXP_FILE_EQUALS;
			e->value = g_strdup(v);
		} else if (g_str_equal(op, "=~")) {
			e->kind = HH_EXP_FILE_MATCHES;
			if (!(e->regex = regex(l, vcol, v)))
				return NULL;
		} else {
			syntax(l, col, "expected == or =~, got '%s'", op);
			return NULL;
		}
		ok = parse_trailing(l, e);
	} else if (g_str_equal(kw, "node")) {
		guint col;
		const char *what;

		if (!number(l, "a node number", 0, 1023, &e->id))
			return NULL;
		col = col_here(l);
		what = peek(l) ? peek(l)->text : "";
		if (g_str_equal(what, "memtotal")) {
			l->pos++;
			e->kind = HH_EXP_NODE_MEMTOTAL;
			ok = parse_size_word(l, e) && parse_trailing(l, e);
		} else if (g_str_equal(what, "online") ||
			   g_str_equal(what, "offline")) {
			e->kind = HH_EXP_NODE_STATE;
			ok = parse_state_word(l, e, onoff) &&
			     parse_trailing(l, e);
		} else {
			syntax(l, col, "expected online, offline or memtotal");
			return NULL;
		}
	} else if (g_str_equal(kw, "cpu")) {
		e->kind = HH_EXP_CPU_STATE;
		ok = number(l, "a CPU number", 0, 8191, &e->id) &&
		     parse_state_word(l, e, cpu_states) &&
		     parse_trailing(l, e);
	} else if (g_str_equal(kw, "virtio-mem")) {
		e->kind = HH_EXP_VIRTIO_MEM;
		ok = parse_virtio_mem_expect(l, e);
	} else if (g_str_equal(kw, "block")) {
		e->kind = HH_EXP_BLOCK_STATE;
		ok = number(l, "a memory block number", 0, 1 << 24, &e->id) &&
		     parse_state_word(l, e, block_states) &&
		     parse_trailing(l, e);
	} else if (g_str_equal(kw, "taint")) {
		gint v;

		e->kind = HH_EXP_TAINT;
		ok = number(l, "a taint value", 0, G_MAXINT, &v) &&
		     parse_trailing(l, e);
		e->number = (guint64)v;
	}
	if (!ok)
		return NULL;
	return g_ptr_array_steal_index(hold, 0);
}

/* ---- actions ---- */

/* "ok" or an errno name for write/read; -1 if it is neither. */
static gint result_word(const char *w)
{
	return g_str_equal(w, "ok") ? 0 : hh_errno_from_name(w) > 0 ?
					   hh_errno_from_name(w) : -1;
}

static gboolean parse_result(Line *l, HhStep *s)
{
	Token *t = peek(l);
	const char *w, *bar;
	guint col;

	if (!t || !g_str_equal(t->text, "->"))
		return at_end(l);
	l->pos++;
	col = col_here(l);
	w = word(l, s->kind == HH_ACT_RUN ? "ok or exit=N" : "ok or an errno name like EINVAL");
	if (!w)
		return FALSE;
	bar = s->kind != HH_ACT_RUN ? strchr(w, '|') : NULL;
	if (bar) {
		/* "-> ok|EBUSY": either result passes (what torture writes
		 * for an operation the kernel may refuse). */
		g_autofree char *first = g_strndup(w, bar - w);

		s->expect_errno = result_word(first);
		s->also_errno = result_word(bar + 1);
		if (s->expect_errno < 0 || s->also_errno < 0 ||
		    strchr(bar + 1, '|'))
			return syntax(l, col, "expected two results like "
				      "ok|EBUSY, got '%s'", w);
	} else if (g_str_equal(w, "ok")) {
		s->expect_errno = 0;
		s->expect_exit = 0;
	} else if (s->kind == HH_ACT_RUN && g_str_has_prefix(w, "exit=")) {
		guint64 n;

		if (!g_ascii_string_to_unsigned(w + 5, 10, 0, 255, &n, NULL))
			return syntax(l, col + 5, "expected an exit status 0-255");
		s->expect_exit = (gint)n;
	} else if (s->kind != HH_ACT_RUN &&
		   (s->expect_errno = hh_errno_from_name(w)) > 0) {
		/* set */
	} else {
		return syntax(l, col, "expected ok or %s, got '%s'",
			      s->kind == HH_ACT_RUN ? "exit=N" :
						      "an errno name like EINVAL",
			      w);
	}
	return at_end(l);
}

/* "-> refused" after a removal: QEMU or the guest must refuse it. */
static gboolean parse_refused(Line *l, HhStep *s)
{
	Token *t = peek(l);
	guint col;
	const char *w;

	if (!t || !g_str_equal(t->text, "->"))
		return at_end(l);
	l->pos++;
	col = col_here(l);
	w = word(l, "refused");
	if (!w)
		return FALSE;
	if (!g_str_equal(w, "refused"))
		return syntax(l, col, "expected refused, got '%s'", w);
	s->expect_refused = TRUE;
	return at_end(l);
}

static gboolean size_word(Line *l, const char *w, guint col, guint64 *out)
{
	g_autoptr(GError) err = NULL;

	if (!hh_parse_size(w, out, &err))
		return syntax(l, col, "expected a size like 128M, got '%s'", w);
	return TRUE;
}

/* virtio-mem-add ID node=N size=MAX [block=SIZE] */
static gboolean virtio_mem_options(Line *l, HhStep *s)
{
	gboolean have_size = FALSE;
	Token *t;

	while ((t = peek(l))) {
		const char *v;
		gint64 n;

		l->pos++;
		if (option(l, t->text, "node", &v)) {
			if (!g_ascii_string_to_signed(v, 10, 0, 1023, &n, NULL))
				return syntax(l, t->col,
					      "expected a number after '='");
			s->node = (gint)n;
		} else if (option(l, t->text, "size", &v)) {
			if (!size_word(l, v, t->col + 5, &s->size))
				return FALSE;
			have_size = TRUE;
		} else if (option(l, t->text, "block", &v)) {
			if (!size_word(l, v, t->col + 6, &s->block_size))
				return FALSE;
		} else {
			return syntax(l, t->col,
				      "expected node=N, size=SIZE or block=SIZE");
		}
	}
	if (!have_size || !s->size)
		return syntax(l, l->end_col,
			      "expected size=SIZE (the device's maximum)");
	return TRUE;
}

static gboolean device_options(Line *l, HhStep *s)
{
	Token *t;

	while ((t = peek(l)) && !g_str_equal(t->text, "->")) {
		const char *v;
		gint64 n;
		gint *dst;

		l->pos++;
		if (option(l, t->text, "node", &v))
			dst = &s->node;
		else if (option(l, t->text, "socket", &v) &&
			 s->kind == HH_ACT_VCPU_ADD)
			dst = &s->socket;
		else
			return syntax(l, t->col, "expected node=N%s",
				      s->kind == HH_ACT_VCPU_ADD ?
					      " or socket=N" : "");
		if (!g_ascii_string_to_signed(v, 10, 0, 1023, &n, NULL))
			return syntax(l, t->col, "expected a number after '='");
		*dst = (gint)n;
	}
	return at_end(l);
}

static HhStep *new_step(HhActionKind kind, guint line, const char *raw)
{
	HhStep *s = g_new0(HhStep, 1);

	s->kind = kind;
	s->line = line;
	s->text = g_strdup(raw);
	s->node = -1;
	s->socket = -1;
	s->expect_exit = 0;
	s->also_errno = -1;
	s->timeout_ms = 30000;
	s->expects = g_ptr_array_new_with_free_func(expect_free);
	return s;
}

/* An optional "timeout=DURATION" word next: the step's own limit. */
static gboolean timeout_option(Line *l, HhStep *s)
{
	Token *t = peek(l);
	const char *v;

	if (!t || !option(l, t->text, "timeout", &v))
		return TRUE;
	l->pos++;
	return duration(l, t->col + 8, v, &s->timeout_ms);
}

static HhStep *parse_action(Line *l, const char *kw, const char *raw)
{
	g_autoptr(GPtrArray) hold = g_ptr_array_new_with_free_func(step_free);
	HhStep *s;
	gboolean ok = FALSE;

	if (g_str_equal(kw, "write")) {
		const char *p, *v;

		s = new_step(HH_ACT_WRITE, l->line, raw);
		g_ptr_array_add(hold, s);
		p = word(l, "a path");
		v = p ? word(l, "a value") : NULL;
		s->path = g_strdup(p);
		s->value = g_strdup(v);
		ok = v && parse_result(l, s);
	} else if (g_str_equal(kw, "read")) {
		const char *p;

		s = new_step(HH_ACT_READ, l->line, raw);
		g_ptr_array_add(hold, s);
		p = word(l, "a path");
		s->path = g_strdup(p);
		ok = p && parse_result(l, s);
	} else if (g_str_equal(kw, "run")) {
		g_autoptr(GStrvBuilder) b = g_strv_builder_new();
		Token *t;

		s = new_step(HH_ACT_RUN, l->line, raw);
		g_ptr_array_add(hold, s);
		if (!timeout_option(l, s))
			return NULL;
		while ((t = peek(l)) && !g_str_equal(t->text, "->")) {
			g_strv_builder_add(b, t->text);
			l->pos++;
		}
		s->argv = g_strv_builder_end(b);
		if (!s->argv[0]) {
			syntax(l, col_here(l), "expected a command to run");
			return NULL;
		}
		ok = parse_result(l, s);
	} else if (g_str_equal(kw, "dimm-add")) {
		guint col;
		const char *id, *size;

		s = new_step(HH_ACT_DIMM_ADD, l->line, raw);
		g_ptr_array_add(hold, s);
		id = word(l, "a device id");
		col = col_here(l);
		size = id ? word(l, "a size like 128M") : NULL;
		if (!size)
			return NULL;
		s->id = g_strdup(id);
		ok = size_word(l, size, col, &s->size) && device_options(l, s);
	} else if (g_str_equal(kw, "vcpu-add")) {
		const char *id;

		s = new_step(HH_ACT_VCPU_ADD, l->line, raw);
		g_ptr_array_add(hold, s);
		id = word(l, "a device id");
		s->id = g_strdup(id);
		ok = id && device_options(l, s);
	} else if (g_str_equal(kw, "device-del") ||
		   g_str_equal(kw, "vcpu-del")) {
		const char *id;

		s = new_step(kw[0] == 'd' ? HH_ACT_DEVICE_DEL : HH_ACT_VCPU_DEL,
			     l->line, raw);
		g_ptr_array_add(hold, s);
		id = word(l, "a device id");
		s->id = g_strdup(id);
		ok = id && parse_refused(l, s);
	} else if (g_str_equal(kw, "virtio-mem-add")) {
		const char *id;

		s = new_step(HH_ACT_VIRTIO_MEM_ADD, l->line, raw);
		g_ptr_array_add(hold, s);
		id = word(l, "a device id");
		s->id = g_strdup(id);
		ok = id && virtio_mem_options(l, s);
	} else if (g_str_equal(kw, "virtio-mem-resize")) {
		const char *id, *size;
		guint col;

		s = new_step(HH_ACT_VIRTIO_MEM_RESIZE, l->line, raw);
		g_ptr_array_add(hold, s);
		id = word(l, "a device id");
		col = col_here(l);
		size = id ? word(l, "a size like 128M") : NULL;
		s->id = g_strdup(id);
		ok = size && size_word(l, size, col, &s->size) && at_end(l);
	} else if (g_str_equal(kw, "udev-settle")) {
		s = new_step(HH_ACT_UDEV_SETTLE, l->line, raw);
		g_ptr_array_add(hold, s);
		if (!timeout_option(l, s))
			return NULL;
		s->argv = g_new0(char *, 4);
		s->argv[0] = g_strdup("udevadm");
		s->argv[1] = g_strdup("settle");
		s->argv[2] = g_strdup_printf("--timeout=%u",
					     MAX(1u, s->timeout_ms / 1000));
		ok = at_end(l);
	} else if (g_str_equal(kw, "selftest")) {
		const char *test;
		guint col;

		s = new_step(HH_ACT_SELFTEST, l->line, raw);
		g_ptr_array_add(hold, s);
		s->timeout_ms = 300000;
		if (!timeout_option(l, s))
			return NULL;
		col = col_here(l);
		test = word(l, "COLLECTION:TEST like "
			       "memory-hotplug:mem-on-off-test.sh");
		if (!test)
			return NULL;
		if (!hh_selftest_name_valid(test)) {
			syntax(l, col, "expected COLLECTION:TEST like "
			       "memory-hotplug:mem-on-off-test.sh (letters, "
			       "digits, - _ . only), got '%s'", test);
			return NULL;
		}
		s->value = g_strdup(test);
		s->argv = hh_selftest_argv(HH_IMAGE_SELFTESTS, test);
		ok = at_end(l);
	} else if (g_str_equal(kw, "mark")) {
		const char *t;

		s = new_step(HH_ACT_MARK, l->line, raw);
		g_ptr_array_add(hold, s);
		t = word(l, "a text in quotes");
		s->value = g_strdup(t);
		ok = t && at_end(l);
	} else {
		return NULL;
	}
	if (!ok)
		return NULL;
	return g_ptr_array_steal_index(hold, 0);
}

/* ---- file ---- */

static gboolean parse_header_line(HhScenario *sc, Line *l, const char *kw,
				  const char *rest, gboolean *handled)
{
	*handled = TRUE;
	if (g_str_equal(kw, "description")) {
		g_free(sc->description);
		sc->description = g_strstrip(g_strdup(rest));
		return TRUE;
	}
	if (g_str_equal(kw, "variants")) {
		Token *t;

		if (!peek(l))
			return syntax(l, l->end_col, "expected variant names or globs");
		while ((t = peek(l))) {
			g_ptr_array_add(sc->variants, g_strdup(t->text));
			l->pos++;
		}
		return TRUE;
	}
	if (g_str_equal(kw, "requires")) {
		guint col = col_here(l);
		const char *what = word(l, "config, path, nodes, cpus, kernel "
					"or accel");
		guint vcol = col_here(l);
		const char *v = what ? word(l, "a value") : NULL;
		HhRequire *r;
		guint64 n;

		if (!v)
			return FALSE;
		r = g_new0(HhRequire, 1);
		r->line = l->line;
		r->value = g_strdup(v);
		g_ptr_array_add(sc->requires, r);
		if (g_str_equal(what, "config") && g_str_has_prefix(v, "CONFIG_")) {
			r->kind = HH_REQ_CONFIG;
		} else if (g_str_equal(what, "path") && v[0] == '/') {
			r->kind = HH_REQ_PATH;
		} else if (g_str_equal(what, "nodes") || g_str_equal(what, "cpus")) {
			r->kind = what[0] == 'n' ? HH_REQ_NODES : HH_REQ_CPUS;
			if (!g_ascii_string_to_unsigned(v, 10, 1, 8192, &n, NULL))
				return syntax(l, vcol, "expected a number of %s, got '%s'",
					      what, v);
			r->number = (guint)n;
		} else if (g_str_equal(what, "kernel")) {
			if (!g_str_equal(v, ">=") && !g_str_equal(v, "<"))
				return syntax(l, vcol, "expected >= or <, got '%s'",
					      v);
			r->kind = HH_REQ_KERNEL;
			r->below = v[0] == '<';
			vcol = col_here(l);
			v = word(l, "a kernel version like 6.9");
			if (!v)
				return FALSE;
			if (!g_ascii_isdigit(v[0]))
				return syntax(l, vcol, "expected a kernel version "
					      "like 6.9, got '%s'", v);
			g_free(r->value);
			r->value = g_strdup(v);
		} else if (g_str_equal(what, "accel")) {
			/* one or more of kvm, tcg, mttcg */
			g_autoptr(GString) any = g_string_new(NULL);

			r->kind = HH_REQ_ACCEL;
			while (TRUE) {
				if (!g_str_equal(v, "kvm") && !g_str_equal(v, "tcg") &&
				    !g_str_equal(v, "mttcg"))
					return syntax(l, vcol, "expected kvm, tcg or "
						      "mttcg, got '%s'", v);
				g_string_append_printf(any, "%s%s",
						       any->len ? " " : "", v);
				if (!peek(l) ||
				    g_str_equal(peek(l)->text, "because"))
					break;
				vcol = col_here(l);
				v = word(l, "kvm, tcg or mttcg");
			}
			g_free(r->value);
			r->value = g_string_free(g_steal_pointer(&any), FALSE);
		} else {
			return syntax(l, col, "expected 'config CONFIG_NAME', "
				      "'path /absolute/path', 'nodes N', 'cpus N', "
				      "'kernel >= V', 'kernel < V' or 'accel kvm|tcg|mttcg'");
		}
		if (peek(l) && g_str_equal(peek(l)->text, "because")) {
			l->pos++;
			v = word(l, "a reason in quotes");
			if (!v)
				return FALSE;
			r->because = g_strdup(v);
		}
		return at_end(l);
	}
	if (g_str_equal(kw, "collect")) {
		guint col = col_here(l);
		const char *p = word(l, "an absolute guest path");

		if (!p)
			return FALSE;
		if (p[0] != '/')
			return syntax(l, col, "expected an absolute guest path, "
				      "got '%s'", p);
		g_ptr_array_add(sc->collect, g_strdup(p));
		return at_end(l);
	}
	if (g_str_equal(kw, "boot")) {
		guint col = col_here(l);
		const char *how = word(l, "cold");

		if (!how)
			return FALSE;
		if (!g_str_equal(how, "cold"))
			return syntax(l, col, "expected 'cold', got '%s'", how);
		sc->cold_boot = TRUE;
		return at_end(l);
	}
	if (g_str_equal(kw, "expect-crash")) {
		guint col = col_here(l);
		const char *pat = word(l, "a regular expression matching the crash title");

		if (!pat)
			return FALSE;
		if (sc->expect_crash)
			g_regex_unref(sc->expect_crash);
		sc->expect_crash = regex(l, col, pat);
		sc->expect_crash_line = l->line;
		return sc->expect_crash && at_end(l);
	}
	*handled = FALSE;
	return TRUE;
}

static gboolean parse_line(HhScenario *sc, Line *l, const char *raw)
{
	guint col = col_here(l);
	const char *kw = word(l, "a keyword");
	const char *rest;
	gboolean handled;
	HhStep *step;
	HhExpect *e;

	if (!kw)
		return FALSE;
	rest = raw + col - 1 + strlen(kw);
	if (!parse_header_line(sc, l, kw, rest, &handled))
		return FALSE;
	if (handled)
		return TRUE;
	step = parse_action(l, kw, raw);
	if (step) {
		g_ptr_array_add(sc->steps, step);
		return TRUE;
	}
	if (*l->error)
		return FALSE;
	e = parse_expect(l, kw, raw);
	if (e) {
		HhStep *cur = sc->steps->pdata[sc->steps->len - 1];

		g_ptr_array_add(cur->expects, e);
		return TRUE;
	}
	if (*l->error)
		return FALSE;
	return syntax(l, col,
		      "expected an action (write, read, run, dimm-add, "
		      "vcpu-add, device-del, vcpu-del, virtio-mem-add, "
		      "virtio-mem-resize, udev-settle, selftest, mark), an "
		      "expectation (log, no-log, file, node, cpu, block, "
		      "virtio-mem, taint) or a header (description, requires, "
		      "variants, expect-crash, boot, collect), got '%s'",
		      kw);
}

HhScenario *hh_scenario_parse(const char *text, const char *path,
			      GHashTable *vars, GError **error)
{
	g_autoptr(HhScenario) sc = g_new0(HhScenario, 1);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *base = g_path_get_basename(path);
	GError *local = NULL;

	sc->path = g_strdup(path);
	sc->name = g_strndup(base, strcspn(base, "."));
	sc->requires = g_ptr_array_new_with_free_func(require_free);
	sc->variants = g_ptr_array_new_with_free_func(g_free);
	sc->collect = g_ptr_array_new_null_terminated(0, g_free, TRUE);
	sc->steps = g_ptr_array_new_with_free_func(step_free);
	g_ptr_array_add(sc->steps, new_step(HH_ACT_BOOT, 0, "boot"));
	for (guint i = 0; lines[i]; i++) {
		Line l = { .path = path, .line = i + 1, .error = &local,
			   .vars = vars, .unresolved = &sc->unresolved };
		char *raw = lines[i];
		gboolean ok;

		g_strchomp(raw);
		/* GLib's globs and regexes abort on invalid UTF-8. */
		if (!g_utf8_validate(raw, -1, NULL)) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s:%u: not valid UTF-8", path, i + 1);
			return NULL;
		}
		ok = tokenize(&l, raw);
		if (ok && l.tokens->len)
			ok = parse_line(sc, &l, raw);
		g_array_unref(l.tokens);
		if (!ok) {
			g_propagate_error(error, local);
			return NULL;
		}
	}
	return g_steal_pointer(&sc);
}

HhScenario *hh_scenario_load(const char *path, GHashTable *vars,
			     GError **error)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	return hh_scenario_parse(text, path, vars, error);
}

gboolean hh_scenario_accepts_variant(const HhScenario *s, const char *name)
{
	if (!s->variants->len)
		return TRUE;
	for (guint i = 0; i < s->variants->len; i++) {
		if (g_pattern_match_simple(s->variants->pdata[i], name))
			return TRUE;
	}
	return FALSE;
}
