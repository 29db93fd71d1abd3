/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_RESULT_H
#define HH_RESULT_H

#include <glib.h>
#include <json-glib/json-glib.h>

/*
 * A finished cell: its verdict in memory (HhCellResult) and on disk
 * (result.json in the cell's directory).  This file is the one place that
 * writes and reads result.json, and the one place that knows how a
 * repeated cell is named (NAME~N).
 */

/* Verdicts, kept apart: the order is also their precedence. */
typedef enum {
	HH_V_PASS,
	HH_V_SKIP,
	HH_V_FAIL,	/* an assertion */
	HH_V_CRASH,	/* the kernel */
	HH_V_TIMEOUT,	/* a phase ran out of time */
	HH_V_ERROR,	/* the harness or QEMU */
} HhVerdict;

const char *hh_verdict_name(HhVerdict v);

typedef struct {
	guint line;
	char *text;
	HhVerdict verdict;
	char *message;
	guint ms;
	GPtrArray *matches;	/* log lines its log expectations matched */
} HhStepResult;

void hh_step_result_free(gpointer step);

/* One phase of a cell (setup, start, restore, steps, ...): when it began,
 * from the cell's start, and how long it took. */
typedef struct {
	const char *name;	/* a static string */
	guint start_ms;
	guint ms;
} HhPhase;

typedef struct {
	HhVerdict verdict;
	char *reason;		/* one line: what failed, or why skipped */
	char *phase;		/* timeout: boot, step N, shutdown */
	double seconds;
	guint boot_ms;
	guint steps_ms;		/* all steps */
	guint shutdown_ms;
	char *failed_step;	/* "line L: TEXT" of the first failing step */
	gboolean expected;	/* a crash the scenario said would happen */
	char *boot_mode;	/* "cold", "snapshot", "cold (restore failed: ...)" */
	GPtrArray *crashes;	/* titles (char*) of its unsuppressed reports */
	/* for result.json only */
	GPtrArray *steps;	/* HhStepResult* */
	GPtrArray *reports;	/* HhCrash* (logcheck.h), suppressed ones too */
	guint64 peak_rss_kb;
	gint64 started_us;	/* wall clock when the cell began */
	GArray *phases;		/* HhPhase, in order, covering the cell */
} HhCellResult;

HhCellResult *hh_cell_result_new(void);
void hh_cell_result_free(HhCellResult *r);
/* Once written (result.json) and archived: drops the steps, reports and
 * phases, keeping what a run's summary needs (verdict, reason, crash
 * titles), so a run's memory does not grow with its cells' logs. */
void hh_cell_result_slim(HhCellResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhCellResult, hh_cell_result_free)

/* Who ran the cell, for result.json. */
typedef struct {
	const char *cell;	/* kernel/variant/scenario[~N] */
	const char *kernel;
	const char *kernel_release;
	const char *variant;
	const char *scenario;
	const char *accel;	/* "tcg", "kvm" */
	const char *backend;	/* "qemu", "libvirt" */
	const char *connect;	/* the libvirt URI, or NULL */
	const char *rerun;
	const char *host;	/* the machine that ran it */
	const GPtrArray *attempts;	/* char*: tries lost with their host */
} HhResultHeader;

/* Writes dir/result.json. */
gboolean hh_result_write(const char *dir, const HhResultHeader *h,
			 const HhCellResult *r, GError **error);

/* Reads dir/result.json: a parser whose root is an object (the caller
 * keeps the parser; the object lives as long as it). */
JsonParser *hh_result_load(const char *dir, JsonObject **root,
			   GError **error);

/* The result.json of every boot of a cell under run_dir (cell "K/V/S":
 * the directories S and S~N), as JsonParser*. */
GPtrArray *hh_result_load_repeats(const char *run_dir, const char *cell);

/* Cell names of repeats: NAME for a single run, NAME~R of N runs. */
char *hh_repeat_name(const char *name, guint r, guint n);
/* NAME of NAME~R (a copy; NAME itself when it has no suffix). */
char *hh_repeat_base(const char *name);

#endif
