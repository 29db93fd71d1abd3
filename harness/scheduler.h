/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_SCHEDULER_H
#define HH_SCHEDULER_H

#include <glib.h>

/*
 * Runs jobs on threads, at most max_jobs at once and never more host CPUs
 * or memory than the budget, as the jobs declare them.  A job larger than
 * the whole budget still runs, alone.  Jobs start in the order added; a
 * job that does not fit yet lets a smaller one behind it go first.
 */
typedef struct _HhScheduler HhScheduler;

typedef struct {
	guint cpus;		/* host CPUs the job keeps busy */
	guint64 memory;		/* bytes */
} HhCost;

typedef void (*HhJobFunc)(gpointer job, gpointer user_data);

HhScheduler *hh_scheduler_new(guint max_jobs, HhCost budget);
void hh_scheduler_free(HhScheduler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhScheduler, hh_scheduler_free)

void hh_scheduler_add(HhScheduler *s, gpointer job, HhCost cost);

/* Stops starting jobs (running ones finish); callable from any thread. */
void hh_scheduler_stop(HhScheduler *s);

/*
 * Runs every job with fn; returns when all started jobs are done and
 * nothing more will start.  Returns the number of jobs never started.
 */
guint hh_scheduler_run(HhScheduler *s, HhJobFunc fn, gpointer user_data);

/* The host's budget: online CPUs and MemAvailable, or the size in
 * $HH_MEMORY_BUDGET ("4G"). */
HhCost hh_host_budget(void);

#endif
