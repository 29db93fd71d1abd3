/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_HOSTS_H
#define HH_HOSTS_H

#include <glib.h>

#include "scheduler.h"
#include "vm.h"

/*
 * Several hosts: libvirt daemons named by URI in a key file (`run --hosts
 * FILE`, or a matrix's [hosts] file= and [host NAME] groups):
 *
 *   [host rack1-a]
 *   uri=qemu+ssh://hh@rack1-a/system
 *   cpus=8            optional: at most this many TCG cells at once
 *   memory=32G        optional: guest memory in all
 *   label=rack 1      optional: what reports call it (default: NAME)
 *
 * Without limits a host's capacity is what libvirt says it has (CPUs,
 * free memory).
 */
typedef struct {
	char *name;
	char *uri;
	char *label;
	guint cpus;		/* 0: libvirt's */
	guint64 memory;		/* 0: libvirt's */
	char *where;		/* "FILE: [host NAME]", for messages */
} HhHostSpec;

void hh_host_spec_free(gpointer spec);

/* Every [host NAME] group of kf (none: an empty array). */
GPtrArray *hh_hosts_parse(GKeyFile *kf, const char *path, GError **error);
GPtrArray *hh_hosts_load(const char *path, GError **error);

/*
 * Unauthenticated TCP (qemu+tcp://) is for tests on loopback: to any
 * other address only with allow_insecure (--insecure-tcp).
 */
gboolean hh_host_uri_allowed(const char *uri, gboolean allow_insecure,
			     GError **error);

/* A host while a run uses it. */
typedef struct {
	HhHostSpec *spec;
	guint index;		/* its scheduler pool */
	HhVmBackend *backend;	/* the current connection */
	GPtrArray *old;		/* connections lost, closed at the end */
	HhCost budget;
	gboolean lost;
	gboolean said_lost;	/* the run said so (once per loss) */
	gint64 lost_at;		/* wall clock, microseconds */
	guint running;		/* cells on it now */
	guint ran;		/* cells it finished */
} HhHost;

void hh_host_free(gpointer host);

/*
 * Connects to every host (in parallel); those that cannot be reached are
 * reported on stderr and left out.  Fails when none is left.
 */
GPtrArray *hh_hosts_connect(GPtrArray *specs, guint max_jobs,
			    gboolean allow_insecure, GError **error);

/* A lost host, connected again (NULL if it is still away), with every
 * guest named prefix* it still runs (abandoned when it was lost)
 * destroyed, *reaped counting them.  The caller swaps it in. */
HhVmBackend *hh_host_reconnect(HhHost *h, const char *prefix,
			       guint *reaped);

#endif
