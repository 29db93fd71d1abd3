/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_INITRAMFS_H
#define HH_INITRAMFS_H

#include <glib.h>

/*
 * The guest image: a gzip-compressed newc cpio archive holding the agent as
 * /init and a static busybox with its applet links.  Built in memory with
 * fixed inode numbers, owners and times, so the same agent and busybox give
 * a byte-identical image; cached under hh_cache_dir()/initramfs/ by the
 * content of both.
 */
typedef struct {
	char *path;
	char *key;
	gboolean cached;
} HhInitramfs;

void hh_initramfs_free(HhInitramfs *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhInitramfs, hh_initramfs_free)

HhInitramfs *hh_initramfs_build(const char *agent, const char *busybox,
				GError **error);

/* Appends one newc entry (exposed for the unit tests). */
void hh_cpio_add(GByteArray *out, guint32 ino, const char *name,
		 guint32 mode, guint32 rdev_major, guint32 rdev_minor,
		 const void *data, gsize len);
void hh_cpio_finish(GByteArray *out);

#endif
