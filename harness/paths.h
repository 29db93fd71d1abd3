/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_PATHS_H
#define HH_PATHS_H

#include <glib.h>

/*
 * Where the harness finds its data.  Run from the build tree it uses the
 * source tree's configs/ and kernel-patches/ and the freshly built agent;
 * installed, it uses $(pkgdatadir) and $(pkglibexecdir).  Environment
 * overrides: HH_DATADIR, HH_AGENT, HH_BUSYBOX, HH_QEMU, HH_CACHE_DIR.
 */
void hh_paths_init(void);

/* A file under the data directory ("configs/kernel", ...); newly allocated */
char *hh_data_path(const char *relative);
const char *hh_data_dir(void);
const char *hh_agent_path(void);
const char *hh_busybox_path(void);
const char *hh_qemu_path(void);
const char *hh_cache_dir(void);

/* Resolves a user-given path: as is if it exists, else under the data dir */
char *hh_resolve_config(const char *path);

#endif
