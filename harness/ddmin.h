/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_DDMIN_H
#define HH_DDMIN_H

#include <glib.h>

/*
 * Delta debugging (Zeller and Hildebrandt's ddmin): shrinks a failing
 * sequence of n items to a subsequence that still fails and from which no
 * single item can be removed without the failure going away (1-minimal).
 * test(idx, len, data) runs the subsequence of the item indices idx (in
 * order) and says whether it still fails; the same subsequence is never
 * tested twice.  The whole sequence is assumed to fail.
 */
typedef gboolean (*HhDdminTest)(const guint *idx, guint len, gpointer data);

typedef struct {
	guint tests;		/* test() calls */
	guint cached;		/* subsequences answered from the cache */
	gboolean stopped;	/* test budget exhausted: not 1-minimal */
} HhDdminStats;

/* The indices (guint) of the shrunk subsequence; max_tests 0: no limit. */
GArray *hh_ddmin(guint n, HhDdminTest test, gpointer data, guint max_tests,
		 HhDdminStats *stats);

#endif
