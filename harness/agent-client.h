/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_AGENT_CLIENT_H
#define HH_AGENT_CLIENT_H

#include <gio/gio.h>

#include "hh-protocol.h"
#include "logcheck.h"

/*
 * Host side of the agent protocol (hh-protocol.h): requests on the control
 * port, the kernel log from the log port.  Everything the guest sends is
 * untrusted: frames are bounded and checked, text is made valid UTF-8, and
 * any malformed, oversized or out-of-order message is a sticky
 * HH_ERROR_PROTOCOL error for the cell, never a crash or a hang.
 */
typedef struct _HhAgent HhAgent;

typedef struct {
	guint64 seq;
	guint64 ts_usec;
	guint level;		/* syslog level 0-7 */
	char *text;		/* valid UTF-8 */
} HhKmsgRecord;

typedef struct {
	guint32 err;		/* errno in the guest, 0 for success */
	guint32 status;		/* EXEC: wait status */
	guint32 flags;		/* HHP_FLAG_* */
	char *text;		/* message, valid UTF-8 (may be NULL) */
	GBytes *data;		/* DATA field (may be NULL) */
} HhAgentReply;

void hh_agent_reply_free(HhAgentReply *r);

HhKmsgRecord *hh_kmsg_record_copy(const HhKmsgRecord *r);
void hh_kmsg_record_free(gpointer r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhAgentReply, hh_agent_reply_free)

/*
 * Both streams are read on the thread-default main context.  transcript and
 * kmsg_log are files the agent traffic and the kernel log are appended to
 * (either may be NULL).
 */
HhAgent *hh_agent_new(GIOStream *control, GIOStream *log,
		      const char *transcript, const char *kmsg_log);
void hh_agent_free(HhAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhAgent, hh_agent_free)

/* Handshake: SYNC with a fresh nonce (resent every second) until the agent
 * answers it. */
gboolean hh_agent_sync(HhAgent *agent, guint timeout_ms, GError **error);

HhAgentReply *hh_agent_write(HhAgent *agent, const char *path,
			     const char *value, guint timeout_ms,
			     GError **error);
HhAgentReply *hh_agent_read(HhAgent *agent, const char *path,
			    guint timeout_ms, GError **error);
/* Whether path exists in the guest: reply->err is stat()'s errno. */
HhAgentReply *hh_agent_stat(HhAgent *agent, const char *path,
			    guint timeout_ms, GError **error);
HhAgentReply *hh_agent_exec(HhAgent *agent, const char *const *argv,
			    guint command_timeout_ms, guint timeout_ms,
			    GError **error);
HhAgentReply *hh_agent_state(HhAgent *agent, guint timeout_ms,
			     GError **error);
HhAgentReply *hh_agent_settime(HhAgent *agent, gint64 unix_ns,
			       guint timeout_ms, GError **error);
gboolean hh_agent_poweroff(HhAgent *agent, guint timeout_ms, GError **error);

/*
 * Writes "hh-mark: TEXT" into the kernel log and waits until that record
 * came back on the log port, so every earlier kernel message is in the
 * log too.  Returns the index of the marker record in the log.
 */
gboolean hh_agent_mark(HhAgent *agent, const char *text, guint timeout_ms,
		       guint *index, GError **error);

/*
 * For a guest restored from a saved state: the kernel log up to the save
 * (records is an array of HhKmsgRecord*, copied), and records the restored
 * agent sends again with seq <= skip_through are dropped.  Call before the
 * first sync.
 */
void hh_agent_preload_log(HhAgent *agent, GPtrArray *records,
			  guint64 skip_through);

/* The kernel log received so far. */
guint hh_agent_log_len(HhAgent *agent);
const HhKmsgRecord *hh_agent_log_get(HhAgent *agent, guint i);

/* Waits for a log record matching regex at index >= from. */
gboolean hh_agent_wait_log(HhAgent *agent, GRegex *regex, guint from,
			   guint timeout_ms, guint *index, GError **error);

/* Non-NULL once the agent connection failed (sticky). */
const GError *hh_agent_get_error(HhAgent *agent);

/* Waits until the log port closes (after poweroff). */
gboolean hh_agent_wait_log_closed(HhAgent *agent, guint timeout_ms);

/* The crash analyser over kernel-log records (HhKmsgRecord*): the
 * agent's log of a cell, or a snapshot's boot log. */
GPtrArray *hh_kmsg_records_scan(GPtrArray *records,
				const HhSuppressions *suppressions);

/* The agent's records so far (HhKmsgRecord*; owned by the agent). */
GPtrArray *hh_agent_log_records(HhAgent *agent);

#endif
