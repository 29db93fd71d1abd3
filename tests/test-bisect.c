/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bisect: which failures carry the signature of the one bisected. */
#include "bisect.h"
#include "hh-error.h"
#include "paths.h"

#include <glib.h>
#include <glib/gstdio.h>

static GPtrArray *signatures_of(const char *json)
{
	g_autoptr(JsonParser) p = json_parser_new();
	g_autoptr(GError) err = NULL;

	json_parser_load_from_data(p, json, -1, &err);
	g_assert_no_error(err);
	return hh_bisect_signatures(json_node_get_object(json_parser_get_root(p)));
}

/* What a failing result.json gives: its failing step; its crash titles
 * (not suppressed ones) rather than the step; status and reason. */
static void test_signatures(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "{\"status\": \"fail\", \"reason\": \"line 16: log ...\","
		  " \"failed_step\": \"line 15: write /sys/kernel/debug/"
		  "mem_hotplug/add_node 128M@0x80000000\", \"crashes\": []}",
		  "step: line 15: write /sys/kernel/debug/mem_hotplug/add_node "
		  "128M@0x80000000" },
		{ "{\"status\": \"crash\", \"failed_step\": \"line 15: write x\","
		  " \"crashes\": [{\"title\": \"BUG: unable to handle page fault"
		  " in add_memory_resource\"}, {\"title\": \"WARNING in foo\","
		  " \"suppressed_by\": \"configs/suppressions:3\"}]}",
		  "crash: BUG: unable to handle page fault in add_memory_resource" },
		{ "{\"status\": \"timeout\", \"reason\": \"boot: no agent in "
		  "120 s\", \"failed_step\": null}",
		  "timeout: boot: no agent in 120 s" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) sig = signatures_of(cases[i].json);

		g_assert_cmpuint(sig->len, ==, 1);
		g_assert_cmpstr(sig->pdata[0], ==, cases[i].want);
	}
}

static void test_matching(void)
{
	g_autoptr(GPtrArray) want = g_ptr_array_new();
	g_autoptr(GPtrArray) same = g_ptr_array_new();
	g_autoptr(GPtrArray) other = g_ptr_array_new();

	g_ptr_array_add(same, "step: line 15: write x");
	g_ptr_array_add(other, "step: line 23: write y");
	/* No signature: every failure is the one bisected. */
	g_assert_true(hh_bisect_signature_matches(NULL, other));
	g_assert_true(hh_bisect_signature_matches(want, other));
	g_ptr_array_add(want, "crash: BUG: z");
	g_ptr_array_add(want, "step: line 15: write x");
	g_assert_true(hh_bisect_signature_matches(want, same));
	g_assert_false(hh_bisect_signature_matches(want, other));
}

/* The series follows the tree's VERSION.PATCHLEVEL. */
static void test_series_for_tree(void)
{
	static const struct {
		const char *makefile, *want;	/* want NULL: an error */
	} cases[] = {
		{ "# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\n",
		  "kernel-patches/6.1" },
		{ "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\n",
		  "kernel-patches/6.12" },
		{ "VERSION = 5\nPATCHLEVEL = 10\n", NULL },
		{ "all:\n\techo not a kernel\n", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *dir = g_dir_make_tmp("hh-test-tree-XXXXXX", NULL);
		g_autofree char *mk = g_build_filename(dir, "Makefile", NULL);
		g_autofree char *got = NULL;
		g_autoptr(GError) err = NULL;

		g_assert_true(g_file_set_contents(mk, cases[i].makefile, -1, NULL));
		got = hh_bisect_series_for(dir, &err);
		if (cases[i].want) {
			g_assert_no_error(err);
			g_assert_true(g_str_has_suffix(got, cases[i].want));
			g_assert_true(g_file_test(got, G_FILE_TEST_IS_DIR));
		} else {
			g_assert_null(got);
			g_assert_error(err, HH_ERROR, HH_ERROR_USAGE);
		}
		g_unlink(mk);
		g_rmdir(dir);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* The series of this source tree, not of an installed copy. */
	g_setenv("HH_DATADIR", HH_SRCDIR, FALSE);
	hh_paths_init();
	g_test_add_func("/bisect/series-follows-the-tree-version",
			test_series_for_tree);
	g_test_add_func("/bisect/signature-is-crash-titles-else-failed-step",
			test_signatures);
	g_test_add_func("/bisect/only-the-same-failure-matches", test_matching);
	return g_test_run();
}
