/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "kconfig.h"
#include "hh-error.h"

#include <string.h>

static gboolean valid_name(const char *s, gsize len)
{
	if (len <= 7 || strncmp(s, "CONFIG_", 7))
		return FALSE;
	for (gsize i = 7; i < len; i++) {
		if (!g_ascii_isalnum(s[i]) && s[i] != '_')
			return FALSE;
	}
	return TRUE;
}

static gboolean parse_line(GHashTable *t, const char *line, const char *origin,
			   guint lineno, GError **error)
{
	const char *eq;

	if (g_str_has_prefix(line, "# CONFIG_") &&
	    g_str_has_suffix(line, " is not set")) {
		gsize len = strlen(line) - 2 - strlen(" is not set");

		if (valid_name(line + 2, len)) {
			g_hash_table_insert(t, g_strndup(line + 2, len),
					    g_strdup("n"));
			return TRUE;
		}
	}
	if (line[0] == '#' || line[0] == '\0')
		return TRUE;
	eq = strchr(line, '=');
	if (!eq || !valid_name(line, eq - line) || !eq[1]) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s:%u:1: expected 'CONFIG_NAME=value' or "
			    "'# CONFIG_NAME is not set'",
			    origin, lineno);
		return FALSE;
	}
	g_hash_table_insert(t, g_strndup(line, eq - line), g_strdup(eq + 1));
	return TRUE;
}

GHashTable *hh_kconfig_parse(const char *text, const char *origin,
			     GError **error)
{
	g_autoptr(GHashTable) t =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		char *line = g_strstrip(lines[i]);

		if (!parse_line(t, line, origin, i + 1, error))
			return NULL;
	}
	return g_steal_pointer(&t);
}

GHashTable *hh_kconfig_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	return hh_kconfig_parse(text, path, error);
}

static gint compare_lines(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *hh_kconfig_check(GHashTable *asked, GHashTable *final)
{
	GPtrArray *bad = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, asked);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *want = v;
		const char *got = g_hash_table_lookup(final, k);

		if (!got)
			got = "n";
		if (g_str_equal(want, got))
			continue;
		if (g_str_equal(want, "n"))
			g_ptr_array_add(bad, g_strdup_printf(
				"%s: asked not set, but it is %s",
				(char *)k, got));
		else if (g_str_equal(got, "n"))
			g_ptr_array_add(bad, g_strdup_printf(
				"%s=%s asked, but it is not set "
				"(a dependency is missing)",
				(char *)k, want));
		else
			g_ptr_array_add(bad, g_strdup_printf(
				"%s=%s asked, but it is %s", (char *)k, want,
				got));
	}
	g_ptr_array_sort(bad, compare_lines);
	return bad;
}

gboolean hh_kconfig_enabled(GHashTable *config, const char *option)
{
	const char *v = g_hash_table_lookup(config, option);

	return v && !g_str_equal(v, "n");
}
