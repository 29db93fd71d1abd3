/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the host side of the agent protocol (agent-client.c).
 * The input is what a hostile guest sends: the first two bytes give how
 * much of the rest goes to the control port, the remainder is the log
 * port.  The harness sends one STATE request (id 1) and waits for its
 * reply, then reads the log port to its end and runs the crash analyser
 * over the records it kept.
 */
#include "config.h"

#include "agent-client.h"
#include "logcheck.h"

#include <gio/gio.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static GIOStream *stream_over(const guint8 *data, gsize len)
{
	g_autoptr(GInputStream) in =
		g_memory_input_stream_new_from_data(g_memdup2(data, len), len,
						     g_free);
	g_autoptr(GOutputStream) out =
		g_memory_output_stream_new_resizable();

	return g_simple_io_stream_new(in, out);
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autoptr(GIOStream) control = NULL, log = NULL;
	g_autoptr(HhAgent) agent = NULL;
	g_autoptr(HhAgentReply) reply = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) crashes = NULL;
	gsize split;

	if (size < 2)
		return 0;
	split = MIN((gsize)(data[0] | data[1] << 8), size - 2);
	control = stream_over(data + 2, split);
	log = stream_over(data + 2 + split, size - 2 - split);
	agent = hh_agent_new(control, log, "/dev/null", "/dev/null");
	reply = hh_agent_state(agent, 2000, &err);
	if (reply && reply->data)
		g_assert(g_bytes_get_size(reply->data) <= HHP_MAX_PAYLOAD);
	if (reply && reply->text)
		g_assert(g_utf8_validate(reply->text, -1, NULL));
	hh_agent_wait_log_closed(agent, 2000);
	for (guint i = 0; i < hh_agent_log_len(agent); i++)
		g_assert(g_utf8_validate(hh_agent_log_get(agent, i)->text, -1,
					 NULL));
	crashes = hh_kmsg_records_scan(hh_agent_log_records(agent), NULL);
	return 0;
}
