/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "scheduler.h"
#include "spawn.h"
#include "util.h"

#include <string.h>

typedef struct {
	gpointer job;
	HhCost cost;
	gint pool;		/* where it belongs, or HH_POOL_ANY */
	gboolean started;
} Entry;

typedef struct {
	guint max_jobs;
	HhCost budget;
	guint running;
	HhCost used;
	gboolean down;
} Pool;

struct _HhScheduler {
	GArray *pools;		/* Pool */
	GPtrArray *entries;	/* Entry*, in the order added */
	guint steal_min;
	GMutex lock;
	GCond cond;
	guint running;
	gboolean stopped;
	HhJobFunc fn;
	HhPoolJobFunc pool_fn;
	gpointer user_data;
};

typedef struct {
	HhScheduler *s;
	Entry *e;
	guint pool;
} Start;

HhScheduler *hh_scheduler_new(guint max_jobs, HhCost budget)
{
	HhScheduler *s = g_new0(HhScheduler, 1);

	s->pools = g_array_new(FALSE, TRUE, sizeof(Pool));
	s->entries = g_ptr_array_new_with_free_func(g_free);
	s->steal_min = G_MAXUINT;
	g_mutex_init(&s->lock);
	g_cond_init(&s->cond);
	hh_scheduler_add_pool(s, max_jobs, budget);
	return s;
}

void hh_scheduler_free(HhScheduler *s)
{
	if (!s)
		return;
	g_array_unref(s->pools);
	g_ptr_array_unref(s->entries);
	g_mutex_clear(&s->lock);
	g_cond_clear(&s->cond);
	g_free(s);
}

guint hh_scheduler_add_pool(HhScheduler *s, guint max_jobs, HhCost budget)
{
	Pool p = { .max_jobs = MAX(max_jobs, 1), .budget = budget };

	g_mutex_lock(&s->lock);
	g_array_append_val(s->pools, p);
	g_mutex_unlock(&s->lock);
	return s->pools->len - 1;
}

void hh_scheduler_set_steal_min(HhScheduler *s, guint steal_min)
{
	s->steal_min = steal_min;
}

void hh_scheduler_add_to(HhScheduler *s, gpointer job, HhCost cost,
			 gint pool)
{
	Entry *e = g_new0(Entry, 1);

	e->job = job;
	e->cost = cost;
	e->pool = pool;
	g_mutex_lock(&s->lock);
	g_ptr_array_add(s->entries, e);
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
}

void hh_scheduler_add_first(HhScheduler *s, gpointer job, HhCost cost)
{
	Entry *e = g_new0(Entry, 1);

	e->job = job;
	e->cost = cost;
	e->pool = HH_POOL_ANY;
	g_mutex_lock(&s->lock);
	g_ptr_array_insert(s->entries, 0, e);
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
}

void hh_scheduler_add(HhScheduler *s, gpointer job, HhCost cost)
{
	hh_scheduler_add_to(s, job, cost, HH_POOL_ANY);
}

void hh_scheduler_stop(HhScheduler *s)
{
	g_mutex_lock(&s->lock);
	s->stopped = TRUE;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
}

void hh_scheduler_pool_set_down(HhScheduler *s, guint pool, gboolean down)
{
	g_mutex_lock(&s->lock);
	if (pool < s->pools->len)
		g_array_index(s->pools, Pool, pool).down = down;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
}

static gboolean all_down_locked(HhScheduler *s)
{
	for (guint i = 0; i < s->pools->len; i++) {
		if (!g_array_index(s->pools, Pool, i).down)
			return FALSE;
	}
	return TRUE;
}

gboolean hh_scheduler_all_down(HhScheduler *s)
{
	gboolean down;

	g_mutex_lock(&s->lock);
	down = all_down_locked(s);
	g_mutex_unlock(&s->lock);
	return down;
}

static gboolean fits(const Pool *p, const HhCost *c)
{
	if (p->down)
		return FALSE;
	if (p->running == 0)
		return TRUE;
	return p->running < p->max_jobs &&
	       p->used.cpus + c->cpus <= p->budget.cpus &&
	       p->used.memory + c->memory <= p->budget.memory;
}

static gpointer worker(gpointer data)
{
	Start *st = data;
	HhScheduler *s = st->s;
	Pool *p;

	if (s->pool_fn)
		s->pool_fn(st->e->job, st->pool, s->user_data);
	else
		s->fn(st->e->job, s->user_data);
	g_mutex_lock(&s->lock);
	p = &g_array_index(s->pools, Pool, st->pool);
	p->running--;
	p->used.cpus -= st->e->cost.cpus;
	p->used.memory -= st->e->cost.memory;
	s->running--;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
	g_free(st);
	return NULL;
}

/* Waiting jobs per pool (HH_POOL_ANY not counted), with the lock held. */
static guint *waiting_per_pool(HhScheduler *s)
{
	guint *n = g_new0(guint, s->pools->len);

	for (guint i = 0; i < s->entries->len; i++) {
		Entry *e = s->entries->pdata[i];

		if (!e->started && e->pool >= 0 && (guint)e->pool < s->pools->len)
			n[e->pool]++;
	}
	return n;
}

/* May pool q start e?  Its own and unplaced jobs, a down pool's, and
 * another pool's when q has nothing of its own and that pool has more
 * than steal_min waiting. */
static gboolean may_take(HhScheduler *s, const Entry *e, guint q,
			 const guint *waiting)
{
	if (e->pool < 0 || (guint)e->pool == q ||
	    (guint)e->pool >= s->pools->len)
		return TRUE;
	if (g_array_index(s->pools, Pool, e->pool).down)
		return TRUE;
	return waiting[q] == 0 && waiting[e->pool] > s->steal_min;
}

/* Called with the lock held: the first waiting job that fits a pool that
 * may take it, or NULL; *waiting says if any job waits at all. */
static Entry *next_fitting(HhScheduler *s, guint *pool, gboolean *waiting)
{
	g_autofree guint *per_pool = waiting_per_pool(s);

	*waiting = FALSE;
	for (guint i = 0; i < s->entries->len; i++) {
		Entry *e = s->entries->pdata[i];

		if (e->started)
			continue;
		*waiting = TRUE;
		/* Its own pool first, then the others in order. */
		if (e->pool >= 0 && (guint)e->pool < s->pools->len &&
		    fits(&g_array_index(s->pools, Pool, e->pool), &e->cost)) {
			*pool = (guint)e->pool;
			return e;
		}
		for (guint q = 0; q < s->pools->len; q++) {
			if (fits(&g_array_index(s->pools, Pool, q), &e->cost) &&
			    may_take(s, e, q, per_pool)) {
				*pool = q;
				return e;
			}
		}
	}
	return NULL;
}

static guint run_all(HhScheduler *s)
{
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	guint never = 0;

	g_mutex_lock(&s->lock);
	while (TRUE) {
		gboolean waiting;
		guint pool = 0;
		Entry *e;

		if (hh_spawn_interrupted() || all_down_locked(s))
			s->stopped = TRUE;
		e = s->stopped ? NULL : next_fitting(s, &pool, &waiting);
		if (e) {
			Start *st = g_new0(Start, 1);
			Pool *p = &g_array_index(s->pools, Pool, pool);

			st->s = s;
			st->e = e;
			st->pool = pool;
			e->started = TRUE;
			p->running++;
			p->used.cpus += e->cost.cpus;
			p->used.memory += e->cost.memory;
			s->running++;
			g_ptr_array_add(threads,
					g_thread_new("hh-cell", worker, st));
			continue;
		}
		if (s->running == 0 && (s->stopped || !waiting))
			break;
		/* Wake on a finished job, or now and then to see a signal. */
		g_cond_wait_until(&s->cond, &s->lock,
				  g_get_monotonic_time() + G_TIME_SPAN_SECOND / 5);
	}
	g_mutex_unlock(&s->lock);
	for (guint i = 0; i < threads->len; i++)
		g_thread_join(threads->pdata[i]);
	for (guint i = 0; i < s->entries->len; i++)
		never += !((Entry *)s->entries->pdata[i])->started;
	return never;
}

guint hh_scheduler_run(HhScheduler *s, HhJobFunc fn, gpointer user_data)
{
	s->fn = fn;
	s->pool_fn = NULL;
	s->user_data = user_data;
	return run_all(s);
}

guint hh_scheduler_run_pools(HhScheduler *s, HhPoolJobFunc fn,
			     gpointer user_data)
{
	s->fn = NULL;
	s->pool_fn = fn;
	s->user_data = user_data;
	return run_all(s);
}
HhCost hh_host_budget(void)
{
	HhCost c = { g_get_num_processors(), 0 };
	g_autofree char *meminfo = NULL;
	const char *p;

	/* A host shared with other work can give the harness less. */
	if (g_getenv("HH_MEMORY_BUDGET") &&
	    hh_parse_size(g_getenv("HH_MEMORY_BUDGET"), &c.memory, NULL) &&
	    c.memory)
		return c;
	if (g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL) &&
	    (p = strstr(meminfo, "MemAvailable:")))
		c.memory = g_ascii_strtoull(p + strlen("MemAvailable:"), NULL,
					    10) << 10;
	if (!c.memory)
		c.memory = G_MAXUINT64 / 2;
	return c;
}
