/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "scheduler.h"
#include "spawn.h"
#include "util.h"

#include <string.h>

typedef struct {
	gpointer job;
	HhCost cost;
	gboolean started;
} Entry;

struct _HhScheduler {
	guint max_jobs;
	HhCost budget;
	GArray *entries;	/* Entry */
	GMutex lock;
	GCond cond;
	guint running;
	HhCost used;
	gboolean stopped;
	HhJobFunc fn;
	gpointer user_data;
};

typedef struct {
	HhScheduler *s;
	Entry *e;
} Start;

HhScheduler *hh_scheduler_new(guint max_jobs, HhCost budget)
{
	HhScheduler *s = g_new0(HhScheduler, 1);

	s->max_jobs = MAX(max_jobs, 1);
	s->budget = budget;
	s->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
	g_mutex_init(&s->lock);
	g_cond_init(&s->cond);
	return s;
}

void hh_scheduler_free(HhScheduler *s)
{
	if (!s)
		return;
	g_array_unref(s->entries);
	g_mutex_clear(&s->lock);
	g_cond_clear(&s->cond);
	g_free(s);
}

void hh_scheduler_add(HhScheduler *s, gpointer job, HhCost cost)
{
	Entry e = { job, cost, FALSE };

	g_array_append_val(s->entries, e);
}

void hh_scheduler_stop(HhScheduler *s)
{
	g_mutex_lock(&s->lock);
	s->stopped = TRUE;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
}

static gboolean fits(HhScheduler *s, const HhCost *c)
{
	if (s->running == 0)
		return TRUE;
	return s->running < s->max_jobs &&
	       s->used.cpus + c->cpus <= s->budget.cpus &&
	       s->used.memory + c->memory <= s->budget.memory;
}

static gpointer worker(gpointer data)
{
	Start *st = data;
	HhScheduler *s = st->s;

	s->fn(st->e->job, s->user_data);
	g_mutex_lock(&s->lock);
	s->running--;
	s->used.cpus -= st->e->cost.cpus;
	s->used.memory -= st->e->cost.memory;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->lock);
	g_free(st);
	return NULL;
}

/* Called with the lock held: the first waiting job that fits, or NULL. */
static Entry *next_fitting(HhScheduler *s, gboolean *waiting)
{
	*waiting = FALSE;
	for (guint i = 0; i < s->entries->len; i++) {
		Entry *e = &g_array_index(s->entries, Entry, i);

		if (e->started)
			continue;
		*waiting = TRUE;
		if (fits(s, &e->cost))
			return e;
	}
	return NULL;
}

guint hh_scheduler_run(HhScheduler *s, HhJobFunc fn, gpointer user_data)
{
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	guint never = 0;

	s->fn = fn;
	s->user_data = user_data;
	g_mutex_lock(&s->lock);
	while (TRUE) {
		gboolean waiting;
		Entry *e;

		if (hh_spawn_interrupted())
			s->stopped = TRUE;
		e = s->stopped ? NULL : next_fitting(s, &waiting);
		if (e) {
			Start *st = g_new0(Start, 1);

			st->s = s;
			st->e = e;
			e->started = TRUE;
			s->running++;
			s->used.cpus += e->cost.cpus;
			s->used.memory += e->cost.memory;
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
		never += !g_array_index(s->entries, Entry, i).started;
	return never;
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
