/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_MATRIX_H
#define HH_MATRIX_H

#include <glib.h>

#include "kbuild.h"
#include "scenario.h"
#include "variant.h"

/*
 * A matrix file (configs/NAME.matrix, a key file; see docs/scenarios.md):
 * kernels x variants x scenarios, narrowed by include/exclude globs over
 * cell names and by each scenario's variants line.  Everything is parsed
 * and every combination validated before anything is built or booted.
 */
typedef struct {
	char *name;
	HhKernelSpec spec;
} HhMatrixKernel;

typedef struct {
	char *name;		/* kernel/variant/scenario */
	HhMatrixKernel *kernel;
	HhVariant *variant;
	HhScenario *scenario;	/* parsed with the variant's [params] */
} HhMatrixCell;

typedef struct {
	char *path;
	GPtrArray *kernels;	/* HhMatrixKernel* */
	GPtrArray *variants;	/* HhVariant* */
	GPtrArray *scenarios;	/* HhScenario*, parsed without [params] */
	GStrv include;		/* cell-name globs; NULL: all */
	GStrv exclude;
	char *backend;		/* [matrix] backend=qemu|libvirt, or NULL */
	char *connect;		/* [matrix] connect=URI (libvirt), or NULL */
	GPtrArray *hosts;	/* HhHostSpec*: [hosts] file= and [host NAME]
				 * groups (hosts.h); empty: one host */
	char *hosts_file;	/* [hosts] file=, resolved, or NULL */
} HhMatrix;

HhMatrix *hh_matrix_load(const char *path, GError **error);
void hh_matrix_free(HhMatrix *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhMatrix, hh_matrix_free)

/*
 * The cells to run (HhMatrixCell*, owned by the array), selected by the
 * matrix's include/exclude and the command line's only/exclude globs.
 * Fails listing every impossible combination.
 */
GPtrArray *hh_matrix_cells(HhMatrix *m, char **only, char **exclude,
			   GError **error);

/*
 * Keeps shard k (1..n) of n: a cell's shard is a hash of its name, so the
 * same cells fall in the same shard whatever the order of the files, and
 * the n shards together are every cell once.
 */
void hh_matrix_cells_shard(GPtrArray *cells, guint k, guint n);
guint hh_matrix_shard_of(const char *cell, guint n);

/* Checks that a scenario can run on a variant (addresses inside RAM and
 * outside PCI holes, node and CPU ids inside the topology). */
gboolean hh_validate_combination(const HhVariant *v, const HhScenario *s,
				 GError **error);

#endif
