/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hotplug-harness results list|show RUN: browse the archive. */
#include "config.h"

#include "archive.h"
#include "commands.h"
#include "report.h"
#include "results-import.h"
#include "hh-error.h"
#include "util.h"

#include <stdio.h>

static int list_runs(HhArchive *a)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) runs = hh_archive_runs(a, &err);

	if (!runs)
		return hh_report_error(err);
	printf("%-24s %-20s %6s %6s  %-8s %s\n", "RUN", "START", "CELLS",
	       "FAILED", "LABEL", "STATE");
	for (guint i = 0; i < runs->len; i++) {
		HhArchiveRun *r = runs->pdata[i];

		printf("%-24s %-20.19s %6u %6u  %-8s %s\n", r->id, r->start,
		       r->cells, r->failed, r->label ? r->label : "-",
		       r->complete ? "complete" :
		       r->end ? "incomplete" : "running or killed");
	}
	return HH_EXIT_OK;
}

static int show_run(HhArchive *a, const char *run_id)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) cells = hh_archive_cells(a, run_id, &err);

	if (!cells)
		return hh_report_error(err);
	if (!cells->len) {
		fprintf(stderr, "hotplug-harness: no cells archived for run '%s' "
				"(see 'hotplug-harness results list')\n", run_id);
		return HH_EXIT_ERROR;
	}
	for (guint i = 0; i < cells->len; i++) {
		HhArchiveCell *c = cells->pdata[i];

		printf("%-8s %-56s %6.1f s  %s\n",
		       c->expected_crash ? "xfail" : c->status, c->name,
		       c->total_ms / 1000.0, c->reason ? c->reason : "");
		for (guint k = 0; k < c->crashes->len; k++)
			printf("         crash: %s\n", (char *)c->crashes->pdata[k]);
	}
	return HH_EXIT_OK;
}

static int prune(HhArchive *a, const char *results, gint keep, gint days)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) gone = NULL;
	g_autofree char *before = NULL;

	if (keep <= 0 && days <= 0) {
		fprintf(stderr, "hotplug-harness: results prune needs --keep N "
				"or --older-than DAYS\n");
		return HH_EXIT_USAGE;
	}
	if (days > 0) {
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();
		g_autoptr(GDateTime) t = g_date_time_add_days(now, -days);

		before = g_date_time_format_iso8601(t);
	}
	gone = hh_archive_prune(a, keep > 0 ? (guint)keep : 0, before, &err);
	if (!gone)
		return hh_report_error(err);
	for (guint i = 0; i < gone->len; i++) {
		g_autofree char *dir = g_build_filename(results,
							gone->pdata[i], NULL);

		hh_rm_rf(dir, NULL);
		printf("pruned %s\n", (char *)gone->pdata[i]);
	}
	fprintf(stderr, "%u run(s) pruned; the newest complete run is kept\n",
		gone->len);
	return HH_EXIT_OK;
}

/* results import SHARD...: one run of DIR from the shards' runs. */
static int import(const char *results, char **sources)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *run_id = hh_results_import(
		results, (const char *const *)sources, FALSE, &err);
	g_autofree char *db = g_build_filename(results, "archive.sqlite", NULL);
	g_autofree char *report = NULL;
	g_autoptr(HhArchive) a = NULL;

	if (!run_id)
		return hh_report_error(err);
	report = g_build_filename(results, run_id, "report", NULL);
	a = hh_archive_open(db, &err);
	if (!a || !hh_report_write(a, run_id, HH_REPORT_HTML, report, &err))
		fprintf(stderr, "warning: no HTML report: %s\n", err->message);
	else
		fprintf(stderr, "report:  %s/index.html\n", report);
	printf("%s\n", run_id);
	return HH_EXIT_OK;
}

int hh_cmd_results(int argc, char **argv)
{
	g_autofree char *results = NULL, *path = NULL;
	gint keep = 0, days = 0;
	GOptionEntry entries[] = {
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &results,
		  "results directory (default results)", "DIR" },
		{ "keep", 0, 0, G_OPTION_ARG_INT, &keep,
		  "prune: keep the newest N runs", "N" },
		{ "older-than", 0, 0, G_OPTION_ARG_INT, &days,
		  "prune: remove runs started more than DAYS ago", "DAYS" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"list | show RUN | prune | import DIR... - browse the results "
		"archive");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = NULL;
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"The archive is DIR/archive.sqlite (schema in docs/results.md); "
		"each\nrun writes it as its cells finish.  'import' merges the "
		"runs of shards\n(run --shard K/N; each DIR a results directory "
		"or RESULTS/RUN) into one\nnew run of --results DIR, and prints "
		"its id.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc >= 3 && g_str_equal(argv[1], "import"))
		return import(results ? results : "results", argv + 2);
	if (argc < 2 ||
	    (g_str_equal(argv[1], "list") && argc != 2) ||
	    (g_str_equal(argv[1], "prune") && argc != 2) ||
	    (g_str_equal(argv[1], "show") && argc != 3) ||
	    (!g_str_equal(argv[1], "list") && !g_str_equal(argv[1], "show") &&
	     !g_str_equal(argv[1], "prune"))) {
		fprintf(stderr, "usage: hotplug-harness results list | show RUN | "
				"prune --keep N|--older-than DAYS | import "
				"SHARD-DIR... [--results DIR] (see --help)\n");
		return HH_EXIT_USAGE;
	}
	if (!results)
		results = g_strdup("results");
	path = g_build_filename(results, "archive.sqlite", NULL);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		fprintf(stderr, "hotplug-harness: no archive at %s (run "
				"'hotplug-harness run' first, or give --results)\n",
			path);
		return HH_EXIT_ERROR;
	}
	a = hh_archive_open(path, &err);
	if (!a)
		return hh_report_error(err);
	if (g_str_equal(argv[1], "prune"))
		return prune(a, results, keep, days);
	return g_str_equal(argv[1], "list") ? list_runs(a) :
					      show_run(a, argv[2]);
}
