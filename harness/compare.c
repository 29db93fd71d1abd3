/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Comparing two archived runs: regressions, fixes, flaky cells, new
 * crash titles. */
#include "config.h"

#include "compare.h"
#include "escape.h"
#include "hh-error.h"
#include "result.h"
#include "util.h"

#include <json-glib/json-glib.h>
#include <string.h>

static const char *const kind_names[HH_CMP_N_KINDS] = {
	"regression", "fix", "still failing", "flaky", "changed", "new",
	"gone", "same",
};

const char *hh_cmp_kind_name(HhCmpKind k)
{
	return kind_names[k];
}

static void entry_free(gpointer p)
{
	HhCmpEntry *e = p;

	g_free(e->cell);
	g_free(e->base);
	g_free(e->new_);
	g_free(e->detail);
	g_free(e->history);
	g_free(e);
}

static void title_free(gpointer p)
{
	HhCmpTitle *t = p;

	g_free(t->title);
	g_free(t->cell);
	g_free(t);
}

void hh_comparison_free(HhComparison *c)
{
	if (!c)
		return;
	g_free(c->base_id);
	g_free(c->new_id);
	g_free(c->matrix);
	g_ptr_array_unref(c->entries);
	g_ptr_array_unref(c->new_titles);
	g_free(c);
}

char *hh_compare_default_base(HhArchive *a, const char *new_id,
			      GError **error)
{
	g_autoptr(GPtrArray) runs = hh_archive_runs(a, error);
	HhArchiveRun *n = NULL;

	if (!runs)
		return NULL;
	for (guint i = 0; i < runs->len; i++) {
		HhArchiveRun *r = runs->pdata[i];

		if (n && r->complete && g_strcmp0(r->matrix, n->matrix) == 0 &&
		    g_strcmp0(r->label, n->label) == 0)
			return g_strdup(r->id);
		if (g_str_equal(r->id, new_id))
			n = r;
	}
	if (!n)
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "the archive has no run '%s' (see 'hotplug-harness "
			    "results list')", new_id);
	else
		g_set_error(error, HH_ERROR, HH_ERROR_NOT_FOUND,
			    "no complete run of %s%s%s before %s to compare "
			    "with: give BASE", n->matrix ? n->matrix : "?",
			    n->label ? " labelled " : "",
			    n->label ? n->label : "", new_id);
	return NULL;
}

/* ---- verdict classes ---- */

typedef enum { GOOD, BAD, ERROR, MIXED } Class;

static const char *verdict_of(const HhArchiveCell *c)
{
	return c->expected_crash ? "xfail" : c->status;
}

static Class class_of(const char *v)
{
	if (g_str_equal(v, "fail") || g_str_equal(v, "crash") ||
	    g_str_equal(v, "timeout"))
		return BAD;
	if (g_str_equal(v, "error"))
		return ERROR;
	return GOOD;
}

/* The class of several verdicts (repeats): MIXED if good and bad meet. */
static Class class_of_all(const char *verdicts)
{
	g_auto(GStrv) v = g_strsplit(verdicts, " ", -1);
	gboolean good = FALSE, bad = FALSE, err = FALSE;

	for (guint i = 0; v[i]; i++) {
		Class c = class_of(v[i]);

		good |= c == GOOD;
		bad |= c == BAD;
		err |= c == ERROR;
	}
	if (good && bad)
		return MIXED;
	return bad ? BAD : err ? ERROR : GOOD;
}

typedef struct {
	GString *verdicts;
	char *detail;
} Folded;

static void folded_free(gpointer p)
{
	Folded *f = p;

	g_string_free(f->verdicts, TRUE);
	g_free(f->detail);
	g_free(f);
}

/* Base cell name -> Folded, repeats folded together. */
static GHashTable *fold(GPtrArray *cells)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      folded_free);

	for (guint i = 0; i < cells->len; i++) {
		HhArchiveCell *c = cells->pdata[i];
		char *name = hh_repeat_base(c->name);
		Folded *f = g_hash_table_lookup(h, name);

		if (!f) {
			f = g_new0(Folded, 1);
			f->verdicts = g_string_new(NULL);
			g_hash_table_insert(h, name, f);
		} else {
			g_free(name);
			g_string_append_c(f->verdicts, ' ');
		}
		g_string_append(f->verdicts, verdict_of(c));
		if (!f->detail && class_of(verdict_of(c)) != GOOD)
			f->detail = hh_text_clean_str(c->failed_step ?
						      c->failed_step : c->reason,
						      1024);
	}
	return h;
}

/* Verdicts of the cell in up to n runs of the matrix that started before
 * NEW (BASE and NEW left out), one word per run (repeats folded); past:
 * its history (hh_archive_histories), newest first, or NULL. */
static char *history_of(GPtrArray *past, const HhArchiveRun *base,
			const HhArchiveRun *nrun, guint n, gboolean *flips)
{
	GString *out = g_string_new(NULL);
	const char *run = NULL;
	GString *one = g_string_new(NULL);
	guint runs = 0;
	gboolean good = FALSE, bad = FALSE;

	for (guint i = 0; past && i <= past->len; i++) {
		HhArchiveHistory *h = i < past->len ? past->pdata[i] : NULL;

		if (h && (g_str_equal(h->run_id, nrun->id) ||
			  (base && g_str_equal(h->run_id, base->id)) ||
			  g_strcmp0(h->start, nrun->start) > 0))
			continue;
		if (run && (!h || !g_str_equal(h->run_id, run))) {
			Class c = class_of_all(one->str);

			good |= c == GOOD;
			bad |= c == BAD;
			if (c == MIXED)
				good = bad = TRUE;
			g_string_append_printf(out, "%s%s", out->len ? " " : "",
					       c == MIXED ? "flaky" : one->str);
			g_string_truncate(one, 0);
			if (++runs >= n)
				break;
		}
		if (!h)
			break;
		if (one->len)
			g_string_append_c(one, '/');
		g_string_append(one, h->expected_crash ? "xfail" : h->status);
		run = h->run_id;
	}
	g_string_free(one, TRUE);
	*flips = good && bad;
	return g_string_free(out, FALSE);
}

static HhCmpKind classify(const char *bv, const char *nv, gboolean flips)
{
	Class b = class_of_all(bv), n = class_of_all(nv);

	if (n == MIXED || (b == MIXED && n != GOOD))
		return HH_CMP_FLAKY;
	if (b == MIXED)
		return HH_CMP_FLAKY;
	if (b == GOOD && n == BAD)
		return flips ? HH_CMP_FLAKY : HH_CMP_REGRESSION;
	if (b == BAD && n == GOOD)
		return HH_CMP_FIX;
	if (b == BAD && n == BAD)
		return HH_CMP_STILL_FAILING;
	return g_str_equal(bv, nv) ? HH_CMP_SAME : HH_CMP_CHANGED;
}

static gint entry_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp((*(HhCmpEntry *const *)a)->cell,
		      (*(HhCmpEntry *const *)b)->cell);
}

static void add_entry(HhComparison *cmp, const char *cell, HhCmpKind k,
		      const Folded *b, const Folded *n, char *history)
{
	HhCmpEntry *e = g_new0(HhCmpEntry, 1);

	e->cell = g_strdup(cell);
	e->kind = k;
	e->base = b ? g_strdup(b->verdicts->str) : NULL;
	e->new_ = n ? g_strdup(n->verdicts->str) : NULL;
	e->detail = n && n->detail ? g_strdup(n->detail) : NULL;
	e->history = history;
	cmp->counts[k]++;
	g_ptr_array_add(cmp->entries, e);
}

/* Crash titles of cells that did not expect a crash. */
static GHashTable *titles_of(GPtrArray *cells)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);

	for (guint i = 0; i < cells->len; i++) {
		HhArchiveCell *c = cells->pdata[i];

		for (guint k = 0; !c->expected_crash && k < c->crashes->len; k++)
			if (!g_hash_table_contains(t, c->crashes->pdata[k]))
				g_hash_table_insert(t, g_strdup(c->crashes->pdata[k]),
						    hh_repeat_base(c->name));
	}
	return t;
}

static gint title_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp((*(HhCmpTitle *const *)a)->title,
		      (*(HhCmpTitle *const *)b)->title);
}

HhComparison *hh_compare_runs(HhArchive *a, const char *base_id,
			      const char *new_id, guint history,
			      GError **error)
{
	g_autoptr(HhArchiveRun) br = hh_archive_run(a, base_id, error);
	g_autoptr(HhArchiveRun) nr = br ? hh_archive_run(a, new_id, error) : NULL;
	g_autoptr(GPtrArray) bc = nr ? hh_archive_cells(a, base_id, error) : NULL;
	g_autoptr(GPtrArray) nc = bc ? hh_archive_cells(a, new_id, error) : NULL;
	g_autoptr(GHashTable) bf = NULL, nf = NULL, bt = NULL, nt = NULL;
	g_autoptr(GHashTable) past = NULL;
	g_autoptr(HhComparison) cmp = NULL;
	GHashTableIter it;
	gpointer k, v;

	if (!nc)
		return NULL;
	cmp = g_new0(HhComparison, 1);
	cmp->base_id = g_strdup(base_id);
	cmp->new_id = g_strdup(new_id);
	cmp->matrix = g_strdup(nr->matrix);
	cmp->entries = g_ptr_array_new_with_free_func(entry_free);
	cmp->new_titles = g_ptr_array_new_with_free_func(title_free);
	bf = fold(bc);
	nf = fold(nc);
	/* Every cell's past in one query: the runs up to NEW, as many as
	 * the history asked for plus BASE and NEW themselves. */
	past = hh_archive_histories(a, nr->matrix, nr->start, history + 2,
				    error);
	if (!past)
		return NULL;
	g_hash_table_iter_init(&it, nf);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		Folded *b = g_hash_table_lookup(bf, k);
		gboolean flips = FALSE;
		char *hist = history_of(g_hash_table_lookup(past, k), br, nr,
					history, &flips);

		add_entry(cmp, k, b ? classify(b->verdicts->str,
					       ((Folded *)v)->verdicts->str,
					       flips) : HH_CMP_NEW,
			  b, v, hist);
	}
	g_hash_table_iter_init(&it, bf);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!g_hash_table_contains(nf, k))
			add_entry(cmp, k, HH_CMP_GONE, v, NULL, NULL);
	g_ptr_array_sort(cmp->entries, entry_cmp);
	bt = titles_of(bc);
	nt = titles_of(nc);
	g_hash_table_iter_init(&it, nt);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		HhCmpTitle *t;

		if (g_hash_table_contains(bt, k))
			continue;
		t = g_new0(HhCmpTitle, 1);
		t->title = hh_text_clean_str(k, 1024);
		t->cell = g_strdup(v);
		g_ptr_array_add(cmp->new_titles, t);
	}
	g_ptr_array_sort(cmp->new_titles, title_cmp);
	return g_steal_pointer(&cmp);
}

gboolean hh_comparison_bad(const HhComparison *c)
{
	return c->counts[HH_CMP_REGRESSION] || c->new_titles->len;
}

/* ---- output ---- */

char *hh_comparison_text(const HhComparison *c)
{
	static const HhCmpKind order[] = {
		HH_CMP_REGRESSION, HH_CMP_FIX, HH_CMP_STILL_FAILING,
		HH_CMP_FLAKY, HH_CMP_CHANGED, HH_CMP_NEW, HH_CMP_GONE,
	};
	GString *o = g_string_new(NULL);

	g_string_append_printf(o, "compare %s (base) -> %s (new), matrix %s\n",
			       c->base_id, c->new_id, c->matrix ? c->matrix : "?");
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		HhCmpKind k = order[i];

		if (!c->counts[k])
			continue;
		g_string_append_printf(o, "\n%s (%u):\n", kind_names[k],
				       c->counts[k]);
		for (guint j = 0; j < c->entries->len; j++) {
			HhCmpEntry *e = c->entries->pdata[j];

			if (e->kind != k)
				continue;
			g_string_append_printf(o, "  %s: %s -> %s", e->cell,
					       e->base ? e->base : "-",
					       e->new_ ? e->new_ : "-");
			if (e->detail && k != HH_CMP_FIX)
				g_string_append_printf(o, ": %s", e->detail);
			if (k == HH_CMP_FLAKY && e->history && *e->history)
				g_string_append_printf(o, " (earlier runs: %s)",
						       e->history);
			g_string_append_c(o, '\n');
		}
	}
	if (c->new_titles->len) {
		g_string_append_printf(o, "\nnew crash titles (%u):\n",
				       c->new_titles->len);
		for (guint i = 0; i < c->new_titles->len; i++) {
			HhCmpTitle *t = c->new_titles->pdata[i];

			g_string_append_printf(o, "  %s (first in %s)\n", t->title,
					       t->cell);
		}
	}
	g_string_append_printf(o, "\n%u cell(s): %u regression(s), %u fix(es), "
			       "%u still failing, %u flaky, %u changed, %u new, "
			       "%u gone, %u same; %u new crash title(s)\n",
			       c->entries->len, c->counts[HH_CMP_REGRESSION],
			       c->counts[HH_CMP_FIX],
			       c->counts[HH_CMP_STILL_FAILING],
			       c->counts[HH_CMP_FLAKY], c->counts[HH_CMP_CHANGED],
			       c->counts[HH_CMP_NEW], c->counts[HH_CMP_GONE],
			       c->counts[HH_CMP_SAME], c->new_titles->len);
	return g_string_free(o, FALSE);
}

char *hh_comparison_json(const HhComparison *c)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) g = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	hh_json_set_string(b, "base", c->base_id);
	hh_json_set_string(b, "new", c->new_id);
	hh_json_set_string(b, "matrix", c->matrix);
	json_builder_set_member_name(b, "bad");
	json_builder_add_boolean_value(b, hh_comparison_bad(c));
	json_builder_set_member_name(b, "counts");
	json_builder_begin_object(b);
	for (guint k = 0; k < HH_CMP_N_KINDS; k++) {
		g_autofree char *key = g_strdelimit(g_strdup(kind_names[k]),
						    " ", '_');

		json_builder_set_member_name(b, key);
		json_builder_add_int_value(b, c->counts[k]);
	}
	json_builder_set_member_name(b, "new_crash_titles");
	json_builder_add_int_value(b, c->new_titles->len);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "cells");
	json_builder_begin_array(b);
	for (guint i = 0; i < c->entries->len; i++) {
		HhCmpEntry *e = c->entries->pdata[i];

		json_builder_begin_object(b);
		hh_json_set_string(b, "cell", e->cell);
		{
			g_autofree char *kind = g_strdelimit(
				g_strdup(kind_names[e->kind]), " ", '_');

			hh_json_set_string(b, "kind", kind);
		}
		hh_json_set_string(b, "base", e->base);
		hh_json_set_string(b, "new", e->new_);
		hh_json_set_string(b, "detail", e->detail);
		hh_json_set_string(b, "history", e->history);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "new_crash_titles");
	json_builder_begin_array(b);
	for (guint i = 0; i < c->new_titles->len; i++) {
		HhCmpTitle *t = c->new_titles->pdata[i];

		json_builder_begin_object(b);
		hh_json_set_string(b, "title", t->title);
		hh_json_set_string(b, "cell", t->cell);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	text = json_generator_to_data(g, NULL);
	return g_strconcat(text, "\n", NULL);
}

char *hh_comparison_junit(const HhComparison *c)
{
	GString *o = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	g_autofree char *name = g_strdup_printf("compare %s -> %s", c->base_id,
						c->new_id);
	guint failures = c->counts[HH_CMP_REGRESSION] + c->new_titles->len;

	hh_markup_printf(o, "<testsuites name=\"%s\">\n", name);
	hh_markup_printf(o, "  <testsuite name=\"%s\"", name);
	g_string_append_printf(o, " tests=\"%u\" failures=\"%u\" errors=\"0\""
			       " skipped=\"0\">\n",
			       c->entries->len + c->new_titles->len, failures);
	for (guint i = 0; i < c->entries->len; i++) {
		HhCmpEntry *e = c->entries->pdata[i];
		g_autofree char *msg = g_strdup_printf(
			"%s: %s -> %s", kind_names[e->kind],
			e->base ? e->base : "-", e->new_ ? e->new_ : "-");

		hh_markup_printf(o, "    <testcase classname=\"compare\" name=\"%s\">",
				 e->cell);
		if (e->kind == HH_CMP_REGRESSION) {
			hh_markup_printf(o, "<failure message=\"%s\" type=\"regression\">",
					 msg);
			hh_markup_append(o, e->detail ? e->detail : "");
			g_string_append(o, "</failure>");
		} else if (e->kind != HH_CMP_SAME) {
			g_string_append(o, "<system-out>");
			hh_markup_append(o, msg);
			if (e->detail) {
				g_string_append(o, ": ");
				hh_markup_append(o, e->detail);
			}
			g_string_append(o, "</system-out>");
		}
		g_string_append(o, "</testcase>\n");
	}
	for (guint i = 0; i < c->new_titles->len; i++) {
		HhCmpTitle *t = c->new_titles->pdata[i];

		hh_markup_printf(o, "    <testcase classname=\"compare.crash\" "
				 "name=\"%s\"><failure message=\"new crash "
				 "title\" type=\"new-crash\">first in %s"
				 "</failure></testcase>\n", t->title, t->cell);
	}
	g_string_append(o, "  </testsuite>\n</testsuites>\n");
	return g_string_free(o, FALSE);
}
