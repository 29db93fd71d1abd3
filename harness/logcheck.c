/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "logcheck.h"
#include "hh-error.h"

#include <string.h>

#define EXCERPT_LINES 40

struct _HhSuppressions {
	GPtrArray *regexes;	/* GRegex* */
	GPtrArray *reasons;	/* char* */
};

void hh_crash_free(gpointer p)
{
	HhCrash *c = p;

	g_free(c->title);
	g_free(c->excerpt);
	g_free(c->suppressed_by);
	g_free(c);
}

void hh_suppressions_free(HhSuppressions *s)
{
	if (!s)
		return;
	g_ptr_array_unref(s->regexes);
	g_ptr_array_unref(s->reasons);
	g_free(s);
}

HhSuppressions *hh_suppressions_parse(const char *text, const char *origin,
				      GError **error)
{
	g_autoptr(HhSuppressions) s = g_new0(HhSuppressions, 1);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	s->regexes = g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);
	s->reasons = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		char *tab = strchr(l, '\t');
		g_autoptr(GError) err = NULL;
		GRegex *re;

		if (!*l || *l == '#')
			continue;
		if (!tab) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s:%u:%zu: expected REGEX, a tab, then the "
				    "reason it is known noise",
				    origin, i + 1, strlen(l) + 1);
			return NULL;
		}
		*tab = '\0';
		re = g_regex_new(l, 0, 0, &err);
		if (!re) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s:%u:1: bad regular expression: %s",
				    origin, i + 1, err->message);
			return NULL;
		}
		g_ptr_array_add(s->regexes, re);
		g_ptr_array_add(s->reasons, g_strdup(g_strstrip(tab + 1)));
	}
	return g_steal_pointer(&s);
}

HhSuppressions *hh_suppressions_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	return hh_suppressions_parse(text, path, error);
}

/* Report openers: a regex, and how to title what it matched. */
typedef enum {
	T_AS_IS,	/* group 1 is the title */
	T_IN_FUNC,	/* group 1 + " in " + the function from RIP/trace */
	T_WARNING,	/* "WARNING in " + group 1 (function from at ...) */
} TitleRule;

static const struct {
	const char *pattern;
	TitleRule rule;
} openers[] = {
	{ "^WARNING: CPU: \\d+ PID: \\d+ at \\S+ ([A-Za-z0-9_.]+)\\+0x", T_WARNING },
	{ "^WARNING: CPU: \\d+ PID: \\d+ at (\\S+?):\\d+", T_WARNING },
	{ "^(WARNING: possible circular locking dependency detected)", T_AS_IS },
	{ "^(WARNING: possible recursive locking detected)", T_AS_IS },
	{ "^(WARNING: suspicious RCU usage)", T_AS_IS },
	{ "^(WARNING: inconsistent lock state)", T_AS_IS },
	{ "^(BUG: KASAN: [a-z-]+ in [A-Za-z0-9_.]+)", T_AS_IS },
	{ "^(BUG: KFENCE: [a-z- ]+ in [A-Za-z0-9_.]+)", T_AS_IS },
	{ "^(UBSAN: [a-z-]+ in \\S+?):\\d+", T_AS_IS },
	{ "^(BUG: Bad page state) in process", T_IN_FUNC },
	{ "^(BUG: Bad page map) in process", T_IN_FUNC },
	{ "^(BUG: kernel NULL pointer dereference)", T_IN_FUNC },
	{ "^(BUG: unable to handle page fault)", T_IN_FUNC },
	{ "^(BUG: scheduling while atomic)", T_IN_FUNC },
	{ "^(BUG: sleeping function called from invalid context)", T_IN_FUNC },
	{ "^(BUG: spinlock \\w+ on CPU)", T_IN_FUNC },
	{ "^watchdog: (BUG: soft lockup)", T_IN_FUNC },
	{ "^(BUG: workqueue lockup)", T_AS_IS },
	{ "^(BUG: [A-Za-z ]+)", T_IN_FUNC },
	{ "^(kernel BUG) at \\S+", T_IN_FUNC },
	{ "^(general protection fault)", T_IN_FUNC },
	{ "^(Oops): ", T_IN_FUNC },
	{ "^INFO: (task) \\S+ blocked for more than", T_IN_FUNC },
	{ "^(?:rcu: )?INFO: (rcu_\\w+ (?:self-)?detected stalls?)", T_IN_FUNC },
	{ "^(Kernel panic - not syncing: [^\\d\\[]*)", T_AS_IS },
	{ "^(Call Trace):", T_IN_FUNC },
};

static GRegex *compiled[G_N_ELEMENTS(openers)];
static GRegex *rip_re, *frame_re, *end_re;

static void compile_once(void)
{
	static gsize done;

	if (!g_once_init_enter(&done))
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(openers); i++)
		compiled[i] = g_regex_new(openers[i].pattern, G_REGEX_OPTIMIZE,
					  0, NULL);
	rip_re = g_regex_new("^RIP: [0-9a-f]{4}:(?:\\[<[0-9a-f]+>\\] )?"
			     "([A-Za-z0-9_.]+)\\+0x",
			     G_REGEX_OPTIMIZE, 0, NULL);
	frame_re = g_regex_new("^ (?:\\? )?([A-Za-z0-9_.]+)\\+0x[0-9a-f]+/",
			       G_REGEX_OPTIMIZE, 0, NULL);
	end_re = g_regex_new("^---\\[ end (?:trace|Kernel panic)",
			     G_REGEX_OPTIMIZE, 0, NULL);
	g_once_init_leave(&done, 1);
}

/* "topology_sane.isra.0" -> "topology_sane": compiler clones are one
 * function to a reader and to deduplication. */
static char *strip_clone_suffix(char *func)
{
	char *dot = func ? strchr(func, '.') : NULL;

	if (dot)
		*dot = '\0';
	return func;
}

static char *match1(GRegex *re, const char *line)
{
	g_autoptr(GMatchInfo) mi = NULL;

	if (!g_regex_match(re, line, 0, &mi))
		return NULL;
	return g_match_info_fetch(mi, 1);
}

/* The function a report is about: RIP, else the first trace frame that is
 * not a reporting helper. */
static char *culprit(const char *const *lines, guint from, guint to)
{
	static const char *const helpers[] = {
		"dump_stack", "dump_stack_lvl", "show_stack", "__warn",
		"warn_slowpath_fmt", "report_bug", "handle_bug", "bad_page",
		"panic", "__schedule_bug", "__might_sleep", "__might_resched",
		"asm_exc_invalid_op", "exc_invalid_op", "print_report",
		"kasan_report", "show_trace_log_lvl", "__schedule", "schedule",
		"schedule_timeout", "schedule_preempt_disabled", "__mutex_lock",
		"mutex_lock", "io_schedule", "wait_for_completion",
		"__ubsan_handle_shift_out_of_bounds", NULL,
	};

	for (guint i = from; i < to; i++) {
		char *f = strip_clone_suffix(match1(rip_re, lines[i]));

		if (f)
			return f;
	}
	for (guint i = from; i < to; i++) {
		char *f = strip_clone_suffix(match1(frame_re, lines[i]));

		if (f && !g_strv_contains(helpers, f))
			return f;
		g_free(f);
	}
	return NULL;
}

static gint opener_at(const char *line, char **group)
{
	for (gsize i = 0; i < G_N_ELEMENTS(openers); i++) {
		char *g = match1(compiled[i], line);

		if (g) {
			*group = g;
			return (gint)i;
		}
	}
	return -1;
}

static guint report_end(const char *const *lines, guint start, guint n)
{
	guint i;

	for (i = start + 1; i < n && i < start + EXCERPT_LINES; i++) {
		g_autofree char *g = NULL;

		if (g_regex_match(end_re, lines[i], 0, NULL))
			return i + 1;
		/* A new report (but not the trace of this one) ends it. */
		if (opener_at(lines[i], &g) >= 0 &&
		    !g_str_has_prefix(lines[i], "Call Trace") &&
		    !g_str_has_prefix(lines[i], "Oops"))
			return i;
	}
	return i;
}

static char *make_title(TitleRule rule, const char *group,
			const char *const *lines, guint from, guint to)
{
	g_autofree char *func = NULL;

	switch (rule) {
	case T_WARNING:
		func = strip_clone_suffix(g_strdup(group));
		return g_strdup_printf("WARNING in %s", func);
	case T_IN_FUNC:
		func = culprit(lines, from, to);
		if (g_str_equal(group, "task"))
			return g_strdup_printf("INFO: task hung in %s",
					       func ? func : "unknown");
		if (g_str_has_prefix(group, "rcu_"))
			return g_strdup_printf("INFO: rcu detected stall in %s",
					       func ? func : "unknown");
		return func ? g_strdup_printf("%s in %s", group, func) :
			      g_strdup(group);
	case T_AS_IS:
	default:
		return g_strstrip(g_strdup(group));
	}
}

static const char *suppressed(const HhSuppressions *sup, const char *title,
			      const char *excerpt)
{
	for (guint i = 0; sup && i < sup->regexes->len; i++) {
		if (g_regex_match(sup->regexes->pdata[i], title, 0, NULL) ||
		    g_regex_match(sup->regexes->pdata[i], excerpt, 0, NULL))
			return sup->reasons->pdata[i];
	}
	return NULL;
}

GPtrArray *hh_logcheck_scan(const char *const *lines, guint n,
			    const HhSuppressions *sup)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(hh_crash_free);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	compile_once();
	for (guint i = 0; i < n; i++) {
		g_autofree char *group = NULL;
		g_autofree char *title = NULL;
		gint k = opener_at(lines[i], &group);
		guint end;
		HhCrash *c;

		if (k < 0)
			continue;
		end = report_end(lines, i, n);
		title = make_title(openers[k].rule, group, lines, i, end);
		c = g_hash_table_lookup(seen, title);
		if (c) {
			c->count++;
		} else {
			g_autofree char **slice =
				g_new0(char *, end - i + 1);
			const char *why;

			memcpy(slice, lines + i, (end - i) * sizeof(char *));
			c = g_new0(HhCrash, 1);
			c->title = g_steal_pointer(&title);
			c->excerpt = g_strjoinv("\n", slice);
			c->line = i;
			c->count = 1;
			why = suppressed(sup, c->title, c->excerpt);
			c->suppressed_by = g_strdup(why);
			g_ptr_array_add(out, c);
			g_hash_table_insert(seen, c->title, c);
		}
		/* Skip the body, so its Call Trace is not a second report. */
		i = end - 1;
	}
	return out;
}
