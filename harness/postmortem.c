/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "postmortem.h"
#include "hh-error.h"
#include "image.h"
#include "util.h"

#include <guestfs.h>
#include <stdio.h>
#include <string.h>

void hh_postmortem_free(HhPostmortem *pm)
{
	if (!pm)
		return;
	g_free(pm->last_mark);
	g_free(pm);
}

char *hh_postmortem_format(gint64 usec, const char *ident, const char *pid,
			   const char *message)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(usec / 1000000);
	g_autofree char *when = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%S") :
				    g_strdup("?");
	g_autofree char *msg = g_strdup(message ? message : "");

	/* one entry, one line */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return g_strdup_printf("%s.%06dZ %s%s%s%s: %s", when,
			       (int)(((usec % 1000000) + 1000000) % 1000000),
			       ident && *ident ? ident : "?",
			       pid ? "[" : "", pid ? pid : "", pid ? "]" : "",
			       msg);
}

char *hh_postmortem_gap(const char *journal_mark, const char *kmsg_mark)
{
	if (!kmsg_mark)
		return NULL;
	if (journal_mark && g_str_equal(journal_mark, kmsg_mark))
		return NULL;
	if (!journal_mark)
		return g_strdup_printf("the journal ends before the console "
				       "does: it has no step marker, the "
				       "kernel log's last is '%s'", kmsg_mark);
	return g_strdup_printf("the journal ends before the console does: "
			       "its last step marker is '%s', the kernel "
			       "log's is '%s'", journal_mark, kmsg_mark);
}

static char *field(struct guestfs_xattr_list *l, const char *name)
{
	for (guint32 i = 0; i < l->len; i++) {
		if (g_str_equal(l->val[i].attrname, name))
			return g_utf8_make_valid(l->val[i].attrval,
						 l->val[i].attrval_len);
	}
	return NULL;
}

static gboolean read_journal(guestfs_h *g, const char *dir, HhPostmortem *pm,
			     GError **error)
{
	g_autofree char *path = g_build_filename(dir, "journal.log", NULL);
	g_autoptr(GString) out = g_string_new(NULL);

	if (guestfs_journal_open(g, "/var/log/journal") < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "libguestfs: no journal in /var/log/journal: %s",
			    guestfs_last_error(g));
		return FALSE;
	}
	while (guestfs_journal_next(g) > 0) {
		struct guestfs_xattr_list *l = guestfs_journal_get(g);
		gint64 usec = guestfs_journal_get_realtime_usec(g);
		g_autofree char *ident = NULL, *pid = NULL, *msg = NULL;
		g_autofree char *line = NULL;

		if (!l)
			break;
		ident = field(l, "SYSLOG_IDENTIFIER");
		if (!ident)
			ident = field(l, "_TRANSPORT");
		pid = field(l, "_PID");
		msg = field(l, "MESSAGE");
		guestfs_free_xattr_list(l);
		line = hh_postmortem_format(usec, ident, pid, msg);
		g_string_append(out, line);
		g_string_append_c(out, '\n');
		pm->entries++;
		/* journald takes "hh-mark" of a /dev/kmsg write from user
		 * space for its syslog identifier */
		if (msg && ident && g_str_equal(ident, "hh-mark")) {
			g_free(pm->last_mark);
			pm->last_mark = g_strdup_printf("hh-mark: %s", msg);
		} else if (msg && strstr(msg, "hh-mark: ")) {
			g_free(pm->last_mark);
			pm->last_mark = g_strdup(strstr(msg, "hh-mark: "));
		}
	}
	guestfs_journal_close(g);
	if (!pm->entries)
		g_string_append(out, "(the journal on the disk has no entry: "
				     "the guest was killed before journald "
				     "wrote it; see console.log)\n");
	return hh_write_file(path, out->str, (gssize)out->len, error);
}

static guint copy_files(guestfs_h *g, const char *const *files,
			const char *dir)
{
	g_autofree char *fdir = g_build_filename(dir, "files", NULL);
	guint n = 0;

	for (guint i = 0; files && files[i]; i++) {
		g_autofree char *flat = g_strdup(files[i] + (files[i][0] == '/'));
		g_autofree char *dst = NULL;
		size_t len = 0;
		char *data;

		for (char *p = flat; *p; p++)
			if (*p == '/')
				*p = '_';
		dst = g_build_filename(fdir, flat, NULL);
		data = guestfs_read_file(g, files[i], &len);
		hh_mkdir_p(fdir, 0755, NULL);
		if (!data) {
			g_autofree char *why = g_strdup_printf(
				"(not readable in the guest's disk: %s)\n",
				guestfs_last_error(g));

			hh_write_file(dst, why, -1, NULL);
			continue;
		}
		if (hh_write_file(dst, data, (gssize)len, NULL))
			n++;
		free(data);
	}
	return n;
}

HhPostmortem *hh_postmortem_run(const char *disk, const char *root,
				const char *const *files, const char *dir,
				GError **error)
{
	g_autoptr(HhPostmortem) pm = g_new0(HhPostmortem, 1);
	g_autofree char *dev = g_str_has_prefix(root, "/dev/vd") ?
		g_strdup_printf("/dev/sd%s", root + 7) : g_strdup(root);
	gint64 t0 = hh_now_ms();
	guestfs_h *g = hh_guestfs_open(error);
	gboolean ok = FALSE;

	if (!g)
		return NULL;
	if (guestfs_add_drive_opts(g, disk, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
				   "qcow2", GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
				   -1) < 0 ||
	    guestfs_launch(g) < 0 || guestfs_mount_ro(g, dev, "/") < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "libguestfs: cannot open %s read-only: %s", disk,
			    guestfs_last_error(g));
		goto out;
	}
	ok = read_journal(g, dir, pm, error);
	pm->files = copy_files(g, files, dir);
	guestfs_umount_all(g);
	guestfs_shutdown(g);
out:
	guestfs_close(g);
	pm->seconds = (hh_now_ms() - t0) / 1000.0;
	return ok ? g_steal_pointer(&pm) : NULL;
}
