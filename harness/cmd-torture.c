/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "commands.h"
#include "hh-error.h"
#include "torture.h"

#include <stdio.h>
#include <string.h>

int hh_cmd_torture(int argc, char **argv)
{
	g_autofree char *kernel = NULL, *variant = NULL, *matrix = NULL;
	g_autofree char *seed = NULL, *time = NULL, *results = NULL;
	g_autofree char *scenario_dir = NULL, *label = NULL, *accel = NULL;
	gint ops = 0, jobs = 1, episode = 200, repro = 3, first = 0;
	gboolean keep_going = FALSE, no_shrink = FALSE;
	GOptionEntry entries[] = {
		{ "kernel", 'k', 0, G_OPTION_ARG_STRING, &kernel,
		  "a kernel of the matrix (configs/torture.matrix: emu, "
		  "emu-debug, emu612, emu612-debug)", "NAME" },
		{ "variant", 'V', 0, G_OPTION_ARG_STRING, &variant,
		  "the machine (default torture-emu; torture-emu-debug for a "
		  "kernel with config=debug)", "NAME" },
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &matrix,
		  "where the kernels are defined (default "
		  "configs/torture.matrix)", "FILE" },
		{ "seed", 's', 0, G_OPTION_ARG_STRING, &seed,
		  "the seed (default: from the clock, printed)", "N" },
		{ "ops", 'n', 0, G_OPTION_ARG_INT, &ops,
		  "stop after N operations drawn", "N" },
		{ "time", 't', 0, G_OPTION_ARG_STRING, &time,
		  "stop after this long (90s, 30m, 2h)", "DURATION" },
		{ "episode", 'e', 0, G_OPTION_ARG_INT, &episode,
		  "operations per guest before a fresh one (default 200)", "N" },
		{ "first-episode", 0, 0, G_OPTION_ARG_INT, &first,
		  "start at episode N (to run one again: with --ops of its "
		  "length)", "N" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
		  "guests at once (default 1)", "N" },
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &results,
		  "results directory (default results)", "DIR" },
		{ "scenario-dir", 0, 0, G_OPTION_ARG_FILENAME, &scenario_dir,
		  "write shrunk scenarios here (default: the run's directory)",
		  "DIR" },
		{ "repro-runs", 0, 0, G_OPTION_ARG_INT, &repro,
		  "runs of a shrunk sequence to tell flaky from solid "
		  "(default 3)", "N" },
		{ "keep-going", 0, 0, G_OPTION_ARG_NONE, &keep_going,
		  "after a finding, go on until --ops or --time", NULL },
		{ "no-shrink", 0, 0, G_OPTION_ARG_NONE, &no_shrink,
		  "report findings without shrinking them", NULL },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &accel,
		  "kvm, tcg or auto (default: KVM if a guest boots under it)",
		  "ACCEL" },
		{ "label", 'l', 0, G_OPTION_ARG_STRING, &label,
		  "a label for the archived run", "TEXT" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- random hotplug sequences checked against a model");
	g_autoptr(GError) err = NULL;
	HhTortureOptions o;
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"From the boot snapshot, each guest (an episode) runs operations "
		"drawn\nfrom the seed: emulator add_node/add_memory and CPU "
		"probe/release,\nmemory block online/online_kernel/online_movable/"
		"offline, CPU\nonline/offline, ACPI DIMM plug and unplug, and a "
		"memory workload.\nAfter each operation the guest is checked "
		"against the model.  A\ndisagreement or a crash is shrunk (ddmin) "
		"and written as a .scenario\nthat 'run' reproduces; its path is "
		"printed on stdout.  Exit 0: nothing\nfound, 1: found something.  "
		"See docs/torture.md.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	hh_torture_options_init(&o);
	if (argc != 1 || !kernel) {
		fprintf(stderr, "usage: hotplug-harness torture --kernel NAME "
			"[--ops N | --time DURATION] [--seed S] (see --help)\n");
		return HH_EXIT_USAGE;
	}
	if (seed) {
		char *end = NULL;

		o.seed = g_ascii_strtoull(seed, &end, 0);
		if (end == seed || *end) {
			fprintf(stderr, "hotplug-harness: --seed %s: not a "
				"number\n", seed);
			return HH_EXIT_USAGE;
		}
		o.seed_set = TRUE;
	}
	if (accel && !hh_accel_parse(accel, &o.accel, &err))
		return hh_report_error(err);
	if (time && !hh_torture_parse_duration("--time", time, FALSE,
						 &o.seconds, &err))
		return hh_report_error(err);
	if (ops < 0 || episode < 1 || jobs < 1 || repro < 1 || first < 0) {
		fprintf(stderr, "hotplug-harness: --ops, --episode, -j and "
			"--repro-runs take positive numbers\n");
		return HH_EXIT_USAGE;
	}
	o.kernel = kernel;
	o.variant = variant;
	o.matrix = matrix;
	o.ops = (guint)ops;
	o.episode = (guint)episode;
	o.first_episode = (guint)first;
	o.jobs = (guint)jobs;
	o.results = results;
	o.scenario_dir = scenario_dir;
	o.repro_runs = (guint)repro;
	o.keep_going = keep_going;
	o.no_shrink = no_shrink;
	o.label = label;
	return hh_torture_run(&o, NULL);
}
