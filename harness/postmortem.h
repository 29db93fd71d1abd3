/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_POSTMORTEM_H
#define HH_POSTMORTEM_H

#include <glib.h>

/*
 * Post-mortem of a distro cell that failed, crashed or timed out: its
 * throwaway disk is opened read-only with libguestfs (12-25 s under TCG
 * here, so passing cells skip it), the systemd journal is written to
 * DIR/journal.log with libguestfs's journal API, and the files the
 * scenario names are copied to DIR/files/.
 */
typedef struct {
	guint entries;		/* journal entries written */
	char *last_mark;	/* the last "hh-mark: " message in the journal */
	guint files;		/* files copied */
	double seconds;
} HhPostmortem;

void hh_postmortem_free(HhPostmortem *pm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhPostmortem, hh_postmortem_free)

/* disk: the cell's qcow2 overlay; root: the root device as the guest saw
 * it (/dev/vda1 is /dev/sda1 in the appliance); files: guest paths (may
 * be NULL).  Errors only when nothing could be read. */
HhPostmortem *hh_postmortem_run(const char *disk, const char *root,
				const char *const *files, const char *dir,
				GError **error);

/* One journal entry as a journal.log line: "TIME IDENT[PID]: MESSAGE",
 * TIME as the UTC "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" of usec. */
char *hh_postmortem_format(gint64 usec, const char *ident, const char *pid,
			   const char *message);

/* When the journal ends before the kernel log does, what to tell: the
 * last "hh-mark: " line in each, compared.  NULL if the journal has the
 * kernel log's last marker (or neither has one). */
char *hh_postmortem_gap(const char *journal_mark, const char *kmsg_mark);

#endif
