/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "hh-error.h"
#include "commands.h"
#include "spawn.h"

#include <stdio.h>

G_DEFINE_QUARK(hh-error-quark, hh_error)

int hh_report_error(const GError *error)
{
	fprintf(stderr, "hotplug-harness: %s\n", error->message);
	if (g_error_matches(error, HH_ERROR, HH_ERROR_USAGE))
		return HH_EXIT_USAGE;
	if (g_error_matches(error, HH_ERROR, HH_ERROR_CANCELLED))
		return 128 + (hh_spawn_interrupt_signal() ?: 2);
	return HH_EXIT_ERROR;
}
