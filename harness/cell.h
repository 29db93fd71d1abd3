/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_CELL_H
#define HH_CELL_H

#include <glib.h>

#include "logcheck.h"
#include "scenario.h"
#include "variant.h"
#include "snapshot.h"
#include "vm.h"

/* Verdicts, kept apart: the order is also their precedence. */
typedef enum {
	HH_V_PASS,
	HH_V_SKIP,
	HH_V_FAIL,	/* an assertion */
	HH_V_CRASH,	/* the kernel */
	HH_V_TIMEOUT,	/* a phase ran out of time */
	HH_V_ERROR,	/* the harness or QEMU */
} HhVerdict;

const char *hh_verdict_name(HhVerdict v);

typedef struct {
	guint boot_ms;		/* until the agent answers */
	guint request_ms;	/* each request */
	guint shutdown_ms;
} HhTimeouts;

typedef struct {
	char *name;		/* kernel/variant/scenario */
	char *kernel_name;
	char *bzimage;
	GHashTable *kconfig;	/* the kernel's final .config */
	char *kernel_release;
	char *initrd;
	HhVariant *variant;	/* not owned */
	HhScenario *scenario;	/* not owned */
	const HhSuppressions *suppressions;
	const HhVmBackend *backend;
	HhAccel accel;
	HhTimeouts timeouts;
	char *dir;		/* results directory of this cell */
	char *rerun;		/* the command that re-runs just this cell */
	HhSnapshot *snapshot;	/* start from this saved state; NULL: cold */
	guint repeat_index;
} HhCellSpec;

typedef struct {
	HhVerdict verdict;
	char *reason;		/* one line: what failed, or why skipped */
	char *phase;		/* timeout: boot, step N, shutdown */
	double seconds;
	guint boot_ms;
	guint steps_ms;		/* all steps */
	guint shutdown_ms;
	char *failed_step;	/* "line L: TEXT" of the first failing step */
	gboolean expected;	/* a crash the scenario said would happen */
	char *boot_mode;	/* "cold", "snapshot", "cold (restore failed: ...)" */
	GPtrArray *crashes;	/* titles (char*) of its unsuppressed reports */
} HhCellResult;

void hh_cell_result_free(HhCellResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhCellResult, hh_cell_result_free)

/* Runs the cell, writes its files into spec->dir and returns the verdict.
 * Never fails: harness trouble is the verdict "error". */
HhCellResult *hh_cell_run(const HhCellSpec *spec);

/* The whole kernel command line of a cell (newly allocated). */
char *hh_cell_cmdline(const HhCellSpec *spec);

/* The base kernel command line every guest gets before the variant's. */
#define HH_BASE_CMDLINE "console=ttyS0 panic=-1 printk.devkmsg=on"

#endif
