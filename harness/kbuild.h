/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_KBUILD_H
#define HH_KBUILD_H

#include <glib.h>

#define HH_DEFAULT_KERNEL_SOURCE "/usr/src/linux-source-6.1.tar.xz"

/* What to build: the inputs of the content-keyed cache. */
typedef struct {
	char *source;		/* tarball or directory; NULL: the default */
	char *patches_dir;	/* directory with a series file; NULL: none */
	char *fragments_dir;	/* configs/kernel */
	char **configs;		/* optional fragments of fragments_dir to
				 * merge too, by name ("debug"); or NULL */
	char **extra_patches;	/* patch files applied after the series
				 * (a test's planted bug); or NULL */
	guint jobs;		/* make -j; 0: number of CPUs */
	gboolean quiet;		/* no progress lines on stderr */
	gboolean distro;	/* also merge fragments_dir's distro.config */
} HhKernelSpec;

/* The opt-in fragment of kernels that boot a disk image (a Debian
 * userspace): left out of the default set, merged when spec.distro. */
#define HH_DISTRO_FRAGMENT "distro.config"

typedef struct {
	char *key;		/* cache key (hex) */
	char *dir;		/* cache directory of this build */
	char *bzimage;
	char *config;		/* the final .config */
	char *release;		/* make kernelrelease */
	char *source_identity;
	guint n_patches;
	gboolean cached;	/* TRUE: nothing was built by this call */
	gboolean waited;	/* another process built it while we waited */
	double seconds;		/* build time (of this call) */
} HhKernelBuild;

void hh_kernel_spec_clear(HhKernelSpec *spec);
void hh_kernel_build_free(HhKernelBuild *build);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhKernelBuild, hh_kernel_build_free)

/* The list of patch files named by DIR/series, in order; may be empty. */
GPtrArray *hh_kernel_series(const char *patches_dir, GError **error);

/* The fragments to merge: DIR's *.config (sorted; at least one) except
 * HH_DISTRO_FRAGMENT, then PATCHES_DIR's own (options only a patched kernel
 * knows) when n_patches patches are applied.  A fragment whose first line
 * is "# hh: optional" (configs/kernel/debug.config) is merged only when
 * asked for. */
GPtrArray *hh_kernel_fragments(const char *dir, const char *patches_dir,
			       guint n_patches, GError **error);
/* The same, with the optional fragments named in configs (NULL: none);
 * a name that is not an optional fragment of DIR is an error. */
GPtrArray *hh_kernel_fragments_with(const char *dir, char **configs,
				    const char *patches_dir, guint n_patches,
				    GError **error);

/*
 * Configures and builds a bzImage in the tree src with objects in build
 * (O=): tinyconfig, the fragments merged with the tree's merge_config.sh,
 * olddefconfig, every option asked for checked in the final .config, then
 * make bzImage with ccache (spec gives jobs and quiet only).  Incremental
 * when build holds an earlier build.  make's output goes to log,
 * merge_config.sh's to merge.log beside it; *release (may be NULL) gets
 * make kernelrelease.
 */
gboolean hh_kernel_make(const HhKernelSpec *spec, const char *src,
			const char *build, GPtrArray *fragments,
			const char *log, char **release, GError **error);

/* Builds (or finds in the cache) a bzImage. */
HhKernelBuild *hh_kernel_build(const HhKernelSpec *spec, GError **error);

/* NULL if the bzImage is whole (as long as its boot header says), else
 * what is wrong with it ("truncated: N of M bytes"). */
char *hh_bzimage_damage(const char *path);

#endif
