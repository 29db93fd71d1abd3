/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_KCONFIG_H
#define HH_KCONFIG_H

#include <glib.h>

/*
 * Kconfig files (.config and fragments) as a table CONFIG_NAME -> value,
 * where "# CONFIG_X is not set" reads as "n".  Values keep their quotes.
 */
GHashTable *hh_kconfig_parse(const char *text, const char *origin,
			     GError **error);
GHashTable *hh_kconfig_load(const char *path, GError **error);

/*
 * Compares what fragments asked for with a final .config.  Returns the
 * options that did not end up as asked, one readable line each
 * ("CONFIG_X=y asked, but it is not set"), sorted; an empty array if all
 * is well.
 */
GPtrArray *hh_kconfig_check(GHashTable *asked, GHashTable *final);

/* TRUE if option is set to y or m (or a value) in a parsed .config. */
gboolean hh_kconfig_enabled(GHashTable *config, const char *option);

#endif
