/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "selftest.h"

#include <string.h>

void hh_selftest_case_free(gpointer p)
{
	HhSelftestCase *c = p;

	if (!c)
		return;
	g_free(c->name);
	g_free(c->message);
	g_free(c);
}

gboolean hh_selftest_name_valid(const char *test)
{
	const char *colon = test ? strchr(test, ':') : NULL;

	if (!colon || colon == test || !colon[1] || strchr(colon + 1, ':'))
		return FALSE;
	for (const char *p = test; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("-_.:", *p))
			return FALSE;
	return !strstr(test, "..");
}

char **hh_selftest_argv(const char *dir, const char *test)
{
	char **argv = g_new0(char *, 4);

	argv[0] = g_strdup("sh");
	argv[1] = g_strdup("-c");
	/* test was checked by hh_selftest_name_valid: no quoting needed,
	 * and the exit status is the runner's, not cat's */
	argv[2] = g_strdup_printf("cd %s && { ./run_kselftest.sh -t %s 2>&1; "
				  "echo \"hh-selftest-exit: $?\"; } | cat",
				  dir, test);
	return argv;
}

static const char *const fail_words[] = {
	"FAILED", "unexpected", "command not found",
	"integer expression expected", "No such file or directory",
	"Permission denied", "syntax error", NULL,
};

static HhSelftestCase *new_case(GPtrArray *out, const char *name)
{
	HhSelftestCase *c = g_new0(HhSelftestCase, 1);

	c->name = g_strstrip(g_strdup(name));
	if (g_str_has_suffix(c->name, ":"))
		c->name[strlen(c->name) - 1] = 0;
	c->verdict = HH_V_PASS;
	g_ptr_array_add(out, c);
	return c;
}

/* A body line of a plain-text case: may decide its verdict. */
static void case_line(HhSelftestCase *c, const char *line)
{
	g_autofree char *l = g_strstrip(g_strdup(line));

	for (guint i = 0; fail_words[i]; i++) {
		if (!strstr(l, fail_words[i]))
			continue;
		if (c->verdict != HH_V_FAIL) {
			g_free(c->message);
			c->message = g_strdup(l);
		}
		c->verdict = HH_V_FAIL;
		return;
	}
	if (strstr(l, "SKIPPED") && c->verdict == HH_V_PASS) {
		c->verdict = HH_V_SKIP;
		g_free(c->message);
		c->message = g_strdup(l);
	}
}

/* "ok 1 name # SKIP why" / "not ok 2 name # exit=1": a case of its own. */
static gboolean tap_result(GPtrArray *out, const char *l)
{
	gboolean ok = g_str_has_prefix(l, "ok ");
	const char *p = l + (ok ? 3 : 7);
	const char *hash;
	HhSelftestCase *c;
	g_autofree char *name = NULL;

	if (!ok && !g_str_has_prefix(l, "not ok "))
		return FALSE;
	if (!g_ascii_isdigit(*p))
		return FALSE;
	while (g_ascii_isdigit(*p))
		p++;
	hash = strstr(p, " # ");
	name = hash ? g_strndup(p, hash - p) : g_strdup(p);
	c = new_case(out, name);
	if (hash && g_ascii_strncasecmp(hash + 3, "SKIP", 4) == 0) {
		c->verdict = HH_V_SKIP;
		c->message = g_strstrip(g_strdup(hash + 3));
	} else if (!ok) {
		c->verdict = HH_V_FAIL;
		c->message = g_strstrip(g_strdup(hash ? hash + 3 : l));
	} else if (hash) {
		c->message = g_strstrip(g_strdup(hash + 3));
	}
	return TRUE;
}

GPtrArray *hh_selftest_parse(const char *output)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(hh_selftest_case_free);
	g_auto(GStrv) lines = g_strsplit(output ? output : "", "\n", -1);
	HhSelftestCase *cur = NULL;
	gboolean cur_has_body = FALSE, runner_seen = FALSE;
	gboolean nested_tap = FALSE;
	gint exit_status = -1;

	/* A test that prints TAP itself: its results are the cases. */
	for (guint i = 0; lines[i]; i++)
		if (g_str_has_prefix(lines[i], "# ok ") ||
		    g_str_has_prefix(lines[i], "# not ok "))
			nested_tap = TRUE;
	for (guint i = 0; lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "hh-selftest-exit: ")) {
			exit_status = atoi(l + 18);
			continue;
		}
		if (g_str_has_prefix(l, "TAP version") ||
		    g_str_has_prefix(l, "1.."))
			continue;
		if (!g_str_has_prefix(l, "#")) {
			if (tap_result(out, l)) {
				runner_seen = TRUE;
				cur = NULL;
			} else if (cur && *l) {
				case_line(cur, l);
			}
			continue;
		}
		l += l[1] == ' ' ? 2 : 1;
		if (nested_tap) {
			if (!tap_result(out, l) && cur)
				case_line(cur, l);
			continue;
		}
		if (g_str_has_prefix(l, "selftests: "))
			continue;	/* the runner's header of the test */
		if (l[0] == '\t' && l[1] != '\t') {
			if (cur && !cur_has_body) {
				/* a second header line: same case */
				g_autofree char *more = g_strstrip(
					g_strdup(l));
				char *name;

				if (g_str_has_suffix(more, ":"))
					more[strlen(more) - 1] = 0;
				name = g_strdup_printf("%s; %s", cur->name,
						       more);

				g_free(cur->name);
				cur->name = name;
			} else {
				cur = new_case(out, l);
				cur_has_body = FALSE;
			}
			case_line(cur, l);
			continue;
		}
		if (!cur)
			cur = new_case(out, "setup");
		cur_has_body = TRUE;
		case_line(cur, l);
	}
	if (!runner_seen) {
		HhSelftestCase *c = new_case(out, "kselftest runner");

		c->verdict = HH_V_FAIL;
		c->message = exit_status >= 0 ?
			g_strdup_printf("no result line from run_kselftest.sh "
					"(it exited with %d)", exit_status) :
			g_strdup("no result line from run_kselftest.sh");
	}
	return out;
}
