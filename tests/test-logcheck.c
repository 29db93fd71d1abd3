/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The crash analyser on kernel splat text (tests/data/splats). */
#include "hh-error.h"
#include "logcheck.h"

#include <glib.h>

static GPtrArray *scan_file(const char *name, const HhSuppressions *sup)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data",
						      "splats", name, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	return hh_logcheck_scan((const char *const *)lines,
				g_strv_length(lines), sup);
}

static void expect_titles(const char *file, const char *const *titles)
{
	g_autoptr(GPtrArray) crashes = scan_file(file, NULL);
	guint n = g_strv_length((char **)titles);

	for (guint i = 0; i < crashes->len && i < n; i++)
		g_assert_cmpstr(((HhCrash *)crashes->pdata[i])->title, ==,
				titles[i]);
	g_assert_cmpuint(crashes->len, ==, n);
}

static void test_warning(void)
{
	const char *const t[] = { "WARNING in topology_sane", NULL };
	g_autoptr(GPtrArray) c = scan_file("warning-topology-sane.txt", NULL);

	expect_titles("warning-topology-sane.txt", t);
	/* The excerpt runs to the end-of-trace marker. */
	g_assert_true(g_str_has_suffix(((HhCrash *)c->pdata[0])->excerpt,
				       "---[ end trace 0000000000000000 ]---"));
}

static void test_bad_page(void)
{
	const char *const t[] = { "BUG: Bad page state in free_pcp_prepare", NULL };

	expect_titles("bad-page-state.txt", t);
}

static void test_oops_and_panic(void)
{
	const char *const t[] = {
		"BUG: kernel NULL pointer dereference in add_node_store",
		"Kernel panic - not syncing: Fatal exception", NULL,
	};

	expect_titles("null-deref.txt", t);
}

static void test_soft_lockup(void)
{
	const char *const t[] = { "BUG: soft lockup in offline_pages", NULL };

	expect_titles("soft-lockup.txt", t);
}

static void test_hung_task(void)
{
	const char *const t[] = { "INFO: task hung in lock_device_hotplug_sysfs", NULL };

	expect_titles("hung-task.txt", t);
}

static void test_rcu_stall(void)
{
	const char *const t[] = {
		"INFO: rcu detected stall in __try_online_node", NULL,
	};

	expect_titles("rcu-stall.txt", t);
}

static void test_kasan_ubsan_lockdep(void)
{
	const char *const k[] = { "BUG: KASAN: use-after-free in release_store", NULL };
	const char *const u[] = { "UBSAN: shift-out-of-bounds in mm/memory_hotplug.c", NULL };
	const char *const l[] = { "WARNING: possible circular locking dependency detected", NULL };

	expect_titles("kasan.txt", k);
	expect_titles("ubsan.txt", u);
	expect_titles("lockdep.txt", l);
}

/* Splats captured from real boots of the harness kernel (LKDTM). */
static void test_real_splats(void)
{
	const char *const w[] = { "WARNING in lkdtm_WARNING", NULL };
	const char *const b[] = { "kernel BUG in lkdtm_BUG", NULL };
	const char *const e[] = {
		"BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION", NULL,
	};

	expect_titles("real-lkdtm-warning.txt", w);
	expect_titles("real-lkdtm-bug.txt", b);
	expect_titles("real-lkdtm-exception.txt", e);
}

static void test_clean_boot_has_no_crash(void)
{
	const char *const none[] = { NULL };

	/* The workqueue "WARNING:" is a pr_warn, not a WARN(): not a crash. */
	expect_titles("clean-boot.txt", none);
}

static void test_dedup(void)
{
	g_autofree char *path = g_test_build_filename(
		G_TEST_DIST, "data", "splats", "warning-topology-sane.txt", NULL);
	g_autofree char *text = NULL, *twice = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GPtrArray) c = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	twice = g_strconcat(text, text, NULL);
	lines = g_strsplit(twice, "\n", -1);
	c = hh_logcheck_scan((const char *const *)lines, g_strv_length(lines),
			     NULL);
	g_assert_cmpuint(c->len, ==, 1);
	g_assert_cmpuint(((HhCrash *)c->pdata[0])->count, ==, 2);
}

static void test_suppression(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhSuppressions) sup = hh_suppressions_parse(
		"# known noise\n^WARNING in topology_sane\tqemu64 is AMD family 0xf\n",
		"test", &err);
	g_autoptr(GPtrArray) c = NULL;

	g_assert_no_error(err);
	c = scan_file("warning-topology-sane.txt", sup);
	g_assert_cmpuint(c->len, ==, 1);
	g_assert_cmpstr(((HhCrash *)c->pdata[0])->suppressed_by, ==,
			"qemu64 is AMD family 0xf");
}

static void test_suppression_errors(void)
{
	g_autoptr(GError) err = NULL;
	HhSuppressions *sup = hh_suppressions_parse("no tab here\n", "f", &err);

	g_assert_null(sup);
	g_assert_error(err, HH_ERROR, HH_ERROR_CONFIG);
	g_assert_true(g_str_has_prefix(err->message, "f:1:12: "));
	g_clear_error(&err);
	sup = hh_suppressions_parse("(\treason\n", "f", &err);
	g_assert_null(sup);
	g_assert_true(g_str_has_prefix(err->message, "f:1:1: bad regular"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/logcheck/warning-titled-by-function", test_warning);
	g_test_add_func("/logcheck/bad-page-state", test_bad_page);
	g_test_add_func("/logcheck/null-deref-oops-and-panic", test_oops_and_panic);
	g_test_add_func("/logcheck/soft-lockup", test_soft_lockup);
	g_test_add_func("/logcheck/hung-task", test_hung_task);
	g_test_add_func("/logcheck/rcu-stall", test_rcu_stall);
	g_test_add_func("/logcheck/kasan-ubsan-lockdep", test_kasan_ubsan_lockdep);
	g_test_add_func("/logcheck/real-splats-from-real-boots", test_real_splats);
	g_test_add_func("/logcheck/clean-boot-has-no-crash", test_clean_boot_has_no_crash);
	g_test_add_func("/logcheck/same-title-deduplicated", test_dedup);
	g_test_add_func("/logcheck/suppression-keeps-reason", test_suppression);
	g_test_add_func("/logcheck/suppression-file-errors", test_suppression_errors);
	return g_test_run();
}
