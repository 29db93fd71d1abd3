/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "commands.h"
#include "hh-error.h"
#include "initramfs.h"
#include "paths.h"

#include <stdio.h>

int hh_cmd_initramfs(int argc, char **argv)
{
	g_autofree char *agent = NULL, *busybox = NULL;
	GOptionEntry entries[] = {
		{ "agent", 0, 0, G_OPTION_ARG_FILENAME, &agent,
		  "the static guest agent (default: the built one)", "FILE" },
		{ "busybox", 0, 0, G_OPTION_ARG_FILENAME, &busybox,
		  "a static busybox (default: " HH_BUSYBOX ")", "FILE" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"build - build the guest initramfs, or find it in the cache");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhInitramfs) img = NULL;
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"A gzip newc cpio with the agent as /init and busybox; the "
		"same inputs\ngive a byte-identical image.  Prints its path "
		"as the last line.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc != 2 || !g_str_equal(argv[1], "build")) {
		fprintf(stderr, "usage: hotplug-harness initramfs build "
				"[OPTIONS] (see --help)\n");
		return HH_EXIT_USAGE;
	}
	img = hh_initramfs_build(agent ? agent : hh_agent_path(),
				 busybox ? busybox : hh_busybox_path(), &err);
	if (!img)
		return hh_report_error(err);
	fprintf(stderr, "initramfs: %s\n", img->cached ? "cached" : "built");
	printf("%s\n", img->path);
	return HH_EXIT_OK;
}
