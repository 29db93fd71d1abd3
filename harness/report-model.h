/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The report model (report-model.c): a run loaded for reporting. */
#ifndef HH_REPORT_MODEL_H
#define HH_REPORT_MODEL_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "archive.h"

/* The bound on guest text per log in reports (bytes). */
#define HH_REPORT_LOG_MAX (4u << 20)

typedef struct {
	HhArchiveCell *cell;	/* not owned */
	JsonParser *parser;	/* result.json, or NULL */
	JsonObject *result;	/* its root object, or NULL */
	gboolean missing;	/* planned, never run */
} HhRepCell;

typedef struct {
	HhArchive *archive;	/* not owned */
	HhArchiveRun *run;
	GPtrArray *kernels;	/* HhArchiveKernel* */
	GPtrArray *cells;	/* HhArchiveCell* (missing ones made up) */
	GPtrArray *rcells;	/* HhRepCell*, same order as cells */
} HhRep;

HhRep *hh_rep_load(HhArchive *a, const char *run_id, GError **error);
void hh_rep_free(HhRep *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhRep, hh_rep_free)

/* "pass", "fail", ..., "xfail" (an expected crash) or "missing". */
const char *hh_rep_verdict(const HhRepCell *c);

/* A clean (escape.h) string member of the cell's result.json, or NULL. */
char *hh_rep_result_str(const HhRepCell *c, const char *member);

/* The cell's steps (JsonObject* of result.json), maybe empty. */
GPtrArray *hh_rep_steps(const HhRepCell *c);

/* The cell's crash reports (JsonObject*: title, count, excerpt). */
GPtrArray *hh_rep_crashes(const HhRepCell *c);

/* What a reader of a failure needs first: reason, failing step, crash
 * titles and excerpts, the tail of the kernel log; clean, at most max
 * bytes. */
char *hh_rep_failure_excerpt(const HhRepCell *c, gsize max);

#endif
