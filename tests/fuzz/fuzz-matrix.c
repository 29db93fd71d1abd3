/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the matrix parser (matrix.c) over the shipped
 * variants and scenarios, and the selection of its cells.  The matrix is
 * written to a private file, as hh_matrix_load() reads a path.
 */
#include "config.h"

#include "matrix.h"
#include "paths.h"

#include <glib/gstdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static char *path;

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autoptr(HhMatrix) m = NULL;
	g_autoptr(GPtrArray) cells = NULL;
	g_autoptr(GError) err = NULL, cerr = NULL;
	char *only[] = { g_strdup("*/*/*"), NULL };

	if (!path) {
		g_autofree char *dir = g_dir_make_tmp("hh-fuzz-XXXXXX", NULL);

		g_assert(dir);
		path = g_build_filename(dir, "fuzz.matrix", NULL);
		/* The shipped variants and scenarios, wherever this runs. */
		g_setenv("HH_DATADIR", HH_SRCDIR, TRUE);
		hh_paths_init();
	}
	g_assert(g_file_set_contents(path, (const char *)data, size, NULL));
	m = hh_matrix_load(path, &err);
	g_assert(m || err);
	if (m)
		cells = hh_matrix_cells(m, only, NULL, &cerr);
	g_free(only[0]);
	return 0;
}
