/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_SCHEDULER_H
#define HH_SCHEDULER_H

#include <glib.h>

/*
 * Runs jobs on threads, at most max_jobs at once and never more host CPUs
 * or memory than the budget, as the jobs declare them.  A job larger than
 * the whole budget still runs, alone.  Jobs start in the order added; a
 * job that does not fit yet lets a smaller one behind it go first.
 *
 * Several hosts are several pools, each with its own limits.  A job may
 * name the pool it belongs on (its snapshot is there); another pool takes
 * it only when that pool is down, or when it has nothing of its own to do
 * and the job's pool has more than steal_min waiting.  A pool that goes
 * down starts nothing more; when every pool is down, the run ends with
 * what is left unstarted.
 */
typedef struct _HhScheduler HhScheduler;

typedef struct {
	guint cpus;		/* host CPUs the job keeps busy */
	guint64 memory;		/* bytes */
} HhCost;

#define HH_POOL_ANY (-1)

typedef void (*HhJobFunc)(gpointer job, gpointer user_data);
typedef void (*HhPoolJobFunc)(gpointer job, guint pool, gpointer user_data);

/* A scheduler with one pool (number 0) of these limits. */
HhScheduler *hh_scheduler_new(guint max_jobs, HhCost budget);
void hh_scheduler_free(HhScheduler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhScheduler, hh_scheduler_free)

/* Another pool; returns its number. */
guint hh_scheduler_add_pool(HhScheduler *s, guint max_jobs, HhCost budget);
/* Jobs of another pool an idle pool may take (default: G_MAXUINT, never). */
void hh_scheduler_set_steal_min(HhScheduler *s, guint steal_min);

void hh_scheduler_add(HhScheduler *s, gpointer job, HhCost cost);
/* A job for one pool (or HH_POOL_ANY); callable while running, from any
 * thread (a job handed back after its host was lost). */
void hh_scheduler_add_to(HhScheduler *s, gpointer job, HhCost cost,
			 gint pool);

/* A job handed back (its host was lost): first in line, any pool. */
void hh_scheduler_add_first(HhScheduler *s, gpointer job, HhCost cost);

/* Stops starting jobs (running ones finish); callable from any thread. */
void hh_scheduler_stop(HhScheduler *s);
/* A pool down starts nothing; up again, it takes jobs. */
void hh_scheduler_pool_set_down(HhScheduler *s, guint pool, gboolean down);
/* TRUE when every pool is down. */
gboolean hh_scheduler_all_down(HhScheduler *s);

/*
 * Runs every job with fn; returns when all started jobs are done and
 * nothing more will start.  Returns the number of jobs never started.
 */
guint hh_scheduler_run(HhScheduler *s, HhJobFunc fn, gpointer user_data);
/* The same, telling fn the pool the job runs in. */
guint hh_scheduler_run_pools(HhScheduler *s, HhPoolJobFunc fn,
			     gpointer user_data);

/* The host's budget: online CPUs and MemAvailable, or the size in
 * $HH_MEMORY_BUDGET ("4G"). */
HhCost hh_host_budget(void);

#endif
