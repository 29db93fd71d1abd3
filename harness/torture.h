/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_TORTURE_H
#define HH_TORTURE_H

#include <glib.h>

#include "cell.h"

/*
 * Hotplug torture (docs/torture.md): random operation sequences drawn from
 * a seed, run from the boot snapshot in episodes (one cell each), every
 * operation checked against the model (torture-model.h); a disagreement
 * or a crash is shrunk with ddmin (ddmin.h) to a .scenario that `run`
 * reproduces.
 */
typedef struct {
	const char *matrix;	/* NULL: configs/torture.matrix */
	const char *kernel;	/* a kernel of the matrix */
	const char *variant;	/* NULL: torture-emu, or torture-emu-debug
				 * for a kernel with config=debug */
	guint64 seed;
	gboolean seed_set;	/* else one from the clock, printed */
	guint ops;		/* stop after this many; 0: no limit */
	guint seconds;		/* time budget; 0: none */
	guint episode;		/* operations per episode (guest) */
	guint first_episode;	/* start at this episode (to rerun one) */
	guint jobs;		/* guests at once */
	const char *results;	/* NULL: "results" */
	const char *scenario_dir;	/* where findings go; NULL: run dir */
	guint repro_runs;	/* runs of the shrunk sequence (flakiness) */
	gboolean keep_going;	/* after a finding, go on with the budget */
	gboolean no_shrink;
	const char *label;
	HhAccel accel;
	HhTimeouts timeouts;
} HhTortureOptions;

void hh_torture_options_init(HhTortureOptions *o);

/* 0: nothing found; 1: found something (a scenario is written); 2:
 * harness error; 64: usage. */
int hh_torture_run(const HhTortureOptions *o, char **run_dir_out);

/* "90", "90s", "30m", "2h" -> seconds (at most a week; "0" only if
 * zero_ok); option names the option in the error. */
gboolean hh_torture_parse_duration(const char *option, const char *text,
				   gboolean zero_ok, guint *secs,
				   GError **error);

/* The seed of episode e of a run with seed (exposed for the tests). */
guint64 hh_torture_episode_seed(guint64 seed, guint episode);

/* "fail: block 17 offline" from a cell's verdict, reason and crashes: what
 * must stay the same while a failing sequence is shrunk. */
char *hh_torture_signature(const HhCellResult *r);

#endif
