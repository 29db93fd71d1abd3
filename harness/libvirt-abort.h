/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_LIBVIRT_ABORT_H
#define HH_LIBVIRT_ABORT_H

#include <glib.h>

/*
 * Cutting this process's connections to a libvirt host that is gone.
 *
 * libvirt 9.0's RPC client only checks its keepalive when the thread
 * waiting for a reply wakes up, and nothing wakes it while a hung host
 * stays silent: a call on such a connection waits forever (measured: a
 * daemon stopped for 100 s held every cell on it for 100 s).  When the
 * host is known lost (an idle connection's keepalive works), the harness
 * shuts down its sockets to that host (TCP and TLS: those whose peer is
 * the URI's address and port) or ends the ssh processes carrying them
 * (qemu+ssh), so each waiting call sees its own socket fail and returns
 * an error.
 */
typedef struct _HhLvPeer HhLvPeer;

/* The host of a libvirt URI (resolved now); NULL for a local URI. */
HhLvPeer *hh_lv_peer_new(const char *uri);
void hh_lv_peer_free(HhLvPeer *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhLvPeer, hh_lv_peer_free)

/* Shuts down every socket of this process connected to the peer, and
 * ends ssh children carrying connections to it; returns how many. */
guint hh_lv_peer_abort(const HhLvPeer *p);

#endif
