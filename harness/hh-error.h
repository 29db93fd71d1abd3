/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_ERROR_H
#define HH_ERROR_H

#include <glib.h>

/*
 * One error domain for the whole harness.  A function that can fail returns
 * gboolean (or NULL) and fills a GError ** as its last argument; only the
 * command layer prints errors and chooses exit codes.
 */
#define HH_ERROR (hh_error_quark())
GQuark hh_error_quark(void);

typedef enum {
	HH_ERROR_FAILED,	/* generic harness failure */
	HH_ERROR_USAGE,		/* bad command line */
	HH_ERROR_CONFIG,	/* a config, scenario, variant or matrix file */
	HH_ERROR_BUILD,		/* kernel or initramfs build */
	HH_ERROR_PROTOCOL,	/* the guest sent something malformed */
	HH_ERROR_TIMEOUT,	/* a phase ran out of time */
	HH_ERROR_QEMU,		/* QEMU failed or exited */
	HH_ERROR_QMP,		/* QEMU answered a QMP command with an error */
	HH_ERROR_CANCELLED,	/* interrupted by a signal */
	HH_ERROR_NOT_FOUND,	/* no such run, baseline, file */
	HH_ERROR_UNSUPPORTED,	/* the VM backend lacks the operation */
	HH_ERROR_REFUSED,	/* the guest refused a hot-unplug (_OST) */
} HhErrorCode;

#endif
