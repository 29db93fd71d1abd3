/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_RUN_H
#define HH_RUN_H

#include <glib.h>

#include "cell.h"
#include "vm.h"

/*
 * The run engine: builds what the matrix needs (cached), then boots every
 * selected cell kernel x variant x scenario through a VM backend, -j at a
 * time, printing KTAP on stdout and progress on stderr, archiving each
 * cell as it ends.  `run`, `nightly` and `bisect-step` all come here with
 * an options struct.
 */
typedef enum {
	HH_BOOT_AUTO,		/* a saved boot for groups of 2+ cells */
	HH_BOOT_COLD,
	HH_BOOT_SNAPSHOT,	/* a saved boot for every group */
} HhBootMode;

typedef struct {
	const char *matrix;	/* NULL: configs/default.matrix (or the
				 * resumed run's) */
	const char *results;	/* NULL: "results" */
	const char *const *only;	/* globs, NULL-terminated, or NULL */
	const char *const *exclude;
	const char *const *kernel_builds;	/* "NAME=DIR" */
	const char *suppressions;	/* NULL: configs/suppressions */
	const char *resume;	/* a run id to finish, or NULL */
	const char *label;
	const char *backend;	/* NULL: the matrix's, else "qemu" */
	const char *connect;	/* libvirt URI; NULL: the matrix's or embedded */
	const char *hosts;	/* a hosts file (hosts.h); NULL: the matrix's
				 * [hosts], else one host */
	gboolean insecure_tcp;	/* allow qemu+tcp:// beyond loopback */
	guint shard_k, shard_n;	/* run shard K of N (1-based); N 0: all */
	guint repeat;		/* >= 1 */
	guint max_jobs;		/* 0: the number of CPUs */
	gint warm_pool;		/* guests started ahead: -1 as many as
				 * max_jobs, 0 none */
	gboolean keep_going;
	gboolean quiet;
	gboolean no_report;
	HhBootMode boot;
	HhAccel accel;
	HhTimeouts timeouts;
} HhRunOptions;

/* "cold", "snapshot" or "auto". */
gboolean hh_boot_mode_parse(const char *text, HhBootMode *out,
			    GError **error);

/* A new run's id: its UTC start and a random suffix. */
char *hh_run_new_id(void);

/* --shard "K/N": 1 <= K <= N. */
gboolean hh_shard_parse(const char *text, guint *k, guint *n,
			GError **error);

/* The defaults of `hotplug-harness run`. */
void hh_run_options_init(HhRunOptions *o);

/*
 * Runs the matrix; returns the exit status of `run` (0 all good, 1 a cell
 * failed, 2 harness error, 64 usage, 128+N signal).  *run_dir_out (if not
 * NULL) gets the run's directory once it exists.
 */
int hh_run_matrix(const HhRunOptions *o, char **run_dir_out);

#endif
