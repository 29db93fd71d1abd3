/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hotplug-harness report: KTAP, JUnit and KCIDB reports of an archived
 * run (the HTML report is report-html.c).  The archive gives the run, its
 * kernels and cells; each cell's result.json gives its steps and crash
 * excerpts; kmsg.log gives log tails.  All of the last three carry guest
 * text and are cleaned and bounded here.
 */
#include "config.h"

#include "report.h"
#include "report-model.h"
#include "report-html.h"
#include "escape.h"
#include "hh-error.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define KTAP_LINE_MAX 400
#define EXCERPT_MAX (64u << 10)
#define KCIDB_EXCERPT_MAX 16000	/* KCIDB v4 log_excerpt limit: 16384 */

gboolean hh_report_format_parse(const char *name, HhReportFormat *format,
				GError **error)
{
	static const char *const names[] = { "ktap", "junit", "kcidb", "html" };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (name && g_str_equal(name, names[i])) {
			*format = (HhReportFormat)i;
			return TRUE;
		}
	}
	g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
		    "--format '%s': expected ktap, junit, kcidb or html",
		    name ? name : "");
	return FALSE;
}

static gboolean failed(const HhRepCell *c)
{
	const char *v = hh_rep_verdict(c);

	return !g_str_equal(v, "pass") && !g_str_equal(v, "skip") &&
	       !g_str_equal(v, "xfail");
}

/* ---- KTAP ---- */

static void ktap_cell(GString *o, const HhRepCell *c, guint n)
{
	const char *v = hh_rep_verdict(c);
	g_autofree char *name = hh_text_one_line(c->cell->name, KTAP_LINE_MAX);
	g_autofree char *reason_clean = hh_text_clean_str(c->cell->reason,
							  KTAP_LINE_MAX);
	g_autofree char *reason = hh_text_one_line(reason_clean ? reason_clean : "",
						   KTAP_LINE_MAX);
	g_autoptr(GPtrArray) steps = hh_rep_steps(c);
	g_autoptr(GPtrArray) crashes = hh_rep_crashes(c);

	if (steps->len) {
		g_string_append(o, "  KTAP version 1\n");
		g_string_append_printf(o, "  # Subtest: %s\n", name);
		g_string_append_printf(o, "  1..%u\n", steps->len);
	}
	for (guint i = 0; i < steps->len; i++) {
		JsonObject *s = steps->pdata[i];
		g_autofree char *text = hh_text_clean_str(
			json_object_get_string_member_with_default(s, "step", ""),
			KTAP_LINE_MAX);
		g_autofree char *msg = hh_text_clean_str(
			json_object_get_string_member_with_default(s, "message", ""),
			KTAP_LINE_MAX);
		g_autofree char *t1 = hh_text_one_line(text, KTAP_LINE_MAX);
		g_autofree char *m1 = hh_text_one_line(msg, KTAP_LINE_MAX);
		const char *st = json_object_get_string_member_with_default(
			s, "status", "error");
		gint64 line = json_object_get_int_member_with_default(s, "line", 0);

		if (g_str_equal(st, "pass"))
			g_string_append_printf(o, "  ok %u line %" G_GINT64_FORMAT
					       ": %s\n", i + 1, line, t1);
		else
			g_string_append_printf(o, "  not ok %u line %"
					       G_GINT64_FORMAT ": %s # %s%s%s\n",
					       i + 1, line, t1,
					       g_str_equal(st, "timeout") ? "TIMEOUT " :
					       g_str_equal(st, "error") ? "ERROR " : "",
					       g_str_equal(st, "fail") ? "fail: " : "",
					       m1);
	}
	for (guint i = 0; i < crashes->len; i++) {
		g_autofree char *t = hh_text_clean_str(
			json_object_get_string_member_with_default(
				crashes->pdata[i], "title", ""), KTAP_LINE_MAX);
		g_autofree char *t1 = hh_text_one_line(t, KTAP_LINE_MAX);

		g_string_append_printf(o, "# %s: kernel report: %s\n", name, t1);
	}
	if (g_str_equal(v, "pass"))
		g_string_append_printf(o, "ok %u %s\n", n, name);
	else if (g_str_equal(v, "skip"))
		g_string_append_printf(o, "ok %u %s # SKIP %s\n", n, name, reason);
	else if (g_str_equal(v, "missing"))
		g_string_append_printf(o, "not ok %u %s # SKIP %s\n", n, name,
				       reason);
	else if (g_str_equal(v, "xfail"))
		g_string_append_printf(o, "not ok %u %s # XFAIL %s\n", n, name,
				       reason);
	else if (g_str_equal(v, "timeout"))
		g_string_append_printf(o, "not ok %u %s # TIMEOUT %s\n", n, name,
				       reason);
	else if (g_str_equal(v, "error"))
		g_string_append_printf(o, "not ok %u %s # ERROR %s\n", n, name,
				       reason);
	else
		g_string_append_printf(o, "not ok %u %s # %s: %s\n", n, name, v,
				       reason);
}

static char *ktap(HhRep *r)
{
	GString *o = g_string_new("KTAP version 1\n");

	g_string_append_printf(o, "# hotplug-harness run %s, matrix %s, %s\n",
			       r->run->id, r->run->matrix ? r->run->matrix : "?",
			       r->run->complete ? "complete" : "incomplete");
	g_string_append_printf(o, "1..%u\n", r->rcells->len);
	for (guint i = 0; i < r->rcells->len; i++)
		ktap_cell(o, r->rcells->pdata[i], i + 1);
	return g_string_free(o, FALSE);
}

/* ---- JUnit ---- */

typedef struct {
	guint tests, failures, errors, skipped;
	gint64 ms;
} Counts;

static void count(Counts *k, const HhRepCell *c)
{
	const char *v = hh_rep_verdict(c);

	k->tests++;
	k->ms += c->cell->total_ms;
	if (g_str_equal(v, "fail") || g_str_equal(v, "crash"))
		k->failures++;
	else if (g_str_equal(v, "timeout") || g_str_equal(v, "error"))
		k->errors++;
	else if (g_str_equal(v, "skip") || g_str_equal(v, "missing"))
		k->skipped++;
}

static void junit_case(GString *o, const HhRepCell *c)
{
	const char *v = hh_rep_verdict(c);
	g_autofree char *reason = hh_text_clean_str(c->cell->reason, 2048);
	g_autofree char *cls = g_strdup_printf("%s.%s", c->cell->kernel,
					       c->cell->variant);
	g_autofree char *clean_cls = hh_text_clean_str(cls, 512);
	g_autofree char *clean_name = hh_text_clean_str(c->cell->scenario, 512);
	g_autofree char *rerun = hh_rep_result_str(c, "rerun");

	hh_markup_printf(o, "    <testcase classname=\"%s\" name=\"%s\"",
			 clean_cls, clean_name);
	g_string_append_printf(o, " time=\"%.3f\">\n", c->cell->total_ms / 1000.0);
	if (failed(c)) {
		g_autofree char *ex = hh_rep_failure_excerpt(c, EXCERPT_MAX);
		gboolean is_failure = g_str_equal(v, "fail") ||
				      g_str_equal(v, "crash");

		hh_markup_printf(o, "      <%s message=\"%s\" type=\"%s\">",
				 is_failure ? "failure" : "error",
				 reason ? reason : v, v);
		hh_markup_append(o, ex);
		g_string_append_printf(o, "</%s>\n",
				       is_failure ? "failure" : "error");
		g_string_append(o, "      <system-out>");
		hh_markup_append(o, ex);
		if (rerun) {
			g_string_append(o, "\nre-run: ");
			hh_markup_append(o, rerun);
		}
		g_string_append(o, "</system-out>\n");
	} else if (g_str_equal(v, "skip") || g_str_equal(v, "missing")) {
		hh_markup_printf(o, "      <skipped message=\"%s\"/>\n",
				 reason ? reason : v);
	} else if (g_str_equal(v, "xfail")) {
		g_string_append(o, "      <system-out>");
		hh_markup_printf(o, "expected crash: %s", reason ? reason : "");
		g_string_append(o, "</system-out>\n");
	}
	g_string_append(o, "    </testcase>\n");
}

static char *junit(HhRep *r)
{
	GString *o = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	Counts all = { 0 };

	for (guint i = 0; i < r->rcells->len; i++)
		count(&all, r->rcells->pdata[i]);
	hh_markup_printf(o, "<testsuites name=\"hotplug-harness %s\"",
			 r->run->id);
	g_string_append_printf(o, " tests=\"%u\" failures=\"%u\" errors=\"%u\""
			       " skipped=\"%u\" time=\"%.3f\">\n", all.tests,
			       all.failures, all.errors, all.skipped,
			       all.ms / 1000.0);
	for (guint k = 0; k < r->kernels->len; k++) {
		HhArchiveKernel *ker = r->kernels->pdata[k];
		Counts kc = { 0 };

		for (guint i = 0; i < r->rcells->len; i++) {
			HhRepCell *c = r->rcells->pdata[i];

			if (g_strcmp0(c->cell->kernel, ker->name) == 0)
				count(&kc, c);
		}
		hh_markup_printf(o, "  <testsuite name=\"%s\" timestamp=\"%s\""
				 " hostname=\"%s\"", ker->name,
				 r->run->start ? r->run->start : "",
				 r->run->host ? r->run->host : "");
		g_string_append_printf(o, " tests=\"%u\" failures=\"%u\""
				       " errors=\"%u\" skipped=\"%u\""
				       " time=\"%.3f\">\n", kc.tests,
				       kc.failures, kc.errors, kc.skipped,
				       kc.ms / 1000.0);
		g_string_append(o, "    <properties>\n");
		hh_markup_printf(o, "      <property name=\"release\" value=\"%s\"/>\n",
				 ker->release ? ker->release : "");
		hh_markup_printf(o, "      <property name=\"source\" value=\"%s\"/>\n",
				 ker->identity ? ker->identity : "");
		hh_markup_printf(o, "      <property name=\"series_sha256\" value=\"%s\"/>\n",
				 ker->series_hash ? ker->series_hash : "");
		hh_markup_printf(o, "      <property name=\"config_sha256\" value=\"%s\"/>\n",
				 ker->config_hash ? ker->config_hash : "");
		g_string_append(o, "    </properties>\n");
		for (guint i = 0; i < r->rcells->len; i++) {
			HhRepCell *c = r->rcells->pdata[i];

			if (g_strcmp0(c->cell->kernel, ker->name) == 0)
				junit_case(o, c);
		}
		g_string_append(o, "  </testsuite>\n");
	}
	g_string_append(o, "</testsuites>\n");
	return g_string_free(o, FALSE);
}

/* ---- KCIDB ---- */

#define KCIDB_ORIGIN "hotplug_harness"

static const char *kcidb_status(const HhRepCell *c)
{
	const char *v = hh_rep_verdict(c);

	if (g_str_equal(v, "pass") || g_str_equal(v, "xfail"))
		return "PASS";
	if (g_str_equal(v, "fail") || g_str_equal(v, "crash"))
		return "FAIL";
	if (g_str_equal(v, "skip"))
		return "SKIP";
	if (g_str_equal(v, "missing"))
		return "MISS";
	return "ERROR";		/* timeout, error */
}

/* KCIDB path components: no dots. */
static char *kcidb_component(const char *s)
{
	g_autofree char *clean = hh_text_clean_str(s ? s : "", 256);

	return g_strdelimit(g_steal_pointer(&clean), ".", '_');
}

/* A string member, cleaned whatever its source. */
static void kv(JsonBuilder *b, const char *k, const char *raw)
{
	g_autofree char *v = hh_text_clean_str(raw, 0);

	hh_json_set_string(b, k, v);
}

static char *kcidb(HhRep *r)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) g = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "version");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "major");
	json_builder_add_int_value(b, 4);
	json_builder_set_member_name(b, "minor");
	json_builder_add_int_value(b, 3);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "checkouts");
	json_builder_begin_array(b);
	for (guint k = 0; k < r->kernels->len; k++) {
		HhArchiveKernel *ker = r->kernels->pdata[k];
		g_autofree char *id = g_strdup_printf(KCIDB_ORIGIN ":%s-%s",
						      r->run->id, ker->name);

		json_builder_begin_object(b);
		kv(b, "id", id);
		kv(b, "origin", KCIDB_ORIGIN);
		kv(b, "tree_name", ker->identity);
		if (ker->identity && g_str_has_prefix(ker->identity, "git:"))
			kv(b, "git_commit_hash", ker->identity + 4);
		if (ker->series_hash)
			kv(b, "patchset_hash", ker->series_hash);
		kv(b, "start_time", r->run->start);
		json_builder_set_member_name(b, "valid");
		json_builder_add_boolean_value(b, TRUE);
		json_builder_set_member_name(b, "misc");
		json_builder_begin_object(b);
		kv(b, "source_identity", ker->identity);
		json_builder_set_member_name(b, "patches");
		json_builder_add_int_value(b, ker->patches);
		json_builder_end_object(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);

	json_builder_set_member_name(b, "builds");
	json_builder_begin_array(b);
	for (guint k = 0; k < r->kernels->len; k++) {
		HhArchiveKernel *ker = r->kernels->pdata[k];
		g_autofree char *id = g_strdup_printf(KCIDB_ORIGIN ":%s-%s",
						      r->run->id, ker->name);

		json_builder_begin_object(b);
		kv(b, "id", id);
		kv(b, "checkout_id", id);
		kv(b, "origin", KCIDB_ORIGIN);
		kv(b, "architecture", "x86_64");
		kv(b, "config_name", ker->name);
		kv(b, "start_time", r->run->start);
		json_builder_set_member_name(b, "valid");
		json_builder_add_boolean_value(b, TRUE);
		json_builder_set_member_name(b, "misc");
		json_builder_begin_object(b);
		kv(b, "release", ker->release);
		kv(b, "cache_key", ker->cache_key);
		kv(b, "config_sha256", ker->config_hash);
		json_builder_end_object(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);

	json_builder_set_member_name(b, "tests");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->rcells->len; i++) {
		HhRepCell *c = r->rcells->pdata[i];
		g_autofree char *build = g_strdup_printf(KCIDB_ORIGIN ":%s-%s",
							 r->run->id, c->cell->kernel);
		g_autofree char *cname = hh_text_clean_str(c->cell->name, 1024);
		g_autofree char *id = g_strdup_printf(KCIDB_ORIGIN ":%s-%s",
						      r->run->id, cname);
		g_autofree char *v = kcidb_component(c->cell->variant);
		g_autofree char *s = kcidb_component(c->cell->scenario);
		g_autofree char *path = g_strdup_printf("hotplug.%s.%s", s, v);
		g_autofree char *reason = hh_text_clean_str(c->cell->reason, 4096);

		json_builder_begin_object(b);
		kv(b, "id", id);
		kv(b, "build_id", build);
		kv(b, "origin", KCIDB_ORIGIN);
		kv(b, "path", path);
		kv(b, "status", kcidb_status(c));
		if (!c->missing) {
			json_builder_set_member_name(b, "duration");
			json_builder_add_double_value(b, c->cell->total_ms / 1000.0);
		}
		if (failed(c) && !c->missing) {
			g_autofree char *ex = hh_rep_failure_excerpt(
				c, KCIDB_EXCERPT_MAX);

			kv(b, "log_excerpt", ex);
		}
		json_builder_set_member_name(b, "environment");
		json_builder_begin_object(b);
		kv(b, "comment", "QEMU x86_64 guest (hotplug-harness)");
		json_builder_end_object(b);
		json_builder_set_member_name(b, "misc");
		json_builder_begin_object(b);
		kv(b, "cell", cname);
		kv(b, "verdict", hh_rep_verdict(c));
		kv(b, "reason", reason);
		if (c->cell->failed_step) {
			g_autofree char *fs = hh_text_clean_str(c->cell->failed_step,
								4096);

			kv(b, "failed_step", fs);
		}
		json_builder_set_member_name(b, "crash_titles");
		json_builder_begin_array(b);
		for (guint k = 0; k < c->cell->crashes->len; k++) {
			g_autofree char *t = hh_text_clean_str(
				c->cell->crashes->pdata[k], 1024);

			json_builder_add_string_value(b, t);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	{
		g_autofree char *text = json_generator_to_data(g, NULL);

		return g_strconcat(text, "\n", NULL);
	}
}

/* ---- output ---- */

gboolean hh_report_write(HhArchive *a, const char *run_id,
			 HhReportFormat format, const char *out,
			 GError **error)
{
	g_autoptr(HhRep) r = hh_rep_load(a, run_id, error);
	g_autofree char *text = NULL;

	if (!r)
		return FALSE;
	switch (format) {
	case HH_REPORT_HTML:
		if (!out || g_str_equal(out, "-")) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "the html report is a directory: give -o DIR");
			return FALSE;
		}
		return hh_rep_write_html(r, out, error);
	case HH_REPORT_KTAP:
		text = ktap(r);
		break;
	case HH_REPORT_JUNIT:
		text = junit(r);
		break;
	case HH_REPORT_KCIDB:
		text = kcidb(r);
		break;
	}
	if (!out || g_str_equal(out, "-")) {
		fputs(text, stdout);
		fflush(stdout);
		return TRUE;
	}
	return hh_write_file(out, text, -1, error);
}
