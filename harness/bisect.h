/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_BISECT_H
#define HH_BISECT_H

#include <glib.h>

#include "run.h"
#include <json-glib/json-glib.h>

/*
 * One bisect step: check a commit of the user's kernel tree out into a
 * harness-owned clone, apply the emulator series if the commit lacks it,
 * build it incrementally, boot one cell N times and say good, bad, skip or
 * abort, with the exit codes 'git bisect run' reads.
 *
 * Layout under hh_cache_dir():
 *   bisect/<tree-id>/src/           a --shared clone, detached at the commit
 *   bisect/<tree-id>/src/hh-build/  the O= directory, kept between steps
 *   bisect/<tree-id>/mtimes         content hash and mtime of the files the
 *                                   series touched at the last step
 *   bisect/<tree-id>.lock           one step at a time per tree
 * A state directory (bisect: one per session) holds steps.tsv, one line
 * per step, and steps/NN-<commit>/ with the build log and the run.
 */

typedef enum {
	HH_BISECT_GOOD = 0,
	HH_BISECT_BAD = 1,
	HH_BISECT_SKIP = 125,
	HH_BISECT_ABORT = 128,
} HhBisectVerdict;

typedef struct {
	char *tree;		/* the user's tree */
	char *commit;		/* commit to test (any revision) */
	char *cell;		/* KERNEL/VARIANT/SCENARIO */
	char *matrix;		/* matrix file naming the cell */
	char *patches_dir;	/* series to apply if absent; NULL: none */
	char *fragments_dir;	/* configs/kernel */
	char *state;		/* state directory */
	GPtrArray *signatures;	/* a failure is bad only if it has one */
	guint runs;		/* boots that must all pass for good */
	guint jobs;
	gboolean quiet;
	/* The run engine (hh_run_matrix); tests give a fake one. */
	int (*run)(const HhRunOptions *o, char **run_dir_out);
} HhBisectStep;

typedef struct {
	HhBisectVerdict verdict;
	char *commit;		/* full id */
	char *why;		/* one line: why this verdict */
	char *dir;		/* the step's directory under state */
	char *run_dir;		/* the run's directory, if it booted */
	GPtrArray *signatures;	/* of the failing boots */
	double build_s, boot_s;
	guint boots;
} HhBisectResult;

void hh_bisect_step_clear(HhBisectStep *step);
void hh_bisect_result_free(HhBisectResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhBisectResult, hh_bisect_result_free)

/* Runs one step.  Never NULL: a harness error gives HH_BISECT_ABORT (or
 * 128+N after signal N) with the message in why.  Appends a line to
 * state/steps.tsv. */
HhBisectResult *hh_bisect_step_run(const HhBisectStep *step);

/* The signatures of a failed cell's result.json: its crash titles if it
 * crashed, else its failing step, else its status and reason. */
GPtrArray *hh_bisect_signatures(JsonObject *result);

/* A failure with signatures got is the one bisected (want; NULL or empty:
 * any failure is). */
gboolean hh_bisect_signature_matches(GPtrArray *want, GPtrArray *got);

/* git in tree: argv after "git -C TREE"; *out (may be NULL) gets stdout
 * stripped of trailing space. */
gboolean hh_bisect_git(const char *tree, const char *const *args, char **out,
		       GError **error);

/* bisect/<tree-id> under the cache: the clone and default state of tree. */
char *hh_bisect_tree_dir(const char *tree);

/*
 * Kills what a killed step left running in tree's build directory: make
 * dies with the step, but its sub-makes and compilers do not.  They are
 * found by their working directory, the O= directory.  Returns how many.
 */
guint hh_bisect_kill_orphans(const char *tree);

/* The top level of the git tree holding dir. */
char *hh_bisect_toplevel(const char *dir, GError **error);

/* The emulator series that matches a kernel tree: kernel-patches/V.P for
 * the VERSION and PATCHLEVEL of its top Makefile; an error naming them
 * if the project has no such series. */
char *hh_bisect_series_for(const char *tree, GError **error);

#endif
