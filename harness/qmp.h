/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_QMP_H
#define HH_QMP_H

/*
 * QMP transport: one connection to one QEMU monitor.
 *
 * All I/O runs on the GMainContext given to hh_qmp_new() (the cell thread's
 * thread-default context): the stream is watched with pollable sources and
 * read and written without blocking.  The *_sync() calls iterate that context
 * until they are done, so they must be called from the thread that owns it.
 * An HhQmp is not thread-safe; the one exception is its GCancellable (see
 * hh_qmp_get_cancellable()), which may be cancelled from any thread.
 *
 * Framing: QEMU ends every JSON object with "\r\n".  Each line must be a JSON
 * object of at most HH_QMP_MAX_LINE bytes (the "\r\n" not counted); empty
 * lines are ignored.  Anything else is a protocol error.
 *
 * Errors are sticky.  The first of these is kept, every pending command fails
 * with it and so does every later call, at once:
 *   HH_ERROR_PROTOCOL   invalid JSON, a non-object, an over-long line, a reply
 *                       without an id or with an id no command is waiting for
 *   HH_ERROR_QEMU       "qemu closed the monitor connection" (EOF, read or
 *                       write error).  A caller that spawned QEMU should show
 *                       QEMU's own stderr instead when it sees this code.
 *   HH_ERROR_CANCELLED  the cancellable was cancelled, or hh_qmp_free() ran
 *                       with commands still pending
 * Errors that are not sticky: HH_ERROR_QMP (QEMU answered with
 * {"error": ...}; the message is "COMMAND: CLASS: DESC") and HH_ERROR_TIMEOUT
 * (a sync call ran out of time; a late reply is matched and dropped).
 *
 * Callbacks (replies, events) are only ever invoked from the context, never
 * from inside the call that registered them, except that hh_qmp_free()
 * completes pending commands itself.  A callback may call hh_qmp_free() and
 * hh_qmp_execute_async(), but not a *_sync() call: the transport's source is
 * busy dispatching it, so a nested wait would see no input until it timed out.
 */

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define HH_QMP_MAX_LINE		(4 * 1024 * 1024)
/* Queued events beyond this many are dropped, oldest first. */
#define HH_QMP_MAX_EVENTS	1024

typedef struct _HhQmp HhQmp;

/*
 * Completion of hh_qmp_execute_async(): exactly one of ret and error is
 * non-NULL.  ret is the reply's "return" member (any JSON type), owned by
 * the transport and valid during the call only: json_node_ref() it to keep it.
 */
typedef void (*HhQmpReplyFunc)(HhQmp *qmp, JsonNode *ret, const GError *error,
			       gpointer user_data);

/* An event as it arrives; data is never NULL ({} when QEMU sent none). */
typedef void (*HhQmpEventFunc)(HhQmp *qmp, const char *name, JsonObject *data,
			       gpointer user_data);

/* Picks events for hh_qmp_wait_event_match_sync(). */
typedef gboolean (*HhQmpEventMatchFunc)(JsonObject *data, gpointer user_data);

/*
 * Takes a reference on stream, which must be pollable (a GSocketConnection
 * is).  context NULL means the calling thread's thread-default context.
 * Reading starts at once, so the greeting is parsed whenever the context runs.
 */
HhQmp *hh_qmp_new(GIOStream *stream, GMainContext *context);

/*
 * Stops all I/O at once (no source stays attached, so the context need not
 * run again), completes every pending command with HH_ERROR_CANCELLED and
 * drops the stream reference.  NULL is allowed.
 */
void hh_qmp_free(HhQmp *qmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhQmp, hh_qmp_free)

/*
 * Cancelling it (from any thread) makes the connection fail with the sticky
 * error HH_ERROR_CANCELLED.  Owned by qmp: another thread must hold its own
 * reference while it may cancel, since g_cancellable_cancel() wakes the
 * owner before it takes one itself.
 */
GCancellable *hh_qmp_get_cancellable(HhQmp *qmp);

/* The sticky error, or NULL while the connection is healthy. */
const GError *hh_qmp_get_error(HhQmp *qmp);

/*
 * Transcript for the cell's qmp.log: every line sent is written as
 * "-> {...}\n" and every line received as "<- {...}\n" (without the "\r"),
 * synchronously, as it is queued or read.  Over-long lines are not written.
 * Takes a reference on out; NULL stops the transcript.  The transcript is
 * best effort: the first write error stops it silently.
 */
void hh_qmp_set_transcript(HhQmp *qmp, GOutputStream *out);

/*
 * Called for every event before it is queued (the event is queued all the
 * same).  Replaces the previous callback, whose notify is then called.
 */
void hh_qmp_set_event_callback(HhQmp *qmp, HhQmpEventFunc func,
			       gpointer user_data, GDestroyNotify notify);

/*
 * Waits for the greeting {"QMP": {...}}, then runs qmp_capabilities;
 * timeout_ms bounds both together.  timeout_ms 0 means no timeout in every
 * *_sync() call (EOF still ends the wait).
 */
gboolean hh_qmp_handshake_sync(HhQmp *qmp, guint timeout_ms, GError **error);

/* "MAJOR.MINOR.MICRO" from the greeting, or NULL before it arrived. */
const char *hh_qmp_get_qemu_version(HhQmp *qmp);

/*
 * Sends {"execute": command, "arguments": arguments, "id": "hh-N"}.
 * arguments: transfer full, nullable.  callback may be NULL.
 */
void hh_qmp_execute_async(HhQmp *qmp, const char *command,
			  JsonObject *arguments, HhQmpReplyFunc callback,
			  gpointer user_data);

/*
 * Runs one command and iterates the context until its reply, an error or the
 * timeout ("qmp COMMAND timed out after N ms").  arguments: transfer full,
 * nullable.  ret: nullable; on success receives the "return" value
 * (transfer full).
 */
gboolean hh_qmp_execute_sync(HhQmp *qmp, const char *command,
			     JsonObject *arguments, guint timeout_ms,
			     JsonNode **ret, GError **error);

/*
 * Takes the oldest queued event called name, waiting for one if there is
 * none.  data: nullable; receives the event's data (transfer full, {} when
 * QEMU sent none).  Events queued before a sticky error can still be taken.
 */
gboolean hh_qmp_wait_event_sync(HhQmp *qmp, const char *name,
				guint timeout_ms, JsonObject **data,
				GError **error);

/* The same, taking only an event for which match (nullable) returns TRUE. */
gboolean hh_qmp_wait_event_match_sync(HhQmp *qmp, const char *name,
				      HhQmpEventMatchFunc match,
				      gpointer match_data, guint timeout_ms,
				      JsonObject **data, GError **error);

/*
 * QMP getfd: hands fd (not taken over; QEMU gets a copy) to QEMU under
 * fdname, sent as SCM_RIGHTS with the command.  The stream must be a unix
 * socket connection.  Used for "migrate fd:NAME" without a shell.
 */
gboolean hh_qmp_getfd_sync(HhQmp *qmp, const char *fdname, int fd,
			   guint timeout_ms, GError **error);

#endif
