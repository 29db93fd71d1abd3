/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scenario parser: every shipped scenario parses, and errors read
 * file:line:column: what was expected. */
#include "hh-error.h"
#include "scenario.h"
#include "variant.h"

#include <errno.h>
#include <glib.h>

static HhScenario *parse(const char *text, GError **error)
{
	return hh_scenario_parse(text, "t.scenario", NULL, error);
}

static void test_steps_and_expectations(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhScenario) s = parse(
		"# comment\n"
		"description Probe and online\n"
		"requires config CONFIG_ARCH_MEMORY_PROBE\n"
		"variants mem2g-* other\n"
		"node 0 online\n"
		"write /sys/devices/system/memory/probe 0x80000000\n"
		"log \"Block size \\\"x\\\"\" count=2 since=boot\n"
		"write /sys/x 0x1 -> EINVAL\n"
		"block 16 online zone=Movable within=5s\n"
		"node 1 memtotal 131072kB\n"
		"node 0 memtotal +128M\n"
		"run timeout=2s cat /proc/meminfo -> exit=1\n"
		"dimm-add d1 128M node=1\n"
		"vcpu-add c1 node=1 socket=1\n"
		"device-del d1\n"
		"cpu 1 online node=1\n"
		"taint 0\n",
		&err);
	HhStep *st;
	HhExpect *e;

	g_assert_no_error(err);
	g_assert_cmpstr(s->description, ==, "Probe and online");
	g_assert_cmpuint(s->requires->len, ==, 1);
	g_assert_cmpuint(s->variants->len, ==, 2);
	g_assert_true(hh_scenario_accepts_variant(s, "mem2g-of-3g"));
	g_assert_false(hh_scenario_accepts_variant(s, "numa2"));
	g_assert_cmpuint(s->steps->len, ==, 7);
	st = s->steps->pdata[0];
	g_assert_cmpint(st->kind, ==, HH_ACT_BOOT);
	g_assert_cmpuint(st->expects->len, ==, 1);
	st = s->steps->pdata[1];
	g_assert_cmpint(st->kind, ==, HH_ACT_WRITE);
	g_assert_cmpint(st->expect_errno, ==, 0);
	e = st->expects->pdata[0];
	g_assert_cmpint(e->kind, ==, HH_EXP_LOG);
	g_assert_cmpint(e->count, ==, 2);
	g_assert_true(e->since_boot);
	g_assert_cmpstr(g_regex_get_pattern(e->regex), ==, "Block size \"x\"");
	st = s->steps->pdata[2];
	g_assert_cmpint(st->expect_errno, ==, EINVAL);
	e = st->expects->pdata[0];
	g_assert_cmpint(e->kind, ==, HH_EXP_BLOCK_STATE);
	g_assert_cmpstr(e->zone, ==, "Movable");
	g_assert_cmpuint(e->within_ms, ==, 5000);
	e = st->expects->pdata[1];
	g_assert_cmpuint(e->size, ==, 131072ull << 10);
	g_assert_false(e->delta);
	e = st->expects->pdata[2];
	g_assert_true(e->delta);
	g_assert_cmpuint(e->size, ==, 128ull << 20);
	st = s->steps->pdata[3];
	g_assert_cmpint(st->kind, ==, HH_ACT_RUN);
	g_assert_cmpuint(st->timeout_ms, ==, 2000);
	g_assert_cmpint(st->expect_exit, ==, 1);
	g_assert_cmpstr(st->argv[1], ==, "/proc/meminfo");
	st = s->steps->pdata[4];
	g_assert_cmpint(st->kind, ==, HH_ACT_DIMM_ADD);
	g_assert_cmpuint(st->size, ==, 128ull << 20);
	g_assert_cmpint(st->node, ==, 1);
	st = s->steps->pdata[5];
	g_assert_cmpint(st->socket, ==, 1);
	st = s->steps->pdata[6];
	g_assert_cmpint(st->kind, ==, HH_ACT_DEVICE_DEL);
	g_assert_cmpuint(st->expects->len, ==, 2);
}

static void expect_error(const char *text, const char *message)
{
	g_autoptr(GError) err = NULL;
	HhScenario *s = parse(text, &err);

	g_assert_null(s);
	g_assert_error(err, HH_ERROR, HH_ERROR_CONFIG);
	/* GLib's own regex messages vary between versions: prefix only. */
	if (!g_str_has_prefix(err->message, message))
		g_assert_cmpstr(err->message, ==, message);
}

static void test_errors_name_line_and_column(void)
{
	expect_error("frobnicate x\n",
		     "t.scenario:1:1: expected an action (write, read, run, "
		     "dimm-add, vcpu-add, device-del, mark), an expectation "
		     "(log, no-log, file, node, cpu, block, taint) or a header "
		     "(description, requires, variants, expect-crash, boot), got 'frobnicate'");
	expect_error("\nwrite /sys/x\n", "t.scenario:2:13: expected a value");
	expect_error("write /a b -> ENOTANERRNO\n",
		     "t.scenario:1:15: expected ok or an errno name like EINVAL, "
		     "got 'ENOTANERRNO'");
	expect_error("log \"unclosed\n", "t.scenario:1:5: expected a closing '\"'");
	expect_error("log \"(\"\n",
		     "t.scenario:1:5: expected a regular expression: ");
	expect_error("node x online\n",
		     "t.scenario:1:6: expected a node number, got 'x'");
	expect_error("node 1 sideways\n",
		     "t.scenario:1:8: expected online, offline or memtotal");
	expect_error("block 3 online zone\n",
		     "t.scenario:1:16: expected zone=NAME or within=DURATION");
	expect_error("dimm-add d1 lots node=1\n",
		     "t.scenario:1:13: expected a size like 128M, got 'lots'");
	expect_error("taint 0 within=soon\n",
		     "t.scenario:1:9: expected a duration like 500ms or 5s (at most 24h), got 'soon'");
	/* Found by the scenario fuzz target: (guint) of 5.6e87 ms. */
	expect_error("taint 0 within=5e84s\n",
		     "t.scenario:1:9: expected a duration like 500ms or 5s (at most 24h), got '5e84s'");
	/* Found by the scenario fuzz target: g_pattern_match_simple() on
	 * invalid UTF-8 aborted the harness. */
	expect_error("variants \377\300*\n", "t.scenario:1: not valid UTF-8");
	expect_error("taint 0 within=nan\n",
		     "t.scenario:1:9: expected a duration like 500ms or 5s (at most 24h), got 'nan'");
	expect_error("requires kernel 6.1\n",
		     "t.scenario:1:10: expected 'config CONFIG_NAME', "
		     "'path /absolute/path', 'nodes N' or 'cpus N'");
	expect_error("requires nodes many\n",
		     "t.scenario:1:16: expected a number of nodes, got 'many'");
	expect_error("node 1 memtotal 12parsecs\n",
		     "t.scenario:1:17: expected a size like 131072kB, 128M or "
		     "+128M, got '12parsecs'");
}

static GPtrArray *shipped_variants(void)
{
	g_autofree char *dir = g_build_filename(g_getenv("HH_SRCDIR") ?: ".",
						"configs", "variants", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hh_variant_free);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autoptr(GError) err = NULL;
		HhVariant *v;

		if (!g_str_has_suffix(name, ".variant"))
			continue;
		v = hh_variant_load(path, &err);
		g_assert_no_error(err);
		g_ptr_array_add(out, v);
	}
	return out;
}

/* Every shipped scenario parses, with the [params] of every shipped
 * variant it runs on, and checks something. */
static void test_shipped_scenarios_parse(void)
{
	g_autofree char *dir = g_build_filename(g_getenv("HH_SRCDIR") ?: ".",
						"configs", "scenarios", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) variants = shipped_variants();
	const char *name;
	guint n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autoptr(GError) err = NULL;
		g_autoptr(HhScenario) s = NULL;
		guint checks = 0, runs_on = 0;

		if (!g_str_has_suffix(name, ".scenario"))
			continue;
		s = hh_scenario_load(path, NULL, &err);
		g_assert_no_error(err);
		for (guint i = 0; i < s->steps->len; i++)
			checks += ((HhStep *)s->steps->pdata[i])->expects->len + (i > 0);
		g_assert_cmpuint(checks, >, 0);
		for (guint i = 0; i < variants->len; i++) {
			HhVariant *v = variants->pdata[i];
			g_autoptr(HhScenario) own = NULL;

			if (!hh_scenario_accepts_variant(s, v->name))
				continue;
			own = hh_scenario_load(path, v->params, &err);
			g_assert_no_error(err);
			if (own->unresolved)
				g_error("%s", own->unresolved->message);
			runs_on++;
		}
		g_assert_cmpuint(runs_on, >, 0);
		n++;
	}
	g_assert_cmpuint(n, >=, 2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scenario/steps-and-expectations", test_steps_and_expectations);
	g_test_add_func("/scenario/errors-name-line-and-column", test_errors_name_line_and_column);
	g_test_add_func("/scenario/shipped-scenarios-parse", test_shipped_scenarios_parse);
	return g_test_run();
}
