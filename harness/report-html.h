/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_REPORT_HTML_H
#define HH_REPORT_HTML_H

#include "report-model.h"

/* Writes the HTML report of a loaded run into dir (created). */
gboolean hh_rep_write_html(HhRep *r, const char *dir, GError **error);

#endif
