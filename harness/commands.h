/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_COMMANDS_H
#define HH_COMMANDS_H

#include <glib.h>

#include "archive.h"

/*
 * One file per subcommand (cmd-NAME.c), each exporting one entry in the
 * table in main.c.  A new command touches: its cmd-*.c, the table, the
 * Makefile.am source list, docs and a test.
 *
 * Exit codes: 0 success, 1 test failures (run), 2 harness error,
 * 64 usage error, 128+N killed by signal N.
 */
#define HH_EXIT_OK 0
#define HH_EXIT_FAILURES 1
#define HH_EXIT_ERROR 2
#define HH_EXIT_USAGE 64

typedef struct {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} HhCommand;

int hh_cmd_kernel(int argc, char **argv);
int hh_cmd_initramfs(int argc, char **argv);
int hh_cmd_image(int argc, char **argv);
int hh_cmd_run(int argc, char **argv);
int hh_cmd_results(int argc, char **argv);
int hh_cmd_report(int argc, char **argv);
int hh_cmd_compare(int argc, char **argv);
int hh_cmd_nightly(int argc, char **argv);
int hh_cmd_bisect(int argc, char **argv);
int hh_cmd_bisect_step(int argc, char **argv);
int hh_cmd_torture(int argc, char **argv);

/* Compares two runs and prints (or writes to out) the comparison in
 * format (text, json, junit); *bad: regressions or new crash titles. */
gboolean hh_compare_print(HhArchive *a, const char *base, const char *new_id,
			  const char *format, guint history, const char *out,
			  gboolean *bad, GError **error);

/* Prints "hotplug-harness: MESSAGE" and returns the exit code for it. */
int hh_report_error(const GError *error);

/* Parses options; on error or --help prints and returns FALSE with *exit. */
gboolean hh_parse_options(GOptionContext *ctx, int *argc, char ***argv,
			  int *exit_code);

#endif
