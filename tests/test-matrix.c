/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Variant checks and scenario x variant validation, before any boot. */
#include "hh-error.h"
#include "matrix.h"
#include "variant.h"

#include <glib.h>

static HhVariant *variant(const char *text)
{
	g_autoptr(GError) err = NULL;
	HhVariant *v = hh_variant_parse(text, "v.variant", &err);

	g_assert_no_error(err);
	return v;
}

static void variant_error(const char *text, const char *message)
{
	g_autoptr(GError) err = NULL;
	HhVariant *v = hh_variant_parse(text, "v.variant", &err);

	g_assert_null(v);
	g_assert_error(err, HH_ERROR, HH_ERROR_CONFIG);
	g_assert_cmpstr(err->message, ==, message);
}

static gboolean combine(HhVariant *v, const char *scenario, char **message)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhScenario) s = hh_scenario_parse(scenario, "s.scenario",
						    v->params, &err);

	g_assert_no_error(err);
	if (hh_validate_combination(v, s, &err))
		return TRUE;
	*message = g_strdup(err->message);
	return FALSE;
}

static void test_variant_checks(void)
{
	variant_error("[variant]\nmemory=1G\ncpus=4\nmaxcpus=2\n",
		      "v.variant: maxcpus=2 is below cpus=4");
	variant_error("[variant]\nmemory=1G\ncpus=2\ncmdline=maxcpus=4\n",
		      "v.variant: kernel maxcpus=4 is above the topology's maxcpus=2");
	variant_error("[variant]\nmemory=1G\ncmdline=mem=2G\n",
		      "v.variant: kernel mem=2G is above the guest's memory");
	variant_error("[variant]\nmemory=1G\nslots=2\n",
		      "v.variant: slots=2 needs maxmem= above memory=");
	variant_error("[variant]\nmemory=1G\n[node 0]\nmemory=512M\n",
		      "v.variant: the nodes' memory adds up to 512 MiB but memory= is 1024 MiB");
	variant_error("[variant]\nmemory=1G\n[node 1]\nmemory=1G\n",
		      "v.variant: NUMA node ids must run 0..N-1 without gaps; node 0 is missing");
	variant_error("[variant]\nmemory=1G\nmaxcpus=2\n[node 0]\nmemory=1G\ncpus=0-2\n",
		      "v.variant: [node 0] cpus: CPU 2 is beyond maxcpus=2");
	variant_error("[variant]\nmemory=lots\n",
		      "v.variant: [variant] memory: 'lots' is not a size (examples: 128M, 3G, 0x8000000)");
	variant_error("[variant]\nmemory=1G\ntcg-threads=many\n",
		      "v.variant: tcg-threads is 'many', expected single or multi");
	{
		g_autoptr(HhVariant) one = variant("[variant]\nmemory=1G\n");
		g_autoptr(HhVariant) mt = variant(
			"[variant]\nmemory=1G\ntcg-threads=multi\n");

		g_assert_false(one->tcg_multi);
		g_assert_true(mt->tcg_multi);
	}
	variant_error("[variant]\nmemory=1G\n[nodes]\n",
		      "v.variant: unknown group [nodes] (expected [variant], [node N], [virtio-mem ID] or [params])");
	variant_error("[variant]\nmemory=1G\nmaxmem=2G\n[virtio-mem v0]\n",
		      "v.variant: [virtio-mem v0] needs size= (a size like 3G)");
	variant_error("[variant]\nmemory=1G\nmaxmem=2G\n[virtio-mem v/0]\nsize=1G\n",
		      "v.variant: [virtio-mem v/0]: the id takes letters, digits, '-' and '_'");
	variant_error("[variant]\nmemory=1G\nmaxmem=2G\n[virtio-mem v0]\nsize=2G\n",
		      "v.variant: the virtio-mem devices need maxmem= of at least memory= plus their sizes (3072 MiB)");
	variant_error("[variant]\nmemory=1G\nmaxmem=2G\n[virtio-mem v0]\nsize=512M\nrequested=1G\n",
		      "v.variant: [virtio-mem v0] requested= is above size=");
	variant_error("[variant]\nmemory=1G\nmaxmem=2G\n[node 0]\nmemory=1G\n[virtio-mem v0]\nsize=512M\nnode=1\n",
		      "v.variant: [virtio-mem v0] node=1: the guest has no such node");
	{
		g_autoptr(HhVariant) vm = variant(
			"[variant]\nmemory=1G\nmaxmem=2G\n[node 0]\nmemory=1G\n"
			"[node 1]\nmemory=0\n[virtio-mem vm0]\nnode=1\n"
			"size=512M\nrequested=128M\nblock=4M\n");
		HhVirtioMem *m;

		g_assert_cmpuint(vm->virtio_mems->len, ==, 1);
		m = vm->virtio_mems->pdata[0];
		g_assert_cmpstr(m->id, ==, "vm0");
		g_assert_cmpint(m->node, ==, 1);
		g_assert_cmpuint(m->size, ==, 512ull << 20);
		g_assert_cmpuint(m->requested, ==, 128ull << 20);
		g_assert_cmpuint(m->block, ==, 4ull << 20);
	}
}

static void test_addresses(void)
{
	g_autoptr(HhVariant) pc = variant("[variant]\nmemory=3G\ncmdline=mem=2G\n");
	g_autoptr(HhVariant) q35 = variant("[variant]\nmachine=q35\nmemory=3G\n");
	g_autoptr(HhVariant) big = variant("[variant]\nmemory=4G\n");
	char *msg = NULL;

	g_assert_true(combine(pc, "write /sys/devices/system/memory/probe 0x80000000\n", &msg));
	g_assert_false(combine(pc, "write /sys/devices/system/memory/probe 0xc0000000\n", &msg));
	g_assert_cmpstr(msg, ==, "s.scenario:1:1: address 0xc0000000 is beyond the "
			"guest's 3072 MiB of RAM on variant v (v.variant)");
	g_free(msg);
	g_assert_false(combine(q35, "write /sys/devices/system/memory/probe 0x80000000\n", &msg));
	g_assert_cmpstr(msg, ==, "s.scenario:1:1: address 0x80000000 is inside the q35 "
			"PCI hole (RAM below 4 GiB ends at 0x80000000) on variant v (v.variant)");
	g_free(msg);
	g_assert_true(combine(q35, "write /sys/devices/system/memory/probe 0x100000000\n", &msg));
	/* pc with 4G: 3G low, 1G from 4G on. */
	g_assert_true(combine(big, "write /sys/devices/system/memory/probe 0x138000000\n", &msg));
	g_assert_false(combine(big, "write /sys/devices/system/memory/probe 0xd0000000\n", &msg));
	g_free(msg);
	/* A scenario expecting a crash may go where others may not. */
	g_assert_true(combine(q35, "expect-crash \"BUG\"\n"
			      "write /sys/devices/system/memory/probe 0x80000000\n", &msg));
}

static void test_nodes_and_cpus(void)
{
	g_autoptr(HhVariant) numa = variant(
		"[variant]\nmemory=1G\nslots=2\nmaxmem=2G\nmaxcpus=2\n"
		"[node 0]\nmemory=1G\ncpus=0\n[node 1]\nmemory=0\ncpus=1\n");
	g_autoptr(HhVariant) possible = variant(
		"[variant]\nmemory=3G\ncmdline=mem=2G numa=possible=4\n");
	char *msg = NULL;

	g_assert_true(combine(numa, "dimm-add d 128M node=1\nnode 1 online\n", &msg));
	g_assert_false(combine(numa, "dimm-add d 128M node=2\n", &msg));
	g_assert_cmpstr(msg, ==, "s.scenario:1:1: node 2 is beyond the topology's 2 "
			"node(s) on variant v (v.variant)");
	g_free(msg);
	g_assert_false(combine(numa, "cpu 2 online\n", &msg));
	g_assert_cmpstr(msg, ==, "s.scenario:1:1: CPU 2 is beyond maxcpus=2 on variant v (v.variant)");
	g_free(msg);
	g_assert_false(combine(numa, "cpu 1 online node=3\n", &msg));
	g_free(msg);
	/* numa=possible=4 makes nodes 1-4 nameable. */
	g_assert_true(combine(possible, "node 4 offline\n", &msg));
	g_assert_false(combine(possible, "node 5 offline\n", &msg));
	g_free(msg);
	g_assert_false(combine(possible, "dimm-add d 128M\n", &msg));
	g_assert_cmpstr(msg, ==, "s.scenario:1:1: dimm-add needs slots= and maxmem= "
			"on variant v (v.variant)");
	g_free(msg);
}

static void test_params(void)
{
	g_autoptr(HhVariant) v = variant("[variant]\nmemory=3G\ncmdline=mem=2G\n"
					 "[params]\nhidden=0x80000000\nblock=16\n");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhScenario) s = hh_scenario_parse(
		"write /sys/devices/system/memory/probe ${hidden}\n"
		"block ${block} offline\nblock ${nope} online\n",
		"s.scenario", v->params, &err);
	HhStep *st;

	g_assert_no_error(err);
	st = s->steps->pdata[1];
	g_assert_cmpstr(st->value, ==, "0x80000000");
	g_assert_cmpint(((HhExpect *)st->expects->pdata[0])->id, ==, 16);
	g_assert_nonnull(s->unresolved);
	g_assert_cmpstr(s->unresolved->message, ==,
			"s.scenario:3:7: ${nope} is not defined by the variant's [params]");
}

/* Found by the variant fuzz target: many ranges in one cpus= list grew
 * an array past 2 GiB.  At most 4096 ids in all. */
static void test_id_list_bounded(void)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GString) many = g_string_new("0-4000");

	g_assert_true(hh_parse_id_list("0-4095", ids));
	g_assert_cmpuint(ids->len, ==, 4096);
	g_array_set_size(ids, 0);
	g_assert_false(hh_parse_id_list("0-4096", ids));
	g_array_set_size(ids, 0);
	for (int i = 0; i < 1000; i++)
		g_string_append(many, ",0-4000");
	g_assert_false(hh_parse_id_list(many->str, ids));
	g_assert_cmpuint(ids->len, <=, 4096);
	/* strtoull saturates at 2^64-1, where x++ wrapped for ever. */
	g_array_set_size(ids, 0);
	g_assert_false(hh_parse_id_list("0,33333333333333333333333333", ids));
	g_assert_false(hh_parse_id_list("65536", ids));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/matrix/variant-checks", test_variant_checks);
	g_test_add_func("/matrix/id-list-bounded", test_id_list_bounded);
	g_test_add_func("/matrix/addresses-inside-ram-outside-holes", test_addresses);
	g_test_add_func("/matrix/nodes-and-cpus-inside-topology", test_nodes_and_cpus);
	g_test_add_func("/matrix/variant-params-in-scenarios", test_params);
	return g_test_run();
}
