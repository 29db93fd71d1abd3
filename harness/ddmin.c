/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ddmin: split the failing set into chunks; keep a chunk alone that fails,
 * else a complement that fails, else split finer; at single items, end
 * with a pass that tries dropping each item once more (1-minimality).
 */
#include "config.h"

#include "ddmin.h"

#include <string.h>

typedef struct {
	HhDdminTest test;
	gpointer data;
	GHashTable *seen;	/* key: indices as text -> GINT(result + 1) */
	guint max_tests;
	HhDdminStats *stats;
} Dd;

static char *key_of(const guint *idx, guint len)
{
	GString *s = g_string_sized_new(len * 4);

	for (guint i = 0; i < len; i++)
		g_string_append_printf(s, "%u,", idx[i]);
	return g_string_free(s, FALSE);
}

static gboolean fails(Dd *d, const guint *idx, guint len)
{
	g_autofree char *key = key_of(idx, len);
	gpointer hit = g_hash_table_lookup(d->seen, key);
	gboolean r;

	if (hit) {
		d->stats->cached++;
		return GPOINTER_TO_INT(hit) - 1;
	}
	if (d->max_tests && d->stats->tests >= d->max_tests) {
		d->stats->stopped = TRUE;
		return FALSE;
	}
	d->stats->tests++;
	r = d->test(idx, len, d->data);
	g_hash_table_insert(d->seen, g_steal_pointer(&key),
			    GINT_TO_POINTER(r + 1));
	return r;
}

/* cur without the items [from, to) */
static GArray *without(GArray *cur, guint from, guint to)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));

	g_array_append_vals(out, cur->data, from);
	g_array_append_vals(out, &g_array_index(cur, guint, to),
			    cur->len - to);
	return out;
}

static GArray *slice(GArray *cur, guint from, guint to)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));

	g_array_append_vals(out, &g_array_index(cur, guint, from), to - from);
	return out;
}

GArray *hh_ddmin(guint n, HhDdminTest test, gpointer data, guint max_tests,
		 HhDdminStats *stats)
{
	HhDdminStats dummy;
	Dd d = { test, data, NULL, max_tests, stats ? stats : &dummy };
	GArray *cur = g_array_new(FALSE, FALSE, sizeof(guint));
	guint chunks = 2;
	gboolean changed = TRUE;

	memset(d.stats, 0, sizeof(*d.stats));
	d.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < n; i++)
		g_array_append_val(cur, i);

	while (cur->len >= 2 && !d.stats->stopped) {
		gboolean reduced = FALSE;
		guint len = cur->len;

		chunks = MIN(chunks, len);
		/* each chunk alone, then each complement */
		for (guint pass = 0; pass < 2 && !reduced; pass++) {
			for (guint c = 0; c < chunks && !reduced; c++) {
				guint from = c * len / chunks;
				guint to = (c + 1) * len / chunks;
				GArray *cand = pass == 0 ? slice(cur, from, to) :
							   without(cur, from, to);

				if (cand->len && cand->len < len &&
				    fails(&d, (guint *)cand->data, cand->len)) {
					g_array_unref(cur);
					cur = cand;
					chunks = pass == 0 ? 2 : MAX(chunks - 1, 2);
					reduced = TRUE;
				} else {
					g_array_unref(cand);
				}
			}
		}
		if (reduced)
			continue;
		if (chunks >= len)
			break;
		chunks = MIN(chunks * 2, len);
	}
	/* 1-minimal: no single item can go */
	while (changed && !d.stats->stopped) {
		changed = FALSE;
		for (guint i = 0; i < cur->len && cur->len > 1; i++) {
			GArray *cand = without(cur, i, i + 1);

			if (fails(&d, (guint *)cand->data, cand->len)) {
				g_array_unref(cur);
				cur = cand;
				changed = TRUE;
				break;
			}
			g_array_unref(cand);
		}
	}
	g_hash_table_unref(d.seen);
	return cur;
}
