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

/* Several pools: jobs run where they belong; a pool that goes down hands
 * its jobs (and those given back) to the others; all down ends the run. */
typedef struct {
	GMutex lock;
	HhScheduler *sched;
	guint ran_in[3];
	guint where[16];	/* pool + 1 each job last ran in */
	gint fail_pool;		/* jobs here "lose their host" once */
	guint given_back;
	gboolean down_all;
} PoolTrack;

typedef struct {
	guint id;
	gint pool;
} PoolJob;

static void pool_job_fn(gpointer data, guint pool, gpointer user)
{
	PoolJob *j = data;
	PoolTrack *t = user;

	g_usleep(5 * 1000);
	g_mutex_lock(&t->lock);
	t->ran_in[pool]++;
	t->where[j->id] = pool + 1;
	if ((gint)pool == t->fail_pool) {
		HhCost c = { 1, 0 };

		hh_scheduler_pool_set_down(t->sched, pool, TRUE);
		if (t->down_all) {
			for (guint q = 0; q < 3; q++)
				hh_scheduler_pool_set_down(t->sched, q, TRUE);
		}
		t->given_back++;
		t->where[j->id] = 0;
		hh_scheduler_add_first(t->sched, j, c);
	}
	g_mutex_unlock(&t->lock);
}

static HhScheduler *three_pools(PoolJob *jobs, guint n)
{
	HhCost budget = { 1, 64 * GiB }, c = { 1, 0 };
	HhScheduler *s = hh_scheduler_new(1, budget);

	hh_scheduler_add_pool(s, 1, budget);
	hh_scheduler_add_pool(s, 1, budget);
	for (guint i = 0; i < n; i++) {
		jobs[i].id = i;
		jobs[i].pool = (gint)(i % 3);
		hh_scheduler_add_to(s, &jobs[i], c, jobs[i].pool);
	}
	return s;
}

static void test_pools_affinity(void)
{
	PoolJob jobs[12];
	g_autoptr(HhScheduler) s = three_pools(jobs, G_N_ELEMENTS(jobs));
	PoolTrack t = { .fail_pool = -1 };

	g_mutex_init(&t.lock);
	t.sched = s;
	g_assert_cmpuint(hh_scheduler_run_pools(s, pool_job_fn, &t), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++)
		g_assert_cmpuint(t.where[i], ==, (guint)jobs[i].pool + 1);
}

static void test_pool_down_moves_jobs(void)
{
	PoolJob jobs[12];
	g_autoptr(HhScheduler) s = three_pools(jobs, G_N_ELEMENTS(jobs));
	PoolTrack t = { .fail_pool = 1 };

	g_mutex_init(&t.lock);
	t.sched = s;
	g_assert_cmpuint(hh_scheduler_run_pools(s, pool_job_fn, &t), ==, 0);
	g_assert_cmpuint(t.given_back, ==, 1);
	g_assert_cmpuint(t.ran_in[1], ==, 1);
	/* Every job ended on a live pool, pool 1's included. */
	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++)
		g_assert_true(t.where[i] == 1 || t.where[i] == 3);
	g_assert_false(hh_scheduler_all_down(s));
}

static void test_all_down_ends_run(void)
{
	PoolJob jobs[12];
	g_autoptr(HhScheduler) s = three_pools(jobs, G_N_ELEMENTS(jobs));
	PoolTrack t = { .fail_pool = 0, .down_all = TRUE };
	guint never;

	g_mutex_init(&t.lock);
	t.sched = s;
	never = hh_scheduler_run_pools(s, pool_job_fn, &t);
	g_assert_true(hh_scheduler_all_down(s));
	/* The given-back job and those never started are left. */
	g_assert_cmpuint(never, >=, 1);
	g_assert_cmpuint(t.ran_in[0] + t.ran_in[1] + t.ran_in[2] + never, ==,
			 G_N_ELEMENTS(jobs) + 1);
}

static void test_idle_pool_steals(void)
{
	HhCost budget = { 1, 64 * GiB }, c = { 1, 0 };
	g_autoptr(HhScheduler) s = hh_scheduler_new(1, budget);
	PoolJob jobs[10];
	PoolTrack t = { .fail_pool = -1 };

	hh_scheduler_add_pool(s, 1, budget);
	hh_scheduler_set_steal_min(s, 3);
	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
		jobs[i].id = i;
		jobs[i].pool = 0;
		hh_scheduler_add_to(s, &jobs[i], c, 0);
	}
	g_mutex_init(&t.lock);
	t.sched = s;
	g_assert_cmpuint(hh_scheduler_run_pools(s, pool_job_fn, &t), ==, 0);
	/* Pool 1 helps while pool 0 has more than 3 waiting, no longer. */
	g_assert_cmpuint(t.ran_in[1], >=, 1);
	g_assert_cmpuint(t.ran_in[0], >=, 4);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scheduler/cpu-and-memory-budget-respected", test_budget_respected);
	g_test_add_func("/scheduler/at-most-max-jobs", test_max_jobs);
	g_test_add_func("/scheduler/oversized-job-runs-alone", test_oversized_job_runs_alone);
	g_test_add_func("/scheduler/stop-leaves-the-rest-unstarted", test_stop_leaves_rest);
	g_test_add_func("/scheduler/pools/jobs-run-where-they-belong", test_pools_affinity);
	g_test_add_func("/scheduler/pools/down-pool-hands-jobs-over", test_pool_down_moves_jobs);
	g_test_add_func("/scheduler/pools/all-down-ends-the-run", test_all_down_ends_run);
	g_test_add_func("/scheduler/pools/idle-pool-takes-from-a-long-queue", test_idle_pool_steals);
	return g_test_run();
}
