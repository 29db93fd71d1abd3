/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_VM_POOL_H
#define HH_VM_POOL_H

#include "vm.h"

/*
 * A warm pool: guests started ahead of their cells, each waiting for a
 * saved state (QEMU with "-incoming defer"), so a cell restored from a
 * snapshot pays only for loading the state, not for starting QEMU.
 *
 * The run tells the pool, in the order the cells will run, how many
 * cells of each snapshot group are to come (hh_vm_pool_expect).  The pool
 * keeps a guest ready for each of the next `depth` cells; every take
 * starts what the next cells will need.  A guest is started with its
 * group's machine (kernel, initramfs, command line, topology): only a
 * cell of that group can take it.  Thread-safe.
 */
typedef struct _HhVmPool HhVmPool;

/* NULL when the backend cannot start guests ahead (libvirt). */
HhVmPool *hh_vm_pool_new(HhVmBackend *b, guint depth);
/* n more cells of the group key, after those expected before; cfg (the
 * group's machine, hh_cell_vm_config) must live as long as the pool. */
void hh_vm_pool_expect(HhVmPool *p, const char *key, const HhVmConfig *cfg,
		       guint n);
/* Starts guests for the next cells; hh_vm_pool_take does it too. */
void hh_vm_pool_fill(HhVmPool *p);
/* A guest of the group key started ahead (then the pool starts what the
 * next cells need), or NULL.  Either way one cell of key is counted as
 * started. */
HhVm *hh_vm_pool_take(HhVmPool *p, const char *key);
/* Guests started, taken, and killed unused. */
void hh_vm_pool_counts(HhVmPool *p, guint *started, guint *taken,
		       guint *wasted);
/* Kills the guests nobody took. */
void hh_vm_pool_free(HhVmPool *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhVmPool, hh_vm_pool_free)

#endif
