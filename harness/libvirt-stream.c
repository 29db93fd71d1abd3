/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt streams (a console, a channel) pumped on libvirt's event loop
 * thread: non-blocking, driven by stream and fd events, so one thread
 * serves every guest.  Guest to host goes into a file or one end of a
 * socket pair whose other end the harness reads as a GIOStream; host to
 * guest the other way round, with what the stream cannot take yet held
 * back (and the fd not read) until it can.
 */
#include "config.h"

#include "libvirt-stream.h"
#include "hh-error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUMP_BUF 65536

struct _HhLvPump {
	gint refs;
	GMutex lock;
	virStreamPtr st;
	int fd;			/* our end of the pair, or the console file */
	gboolean to_file;	/* console: stream -> fd only */
	int watch;		/* virEventAddHandle id on fd, or -1 */
	char *pending;		/* fd -> stream bytes not sent yet */
	gsize npending;
	gboolean dead;
	gint64 last_rx;		/* when the stream last gave data (ms) */
};

static void pump_unref(void *p)
{
	HhLvPump *pu = p;

	if (!g_atomic_int_dec_and_test(&pu->refs))
		return;
	if (pu->st)
		virStreamFree(pu->st);
	if (pu->fd >= 0)
		close(pu->fd);
	g_free(pu->pending);
	g_mutex_clear(&pu->lock);
	g_free(pu);
}

static gboolean write_all(int fd, const char *buf, gsize len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		buf += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* Called with pu->lock held: no more traffic either way. */
static void pump_stop_locked(HhLvPump *pu)
{
	if (pu->dead)
		return;
	pu->dead = TRUE;
	if (pu->watch >= 0)
		virEventRemoveHandle(pu->watch);
	pu->watch = -1;
	virStreamEventRemoveCallback(pu->st);
	virStreamAbort(pu->st);
	/* The reader sees end of stream. */
	if (!pu->to_file)
		shutdown(pu->fd, SHUT_RDWR);
}

static void pump_update_events(HhLvPump *pu)
{
	int sev = VIR_STREAM_EVENT_READABLE;

	if (pu->npending)
		sev |= VIR_STREAM_EVENT_WRITABLE;
	virStreamEventUpdateCallback(pu->st, sev);
	if (pu->watch >= 0)
		virEventUpdateHandle(pu->watch, pu->npending ? 0 :
					  VIR_EVENT_HANDLE_READABLE);
}

static void pump_send_pending(HhLvPump *pu)
{
	while (pu->npending) {
		int n = virStreamSend(pu->st, pu->pending, pu->npending);

		if (n == -2)
			break;
		if (n < 0) {
			pump_stop_locked(pu);
			return;
		}
		memmove(pu->pending, pu->pending + n, pu->npending - (gsize)n);
		pu->npending -= (gsize)n;
	}
	pump_update_events(pu);
}

static void on_stream(virStreamPtr st, int events, void *data)
{
	HhLvPump *pu = data;
	char buf[PUMP_BUF];

	g_mutex_lock(&pu->lock);
	if (pu->dead)
		goto out;
	if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) {
		pump_stop_locked(pu);
		goto out;
	}
	if (events & VIR_STREAM_EVENT_WRITABLE)
		pump_send_pending(pu);
	if (!pu->dead && (events & VIR_STREAM_EVENT_READABLE)) {
		for (;;) {
			int n = virStreamRecv(st, buf, sizeof(buf));

			if (n == -2)
				break;
			if (n <= 0 || !write_all(pu->fd, buf, (gsize)n)) {
				pump_stop_locked(pu);
				break;
			}
			pu->last_rx = hh_now_ms();
		}
	}
out:
	g_mutex_unlock(&pu->lock);
}

static void on_fd(int watch, int fd, int events, void *data)
{
	HhLvPump *pu = data;

	g_mutex_lock(&pu->lock);
	if (!pu->dead && !pu->npending) {
		pu->pending = g_realloc(pu->pending, PUMP_BUF);
		ssize_t n = read(fd, pu->pending, PUMP_BUF);

		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			pump_stop_locked(pu);
		else if (n > 0) {
			pu->npending = (gsize)n;
			pump_send_pending(pu);
		}
	}
	g_mutex_unlock(&pu->lock);
}

/* A pump for st; *peer (if not to_file) is the cell's end. */
static HhLvPump *pump_new(virStreamPtr st, int file_fd, int *peer, GError **error)
{
	HhLvPump *pu = g_new0(HhLvPump, 1);
	int sv[2];

	g_atomic_int_set(&pu->refs, 1);
	g_mutex_init(&pu->lock);
	pu->st = st;
	pu->watch = -1;
	if (file_fd >= 0) {
		pu->fd = file_fd;
		pu->to_file = TRUE;
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
				    "socketpair: %s", g_strerror(errno));
			pu->fd = -1;
			pump_unref(pu);
			return NULL;
		}
		pu->fd = sv[0];
		*peer = sv[1];
		fcntl(pu->fd, F_SETFL, fcntl(pu->fd, F_GETFL) | O_NONBLOCK);
	}
	g_atomic_int_inc(&pu->refs);
	if (virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, on_stream,
				      pu, pump_unref) < 0) {
		g_atomic_int_dec_and_test(&pu->refs);
		virErrorPtr e = virGetLastError();

		g_set_error(error, HH_ERROR, HH_ERROR_QEMU,
			    "watching a libvirt stream: %s",
			    e && e->message ? e->message : "unknown error");
		pu->dead = TRUE;
		pump_unref(pu);
		return NULL;
	}
	if (!pu->to_file) {
		g_atomic_int_inc(&pu->refs);
		pu->watch = virEventAddHandle(pu->fd, VIR_EVENT_HANDLE_READABLE,
					      on_fd, pu, pump_unref);
		if (pu->watch < 0)
			g_atomic_int_dec_and_test(&pu->refs);
	}
	return pu;
}

void hh_lv_pump_close(HhLvPump **pp)
{
	HhLvPump *pu = *pp;

	if (!pu)
		return;
	g_mutex_lock(&pu->lock);
	pump_stop_locked(pu);
	g_mutex_unlock(&pu->lock);
	pump_unref(pu);
	*pp = NULL;
}

/* After the guest powered off: what it wrote last reaches the cell, then
 * the cell's end of the port sees end of file (QEMU itself lives on a
 * little, libvirt tearing it down). */
void hh_lv_pump_drain(HhLvPump *pu, gint64 deadline)
{
	if (!pu)
		return;
	while (hh_now_ms() < deadline) {
		gint64 idle;

		g_mutex_lock(&pu->lock);
		idle = hh_now_ms() - pu->last_rx;
		g_mutex_unlock(&pu->lock);
		if (idle >= 30)
			break;
		g_usleep(10 * 1000);
	}
	g_mutex_lock(&pu->lock);
	pump_stop_locked(pu);
	g_mutex_unlock(&pu->lock);
}

HhLvPump *hh_lv_pump_to_file(virStreamPtr st, int fd, GError **error)
{
	return pump_new(st, fd, NULL, error);
}

GIOStream *hh_lv_pump_to_stream(virStreamPtr st, HhLvPump **pump,
				GError **error)
{
	g_autoptr(GSocket) sock = NULL;
	int peer = -1;

	*pump = pump_new(st, -1, &peer, error);
	if (!*pump)
		return NULL;
	sock = g_socket_new_from_fd(peer, error);
	if (!sock) {
		close(peer);
		hh_lv_pump_close(pump);
		return NULL;
	}
	return G_IO_STREAM(g_socket_connection_factory_create_connection(sock));
}

void hh_lv_pump_cut(HhLvPump *pump)
{
	if (!pump)
		return;
	g_mutex_lock(&pump->lock);
	if (!pump->to_file && pump->fd >= 0)
		shutdown(pump->fd, SHUT_RDWR);
	pump->dead = TRUE;
	g_mutex_unlock(&pump->lock);
}
