/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report model: one archived run loaded for reporting (the archive's
 * rows and each cell's result.json), and what every format asks of it.
 * report.c (ktap, junit, kcidb) and report-html.c both read it; neither
 * reads the other.
 */
#include "config.h"

#include "report-model.h"
#include "escape.h"
#include "result.h"

#include <string.h>

#define EXCERPT_MAX (64u << 10)

/* ---- loading ---- */

static void rcell_free(gpointer p)
{
	HhRepCell *c = p;

	g_clear_object(&c->parser);
	g_free(c);
}

void hh_rep_free(HhRep *r)
{
	if (!r)
		return;
	hh_archive_run_free(r->run);
	if (r->kernels)
		g_ptr_array_unref(r->kernels);
	if (r->rcells)
		g_ptr_array_unref(r->rcells);
	if (r->cells)
		g_ptr_array_unref(r->cells);
	g_free(r);
}

static void load_result(HhRepCell *c)
{
	if (c->cell->dir)
		c->parser = hh_result_load(c->cell->dir, &c->result, NULL);
}

static HhArchiveCell *made_up_cell(const char *name)
{
	HhArchiveCell *c = g_new0(HhArchiveCell, 1);
	g_auto(GStrv) parts = g_strsplit(name, "/", 3);

	c->name = g_strdup(name);
	c->kernel = g_strdup(parts[0] ? parts[0] : name);
	c->variant = g_strdup(parts[0] && parts[1] ? parts[1] : "");
	c->scenario = g_strdup(parts[0] && parts[1] && parts[2] ?
			       parts[2] : "");
	c->status = g_strdup("missing");
	c->reason = g_strdup("not run: the run did not complete");
	c->crashes = g_ptr_array_new_with_free_func(g_free);
	return c;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp((*(HhArchiveCell *const *)a)->name,
		      (*(HhArchiveCell *const *)b)->name);
}

HhRep *hh_rep_load(HhArchive *a, const char *run_id, GError **error)
{
	g_autoptr(HhRep) r = g_new0(HhRep, 1);
	g_autoptr(GHashTable) have = g_hash_table_new(g_str_hash, g_str_equal);

	r->archive = a;
	r->run = hh_archive_run(a, run_id, error);
	if (!r->run)
		return NULL;
	r->kernels = hh_archive_kernels(a, run_id, error);
	if (!r->kernels)
		return NULL;
	r->cells = hh_archive_cells(a, run_id, error);
	if (!r->cells)
		return NULL;
	for (guint i = 0; i < r->cells->len; i++)
		g_hash_table_add(have, ((HhArchiveCell *)r->cells->pdata[i])->name);
	/* Cells the run planned but never finished are reported missing. */
	for (guint i = 0; r->run->planned && r->run->planned[i]; i++) {
		const char *n = r->run->planned[i];

		if (*n && !g_hash_table_contains(have, n))
			g_ptr_array_add(r->cells, made_up_cell(n));
	}
	g_ptr_array_sort(r->cells, by_name);
	r->rcells = g_ptr_array_new_with_free_func(rcell_free);
	for (guint i = 0; i < r->cells->len; i++) {
		HhRepCell *c = g_new0(HhRepCell, 1);

		c->cell = r->cells->pdata[i];
		c->missing = g_str_equal(c->cell->status, "missing");
		if (!c->missing)
			load_result(c);
		g_ptr_array_add(r->rcells, c);
	}
	return g_steal_pointer(&r);
}

const char *hh_rep_verdict(const HhRepCell *c)
{
	if (c->missing)
		return "missing";
	if (c->cell->expected_crash)
		return "xfail";
	return c->cell->status;
}

char *hh_rep_result_str(const HhRepCell *c, const char *member)
{
	JsonNode *n;

	if (!c->result || !json_object_has_member(c->result, member))
		return NULL;
	n = json_object_get_member(c->result, member);
	if (!JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return hh_text_clean_str(json_node_get_string(n), EXCERPT_MAX);
}

static GPtrArray *objects_of(const HhRepCell *c, const char *member)
{
	GPtrArray *out = g_ptr_array_new();
	JsonNode *n;
	JsonArray *arr;

	if (!c->result || !json_object_has_member(c->result, member))
		return out;
	n = json_object_get_member(c->result, member);
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return out;
	arr = json_node_get_array(n);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonNode *e = json_array_get_element(arr, i);

		if (JSON_NODE_HOLDS_OBJECT(e))
			g_ptr_array_add(out, json_node_get_object(e));
	}
	return out;
}

GPtrArray *hh_rep_steps(const HhRepCell *c)
{
	return objects_of(c, "steps");
}

GPtrArray *hh_rep_crashes(const HhRepCell *c)
{
	return objects_of(c, "crashes");
}

/* The last n lines of text. */
static const char *tail_lines(const char *text, guint n)
{
	const char *p = text + strlen(text);

	while (p > text && n) {
		p--;
		if (*p == '\n' && p[1])
			n--;
	}
	return p == text ? p : p + 1;
}

char *hh_rep_failure_excerpt(const HhRepCell *c, gsize max)
{
	GString *out = g_string_new(NULL);
	g_autoptr(GPtrArray) crashes = hh_rep_crashes(c);
	g_autofree char *kmsg = NULL, *path = NULL;
	g_autofree char *reason = hh_text_clean_str(c->cell->reason, 4096);
	g_autofree char *step = hh_text_clean_str(c->cell->failed_step, 4096);

	g_string_append_printf(out, "%s: %s\n", hh_rep_verdict(c),
			       reason ? reason : "");
	if (step)
		g_string_append_printf(out, "first failing step: %s\n", step);
	for (guint i = 0; i < crashes->len; i++) {
		JsonObject *k = crashes->pdata[i];
		g_autofree char *title = hh_text_clean_str(
			json_object_get_string_member_with_default(k, "title", ""),
			1024);
		g_autofree char *ex = hh_text_clean_str(
			json_object_get_string_member_with_default(k, "excerpt", ""),
			max / 2);

		g_string_append_printf(out, "\n--- %s%s ---\n%s\n", title,
			json_object_has_member(k, "suppressed_by") ?
				" (suppressed)" : "", ex);
	}
	if (c->cell->dir) {
		path = g_build_filename(c->cell->dir, "kmsg.log", NULL);
		kmsg = hh_text_read_file(path, HH_REPORT_LOG_MAX);
	}
	if (kmsg) {
		g_string_append(out, "\n--- kernel log, last 60 lines ---\n");
		g_string_append(out, tail_lines(kmsg, 60));
	}
	if (out->len > max) {
		g_autofree char *s = g_string_free(out, FALSE);

		return hh_text_clean(s, strlen(s), max);
	}
	return g_string_free(out, FALSE);
}

