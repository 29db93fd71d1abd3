/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the QMP reader (qmp.c).  The input is everything a
 * hostile monitor sends.  The harness does the handshake, runs one
 * command and waits for an event, as a cell does.
 */
#include "config.h"

#include "qmp.h"

#include <gio/gio.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static gboolean any_event(JsonObject *obj, gpointer user_data)
{
	return json_object_get_size(obj) >= 0;
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autoptr(GInputStream) in =
		g_memory_input_stream_new_from_data(g_memdup2(data, size),
						     size, g_free);
	g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
	g_autoptr(GIOStream) io = g_simple_io_stream_new(in, out);
	g_autoptr(HhQmp) qmp = hh_qmp_new(io, NULL);
	g_autoptr(JsonNode) ret = NULL;
	g_autoptr(JsonObject) ev = NULL;
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;

	hh_qmp_set_transcript(qmp, out);
	if (hh_qmp_handshake_sync(qmp, 1000, &e1))
		g_assert(hh_qmp_get_qemu_version(qmp));
	hh_qmp_execute_sync(qmp, "query-status", NULL, 1000, &ret, &e2);
	hh_qmp_wait_event_match_sync(qmp, "DEVICE_DELETED", any_event, NULL,
				     200, &ev, &e3);
	return 0;
}
