/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt's QEMU save image, as far as the harness needs it: a header of
 * magic "LibvirtQemudSave", version, data_len, was_running, compressed,
 * cookieOffset and unused words (92 bytes), then data_len bytes holding the
 * domain XML, the migration cookie and zero padding (libvirt leaves 64 KiB
 * there for edited XML), then QEMU's migration stream.
 */
#include "config.h"

#include "libvirt-save-image.h"
#include "hh-error.h"

#include <string.h>

#define SAVE_MAGIC "LibvirtQemudSave"

static char *between(const char *text, const char *open, const char *close)
{
	const char *a = strstr(text, open), *b;

	if (!a)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	return b ? g_strndup(a, (gsize)(b - a)) : NULL;
}

static char *replace_all(const char *text, const char *from, const char *to)
{
	g_auto(GStrv) parts = g_strsplit(text, from, -1);

	return g_strjoinv(to, parts);
}

guint8 *hh_save_image_rename(const guint8 *old, gsize old_len,
			      const char *name, const char *uuid,
			      GError **error)
{
	guint32 data_len, cookie_off;
	g_autofree char *xml = NULL, *cookie = NULL, *old_name = NULL;
	g_autofree char *old_uuid = NULL, *tag = NULL, *new_tag = NULL;
	g_autofree char *x1 = NULL, *x2 = NULL, *c1 = NULL, *c2 = NULL;
	guint8 *out;
	gsize xl, cl;

	if (old_len < HH_SAVE_IMAGE_HEADER || memcmp(old, SAVE_MAGIC, 16) != 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "not a libvirt QEMU save image");
		return NULL;
	}
	memcpy(&data_len, old + 20, 4);
	memcpy(&cookie_off, old + 32, 4);
	data_len = GUINT32_FROM_LE(data_len);
	cookie_off = GUINT32_FROM_LE(cookie_off);
	if (data_len > HH_SAVE_DATA_MAX || HH_SAVE_IMAGE_HEADER + (gsize)data_len > old_len ||
	    cookie_off >= data_len) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "libvirt save image header out of bounds");
		return NULL;
	}
	xml = g_strndup((const char *)old + HH_SAVE_IMAGE_HEADER, data_len);
	cookie = cookie_off ? g_strndup((const char *)old + HH_SAVE_IMAGE_HEADER +
					cookie_off, data_len - cookie_off) :
			      g_strdup("");
	old_name = between(xml, "<name>", "</name>");
	old_uuid = between(xml, "<uuid>", "</uuid>");
	if (!old_name || !old_uuid) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "no name or uuid in the saved domain");
		return NULL;
	}
	tag = g_strdup_printf("<name>%s</name>", old_name);
	new_tag = g_strdup_printf("<name>%s</name>", name);
	x1 = replace_all(xml, tag, new_tag);
	x2 = replace_all(x1, old_uuid, uuid);
	c1 = replace_all(cookie, tag, new_tag);
	c2 = replace_all(c1, old_uuid, uuid);
	xl = strlen(x2) + 1;
	cl = cookie_off ? strlen(c2) + 1 : 0;
	if (xl + cl > data_len) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "the renamed domain does not fit the save image");
		return NULL;
	}
	out = g_malloc0(HH_SAVE_IMAGE_HEADER + data_len);
	memcpy(out, old, HH_SAVE_IMAGE_HEADER);
	if (cookie_off) {
		guint32 off = GUINT32_TO_LE((guint32)xl);

		memcpy(out + 32, &off, 4);
	}
	memcpy(out + HH_SAVE_IMAGE_HEADER, x2, xl);
	if (cl)
		memcpy(out + HH_SAVE_IMAGE_HEADER + xl, c2, cl);
	return out;
}

gsize hh_save_image_header_size(const guint8 *head, gsize len)
{
	guint32 data_len;

	if (len < HH_SAVE_IMAGE_HEADER || memcmp(head, SAVE_MAGIC, 16) != 0)
		return 0;
	memcpy(&data_len, head + 20, 4);
	data_len = GUINT32_FROM_LE(data_len);
	return data_len > HH_SAVE_DATA_MAX ? 0 : HH_SAVE_IMAGE_HEADER + (gsize)data_len;
}

