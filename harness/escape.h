/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_ESCAPE_H
#define HH_ESCAPE_H

#include <glib.h>

/*
 * Guest text is untrusted: any bytes, any length.  Everything a report
 * takes from a guest (kernel log, agent transcript, crash excerpts, step
 * messages) goes through hh_text_clean() first, then through the escaping
 * of the format it lands in.
 */

/*
 * Valid UTF-8 holding only characters XML 1.0 allows: invalid bytes,
 * NUL and control characters other than tab and newline become U+FFFD
 * (carriage returns are dropped).  At most max bytes of input are kept
 * (0: all): the first max/4 and the last 3*max/4, with a line saying how
 * many bytes were cut between them.
 */
char *hh_text_clean(const char *data, gsize len, gsize max);

/* hh_text_clean() of a NUL-terminated string (NULL gives NULL). */
char *hh_text_clean_str(const char *s, gsize max);

/* Appends text to out cleaned (hh_text_clean(), unbounded) and with
 * & < > " ' escaped, for XML and HTML text and attribute values. */
void hh_markup_append(GString *out, const char *text);

/* Appends printf-style output (%s %u %d %%) with every string argument
 * as hh_markup_append() writes it. */
void hh_markup_printf(GString *out, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

/* A one-line form for KTAP descriptions and diagnostics: newlines and
 * '#' replaced, at most max bytes. */
char *hh_text_one_line(const char *clean, gsize max);

/* Reads at most max bytes of a file as hh_text_clean() text (head and tail
 * kept when larger); NULL if it cannot be read. */
char *hh_text_read_file(const char *path, gsize max);

#endif
