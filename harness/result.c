/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "result.h"
#include "hh-error.h"
#include "logcheck.h"
#include "util.h"

#include <string.h>

const char *hh_verdict_name(HhVerdict v)
{
	static const char *const names[] = {
		"pass", "skip", "fail", "crash", "timeout", "error",
	};

	return names[v];
}

void hh_step_result_free(gpointer p)
{
	HhStepResult *o = p;

	g_free(o->text);
	g_free(o->message);
	if (o->matches)
		g_ptr_array_unref(o->matches);
	g_free(o);
}

HhCellResult *hh_cell_result_new(void)
{
	HhCellResult *r = g_new0(HhCellResult, 1);

	r->crashes = g_ptr_array_new_with_free_func(g_free);
	r->steps = g_ptr_array_new_with_free_func(hh_step_result_free);
	r->phases = g_array_new(FALSE, FALSE, sizeof(HhPhase));
	return r;
}

void hh_cell_result_free(HhCellResult *r)
{
	if (!r)
		return;
	g_free(r->reason);
	g_free(r->phase);
	g_free(r->boot_mode);
	g_free(r->failed_step);
	if (r->crashes)
		g_ptr_array_unref(r->crashes);
	if (r->steps)
		g_ptr_array_unref(r->steps);
	if (r->reports)
		g_ptr_array_unref(r->reports);
	if (r->phases)
		g_array_unref(r->phases);
	g_free(r);
}

void hh_cell_result_slim(HhCellResult *r)
{
	g_ptr_array_set_size(r->steps, 0);
	g_clear_pointer(&r->reports, g_ptr_array_unref);
	g_array_set_size(r->phases, 0);
}

static void member_str(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

static void member_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

static void add_steps(JsonBuilder *b, const HhCellResult *r)
{
	json_builder_set_member_name(b, "steps");
	json_builder_begin_array(b);
	for (guint i = 0; r->steps && i < r->steps->len; i++) {
		const HhStepResult *o = r->steps->pdata[i];

		json_builder_begin_object(b);
		member_int(b, "line", o->line);
		member_str(b, "step", o->text);
		member_str(b, "status", hh_verdict_name(o->verdict));
		if (o->message)
			member_str(b, "message", o->message);
		member_int(b, "ms", o->ms);
		if (o->matches && o->matches->len) {
			json_builder_set_member_name(b, "matches");
			json_builder_begin_array(b);
			for (guint k = 0; k < o->matches->len; k++)
				json_builder_add_string_value(
					b, o->matches->pdata[k]);
			json_builder_end_array(b);
		}
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void add_crashes(JsonBuilder *b, const HhCellResult *r)
{
	json_builder_set_member_name(b, "crashes");
	json_builder_begin_array(b);
	for (guint i = 0; r->reports && i < r->reports->len; i++) {
		const HhCrash *k = r->reports->pdata[i];

		json_builder_begin_object(b);
		member_str(b, "title", k->title);
		member_int(b, "count", k->count);
		member_str(b, "excerpt", k->excerpt);
		if (k->suppressed_by)
			member_str(b, "suppressed_by", k->suppressed_by);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

gboolean hh_result_write(const char *dir, const HhResultHeader *h,
			 const HhCellResult *r, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *path = g_build_filename(dir, "result.json", NULL);

	json_builder_begin_object(b);
	member_str(b, "cell", h->cell);
	member_str(b, "kernel", h->kernel);
	member_str(b, "kernel_release", h->kernel_release);
	member_str(b, "variant", h->variant);
	member_str(b, "scenario", h->scenario);
	member_str(b, "status", hh_verdict_name(r->verdict));
	member_str(b, "reason", r->reason);
	member_str(b, "phase", r->phase);
	member_str(b, "failed_step", r->failed_step);
	json_builder_set_member_name(b, "expected_crash");
	json_builder_add_boolean_value(b, r->expected);
	member_str(b, "boot", r->boot_mode);
	member_int(b, "qemu_peak_rss_kb", (gint64)r->peak_rss_kb);
	member_str(b, "accel", h->accel);
	member_str(b, "backend", h->backend);
	if (h->connect)
		member_str(b, "connect", h->connect);
	member_str(b, "rerun", h->rerun);
	member_str(b, "host", h->host);
	if (r->started_us) {
		g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(
			r->started_us / G_USEC_PER_SEC);
		g_autofree char *iso = g_date_time_format_iso8601(t);

		member_str(b, "started", iso);
		member_int(b, "started_unix_ms", r->started_us / 1000);
	}
	if (h->attempts && h->attempts->len) {
		json_builder_set_member_name(b, "lost_attempts");
		json_builder_begin_array(b);
		for (guint i = 0; i < h->attempts->len; i++)
			json_builder_add_string_value(b, h->attempts->pdata[i]);
		json_builder_end_array(b);
	}
	json_builder_set_member_name(b, "durations_ms");
	json_builder_begin_object(b);
	member_int(b, "boot", r->boot_ms);
	member_int(b, "steps", r->steps_ms);
	member_int(b, "shutdown", r->shutdown_ms);
	member_int(b, "total", (gint64)(r->seconds * 1000));
	json_builder_end_object(b);
	if (r->phases && r->phases->len) {
		json_builder_set_member_name(b, "phases");
		json_builder_begin_array(b);
		for (guint i = 0; i < r->phases->len; i++) {
			const HhPhase *ph = &g_array_index(r->phases, HhPhase, i);

			json_builder_begin_object(b);
			member_str(b, "name", ph->name);
			member_int(b, "start_ms", ph->start_ms);
			member_int(b, "ms", ph->ms);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
	}
	add_steps(b, r);
	add_crashes(b, r);
	json_builder_end_object(b);
	return hh_write_json(path, b, TRUE, error);
}

/* result.json is the harness's own file, but holds guest text: bounded. */
#define RESULT_JSON_MAX (16u << 20)

JsonParser *hh_result_load(const char *dir, JsonObject **root, GError **error)
{
	g_autofree char *path = g_build_filename(dir, "result.json", NULL);
	g_autofree char *text = NULL;
	g_autoptr(JsonParser) p = json_parser_new();
	gsize len = 0;

	if (!g_file_get_contents(path, &text, &len, error))
		return NULL;
	if (len > RESULT_JSON_MAX) {
		g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
			    "%s: over %u bytes", path, RESULT_JSON_MAX);
		return NULL;
	}
	if (!json_parser_load_from_data(p, text, (gssize)len, error))
		return NULL;
	if (!json_parser_get_root(p) ||	/* empty or blank: no root */
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
			    "%s: not a JSON object", path);
		return NULL;
	}
	if (root)
		*root = json_node_get_object(json_parser_get_root(p));
	return g_steal_pointer(&p);
}

GPtrArray *hh_result_load_repeats(const char *run_dir, const char *cell)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_object_unref);
	g_autofree char *parent_rel = g_path_get_dirname(cell);
	g_autofree char *base = g_path_get_basename(cell);
	g_autofree char *parent = g_build_filename(run_dir, parent_rel, NULL);
	g_autoptr(GDir) d = g_dir_open(parent, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *leaf = hh_repeat_base(name);
		g_autofree char *dir = NULL;
		JsonParser *p;

		if (!g_str_equal(leaf, base))
			continue;
		dir = g_build_filename(parent, name, NULL);
		p = hh_result_load(dir, NULL, NULL);
		if (p)
			g_ptr_array_add(out, p);
	}
	return out;
}

char *hh_repeat_name(const char *name, guint r, guint n)
{
	return n > 1 ? g_strdup_printf("%s~%u", name, r) : g_strdup(name);
}

char *hh_repeat_base(const char *name)
{
	const char *t = strrchr(name, '~');

	if (t && t[1] && strspn(t + 1, "0123456789") == strlen(t + 1))
		return g_strndup(name, (gsize)(t - name));
	return g_strdup(name);
}
