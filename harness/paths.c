/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "paths.h"

#include <unistd.h>

static char *data_dir;
static char *agent;
static char *cache_dir;

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = g_getenv(name);

	return v && *v ? v : fallback;
}

void hh_paths_init(void)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *exe_dir = exe ? g_path_get_dirname(exe) : NULL;
	g_autofree char *build_dir = g_canonicalize_filename(HH_BUILDDIR, "/");
	gboolean uninstalled = exe_dir && g_str_equal(exe_dir, build_dir);

	g_free(data_dir);
	g_free(agent);
	g_free(cache_dir);
	data_dir = g_strdup(env_or("HH_DATADIR",
				   uninstalled ? HH_SRCDIR : HH_PKGDATADIR));
	agent = uninstalled ?
		g_build_filename(HH_BUILDDIR, "guest-initramfs", "hh-agent",
				 NULL) :
		g_build_filename(HH_PKGLIBEXECDIR, "hh-agent", NULL);
	if (g_getenv("HH_AGENT")) {
		g_free(agent);
		agent = g_strdup(g_getenv("HH_AGENT"));
	}
	cache_dir = g_getenv("HH_CACHE_DIR") ?
		g_strdup(g_getenv("HH_CACHE_DIR")) :
		g_build_filename(g_get_user_cache_dir(), "hotplug-harness",
				 NULL);
}

char *hh_data_path(const char *relative)
{
	return g_build_filename(data_dir, relative, NULL);
}

const char *hh_data_dir(void)
{
	return data_dir;
}

const char *hh_agent_path(void)
{
	return agent;
}

const char *hh_busybox_path(void)
{
	return env_or("HH_BUSYBOX", HH_BUSYBOX);
}

const char *hh_qemu_path(void)
{
	return env_or("HH_QEMU", HH_QEMU);
}

const char *hh_cache_dir(void)
{
	return cache_dir;
}

char *hh_resolve_config(const char *path)
{
	/* Absolute: children (patch, make) run in other directories. */
	if (g_path_is_absolute(path) || g_file_test(path, G_FILE_TEST_EXISTS))
		return g_canonicalize_filename(path, NULL);
	return hh_data_path(path);
}
