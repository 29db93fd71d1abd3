/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_COMPARE_H
#define HH_COMPARE_H

#include <glib.h>

#include "archive.h"

/*
 * Two archived runs, cell by cell (repeats "NAME~N" folded into NAME).
 * Verdicts are good (pass, skip, expected crash), bad (fail, crash,
 * timeout) or error (the harness or QEMU).
 */
typedef enum {
	HH_CMP_REGRESSION,	/* good in BASE, bad in NEW */
	HH_CMP_FIX,		/* bad in BASE, good in NEW */
	HH_CMP_STILL_FAILING,	/* bad in both */
	HH_CMP_FLAKY,		/* repeats disagree, or history flips */
	HH_CMP_CHANGED,		/* other changes: to or from error, skip */
	HH_CMP_NEW,		/* not in BASE */
	HH_CMP_GONE,		/* not in NEW */
	HH_CMP_SAME,
} HhCmpKind;

#define HH_CMP_N_KINDS (HH_CMP_SAME + 1)

const char *hh_cmp_kind_name(HhCmpKind k);

typedef struct {
	char *cell;
	HhCmpKind kind;
	char *base;		/* verdicts, space separated ("pass fail") */
	char *new_;
	char *detail;		/* NEW's reason or failing step */
	char *history;		/* verdicts in recent runs, newest first */
} HhCmpEntry;

typedef struct {
	char *title;
	char *cell;		/* the first cell of NEW that reported it */
} HhCmpTitle;

typedef struct {
	char *base_id;
	char *new_id;
	char *matrix;
	GPtrArray *entries;	/* HhCmpEntry*, by cell name */
	GPtrArray *new_titles;	/* HhCmpTitle*: crash titles NEW has, BASE not */
	guint counts[HH_CMP_N_KINDS];
} HhComparison;

void hh_comparison_free(HhComparison *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhComparison, hh_comparison_free)

/*
 * The previous complete run of the same matrix (and label, if new has
 * one) that started before new; NULL with an error if there is none.
 */
char *hh_compare_default_base(HhArchive *a, const char *new_id,
			      GError **error);

/* Compares; history runs of the matrix before NEW feed flakiness. */
HhComparison *hh_compare_runs(HhArchive *a, const char *base_id,
			      const char *new_id, guint history,
			      GError **error);

/* TRUE if NEW has regressions or new crash titles. */
gboolean hh_comparison_bad(const HhComparison *c);

char *hh_comparison_text(const HhComparison *c);
char *hh_comparison_json(const HhComparison *c);
char *hh_comparison_junit(const HhComparison *c);

#endif
