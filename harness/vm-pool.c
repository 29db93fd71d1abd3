/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The warm pool (vm-pool.h).  Demands are kept in the order the run gave
 * them; the pool walks them from the front and makes sure each of the
 * next `depth` cells has a guest of its group waiting.  Guests of groups
 * with no cell left are killed at once.
 *
 * Guests are started by the pool's own thread, which lives as long as
 * the pool: a child started with PR_SET_PDEATHSIG (spawn.c) is killed
 * when the thread that started it ends, and a cell's thread ends with
 * its cell.
 */
#include "config.h"

#include "vm-pool.h"
#include "spawn.h"

#include <stdio.h>

typedef struct {
	char *key;
	const HhVmConfig *cfg;
	guint remaining;	/* cells of the group not yet started */
} Demand;

typedef struct {
	char *key;
	HhVm *vm;
} Idle;

struct _HhVmPool {
	HhVmBackend *backend;
	guint depth;
	GMutex lock;
	GQueue demands;		/* Demand*, in run order */
	GQueue idle;		/* Idle* */
	guint started, taken, wasted;
	gboolean broken;	/* a start failed: stop trying */
	GCond wake;
	gboolean want_fill, quit;
	GThread *thread;
};

static void demand_free(gpointer p)
{
	Demand *d = p;

	g_free(d->key);
	g_free(d);
}

static void idle_free(Idle *i, HhVmPool *p)
{
	if (i->vm) {
		hh_vm_kill(i->vm);
		hh_vm_free(i->vm);
		p->wasted++;
	}
	g_free(i->key);
	g_free(i);
}

static void fill_locked(HhVmPool *p);

static gpointer pool_thread(gpointer data)
{
	HhVmPool *p = data;

	g_mutex_lock(&p->lock);
	while (!p->quit) {
		if (p->want_fill) {
			p->want_fill = FALSE;
			fill_locked(p);
			continue;
		}
		g_cond_wait(&p->wake, &p->lock);
	}
	g_mutex_unlock(&p->lock);
	return NULL;
}

HhVmPool *hh_vm_pool_new(HhVmBackend *b, guint depth)
{
	HhVmPool *p;

	if (!b->ops->prestart || !b->ops->adopt || !depth)
		return NULL;
	p = g_new0(HhVmPool, 1);
	p->backend = b;
	p->depth = depth;
	g_mutex_init(&p->lock);
	g_queue_init(&p->demands);
	g_queue_init(&p->idle);
	g_cond_init(&p->wake);
	p->thread = g_thread_new("hh-warm-pool", pool_thread, p);
	return p;
}

void hh_vm_pool_expect(HhVmPool *p, const char *key, const HhVmConfig *cfg,
		       guint n)
{
	Demand *d;

	if (!p || !n)
		return;
	g_mutex_lock(&p->lock);
	d = g_queue_peek_tail(&p->demands);
	if (d && g_str_equal(d->key, key)) {
		d->remaining += n;
	} else {
		d = g_new0(Demand, 1);
		d->key = g_strdup(key);
		d->cfg = cfg;
		d->remaining = n;
		g_queue_push_tail(&p->demands, d);
	}
	g_mutex_unlock(&p->lock);
}

static guint idle_count(HhVmPool *p, const char *key)
{
	guint n = 0;

	for (GList *l = p->idle.head; l; l = l->next)
		n += g_str_equal(((Idle *)l->data)->key, key);
	return n;
}

static gboolean still_wanted(HhVmPool *p, const char *key)
{
	for (GList *l = p->demands.head; l; l = l->next) {
		if (g_str_equal(((Demand *)l->data)->key, key))
			return TRUE;
	}
	return FALSE;
}

/* Under the lock. */
static void fill_locked(HhVmPool *p)
{
	GHashTable *planned = g_hash_table_new(g_str_hash, g_str_equal);
	guint counted = 0;

	/* Guests of groups that are done: nobody will take them. */
	for (GList *l = p->idle.head, *next; l; l = next) {
		Idle *i = l->data;

		next = l->next;
		if (!still_wanted(p, i->key) || !hh_vm_running(i->vm)) {
			g_queue_delete_link(&p->idle, l);
			idle_free(i, p);
		}
	}
	/* After SIGINT nothing new starts (spawn.c killed the rest). */
	for (GList *l = p->demands.head; l && counted < p->depth && !p->broken &&
	     !hh_spawn_interrupted(); l = l->next) {
		Demand *d = l->data;
		guint before = GPOINTER_TO_UINT(
			g_hash_table_lookup(planned, d->key));
		guint want = MIN(d->remaining, p->depth - counted);
		guint have = idle_count(p, d->key);

		counted += want;
		want += before;
		g_hash_table_insert(planned, d->key, GUINT_TO_POINTER(want));
		while (have < want && !p->broken) {
			g_autoptr(GError) err = NULL;
			Idle *i = g_new0(Idle, 1);

			i->vm = hh_vm_prestart(p->backend, d->cfg, &err);
			if (!i->vm) {
				fprintf(stderr, "warm pool: cannot start a guest "
					"ahead (%s); cells start their own\n",
					err->message);
				p->broken = TRUE;
				g_free(i);
				break;
			}
			i->key = g_strdup(d->key);
			g_queue_push_tail(&p->idle, i);
			p->started++;
			have++;
		}
	}
	g_hash_table_unref(planned);
}

void hh_vm_pool_fill(HhVmPool *p)
{
	if (!p)
		return;
	g_mutex_lock(&p->lock);
	p->want_fill = TRUE;
	g_cond_signal(&p->wake);
	g_mutex_unlock(&p->lock);
}

HhVm *hh_vm_pool_take(HhVmPool *p, const char *key)
{
	HhVm *vm = NULL;

	if (!p)
		return NULL;
	g_mutex_lock(&p->lock);
	for (GList *l = p->demands.head; l; l = l->next) {
		Demand *d = l->data;

		if (!g_str_equal(d->key, key) || !d->remaining)
			continue;
		if (!--d->remaining) {
			g_queue_delete_link(&p->demands, l);
			demand_free(d);
		}
		break;
	}
	for (GList *l = p->idle.head; l; l = l->next) {
		Idle *i = l->data;

		if (!g_str_equal(i->key, key))
			continue;
		/* One that died waiting (killed by hand, out of memory) is
		 * of no use. */
		if (!hh_vm_running(i->vm))
			continue;
		vm = g_steal_pointer(&i->vm);
		g_queue_delete_link(&p->idle, l);
		idle_free(i, p);
		p->taken++;
		break;
	}
	p->want_fill = TRUE;
	g_cond_signal(&p->wake);
	g_mutex_unlock(&p->lock);
	return vm;
}

void hh_vm_pool_counts(HhVmPool *p, guint *started, guint *taken,
		       guint *wasted)
{
	g_mutex_lock(&p->lock);
	*started = p->started;
	*taken = p->taken;
	*wasted = p->wasted;
	g_mutex_unlock(&p->lock);
}

void hh_vm_pool_free(HhVmPool *p)
{
	Idle *i;

	if (!p)
		return;
	g_mutex_lock(&p->lock);
	p->quit = TRUE;
	g_cond_signal(&p->wake);
	g_mutex_unlock(&p->lock);
	g_thread_join(p->thread);
	while ((i = g_queue_pop_head(&p->idle)))
		idle_free(i, p);
	g_queue_clear_full(&p->demands, demand_free);
	g_mutex_clear(&p->lock);
	g_cond_clear(&p->wake);
	g_free(p);
}
