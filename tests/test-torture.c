/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The torture model, its generator and ddmin: no guest involved. */
#include "config.h"

#include "ddmin.h"
#include "kbuild.h"
#include "util.h"
#include "scenario.h"
#include "torture-model.h"
#include "torture.h"
#include "variant.h"
#include "hh-error.h"

#include <errno.h>
#include <string.h>

static HhTmConfig machine(void)
{
	const char *text =
		"[variant]\nmemory=3G\nslots=2\nmaxmem=4G\ncpus=4\n"
		"cmdline=mem=2G numa=possible=3 maxcpus=1 cpu_hpe=on\n";
	g_autoptr(GError) err = NULL;
	g_autoptr(HhVariant) v = hh_variant_parse(text, "t.variant", &err);
	g_autoptr(GHashTable) k = g_hash_table_new(g_str_hash, g_str_equal);
	HhTmConfig cfg;

	g_assert_no_error(err);
	g_hash_table_insert(k, "CONFIG_MEMORY_HOTPLUG_EMULATION", "y");
	g_hash_table_insert(k, "CONFIG_CPU_HOTPLUG_EMULATION", "y");
	g_hash_table_insert(k, "CONFIG_ACPI_HOTPLUG_MEMORY", "y");
	g_assert_true(hh_tm_config_from(v, k, &cfg, &err));
	g_assert_no_error(err);
	return cfg;
}

static void test_config(void)
{
	HhTmConfig c = machine();

	g_assert_cmpuint(c.hidden_start, ==, 2ull << 30);
	g_assert_cmpuint(c.hidden_end, ==, (3ull << 30) - (128ull << 20));
	g_assert_cmpuint(c.possible_nodes, ==, 4);
	g_assert_cmpuint(c.boot_cpus, ==, 1);
	g_assert_cmpuint(c.ncpus, ==, 4);
	g_assert_true(c.emu_memory && c.emu_cpu);
	g_assert_cmpuint(c.dimm_slots, ==, 2);
	g_assert_cmpuint(c.dimm_space, ==, 1ull << 30);
}

static GString *sequence(guint64 seed, guint n)
{
	HhTmConfig c = machine();
	g_autoptr(HhTmGen) g = hh_tm_gen_new(&c, seed);
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < n; i++) {
		HhTmOp op;
		g_autofree char *line = NULL;

		hh_tm_gen_next(g, &op);
		line = hh_tm_op_line(&op);
		g_string_append_printf(s, "%s\n", line);
	}
	return s;
}

/* Same seed, same machine: the same operations; another seed: others. */
static void test_same_seed(void)
{
	g_autoptr(GString) a = sequence(42, 500), b = sequence(42, 500);
	g_autoptr(GString) c = sequence(43, 500);
	guint kinds = 0;

	g_assert_cmpstr(a->str, ==, b->str);
	g_assert_cmpstr(a->str, !=, c->str);
	/* and the draw covers what the machine offers */
	for (guint k = 0; k < HH_TM_N_KINDS; k++) {
		const char *needle[] = { "add_node", "add_memory",
					 "state online\n", "online_kernel",
					 "online_movable", "state offline",
					 "/probe", "/release", "/online 1",
					 "/online 0", "dimm-add", "device-del",
					 "--workload" };

		kinds += strstr(a->str, needle[k]) != NULL;
	}
	g_assert_cmpuint(kinds, ==, HH_TM_N_KINDS);
	g_assert_cmpuint(hh_torture_episode_seed(42, 0), ==,
			 hh_torture_episode_seed(42, 0));
	g_assert_cmpuint(hh_torture_episode_seed(42, 0), !=,
			 hh_torture_episode_seed(42, 1));
}

/* Every line the generator and the model write is an ordinary scenario
 * line. */
static void test_lines_parse(void)
{
	HhTmConfig c = machine();
	g_autoptr(HhTmGen) g = hh_tm_gen_new(&c, 7);
	HhTmModel m;

	hh_tm_init(&m, &c);
	for (guint i = 0; i < 300; i++) {
		HhTmOp op;
		HhTmLegal legal;
		g_autofree char *line = NULL, *suffix = NULL, *exp = NULL;
		g_autofree char *text = NULL;
		g_autoptr(GError) err = NULL;
		g_autoptr(HhScenario) sc = NULL;

		hh_tm_gen_next(g, &op);
		legal = hh_tm_legal(&m, &op);
		if (!legal.n)
			continue;
		line = hh_tm_op_line(&op);
		suffix = hh_tm_result_suffix(&op, legal);
		hh_tm_apply(&m, &op, legal.err[legal.n - 1]);
		exp = hh_tm_expectations(&m, i % 2);
		text = g_strdup_printf("%s%s\n%s", line, suffix, exp);
		sc = hh_scenario_parse(text, "t", NULL, &err);
		g_assert_no_error(err);
		g_assert_cmpuint(sc->steps->len, ==, 2);
	}
}

static HhTmOp op_of(HhTmKind k)
{
	HhTmOp op = { .kind = k, .node = -1, .block = -1, .cpu = -1,
		      .dimm = -1 };

	return op;
}

/* What the model allows, case by case. */
static void test_legal(void)
{
	HhTmConfig c = machine();
	HhTmModel m;
	HhTmOp add = op_of(HH_TM_ADD_MEMORY), on = op_of(HH_TM_ONLINE_MOVABLE);
	HhTmOp off = op_of(HH_TM_OFFLINE), node = op_of(HH_TM_ADD_NODE);
	HhTmOp probe = op_of(HH_TM_CPU_PROBE), rel = op_of(HH_TM_CPU_RELEASE);
	HhTmLegal l;
	g_autofree char *exp = NULL;

	hh_tm_init(&m, &c);
	add.start = 0x90000000;
	add.node = 2;
	off.block = on.block = 18;
	/* nothing at block 18 yet: online and offline do not apply */
	g_assert_cmpuint(hh_tm_legal(&m, &on).n, ==, 0);
	l = hh_tm_legal(&m, &add);
	g_assert_cmpuint(l.n, ==, 1);
	g_assert_cmpint(l.err[0], ==, 0);
	hh_tm_apply(&m, &add, 0);
	l = hh_tm_legal(&m, &add);
	g_assert_cmpint(l.err[0], ==, EEXIST);
	g_assert_cmpint(hh_tm_legal(&m, &off).err[0], ==, EINVAL);
	hh_tm_apply(&m, &on, 0);
	/* movable: offlining must succeed */
	l = hh_tm_legal(&m, &off);
	g_assert_cmpuint(l.n, ==, 1);
	g_assert_cmpint(l.err[0], ==, 0);
	exp = hh_tm_expectations(&m, FALSE);
	g_assert_nonnull(strstr(exp, "block 18 online zone=Movable\n"));
	g_assert_nonnull(strstr(exp, "node 2 online\n"));
	g_assert_nonnull(strstr(exp, "node 1 offline\n"));
	g_assert_nonnull(strstr(exp, "node 2 memtotal +131072kB\n"));
	/* add_node takes the lowest offline node: 1 */
	node.start = 0x80000000;
	node.size = 128ull << 20;
	hh_tm_apply(&m, &node, 0);
	g_clear_pointer(&exp, g_free);
	exp = hh_tm_expectations(&m, FALSE);
	g_assert_nonnull(strstr(exp, "node 1 online\n"));
	g_assert_nonnull(strstr(exp, "block 16 offline\n"));
	/* three hidden CPUs, then ENOSPC; a probed CPU can be released */
	probe.node = 3;
	for (guint i = 0; i < 3; i++) {
		g_assert_cmpint(hh_tm_legal(&m, &probe).err[0], ==, 0);
		hh_tm_apply(&m, &probe, 0);
	}
	g_assert_cmpint(hh_tm_legal(&m, &probe).err[0], ==, ENOSPC);
	rel.cpu = 2;
	g_assert_cmpint(hh_tm_legal(&m, &rel).err[0], ==, 0);
	hh_tm_apply(&m, &rel, 0);
	g_assert_cmpint(hh_tm_legal(&m, &rel).err[0], ==, EINVAL);
	/* an unplugged-offline block: offline may also be refused */
	{
		HhTmOp plain = op_of(HH_TM_ONLINE);

		plain.block = 16;
		hh_tm_apply(&m, &plain, 0);
		off.block = 16;
		l = hh_tm_legal(&m, &off);
		g_assert_cmpuint(l.n, ==, 2);
		g_assert_cmpint(l.err[1], ==, EBUSY);
	}
}

/* ddmin: the failure needs items 3 and 17 together. */
static gboolean needs_3_and_17(const guint *idx, guint len, gpointer data)
{
	gboolean a = FALSE, b = FALSE;

	(*(guint *)data)++;
	for (guint i = 0; i < len; i++) {
		a |= idx[i] == 3;
		b |= idx[i] == 17;
	}
	return a && b;
}

static void test_ddmin(void)
{
	guint calls = 0;
	HhDdminStats st;
	g_autoptr(GArray) r = hh_ddmin(200, needs_3_and_17, &calls, 0, &st);

	g_assert_cmpuint(r->len, ==, 2);
	g_assert_cmpuint(g_array_index(r, guint, 0), ==, 3);
	g_assert_cmpuint(g_array_index(r, guint, 1), ==, 17);
	g_assert_cmpuint(st.tests, ==, calls);
	g_assert_false(st.stopped);
	/* a budget stops it early, saying so */
	calls = 0;
	g_array_unref(hh_ddmin(200, needs_3_and_17, &calls, 5, &st));
	g_assert_true(st.stopped);
	g_assert_cmpuint(calls, ==, 5);
}

static gboolean needs_nothing(const guint *idx, guint len, gpointer data)
{
	(void)idx;
	(void)data;
	return len >= 1;
}

static void test_ddmin_one(void)
{
	g_autoptr(GArray) r = hh_ddmin(50, needs_nothing, NULL, 0, NULL);

	g_assert_cmpuint(r->len, ==, 1);
}

static void test_signature(void)
{
	g_autoptr(HhCellResult) r = hh_cell_result_new();
	g_autofree char *a = NULL, *b = NULL;

	r->verdict = HH_V_FAIL;
	r->reason = g_strdup("line 4: block 18 offline: memory block 18 is "
			     "online (zones Movable)");
	a = hh_torture_signature(r);
	g_assert_cmpstr(a, ==, "fail: block 18 offline");
	g_ptr_array_add(r->crashes, g_strdup("BUG: unable to handle page fault"));
	b = hh_torture_signature(r);
	g_assert_cmpstr(b, ==, "crash: BUG: unable to handle page fault");
}

/* "-> ok|EBUSY": either result passes; anything else is an error. */
static void test_two_results(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhScenario) sc = hh_scenario_parse(
		"write /sys/x offline -> ok|EBUSY\nwrite /sys/y 1 -> EINVAL\n",
		"t", NULL, &err);
	const char *bad[] = { "write /sys/x 1 -> ok|NOPE\n",
			      "write /sys/x 1 -> ok|EBUSY|EINVAL\n",
			      "run true -> ok|EBUSY\n" };
	HhStep *s;

	g_assert_no_error(err);
	s = sc->steps->pdata[1];
	g_assert_cmpint(s->expect_errno, ==, 0);
	g_assert_cmpint(s->also_errno, ==, EBUSY);
	s = sc->steps->pdata[2];
	g_assert_cmpint(s->expect_errno, ==, EINVAL);
	g_assert_cmpint(s->also_errno, ==, -1);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) e = NULL;
		HhScenario *x = hh_scenario_parse(bad[i], "t", NULL, &e);

		g_assert_null(x);
		g_assert_error(e, HH_ERROR, HH_ERROR_CONFIG);
	}
}

/* An optional fragment ("# hh: optional") is merged only when named. */
static void test_optional_fragment(void)
{
	g_autofree char *dir = g_dir_make_tmp("hh-frag-XXXXXX", NULL);
	g_autofree char *a = g_build_filename(dir, "hotplug.config", NULL);
	g_autofree char *d = g_build_filename(dir, "debug.config", NULL);
	char *debug[] = { "debug", NULL }, *nope[] = { "nope", NULL };
	char *plain[] = { "hotplug", NULL };
	g_autoptr(GPtrArray) without = NULL, with = NULL;
	g_autoptr(GError) err = NULL;

	g_assert_true(g_file_set_contents(a, "CONFIG_SMP=y\n", -1, NULL));
	g_assert_true(g_file_set_contents(d, "# hh: optional\nCONFIG_KASAN=y\n",
					  -1, NULL));
	without = hh_kernel_fragments(dir, NULL, 0, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(without->len, ==, 1);
	g_assert_cmpstr(without->pdata[0], ==, a);
	with = hh_kernel_fragments_with(dir, debug, NULL, 0, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(with->len, ==, 2);
	g_assert_cmpstr(with->pdata[0], ==, d);
	g_assert_null(hh_kernel_fragments_with(dir, nope, NULL, 0, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_CONFIG);
	g_clear_error(&err);
	/* a fragment every kernel gets cannot be asked for */
	g_assert_null(hh_kernel_fragments_with(dir, plain, NULL, 0, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_CONFIG);
	hh_rm_rf(dir, NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/torture/config", test_config);
	g_test_add_func("/torture/same-seed", test_same_seed);
	g_test_add_func("/torture/lines-parse", test_lines_parse);
	g_test_add_func("/torture/legal", test_legal);
	g_test_add_func("/torture/ddmin", test_ddmin);
	g_test_add_func("/torture/ddmin-one", test_ddmin_one);
	g_test_add_func("/torture/signature", test_signature);
	g_test_add_func("/torture/two-results", test_two_results);
	g_test_add_func("/torture/optional-fragment", test_optional_fragment);
	return g_test_run();
}
