/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compare on synthetic archived runs: one cell per category. */
#include "archive.h"
#include "compare.h"
#include "hh-error.h"
#include "util.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
	char *dir;
	char *path;
	HhArchive *a;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;

	(void)data;
	f->dir = g_dir_make_tmp("hh-compare-XXXXXX", &err);
	g_assert_no_error(err);
	f->path = g_build_filename(f->dir, "archive.sqlite", NULL);
	f->a = hh_archive_open(f->path, &err);
	g_assert_no_error(err);
}

static void teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	hh_archive_close(f->a);
	hh_rm_rf(f->dir, NULL);
	g_free(f->path);
	g_free(f->dir);
}

/* A run of "m.matrix": cells given as "name=verdict[:title]" ("xfail"
 * is an expected crash). */
static void add_run(Fixture *f, const char *id, const char *start,
		    gboolean complete, const char *label,
		    const char *const *cells)
{
	g_autoptr(GError) err = NULL;
	HhArchiveRun r = { .id = (char *)id, .start = (char *)start,
			   .matrix = "m.matrix", .label = (char *)label };

	g_assert_true(hh_archive_run_begin(f->a, &r, &err));
	for (guint i = 0; cells[i]; i++) {
		g_auto(GStrv) kv = g_strsplit(cells[i], "=", 2);
		g_auto(GStrv) vt = g_strsplit(kv[1], ":", 2);
		g_autoptr(GPtrArray) titles = g_ptr_array_new();
		gboolean xfail = g_str_equal(vt[0], "xfail");
		HhArchiveCell c = {
			.name = kv[0], .status = xfail ? "crash" : vt[0],
			.expected_crash = xfail, .reason = "why",
			.failed_step = g_str_equal(vt[0], "fail") ?
				"line 9: write /x 1" : NULL,
			.crashes = titles,
		};

		if (vt[1])
			g_ptr_array_add(titles, vt[1]);
		g_assert_true(hh_archive_cell(f->a, id, &c, &err));
	}
	g_assert_true(hh_archive_run_end(f->a, id, start, complete, &err));
	g_assert_no_error(err);
}

static const HhCmpEntry *entry(const HhComparison *c, const char *cell)
{
	for (guint i = 0; i < c->entries->len; i++) {
		const HhCmpEntry *e = c->entries->pdata[i];

		if (g_str_equal(e->cell, cell))
			return e;
	}
	g_assert_not_reached();
}

static void test_categories(Fixture *f, gconstpointer data)
{
	static const char *const old[] = {
		"k/v/hist=fail", NULL };
	static const char *const older[] = {
		"k/v/hist=pass", NULL };
	static const char *const base[] = {
		"k/v/regress=pass", "k/v/fixed=fail", "k/v/broken=crash:BUG in a",
		"k/v/rep~1=pass", "k/v/rep~2=pass", "k/v/hist=pass",
		"k/v/err=pass", "k/v/gone=pass", "k/v/self=xfail:WARNING in lkdtm",
		"k/v/skip=skip", NULL };
	static const char *const now[] = {
		"k/v/regress=fail", "k/v/fixed=pass", "k/v/broken=crash:BUG in a",
		"k/v/rep~1=pass", "k/v/rep~2=timeout", "k/v/hist=fail",
		"k/v/err=error", "k/v/new=pass", "k/v/self=xfail:WARNING in lkdtm",
		"k/v/skip=crash:WARNING in new_path", NULL };
	g_autoptr(GError) err = NULL;
	g_autoptr(HhComparison) c = NULL;
	g_autofree char *def = NULL, *text = NULL, *json = NULL, *junit = NULL;
	g_autoptr(JsonParser) p = json_parser_new();

	(void)data;
	add_run(f, "r0", "2026-01-01", TRUE, NULL, older);
	add_run(f, "r1", "2026-01-02", TRUE, NULL, old);
	add_run(f, "r2", "2026-01-03", TRUE, NULL, base);
	add_run(f, "r2x", "2026-01-03x", FALSE, NULL, base);	/* incomplete */
	add_run(f, "r3", "2026-01-04", TRUE, NULL, now);

	/* The default base skips the incomplete run. */
	def = hh_compare_default_base(f->a, "r3", &err);
	g_assert_no_error(err);
	g_assert_cmpstr(def, ==, "r2");
	g_clear_pointer(&def, g_free);
	def = hh_compare_default_base(f->a, "r0", &err);
	g_assert_null(def);
	g_assert_error(err, HH_ERROR, HH_ERROR_NOT_FOUND);
	g_clear_error(&err);

	c = hh_compare_runs(f->a, "r2", "r3", 10, &err);
	g_assert_no_error(err);
	g_assert_cmpint(entry(c, "k/v/regress")->kind, ==, HH_CMP_REGRESSION);
	g_assert_cmpstr(entry(c, "k/v/regress")->detail, ==, "line 9: write /x 1");
	g_assert_cmpint(entry(c, "k/v/fixed")->kind, ==, HH_CMP_FIX);
	g_assert_cmpint(entry(c, "k/v/broken")->kind, ==, HH_CMP_STILL_FAILING);
	g_assert_cmpint(entry(c, "k/v/rep")->kind, ==, HH_CMP_FLAKY);
	g_assert_cmpstr(entry(c, "k/v/rep")->new_, ==, "pass timeout");
	/* Failed in r1, passed in r0: the history flips, so flaky. */
	g_assert_cmpint(entry(c, "k/v/hist")->kind, ==, HH_CMP_FLAKY);
	/* r2x did not complete, but its verdicts count as history. */
	g_assert_cmpstr(entry(c, "k/v/hist")->history, ==, "pass fail pass");
	g_assert_cmpint(entry(c, "k/v/err")->kind, ==, HH_CMP_CHANGED);
	g_assert_cmpint(entry(c, "k/v/new")->kind, ==, HH_CMP_NEW);
	g_assert_cmpint(entry(c, "k/v/gone")->kind, ==, HH_CMP_GONE);
	g_assert_cmpint(entry(c, "k/v/self")->kind, ==, HH_CMP_SAME);
	g_assert_cmpint(entry(c, "k/v/skip")->kind, ==, HH_CMP_REGRESSION);
	g_assert_cmpuint(c->counts[HH_CMP_REGRESSION], ==, 2);
	/* Only the crash title neither run had; the expected crash's title
	 * and the known BUG are not new. */
	g_assert_cmpuint(c->new_titles->len, ==, 1);
	g_assert_cmpstr(((HhCmpTitle *)c->new_titles->pdata[0])->title, ==,
			"WARNING in new_path");
	g_assert_true(hh_comparison_bad(c));

	text = hh_comparison_text(c);
	g_assert_nonnull(strstr(text, "regression (2):"));
	g_assert_nonnull(strstr(text, "new crash titles (1):"));
	json = hh_comparison_json(c);
	g_assert_true(json_parser_load_from_data(p, json, -1, &err));
	g_assert_no_error(err);
	junit = hh_comparison_junit(c);
	g_assert_nonnull(strstr(junit, "failures=\"3\""));

	/* A run against itself: nothing to report. */
	g_clear_pointer(&c, hh_comparison_free);
	c = hh_compare_runs(f->a, "r3", "r3", 10, &err);
	g_assert_no_error(err);
	g_assert_false(hh_comparison_bad(c));
	g_assert_cmpuint(c->counts[HH_CMP_SAME], ==, 4);
	g_assert_cmpuint(c->counts[HH_CMP_STILL_FAILING], ==, 4);
	g_assert_cmpuint(c->counts[HH_CMP_FLAKY], ==, 1);	/* rep */
}

/* Nightly runs compare with nightly runs only. */
static void test_label_baseline(Fixture *f, gconstpointer data)
{
	static const char *const cells[] = { "k/v/a=pass", NULL };
	g_autoptr(GError) err = NULL;
	g_autofree char *b = NULL;

	(void)data;
	add_run(f, "n1", "2026-01-01", TRUE, "nightly", cells);
	add_run(f, "m1", "2026-01-02", TRUE, NULL, cells);
	add_run(f, "n2", "2026-01-03", TRUE, "nightly", cells);
	b = hh_compare_default_base(f->a, "n2", &err);
	g_assert_no_error(err);
	g_assert_cmpstr(b, ==, "n1");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/compare/every-category", Fixture, NULL, setup,
		   test_categories, teardown);
	g_test_add("/compare/nightly-compares-with-nightly", Fixture, NULL,
		   setup, test_label_baseline, teardown);
	return g_test_run();
}
