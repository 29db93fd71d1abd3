/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scheduler never runs more jobs, CPUs or memory than its budget. */
#include "scheduler.h"

#include <glib.h>

#define GiB (1ull << 30)

typedef struct {
	GMutex lock;
	guint running, max_running;
	guint cpus, max_cpus;
	guint64 mem, max_mem;
	guint ran;
	gboolean big_ran_alone;
	HhScheduler *sched;
	guint stop_after;
} Track;

typedef struct {
	HhCost cost;
	gboolean big;
} FakeJob;

static void job_fn(gpointer data, gpointer user)
{
	FakeJob *j = data;
	Track *t = user;

	g_mutex_lock(&t->lock);
	t->running++;
	t->cpus += j->cost.cpus;
	t->mem += j->cost.memory;
	t->max_running = MAX(t->max_running, t->running);
	t->max_cpus = MAX(t->max_cpus, t->cpus);
	t->max_mem = MAX(t->max_mem, t->mem);
	if (j->big)
		t->big_ran_alone = t->running == 1;
	g_mutex_unlock(&t->lock);
	g_usleep(20 * 1000);
	g_mutex_lock(&t->lock);
	t->running--;
	t->cpus -= j->cost.cpus;
	t->mem -= j->cost.memory;
	t->ran++;
	if (t->stop_after && t->ran == t->stop_after)
		hh_scheduler_stop(t->sched);
	g_mutex_unlock(&t->lock);
}

static void test_budget_respected(void)
{
	HhCost budget = { 2, 4 * GiB };
	g_autoptr(HhScheduler) s = hh_scheduler_new(8, budget);
	FakeJob jobs[12];
	Track t = { 0 };

	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
		jobs[i].cost.cpus = 1;
		jobs[i].cost.memory = (i % 3 + 1) * GiB;
		jobs[i].big = FALSE;
		hh_scheduler_add(s, &jobs[i], jobs[i].cost);
	}
	g_mutex_init(&t.lock);
	g_assert_cmpuint(hh_scheduler_run(s, job_fn, &t), ==, 0);
	g_assert_cmpuint(t.ran, ==, G_N_ELEMENTS(jobs));
	g_assert_cmpuint(t.max_cpus, <=, 2);
	g_assert_cmpuint(t.max_mem, <=, 4 * GiB);
	/* And it did run jobs side by side. */
	g_assert_cmpuint(t.max_running, ==, 2);
}

static void test_max_jobs(void)
{
	HhCost budget = { 64, 64 * GiB };
	g_autoptr(HhScheduler) s = hh_scheduler_new(3, budget);
	FakeJob jobs[10] = { 0 };
	Track t = { 0 };

	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
		jobs[i].cost.cpus = 1;
		hh_scheduler_add(s, &jobs[i], jobs[i].cost);
	}
	g_mutex_init(&t.lock);
	hh_scheduler_run(s, job_fn, &t);
	g_assert_cmpuint(t.max_running, ==, 3);
}

static void test_oversized_job_runs_alone(void)
{
	HhCost budget = { 2, 2 * GiB };
	g_autoptr(HhScheduler) s = hh_scheduler_new(4, budget);
	FakeJob small[4], big = { { 1, 8 * GiB }, TRUE };
	Track t = { 0 };

	for (guint i = 0; i < 2; i++) {
		small[i] = (FakeJob){ { 1, GiB / 2 }, FALSE };
		hh_scheduler_add(s, &small[i], small[i].cost);
	}
	hh_scheduler_add(s, &big, big.cost);
	for (guint i = 2; i < 4; i++) {
		small[i] = (FakeJob){ { 1, GiB / 2 }, FALSE };
		hh_scheduler_add(s, &small[i], small[i].cost);
	}
	g_mutex_init(&t.lock);
	g_assert_cmpuint(hh_scheduler_run(s, job_fn, &t), ==, 0);
	g_assert_cmpuint(t.ran, ==, 5);
	g_assert_true(t.big_ran_alone);
}

static void test_stop_leaves_rest(void)
{
	HhCost budget = { 1, 64 * GiB };
	g_autoptr(HhScheduler) s = hh_scheduler_new(1, budget);
	FakeJob jobs[6] = { 0 };
	Track t = { 0 };

	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
		jobs[i].cost.cpus = 1;
		hh_scheduler_add(s, &jobs[i], jobs[i].cost);
	}
	g_mutex_init(&t.lock);
	t.sched = s;
	t.stop_after = 2;
	g_assert_cmpuint(hh_scheduler_run(s, job_fn, &t), ==, 4);
	g_assert_cmpuint(t.ran, ==, 2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scheduler/cpu-and-memory-budget-respected", test_budget_respected);
	g_test_add_func("/scheduler/at-most-max-jobs", test_max_jobs);
	g_test_add_func("/scheduler/oversized-job-runs-alone", test_oversized_job_runs_alone);
	g_test_add_func("/scheduler/stop-leaves-the-rest-unstarted", test_stop_leaves_rest);
	return g_test_run();
}
