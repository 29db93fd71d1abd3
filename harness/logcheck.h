/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_LOGCHECK_H
#define HH_LOGCHECK_H

#include <glib.h>

/*
 * The kernel-log crash analyser: finds BUG, WARNING, Oops, general
 * protection faults, panics, KASAN/UBSAN/KFENCE reports, lockdep splats,
 * soft lockups, hung tasks, RCU stalls and bare call traces, and gives each
 * one normalized title ("WARNING in topology_sane"), deduplicated, with an
 * excerpt of the log.
 */
typedef struct {
	char *title;
	char *excerpt;
	guint line;		/* index of the first line of the report */
	guint count;		/* how many times the same title was seen */
	char *suppressed_by;	/* reason, if a suppression matched */
} HhCrash;

typedef struct _HhSuppressions HhSuppressions;

/* Lines "REGEX<TAB>reason" (or 'REGEX  # reason'); '#' lines are comments */
HhSuppressions *hh_suppressions_load(const char *path, GError **error);
HhSuppressions *hh_suppressions_parse(const char *text, const char *origin,
				      GError **error);
void hh_suppressions_free(HhSuppressions *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhSuppressions, hh_suppressions_free)

/* Scans lines (kernel log text without timestamps); returns HhCrash*. */
GPtrArray *hh_logcheck_scan(const char *const *lines, guint n,
			    const HhSuppressions *sup);

void hh_crash_free(gpointer crash);

#endif
