/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports of a run whose guest sent everything a guest can send: NUL,
 * escape sequences, invalid UTF-8, markup, CDATA ends, a 6 MB line, and
 * a result.json that does not parse.  Every format must stay valid (XML
 * well-formed, JSON parseable, KTAP line-shaped), bounded and escaped.
 */
#include "archive.h"
#include "escape.h"
#include "report.h"
#include "util.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char evil[] =
	"<script>alert(1)</script> ]]> &amp; \"q\" 'a' \x01\x02\x1b[31mred"
	"\x7f \xff\xfe\xc3 \xef\xbf\xbe </pre></testcase>";

typedef struct {
	char *dir;
	HhArchive *a;
} Fixture;

static void write_bytes(const char *path, const char *data, gsize len)
{
	g_autoptr(GError) err = NULL;

	g_assert_true(g_file_set_contents(path, data, (gssize)len, &err));
}

static void make_cell_dir(const char *dir, gboolean good_json)
{
	g_autoptr(GString) log = g_string_new(NULL);
	g_autofree char *kmsg = g_build_filename(dir, "kmsg.log", NULL);
	g_autofree char *agent = g_build_filename(dir, "agent.log", NULL);
	g_autofree char *result = g_build_filename(dir, "result.json", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_string_append(log, "<6>[    0.000000] Linux version 6.1\n");
	g_string_append(log, "<4>[    1.000000] hh-mark: step 1 begin: write\n");
	g_string_append_printf(log, "<4>[    1.100000] %s\n", evil);
	g_string_append_len(log, "<4>[    1.2] nul\0inside\n", 23);
	g_string_append(log, "<4>[    1.3] ");
	for (int i = 0; i < 6 << 20; i++)
		g_string_append_c(log, 'A');
	g_string_append(log, "\n<4>[    1.400000] WARNING: CPU: 0 PID: 1 at x\n");
	write_bytes(kmsg, log->str, log->len);
	write_bytes(agent, log->str, MIN(log->len, 4096));
	if (good_json) {
		/* What json-glib would write for guest text: escapes. */
		const char *json =
			"{\"cell\":\"k/v/s1\",\"status\":\"crash\","
			"\"rerun\":\"hotplug-harness run --only '<x>'\","
			"\"durations_ms\":{\"boot\":100,\"steps\":50,"
			"\"shutdown\":10,\"total\":170},"
			"\"steps\":[{\"line\":3,\"step\":\"write </pre>\\u0000\","
			"\"status\":\"fail\",\"message\":\"\\u0001\\u001b]]>"
			"<script>\\ufffe\",\"ms\":50,\"matches\":"
			"[\"Linux version 6.1\"]}],"
			"\"crashes\":[{\"title\":\"WARNING in <b>x</b>\","
			"\"count\":1,\"excerpt\":\"WARNING: CPU: 0 PID: 1 at x\\n"
			"\\u0000</pre><script>\"}]}";

		write_bytes(result, json, strlen(json));
	} else {
		write_bytes(result, "{\"steps\": [\xff\xfe", 14);
	}
}

static void setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *db = NULL, *c1 = NULL, *c2 = NULL;
	g_autoptr(GPtrArray) titles = g_ptr_array_new();
	const char *planned[] = { "k/v/s1", "k/v/s2", "k/v/s3", NULL };
	HhArchiveRun r = { .id = "run1", .start = "2026-01-01T00:00:00Z",
			   .matrix = "m", .planned = (char **)planned };

	(void)data;
	f->dir = g_dir_make_tmp("hh-report-XXXXXX", &err);
	g_assert_no_error(err);
	db = g_build_filename(f->dir, "archive.sqlite", NULL);
	f->a = hh_archive_open(db, &err);
	g_assert_no_error(err);
	c1 = g_build_filename(f->dir, "run1", "k", "v", "s1", NULL);
	c2 = g_build_filename(f->dir, "run1", "k", "v", "s2", NULL);
	make_cell_dir(c1, TRUE);
	make_cell_dir(c2, FALSE);
	g_ptr_array_add(titles, (char *)evil);
	g_assert_true(hh_archive_run_begin(f->a, &r, &err));
	g_assert_true(hh_archive_kernel(f->a, "run1", &(HhArchiveKernel){
		.name = "k", .release = evil, .identity = evil }, &err));
	g_assert_true(hh_archive_cell(f->a, "run1", &(HhArchiveCell){
		.name = "k/v/s1", .kernel = "k", .variant = "v",
		.scenario = "s1", .status = "crash", .reason = evil,
		.failed_step = evil, .dir = c1, .crashes = titles,
		.total_ms = 170 }, &err));
	g_assert_true(hh_archive_cell(f->a, "run1", &(HhArchiveCell){
		.name = "k/v/s2", .kernel = "k", .variant = "v",
		.scenario = "s2", .status = "fail", .reason = evil,
		.dir = c2 }, &err));
	/* k/v/s3 was planned and never ran: reported missing. */
	g_assert_no_error(err);
}

static void teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	hh_archive_close(f->a);
	hh_rm_rf(f->dir, NULL);
	g_free(f->dir);
}

/* Well-formed (GMarkup's strict subset of XML), and only characters XML
 * 1.0 allows. */
static void assert_xml(const char *text, gsize len)
{
	GMarkupParser none = { 0 };
	g_autoptr(GMarkupParseContext) ctx =
		g_markup_parse_context_new(&none, 0, NULL, NULL);
	g_autoptr(GError) err = NULL;
	const char *end = text + len;

	g_assert_true(g_utf8_validate(text, (gssize)len, NULL));
	for (const char *p = text; p < end; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		g_assert_true(c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f &&
			      c != 0xfffe && c != 0xffff));
	}
	g_markup_parse_context_parse(ctx, text, (gssize)len, &err);
	g_assert_no_error(err);
	g_markup_parse_context_end_parse(ctx, &err);
	g_assert_no_error(err);
	g_assert_null(strstr(text, "<script"));
}

static char *read_all(const char *path, gsize *len)
{
	char *text = NULL;
	g_autoptr(GError) err = NULL;

	g_assert_true(g_file_get_contents(path, &text, len, &err));
	return text;
}

static void test_junit(Fixture *f, gconstpointer data)
{
	g_autofree char *out = g_build_filename(f->dir, "j.xml", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	gsize len;

	(void)data;
	g_assert_true(hh_report_write(f->a, "run1", HH_REPORT_JUNIT, out, &err));
	g_assert_no_error(err);
	text = read_all(out, &len);
	assert_xml(text, len);
	g_assert_nonnull(strstr(text, "tests=\"3\" failures=\"2\""));
	g_assert_nonnull(strstr(text, "&lt;script&gt;"));
	/* The 6 MB line is cut: system-out and failure stay bounded. */
	g_assert_cmpuint(len, <, 1u << 20);
}

static void test_kcidb(Fixture *f, gconstpointer data)
{
	g_autofree char *out = g_build_filename(f->dir, "k.json", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonParser) p = json_parser_new();
	JsonArray *tests;
	gsize len;

	(void)data;
	g_assert_true(hh_report_write(f->a, "run1", HH_REPORT_KCIDB, out, &err));
	text = read_all(out, &len);
	g_assert_true(g_utf8_validate(text, (gssize)len, NULL));
	g_assert_true(json_parser_load_from_data(p, text, (gssize)len, &err));
	g_assert_no_error(err);
	tests = json_object_get_array_member(
		json_node_get_object(json_parser_get_root(p)), "tests");
	g_assert_cmpuint(json_array_get_length(tests), ==, 3);
	for (guint i = 0; i < 3; i++) {
		JsonObject *t = json_array_get_object_element(tests, i);
		const char *st = json_object_get_string_member(t, "status");

		g_assert_true(g_str_equal(st, i == 2 ? "MISS" : "FAIL"));
		if (json_object_has_member(t, "log_excerpt"))
			g_assert_cmpuint(strlen(json_object_get_string_member(
				t, "log_excerpt")), <=, 16384);
	}
}

static void test_ktap(Fixture *f, gconstpointer data)
{
	g_autofree char *out = g_build_filename(f->dir, "r.ktap", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) lines = NULL;
	gsize len;

	(void)data;
	g_assert_true(hh_report_write(f->a, "run1", HH_REPORT_KTAP, out, &err));
	text = read_all(out, &len);
	g_assert_true(g_utf8_validate(text, (gssize)len, NULL));
	g_assert_null(memchr(text, '\r', len));
	lines = g_strsplit(text, "\n", -1);
	g_assert_cmpstr(lines[0], ==, "KTAP version 1");
	for (guint i = 0; lines[i] && lines[i + 1]; i++) {
		const char *l = lines[i];

		while (*l == ' ')
			l++;
		g_assert_true(g_str_has_prefix(l, "KTAP version 1") ||
			      g_str_has_prefix(l, "1..") ||
			      g_str_has_prefix(l, "ok ") ||
			      g_str_has_prefix(l, "not ok ") ||
			      g_str_has_prefix(l, "# "));
		g_assert_cmpuint(strlen(lines[i]), <, 2000);
		for (const char *p = lines[i]; *p; p++)
			g_assert_true((guchar)*p >= 0x20 || *p == '\t');
	}
	g_assert_nonnull(strstr(text, "not ok 3 k/v/s3 # SKIP"));
}

static void test_html(Fixture *f, gconstpointer data)
{
	g_autofree char *out = g_build_filename(f->dir, "html", NULL);
	const char *pages[] = { "index.html", "history.html",
				"cells/k/v/s1.html", "cells/k/v/s2.html",
				"cells/k/v/s3.html", NULL };
	g_autoptr(GError) err = NULL;

	(void)data;
	g_assert_true(hh_report_write(f->a, "run1", HH_REPORT_HTML, out, &err));
	g_assert_no_error(err);
	for (guint i = 0; pages[i]; i++) {
		g_autofree char *path = g_build_filename(out, pages[i], NULL);
		g_autofree char *text = NULL;
		gsize len;

		text = read_all(path, &len);
		assert_xml(text, len);
		/* Bounded: 4 MiB of each log at most. */
		g_assert_cmpuint(len, <, 10u << 20);
		if (i == 2) {
			g_assert_nonnull(strstr(text, "bytes cut by hotplug-harness"));
			g_assert_nonnull(strstr(text, "class=\"mark\""));
			g_assert_nonnull(strstr(text, "class=\"match\""));
			g_assert_nonnull(strstr(text, "class=\"crashline\""));
			g_assert_nonnull(strstr(text, "<svg id=\"timeline\""));
		}
	}
}

static void test_clean(void)
{
	g_autofree char *c = hh_text_clean(evil, sizeof(evil) - 1, 0);
	g_autofree char *cut = hh_text_clean("0123456789abcdef", 16, 8);
	g_autofree char *one = hh_text_one_line("a\nb#c", 100);

	g_assert_true(g_utf8_validate(c, -1, NULL));
	g_assert_null(strchr(c, '\x01'));
	g_assert_null(strchr(c, '\x1b'));
	g_assert_nonnull(strstr(cut, "01\n[... 8 bytes cut"));
	g_assert_true(g_str_has_suffix(cut, "]\n abcdef") ||
		      g_str_has_suffix(cut, "abcdef"));
	g_assert_cmpstr(one, ==, "a b_c");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/report/clean", test_clean);
	g_test_add("/report/junit", Fixture, NULL, setup, test_junit, teardown);
	g_test_add("/report/kcidb", Fixture, NULL, setup, test_kcidb, teardown);
	g_test_add("/report/ktap", Fixture, NULL, setup, test_ktap, teardown);
	g_test_add("/report/html", Fixture, NULL, setup, test_html, teardown);
	return g_test_run();
}
