/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Selftest output into steps, and the post-mortem's journal lines. */
#include "postmortem.h"
#include "selftest.h"

#include <glib.h>
#include <string.h>

static HhSelftestCase *at(GPtrArray *c, guint i)
{
	g_assert_cmpuint(i, <, c->len);
	return c->pdata[i];
}

/* What run_kselftest.sh printed for mem-on-off-test.sh in a Debian guest
 * (6.1, 8 blocks of boot memory and a 1 GiB DIMM). */
static const char mem_ok[] =
	"TAP version 13\n"
	"1..1\n"
	"# selftests: memory-hotplug: mem-on-off-test.sh\n"
	"# Test scope: 2% hotplug memory\n"
	"# \t online all hot-pluggable memory in offline state:\n"
	"# \t\t SKIPPED - no hot-pluggable memory in offline state\n"
	"# \t offline 2% hot-pluggable memory in online state\n"
	"# \t trying to offline 1 out of 15 memory block(s):\n"
	"# online->offline memory0\n"
	"# -> Failure\n"
	"# online->offline memory1\n"
	"# -> Success\n"
	"# \t online all hot-pluggable memory in offline state:\n"
	"# offline->online memory1\n"
	"# \t Test with memory notifier error injection\n"
	"ok 1 selftests: memory-hotplug: mem-on-off-test.sh\n"
	"hh-selftest-exit: 0\n";

static void test_plain_text_cases(void)
{
	g_autoptr(GPtrArray) c = hh_selftest_parse(mem_ok);

	g_assert_cmpuint(c->len, ==, 6);
	g_assert_cmpstr(at(c, 0)->name, ==, "setup");
	g_assert_cmpstr(at(c, 1)->name, ==,
			"online all hot-pluggable memory in offline state");
	g_assert_cmpint(at(c, 1)->verdict, ==, HH_V_SKIP);
	g_assert_cmpstr(at(c, 2)->name, ==,
			"offline 2% hot-pluggable memory in online state; "
			"trying to offline 1 out of 15 memory block(s)");
	g_assert_cmpint(at(c, 2)->verdict, ==, HH_V_PASS);
	g_assert_cmpint(at(c, 3)->verdict, ==, HH_V_PASS);
	g_assert_cmpstr(at(c, 4)->name, ==,
			"Test with memory notifier error injection");
	g_assert_cmpstr(at(c, 5)->name, ==,
			"selftests: memory-hotplug: mem-on-off-test.sh");
	g_assert_cmpint(at(c, 5)->verdict, ==, HH_V_PASS);
}

/* Without bc the script offlines nothing and the runner still says ok. */
static void test_silent_false_pass_fails(void)
{
	g_autoptr(GPtrArray) c = hh_selftest_parse(
		"TAP version 13\n1..1\n"
		"# selftests: memory-hotplug: mem-on-off-test.sh\n"
		"# Test scope: 2% hotplug memory\n"
		"# \t offline 2% hot-pluggable memory in online state\n"
		"# ./mem-on-off-test.sh: line 203: bc: command not found\n"
		"# ./mem-on-off-test.sh: line 206: [: : integer expression expected\n"
		"ok 1 selftests: memory-hotplug: mem-on-off-test.sh\n");

	g_assert_cmpint(at(c, 1)->verdict, ==, HH_V_FAIL);
	g_assert_nonnull(strstr(at(c, 1)->message, "bc: command not found"));
	g_assert_cmpint(at(c, 2)->verdict, ==, HH_V_PASS);
}

static void test_failures_and_skips(void)
{
	g_autoptr(GPtrArray) c = hh_selftest_parse(
		"# selftests: cpu-hotplug: cpu-on-off-test.sh\n"
		"# \t online to offline to online: cpu 1\n"
		"# offline_cpu_expect_success 1: unexpected fail\n"
		"not ok 1 selftests: cpu-hotplug: cpu-on-off-test.sh # exit=1\n"
		"# selftests: memory-hotplug: mem-on-off-test.sh\n"
		"ok 2 selftests: memory-hotplug: mem-on-off-test.sh # SKIP\n");
	g_autoptr(GPtrArray) none = hh_selftest_parse("sh: 1: cd: can't cd\n"
						      "hh-selftest-exit: 2\n");

	g_assert_cmpuint(c->len, ==, 3);
	g_assert_cmpint(at(c, 0)->verdict, ==, HH_V_FAIL);
	g_assert_cmpint(at(c, 1)->verdict, ==, HH_V_FAIL);
	g_assert_cmpstr(at(c, 1)->message, ==, "exit=1");
	g_assert_cmpint(at(c, 2)->verdict, ==, HH_V_SKIP);
	/* no result line at all: a failing case says so */
	g_assert_cmpuint(none->len, ==, 1);
	g_assert_cmpint(at(none, 0)->verdict, ==, HH_V_FAIL);
	g_assert_cmpstr(at(none, 0)->message, ==,
			"no result line from run_kselftest.sh (it exited with 2)");
}

/* A test that prints KTAP itself: its own results are the cases. */
static void test_nested_tap(void)
{
	g_autoptr(GPtrArray) c = hh_selftest_parse(
		"# selftests: x: t\n# TAP version 13\n# 1..2\n"
		"# ok 1 first thing\n# not ok 2 second thing\n"
		"not ok 1 selftests: x: t # exit=1\n");

	g_assert_cmpuint(c->len, ==, 3);
	g_assert_cmpstr(at(c, 0)->name, ==, "first thing");
	g_assert_cmpint(at(c, 1)->verdict, ==, HH_V_FAIL);
}

static void test_names(void)
{
	g_auto(GStrv) argv = hh_selftest_argv("/st", "cpu-hotplug:cpu-on-off-test.sh");

	g_assert_true(hh_selftest_name_valid("memory-hotplug:mem-on-off-test.sh"));
	g_assert_false(hh_selftest_name_valid("mem-on-off-test.sh"));
	g_assert_false(hh_selftest_name_valid(":x"));
	g_assert_false(hh_selftest_name_valid("a:b:c"));
	g_assert_false(hh_selftest_name_valid("a:$(reboot)"));
	g_assert_false(hh_selftest_name_valid("..:x"));
	g_assert_cmpstr(argv[2], ==,
			"cd /st && { ./run_kselftest.sh -t "
			"cpu-hotplug:cpu-on-off-test.sh 2>&1; echo "
			"\"hh-selftest-exit: $?\"; } | cat");
}

static void test_journal_lines_and_gap(void)
{
	g_autofree char *l = hh_postmortem_format(
		G_GINT64_CONSTANT(1764521123000042), "systemd", "1",
		"Started x.\nsecond line");
	g_autofree char *k = hh_postmortem_format(0, NULL, NULL, "m");
	g_autofree char *gap = hh_postmortem_gap("hh-mark: step 2 end",
						 "hh-mark: step 3 begin: x");
	g_autofree char *none = hh_postmortem_gap(NULL, "hh-mark: step 1 end");

	g_assert_cmpstr(l, ==, "2025-11-30T16:45:23.000042Z systemd[1]: "
			       "Started x. second line");
	g_assert_cmpstr(k, ==, "1970-01-01T00:00:00.000000Z ?: m");
	g_assert_cmpstr(gap, ==, "the journal ends before the console does: "
				 "its last step marker is 'hh-mark: step 2 end', "
				 "the kernel log's is 'hh-mark: step 3 begin: x'");
	g_assert_nonnull(strstr(none, "it has no step marker"));
	g_assert_null(hh_postmortem_gap("hh-mark: a", "hh-mark: a"));
	g_assert_null(hh_postmortem_gap("hh-mark: a", NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/selftest/plain-text-cases", test_plain_text_cases);
	g_test_add_func("/selftest/silent-false-pass-fails", test_silent_false_pass_fails);
	g_test_add_func("/selftest/failures-and-skips", test_failures_and_skips);
	g_test_add_func("/selftest/nested-tap", test_nested_tap);
	g_test_add_func("/selftest/names", test_names);
	g_test_add_func("/postmortem/journal-lines-and-gap", test_journal_lines_and_gap);
	return g_test_run();
}
