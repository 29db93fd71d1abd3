/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scenario parser: every shipped scenario parses, and errors read
 * file:line:column: what was expected. */
#include "hh-error.h"
#include "scenario.h"
#include "variant.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

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

static void test_removal_and_virtio_mem(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhScenario) s = parse(
		"requires kernel < 6.9 because \"vCPU hot-add needs a hypervisor\"\n"
		"requires accel kvm mttcg\n"
		"requires kernel >= 6.1.5\n"
		"virtio-mem-add vm1 node=1 size=512M block=4M\n"
		"virtio-mem vm1 plugged 0\n"
		"virtio-mem-resize vm1 128M\n"
		"virtio-mem vm1 plugged 128M within=20s\n"
		"virtio-mem vm1 plugged >0\n"
		"virtio-mem vm1 plugged <0x10000000\n"
		"device-del vm1 -> refused\n"
		"vcpu-del cpu1\n"
		"cpu 1 absent within=10s\n"
		"cpu 0 present\n"
		"vcpu-del cpu2 -> refused\n"
		"virtio-mem-add vm2 size=1G\n",
		&err);
	HhRequire *r;
	HhStep *st;
	HhExpect *e;

	g_assert_no_error(err);
	g_assert_cmpuint(s->requires->len, ==, 3);
	r = s->requires->pdata[0];
	g_assert_cmpint(r->kind, ==, HH_REQ_KERNEL);
	g_assert_true(r->below);
	g_assert_cmpstr(r->value, ==, "6.9");
	g_assert_cmpstr(r->because, ==, "vCPU hot-add needs a hypervisor");
	r = s->requires->pdata[1];
	g_assert_cmpint(r->kind, ==, HH_REQ_ACCEL);
	g_assert_cmpstr(r->value, ==, "kvm mttcg");
	g_assert_null(r->because);
	r = s->requires->pdata[2];
	g_assert_false(r->below);
	g_assert_cmpstr(r->value, ==, "6.1.5");
	g_assert_cmpuint(s->steps->len, ==, 7);
	st = s->steps->pdata[1];
	g_assert_cmpint(st->kind, ==, HH_ACT_VIRTIO_MEM_ADD);
	g_assert_cmpstr(st->id, ==, "vm1");
	g_assert_cmpint(st->node, ==, 1);
	g_assert_cmpuint(st->size, ==, 512ull << 20);
	g_assert_cmpuint(st->block_size, ==, 4ull << 20);
	e = st->expects->pdata[0];
	g_assert_cmpint(e->kind, ==, HH_EXP_VIRTIO_MEM);
	g_assert_cmpstr(e->device, ==, "vm1");
	g_assert_cmpint(e->cmp, ==, HH_CMP_EQ);
	g_assert_cmpuint(e->size, ==, 0);
	st = s->steps->pdata[2];
	g_assert_cmpint(st->kind, ==, HH_ACT_VIRTIO_MEM_RESIZE);
	g_assert_cmpuint(st->size, ==, 128ull << 20);
	g_assert_cmpuint(st->expects->len, ==, 3);
	e = st->expects->pdata[0];
	g_assert_cmpuint(e->within_ms, ==, 20000);
	e = st->expects->pdata[1];
	g_assert_cmpint(e->cmp, ==, HH_CMP_GT);
	g_assert_cmpuint(e->size, ==, 0);
	e = st->expects->pdata[2];
	g_assert_cmpint(e->cmp, ==, HH_CMP_LT);
	g_assert_cmpuint(e->size, ==, 256ull << 20);
	st = s->steps->pdata[3];
	g_assert_cmpint(st->kind, ==, HH_ACT_DEVICE_DEL);
	g_assert_true(st->expect_refused);
	st = s->steps->pdata[4];
	g_assert_cmpint(st->kind, ==, HH_ACT_VCPU_DEL);
	g_assert_false(st->expect_refused);
	e = st->expects->pdata[0];
	g_assert_cmpint(e->kind, ==, HH_EXP_CPU_STATE);
	g_assert_cmpstr(e->value, ==, "absent");
	g_assert_cmpstr(((HhExpect *)st->expects->pdata[1])->value, ==,
			"present");
	st = s->steps->pdata[5];
	g_assert_true(st->expect_refused);
	st = s->steps->pdata[6];
	g_assert_cmpint(st->node, ==, -1);
	g_assert_cmpuint(st->block_size, ==, 0);
	g_assert_cmpuint(st->size, ==, 1ull << 30);
}

static void test_kernel_version_cmp(void)
{
	g_assert_cmpint(hh_kernel_version_cmp("6.1.192", "6.9"), <, 0);
	g_assert_cmpint(hh_kernel_version_cmp("6.12.117", "6.9"), >, 0);
	g_assert_cmpint(hh_kernel_version_cmp("6.9", "6.9.0"), ==, 0);
	g_assert_cmpint(hh_kernel_version_cmp("6.10-rc1", "6.9"), >, 0);
	g_assert_cmpint(hh_kernel_version_cmp("5.15.0", "6.1"), <, 0);
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

/* The distro additions: udev-settle, selftest (a guest command through
 * the kselftest runner), collect. */
static void test_distro_actions(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhScenario) s = parse(
		"collect /var/log/dpkg.log\n"
		"collect /etc/fstab\n"
		"udev-settle\n"
		"udev-settle timeout=5s\n"
		"selftest timeout=90s memory-hotplug:mem-on-off-test.sh\n"
		"taint 0\n", &err);
	HhStep *st;

	g_assert_no_error(err);
	g_assert_cmpuint(s->collect->len, ==, 2);
	g_assert_cmpstr(s->collect->pdata[1], ==, "/etc/fstab");
	g_assert_null(s->collect->pdata[2]);	/* NULL-terminated */
	g_assert_cmpuint(s->steps->len, ==, 4);
	st = s->steps->pdata[1];
	g_assert_cmpint(st->kind, ==, HH_ACT_UDEV_SETTLE);
	g_assert_cmpstr(st->argv[0], ==, "udevadm");
	g_assert_cmpstr(st->argv[2], ==, "--timeout=30");
	st = s->steps->pdata[2];
	g_assert_cmpstr(st->argv[2], ==, "--timeout=5");
	st = s->steps->pdata[3];
	g_assert_cmpint(st->kind, ==, HH_ACT_SELFTEST);
	g_assert_cmpuint(st->timeout_ms, ==, 90000);
	g_assert_cmpstr(st->value, ==, "memory-hotplug:mem-on-off-test.sh");
	g_assert_cmpstr(st->argv[0], ==, "sh");
	g_assert_nonnull(strstr(st->argv[2], "./run_kselftest.sh -t "
				"memory-hotplug:mem-on-off-test.sh"));
	g_assert_nonnull(strstr(st->argv[2], "| cat"));
	g_assert_cmpuint(st->expects->len, ==, 1);
}

static void test_errors_name_line_and_column(void)
{
	expect_error("frobnicate x\n",
		     "t.scenario:1:1: expected an action (write, read, run, "
		     "dimm-add, vcpu-add, device-del, vcpu-del, virtio-mem-add, "
		     "virtio-mem-resize, udev-settle, selftest, mark), an "
		     "expectation (log, no-log, file, node, cpu, block, "
		     "virtio-mem, taint) or a header (description, requires, "
		     "variants, expect-crash, boot, collect), got 'frobnicate'");
	expect_error("selftest mem-on-off-test.sh\n",
		     "t.scenario:1:10: expected COLLECTION:TEST like "
		     "memory-hotplug:mem-on-off-test.sh (letters, digits, - _ . "
		     "only), got 'mem-on-off-test.sh'");
	expect_error("selftest a:b;reboot\n",
		     "t.scenario:1:10: expected COLLECTION:TEST like "
		     "memory-hotplug:mem-on-off-test.sh (letters, digits, - _ . "
		     "only), got 'a:b;reboot'");
	expect_error("collect var/log/x\n",
		     "t.scenario:1:9: expected an absolute guest path, got "
		     "'var/log/x'");
	expect_error("udev-settle timeout=soon\n",
		     "t.scenario:1:21: expected a duration like 500ms or 5s "
		     "(at most 24h), got 'soon'");
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
		     "t.scenario:1:17: expected >= or <, got '6.1'");
	expect_error("requires kernel < six\n",
		     "t.scenario:1:19: expected a kernel version like 6.9, got 'six'");
	expect_error("requires accel hvf\n",
		     "t.scenario:1:16: expected kvm, tcg or mttcg, got 'hvf'");
	expect_error("requires accel kvm hvf\n",
		     "t.scenario:1:20: expected kvm, tcg or mttcg, got 'hvf'");
	expect_error("requires accel kvm because\n",
		     "t.scenario:1:27: expected a reason in quotes");
	expect_error("requires moon full\n",
		     "t.scenario:1:10: expected 'config CONFIG_NAME', "
		     "'path /absolute/path', 'nodes N', 'cpus N', "
		     "'kernel >= V', 'kernel < V' or 'accel kvm|tcg|mttcg'");
	expect_error("virtio-mem-add vm1 node=1\n",
		     "t.scenario:1:26: expected size=SIZE (the device's maximum)");
	expect_error("virtio-mem-add vm1 size=lots\n",
		     "t.scenario:1:25: expected a size like 128M, got 'lots'");
	expect_error("virtio-mem-add vm1 size=1G slots=2\n",
		     "t.scenario:1:28: expected node=N, size=SIZE or block=SIZE");
	expect_error("virtio-mem-resize vm1\n",
		     "t.scenario:1:22: expected a size like 128M");
	expect_error("virtio-mem-resize vm1 128M now\n",
		     "t.scenario:1:28: unexpected 'now' at end of line");
	expect_error("virtio-mem vm1 size 128M\n",
		     "t.scenario:1:16: expected plugged, got 'size'");
	expect_error("virtio-mem vm1 plugged ~128M\n",
		     "t.scenario:1:24: expected a size like 128M, <128M or >0, got '~128M'");
	expect_error("device-del d1 -> EBUSY\n",
		     "t.scenario:1:18: expected refused, got 'EBUSY'");
	expect_error("vcpu-del c1 ok\n",
		     "t.scenario:1:13: unexpected 'ok' at end of line");
	expect_error("cpu 1 gone\n",
		     "t.scenario:1:7: expected online or offline or present or absent, got 'gone'");
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
	g_test_add_func("/scenario/removal-and-virtio-mem", test_removal_and_virtio_mem);
	g_test_add_func("/scenario/kernel-version-cmp", test_kernel_version_cmp);
	g_test_add_func("/scenario/errors-name-line-and-column", test_errors_name_line_and_column);
	g_test_add_func("/scenario/distro-actions", test_distro_actions);
	g_test_add_func("/scenario/shipped-scenarios-parse", test_shipped_scenarios_parse);
	return g_test_run();
}
