/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "commands.h"
#include "hh-error.h"
#include "paths.h"
#include "spawn.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const HhCommand commands[] = {
	{ "kernel", "build (or find in the cache) a kernel", hh_cmd_kernel },
	{ "initramfs", "build (or find in the cache) the guest image",
	  hh_cmd_initramfs },
	{ "image", "build or import (or find in the cache) a Debian disk "
		   "image", hh_cmd_image },
	{ "run", "boot a matrix of kernels x variants x scenarios", hh_cmd_run },
	{ "results", "list archived runs, show one run's cells, prune old ones",
	  hh_cmd_results },
	{ "report", "write an archived run as KTAP, JUnit, KCIDB or HTML",
	  hh_cmd_report },
	{ "compare", "regressions, fixes, flaky cells and new crash titles "
	  "between two runs", hh_cmd_compare },
	{ "nightly", "build, run the nightly matrix, report, compare with the "
	  "last nightly", hh_cmd_nightly },
	{ "bisect", "find the kernel commit that broke a cell (git bisect run)",
	  hh_cmd_bisect },
	{ "bisect-step", "test one commit, for 'git bisect run'",
	  hh_cmd_bisect_step },
	{ "torture", "random hotplug sequences checked against a model, "
	  "shrunk to a scenario", hh_cmd_torture },
};

/*
 * GOption wants "-j 2"; people type "-j2" as for make.  Split those.  The
 * new argv lives until exit, like the original one (GOption keeps and
 * reorders pointers into it), so its strings are kept in one place.
 */
static void split_attached_numbers(int *argc, char ***argv)
{
	static GPtrArray *strings;
	GPtrArray *out = g_ptr_array_new();

	if (!strings)
		strings = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < *argc; i++) {
		const char *a = (*argv)[i];

		if (i > 0 && a[0] == '-' && g_ascii_isalpha(a[1]) &&
		    g_ascii_isdigit(a[2]) &&
		    strspn(a + 2, "0123456789") == strlen(a + 2)) {
			g_ptr_array_add(strings, g_strndup(a, 2));
			g_ptr_array_add(out, strings->pdata[strings->len - 1]);
			g_ptr_array_add(strings, g_strdup(a + 2));
		} else {
			g_ptr_array_add(strings, g_strdup(a));
		}
		g_ptr_array_add(out, strings->pdata[strings->len - 1]);
	}
	*argc = (int)out->len;
	g_ptr_array_add(out, NULL);
	g_ptr_array_add(strings, out->pdata);
	*argv = (char **)g_ptr_array_free(out, FALSE);
}

gboolean hh_parse_options(GOptionContext *ctx, int *argc, char ***argv,
			  int *exit_code)
{
	g_autoptr(GError) err = NULL;

	split_attached_numbers(argc, argv);
	if (g_option_context_parse(ctx, argc, argv, &err))
		return TRUE;
	fprintf(stderr, "hotplug-harness: %s (see --help)\n", err->message);
	*exit_code = HH_EXIT_USAGE;
	return FALSE;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: hotplug-harness [--version] COMMAND [ARGS]\n\n"
		     "Boots Linux kernels in QEMU and tests memory, CPU and "
		     "NUMA-node hotplug.\n\nCommands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'hotplug-harness COMMAND --help' describes one.\n");
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	hh_spawn_init();
	hh_paths_init();
	if (argc < 2) {
		usage(stderr);
		return HH_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hotplug-harness %s\n", PACKAGE_VERSION);
		return HH_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HH_EXIT_OK;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "hotplug-harness: '%s' is not a command\n", argv[1]);
	usage(stderr);
	return HH_EXIT_USAGE;
}
