/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_RESULTS_IMPORT_H
#define HH_RESULTS_IMPORT_H

#include <glib.h>

/*
 * `results import`: the runs of several results directories (the shards
 * of one matrix, each run by `run --shard K/N` on its own CI job) become
 * one run of the results directory `into`: every cell's files copied
 * under DIR/<new run id>/, the cells and kernels in its archive, run.json
 * and the HTML report, so report, compare and nightly see one run.
 *
 * Each source is a results directory (its newest run is taken) or a run
 * directory RESULTS/RUN.  Two sources with the same cell are an error, as
 * are sources of different matrices.  Returns the new run's id.
 */
char *hh_results_import(const char *into, const char *const *sources,
			gboolean quiet, GError **error);

#endif
