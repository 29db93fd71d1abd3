/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "commands.h"
#include "hh-error.h"
#include "image.h"
#include "kbuild.h"

#include <stdio.h>

int hh_cmd_image(int argc, char **argv)
{
	g_autofree char *suite = NULL, *mirror = NULL, *source = NULL;
	g_auto(GStrv) packages = NULL;
	gboolean quiet = FALSE;
	GOptionEntry entries[] = {
		{ "suite", 0, 0, G_OPTION_ARG_STRING, &suite,
		  "Debian suite (default " HH_IMAGE_DEFAULT_SUITE ")", "NAME" },
		{ "packages", 0, 0, G_OPTION_ARG_STRING_ARRAY, &packages,
		  "more packages (comma-separated; repeatable)", "LIST" },
		{ "mirror", 0, 0, G_OPTION_ARG_STRING, &mirror,
		  "Debian mirror (default: the machine's apt sources)", "URL" },
		{ "kernel-source", 's', 0, G_OPTION_ARG_FILENAME, &source,
		  "kernel tarball or tree whose selftests go in (default "
		  HH_DEFAULT_KERNEL_SOURCE ")", "DIR|TARBALL" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
		  "no progress on stderr", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"build | import FILE - a Debian disk image for rootfs= variants");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhImage) img = NULL;
	HhImageSpec spec = { 0 };
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"build: debootstrap a minimal Debian (systemd, udev, "
		"util-linux,\nnumactl, bash, kmod, bc) from the machine's apt "
		"sources, add the agent\nas a systemd unit, a udev rule that "
		"onlines hot-added memory and the\nkernel's hotplug selftests, "
		"and make a qcow2 image with mke2fs -d.\n"
		"import FILE: put the same into a cached qcow2 copy of a "
		"distro image\nyou have (partitioned or not) through "
		"libguestfs; FILE is never written.\n"
		"Both are cached by content and print the image path as the "
		"last line.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (!(argc == 2 && g_str_equal(argv[1], "build")) &&
	    !(argc == 3 && g_str_equal(argv[1], "import"))) {
		fprintf(stderr, "usage: hotplug-harness image build [OPTIONS] | "
				"image import FILE (see --help)\n");
		return HH_EXIT_USAGE;
	}
	spec.suite = g_steal_pointer(&suite);
	spec.packages = g_steal_pointer(&packages);
	spec.mirror = g_steal_pointer(&mirror);
	spec.kernel_source = g_steal_pointer(&source);
	spec.quiet = quiet;
	img = g_str_equal(argv[1], "build") ? hh_image_build(&spec, &err) :
					      hh_image_import(argv[2], &spec,
							      &err);
	hh_image_spec_clear(&spec);
	if (!img)
		return hh_report_error(err);
	fprintf(stderr, "image: %s (key %s, root %s %s) in %.2f s\n",
		img->cached ? "cached" : "built", img->key, img->root,
		img->fstype, img->seconds);
	printf("%s\n", img->path);
	return HH_EXIT_OK;
}
