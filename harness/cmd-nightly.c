/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hotplug-harness nightly: run the nightly matrix (kernels cached), then
 * write every report into RUN/report/ and compare with the last complete
 * nightly run of the same matrix.  Fails only on what is new: a
 * regression or a new crash title, not a failure already known.
 */
#include "config.h"

#include "archive.h"
#include "commands.h"
#include "hh-error.h"
#include "compare.h"
#include "paths.h"
#include "report.h"
#include "run.h"
#include "torture.h"

#include <stdio.h>
#include <string.h>

static gboolean write_reports(HhArchive *a, const char *run_id,
			      const char *dir, GError **error)
{
	static const struct {
		HhReportFormat format;
		const char *file;
	} outs[] = {
		{ HH_REPORT_HTML, NULL },
		{ HH_REPORT_JUNIT, "junit.xml" },
		{ HH_REPORT_KCIDB, "kcidb.json" },
		{ HH_REPORT_KTAP, "results.ktap" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(outs); i++) {
		g_autofree char *path = outs[i].file ?
			g_build_filename(dir, outs[i].file, NULL) : g_strdup(dir);

		if (!hh_report_write(a, run_id, outs[i].format, path, error))
			return FALSE;
	}
	return TRUE;
}

/* The torture part of the nightly job: every finding is shrunk and its
 * scenario printed; one makes the job fail. */
static int nightly_torture(const HhRunOptions *ro, const char *results,
			   const char *kernel, guint secs, gint jobs,
			   gboolean bad)
{
	HhTortureOptions to;
	int code;

	if (!secs)
		return bad ? HH_EXIT_FAILURES : HH_EXIT_OK;
	hh_torture_options_init(&to);
	to.kernel = kernel ? kernel : "emu-debug";
	to.seconds = secs;
	to.results = results;
	to.keep_going = TRUE;
	to.label = "nightly";
	to.accel = ro->accel;
	to.jobs = jobs > 0 ? (guint)jobs : 1;
	fprintf(stderr, "nightly: torture on %s for %u s\n", to.kernel, secs);
	code = hh_torture_run(&to, NULL);
	if (code == HH_EXIT_FAILURES)
		fprintf(stderr, "nightly: torture found something (the "
			"scenarios are printed above)\n");
	if (code != HH_EXIT_OK && code != HH_EXIT_FAILURES)
		return code;
	return bad || code ? HH_EXIT_FAILURES : HH_EXIT_OK;
}

int hh_cmd_nightly(int argc, char **argv)
{
	g_autofree char *matrix = NULL, *results = NULL, *accel = NULL;
	g_autofree char *boot = NULL, *run_dir = NULL, *run_id = NULL;
	g_autofree char *backend = NULL, *connect = NULL, *hosts = NULL;
	g_autofree char *report = NULL, *db = NULL, *base = NULL;
	g_autofree char *torture_time = NULL, *torture_kernel = NULL;
	gint jobs = 0, history = 10, repeat = 2;
	gboolean quiet = FALSE, bad = FALSE;
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &matrix,
		  "matrix file (default configs/nightly.matrix)", "FILE" },
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &results,
		  "results directory and archive (default results)", "DIR" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
		  "cells at once (default: number of CPUs)", "N" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &accel,
		  "kvm, tcg or auto (default auto)", "MODE" },
		{ "boot", 0, 0, G_OPTION_ARG_STRING, &boot,
		  "cold, snapshot or auto (default auto)", "MODE" },
		{ "backend", 0, 0, G_OPTION_ARG_STRING, &backend,
		  "qemu or libvirt (default: the matrix's, else qemu)", "NAME" },
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &connect,
		  "libvirt URI (default: the embedded driver)", "URI" },
		{ "hosts", 0, 0, G_OPTION_ARG_FILENAME, &hosts,
		  "spread the cells over these libvirt hosts (default: the "
		  "matrix's [hosts], else this machine)", "FILE" },
		{ "repeat", 0, 0, G_OPTION_ARG_INT, &repeat,
		  "run every cell N times, to tell flaky cells (default 2)",
		  "N" },
		{ "history", 0, 0, G_OPTION_ARG_INT, &history,
		  "earlier nightly runs that can show a cell flaky (default 10)",
		  "N" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
		  "no build progress", NULL },
		{ "torture-time", 0, 0, G_OPTION_ARG_STRING, &torture_time,
		  "then torture for this long (default 30m; 0: no torture)",
		  "DURATION" },
		{ "torture-kernel", 0, 0, G_OPTION_ARG_STRING, &torture_kernel,
		  "the kernel of configs/torture.matrix to torture (default "
		  "emu-debug)", "NAME" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- the nightly job: run, archive, report, compare, torture");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = NULL;
	HhRunOptions ro;
	guint torture_secs = 30 * 60;
	int code, run_code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Runs the matrix with --keep-going, labelled 'nightly' in the "
		"archive, then writes\nRUN/report/ (index.html, junit.xml, "
		"kcidb.json, results.ktap, compare.txt,\ncompare.json, "
		"compare-junit.xml) and prints the comparison with the last\n"
		"complete nightly run of the same matrix.\n\n"
		"Then runs 'hotplug-harness torture --keep-going' on the "
		"emulator kernel\nwith configs/kernel/debug.config for "
		"--torture-time (docs/torture.md).\n\n"
		"Exit status: 0 nothing new is broken (known failures are "
		"fine), 1 a regression,\na new crash title or a torture "
		"finding, 2 the run or a report could not be\nmade, 128+N "
		"signal.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc > 1) {
		fprintf(stderr, "hotplug-harness nightly: unexpected '%s' (see --help)\n",
			argv[1]);
		return HH_EXIT_USAGE;
	}
	if (!results)
		results = g_strdup("results");
	if (!matrix)
		matrix = hh_data_path("configs/nightly.matrix");
	hh_run_options_init(&ro);
	ro.matrix = matrix;
	ro.results = results;
	ro.label = "nightly";
	ro.keep_going = TRUE;
	ro.no_report = TRUE;
	ro.quiet = quiet;
	ro.backend = backend;
	ro.connect = connect;
	ro.hosts = hosts;
	if (repeat < 1 || repeat > 1000) {
		fprintf(stderr, "hotplug-harness nightly: --repeat %d: expected "
			"1 to 1000\n", repeat);
		return HH_EXIT_USAGE;
	}
	ro.repeat = (guint)repeat;
	ro.max_jobs = jobs > 0 ? (guint)jobs : 0;
	if (accel && !hh_accel_parse(accel, &ro.accel, &err))
		return hh_report_error(err);
	if (boot && !hh_boot_mode_parse(boot, &ro.boot, &err))
		return hh_report_error(err);
	if (backend && !hh_vm_backend_known(backend)) {
		fprintf(stderr, "hotplug-harness nightly: --backend '%s': "
			"expected one of %s\n", backend, hh_vm_backend_names());
		return HH_EXIT_USAGE;
	}
	if (torture_time &&
	    !hh_torture_parse_duration("--torture-time", torture_time, TRUE,
				       &torture_secs, &err))
		return hh_report_error(err);
	run_code = hh_run_matrix(&ro, &run_dir);
	if (!run_dir || run_code >= 128 ||
	    (run_code != HH_EXIT_OK && run_code != HH_EXIT_FAILURES))
		return run_code ? run_code : HH_EXIT_ERROR;
	run_id = g_path_get_basename(run_dir);
	report = g_build_filename(run_dir, "report", NULL);
	db = g_build_filename(results, "archive.sqlite", NULL);
	a = hh_archive_open(db, &err);
	if (!a || !write_reports(a, run_id, report, &err))
		return hh_report_error(err);
	fprintf(stderr, "nightly: report %s/index.html, JUnit %s/junit.xml\n",
		report, report);
	base = hh_compare_default_base(a, run_id, &err);
	if (!base) {
		if (!g_error_matches(err, HH_ERROR, HH_ERROR_NOT_FOUND))
			return hh_report_error(err);
		printf("nightly %s: first complete nightly run of %s, nothing to "
		       "compare with; it is the baseline of the next one\n",
		       run_id, matrix);
		return nightly_torture(&ro, results, torture_kernel,
				       torture_secs, jobs, FALSE);
	}
	{
		g_autofree char *txt = g_build_filename(report, "compare.txt", NULL);
		g_autofree char *json = g_build_filename(report, "compare.json", NULL);
		g_autofree char *junit = g_build_filename(report,
							  "compare-junit.xml", NULL);
		guint h = (guint)MAX(history, 0);

		if (!hh_compare_print(a, base, run_id, "text", h, NULL, &bad, &err) ||
		    !hh_compare_print(a, base, run_id, "text", h, txt, &bad, &err) ||
		    !hh_compare_print(a, base, run_id, "json", h, json, &bad, &err) ||
		    !hh_compare_print(a, base, run_id, "junit", h, junit, &bad, &err))
			return hh_report_error(err);
	}
	if (bad)
		fprintf(stderr, "nightly: %s has regressions or new crash titles "
				"against %s\n", run_id, base);
	return nightly_torture(&ro, results, torture_kernel, torture_secs, jobs,
			       bad);
}
