/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_LIBVIRT_STREAM_H
#define HH_LIBVIRT_STREAM_H

#include <gio/gio.h>
#include <libvirt/libvirt.h>

/*
 * A pump between a non-blocking libvirt stream and this process, on
 * libvirt's event loop (virEventRegisterDefaultImpl() and a thread running
 * it must exist).  The pump takes the stream over.
 */
typedef struct _HhLvPump HhLvPump;

/* Everything the stream gives is written to fd (taken over), e.g. a
 * console log. */
HhLvPump *hh_lv_pump_to_file(virStreamPtr st, int fd, GError **error);

/* Both ways: the returned stream reads what the guest sends and writes
 * what the guest gets.  *pump receives the pump. */
GIOStream *hh_lv_pump_to_stream(virStreamPtr st, HhLvPump **pump,
				GError **error);

/* Waits (until deadline, ms on hh_now_ms()'s clock) for the stream to be
 * quiet for 30 ms, then ends it: the reader sees end of file. */
void hh_lv_pump_drain(HhLvPump *pump, gint64 deadline);

/* Stops the traffic and drops the caller's reference. */
void hh_lv_pump_close(HhLvPump **pump);

/* The stream's connection is gone: the harness's end of the pair sees
 * end of file now, whatever libvirt still says of the stream.  Any
 * thread. */
void hh_lv_pump_cut(HhLvPump *pump);

#endif
