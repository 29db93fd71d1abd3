/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hotplug-harness compare [BASE] NEW: what changed between two runs. */
#include "config.h"

#include "archive.h"
#include "commands.h"
#include "compare.h"
#include "hh-error.h"
#include "util.h"

#include <stdio.h>

gboolean hh_compare_print(HhArchive *a, const char *base, const char *new_id,
			  const char *format, guint history, const char *out,
			  gboolean *bad, GError **error)
{
	g_autoptr(HhComparison) c = hh_compare_runs(a, base, new_id, history,
						    error);
	g_autofree char *text = NULL;

	if (!c)
		return FALSE;
	if (!format || g_str_equal(format, "text"))
		text = hh_comparison_text(c);
	else if (g_str_equal(format, "json"))
		text = hh_comparison_json(c);
	else if (g_str_equal(format, "junit"))
		text = hh_comparison_junit(c);
	else {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--format '%s': expected text, json or junit", format);
		return FALSE;
	}
	*bad = hh_comparison_bad(c);
	if (!out || g_str_equal(out, "-")) {
		fputs(text, stdout);
		fflush(stdout);
		return TRUE;
	}
	return hh_write_file(out, text, -1, error);
}

int hh_cmd_compare(int argc, char **argv)
{
	g_autofree char *results = NULL, *format = NULL, *out = NULL;
	g_autofree char *db = NULL, *base = NULL, *new_id = NULL;
	gint history = 10;
	GOptionEntry entries[] = {
		{ "format", 'f', 0, G_OPTION_ARG_STRING, &format,
		  "text, json or junit (default text)", "FORMAT" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
		  "write to FILE (default stdout)", "FILE" },
		{ "history", 0, 0, G_OPTION_ARG_INT, &history,
		  "earlier runs of the matrix that can show a cell flaky "
		  "(default 10)", "N" },
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &results,
		  "results directory (default results)", "DIR" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"[BASE] [NEW] - compare two archived runs");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = NULL;
	gboolean bad = FALSE;
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"NEW defaults to the newest run; BASE to the previous complete "
		"run of the same\nmatrix (and label).  Cells are regressions "
		"(pass, skip or expected crash\nbefore; fail, crash or timeout "
		"now), fixes, still failing, flaky (repeats\ndisagree, or "
		"earlier runs flipped), changed, new or gone; crash titles NEW\n"
		"reports and BASE did not are listed too.\n\n"
		"Exit status: 0 no regression and no new crash title, 1 some, "
		"2 error.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc > 3) {
		fprintf(stderr, "hotplug-harness compare: unexpected '%s' (see --help)\n",
			argv[3]);
		return HH_EXIT_USAGE;
	}
	if (!results)
		results = g_strdup("results");
	db = g_build_filename(results, "archive.sqlite", NULL);
	if (!g_file_test(db, G_FILE_TEST_EXISTS)) {
		fprintf(stderr, "hotplug-harness: no archive at %s (give --results)\n",
			db);
		return HH_EXIT_ERROR;
	}
	a = hh_archive_open(db, &err);
	if (!a)
		return hh_report_error(err);
	if (argc == 3) {
		base = g_strdup(argv[1]);
		new_id = g_strdup(argv[2]);
	} else {
		new_id = argc == 2 ? g_strdup(argv[1]) : hh_archive_newest_run(a, &err);
		if (!new_id)
			return hh_report_error(err);
		base = hh_compare_default_base(a, new_id, &err);
		if (!base)
			return hh_report_error(err);
	}
	if (!hh_compare_print(a, base, new_id, format, (guint)MAX(history, 0),
			      out, &bad, &err))
		return hh_report_error(err);
	return bad ? HH_EXIT_FAILURES : HH_EXIT_OK;
}
