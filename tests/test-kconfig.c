/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel-config checker: what fragments ask for against a .config. */
#include "hh-error.h"
#include "kconfig.h"

#include <glib.h>

static GHashTable *parse(const char *text)
{
	g_autoptr(GError) err = NULL;
	GHashTable *t = hh_kconfig_parse(text, "test.config", &err);

	g_assert_no_error(err);
	return t;
}

static void test_all_set(void)
{
	g_autoptr(GHashTable) asked = parse(
		"CONFIG_NUMA=y\n# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE is not set\n"
		"CONFIG_NR_CPUS=16\n");
	g_autoptr(GHashTable) final = parse(
		"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
		"CONFIG_NUMA=y\nCONFIG_NR_CPUS=16\nCONFIG_OTHER=m\n"
		"# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE is not set\n");
	g_autoptr(GPtrArray) bad = hh_kconfig_check(asked, final);

	g_assert_cmpuint(bad->len, ==, 0);
}

static void test_dropped_options_listed(void)
{
	/* What tinyconfig + a fragment with a missing dependency gives:
	 * TMPFS=y asked but SHMEM is off, so Kconfig silently drops it. */
	g_autoptr(GHashTable) asked = parse(
		"CONFIG_TMPFS=y\nCONFIG_SLUB=y\n"
		"# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE is not set\n"
		"CONFIG_NR_CPUS=16\n");
	g_autoptr(GHashTable) final = parse(
		"# CONFIG_TMPFS is not set\nCONFIG_SLOB=y\n"
		"CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE=y\nCONFIG_NR_CPUS=8\n");
	g_autoptr(GPtrArray) bad = hh_kconfig_check(asked, final);

	g_assert_cmpuint(bad->len, ==, 4);
	g_assert_cmpstr(bad->pdata[0], ==,
			"CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE: asked not set, but it is y");
	g_assert_cmpstr(bad->pdata[1], ==,
			"CONFIG_NR_CPUS=16 asked, but it is 8");
	g_assert_cmpstr(bad->pdata[2], ==,
			"CONFIG_SLUB=y asked, but it is not set (a dependency is missing)");
	g_assert_cmpstr(bad->pdata[3], ==,
			"CONFIG_TMPFS=y asked, but it is not set (a dependency is missing)");
}

static void test_malformed_fragment(void)
{
	g_autoptr(GError) err = NULL;
	GHashTable *t = hh_kconfig_parse("CONFIG_A=y\nNUMA=y\n", "frag.config",
					 &err);

	g_assert_null(t);
	g_assert_error(err, HH_ERROR, HH_ERROR_CONFIG);
	g_assert_true(g_str_has_prefix(err->message, "frag.config:2:1: "));
	g_clear_error(&err);
	t = hh_kconfig_parse("CONFIG_A=\n", "f", &err);
	g_assert_null(t);
}

static void test_enabled(void)
{
	g_autoptr(GHashTable) c = parse("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n");

	g_assert_true(hh_kconfig_enabled(c, "CONFIG_A"));
	g_assert_true(hh_kconfig_enabled(c, "CONFIG_B"));
	g_assert_false(hh_kconfig_enabled(c, "CONFIG_C"));
	g_assert_false(hh_kconfig_enabled(c, "CONFIG_D"));
}

static void test_shipped_fragment_is_well_formed(void)
{
	g_autofree char *path = g_build_filename(g_getenv("HH_SRCDIR") ?: ".",
						 "configs", "kernel",
						 "hotplug.config", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) t = hh_kconfig_load(path, &err);
	static const char *const required[] = {
		"CONFIG_BUG", "CONFIG_SLUB", "CONFIG_PRINTK", "CONFIG_KALLSYMS",
		"CONFIG_DYNAMIC_DEBUG", "CONFIG_NUMA", "CONFIG_MEMORY_HOTPLUG",
		"CONFIG_MEMORY_HOTREMOVE", "CONFIG_SPARSEMEM_VMEMMAP",
		"CONFIG_ARCH_MEMORY_PROBE", "CONFIG_HOTPLUG_CPU", "CONFIG_ACPI",
		"CONFIG_ACPI_HOTPLUG_MEMORY", "CONFIG_ACPI_HOTPLUG_CPU",
		"CONFIG_DEBUG_FS", "CONFIG_SCHED_DEBUG", "CONFIG_PCI",
		"CONFIG_VIRTIO_PCI", "CONFIG_VIRTIO_CONSOLE",
		"CONFIG_SERIAL_8250_CONSOLE", "CONFIG_DEVTMPFS",
		"CONFIG_BLK_DEV_INITRD", NULL,
	};

	g_assert_no_error(err);
	for (int i = 0; required[i]; i++)
		g_assert_cmpstr(g_hash_table_lookup(t, required[i]), ==, "y");
	g_assert_cmpstr(g_hash_table_lookup(t, "CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE"),
			==, "n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kconfig/all-set-passes", test_all_set);
	g_test_add_func("/kconfig/dropped-options-listed", test_dropped_options_listed);
	g_test_add_func("/kconfig/malformed-fragment-names-line", test_malformed_fragment);
	g_test_add_func("/kconfig/enabled", test_enabled);
	g_test_add_func("/kconfig/shipped-fragment-asks-for-required", test_shipped_fragment_is_well_formed);
	return g_test_run();
}
