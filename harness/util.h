/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_UTIL_H
#define HH_UTIL_H

#include <glib.h>
#include <json-glib/json-glib.h>

/* Parses "128M", "1G", "0x8000000", "4096" (K, M, G, T suffixes, any case). */
gboolean hh_parse_size(const char *text, guint64 *out, GError **error);

/* Formats bytes as QEMU wants them: "3G", "128M", or plain bytes. */
char *hh_format_size(guint64 bytes);

/* Writes a file atomically (temp file + rename). */
gboolean hh_write_file(const char *path, const char *data, gssize len,
		       GError **error);

/* Writes what a JsonBuilder built (its outermost value ended) to a file. */
gboolean hh_write_json(const char *path, JsonBuilder *builder,
		       gboolean pretty, GError **error);

/* Sets member to a string value, or to null when value is NULL. */
void hh_json_set_string(JsonBuilder *b, const char *member,
			const char *value);

/* Creates a directory and its parents with the given mode. */
gboolean hh_mkdir_p(const char *path, int mode, GError **error);

/* Hex SHA-256 of a file's content. */
char *hh_sha256_file(const char *path, GError **error);

/* Milliseconds on the monotonic clock. */
gint64 hh_now_ms(void);

/* One blocking iteration of the thread-default context, at most max_ms. */
void hh_iterate_once(guint max_ms);

/* The current UTC time as an ISO 8601 string. */
char *hh_iso_now(void);

/* Recursively removes a directory tree (no error if missing). */
gboolean hh_rm_rf(const char *path, GError **error);

/* Opens (creating) path and takes an exclusive flock on it, waiting for
 * other processes; returns the descriptor holding the lock (close it to
 * unlock), or -1 with an error. */
int hh_lock_file(const char *path, GError **error);

#endif
