/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTML report: a static directory, no script, no external files.
 *   index.html     the run, its kernels and one heat map per kernel
 *                  (scenarios x variants, coloured by verdict)
 *   history.html   each cell's verdicts across archived runs of the matrix
 *   cells/K/V/S.html  one page per cell: verdict, timeline (inline SVG),
 *                  steps, crash reports, the command that re-runs it,
 *                  the kernel log (step markers, assertion matches and
 *                  crash excerpts highlighted) and the agent transcript
 * Everything from a guest is cleaned (escape.h) and escaped.
 */
#include "config.h"

#include "report-html.h"
#include "escape.h"
#include "hh-error.h"
#include "result.h"
#include "util.h"

#include <string.h>

#define HISTORY_RUNS 20
#define TIMELINE_WIDTH 880

static const char style[] =
	"<style>\n"
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\n"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}\n"
	"th{background:#f3f3f3;text-align:left}\n"
	"table.heat td.v{width:7em;text-align:center;padding:0}\n"
	"table.heat td.v a{display:block;padding:6px 2px;color:#fff;text-decoration:none}\n"
	".pass{background:#2e7d32;color:#fff}.fail{background:#e65100;color:#fff}\n"
	".crash{background:#b71c1c;color:#fff}.timeout{background:#6a1b9a;color:#fff}\n"
	".error{background:#37474f;color:#fff}.skip{background:#9e9e9e;color:#fff}\n"
	".xfail{background:#00838f;color:#fff}.missing{background:#fff;color:#555;outline:1px dashed #999}\n"
	".none{background:#fafafa}\n"
	".flaky{background:repeating-linear-gradient(45deg,#2e7d32 0 6px,#e65100 6px 12px)}\n"
	"table.heat td.flaky a{display:inline-block;padding:6px 4px}\n"
	"span.rep{display:inline-block;min-width:1.2em;margin:1px;padding:0 2px}\n"
	"pre{background:#f8f8f8;border:1px solid #ddd;padding:6px;overflow-x:auto;font-size:12px}\n"
	"pre.log span{display:block;white-space:pre-wrap}\n"
	"pre.log .mark{background:#e3f2fd;font-weight:bold}\n"
	"pre.log .match{background:#fff59d}\n"
	"pre.log .crashline{background:#ffcdd2}\n"
	".badge{padding:2px 8px;border-radius:3px}\n"
	"td.h span{display:inline-block;width:14px;height:14px;margin:0 1px}\n"
	"</style>\n";

static void page_begin(GString *o, const char *title)
{
	/* The policy forbids every script, even one an escaping bug let
	 * through from a guest: the page may only use its own styles. */
	g_string_append(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			   "<meta charset=\"utf-8\"/>\n"
			   "<meta http-equiv=\"Content-Security-Policy\" "
			   "content=\"default-src 'none'; "
			   "style-src 'unsafe-inline'\"/>\n<title>");
	hh_markup_append(o, title);
	g_string_append(o, "</title>\n");
	g_string_append(o, style);
	g_string_append(o, "</head>\n<body>\n");
}

static void page_end(GString *o)
{
	g_string_append(o, "</body>\n</html>\n");
}

/* A file-name component: [A-Za-z0-9._+~-] only, never "." or "..". */
static char *safe_component(const char *s)
{
	GString *out = g_string_new(NULL);

	for (const char *p = s ? s : ""; *p && out->len < 200; p++)
		g_string_append_c(out, g_ascii_isalnum(*p) || strchr("._+~-", *p) ?
					       *p : '_');
	if (!out->len || out->str[0] == '.')
		g_string_prepend_c(out, '_');
	return g_string_free(out, FALSE);
}

/* cells/K/V/S.html, relative to the report directory. */
static char *cell_page(const HhArchiveCell *c)
{
	g_autofree char *k = safe_component(c->kernel);
	g_autofree char *v = safe_component(c->variant);
	g_autofree char *leaf = safe_component(strrchr(c->name, '/') ?
					       strrchr(c->name, '/') + 1 :
					       c->name);

	return g_strdup_printf("cells/%s/%s/%s.html", k, v, leaf);
}

static const char *history_verdict(const HhArchiveHistory *h)
{
	return h->expected_crash ? "xfail" : h->status;
}

/* ---- index.html ---- */

static gint str_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted distinct values of a cell field, for one kernel. */
static GPtrArray *axis(HhRep *r, const char *kernel, gboolean variants)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < r->cells->len; i++) {
		HhArchiveCell *c = r->cells->pdata[i];
		const char *v = variants ? c->variant : c->scenario;
		g_autofree char *b = NULL;

		if (g_strcmp0(c->kernel, kernel) || !v)
			continue;
		if (!variants) {
			b = hh_repeat_base(v);
			v = b;
		}
		if (!g_hash_table_contains(seen, v)) {
			char *keep = g_strdup(v);

			g_hash_table_add(seen, keep);
			g_ptr_array_add(out, keep);
		}
	}
	g_ptr_array_set_free_func(out, g_free);
	g_ptr_array_sort(out, str_cmp);
	return out;
}

static void heat_map(GString *o, HhRep *r, const char *kernel)
{
	g_autoptr(GPtrArray) vars = axis(r, kernel, TRUE);
	g_autoptr(GPtrArray) scens = axis(r, kernel, FALSE);

	hh_markup_printf(o, "<h2 id=\"kernel-%s\">Kernel %s</h2>\n", kernel,
			 kernel);
	g_string_append(o, "<table class=\"heat\">\n<tr><th>scenario \\ variant</th>");
	for (guint v = 0; v < vars->len; v++)
		hh_markup_printf(o, "<th>%s</th>", (char *)vars->pdata[v]);
	g_string_append(o, "</tr>\n");
	for (guint s = 0; s < scens->len; s++) {
		hh_markup_printf(o, "<tr><th>%s</th>", (char *)scens->pdata[s]);
		for (guint v = 0; v < vars->len; v++) {
			GString *links = g_string_new(NULL);
			const char *first = NULL;
			guint n = 0;
			gboolean mixed = FALSE;

			for (guint i = 0; i < r->rcells->len; i++) {
				HhRepCell *c = r->rcells->pdata[i];
				g_autofree char *sb = hh_repeat_base(c->cell->scenario ?
								c->cell->scenario : "");
				g_autofree char *href = NULL;
				const char *verdict = hh_rep_verdict(c);

				if (g_strcmp0(c->cell->kernel, kernel) ||
				    g_strcmp0(c->cell->variant, vars->pdata[v]) ||
				    g_strcmp0(sb, scens->pdata[s]))
					continue;
				href = cell_page(c->cell);
				if (first && !g_str_equal(first, verdict))
					mixed = TRUE;
				if (!first)
					first = verdict;
				n++;
				hh_markup_printf(links,
					"<a class=\"%s\" href=\"%s\" title=\"%s: %s\">%s</a>",
					verdict, href, c->cell->name, verdict,
					verdict);
			}
			if (n) {
				hh_markup_printf(o, "<td class=\"v %s\">",
						 mixed ? "flaky" : first);
				g_string_append(o, links->str);
				g_string_append(o, "</td>");
			} else {
				g_string_append(o, "<td class=\"v none\"></td>");
			}
			g_string_free(links, TRUE);
		}
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n");
}

static void summary(GString *o, HhRep *r)
{
	static const char *const kinds[] = { "pass", "fail", "crash", "timeout",
					     "error", "skip", "xfail",
					     "missing" };
	guint n[G_N_ELEMENTS(kinds)] = { 0 };

	for (guint i = 0; i < r->rcells->len; i++) {
		const char *v = hh_rep_verdict(r->rcells->pdata[i]);

		for (guint k = 0; k < G_N_ELEMENTS(kinds); k++)
			if (g_str_equal(v, kinds[k]))
				n[k]++;
	}
	g_string_append(o, "<p id=\"counts\">");
	hh_markup_printf(o, "%u cells:", r->rcells->len);
	for (guint k = 0; k < G_N_ELEMENTS(kinds); k++)
		if (n[k])
			hh_markup_printf(o, " <span class=\"badge %s\">%u %s</span>",
					 kinds[k], n[k], kinds[k]);
	g_string_append(o, "</p>\n");
}

/* Fill colours of the verdict classes, for SVG. */
static const char *verdict_fill(const char *v)
{
	static const struct {
		const char *v, *fill;
	} fills[] = {
		{ "pass", "#2e7d32" }, { "fail", "#e65100" },
		{ "crash", "#b71c1c" }, { "timeout", "#6a1b9a" },
		{ "error", "#37474f" }, { "skip", "#9e9e9e" },
		{ "xfail", "#00838f" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(fills); i++) {
		if (g_str_equal(v, fills[i].v))
			return fills[i].fill;
	}
	return "#bbbbbb";
}

#define HOSTS_WIDTH 900
#define HOSTS_LANE 14

typedef struct {
	HhRepCell *c;
	guint host;
	guint lane;
} Bar;

static gint bar_by_start(gconstpointer a, gconstpointer b)
{
	const Bar *x = a, *y = b;

	return x->c->cell->start_ms < y->c->cell->start_ms ? -1 :
	       x->c->cell->start_ms > y->c->cell->start_ms;
}

static gboolean has_time(const HhRepCell *c)
{
	return !c->missing && c->cell->host && c->cell->start_ms > 0;
}

/* Per host: cells, failures and tries lost with a host. */
static void hosts_table(GString *o, HhRep *r, GPtrArray *hosts)
{
	g_string_append(o, "<h2>Hosts</h2>\n<table id=\"hosts\">\n<tr><th>host"
			   "</th><th>cells</th><th>failed</th><th>tries lost "
			   "with a host</th></tr>\n");
	for (guint h = 0; h < hosts->len; h++) {
		guint n = 0, bad = 0, lost = 0;

		for (guint i = 0; i < r->rcells->len; i++) {
			HhRepCell *c = r->rcells->pdata[i];
			const char *v = hh_rep_verdict(c);

			if (!has_time(c) || strcmp(c->cell->host, hosts->pdata[h]))
				continue;
			n++;
			bad += !g_str_equal(v, "pass") && !g_str_equal(v, "skip") &&
			       !g_str_equal(v, "xfail");
			lost += c->cell->lost_attempts;
		}
		hh_markup_printf(o, "<tr><td>%s</td>", (char *)hosts->pdata[h]);
		g_string_append_printf(o, "<td>%u</td><td>%u</td><td>%u</td></tr>\n",
				       n, bad, lost);
	}
	g_string_append(o, "</table>\n");
}

/*
 * Which host ran what, and when: a table, and a timeline with a band per
 * host, each cell a bar from its start for its duration (cells that ran at
 * once on a host on lanes of their own), linked to its page.
 */
static void hosts_section(GString *o, HhRep *r)
{
	g_autoptr(GPtrArray) hosts = g_ptr_array_new();
	g_autoptr(GHashTable) row = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GArray) bars = g_array_new(FALSE, TRUE, sizeof(Bar));
	g_autoptr(GPtrArray) ends = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_array_unref);
	g_autofree guint *base = NULL;
	gint64 t0 = G_MAXINT64, t1 = 0;
	double scale;
	guint height;

	for (guint i = 0; i < r->rcells->len; i++) {
		HhRepCell *c = r->rcells->pdata[i];
		Bar bar = { c, 0, 0 };

		if (!has_time(c))
			continue;
		if (!g_hash_table_contains(row, c->cell->host)) {
			g_hash_table_insert(row, c->cell->host,
					    GUINT_TO_POINTER(hosts->len));
			g_ptr_array_add(hosts, c->cell->host);
			g_ptr_array_add(ends, g_array_new(FALSE, TRUE,
							  sizeof(gint64)));
		}
		bar.host = GPOINTER_TO_UINT(g_hash_table_lookup(row,
								c->cell->host));
		g_array_append_val(bars, bar);
		t0 = MIN(t0, c->cell->start_ms);
		t1 = MAX(t1, c->cell->start_ms + c->cell->total_ms);
	}
	if (!hosts->len || t1 <= t0)
		return;
	/* Hosts in name order, whatever finished first. */
	g_ptr_array_sort(hosts, str_cmp);
	for (guint h = 0; h < hosts->len; h++)
		g_hash_table_insert(row, hosts->pdata[h], GUINT_TO_POINTER(h));
	for (guint i = 0; i < bars->len; i++) {
		Bar *bar = &g_array_index(bars, Bar, i);

		bar->host = GPOINTER_TO_UINT(g_hash_table_lookup(
			row, bar->c->cell->host));
	}
	hosts_table(o, r, hosts);
	g_array_sort(bars, bar_by_start);
	for (guint i = 0; i < bars->len; i++) {
		Bar *bar = &g_array_index(bars, Bar, i);
		GArray *e = ends->pdata[bar->host];
		gint64 end = bar->c->cell->start_ms + bar->c->cell->total_ms;

		for (bar->lane = 0; bar->lane < e->len; bar->lane++) {
			if (g_array_index(e, gint64, bar->lane) <=
			    bar->c->cell->start_ms)
				break;
		}
		if (bar->lane == e->len)
			g_array_append_val(e, end);
		else
			g_array_index(e, gint64, bar->lane) = end;
	}
	base = g_new0(guint, hosts->len + 1);
	for (guint h = 0; h < hosts->len; h++)
		base[h + 1] = base[h] + ((GArray *)ends->pdata[h])->len + 1;
	height = base[hosts->len] * HOSTS_LANE;
	scale = (double)HOSTS_WIDTH / (double)(t1 - t0);
	g_string_append_printf(o, "<svg id=\"host-timeline\" xmlns=\"http://www.w3.org/2000/svg\""
			       " width=\"%d\" height=\"%u\" role=\"img\" style=\"margin-top:8px\">\n",
			       HOSTS_WIDTH + 140, height + 24);
	for (guint h = 0; h < hosts->len; h++) {
		g_autofree char *label = hh_text_clean_str(hosts->pdata[h], 40);

		g_string_append_printf(o, "<text x=\"0\" y=\"%u\" font-size=\"11\">",
				       base[h] * HOSTS_LANE + 11);
		hh_markup_printf(o, "%s", label);
		g_string_append(o, "</text>\n");
	}
	for (guint i = 0; i < bars->len; i++) {
		Bar *bar = &g_array_index(bars, Bar, i);
		const HhArchiveCell *c = bar->c->cell;
		g_autofree char *page = cell_page(c);

		hh_markup_printf(o, "<a href=\"%s\">", page);
		g_string_append_printf(o, "<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\""
				       " height=\"%u\" fill=\"%s\" stroke=\"#fff\">",
				       130 + (c->start_ms - t0) * scale,
				       (base[bar->host] + bar->lane) * HOSTS_LANE,
				       MAX(c->total_ms * scale, 1.0),
				       HOSTS_LANE - 1,
				       verdict_fill(hh_rep_verdict(bar->c)));
		hh_markup_printf(o, "<title>%s: %s, ", c->name,
				 hh_rep_verdict(bar->c));
		g_string_append_printf(o, "%.1f s from +%.1f s</title></rect></a>\n",
				       c->total_ms / 1000.0,
				       (c->start_ms - t0) / 1000.0);
	}
	g_string_append_printf(o, "<text x=\"130\" y=\"%u\" font-size=\"11\">0 s"
			       "</text><text x=\"%d\" y=\"%u\" font-size=\"11\" "
			       "text-anchor=\"end\">%.1f s</text>\n</svg>\n",
			       height + 16, HOSTS_WIDTH + 130, height + 16,
			       (t1 - t0) / 1000.0);
}

static char *index_page(HhRep *r)
{
	GString *o = g_string_new(NULL);
	g_autofree char *title = g_strdup_printf("hotplug-harness run %s",
						 r->run->id);

	page_begin(o, title);
	hh_markup_printf(o, "<h1>%s</h1>\n", title);
	g_string_append(o, "<table>\n");
	hh_markup_printf(o, "<tr><th>matrix</th><td>%s</td></tr>\n",
			 r->run->matrix ? r->run->matrix : "");
	hh_markup_printf(o, "<tr><th>start</th><td>%s</td></tr>\n",
			 r->run->start ? r->run->start : "");
	hh_markup_printf(o, "<tr><th>end</th><td>%s</td></tr>\n",
			 r->run->end ? r->run->end : "(not ended)");
	hh_markup_printf(o, "<tr><th>state</th><td>%s</td></tr>\n",
			 r->run->complete ? "complete" : "incomplete");
	hh_markup_printf(o, "<tr><th>host</th><td>%s</td></tr>\n",
			 r->run->host ? r->run->host : "");
	hh_markup_printf(o, "<tr><th>harness</th><td>%s</td></tr>\n",
			 r->run->version ? r->run->version : "");
	if (r->run->label)
		hh_markup_printf(o, "<tr><th>label</th><td>%s</td></tr>\n",
				 r->run->label);
	g_string_append(o, "</table>\n");
	summary(o, r);
	g_string_append(o, "<p><a href=\"history.html\">History of every cell "
			   "across archived runs</a></p>\n");
	g_string_append(o, "<h2>Kernels</h2>\n<table>\n<tr><th>name</th>"
			   "<th>release</th><th>source</th><th>patches</th>"
			   "<th>series SHA-256</th><th>config SHA-256</th></tr>\n");
	for (guint k = 0; k < r->kernels->len; k++) {
		HhArchiveKernel *ker = r->kernels->pdata[k];

		g_autofree char *sh = g_strndup(ker->series_hash ?
						ker->series_hash : "-", 16);
		g_autofree char *ch = g_strndup(ker->config_hash ?
						ker->config_hash : "-", 16);

		hh_markup_printf(o, "<tr><td>%s</td><td>%s</td><td>%s</td>"
				 "<td>%u</td><td title=\"%s\">%s</td>"
				 "<td title=\"%s\">%s</td></tr>\n",
				 ker->name, ker->release ? ker->release : "",
				 ker->identity ? ker->identity : "",
				 ker->patches,
				 ker->series_hash ? ker->series_hash : "", sh,
				 ker->config_hash ? ker->config_hash : "", ch);
	}
	g_string_append(o, "</table>\n");
	for (guint k = 0; k < r->kernels->len; k++)
		heat_map(o, r, ((HhArchiveKernel *)r->kernels->pdata[k])->name);
	hosts_section(o, r);
	g_string_append(o, "<p>Colours: <span class=\"badge pass\">pass</span> "
			   "<span class=\"badge fail\">fail</span> "
			   "<span class=\"badge crash\">crash</span> "
			   "<span class=\"badge timeout\">timeout</span> "
			   "<span class=\"badge error\">error</span> "
			   "<span class=\"badge skip\">skip</span> "
			   "<span class=\"badge xfail\">expected crash</span> "
			   "<span class=\"badge missing\">not run</span></p>\n");
	page_end(o);
	return g_string_free(o, FALSE);
}

/* ---- history ---- */

/* Runs (newest first) and, per base cell name, verdicts by run id. */
typedef struct {
	GPtrArray *runs;	/* run ids, newest first */
	GHashTable *starts;	/* run id -> start */
	GHashTable *cells;	/* base name -> (run id -> "v1 v2 ...") */
	GPtrArray *names;	/* base names, sorted */
} History;

static void history_free(History *h)
{
	g_ptr_array_unref(h->runs);
	g_hash_table_unref(h->starts);
	g_hash_table_unref(h->cells);
	g_ptr_array_unref(h->names);
}

static gint newest_first(gconstpointer a, gconstpointer b, gpointer starts)
{
	const char *ra = *(const char *const *)a, *rb = *(const char *const *)b;
	int c = g_strcmp0(g_hash_table_lookup(starts, rb),
			  g_hash_table_lookup(starts, ra));

	return c ? c : strcmp(rb, ra);
}

static void history_load(HhRep *r, History *h)
{
	/* One query for every cell (not one per cell): the newest runs of
	 * the matrix, of which those with any of this run's cells are kept. */
	g_autoptr(GHashTable) all = hh_archive_histories(
		r->archive, r->run->matrix, NULL, HISTORY_RUNS * 4, NULL);

	h->runs = g_ptr_array_new_with_free_func(g_free);
	h->starts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	h->cells = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 (GDestroyNotify)g_hash_table_unref);
	h->names = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < r->cells->len; i++) {
		HhArchiveCell *c = r->cells->pdata[i];
		g_autofree char *base = hh_repeat_base(c->name);
		GPtrArray *past = all ? g_hash_table_lookup(all, base) : NULL;
		GHashTable *by_run;

		if (g_hash_table_contains(h->cells, base))
			continue;
		by_run = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       g_free);
		g_hash_table_insert(h->cells, g_strdup(base), by_run);
		g_ptr_array_add(h->names, g_strdup(base));
		for (guint k = 0; past && k < past->len; k++) {
			HhArchiveHistory *e = past->pdata[k];
			char *prev = g_hash_table_lookup(by_run, e->run_id);

			g_hash_table_replace(by_run, g_strdup(e->run_id),
					     prev ? g_strdup_printf("%s %s", prev,
								   history_verdict(e)) :
						    g_strdup(history_verdict(e)));
			if (!g_hash_table_contains(h->starts, e->run_id)) {
				g_hash_table_insert(h->starts, g_strdup(e->run_id),
						    g_strdup(e->start ? e->start : ""));
				g_ptr_array_add(h->runs, g_strdup(e->run_id));
			}
		}
	}
	g_ptr_array_sort_with_data(h->runs, newest_first, h->starts);
	if (h->runs->len > HISTORY_RUNS)
		g_ptr_array_set_size(h->runs, HISTORY_RUNS);
	g_ptr_array_sort(h->names, str_cmp);
}

/* One square per run: the verdict, or "flaky" where repeats differ. */
static void history_row(GString *o, History *h, const char *base)
{
	GHashTable *by_run = g_hash_table_lookup(h->cells, base);

	g_string_append(o, "<td class=\"h\">");
	for (guint k = 0; k < h->runs->len; k++) {
		const char *run = h->runs->pdata[k];
		const char *vs = by_run ? g_hash_table_lookup(by_run, run) : NULL;
		g_auto(GStrv) parts = vs ? g_strsplit(vs, " ", -1) : NULL;
		const char *cls = parts ? parts[0] : "none";

		for (guint i = 1; parts && parts[i]; i++)
			if (!g_str_equal(parts[i], parts[0]))
				cls = "flaky";
		hh_markup_printf(o, "<span class=\"%s\" title=\"%s: %s\"></span>",
				 g_str_equal(cls, "flaky") ? "fail" : cls, run,
				 vs ? vs : "not in this run");
	}
	g_string_append(o, "</td>");
}

static char *history_page(HhRep *r, History *h)
{
	GString *o = g_string_new(NULL);

	page_begin(o, "hotplug-harness history");
	g_string_append(o, "<h1>History</h1>\n");
	hh_markup_printf(o, "<p>Verdicts of the cells of run %s in the last %u "
			 "archived runs of %s, newest on the left (hover for "
			 "the run). <a href=\"index.html\">Back to the run</a>"
			 "</p>\n", r->run->id, h->runs->len,
			 r->run->matrix ? r->run->matrix : "its matrix");
	g_string_append(o, "<table>\n<tr><th>cell</th><th>runs</th></tr>\n");
	for (guint i = 0; i < h->names->len; i++) {
		hh_markup_printf(o, "<tr><td>%s</td>", (char *)h->names->pdata[i]);
		history_row(o, h, h->names->pdata[i]);
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n");
	page_end(o);
	return g_string_free(o, FALSE);
}

/* ---- cell pages ---- */

static gint64 int_member(JsonObject *o, const char *name)
{
	return o ? json_object_get_int_member_with_default(o, name, 0) : 0;
}

typedef struct {
	char *label;	/* on the bar, if it fits */
	char *text;	/* its tooltip */
	gint64 ms;
	const char *color;
} Segment;

static void segment_clear(gpointer p)
{
	Segment *s = p;

	g_free(s->label);
	g_free(s->text);
}

static void add_segment(GArray *segs, const char *label, char *text,
			gint64 ms, const char *color)
{
	Segment s = { g_strdup(label), text, ms, color };

	g_array_append_val(segs, s);
}

static const char *phase_color(const char *name)
{
	static const struct {
		const char *name, *color;
	} colors[] = {
		{ "setup", "#90a4ae" },	   { "start", "#0d47a1" },
		{ "restore", "#1565c0" },  { "boot", "#1565c0" },
		{ "verify", "#42a5f5" },   { "requirements", "#26a69a" },
		{ "shutdown", "#78909c" }, { "analyse", "#8d6e63" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(colors); i++) {
		if (g_str_equal(name, colors[i].name))
			return colors[i].color;
	}
	return "#bdbdbd";
}

static void add_step_segments(GArray *segs, GPtrArray *steps)
{
	for (guint i = 0; i < steps->len; i++) {
		JsonObject *s = steps->pdata[i];
		const char *st = json_object_get_string_member_with_default(
			s, "status", "error");
		g_autofree char *t = hh_text_clean_str(
			json_object_get_string_member_with_default(s, "step", ""),
			300);
		g_autofree char *label = g_strdup_printf("step %u", i);

		add_segment(segs, label, g_strdup_printf("step %u: %s", i, t),
			    int_member(s, "ms"),
			    g_str_equal(st, "pass") ? "#43a047" :
			    g_str_equal(st, "fail") ? "#e65100" : "#b71c1c");
	}
}

/* The cell's phases in order (result.json "phases"; older results have
 * only boot, the steps and shutdown), the steps drawn one by one. */
static GArray *timeline_segments(HhRepCell *c, GPtrArray *steps)
{
	GArray *segs = g_array_new(FALSE, FALSE, sizeof(Segment));
	JsonObject *d = c->result && json_object_has_member(c->result, "durations_ms") ?
		json_object_get_object_member(c->result, "durations_ms") : NULL;
	JsonNode *pn = c->result ? json_object_get_member(c->result, "phases") :
				   NULL;
	JsonArray *phases = pn && JSON_NODE_HOLDS_ARRAY(pn) ?
			    json_node_get_array(pn) : NULL;

	g_array_set_clear_func(segs, segment_clear);
	if (!phases) {
		add_segment(segs, "boot", g_strdup("boot"),
			    int_member(d, "boot"), "#1565c0");
		add_step_segments(segs, steps);
		add_segment(segs, "shutdown", g_strdup("shutdown"),
			    int_member(d, "shutdown"), "#78909c");
		return segs;
	}
	for (guint i = 0; i < json_array_get_length(phases); i++) {
		JsonNode *n = json_array_get_element(phases, i);
		JsonObject *ph = JSON_NODE_HOLDS_OBJECT(n) ?
				 json_node_get_object(n) : NULL;
		g_autofree char *name = NULL;

		if (!ph)
			continue;
		name = hh_text_clean_str(
			json_object_get_string_member_with_default(ph, "name", "?"),
			40);
		if (g_str_equal(name, "steps") && steps->len) {
			add_step_segments(segs, steps);
			continue;
		}
		add_segment(segs, name, g_strdup(name), int_member(ph, "ms"),
			    phase_color(name));
	}
	return segs;
}

static void timeline(GString *o, HhRepCell *c, GPtrArray *steps)
{
	g_autoptr(GArray) segs = timeline_segments(c, steps);
	JsonObject *d = c->result && json_object_has_member(c->result, "durations_ms") ?
		json_object_get_object_member(c->result, "durations_ms") : NULL;
	gint64 total = 0, x = 0;
	double scale;

	for (guint i = 0; i < segs->len; i++)
		total += MAX(g_array_index(segs, Segment, i).ms, 0);
	total = MAX(total, int_member(d, "total"));
	if (total <= 0)
		return;
	scale = (double)TIMELINE_WIDTH / (double)total;
	g_string_append_printf(o, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\""
			       " width=\"%d\" height=\"56\" role=\"img\">\n",
			       TIMELINE_WIDTH + 20);
	for (guint i = 0; i < segs->len; i++) {
		const Segment *sg = &g_array_index(segs, Segment, i);
		gint64 ms = MAX(sg->ms, 0);
		double w = MAX(ms * scale, 1.0), x0 = 10 + x * scale;

		g_string_append_printf(o, "<rect x=\"%.1f\" y=\"8\" width=\"%.1f\""
				       " height=\"26\" fill=\"%s\" stroke=\"#fff\">",
				       x0, w, sg->color);
		hh_markup_printf(o, "<title>%s: ", sg->text);
		g_string_append_printf(o, "%" G_GINT64_FORMAT " ms</title></rect>\n", ms);
		if (w > 7.0 * strlen(sg->label) + 6) {
			g_string_append_printf(o, "<text x=\"%.1f\" y=\"26\" font-size=\"11\""
					       " fill=\"#fff\">", x0 + 3);
			hh_markup_printf(o, "%s", sg->label);
			g_string_append(o, "</text>\n");
		}
		x += ms;
	}
	g_string_append_printf(o, "<text x=\"10\" y=\"50\" font-size=\"11\">0 ms</text>"
			       "<text x=\"%d\" y=\"50\" font-size=\"11\" text-anchor=\"end\">"
			       "%" G_GINT64_FORMAT " ms</text>\n</svg>\n",
			       TIMELINE_WIDTH + 10, total);
}

/* The message of a kmsg.log line "<P>[ T] MESSAGE". */
static const char *message_of(const char *line)
{
	const char *p = strstr(line, "] ");

	return line[0] == '<' && p ? p + 2 : line;
}

static void kernel_log(GString *o, HhRepCell *c, GPtrArray *steps,
		       GPtrArray *crashes)
{
	g_autofree char *path = g_build_filename(c->cell->dir, "kmsg.log", NULL);
	g_autofree char *text = hh_text_read_file(path, HH_REPORT_LOG_MAX);
	g_autoptr(GHashTable) matches = g_hash_table_new_full(g_str_hash,
							     g_str_equal,
							     g_free, NULL);
	g_autoptr(GHashTable) crashy = g_hash_table_new_full(g_str_hash,
							    g_str_equal,
							    g_free, NULL);
	g_auto(GStrv) lines = NULL;

	g_string_append(o, "<h2>Kernel log</h2>\n");
	if (!text) {
		g_string_append(o, "<p>(no kmsg.log)</p>\n");
		return;
	}
	for (guint i = 0; i < steps->len; i++) {
		JsonObject *s = steps->pdata[i];
		JsonArray *m = json_object_has_member(s, "matches") &&
			JSON_NODE_HOLDS_ARRAY(json_object_get_member(s, "matches")) ?
			json_object_get_array_member(s, "matches") : NULL;

		for (guint k = 0; m && k < json_array_get_length(m); k++) {
			JsonNode *n = json_array_get_element(m, k);

			if (JSON_NODE_HOLDS_VALUE(n) &&
			    json_node_get_value_type(n) == G_TYPE_STRING)
				g_hash_table_add(matches, hh_text_clean_str(
					json_node_get_string(n), 4096));
		}
	}
	for (guint i = 0; i < crashes->len; i++) {
		g_autofree char *ex = hh_text_clean_str(
			json_object_get_string_member_with_default(
				crashes->pdata[i], "excerpt", ""), 1 << 20);
		g_auto(GStrv) el = g_strsplit(ex, "\n", -1);

		for (guint k = 0; el[k]; k++)
			if (*el[k])
				g_hash_table_add(crashy, g_strdup(message_of(el[k])));
	}
	g_string_append(o, "<p>Highlighted: <span class=\"badge\" "
			   "style=\"background:#e3f2fd\">step markers</span> "
			   "<span class=\"badge\" style=\"background:#fff59d\">"
			   "assertion matches</span> <span class=\"badge\" "
			   "style=\"background:#ffcdd2\">crash excerpts</span></p>\n");
	g_string_append(o, "<pre class=\"log\" id=\"kmsg\">");
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		const char *msg = message_of(lines[i]);
		const char *cls = g_str_has_prefix(msg, "hh-mark: ") ? "mark" :
				  g_hash_table_contains(crashy, msg) ? "crashline" :
				  g_hash_table_contains(matches, msg) ? "match" : NULL;

		if (!lines[i + 1] && !*lines[i])
			break;
		if (cls && g_str_has_prefix(msg, "hh-mark: step ") &&
		    strstr(msg, " begin: "))
			g_string_append_printf(o, "<span class=\"%s\" id=\"step-%u\">",
					       cls, (guint)atoi(msg + 14));
		else if (cls)
			g_string_append_printf(o, "<span class=\"%s\">", cls);
		else
			g_string_append(o, "<span>");
		hh_markup_append(o, lines[i]);
		g_string_append(o, "</span>");
	}
	g_string_append(o, "</pre>\n");
}

/* The href of a file in a cell's directory from its page: the report is
 * RUN/report/ and the cell RUN/KERNEL/VARIANT/SCENARIO/. */
static char *cell_file_href(const char *root, const char *dir,
			    const char *file)
{
	g_auto(GStrv) parts = g_strsplit(dir, "/", -1);
	guint n = g_strv_length(parts);

	if (n < 3)
		return g_strdup(file);
	return g_strdup_printf("%s../%s/%s/%s/%s", root, parts[n - 3],
			       parts[n - 2], parts[n - 1], file);
}

/* A distro cell's post-mortem (postmortem.json, cell.c): the journal and
 * the collected files, linked, and whether the journal ends early. */
static void postmortem_section(GString *o, HhRepCell *c, const char *root)
{
	g_autofree char *path = g_build_filename(c->cell->dir,
						 "postmortem.json", NULL);
	g_autofree char *files = g_build_filename(c->cell->dir, "files", NULL);
	g_autoptr(JsonParser) p = json_parser_new();
	g_autoptr(GDir) d = NULL;
	JsonObject *pm;
	const char *name;

	if (!json_parser_load_from_file(p, path, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		return;
	pm = json_node_get_object(json_parser_get_root(p));
	g_string_append(o, "<h2>Post-mortem</h2>\n<ul id=\"postmortem\">\n");
	if (json_object_has_member(pm, "journal_entries")) {
		g_autofree char *href = cell_file_href(root, c->cell->dir,
						       "journal.log");

		/* hh_markup_printf takes %s, %u and %d only */
		hh_markup_printf(o, "<li><a href=\"%s\">journal.log</a>: ",
				 href);
		g_string_append_printf(o, "%" G_GINT64_FORMAT " journal entries "
				       "read from the cell's disk in %.1f s</li>\n",
				       json_object_get_int_member(pm, "journal_entries"),
				       json_object_get_double_member_with_default(
					       pm, "seconds", 0));
	}
	if (json_object_has_member(pm, "gap") &&
	    !json_object_get_null_member(pm, "gap")) {
		g_autofree char *gap = hh_text_clean_str(
			json_object_get_string_member(pm, "gap"), 4096);

		hh_markup_printf(o, "<li class=\"fail\">%s</li>\n", gap);
	}
	if (json_object_has_member(pm, "error") &&
	    !json_object_get_null_member(pm, "error")) {
		g_autofree char *e = hh_text_clean_str(
			json_object_get_string_member(pm, "error"), 4096);

		hh_markup_printf(o, "<li class=\"error\">no journal: %s</li>\n",
				 e);
	}
	d = g_dir_open(files, 0, NULL);
	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *rel = g_strdup_printf("files/%s", name);
		g_autofree char *href = cell_file_href(root, c->cell->dir, rel);

		hh_markup_printf(o, "<li><a href=\"%s\">%s</a> (collected)</li>\n",
				 href, rel);
	}
	g_string_append(o, "</ul>\n");
}

static void cell_body(GString *o, HhRep *r, HhRepCell *c, History *h,
		      const char *root)
{
	g_autoptr(GPtrArray) steps = hh_rep_steps(c);
	g_autoptr(GPtrArray) crashes = hh_rep_crashes(c);
	g_autofree char *reason = hh_text_clean_str(c->cell->reason, 8192);
	g_autofree char *failed = hh_text_clean_str(c->cell->failed_step, 8192);
	g_autofree char *rerun = hh_rep_result_str(c, "rerun");
	g_autofree char *base = hh_repeat_base(c->cell->name);
	g_autofree char *agent = NULL, *apath = NULL;
	const char *v = hh_rep_verdict(c);

	hh_markup_printf(o, "<p><a href=\"%sindex.html\">Run %s</a> &#183; "
			 "<a href=\"%shistory.html\">history</a></p>\n", root,
			 r->run->id, root);
	hh_markup_printf(o, "<h1>%s</h1>\n", c->cell->name);
	hh_markup_printf(o, "<p id=\"verdict\"><span class=\"badge %s\">%s</span> %s</p>\n",
			 v, v, reason ? reason : "");
	g_string_append(o, "<table>\n");
	if (failed)
		hh_markup_printf(o, "<tr><th>first failing step</th><td>%s</td></tr>\n",
				 failed);
	hh_markup_printf(o, "<tr><th>boot</th><td>%s</td></tr>\n",
			 c->cell->boot ? c->cell->boot : "");
	if (c->cell->host)
		hh_markup_printf(o, "<tr><th>host</th><td>%s</td></tr>\n",
				 c->cell->host);
	if (c->cell->lost_attempts)
		hh_markup_printf(o, "<tr><th>tries lost with a host</th><td>%u "
				 "(see result.json lost_attempts)</td></tr>\n",
				 c->cell->lost_attempts);
	g_string_append_printf(o, "<tr><th>durations</th><td>boot %" G_GINT64_FORMAT
			       " ms, steps %" G_GINT64_FORMAT " ms, shutdown %"
			       G_GINT64_FORMAT " ms, total %" G_GINT64_FORMAT
			       " ms</td></tr>\n", c->cell->boot_ms,
			       c->cell->steps_ms, c->cell->shutdown_ms,
			       c->cell->total_ms);
	if (c->cell->dir)
		hh_markup_printf(o, "<tr><th>files</th><td>%s</td></tr>\n",
				 c->cell->dir);
	g_string_append(o, "<tr><th>history</th>");
	history_row(o, h, base);
	g_string_append(o, "</tr>\n</table>\n");
	if (rerun) {
		g_string_append(o, "<h2>Re-run</h2>\n<pre id=\"rerun\">");
		hh_markup_append(o, rerun);
		g_string_append(o, "</pre>\n");
	}
	g_string_append(o, "<h2>Timeline</h2>\n");
	timeline(o, c, steps);
	g_string_append(o, "<h2>Steps</h2>\n<table id=\"steps\">\n<tr><th>#</th>"
			   "<th>line</th><th>step</th><th>status</th><th>ms</th>"
			   "<th>message</th></tr>\n");
	for (guint i = 0; i < steps->len; i++) {
		JsonObject *s = steps->pdata[i];
		g_autofree char *t = hh_text_clean_str(
			json_object_get_string_member_with_default(s, "step", ""), 4096);
		g_autofree char *m = hh_text_clean_str(
			json_object_get_string_member_with_default(s, "message", ""), 8192);
		g_autofree char *st = hh_text_clean_str(
			json_object_get_string_member_with_default(s, "status", ""), 64);

		hh_markup_printf(o, "<tr><td><a href=\"#step-%u\">%u</a></td>", i, i);
		g_string_append_printf(o, "<td>%" G_GINT64_FORMAT "</td>",
				       int_member(s, "line"));
		hh_markup_printf(o, "<td>%s</td><td class=\"%s\">%s</td>", t, st, st);
		g_string_append_printf(o, "<td>%" G_GINT64_FORMAT "</td>",
				       int_member(s, "ms"));
		hh_markup_printf(o, "<td>%s</td></tr>\n", m);
	}
	g_string_append(o, "</table>\n");
	if (crashes->len) {
		g_string_append(o, "<h2>Kernel reports</h2>\n");
		for (guint i = 0; i < crashes->len; i++) {
			JsonObject *k = crashes->pdata[i];
			g_autofree char *t = hh_text_clean_str(
				json_object_get_string_member_with_default(k, "title", ""), 2048);
			g_autofree char *ex = hh_text_clean_str(
				json_object_get_string_member_with_default(k, "excerpt", ""),
				1 << 20);
			g_autofree char *sup = hh_text_clean_str(
				json_object_get_string_member_with_default(k, "suppressed_by", ""),
				2048);

			hh_markup_printf(o, "<h3>%s</h3>\n", t);
			if (*sup)
				hh_markup_printf(o, "<p>suppressed: %s</p>\n", sup);
			g_string_append(o, "<pre class=\"crash\">");
			hh_markup_append(o, ex);
			g_string_append(o, "</pre>\n");
		}
	}
	if (c->cell->dir)
		postmortem_section(o, c, root);
	if (c->cell->dir)
		kernel_log(o, c, steps, crashes);
	g_string_append(o, "<h2>Agent transcript</h2>\n<pre id=\"agent\">");
	if (c->cell->dir) {
		apath = g_build_filename(c->cell->dir, "agent.log", NULL);
		agent = hh_text_read_file(apath, HH_REPORT_LOG_MAX);
	}
	hh_markup_append(o, agent ? agent : "(no agent.log)");
	g_string_append(o, "</pre>\n");
}

gboolean hh_rep_write_html(HhRep *r, const char *dir, GError **error)
{
	History h;
	g_autofree char *index = NULL, *hist = NULL;
	g_autofree char *ipath = g_build_filename(dir, "index.html", NULL);
	g_autofree char *hpath = g_build_filename(dir, "history.html", NULL);
	gboolean ok = TRUE;

	if (!hh_mkdir_p(dir, 0755, error))
		return FALSE;
	history_load(r, &h);
	for (guint i = 0; ok && i < r->rcells->len; i++) {
		HhRepCell *c = r->rcells->pdata[i];
		g_autofree char *rel = cell_page(c->cell);
		g_autofree char *path = g_build_filename(dir, rel, NULL);
		g_autofree char *pdir = g_path_get_dirname(path);
		GString *o = g_string_new(NULL);

		page_begin(o, c->cell->name);
		cell_body(o, r, c, &h, "../../../");
		page_end(o);
		ok = hh_mkdir_p(pdir, 0755, error) &&
		     hh_write_file(path, o->str, (gssize)o->len, error);
		g_string_free(o, TRUE);
	}
	if (ok) {
		index = index_page(r);
		hist = history_page(r, &h);
		ok = hh_write_file(ipath, index, -1, error) &&
		     hh_write_file(hpath, hist, -1, error);
	}
	history_free(&h);
	return ok;
}
