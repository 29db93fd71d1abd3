/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_LIBVIRT_SAVE_IMAGE_H
#define HH_LIBVIRT_SAVE_IMAGE_H

#include <glib.h>

/*
 * libvirt keeps a restored domain's name and UUID as saved, and two live
 * domains cannot share either; so each guest restored from one image gets
 * a copy whose header names it.  Only the header region changes; QEMU's
 * stream after it is copied as it is.
 */
#define HH_SAVE_IMAGE_HEADER 92	/* magic[16] + 19 x u32 */
#define HH_SAVE_DATA_MAX (16u << 20)

/* The size of an image's header region (header + data_len) from its
 * first HH_SAVE_IMAGE_HEADER bytes; 0 if it is not a libvirt QEMU save
 * image or its data_len is implausible. */
gsize hh_save_image_header_size(const guint8 *head, gsize len);

/* The header region of old (len bytes, as hh_save_image_header_size())
 * with every mention of the saved domain's name and UUID, in its XML and
 * its migration cookie, replaced by name and uuid; same size. */
guint8 *hh_save_image_rename(const guint8 *old, gsize len, const char *name,
			     const char *uuid, GError **error);

#endif
