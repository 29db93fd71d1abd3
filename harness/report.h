/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_REPORT_H
#define HH_REPORT_H

#include <glib.h>

#include "archive.h"

/*
 * Reports of one archived run, from the archive and the files in each
 * cell's result directory (result.json, kmsg.log, agent.log).  Guest text
 * is cleaned (escape.h) and bounded before it reaches any format.
 *
 *   ktap   nested KTAP: one test per cell, its steps as subtests
 *   junit  JUnit XML: a testsuite per kernel, a testcase per cell
 *   kcidb  KernelCI KCIDB v4 JSON: checkouts, builds, tests
 *   html   a directory: index.html (heat maps), history.html and one
 *          page per cell under cells/
 */
typedef enum {
	HH_REPORT_KTAP,
	HH_REPORT_JUNIT,
	HH_REPORT_KCIDB,
	HH_REPORT_HTML,
} HhReportFormat;

gboolean hh_report_format_parse(const char *name, HhReportFormat *format,
				GError **error);

/*
 * Writes the report of run_id.  out: a file (ktap, junit, kcidb; NULL or
 * "-" for stdout) or a directory (html; created).
 */
gboolean hh_report_write(HhArchive *a, const char *run_id,
			 HhReportFormat format, const char *out,
			 GError **error);

#endif
