// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QMP transport.  Reads and writes go through pollable sources attached to
 * the connection's context rather than g_input_stream_read_async(): a
 * cancelled async read still needs the context to run to deliver its
 * callback, whereas destroying a source is immediate, so hh_qmp_free() leaves
 * nothing behind even if the context never runs again.
 *
 * Cancellation is watched through g_cancellable_make_pollfd() and a unix fd
 * source, not g_cancellable_source_new(): in GLib 2.74 a GCancellableSource
 * whose last reference goes while another thread is still inside
 * g_cancellable_cancel() is resurrected and leaked.
 *
 * The struct is reference counted internally so that a callback may call
 * hh_qmp_free() while the transport is dispatching: every source callback
 * holds a reference while it works.
 */
#include <string.h>

#include <glib-unix.h>
#include <gio/gunixfdmessage.h>

#include "hh-error.h"
#include "qmp.h"

#define READ_CHUNK	65536

typedef struct {
	char *id;
	char *command;
	HhQmpReplyFunc callback;	/* NULL: nobody waits (a sync call timed out) */
	gpointer user_data;
} HhQmpCall;

typedef struct {
	char *name;
	JsonObject *data;
} HhQmpEvent;

struct _HhQmp {
	gint refs;
	gboolean closed;		/* hh_qmp_free() was called */
	GIOStream *stream;
	GPollableInputStream *in;
	GPollableOutputStream *out;
	GMainContext *context;
	GCancellable *cancellable;
	GSource *read_source;
	GSource *write_source;
	GSource *cancel_source;
	gboolean cancel_fd;		/* holds a g_cancellable_make_pollfd() */
	GSource *fail_source;		/* fails calls made after the sticky error */
	GByteArray *rbuf;
	gsize scanned;			/* rbuf bytes known to hold no '\n' */
	GByteArray *wbuf;
	GError *error;			/* sticky */
	guint next_id;
	GQueue calls;			/* HhQmpCall *, sent, awaiting a reply */
	GQueue failed;			/* HhQmpCall *, to fail from fail_source */
	GQueue events;			/* HhQmpEvent * */
	char *version;
	gboolean greeted;
	GOutputStream *transcript;
	HhQmpEventFunc event_func;
	gpointer event_data;
	GDestroyNotify event_notify;
};

static void call_free(HhQmpCall *call)
{
	g_free(call->id);
	g_free(call->command);
	g_free(call);
}

static void event_free(HhQmpEvent *ev)
{
	g_free(ev->name);
	json_object_unref(ev->data);
	g_free(ev);
}

static HhQmp *qmp_ref(HhQmp *qmp)
{
	qmp->refs++;
	return qmp;
}

static void qmp_unref(HhQmp *qmp)
{
	if (--qmp->refs > 0)
		return;
	g_assert(qmp->closed);
	g_queue_clear_full(&qmp->events, (GDestroyNotify)event_free);
	g_clear_object(&qmp->transcript);
	g_clear_object(&qmp->cancellable);
	g_clear_object(&qmp->stream);
	g_main_context_unref(qmp->context);
	g_byte_array_unref(qmp->rbuf);
	g_byte_array_unref(qmp->wbuf);
	g_clear_error(&qmp->error);
	g_free(qmp->version);
	g_free(qmp);
}

static void clear_source(GSource **source)
{
	if (!*source)
		return;
	g_source_destroy(*source);
	g_source_unref(*source);
	*source = NULL;
}

static void stop_io(HhQmp *qmp)
{
	clear_source(&qmp->read_source);
	clear_source(&qmp->write_source);
	clear_source(&qmp->cancel_source);
	if (qmp->cancel_fd)
		g_cancellable_release_fd(qmp->cancellable);
	qmp->cancel_fd = FALSE;
	g_byte_array_set_size(qmp->rbuf, 0);
	g_byte_array_set_size(qmp->wbuf, 0);
	qmp->scanned = 0;
}

static void transcript_write(HhQmp *qmp, const char *dir, const char *line,
			     gsize len)
{
	g_autoptr(GString) buf = NULL;

	if (!qmp->transcript || len > HH_QMP_MAX_LINE)
		return;
	buf = g_string_sized_new(len + 4);
	g_string_append(buf, dir);
	g_string_append_len(buf, line, len);
	g_string_append_c(buf, '\n');
	if (!g_output_stream_write_all(qmp->transcript, buf->str, buf->len,
				       NULL, NULL, NULL))
		g_clear_object(&qmp->transcript);
}

static void complete_call(HhQmp *qmp, HhQmpCall *call, JsonNode *ret,
			  const GError *error)
{
	if (call->callback)
		call->callback(qmp, ret, error, call->user_data);
	call_free(call);
}

/* Fails everything pending with the sticky error; callbacks may add calls. */
static void fail_pending(HhQmp *qmp)
{
	HhQmpCall *call;

	while ((call = g_queue_pop_head(&qmp->calls)) ||
	       (call = g_queue_pop_head(&qmp->failed)))
		complete_call(qmp, call, NULL, qmp->error);
}

/* Sets the sticky error (transfer full) unless one is set already. */
static void fail(HhQmp *qmp, GError *error)
{
	if (qmp->error) {
		g_error_free(error);
		return;
	}
	qmp->error = error;
	stop_io(qmp);
	fail_pending(qmp);
}

static void G_GNUC_PRINTF(2, 3) fail_protocol(HhQmp *qmp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail(qmp, g_error_new_valist(HH_ERROR, HH_ERROR_PROTOCOL, fmt, ap));
	va_end(ap);
}

static void fail_closed(HhQmp *qmp, const GError *io_error)
{
	if (io_error)
		fail(qmp, g_error_new(HH_ERROR, HH_ERROR_QEMU,
				      "qemu closed the monitor connection: %s",
				      io_error->message));
	else
		fail(qmp, g_error_new_literal(HH_ERROR, HH_ERROR_QEMU,
					      "qemu closed the monitor connection"));
}

static const char *get_string(JsonObject *obj, const char *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	if (!node || json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static JsonObject *get_object(JsonObject *obj, const char *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	if (!node || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_node_get_object(node);
}

static gint64 get_int(JsonObject *obj, const char *name)
{
	JsonNode *node = obj ? json_object_get_member(obj, name) : NULL;

	if (!node || json_node_get_value_type(node) != G_TYPE_INT64)
		return -1;
	return json_node_get_int(node);
}

static void handle_greeting(HhQmp *qmp, JsonObject *msg)
{
	JsonObject *greeting = get_object(msg, "QMP");
	JsonObject *version, *qemu;

	if (!greeting || qmp->greeted) {
		fail_protocol(qmp, "unexpected qmp greeting");
		return;
	}
	qmp->greeted = TRUE;
	version = get_object(greeting, "version");
	qemu = version ? get_object(version, "qemu") : NULL;
	if (qemu)
		qmp->version = g_strdup_printf("%" G_GINT64_FORMAT ".%"
					       G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
					       get_int(qemu, "major"),
					       get_int(qemu, "minor"),
					       get_int(qemu, "micro"));
}

static void handle_event(HhQmp *qmp, JsonObject *msg, const char *name)
{
	JsonNode *data = json_object_get_member(msg, "data");
	HhQmpEvent *ev;

	if (data && !JSON_NODE_HOLDS_OBJECT(data)) {
		fail_protocol(qmp, "qmp event %s has non-object data", name);
		return;
	}
	ev = g_new0(HhQmpEvent, 1);
	ev->name = g_strdup(name);
	ev->data = data ? json_object_ref(json_node_get_object(data))
			: json_object_new();
	if (g_queue_get_length(&qmp->events) >= HH_QMP_MAX_EVENTS)
		event_free(g_queue_pop_head(&qmp->events));
	g_queue_push_tail(&qmp->events, ev);
	if (qmp->event_func)
		qmp->event_func(qmp, ev->name, ev->data, qmp->event_data);
}

static GError *reply_error(const char *command, JsonObject *err)
{
	const char *class = get_string(err, "class");
	const char *desc = get_string(err, "desc");

	return g_error_new(HH_ERROR, HH_ERROR_QMP, "%s: %s: %s", command,
			   class ? class : "(no class)",
			   desc ? desc : "(no description)");
}

static HhQmpCall *take_call(HhQmp *qmp, const char *id)
{
	GList *l;

	for (l = qmp->calls.head; l; l = l->next) {
		HhQmpCall *call = l->data;

		if (strcmp(call->id, id) == 0) {
			g_queue_delete_link(&qmp->calls, l);
			return call;
		}
	}
	return NULL;
}

static void handle_reply(HhQmp *qmp, JsonObject *msg)
{
	const char *id = get_string(msg, "id");
	JsonNode *err_node = json_object_get_member(msg, "error");
	g_autoptr(GError) err = NULL;
	HhQmpCall *call;

	if (!id) {
		fail_protocol(qmp, "qmp reply without an id");
		return;
	}
	if (err_node && !JSON_NODE_HOLDS_OBJECT(err_node)) {
		fail_protocol(qmp, "qmp reply %s has a non-object error", id);
		return;
	}
	call = take_call(qmp, id);
	if (!call) {
		fail_protocol(qmp, "qmp reply with unexpected id \"%s\"", id);
		return;
	}
	if (err_node)
		err = reply_error(call->command, json_node_get_object(err_node));
	complete_call(qmp, call, err ? NULL : json_object_get_member(msg, "return"),
		      err);
}

static void handle_message(HhQmp *qmp, JsonObject *msg)
{
	const char *event = get_string(msg, "event");

	if (json_object_has_member(msg, "QMP"))
		handle_greeting(qmp, msg);
	else if (event)
		handle_event(qmp, msg, event);
	else if (json_object_has_member(msg, "return") ||
		 json_object_has_member(msg, "error"))
		handle_reply(qmp, msg);
	else
		fail_protocol(qmp, "qmp message of unknown kind");
}

static void handle_line(HhQmp *qmp, const char *line, gsize len)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) err = NULL;
	JsonNode *root;

	if (len == 0)
		return;
	transcript_write(qmp, "<- ", line, len);
	if (!json_parser_load_from_data(parser, line, len, &err)) {
		fail_protocol(qmp, "invalid json from qemu: %s", err->message);
		return;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		fail_protocol(qmp, "qmp message is not a json object");
		return;
	}
	handle_message(qmp, json_node_get_object(root));
}

/* Handles each complete line in rbuf; stops at the sticky error or free. */
static void process_lines(HhQmp *qmp)
{
	GByteArray *buf = qmp->rbuf;
	gsize start = 0;
	guint8 *nl;

	while (!qmp->error && !qmp->closed &&
	       (nl = memchr(buf->data + qmp->scanned, '\n',
			    buf->len - qmp->scanned))) {
		gsize end = nl - buf->data;
		gsize len = end - start;

		if (len > 0 && buf->data[end - 1] == '\r')
			len--;
		qmp->scanned = end + 1;
		if (len > HH_QMP_MAX_LINE) {
			fail_protocol(qmp, "qmp line longer than %d bytes",
				      HH_QMP_MAX_LINE);
			return;
		}
		handle_line(qmp, (const char *)buf->data + start, len);
		start = end + 1;
	}
	if (qmp->error || qmp->closed)
		return;
	g_byte_array_remove_range(buf, 0, start);
	qmp->scanned = buf->len;
	/* A partial line may still be followed by its "\r". */
	if (buf->len > HH_QMP_MAX_LINE + 1)
		fail_protocol(qmp, "qmp line longer than %d bytes",
			      HH_QMP_MAX_LINE);
}

static gboolean on_readable(GObject *stream, gpointer data)
{
	HhQmp *qmp = qmp_ref(data);
	g_autoptr(GError) err = NULL;
	gsize old = qmp->rbuf->len;
	gssize n;
	gboolean keep;

	(void)stream;
	/* Read straight into the line buffer: at most HH_QMP_MAX_LINE + 1 +
	 * READ_CHUNK bytes, as process_lines() caps a partial line. */
	g_byte_array_set_size(qmp->rbuf, old + READ_CHUNK);
	n = g_pollable_input_stream_read_nonblocking(qmp->in,
						     qmp->rbuf->data + old,
						     READ_CHUNK, NULL, &err);
	g_byte_array_set_size(qmp->rbuf, old + MAX(n, 0));
	if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		;	/* spurious wakeup */
	else if (n <= 0)
		fail_closed(qmp, err);
	else
		process_lines(qmp);
	keep = qmp->read_source != NULL;
	qmp_unref(qmp);
	return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean on_writable(GObject *stream, gpointer data)
{
	HhQmp *qmp = data;
	g_autoptr(GError) err = NULL;
	gssize n;

	(void)stream;
	n = g_pollable_output_stream_write_nonblocking(qmp->out, qmp->wbuf->data,
						       qmp->wbuf->len, NULL, &err);
	if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return G_SOURCE_CONTINUE;
	if (n < 0) {
		qmp_ref(qmp);
		fail_closed(qmp, err);
		qmp_unref(qmp);
		return G_SOURCE_REMOVE;
	}
	g_byte_array_remove_range(qmp->wbuf, 0, n);
	if (qmp->wbuf->len > 0)
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&qmp->write_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

static gboolean on_cancelled(gint fd, GIOCondition cond, gpointer data)
{
	HhQmp *qmp = qmp_ref(data);

	(void)fd;
	(void)cond;
	fail(qmp, g_error_new_literal(HH_ERROR, HH_ERROR_CANCELLED,
				      "qmp connection cancelled"));
	qmp_unref(qmp);
	return G_SOURCE_REMOVE;
}

static gboolean on_fail_idle(gpointer data)
{
	HhQmp *qmp = qmp_ref(data);

	g_clear_pointer(&qmp->fail_source, g_source_unref);
	fail_pending(qmp);
	qmp_unref(qmp);
	return G_SOURCE_REMOVE;
}

static GSource *attach(HhQmp *qmp, GSource *source, GSourceFunc func)
{
	g_source_set_callback(source, func, qmp, NULL);
	g_source_attach(source, qmp->context);
	return source;
}

static void watch_cancellable(HhQmp *qmp)
{
	GPollFD pfd;

	if (!g_cancellable_make_pollfd(qmp->cancellable, &pfd))
		return;
	qmp->cancel_fd = TRUE;
	qmp->cancel_source = attach(qmp, g_unix_fd_source_new(pfd.fd, G_IO_IN),
				    G_SOURCE_FUNC(on_cancelled));
}

HhQmp *hh_qmp_new(GIOStream *stream, GMainContext *context)
{
	HhQmp *qmp = g_new0(HhQmp, 1);
	GInputStream *in = g_io_stream_get_input_stream(stream);
	GOutputStream *out = g_io_stream_get_output_stream(stream);

	qmp->refs = 1;
	qmp->stream = g_object_ref(stream);
	qmp->context = context ? g_main_context_ref(context)
			       : g_main_context_ref_thread_default();
	qmp->cancellable = g_cancellable_new();
	qmp->rbuf = g_byte_array_new();
	qmp->wbuf = g_byte_array_new();
	if (!G_IS_POLLABLE_INPUT_STREAM(in) || !G_IS_POLLABLE_OUTPUT_STREAM(out) ||
	    !g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(in)) ||
	    !g_pollable_output_stream_can_poll(G_POLLABLE_OUTPUT_STREAM(out))) {
		qmp->error = g_error_new_literal(HH_ERROR, HH_ERROR_FAILED,
						 "qmp stream is not pollable");
		return qmp;
	}
	qmp->in = G_POLLABLE_INPUT_STREAM(in);
	qmp->out = G_POLLABLE_OUTPUT_STREAM(out);
	qmp->read_source = attach(qmp,
		g_pollable_input_stream_create_source(qmp->in, NULL),
		G_SOURCE_FUNC(on_readable));
	watch_cancellable(qmp);
	return qmp;
}

void hh_qmp_free(HhQmp *qmp)
{
	if (!qmp)
		return;
	g_return_if_fail(!qmp->closed);
	qmp->closed = TRUE;
	stop_io(qmp);
	clear_source(&qmp->fail_source);
	if (!qmp->error)
		qmp->error = g_error_new_literal(HH_ERROR, HH_ERROR_CANCELLED,
						 "qmp connection closed");
	fail_pending(qmp);
	if (qmp->event_notify)
		qmp->event_notify(qmp->event_data);
	qmp->event_func = NULL;
	qmp->event_notify = NULL;
	qmp_unref(qmp);
}

GCancellable *hh_qmp_get_cancellable(HhQmp *qmp)
{
	return qmp->cancellable;
}

const GError *hh_qmp_get_error(HhQmp *qmp)
{
	return qmp->error;
}

void hh_qmp_set_transcript(HhQmp *qmp, GOutputStream *out)
{
	g_set_object(&qmp->transcript, out);
}

void hh_qmp_set_event_callback(HhQmp *qmp, HhQmpEventFunc func,
			       gpointer user_data, GDestroyNotify notify)
{
	if (qmp->event_notify)
		qmp->event_notify(qmp->event_data);
	qmp->event_func = func;
	qmp->event_data = user_data;
	qmp->event_notify = notify;
}

const char *hh_qmp_get_qemu_version(HhQmp *qmp)
{
	return qmp->version;
}

static void queue_line(HhQmp *qmp, const char *line)
{
	gsize len = strlen(line);

	transcript_write(qmp, "-> ", line, len);
	g_byte_array_append(qmp->wbuf, (const guint8 *)line, len);
	g_byte_array_append(qmp->wbuf, (const guint8 *)"\n", 1);
	if (!qmp->write_source)
		qmp->write_source = attach(qmp,
			g_pollable_output_stream_create_source(qmp->out, NULL),
			G_SOURCE_FUNC(on_writable));
}

static char *build_command(const char *command, JsonObject *arguments,
			   const char *id)
{
	g_autoptr(JsonObject) obj = json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(obj, "execute", command);
	if (arguments)
		json_object_set_object_member(obj, "arguments", arguments);
	json_object_set_string_member(obj, "id", id);
	json_node_set_object(node, obj);
	return json_to_string(node, FALSE);
}

/* Queues a command; the call stays owned by the transport until completed. */
static HhQmpCall *submit(HhQmp *qmp, const char *command, JsonObject *arguments,
			 HhQmpReplyFunc callback, gpointer user_data)
{
	HhQmpCall *call = g_new0(HhQmpCall, 1);
	g_autofree char *line = NULL;

	call->id = g_strdup_printf("hh-%u", ++qmp->next_id);
	call->command = g_strdup(command);
	call->callback = callback;
	call->user_data = user_data;
	if (qmp->error) {
		if (arguments)
			json_object_unref(arguments);
		g_queue_push_tail(&qmp->failed, call);
		if (!qmp->fail_source && !qmp->closed)
			qmp->fail_source = attach(qmp, g_idle_source_new(),
						  on_fail_idle);
		return call;
	}
	line = build_command(command, arguments, call->id);
	g_queue_push_tail(&qmp->calls, call);
	queue_line(qmp, line);
	return call;
}

void hh_qmp_execute_async(HhQmp *qmp, const char *command,
			  JsonObject *arguments, HhQmpReplyFunc callback,
			  gpointer user_data)
{
	submit(qmp, command, arguments, callback, user_data);
}

typedef gboolean (*WaitCond)(HhQmp *qmp, gpointer data);

static gboolean on_deadline(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Iterates the context until cond holds (TRUE) or timeout_ms pass (FALSE). */
static gboolean wait_for(HhQmp *qmp, WaitCond cond, gpointer data,
			 guint timeout_ms)
{
	GSource *timer = NULL;
	gboolean expired = FALSE;
	gboolean done;

	qmp_ref(qmp);
	if (timeout_ms) {
		timer = g_timeout_source_new(timeout_ms);
		g_source_set_callback(timer, on_deadline, &expired, NULL);
		g_source_attach(timer, qmp->context);
	}
	while (!(done = cond(qmp, data)) && !expired)
		g_main_context_iteration(qmp->context, TRUE);
	clear_source(&timer);
	qmp_unref(qmp);
	return done;
}

static gboolean greeted_or_failed(HhQmp *qmp, gpointer data)
{
	(void)data;
	return qmp->greeted || qmp->error;
}

gboolean hh_qmp_handshake_sync(HhQmp *qmp, guint timeout_ms, GError **error)
{
	gint64 start = g_get_monotonic_time();
	gint64 left;

	if (!wait_for(qmp, greeted_or_failed, NULL, timeout_ms)) {
		g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
			    "qmp greeting not received within %u ms", timeout_ms);
		return FALSE;
	}
	if (!qmp->greeted) {
		g_propagate_error(error, g_error_copy(qmp->error));
		return FALSE;
	}
	left = timeout_ms - (g_get_monotonic_time() - start) / 1000;
	return hh_qmp_execute_sync(qmp, "qmp_capabilities", NULL,
				   timeout_ms ? MAX(left, 1) : 0, NULL, error);
}

typedef struct {
	gboolean done;
	JsonNode *ret;
	GError *error;
} SyncReply;

static void on_sync_reply(HhQmp *qmp, JsonNode *ret, const GError *error,
			  gpointer data)
{
	SyncReply *reply = data;

	(void)qmp;
	reply->done = TRUE;
	if (error)
		reply->error = g_error_copy(error);
	else
		reply->ret = ret ? json_node_ref(ret) : NULL;
}

static gboolean reply_done(HhQmp *qmp, gpointer data)
{
	(void)qmp;
	return ((SyncReply *)data)->done;
}

gboolean hh_qmp_execute_sync(HhQmp *qmp, const char *command,
			     JsonObject *arguments, guint timeout_ms,
			     JsonNode **ret, GError **error)
{
	SyncReply reply = { 0 };
	HhQmpCall *call = submit(qmp, command, arguments, on_sync_reply, &reply);

	if (!wait_for(qmp, reply_done, &reply, timeout_ms)) {
		call->callback = NULL;	/* still pending: drop its reply */
		g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
			    "qmp %s timed out after %u ms", command, timeout_ms);
		return FALSE;
	}
	if (reply.error) {
		g_propagate_error(error, reply.error);
		return FALSE;
	}
	if (ret)
		*ret = reply.ret;
	else if (reply.ret)
		json_node_unref(reply.ret);
	return TRUE;
}

static gboolean writes_flushed(HhQmp *qmp, gpointer data)
{
	(void)data;
	return qmp->write_source == NULL || qmp->error != NULL;
}

gboolean hh_qmp_getfd_sync(HhQmp *qmp, const char *fdname, int fd,
			   guint timeout_ms, GError **error)
{
	SyncReply reply = { 0 };
	g_autoptr(JsonObject) args = json_object_new();
	g_autoptr(GSocketControlMessage) msg = g_unix_fd_message_new();
	g_autofree char *line = NULL, *full = NULL;
	GOutputVector vec;
	HhQmpCall *call;
	GSocket *sock;
	gssize n;

	if (!G_IS_SOCKET_CONNECTION(qmp->stream)) {
		g_set_error(error, HH_ERROR, HH_ERROR_QMP,
			    "getfd: passing a file descriptor needs a unix socket");
		return FALSE;
	}
	/* The descriptor travels with the command's first byte: nothing
	 * queued may go before it. */
	wait_for(qmp, writes_flushed, NULL, timeout_ms);
	if (qmp->error) {
		g_propagate_error(error, g_error_copy(qmp->error));
		return FALSE;
	}
	if (!g_unix_fd_message_append_fd(G_UNIX_FD_MESSAGE(msg), fd, error))
		return FALSE;
	call = g_new0(HhQmpCall, 1);
	call->id = g_strdup_printf("hh-%u", ++qmp->next_id);
	call->command = g_strdup("getfd");
	call->callback = on_sync_reply;
	call->user_data = &reply;
	json_object_set_string_member(args, "fdname", fdname);
	line = build_command("getfd", json_object_ref(args), call->id);
	full = g_strconcat(line, "\n", NULL);
	vec.buffer = full;
	vec.size = strlen(full);
	sock = g_socket_connection_get_socket(G_SOCKET_CONNECTION(qmp->stream));
	n = g_socket_send_message(sock, NULL, &vec, 1, &msg, 1, 0, NULL, error);
	if (n < 0 || (gsize)n != vec.size) {
		if (n >= 0)
			g_set_error(error, HH_ERROR, HH_ERROR_QMP,
				    "getfd: short write to the monitor");
		call_free(call);
		return FALSE;
	}
	transcript_write(qmp, "-> ", line, strlen(line));
	g_queue_push_tail(&qmp->calls, call);
	if (!wait_for(qmp, reply_done, &reply, timeout_ms)) {
		call->callback = NULL;
		g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
			    "qmp getfd timed out after %u ms", timeout_ms);
		return FALSE;
	}
	if (reply.error) {
		g_propagate_error(error, reply.error);
		return FALSE;
	}
	if (reply.ret)
		json_node_unref(reply.ret);
	return TRUE;
}

typedef struct {
	const char *name;
	HhQmpEventMatchFunc match;
	gpointer match_data;
	GList *found;
} EventQuery;

static gboolean find_event(HhQmp *qmp, gpointer data)
{
	EventQuery *q = data;
	GList *l;

	for (l = qmp->events.head; l; l = l->next) {
		HhQmpEvent *ev = l->data;

		if (strcmp(ev->name, q->name) == 0 &&
		    (!q->match || q->match(ev->data, q->match_data))) {
			q->found = l;
			return TRUE;
		}
	}
	return qmp->error != NULL;
}

gboolean hh_qmp_wait_event_match_sync(HhQmp *qmp, const char *name,
				      HhQmpEventMatchFunc match,
				      gpointer match_data, guint timeout_ms,
				      JsonObject **data, GError **error)
{
	EventQuery q = { name, match, match_data, NULL };
	HhQmpEvent *ev;

	if (!wait_for(qmp, find_event, &q, timeout_ms)) {
		g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
			    "qmp event %s not received within %u ms", name,
			    timeout_ms);
		return FALSE;
	}
	if (!q.found) {
		g_propagate_error(error, g_error_copy(qmp->error));
		return FALSE;
	}
	ev = q.found->data;
	g_queue_delete_link(&qmp->events, q.found);
	if (data)
		*data = json_object_ref(ev->data);
	event_free(ev);
	return TRUE;
}

gboolean hh_qmp_wait_event_sync(HhQmp *qmp, const char *name,
				guint timeout_ms, JsonObject **data,
				GError **error)
{
	return hh_qmp_wait_event_match_sync(qmp, name, NULL, NULL, timeout_ms,
					    data, error);
}
