/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hotplug-harness run: the command line of the run engine (run.h).
 *
 * Matrix files are key files:
 *   [matrix]
 *   kernels=stock            names of [kernel NAME] groups below
 *   variants=mem2g-x         names or globs of variant files in configs/variants
 *   scenarios=NAME           names or globs of scenario files in configs/scenarios
 *   backend=qemu             or libvirt (optional; --backend wins)
 *   connect=URI              libvirt URI (optional; --connect wins)
 *   [hosts]
 *   file=hosts.conf          several libvirt hosts (optional; --hosts wins)
 *   [kernel stock]
 *   source=default           a tarball or tree; default: linux-source-6.1
 *   patches=none             a patch directory, or none
 */
#include "config.h"

#include "commands.h"
#include "hh-error.h"
#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The command line of a run, parsed and checked. */
typedef struct {
	char *matrix;		/* as given; NULL: default (or the resumed run's) */
	char *results;
	char *accel_s;
	char *boot_s;
	char *suppress;
	char *resume;
	char *label;
	char *backend;
	char *connect;
	char *hosts;
	char *shard;
	char **kernel_builds;
	char **only;
	char **exclude;
	gint jobs;
	gint boot_timeout;
	gint request_timeout;
	gint repeat;
	gboolean quiet;
	gboolean keep_going;
	gboolean no_report;
	gboolean insecure_tcp;
	HhRunOptions run;	/* derived; points into the strings above */
} Options;

static void options_clear(Options *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

static void options_clear(Options *o)
{
	g_free(o->matrix);
	g_free(o->results);
	g_free(o->accel_s);
	g_free(o->boot_s);
	g_free(o->suppress);
	g_free(o->resume);
	g_free(o->label);
	g_free(o->backend);
	g_free(o->connect);
	g_free(o->hosts);
	g_free(o->shard);
	g_strfreev(o->kernel_builds);
	g_strfreev(o->only);
	g_strfreev(o->exclude);
}

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hotplug-harness run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HH_EXIT_USAGE;
}

/* FALSE with *code when the run must not start (--help, a bad option). */
static gboolean parse_options(int argc, char **argv, Options *o, int *code)
{
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &o->matrix,
		  "matrix file (default configs/default.matrix)", "FILE" },
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &o->results,
		  "results directory (default results)", "DIR" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &o->jobs,
		  "cells at once (default: number of CPUs); never more guest "
		  "CPUs or RAM than the host has", "N" },
		{ "only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->only,
		  "run only cells whose kernel/variant/scenario name matches "
		  "(repeatable)", "GLOB" },
		{ "exclude", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->exclude,
		  "skip cells whose name matches (repeatable)", "GLOB" },
		{ "resume", 0, 0, G_OPTION_ARG_STRING, &o->resume,
		  "finish an archived run that did not complete: run only the "
		  "cells it lacks, with its matrix", "RUN" },
		{ "repeat", 0, 0, G_OPTION_ARG_INT, &o->repeat,
		  "run every cell N times, to expose flaky ones", "N" },
		{ "keep-going", 'k', 0, G_OPTION_ARG_NONE, &o->keep_going,
		  "go on after a cell fails (default: start no new cell)", NULL },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &o->accel_s,
		  "kvm, tcg or auto (default auto: KVM if a guest really boots "
		  "with it, else TCG)", "MODE" },
		{ "boot", 0, 0, G_OPTION_ARG_STRING, &o->boot_s,
		  "cold, snapshot or auto (default auto: cells that share a "
		  "kernel and machine start from one saved boot)", "MODE" },
		{ "warm-pool", 0, 0, G_OPTION_ARG_INT, &o->run.warm_pool,
		  "guests started ahead for cells restored from a snapshot, "
		  "so they only load their state (default: as many as -j; "
		  "0: none)", "N" },
		{ "boot-timeout", 0, 0, G_OPTION_ARG_INT, &o->boot_timeout,
		  "seconds from start until the agent answers (default 120)", "S" },
		{ "request-timeout", 0, 0, G_OPTION_ARG_INT, &o->request_timeout,
		  "seconds for each request to the guest (default 60)", "S" },
		{ "suppressions", 0, 0, G_OPTION_ARG_FILENAME, &o->suppress,
		  "known kernel-log noise (default configs/suppressions)", "FILE" },
		{ "kernel-build", 0, 0, G_OPTION_ARG_STRING_ARRAY,
		  &o->kernel_builds, "boot the matrix's kernel NAME from a "
		  "finished build (its O= directory) instead of building it "
		  "(repeatable)", "NAME=DIR" },
		{ "backend", 0, 0, G_OPTION_ARG_STRING, &o->backend,
		  "qemu (QEMU children of the harness) or libvirt (default: "
		  "the matrix's backend=, else qemu)", "NAME" },
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &o->connect,
		  "libvirt URI, e.g. qemu:///system or qemu+ssh://host/system "
		  "(default: libvirt's embedded driver under the harness cache, "
		  "no daemon)", "URI" },
		{ "hosts", 0, 0, G_OPTION_ARG_FILENAME, &o->hosts,
		  "spread the cells over the libvirt hosts of FILE ([host NAME] "
		  "groups with uri=, optional cpus=, memory=, label=; see "
		  "docs/hosts.md)", "FILE" },
		{ "insecure-tcp", 0, 0, G_OPTION_ARG_NONE, &o->insecure_tcp,
		  "allow qemu+tcp:// (no authentication, no encryption) to "
		  "other machines than this one", NULL },
		{ "shard", 0, 0, G_OPTION_ARG_STRING, &o->shard,
		  "run shard K of N of the matrix's cells (the same cells "
		  "whatever the order of files; merge with 'results import')",
		  "K/N" },
		{ "label", 0, 0, G_OPTION_ARG_STRING, &o->label,
		  "a label for the archive (nightly runs are 'nightly')",
		  "TEXT" },
		{ "no-report", 0, 0, G_OPTION_ARG_NONE, &o->no_report,
		  "do not write the HTML report into DIR/<run-id>/report", NULL },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
		  "no build progress", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- boot a matrix of kernels x variants x scenarios");
	g_autoptr(GError) err = NULL;

	o->boot_timeout = 120;
	o->request_timeout = 60;
	o->repeat = 1;
	hh_run_options_init(&o->run);
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Results go to DIR/<run-id>/: run.json and one directory per "
		"cell\n(KERNEL/VARIANT/SCENARIO) with console.log, kmsg.log, "
		"agent.log, qmp.log,\nqemu-cmdline.txt and result.json, and "
		"the HTML report in report/.  KTAP\non stdout.  Exit status 0 "
		"only if no cell failed, crashed, timed out or\nerrored (an "
		"expected crash is fine).");
	if (!hh_parse_options(ctx, &argc, &argv, code))
		return FALSE;
	*code = HH_EXIT_USAGE;
	if (argc > 1) {
		usage_error("unexpected '%s' (see --help)", argv[1]);
		return FALSE;
	}
	if (o->repeat < 1 || o->repeat > 1000) {
		usage_error("--repeat %d: expected 1 to 1000", o->repeat);
		return FALSE;
	}
	if (o->accel_s && !hh_accel_parse(o->accel_s, &o->run.accel, &err)) {
		*code = hh_report_error(err);
		return FALSE;
	}
	if (o->boot_s && !hh_boot_mode_parse(o->boot_s, &o->run.boot, &err)) {
		*code = hh_report_error(err);
		return FALSE;
	}
	for (guint i = 0; o->kernel_builds && o->kernel_builds[i]; i++) {
		const char *kb = o->kernel_builds[i], *eq = strchr(kb, '=');

		if (!eq || eq == kb || !eq[1]) {
			usage_error("--kernel-build '%s': expected NAME=DIR", kb);
			return FALSE;
		}
	}
	if (o->shard && !hh_shard_parse(o->shard, &o->run.shard_k,
					&o->run.shard_n, &err)) {
		*code = hh_report_error(err);
		return FALSE;
	}
	if (o->backend && !hh_vm_backend_known(o->backend)) {
		usage_error("--backend '%s': expected one of %s", o->backend,
			    hh_vm_backend_names());
		return FALSE;
	}
	o->run.timeouts.boot_ms = (guint)MAX(o->boot_timeout, 1) * 1000;
	o->run.timeouts.request_ms = (guint)MAX(o->request_timeout, 1) * 1000;
	o->run.max_jobs = o->jobs > 0 ? (guint)o->jobs : 0;
	o->run.matrix = o->matrix;
	o->run.results = o->results;
	o->run.only = (const char *const *)o->only;
	o->run.exclude = (const char *const *)o->exclude;
	o->run.kernel_builds = (const char *const *)o->kernel_builds;
	o->run.suppressions = o->suppress;
	o->run.resume = o->resume;
	o->run.label = o->label;
	o->run.backend = o->backend;
	o->run.connect = o->connect;
	o->run.hosts = o->hosts;
	o->run.insecure_tcp = o->insecure_tcp;
	o->run.repeat = (guint)o->repeat;
	o->run.keep_going = o->keep_going;
	o->run.quiet = o->quiet;
	o->run.no_report = o->no_report;
	return TRUE;
}

int hh_cmd_run(int argc, char **argv)
{
	g_auto(Options) o = { 0 };
	int code;

	if (!parse_options(argc, argv, &o, &code))
		return code;
	return hh_run_matrix(&o.run, NULL);
}
