/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_CELL_H
#define HH_CELL_H

#include <glib.h>

#include "image.h"
#include "logcheck.h"
#include "result.h"
#include "scenario.h"
#include "variant.h"
#include "snapshot.h"
#include "vm.h"
#include "vm-pool.h"

typedef struct {
	guint boot_ms;		/* until the agent answers */
	guint request_ms;	/* each request */
	guint shutdown_ms;
} HhTimeouts;

/* How the last step went, for a step source (HhCellSpec.next_step). */
typedef struct {
	gboolean passed;
	gint err;		/* write/read: the guest's errno; else -1 */
} HhCellStepOutcome;

typedef const HhStep *(*HhCellNextStep)(gpointer data, guint idx,
					const HhCellStepOutcome *last);

typedef struct {
	char *name;		/* kernel/variant/scenario */
	char *kernel_name;
	char *bzimage;
	GHashTable *kconfig;	/* the kernel's final .config */
	char *kernel_release;
	char *initrd;
	const HhImage *image;	/* a distro variant's image (then no initrd),
				 * or NULL; not owned */
	HhVariant *variant;	/* not owned */
	HhScenario *scenario;	/* not owned */
	const HhSuppressions *suppressions;
	HhVmBackend *backend;
	char *vm_name;		/* hh-<run>-<cell>, what an operator sees */
	HhAccel accel;
	HhTimeouts timeouts;
	char *dir;		/* results directory of this cell */
	char *rerun;		/* the command that re-runs just this cell */
	HhSnapshot *snapshot;	/* start from this saved state; NULL: cold */
	HhVmPool *pool;		/* guests started ahead, or NULL */
	guint repeat_index;
	const char *host;	/* the host's label (several hosts), or NULL */
	const GPtrArray *attempts;	/* char*: earlier tries on lost hosts */
	/* Torture (torture.h): after the scenario's boot step, the steps
	 * come one at a time from next_step(next_data, idx, how the last
	 * went) until it returns NULL or a step fails; the MemTotal
	 * baselines ("+SIZE") are taken for nodes 0..baseline_nodes-1. */
	HhCellNextStep next_step;
	gpointer next_data;
	guint baseline_nodes;
} HhCellSpec;

/* Runs the cell, writes its files into spec->dir and returns the verdict.
 * Never fails: harness trouble is the verdict "error". */
HhCellResult *hh_cell_run(const HhCellSpec *spec);

/* The machine that runs the cell: the host's label, the libvirt URI, or
 * this machine's name. */
const char *hh_cell_host(const HhCellSpec *spec);

/* The whole kernel command line of a cell (newly allocated). */
char *hh_cell_cmdline(const HhCellSpec *spec);

/* Why the cell is a skip before it boots (a requires line on the kernel's
 * config or version, or the accelerator, is not met), or NULL. */
char *hh_cell_skip_reason(const HhCellSpec *spec);

/*
 * The machine a cell boots: the one place a cell's VM configuration is
 * made, for the snapshot key of its group as for its own start, so the two
 * cannot drift.  Per-VM fields (paths, name, restore_from) are left NULL;
 * *cmdline owns the command line cfg points to.
 */
void hh_cell_vm_config(const HhCellSpec *spec, HhVmConfig *cfg,
		       char **cmdline);

/* The base kernel command line every guest gets before the variant's. */
/* no_timer_check: on a loaded host a TCG guest can miss the IO-APIC timer
 * check and panic at boot ("IO-APIC + timer doesn't work!", seen at a
 * load of 13 on 2 cores); the check means nothing in a VM. */
#define HH_BASE_CMDLINE "console=ttyS0 panic=-1 printk.devkmsg=on no_timer_check"

#endif
