/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "agent-client.h"
#include "hh-error.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define LOG_MAX_BYTES (64u << 20)	/* kernel log kept per cell */

typedef struct _Channel Channel;
typedef void (*FrameFunc)(HhAgent *agent, const struct hhp_header *h,
			  const guint8 *payload);

struct _Channel {
	HhAgent *agent;
	const char *name;
	GIOStream *stream;
	struct hhp_reader reader;
	guint8 *buf;
	FrameFunc on_frame;
	gboolean pending;
	gboolean closed;
};

struct _HhAgent {
	Channel control;
	Channel log;
	GCancellable *cancel;
	GError *error;		/* sticky */
	FILE *transcript;
	FILE *kmsg;
	guint32 next_id;
	guint32 pending_id;
	guint16 pending_type;
	GArray *stale_syncs;	/* ids of SYNCs answered by another one */
	HhAgentReply *reply;
	gboolean reply_ready;
	GPtrArray *records;	/* HhKmsgRecord* */
	gboolean skip;		/* drop KMSG records with seq <= skip_seq */
	guint64 skip_seq;
	gsize log_bytes;
	gboolean log_truncated;
	guint8 *out;		/* frame being sent */
};

void hh_agent_reply_free(HhAgentReply *r)
{
	if (!r)
		return;
	g_free(r->text);
	if (r->data)
		g_bytes_unref(r->data);
	g_free(r);
}

void hh_kmsg_record_free(gpointer p)
{
	HhKmsgRecord *r = p;

	g_free(r->text);
	g_free(r);
}

HhKmsgRecord *hh_kmsg_record_copy(const HhKmsgRecord *src)
{
	HhKmsgRecord *r = g_new(HhKmsgRecord, 1);

	*r = *src;
	r->text = g_strdup(src->text);
	return r;
}

static void fail(HhAgent *agent, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void fail(HhAgent *agent, int code, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	if (agent->error)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	agent->error = g_error_new(HH_ERROR, code, "guest agent: %s", msg);
	if (agent->transcript)
		fprintf(agent->transcript, "!! %s\n", agent->error->message);
}

/* Untrusted bytes to valid UTF-8 without NULs. */
static char *clean_text(const guint8 *p, gsize len)
{
	g_autofree char *copy = g_malloc(len + 1);

	for (gsize i = 0; i < len; i++)
		copy[i] = p[i] ? (char)p[i] : ' ';
	copy[len] = '\0';
	return g_utf8_make_valid(copy, len);
}

static char *field_text(const guint8 *payload, guint32 len, guint16 tag)
{
	struct hhp_field f;

	if (hhp_find_field(payload, len, tag, &f) != 1)
		return NULL;
	return clean_text(f.value, f.length);
}

static void start_read(Channel *ch);

static void read_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Channel *ch = data;
	HhAgent *agent = ch->agent;
	g_autoptr(GError) err = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
	struct hhp_header h;
	const guint8 *payload;
	int rc;

	ch->pending = FALSE;
	if (n < 0) {
		if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(agent, HH_ERROR_QEMU, "%s port: %s", ch->name,
			     err->message);
		ch->closed = TRUE;
		return;
	}
	if (n == 0) {
		ch->closed = TRUE;
		return;
	}
	hhp_reader_commit(&ch->reader, n);
	while ((rc = hhp_reader_next(&ch->reader, &h, &payload)) == 1) {
		ch->on_frame(agent, &h, payload);
		if (agent->error)
			break;
	}
	if (rc < 0) {
		fail(agent, HH_ERROR_PROTOCOL, "malformed data on %s port: %s",
		     ch->name, ch->reader.error);
		return;
	}
	if (!agent->error)
		start_read(ch);
}

static void start_read(Channel *ch)
{
	guint8 *where;
	gsize space = hhp_reader_space(&ch->reader, &where);

	ch->pending = TRUE;
	g_input_stream_read_async(g_io_stream_get_input_stream(ch->stream),
				  where, space, G_PRIORITY_DEFAULT,
				  ch->agent->cancel, read_done, ch);
}

static void keep_record(HhAgent *agent, HhKmsgRecord *r);

static void on_log_frame(HhAgent *agent, const struct hhp_header *h,
			 const guint8 *payload)
{
	HhKmsgRecord *r;
	guint32 level = 0;
	guint64 count = 0;

	if (h->type == HHP_MSG_LOST) {
		hhp_find_u64(payload, h->length, HHP_F_COUNT, &count);
		r = g_new0(HhKmsgRecord, 1);
		r->level = 4;
		r->text = g_strdup_printf("hh: %" G_GUINT64_FORMAT
					  " kernel log records were lost",
					  count);
	} else if (h->type == HHP_MSG_KMSG) {
		r = g_new0(HhKmsgRecord, 1);
		hhp_find_u64(payload, h->length, HHP_F_SEQ, &r->seq);
		hhp_find_u64(payload, h->length, HHP_F_TS_USEC, &r->ts_usec);
		hhp_find_u32(payload, h->length, HHP_F_LEVEL, &level);
		r->level = level & 7;
		if (agent->skip && r->seq <= agent->skip_seq) {
			g_free(r);
			return;
		}
		r->text = field_text(payload, h->length, HHP_F_TEXT);
		if (!r->text)
			r->text = g_strdup("");
	} else {
		fail(agent, HH_ERROR_PROTOCOL,
		     "unexpected message type %u on the log port", h->type);
		return;
	}
	keep_record(agent, r);
}

static void keep_record(HhAgent *agent, HhKmsgRecord *r)
{
	if (agent->kmsg)
		fprintf(agent->kmsg, "<%u>[%5" G_GUINT64_FORMAT ".%06" G_GUINT64_FORMAT "] %s\n",
			r->level, r->ts_usec / 1000000, r->ts_usec % 1000000,
			r->text);
	agent->log_bytes += strlen(r->text) + sizeof(*r);
	if (agent->log_bytes > LOG_MAX_BYTES) {
		if (!agent->log_truncated && agent->kmsg)
			fprintf(agent->kmsg, "hh: kernel log over %u MiB, "
				"no longer kept in memory\n",
				LOG_MAX_BYTES >> 20);
		agent->log_truncated = TRUE;
		hh_kmsg_record_free(r);
		return;
	}
	g_ptr_array_add(agent->records, r);
}

static gboolean is_stale_sync(HhAgent *agent, guint32 id)
{
	for (guint i = 0; i < agent->stale_syncs->len; i++) {
		if (g_array_index(agent->stale_syncs, guint32, i) == id)
			return TRUE;
	}
	return FALSE;
}

static HhAgentReply *parse_reply(const struct hhp_header *h,
				 const guint8 *payload)
{
	HhAgentReply *r = g_new0(HhAgentReply, 1);
	struct hhp_field f;

	hhp_find_u32(payload, h->length, HHP_F_ERRNO, &r->err);
	hhp_find_u32(payload, h->length, HHP_F_STATUS, &r->status);
	hhp_find_u32(payload, h->length, HHP_F_FLAGS, &r->flags);
	r->text = field_text(payload, h->length, HHP_F_TEXT);
	if (hhp_find_field(payload, h->length, HHP_F_DATA, &f) == 1)
		r->data = g_bytes_new(f.value, f.length);
	return r;
}

static void on_control_frame(HhAgent *agent, const struct hhp_header *h,
			     const guint8 *payload)
{
	if (h->type == HHP_MSG_BAD_REQUEST) {
		g_autofree char *text = field_text(payload, h->length,
						   HHP_F_TEXT);

		fail(agent, HH_ERROR_PROTOCOL, "agent rejected request %u: %s",
		     h->id, text ? text : "(no reason given)");
		return;
	}
	if (h->type != HHP_MSG_REPLY) {
		fail(agent, HH_ERROR_PROTOCOL,
		     "unexpected message type %u on the control port",
		     h->type);
		return;
	}
	if (h->id != agent->pending_id || agent->reply_ready) {
		if (is_stale_sync(agent, h->id))
			return;
		fail(agent, HH_ERROR_PROTOCOL,
		     "reply to request %u, which is not the one waiting (%u)",
		     h->id, agent->pending_id);
		return;
	}
	if (agent->pending_type == HHP_MSG_SYNC) {
		/* Checked by the caller against the nonce it sent. */
		struct hhp_field f;

		agent->reply = g_new0(HhAgentReply, 1);
		if (hhp_find_field(payload, h->length, HHP_F_NONCE, &f) == 1)
			agent->reply->data = g_bytes_new(f.value, f.length);
		agent->reply->text = field_text(payload, h->length,
						HHP_F_TEXT);
	} else {
		agent->reply = parse_reply(h, payload);
	}
	agent->reply_ready = TRUE;
	if (agent->transcript)
		fprintf(agent->transcript, "<- #%u errno=%u status=%u%s%s\n",
			h->id, agent->reply->err, agent->reply->status,
			agent->reply->text ? " " : "",
			agent->reply->text ? agent->reply->text : "");
}

static void channel_init(Channel *ch, HhAgent *agent, const char *name,
			 GIOStream *stream, FrameFunc fn)
{
	ch->agent = agent;
	ch->name = name;
	ch->stream = g_object_ref(stream);
	ch->buf = g_malloc(HHP_FRAME_MAX);
	ch->on_frame = fn;
	hhp_reader_init(&ch->reader, ch->buf, HHP_FRAME_MAX);
	start_read(ch);
}

HhAgent *hh_agent_new(GIOStream *control, GIOStream *log,
		      const char *transcript, const char *kmsg_log)
{
	HhAgent *agent = g_new0(HhAgent, 1);

	agent->cancel = g_cancellable_new();
	agent->records = g_ptr_array_new_with_free_func(hh_kmsg_record_free);
	agent->stale_syncs = g_array_new(FALSE, FALSE, sizeof(guint32));
	agent->out = g_malloc(HHP_FRAME_MAX);
	agent->next_id = 1;
	if (transcript)
		agent->transcript = fopen(transcript, "we");
	if (kmsg_log)
		agent->kmsg = fopen(kmsg_log, "we");
	if (agent->transcript)
		setvbuf(agent->transcript, NULL, _IOLBF, 0);
	if (agent->kmsg)
		setvbuf(agent->kmsg, NULL, _IOLBF, 0);
	channel_init(&agent->control, agent, "control", control,
		     on_control_frame);
	channel_init(&agent->log, agent, "log", log, on_log_frame);
	return agent;
}

void hh_agent_free(HhAgent *agent)
{
	g_autoptr(GMainContext) ctx = NULL;

	if (!agent)
		return;
	ctx = g_main_context_ref_thread_default();
	g_cancellable_cancel(agent->cancel);
	while (agent->control.pending || agent->log.pending)
		g_main_context_iteration(ctx, TRUE);
	g_object_unref(agent->control.stream);
	g_object_unref(agent->log.stream);
	g_free(agent->control.buf);
	g_free(agent->log.buf);
	g_object_unref(agent->cancel);
	g_clear_error(&agent->error);
	if (agent->transcript)
		fclose(agent->transcript);
	if (agent->kmsg)
		fclose(agent->kmsg);
	hh_agent_reply_free(agent->reply);
	g_ptr_array_unref(agent->records);
	g_array_unref(agent->stale_syncs);
	g_free(agent->out);
	g_free(agent);
}

typedef struct {
	gboolean done;
	gboolean ok;
	GError *error;
} WriteState;

static void write_done(GObject *src, GAsyncResult *res, gpointer data)
{
	WriteState *w = data;

	w->ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res,
						 NULL, &w->error);
	w->done = TRUE;
}

/*
 * Writes a request within timeout_ms.  A guest that does not read its
 * port (no agent: the port is closed and QEMU's buffer fills up) must not
 * block the harness: the write is asynchronous and given up at the
 * deadline, which leaves the stream mid-frame, so that is sticky.
 */
static gboolean send_frame(HhAgent *agent, struct hhp_builder *b,
			   guint timeout_ms, GError **error)
{
	size_t len = hhp_frame_finish(b);
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	gint64 deadline = hh_now_ms() + timeout_ms;
	WriteState w = { 0 };
	GOutputStream *out;

	if (!len) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "request too large for the agent protocol");
		return FALSE;
	}
	out = g_io_stream_get_output_stream(agent->control.stream);
	g_output_stream_write_all_async(out, b->buf, len, G_PRIORITY_DEFAULT,
					cancel, write_done, &w);
	while (!w.done) {
		gint64 left = deadline - hh_now_ms();

		if (left <= 0 || g_cancellable_is_cancelled(agent->cancel))
			g_cancellable_cancel(cancel);
		hh_iterate_once(MAX(MIN(left, 100), 1));
	}
	if (!w.ok) {
		if (g_error_matches(w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(agent, HH_ERROR_TIMEOUT, "control port: the guest "
			     "took no request for %u ms (no agent reading "
			     "it?)", timeout_ms);
		else
			fail(agent, HH_ERROR_QEMU, "control port: %s",
			     w.error->message);
		g_clear_error(&w.error);
		g_propagate_error(error, g_error_copy(agent->error));
		return FALSE;
	}
	return TRUE;
}

static gboolean agent_failed(HhAgent *agent, GError **error)
{
	if (!agent->error && agent->control.closed)
		fail(agent, HH_ERROR_QEMU, "control port closed (guest gone)");
	if (agent->error) {
		g_propagate_error(error, g_error_copy(agent->error));
		return TRUE;
	}
	return FALSE;
}

/* Waits for the reply to the pending request; NULL on error or timeout. */
static HhAgentReply *wait_reply(HhAgent *agent, guint timeout_ms,
				const char *what, GError **error)
{
	gint64 deadline = hh_now_ms() + timeout_ms;

	while (!agent->reply_ready && !agent->error && !agent->control.closed) {
		gint64 left = deadline - hh_now_ms();

		if (left <= 0)
			break;
		hh_iterate_once(MIN(left, 100));
	}
	if (agent->reply_ready) {
		agent->reply_ready = FALSE;
		agent->pending_id = 0;
		return g_steal_pointer(&agent->reply);
	}
	if (agent_failed(agent, error))
		return NULL;
	g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
		    "guest agent did not answer %s within %u ms", what,
		    timeout_ms);
	return NULL;
}

static void begin(HhAgent *agent, struct hhp_builder *b, guint16 type)
{
	agent->pending_id = agent->next_id++;
	agent->pending_type = type;
	agent->reply_ready = FALSE;
	hh_agent_reply_free(g_steal_pointer(&agent->reply));
	hhp_frame_begin(b, agent->out, HHP_FRAME_MAX, type, agent->pending_id);
}

/* Sends a request (within write_ms) and waits timeout_ms for its reply. */
static HhAgentReply *call_within(HhAgent *agent, struct hhp_builder *b,
				 const char *what, guint write_ms,
				 guint timeout_ms, GError **error)
{
	if (agent->transcript)
		fprintf(agent->transcript, "-> #%u %s\n", agent->pending_id,
			what);
	if (agent_failed(agent, error) ||
	    !send_frame(agent, b, write_ms, error))
		return NULL;
	return wait_reply(agent, timeout_ms, what, error);
}

static HhAgentReply *call(HhAgent *agent, struct hhp_builder *b,
			  const char *what, guint timeout_ms, GError **error)
{
	return call_within(agent, b, what, timeout_ms, timeout_ms, error);
}

gboolean hh_agent_sync(HhAgent *agent, guint timeout_ms, GError **error)
{
	gint64 deadline = hh_now_ms() + timeout_ms;
	struct hhp_builder b;

	while (TRUE) {
		guint64 nonce = ((guint64)g_random_int() << 32) | g_random_int();
		gint64 left = deadline - hh_now_ms();
		g_autoptr(HhAgentReply) r = NULL;
		g_autoptr(GError) err = NULL;

		if (left <= 0)
			break;
		if (agent->pending_id)
			g_array_append_val(agent->stale_syncs,
					   agent->pending_id);
		begin(agent, &b, HHP_MSG_SYNC);
		hhp_add_u64(&b, HHP_F_NONCE, nonce);
		r = call_within(agent, &b, "SYNC", left, MIN(left, 100), &err);
		if (r) {
			gsize len = 0;
			const guint8 *p = r->data ?
				g_bytes_get_data(r->data, &len) : NULL;

			if (len != 8 || hhp_get64(p) != nonce) {
				fail(agent, HH_ERROR_PROTOCOL,
				     "SYNC answered with a wrong nonce");
				agent_failed(agent, error);
				return FALSE;
			}
			if (agent->transcript)
				fprintf(agent->transcript, "== synced with %s\n",
					r->text ? r->text : "agent");
			return TRUE;
		}
		if (!g_error_matches(err, HH_ERROR, HH_ERROR_TIMEOUT)) {
			g_propagate_error(error, g_steal_pointer(&err));
			return FALSE;
		}
	}
	g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
		    "guest agent did not answer SYNC within %u ms", timeout_ms);
	return FALSE;
}

HhAgentReply *hh_agent_write(HhAgent *agent, const char *path,
			     const char *value, guint timeout_ms,
			     GError **error)
{
	struct hhp_builder b;
	g_autofree char *what = g_strdup_printf("WRITE %s %s", path, value);

	begin(agent, &b, HHP_MSG_WRITE);
	hhp_add_str(&b, HHP_F_PATH, path);
	hhp_add_str(&b, HHP_F_DATA, value);
	return call(agent, &b, what, timeout_ms, error);
}

/* A request whose only field is a path (READ, STAT). */
static HhAgentReply *path_call(HhAgent *agent, guint16 type, const char *name,
			       const char *path, guint timeout_ms,
			       GError **error)
{
	struct hhp_builder b;
	g_autofree char *what = g_strdup_printf("%s %s", name, path);

	begin(agent, &b, type);
	hhp_add_str(&b, HHP_F_PATH, path);
	return call(agent, &b, what, timeout_ms, error);
}

HhAgentReply *hh_agent_read(HhAgent *agent, const char *path,
			    guint timeout_ms, GError **error)
{
	return path_call(agent, HHP_MSG_READ, "READ", path, timeout_ms, error);
}

HhAgentReply *hh_agent_stat(HhAgent *agent, const char *path,
			    guint timeout_ms, GError **error)
{
	return path_call(agent, HHP_MSG_STAT, "STAT", path, timeout_ms, error);
}


HhAgentReply *hh_agent_exec(HhAgent *agent, const char *const *argv,
			    guint command_timeout_ms, guint timeout_ms,
			    GError **error)
{
	struct hhp_builder b;
	g_autofree char *joined = g_strjoinv(" ", (char **)argv);
	g_autofree char *what = g_strdup_printf("EXEC %s", joined);

	begin(agent, &b, HHP_MSG_EXEC);
	for (int i = 0; argv[i]; i++)
		hhp_add_str(&b, HHP_F_ARG, argv[i]);
	hhp_add_u32(&b, HHP_F_TIMEOUT_MS, command_timeout_ms);
	return call(agent, &b, what, timeout_ms, error);
}

HhAgentReply *hh_agent_state(HhAgent *agent, guint timeout_ms,
			     GError **error)
{
	struct hhp_builder b;

	begin(agent, &b, HHP_MSG_STATE);
	return call(agent, &b, "STATE", timeout_ms, error);
}

HhAgentReply *hh_agent_settime(HhAgent *agent, gint64 unix_ns,
			       guint timeout_ms, GError **error)
{
	struct hhp_builder b;

	begin(agent, &b, HHP_MSG_SETTIME);
	hhp_add_u64(&b, HHP_F_TIME_NS, (guint64)unix_ns);
	return call(agent, &b, "SETTIME", timeout_ms, error);
}

gboolean hh_agent_poweroff(HhAgent *agent, guint timeout_ms, GError **error)
{
	struct hhp_builder b;
	g_autoptr(HhAgentReply) r = NULL;

	begin(agent, &b, HHP_MSG_POWEROFF);
	r = call(agent, &b, "POWEROFF", timeout_ms, error);
	return r != NULL;
}

/* The marker line as /dev/kmsg gives it back: the kernel writes a
 * backslash, control characters and bytes above 126 as \xNN. */
static char *kmsg_form(const char *text)
{
	GString *s = g_string_new("hh-mark: ");

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < ' ' || *p >= 127 || *p == '\\')
			g_string_append_printf(s, "\\x%02x", *p);
		else
			g_string_append_c(s, (char)*p);
	}
	return g_string_free(s, FALSE);
}

gboolean hh_agent_mark(HhAgent *agent, const char *text, guint timeout_ms,
		       guint *index, GError **error)
{
	struct hhp_builder b;
	g_autoptr(HhAgentReply) r = NULL;
	g_autofree char *line = kmsg_form(text);
	g_autofree char *escaped = g_regex_escape_string(line, -1);
	g_autofree char *pattern = g_strdup_printf("^%s$", escaped);
	g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
	guint from = agent->records->len;

	begin(agent, &b, HHP_MSG_MARK);
	hhp_add_str(&b, HHP_F_TEXT, text);
	r = call(agent, &b, "MARK", timeout_ms, error);
	if (!r)
		return FALSE;
	if (r->err) {
		g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
			    "guest agent could not write a step marker: %s",
			    r->text ? r->text : g_strerror(r->err));
		return FALSE;
	}
	return hh_agent_wait_log(agent, re, from, timeout_ms, index, error);
}

void hh_agent_preload_log(HhAgent *agent, GPtrArray *records,
			  guint64 skip_through)
{
	for (guint i = 0; i < records->len; i++)
		keep_record(agent, hh_kmsg_record_copy(records->pdata[i]));
	agent->skip = TRUE;
	agent->skip_seq = skip_through;
}

guint hh_agent_log_len(HhAgent *agent)
{
	return agent->records->len;
}

GPtrArray *hh_agent_log_records(HhAgent *agent)
{
	return agent->records;
}

GPtrArray *hh_kmsg_records_scan(GPtrArray *records,
				const HhSuppressions *suppressions)
{
	guint n = records ? records->len : 0;
	g_autofree const char **lines = g_new0(const char *, n + 1);

	for (guint i = 0; i < n; i++)
		lines[i] = ((HhKmsgRecord *)records->pdata[i])->text;
	return hh_logcheck_scan(lines, n, suppressions);
}

const HhKmsgRecord *hh_agent_log_get(HhAgent *agent, guint i)
{
	return i < agent->records->len ? agent->records->pdata[i] : NULL;
}

gboolean hh_agent_wait_log(HhAgent *agent, GRegex *regex, guint from,
			   guint timeout_ms, guint *index, GError **error)
{
	gint64 deadline = hh_now_ms() + timeout_ms;
	guint i = from;

	while (TRUE) {
		gint64 left;

		for (; i < agent->records->len; i++) {
			HhKmsgRecord *r = agent->records->pdata[i];

			if (g_regex_match(regex, r->text, 0, NULL)) {
				if (index)
					*index = i;
				return TRUE;
			}
		}
		left = deadline - hh_now_ms();
		if (agent->error || agent->log.closed || left <= 0)
			break;
		hh_iterate_once(MIN(left, 100));
	}
	if (agent->error) {
		g_propagate_error(error, g_error_copy(agent->error));
		return FALSE;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
		    "no kernel log line matched /%s/ within %u ms",
		    g_regex_get_pattern(regex), timeout_ms);
	return FALSE;
}

const GError *hh_agent_get_error(HhAgent *agent)
{
	return agent->error;
}

gboolean hh_agent_wait_log_closed(HhAgent *agent, guint timeout_ms)
{
	gint64 deadline = hh_now_ms() + timeout_ms;

	while (!agent->log.closed && !agent->error) {
		gint64 left = deadline - hh_now_ms();

		if (left <= 0)
			return FALSE;
		hh_iterate_once(MIN(left, 100));
	}
	return TRUE;
}
