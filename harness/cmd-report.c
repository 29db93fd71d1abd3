/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hotplug-harness report RUN --format ktap|junit|kcidb|html [-o OUT] */
#include "config.h"

#include "archive.h"
#include "commands.h"
#include "report.h"

#include <stdio.h>

int hh_cmd_report(int argc, char **argv)
{
	g_autofree char *results = NULL, *format_s = NULL, *out = NULL;
	g_autofree char *db = NULL, *run_id = NULL;
	GOptionEntry entries[] = {
		{ "format", 'f', 0, G_OPTION_ARG_STRING, &format_s,
		  "ktap, junit, kcidb or html (default html)", "FORMAT" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
		  "file (- for stdout), or the directory of the html report "
		  "(default: DIR/RUN/report)", "OUT" },
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &results,
		  "results directory (default results)", "DIR" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"[RUN] - report an archived run (default: the newest)");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = NULL;
	HhReportFormat format = HH_REPORT_HTML;
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"ktap: nested KTAP (cells, their steps as subtests)\n"
		"junit: JUnit XML, a testsuite per kernel (GitLab, Jenkins)\n"
		"kcidb: KernelCI KCIDB v4 JSON (checkouts, builds, tests)\n"
		"html: index.html with a heat map per kernel, history.html, "
		"a page per cell\n\nAll guest text is cleaned, bounded and escaped.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc > 2) {
		fprintf(stderr, "hotplug-harness report: unexpected '%s' (see --help)\n",
			argv[2]);
		return HH_EXIT_USAGE;
	}
	if (format_s && !hh_report_format_parse(format_s, &format, &err)) {
		fprintf(stderr, "hotplug-harness report: %s\n", err->message);
		return HH_EXIT_USAGE;
	}
	if (!results)
		results = g_strdup("results");
	db = g_build_filename(results, "archive.sqlite", NULL);
	if (!g_file_test(db, G_FILE_TEST_EXISTS)) {
		fprintf(stderr, "hotplug-harness: no archive at %s (run "
				"'hotplug-harness run' first, or give --results)\n",
			db);
		return HH_EXIT_ERROR;
	}
	a = hh_archive_open(db, &err);
	if (!a)
		return hh_report_error(err);
	if (argc == 2) {
		run_id = g_strdup(argv[1]);
	} else {
		run_id = hh_archive_newest_run(a, &err);
		if (!run_id)
			return hh_report_error(err);
	}
	if (!out && format == HH_REPORT_HTML)
		out = g_build_filename(results, run_id, "report", NULL);
	if (!hh_report_write(a, run_id, format, out, &err))
		return hh_report_error(err);
	if (format == HH_REPORT_HTML)
		fprintf(stderr, "report: %s/index.html\n", out);
	else if (out && !g_str_equal(out, "-"))
		fprintf(stderr, "report: %s\n", out);
	return HH_EXIT_OK;
}
