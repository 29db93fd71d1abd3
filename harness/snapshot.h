/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_SNAPSHOT_H
#define HH_SNAPSHOT_H

#include <glib.h>

#include "vm.h"

/*
 * Boot snapshots: cells that share kernel, initramfs, command line, the
 * whole QEMU command line and the QEMU version boot once; the VM state is
 * saved when the agent is ready and the kernel log has settled, and each
 * cell starts from it.  Kept under hh_cache_dir()/snapshots/<key>/:
 *   state       the saved VM state (QEMU's migration stream, raw)
 *   disk.qcow2  a distro cell's disk at the save (over its image)
 *   meta.json   boot id, the kernel log up to the save, timings
 *   console.log, kmsg.log, agent.log, qemu.log   of the group's boot
 */
typedef struct {
	char *key;
	char *label;		/* the first cell that asked for it, for humans */
	char *dir;
	char *state;
	char *disk;		/* a distro image's disk at the save (the
				 * state's other half), or NULL */
	char *boot_id;		/* /proc/sys/kernel/random/boot_id at save */
	guint64 last_seq;	/* last kernel log record in the saved log */
	GPtrArray *records;	/* HhKmsgRecord*: the kernel log up to the save */
	guint boot_ms;		/* the group's cold boot, to agent-ready */
	guint save_ms;		/* saving the state */
	guint64 state_bytes;	/* the state file */
	gboolean ram_files;	/* the guest's RAM is in dir/ram* files */
	guint64 ram_bytes;	/* what they hold on disk */
	gboolean created;	/* made by this process (not from the cache) */
} HhSnapshot;

void hh_snapshot_free(HhSnapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhSnapshot, hh_snapshot_free)

/* The content key of everything a saved state depends on. */
char *hh_snapshot_key(HhVmBackend *backend, const HhVmConfig *cfg,
		      GError **error);

/* The snapshot for key: from the cache, or made now by booting cfg (whose
 * run_dir, console and logs are chosen here). */
HhSnapshot *hh_snapshot_get(HhVmBackend *backend, const HhVmConfig *cfg,
			    const char *key, const char *label,
			    guint boot_timeout_ms, GError **error);

/* Throws a snapshot away (a restore from it failed). */
void hh_snapshot_discard(HhSnapshot *s);

#endif
