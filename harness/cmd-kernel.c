/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "commands.h"
#include "hh-error.h"
#include "kbuild.h"
#include "paths.h"

#include <stdio.h>

int hh_cmd_kernel(int argc, char **argv)
{
	g_autofree char *source = NULL, *patches = NULL, *fragments = NULL;
	g_auto(GStrv) configs = NULL, extra = NULL;
	gboolean no_patches = FALSE, quiet = FALSE, distro = FALSE;
	gint jobs = 0;
	GOptionEntry entries[] = {
		{ "source", 's', 0, G_OPTION_ARG_FILENAME, &source,
		  "kernel source tarball or tree (default "
		  HH_DEFAULT_KERNEL_SOURCE ")", "DIR|TARBALL" },
		{ "patches", 'p', 0, G_OPTION_ARG_FILENAME, &patches,
		  "directory with a series file (default kernel-patches/6.1)",
		  "DIR" },
		{ "no-patches", 0, 0, G_OPTION_ARG_NONE, &no_patches,
		  "build the stock kernel", NULL },
		{ "fragments", 'f', 0, G_OPTION_ARG_FILENAME, &fragments,
		  "directory of *.config fragments (default configs/kernel)",
		  "DIR" },
		{ "config", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &configs,
		  "merge the optional fragment configs/kernel/NAME.config too "
		  "(debug); repeatable", "NAME" },
		{ "extra-patch", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &extra,
		  "apply this patch after the series (a planted bug); "
		  "repeatable", "FILE" },
		{ "distro", 0, 0, G_OPTION_ARG_NONE, &distro,
		  "also merge " HH_DISTRO_FRAGMENT " (kernels that boot a "
		  "Debian image)", NULL },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
		  "make -j (default: number of CPUs)", "N" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
		  "no progress on stderr", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"build - build a kernel, or find it in the cache");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhKernelBuild) b = NULL;
	HhKernelSpec spec = { 0 };
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Merges configs/kernel/*.config onto tinyconfig, checks every "
		"option\nended up set, builds bzImage with ccache and keeps it "
		"in a cache\nkeyed by the content of source, patches and "
		"fragments.\nPrints the bzImage path as the last line.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc != 2 || !g_str_equal(argv[1], "build")) {
		fprintf(stderr, "usage: hotplug-harness kernel build [OPTIONS] "
				"(see --help)\n");
		return HH_EXIT_USAGE;
	}
	spec.source = g_steal_pointer(&source);
	spec.patches_dir = no_patches ? NULL :
			   patches ? g_steal_pointer(&patches) :
				     hh_data_path("kernel-patches/6.1");
	spec.fragments_dir = fragments ? g_steal_pointer(&fragments) :
					 hh_data_path("configs/kernel");
	spec.configs = g_steal_pointer(&configs);
	spec.extra_patches = g_steal_pointer(&extra);
	spec.jobs = jobs > 0 ? (guint)jobs : 0;
	spec.quiet = quiet;
	spec.distro = distro;
	b = hh_kernel_build(&spec, &err);
	hh_kernel_spec_clear(&spec);
	if (!b)
		return hh_report_error(err);
	fprintf(stderr, "kernel: %s %s (%u patch(es), key %s) in %.2f s\n",
		b->waited ? "built by another process," :
		b->cached ? "cached" : "built", b->release, b->n_patches,
		b->key, b->seconds);
	printf("%s\n", b->bzimage);
	return HH_EXIT_OK;
}
