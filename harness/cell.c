/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One matrix cell: boot, walk the scenario's steps, power off, analyse the
 * kernel log, write result.json.  Files of a cell directory:
 *   console.log  serial console        kmsg.log     kernel log with markers
 *   agent.log    agent transcript      qmp.log / libvirt.log  backend
 *   qemu.log     QEMU's own output     qemu-cmdline.txt / domain.xml  replay
 *   result.json  verdict, steps, crashes, durations
 */
#include "config.h"

#include "cell.h"
#include "escape.h"
#include "agent-client.h"
#include "hh-error.h"
#include "kconfig.h"
#include "postmortem.h"
#include "selftest.h"
#include "snapshot.h"
#include "spawn.h"
#include "util.h"

#include <json-glib/json-glib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* The serial console read for what the agent could not send. */
#define CONSOLE_SCAN_MAX (4u << 20)

/* How late an EXEC reply may come after the command's own timeout. */
#define EXEC_REPLY_GRACE_MS 4000

typedef struct {
	const HhCellSpec *spec;
	HhVm *vm;
	HhAgent *agent;
	GPtrArray *outcomes;
	GHashTable *baseline;	/* node id -> MemTotal kB at start */
	HhCellResult *result;
	gint64 t0;
	guint step_ms_total;
	guint shutdown_ms;
	GPtrArray *matches;	/* of the step running now */
	gboolean unresponsive;	/* a request timed out: no poweroff */
	gboolean vm_died;	/* QEMU ended unasked (panic, kill, ...) */
	const char *phase_name;	/* the phase running now (static) */
	gint64 phase_t0;
	gint last_errno;	/* of the last write/read, else -1 */
	char *state;		/* the agent's STATE since the step's action,
				 * shared by the step's expectations */
	char *disk;		/* a distro cell's throwaway overlay */
} Cell;

/* Ends the phase running now and begins name (NULL: none). */
static void phase(Cell *c, const char *name)
{
	gint64 now = hh_now_ms();

	if (c->phase_name) {
		HhPhase p = {
			.name = c->phase_name,
			.start_ms = (guint)(c->phase_t0 - c->t0),
			.ms = (guint)(now - c->phase_t0),
		};

		g_array_append_val(c->result->phases, p);
	}
	c->phase_name = name;
	c->phase_t0 = now;
}

static void set_verdict(Cell *c, HhVerdict v, const char *phase,
			const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static void set_verdict(Cell *c, HhVerdict v, const char *phase,
			const char *fmt, ...)
{
	va_list ap;

	if (v <= c->result->verdict && c->result->verdict != HH_V_PASS)
		return;
	c->result->verdict = v;
	g_free(c->result->reason);
	va_start(ap, fmt);
	c->result->reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_free(c->result->phase);
	c->result->phase = g_strdup(phase);
}

static HhVerdict verdict_of(const GError *e)
{
	if (g_error_matches(e, HH_ERROR, HH_ERROR_TIMEOUT))
		return HH_V_TIMEOUT;
	/* A step the backend cannot do says so as a skip. */
	if (g_error_matches(e, HH_ERROR, HH_ERROR_UNSUPPORTED))
		return HH_V_SKIP;
	/* QEMU refusing a scenario's hotplug request is the scenario's
	 * assertion failing, not the harness breaking. */
	if (g_error_matches(e, HH_ERROR, HH_ERROR_QMP) ||
	    g_error_matches(e, HH_ERROR, HH_ERROR_REFUSED) ||
	    g_error_matches(e, HH_ERROR, HH_ERROR_CONFIG))
		return HH_V_FAIL;
	return HH_V_ERROR;
}

/* ---- guest state ---- */

static char *read_text(Cell *c, const char *path, GError **error)
{
	g_autoptr(HhAgentReply) r = hh_agent_read(
		c->agent, path, c->spec->timeouts.request_ms, error);
	gsize len = 0;
	const char *d;

	if (!r)
		return NULL;
	if (r->err) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "cannot read %s in the guest: %s", path,
			    hh_errno_name(r->err));
		return NULL;
	}
	d = r->data ? g_bytes_get_data(r->data, &len) : "";
	return g_utf8_make_valid(d, len);
}

/* The value of key= on the STATE line "kind id ..." */
static char *state_field(const char *state, const char *kind, gint id,
			 const char *key)
{
	g_autofree char *prefix = g_strdup_printf("%s %d ", kind, id);
	g_autofree char *k = g_strdup_printf(" %s=", key);
	g_auto(GStrv) lines = g_strsplit(state, "\n", -1);

	for (int i = 0; lines[i]; i++) {
		const char *p;

		if (!g_str_has_prefix(lines[i], prefix))
			continue;
		p = strstr(lines[i], k);
		if (!p)
			return NULL;
		p += strlen(k);
		return g_strndup(p, strcspn(p, " "));
	}
	return NULL;
}

static gboolean memtotal_kb(Cell *c, gint node, guint64 *kb, GError **error)
{
	g_autofree char *path = g_strdup_printf(
		"/sys/devices/system/node/node%d/meminfo", node);
	g_autofree char *text = read_text(c, path, error);
	const char *p;

	if (!text)
		return FALSE;
	p = strstr(text, "MemTotal:");
	if (!p) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "no MemTotal in %s", path);
		return FALSE;
	}
	*kb = g_ascii_strtoull(p + strlen("MemTotal:"), NULL, 10);
	return TRUE;
}

/* ---- expectations ---- */

typedef struct {
	guint from;		/* first log record of the window */
	guint to;		/* one past the last */
} Window;

/* At most this many matched lines per step go to result.json, for the
 * report to highlight. */
#define MAX_MATCHES_KEPT 16

static void keep_matches(Cell *c, GRegex *re, Window w)
{
	for (guint i = w.from; i < w.to; i++) {
		const HhKmsgRecord *r = hh_agent_log_get(c->agent, i);

		if (c->matches->len >= MAX_MATCHES_KEPT)
			return;
		if (r && g_regex_match(re, r->text, 0, NULL))
			g_ptr_array_add(c->matches, g_strdup(r->text));
	}
}

static guint count_matches(Cell *c, GRegex *re, Window w)
{
	guint n = 0;

	for (guint i = w.from; i < w.to; i++) {
		const HhKmsgRecord *r = hh_agent_log_get(c->agent, i);

		if (r && g_regex_match(re, r->text, 0, NULL))
			n++;
	}
	return n;
}

/* One evaluation; FALSE with *msg when it does not hold (yet). */
static gboolean check_once(Cell *c, const HhExpect *e, Window w, char **msg,
			   GError **error)
{
	g_autofree char *text = NULL, *state = NULL, *got = NULL;
	guint64 kb;

	switch (e->kind) {
	case HH_EXP_LOG: {
		guint n = count_matches(c, e->regex, w);

		if (e->count < 0 ? n > 0 : n == (guint)e->count)
			return TRUE;
		*msg = g_strdup_printf("log /%s/ matched %u time(s), expected %s",
				       g_regex_get_pattern(e->regex), n,
				       e->count < 0 ? "at least 1" :
				       (got = g_strdup_printf("%d", e->count)));
		return FALSE;
	}
	case HH_EXP_NO_LOG: {
		guint n = count_matches(c, e->regex, w);

		if (!n)
			return TRUE;
		*msg = g_strdup_printf("log /%s/ matched %u time(s), expected none",
				       g_regex_get_pattern(e->regex), n);
		return FALSE;
	}
	case HH_EXP_FILE_EQUALS:
	case HH_EXP_FILE_MATCHES:
		text = read_text(c, e->path, error);
		if (!text)
			return FALSE;
		g_strchomp(text);
		if (e->kind == HH_EXP_FILE_EQUALS ?
			    g_str_equal(text, e->value) :
			    g_regex_match(e->regex, text, 0, NULL))
			return TRUE;
		*msg = g_strdup_printf("%s is \"%s\"", e->path, text);
		return FALSE;
	case HH_EXP_NODE_MEMTOTAL:
		if (!memtotal_kb(c, e->id, &kb, error))
			return FALSE;
		if (e->delta) {
			gpointer base = g_hash_table_lookup(
				c->baseline, GINT_TO_POINTER(e->id));
			guint64 b = base ? *(guint64 *)base : 0;

			if (kb - b == e->size >> 10)
				return TRUE;
			*msg = g_strdup_printf(
				"node %d MemTotal grew by %" G_GINT64_FORMAT
				" kB (from %" G_GUINT64_FORMAT " to %"
				G_GUINT64_FORMAT " kB), expected %" G_GUINT64_FORMAT " kB",
				e->id, (gint64)(kb - b), b, kb, e->size >> 10);
			return FALSE;
		}
		if (kb == e->size >> 10)
			return TRUE;
		*msg = g_strdup_printf("node %d MemTotal is %" G_GUINT64_FORMAT
				       " kB, expected %" G_GUINT64_FORMAT " kB",
				       e->id, kb, e->size >> 10);
		return FALSE;
	case HH_EXP_VIRTIO_MEM: {
		guint64 plugged = 0, requested = 0;
		gboolean holds;

		if (!hh_vm_virtio_mem_query(c->vm, e->device, &plugged,
					    &requested,
					    c->spec->timeouts.request_ms, error))
			return FALSE;
		holds = e->cmp == HH_CMP_LT ? plugged < e->size :
			e->cmp == HH_CMP_GT ? plugged > e->size :
					      plugged == e->size;
		if (holds)
			return TRUE;
		*msg = g_strdup_printf("virtio-mem %s has %" G_GUINT64_FORMAT
				       " MiB plugged (%" G_GUINT64_FORMAT
				       " MiB requested), expected %s%"
				       G_GUINT64_FORMAT " MiB",
				       e->device, plugged >> 20,
				       requested >> 20,
				       e->cmp == HH_CMP_LT ? "< " :
				       e->cmp == HH_CMP_GT ? "> " : "",
				       e->size >> 20);
		return FALSE;
	}
	case HH_EXP_TAINT:
		text = read_text(c, "/proc/sys/kernel/tainted", error);
		if (!text)
			return FALSE;
		if (g_ascii_strtoull(text, NULL, 10) == e->number)
			return TRUE;
		*msg = g_strdup_printf("kernel taint is %s, expected %" G_GUINT64_FORMAT,
				       g_strstrip(text), e->number);
		return FALSE;
	case HH_EXP_NODE_STATE:
	case HH_EXP_CPU_STATE:
	case HH_EXP_BLOCK_STATE: {
		const char *kind = e->kind == HH_EXP_NODE_STATE ? "node" :
				   e->kind == HH_EXP_CPU_STATE ? "cpu" :
								 "block";

		/* One STATE request serves the step's expectations that
		 * follow one another without a wait; a wait (within=) asks
		 * again each time and the next expectation after it too (the
		 * guest may still be settling: ACPI onlines a hot-added node
		 * after its memory blocks appear). */
		if (e->within_ms || !c->state) {
			g_autoptr(HhAgentReply) r = hh_agent_state(
				c->agent, c->spec->timeouts.request_ms, error);
			gsize len = 0;
			const char *d;

			if (!r)
				return FALSE;
			d = r->data ? g_bytes_get_data(r->data, &len) : "";
			state = g_utf8_make_valid(d, len);
			g_free(c->state);
			c->state = e->within_ms ? NULL : g_strdup(state);
		} else {
			state = g_strdup(c->state);
		}
		if (e->kind == HH_EXP_BLOCK_STATE) {
			g_autofree char *zones = NULL;

			got = state_field(state, kind, e->id, "state");
			zones = state_field(state, kind, e->id, "zones");
			if (!got && g_str_equal(e->value, "absent"))
				return TRUE;
			if (got && g_str_equal(got, e->value) &&
			    (!e->zone || (zones && strstr(zones, e->zone))))
				return TRUE;
			*msg = g_strdup_printf("memory block %d is %s (zones %s)",
					       e->id, got ? got : "absent",
					       zones ? zones : "-");
			return FALSE;
		} else {
			g_autofree char *node = NULL, *present = NULL;
			gboolean presence = g_str_equal(e->value, "present") ||
					    g_str_equal(e->value, "absent");
			gboolean want = g_str_equal(e->value, "online") ||
					g_str_equal(e->value, "present");

			got = state_field(state, kind, e->id, "online");
			node = state_field(state, kind, e->id, "node");
			/* node lines have no present=; a listed node is */
			present = state_field(state, kind, e->id, "present");
			if (presence) {
				gboolean is = got && (!present ||
						      g_str_equal(present, "1"));

				if (is == want)
					return TRUE;
				*msg = g_strdup_printf("%s %d is %s", kind,
						       e->id,
						       is ? "present" : "absent");
				return FALSE;
			}
			if (got && (g_str_equal(got, "1") == want) &&
			    (e->node < 0 ||
			     (node && atoi(node) == e->node)))
				return TRUE;
			*msg = g_strdup_printf("%s %d is %s%s%s", kind, e->id,
					       !got ? "absent" :
					       g_str_equal(got, "1") ? "online" :
								       "offline",
					       node ? " on node " : "",
					       node ? node : "");
			return FALSE;
		}
	}
	}
	return FALSE;
}

static gboolean check_expect(Cell *c, const HhExpect *e, Window w,
			     char **msg, GError **error)
{
	gint64 deadline = hh_now_ms() + e->within_ms;

	/* after a wait, the guest is read afresh */
	if (e->within_ms)
		g_clear_pointer(&c->state, g_free);
	while (TRUE) {
		g_autofree char *m = NULL;

		if (e->within_ms && (e->kind == HH_EXP_LOG))
			w.to = hh_agent_log_len(c->agent);
		if (check_once(c, e, w, &m, error)) {
			if (e->kind == HH_EXP_LOG)
				keep_matches(c, e->regex, w);
			return TRUE;
		}
		if (*error)
			return FALSE;
		if (hh_now_ms() >= deadline) {
			*msg = e->within_ms ?
				g_strdup_printf("%s (waited %u ms)", m,
						e->within_ms) :
				g_steal_pointer(&m);
			return FALSE;
		}
		hh_iterate_once(100);
	}
}

/* ---- actions ---- */

/* Removal waits for the guest up to the cell's hotplug timeout; with
 * "-> refused", QEMU or the guest saying no is what passes. */
static gboolean do_removal(Cell *c, const HhStep *s, char **msg,
			   GError **error)
{
	guint t = c->spec->timeouts.request_ms;
	g_autoptr(GError) err = NULL;
	gboolean ok = s->kind == HH_ACT_VCPU_DEL ?
		hh_vm_vcpu_del(c->vm, s->id, t, &err) :
		hh_vm_device_del(c->vm, s->id, t, &err);

	if (!s->expect_refused) {
		if (err)
			g_propagate_error(error, g_steal_pointer(&err));
		return ok;
	}
	if (ok) {
		*msg = g_strdup_printf("%s was removed, expected a refusal",
				       s->id);
		return FALSE;
	}
	if (g_error_matches(err, HH_ERROR, HH_ERROR_QMP) ||
	    g_error_matches(err, HH_ERROR, HH_ERROR_REFUSED)) {
		/* The passing step's message: who refused, and how. */
		*msg = g_strdup(err->message);
		return TRUE;
	}
	g_propagate_error(error, g_steal_pointer(&err));
	return FALSE;
}

/* The selftest's output goes to selftest-COLLECTION-TEST.log; each case
 * becomes a step of its own (text "selftest TEST: CASE"), before the
 * selftest's step, which fails if a case failed. */
static gboolean run_selftest(Cell *c, const HhStep *s, char **msg,
			     GError **error)
{
	guint t = c->spec->timeouts.request_ms;
	g_autoptr(HhAgentReply) r = hh_agent_exec(
		c->agent, (const char *const *)s->argv, s->timeout_ms,
		s->timeout_ms + MIN(t, EXEC_REPLY_GRACE_MS), error);
	g_autofree char *name = NULL, *log = NULL, *out = NULL;
	g_autoptr(GPtrArray) cases = NULL;
	guint failed = 0, skipped = 0;
	const char *first = NULL;
	gsize len = 0;
	const char *d;

	if (!r)
		return FALSE;
	d = r->data ? g_bytes_get_data(r->data, &len) : "";
	out = g_utf8_make_valid(d, len);
	name = g_strdup_printf("selftest-%s.log", s->value);
	for (char *p = name; *p; p++)
		if (*p == ':' || *p == '/')
			*p = '-';
	log = g_build_filename(c->spec->dir, name, NULL);
	hh_write_file(log, out, -1, NULL);
	cases = hh_selftest_parse(out);
	for (guint i = 0; i < cases->len; i++) {
		HhSelftestCase *k = cases->pdata[i];
		HhStepResult *o = g_new0(HhStepResult, 1);

		o->line = s->line;
		o->text = g_strdup_printf("selftest %s: %s", s->value, k->name);
		o->verdict = k->verdict;
		o->message = g_strdup(k->message);
		o->matches = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(c->outcomes, o);
		failed += k->verdict == HH_V_FAIL;
		skipped += k->verdict == HH_V_SKIP;
		if (k->verdict == HH_V_FAIL && !first)
			first = o->text;
	}
	if (r->flags & HHP_FLAG_TIMED_OUT) {
		*msg = g_strdup_printf("selftest killed after %u ms (output in "
				       "%s)", s->timeout_ms, name);
		return FALSE;
	}
	if (failed) {
		*msg = g_strdup_printf("%u of %u case(s) failed, first: %s "
				       "(output in %s)", failed, cases->len,
				       first, name);
		return FALSE;
	}
	*msg = g_strdup_printf("%u case(s): %u passed, %u skipped (output in "
			       "%s)", cases->len, cases->len - skipped, skipped,
			       name);
	return TRUE;
}

static gboolean do_action(Cell *c, const HhStep *s, char **msg,
			  GError **error)
{
	guint t = c->spec->timeouts.request_ms;
	g_autoptr(HhAgentReply) r = NULL;

	switch (s->kind) {
	case HH_ACT_BOOT:
	case HH_ACT_MARK:
		return TRUE;
	case HH_ACT_WRITE:
	case HH_ACT_READ:
		r = s->kind == HH_ACT_WRITE ?
			hh_agent_write(c->agent, s->path, s->value, t, error) :
			hh_agent_read(c->agent, s->path, t, error);
		if (!r)
			return FALSE;
		c->last_errno = (gint)r->err;
		if ((gint)r->err == s->expect_errno ||
		    (s->also_errno >= 0 && (gint)r->err == s->also_errno))
			return TRUE;
		*msg = g_strdup_printf("got %s (%s), expected %s%s%s",
				       hh_errno_name(r->err),
				       r->text ? r->text : "",
				       hh_errno_name(s->expect_errno),
				       s->also_errno >= 0 ? " or " : "",
				       s->also_errno >= 0 ?
					       hh_errno_name(s->also_errno) : "");
		return FALSE;
	case HH_ACT_SELFTEST:
		return run_selftest(c, s, msg, error);
	case HH_ACT_UDEV_SETTLE:
	case HH_ACT_RUN:
		/* The agent kills the command at its timeout and answers at
		 * once: a reply later than that means a hung guest. */
		r = hh_agent_exec(c->agent, (const char *const *)s->argv,
				  s->timeout_ms,
				  s->timeout_ms + MIN(t, EXEC_REPLY_GRACE_MS),
				  error);
		if (!r)
			return FALSE;
		if (r->flags & HHP_FLAG_TIMED_OUT) {
			*msg = g_strdup_printf("command killed after %u ms",
					       s->timeout_ms);
			return FALSE;
		}
		if (r->err || !WIFEXITED(r->status) ||
		    (s->expect_exit >= 0 &&
		     WEXITSTATUS(r->status) != (guint)s->expect_exit)) {
			gsize len = 0;
			const char *d = r->data ?
				g_bytes_get_data(r->data, &len) : "";
			g_autofree char *out = g_utf8_make_valid(d, MIN(len, 400));

			*msg = g_strdup_printf("command ended with status %u, "
					       "expected exit %d: %s",
					       r->status, s->expect_exit, out);
			return FALSE;
		}
		return TRUE;
	case HH_ACT_DIMM_ADD:
		return hh_vm_dimm_add(c->vm, s->id, s->size, s->node, t, error);
	case HH_ACT_VCPU_ADD:
		return hh_vm_vcpu_add(c->vm, s->id, s->node, s->socket, t,
				      error);
	case HH_ACT_DEVICE_DEL:
	case HH_ACT_VCPU_DEL:
		return do_removal(c, s, msg, error);
	case HH_ACT_VIRTIO_MEM_ADD:
		return hh_vm_virtio_mem_add(c->vm, s->id, s->size, s->node,
					    s->block_size, t, error);
	case HH_ACT_VIRTIO_MEM_RESIZE:
		return hh_vm_virtio_mem_resize(c->vm, s->id, s->size, t, error);
	}
	return FALSE;
}

static void record_step(Cell *c, const HhStep *s, HhVerdict v,
			const char *message, gint64 t0)
{
	HhStepResult *o = g_new0(HhStepResult, 1);

	o->line = s->line;
	o->text = g_strdup(s->text);
	o->verdict = v;
	o->message = g_strdup(message);
	o->ms = (guint)(hh_now_ms() - t0);
	o->matches = g_steal_pointer(&c->matches);
	c->matches = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(c->outcomes, o);
	if (v != HH_V_PASS && !c->result->failed_step)
		c->result->failed_step = g_strdup_printf("line %u: %s",
							 s->line, s->text);
}

static void explain_exit(Cell *c, const char *where, GError **err);

/* Runs one step; FALSE stops the scenario. */
static gboolean run_step(Cell *c, guint idx, const HhStep *s)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *msg = NULL, *phase = NULL, *note = NULL;
	g_autofree char *begin = g_strdup_printf("step %u begin: %s", idx,
						 s->text);
	g_autofree char *end = g_strdup_printf("step %u end", idx);
	guint t = c->spec->timeouts.request_ms;
	gint64 t0 = hh_now_ms();
	Window w = { 0, 0 };
	gboolean ok;

	phase = g_strdup_printf("step %u (line %u)", idx, s->line);
	c->last_errno = -1;
	if (!hh_agent_mark(c->agent, begin, t, &w.from, &err))
		goto error;
	ok = do_action(c, s, &msg, &err);
	if (err)
		goto error;
	if (!hh_agent_mark(c->agent, end, t, &w.to, &err))
		goto error;
	g_clear_pointer(&c->state, g_free);
	if (!ok) {
		set_verdict(c, HH_V_FAIL, phase, "line %u: %s: %s", s->line,
			    s->text, msg);
		record_step(c, s, HH_V_FAIL, msg, t0);
		return FALSE;
	}
	note = g_steal_pointer(&msg);
	for (guint i = 0; i < s->expects->len; i++) {
		const HhExpect *e = s->expects->pdata[i];
		Window ew = { e->since_boot || s->kind == HH_ACT_BOOT ? 0 : w.from,
			      w.to };

		g_clear_pointer(&msg, g_free);
		if (!check_expect(c, e, ew, &msg, &err)) {
			if (err)
				goto error;
			set_verdict(c, HH_V_FAIL, phase, "line %u: %s: %s",
				    e->line, g_strstrip(e->text), msg);
			record_step(c, s, HH_V_FAIL, msg, t0);
			return FALSE;
		}
	}
	record_step(c, s, HH_V_PASS, note, t0);
	return TRUE;
error:
	explain_exit(c, phase, &err);
	/* A guest that did not answer in time is not asked to power off. */
	if (g_error_matches(err, HH_ERROR, HH_ERROR_TIMEOUT))
		c->unresponsive = TRUE;
	set_verdict(c, verdict_of(err), phase, "line %u: %s: %s", s->line,
		    s->text, err->message);
	record_step(c, s, verdict_of(err), err->message, t0);
	return FALSE;
}

/* ---- boot and shutdown ---- */

char *hh_cell_cmdline(const HhCellSpec *spec)
{
	g_autofree char *root = spec->image ? hh_image_cmdline(spec->image) :
					      NULL;

	return g_strstrip(g_strdup_printf("%s %s %s", HH_BASE_CMDLINE,
					  root ? root : "",
					  spec->variant->cmdline));
}

static void dump_registers(Cell *c)
{
	g_autofree char *regs = NULL;
	g_autofree char *path = g_build_filename(c->spec->dir,
						 "registers.txt", NULL);
	g_autoptr(GError) err = NULL;

	if (!c->vm)
		return;
	regs = hh_vm_dump_registers(c->vm, 5000, &err);
	if (!regs)
		regs = g_strdup_printf("no registers: %s\n", err->message);
	hh_write_file(path, regs, -1, NULL);
}

void hh_cell_vm_config(const HhCellSpec *spec, HhVmConfig *cfg,
		       char **cmdline)
{
	*cmdline = hh_cell_cmdline(spec);
	*cfg = (HhVmConfig){
		.kernel = spec->bzimage,
		.initrd = spec->image ? NULL : spec->initrd,
		.image = spec->image ? spec->image->path : NULL,
		.cmdline = *cmdline, .variant = spec->variant,
		.accel = spec->accel,
	};
}

/* A guest of the group started ahead (vm-pool.h), given this cell's
 * outputs and state; NULL (said in qemu.log's place) to start one. */
static HhVm *adopt_warm(Cell *c, const HhVmConfig *cfg)
{
	const HhCellSpec *spec = c->spec;
	g_autoptr(GError) err = NULL;
	HhVm *vm = hh_vm_pool_take(spec->pool, spec->snapshot->key);

	if (!vm)
		return NULL;
	phase(c, "adopt");
	if (hh_vm_adopt(vm, cfg, MIN(spec->timeouts.boot_ms, 20000), &err))
		return vm;
	g_printerr("%s: the guest started ahead failed (%s); starting one\n",
		   spec->name, err->message);
	hh_vm_kill(vm);
	hh_vm_free(vm);
	phase(c, "start");
	return NULL;
}

/* Starts the VM and connects the agent's ports; no handshake yet. */
static gboolean start_guest(Cell *c, const char *run_dir,
			    const char *restore_from, GError **error)
{
	const HhCellSpec *spec = c->spec;
	const HhVmBackendOps *ops = spec->backend->ops;
	g_autofree char *console = g_build_filename(spec->dir, "console.log", NULL);
	g_autofree char *qlog = g_build_filename(spec->dir, "qemu.log", NULL);
	g_autofree char *alog = g_build_filename(spec->dir, "agent.log", NULL);
	g_autofree char *klog = g_build_filename(spec->dir, "kmsg.log", NULL);
	g_autofree char *replay = g_build_filename(spec->dir, ops->replay_file,
						   NULL);
	g_autofree char *transcript = g_build_filename(spec->dir,
						       ops->transcript_file,
						       NULL);
	g_autofree char *cmdline = NULL, *describe = NULL;
	g_autoptr(GIOStream) ctl = NULL, log = NULL;
	HhVmConfig cfg;

	hh_cell_vm_config(spec, &cfg, &cmdline);
	cfg.name = spec->vm_name;
	cfg.run_dir = run_dir;
	cfg.console_log = console;
	cfg.stderr_log = qlog;
	cfg.transcript = transcript;
	cfg.restore_from = restore_from;
	if (restore_from && spec->snapshot && spec->snapshot->ram_files)
		cfg.ram_dir = spec->snapshot->dir;
	if (cfg.image) {
		/* the base is never written; a restored cell's disk goes on
		 * from the group's disk at the save */
		const char *base = restore_from && spec->snapshot ?
				   spec->snapshot->disk : cfg.image;

		g_free(c->disk);
		c->disk = g_build_filename(run_dir, "disk.qcow2", NULL);
		unlink(c->disk);
		if (!hh_image_overlay(base, c->disk, error))
			return FALSE;
		cfg.disk = c->disk;
	}
	/* A restored cell's console starts with the group's boot console,
	 * as a cold boot's would. */
	if (restore_from && spec->snapshot) {
		g_autofree char *boot = g_build_filename(spec->snapshot->dir,
							 "console.log", NULL);
		g_autofree char *text = NULL;
		gsize len = 0;

		if (g_file_get_contents(boot, &text, &len, NULL) &&
		    hh_write_file(console, text, (gssize)len, NULL))
			cfg.console_append = TRUE;
	}
	if (restore_from && spec->pool)
		c->vm = adopt_warm(c, &cfg);
	if (!c->vm)
		c->vm = hh_vm_start(spec->backend, &cfg, error);
	if (!c->vm)
		return FALSE;
	describe = hh_vm_describe(c->vm);
	if (describe)
		hh_write_file(replay, describe, -1, NULL);
	if (restore_from && g_getenv("HH_FAULT_KILL_RESTORE"))
		hh_vm_kill(c->vm);	/* fault injection, tests only */
	ctl = hh_vm_open_port(c->vm, HHP_PORT_CONTROL, error);
	log = ctl ? hh_vm_open_port(c->vm, HHP_PORT_LOG, error) : NULL;
	if (!log)
		return FALSE;
	c->agent = hh_agent_new(ctl, log, alog, klog);
	return TRUE;
}

static void stop_guest(Cell *c)
{
	g_clear_pointer(&c->agent, hh_agent_free);
	if (c->vm)
		hh_vm_kill(c->vm);
	g_clear_pointer(&c->vm, hh_vm_free);
}

/* When the VM is gone, QEMU's own last words (and how it ended) say
 * more than a timeout or a closed port.  where: "boot", "step 2 (line 5)" */
static void explain_exit(Cell *c, const char *where, GError **err)
{
	g_autofree char *words = NULL;
	gint64 end = hh_now_ms() + 1000;

	/* After SIGINT/SIGTERM/SIGHUP the harness killed QEMU itself. */
	if (hh_spawn_interrupted())
		return;
	/* A dropped connection usually means QEMU is on its way out. */
	while (c->vm && hh_vm_running(c->vm) &&
	       g_error_matches(*err, HH_ERROR, HH_ERROR_QEMU) &&
	       hh_now_ms() < end)
		hh_iterate_once(20);
	if (!c->vm || hh_vm_running(c->vm))
		return;
	words = hh_vm_last_words(c->vm);
	c->vm_died = TRUE;
	g_clear_error(err);
	g_set_error(err, HH_ERROR, HH_ERROR_QEMU, "qemu exited during %s%s%s",
		    where, words ? ": " : "", words ? words : "");
}

/* Starts from the group's saved state; FALSE (with why) to fall back. */
static gboolean restore(Cell *c, const char *run_dir, GError **why)
{
	HhSnapshot *snap = c->spec->snapshot;
	guint limit = MIN(c->spec->timeouts.boot_ms, 20000);
	g_autoptr(HhAgentReply) id = NULL;
	g_autoptr(HhAgentReply) clock = NULL;
	g_autofree char *boot_id = NULL;

	phase(c, "start");
	if (!start_guest(c, run_dir, snap->state, why))
		goto fail;
	phase(c, "restore");
	hh_agent_preload_log(c->agent, snap->records, snap->last_seq);
	if (!hh_agent_sync(c->agent, limit, why))
		goto fail;
	phase(c, "verify");
	id = hh_agent_read(c->agent, "/proc/sys/kernel/random/boot_id", limit,
			   why);
	if (!id)
		goto fail;
	boot_id = g_strstrip(g_strndup(g_bytes_get_data(id->data, NULL),
				       g_bytes_get_size(id->data)));
	if (!g_str_equal(boot_id, snap->boot_id)) {
		g_set_error(why, HH_ERROR, HH_ERROR_FAILED,
			    "the restored guest is another boot (boot_id %s, "
			    "expected %s)", boot_id, snap->boot_id);
		goto fail;
	}
	/* The saved guest's wall clock is stale. */
	clock = hh_agent_settime(c->agent, g_get_real_time() * 1000, limit, why);
	if (!clock)
		goto fail;
	return TRUE;
fail:
	explain_exit(c, "boot", why);
	stop_guest(c);
	return FALSE;
}

/*
 * A guest that never reached the agent usually said why on its console
 * (init missing, an initramfs it could not unpack): the first such line
 * is added to a boot failure.
 */
static void add_console_hint(Cell *c, GError *err)
{
	g_autofree char *path = g_build_filename(c->spec->dir, "console.log",
						 NULL);
	g_autofree char *text = hh_text_read_file(path, CONSOLE_SCAN_MAX);
	g_autoptr(GRegex) re = g_regex_new(
		"(Failed to execute \\S+.*|Initramfs unpacking failed.*|"
		"No working init found.*|VFS: Unable to mount root.*)$",
		G_REGEX_MULTILINE, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;
	g_autofree char *line = NULL, *msg = NULL;

	if (!text || !g_regex_match(re, text, 0, &m))
		return;
	line = g_match_info_fetch(m, 1);
	msg = g_strdup_printf("%s (console: %s)", err->message,
			      g_strstrip(line));
	g_free(err->message);
	err->message = g_steal_pointer(&msg);
}

static gboolean boot(Cell *c, const char *run_dir)
{
	const HhCellSpec *spec = c->spec;
	g_autoptr(GError) err = NULL;
	gint64 t0 = hh_now_ms();

	if (spec->snapshot) {
		g_autoptr(GError) why = NULL;

		if (restore(c, run_dir, &why)) {
			c->result->boot_mode = g_strdup("snapshot");
			c->result->boot_ms = (guint)(hh_now_ms() - t0);
			return TRUE;
		}
		/* A bad snapshot must not be tried again: cold boot instead. */
		hh_snapshot_discard(spec->snapshot);
		c->result->boot_mode = g_strdup_printf(
			"cold (restore failed: %s)", why->message);
		t0 = hh_now_ms();
	} else {
		c->result->boot_mode = g_strdup("cold");
	}
	phase(c, "start");
	if (start_guest(c, run_dir, NULL, &err))
		phase(c, "boot");
	if (err || !hh_agent_sync(c->agent, spec->timeouts.boot_ms, &err)) {
		explain_exit(c, "boot", &err);
		if (g_error_matches(err, HH_ERROR, HH_ERROR_TIMEOUT))
			dump_registers(c);
		add_console_hint(c, err);
		set_verdict(c, verdict_of(err), "boot", "boot: %s", err->message);
		return FALSE;
	}
	c->result->boot_ms = (guint)(hh_now_ms() - t0);
	return TRUE;
}

static void shutdown(Cell *c)
{
	g_autoptr(GError) err = NULL;
	gint64 t0 = hh_now_ms();
	guint limit = c->spec->timeouts.shutdown_ms;

	if (c->vm)
		c->result->peak_rss_kb = hh_vm_peak_rss_kb(c->vm);
	if (c->agent && !hh_agent_get_error(c->agent) && !c->unresponsive &&
	    hh_vm_running(c->vm)) {
		gboolean asked = hh_agent_poweroff(c->agent, limit, &err);

		/* The guest may power off before its answer gets out (the
		 * channel closes first, seen on libvirt under load): it did
		 * what it was asked if it is gone within the limit. */
		if (!asked && g_error_matches(err, HH_ERROR, HH_ERROR_QEMU) &&
		    hh_vm_wait(c->vm, limit, NULL)) {
			asked = TRUE;
			g_clear_error(&err);
		}
		if (!asked || !hh_vm_wait(c->vm, limit, &err)) {
			if (c->result->verdict == HH_V_PASS)
				set_verdict(c, verdict_of(err), "shutdown",
					    "shutdown: %s", err->message);
		}
		hh_agent_wait_log_closed(c->agent, 1000);
	}
	if (c->vm)
		hh_vm_kill(c->vm);
	c->shutdown_ms = (guint)(hh_now_ms() - t0);
}

/* ---- analysis and output ---- */

/*
 * A guest that died by itself (a panic with panic=-1 and -no-reboot, a
 * triple fault) took its last kernel messages with it: the agent could not
 * send them, the serial console has them.  Adds the console's reports
 * whose titles the agent's log did not have.
 */
static void scan_console(Cell *c, GPtrArray *reports)
{
	g_autofree char *path = g_build_filename(c->spec->dir, "console.log",
						 NULL);
	g_autofree char *text = hh_text_read_file(path, CONSOLE_SCAN_MAX);
	g_auto(GStrv) lines = NULL;
	g_autoptr(GPtrArray) more = NULL;
	guint n;

	if (!text)
		return;
	lines = g_strsplit(text, "\n", -1);
	n = g_strv_length(lines);
	for (guint i = 0; i < n; i++) {
		char *close = lines[i][0] == '[' ? strchr(lines[i], ']') : NULL;

		if (close)	/* "[    1.234567] text" */
			memmove(lines[i], close + (close[1] == ' ' ? 2 : 1),
				strlen(close + (close[1] == ' ' ? 2 : 1)) + 1);
	}
	more = hh_logcheck_scan((const char *const *)lines, n,
				c->spec->suppressions);
	g_ptr_array_set_free_func(more, NULL);	/* each kept or freed below */
	for (guint i = 0; i < more->len; i++) {
		HhCrash *k = more->pdata[i];
		gboolean known = FALSE;

		for (guint j = 0; j < reports->len && !known; j++)
			known = g_str_equal(((HhCrash *)reports->pdata[j])->title,
					    k->title);
		if (known)
			hh_crash_free(k);
		else
			g_ptr_array_add(reports, k);
	}
}

static void analyse_log(Cell *c)
{
	GPtrArray *reports = hh_kmsg_records_scan(
		c->agent ? hh_agent_log_records(c->agent) : NULL,
		c->spec->suppressions);
	gboolean killed_by_kernel = FALSE;

	if (c->vm_died)
		scan_console(c, reports);
	c->result->reports = reports;
	/* Suppressed reports stay in result.json, not in the verdict's
	 * titles (what compare and bisect look at). */
	for (guint i = 0; i < reports->len; i++) {
		HhCrash *k = reports->pdata[i];

		if (!k->suppressed_by)
			g_ptr_array_add(c->result->crashes, g_strdup(k->title));
	}
	for (guint i = 0; i < reports->len; i++) {
		HhCrash *k = reports->pdata[i];
		GRegex *want = c->spec->scenario->expect_crash;

		if (k->suppressed_by)
			continue;
		/* QEMU exiting on its own after a kernel crash: the crash is
		 * the verdict, not the exit it caused. */
		if (c->vm_died && !killed_by_kernel &&
		    c->result->verdict == HH_V_ERROR) {
			killed_by_kernel = TRUE;
			c->result->verdict = HH_V_PASS;
		}
		set_verdict(c, HH_V_CRASH, "kernel", "kernel: %s", k->title);
		if (want && g_regex_match(want, k->title, 0, NULL)) {
			c->result->expected = TRUE;
			break;
		}
	}
	if (c->spec->scenario->expect_crash && !c->result->expected &&
	    c->result->verdict == HH_V_PASS) {
		set_verdict(c, HH_V_FAIL, "kernel",
			    "line %u: expected a kernel crash matching /%s/, "
			    "none was reported",
			    c->spec->scenario->expect_crash_line,
			    g_regex_get_pattern(c->spec->scenario->expect_crash));
	}
}

const char *hh_cell_host(const HhCellSpec *spec)
{
	if (spec->host)
		return spec->host;
	return spec->backend->uri ? spec->backend->uri : g_get_host_name();
}

static void write_result(Cell *c)
{
	const HhCellSpec *spec = c->spec;
	g_autoptr(GError) err = NULL;
	HhResultHeader h = {
		.cell = spec->name, .kernel = spec->kernel_name,
		.kernel_release = spec->kernel_release,
		.variant = spec->variant->name,
		.scenario = spec->scenario->name,
		.accel = spec->accel == HH_ACCEL_KVM ? "kvm" : "tcg",
		.backend = spec->backend->ops->name,
		.connect = spec->backend->uri, .rerun = spec->rerun,
		.host = hh_cell_host(spec),
		.attempts = spec->attempts,
	};

	if (!hh_result_write(spec->dir, &h, c->result, &err))
		g_printerr("warning: %s\n", err->message);
}

char *hh_cell_skip_reason(const HhCellSpec *spec)
{
	for (guint i = 0; i < spec->scenario->requires->len; i++) {
		HhRequire *r = spec->scenario->requires->pdata[i];

		g_autofree char *why = NULL;
		const char *release = spec->kernel_release;
		const char *accel = spec->accel == HH_ACCEL_KVM ? "kvm" :
				    spec->variant->tcg_multi    ? "mttcg" :
								  "tcg";
		g_auto(GStrv) accels = r->kind == HH_REQ_ACCEL ?
			g_strsplit(r->value, " ", -1) : NULL;

		if (r->kind == HH_REQ_CONFIG &&
		    !hh_kconfig_enabled(spec->kconfig, r->value))
			why = g_strdup_printf("kernel %s lacks %s",
					      spec->kernel_name, r->value);
		else if (r->kind == HH_REQ_KERNEL && release &&
			 (hh_kernel_version_cmp(release, r->value) < 0) !=
				 r->below)
			why = g_strdup_printf("kernel %s is %s, the scenario "
					      "needs %s %s",
					      spec->kernel_name, release,
					      r->below ? "<" : ">=", r->value);
		else if (r->kind == HH_REQ_ACCEL &&
			 !g_strv_contains((const char *const *)accels, accel))
			why = g_strdup_printf("the guest runs under %s, the "
					      "scenario needs %s", accel,
					      r->value);
		if (!why)
			continue;
		return g_strdup_printf("%s%s%s", why, r->because ? ": " : "",
				       r->because ? r->because : "");
	}
	return NULL;
}

static gboolean unmet_requirement(Cell *c)
{
	g_autofree char *why = hh_cell_skip_reason(c->spec);

	if (!why)
		return FALSE;
	set_verdict(c, HH_V_SKIP, "requires", "%s", why);
	return TRUE;
}

/* Possible nodes or CPUs, counted from the STATE report. */
static gboolean count_possible(Cell *c, const char *kind, guint *n,
			       GError **error)
{
	g_autoptr(HhAgentReply) r = hh_agent_state(
		c->agent, c->spec->timeouts.request_ms, error);
	g_autofree char *prefix = g_strdup_printf("%s ", kind);
	g_auto(GStrv) lines = NULL;
	gsize len = 0;
	const char *d;
	g_autofree char *text = NULL;

	if (!r)
		return FALSE;
	d = r->data ? g_bytes_get_data(r->data, &len) : "";
	text = g_strndup(d, len);
	lines = g_strsplit(text, "\n", -1);
	*n = 0;
	for (int i = 0; lines[i]; i++)
		*n += g_str_has_prefix(lines[i], prefix) &&
		      strstr(lines[i], " possible=1");
	return TRUE;
}

static gboolean guest_requirements(Cell *c)
{
	for (guint i = 0; i < c->spec->scenario->requires->len; i++) {
		HhRequire *r = c->spec->scenario->requires->pdata[i];
		g_autoptr(HhAgentReply) rep = NULL;
		g_autoptr(GError) err = NULL;

		if (r->kind == HH_REQ_NODES || r->kind == HH_REQ_CPUS) {
			const char *kind = r->kind == HH_REQ_NODES ? "node" : "cpu";
			guint n;

			if (!count_possible(c, kind, &n, &err)) {
				set_verdict(c, verdict_of(err), "requires", "%s",
					    err->message);
				return FALSE;
			}
			if (n < r->number) {
				set_verdict(c, HH_V_SKIP, "requires",
					    "needs %u possible %ss, the guest has %u%s%s",
					    r->number, kind, n,
					    r->because ? ": " : "",
					    r->because ? r->because : "");
				return FALSE;
			}
			continue;
		}
		if (r->kind != HH_REQ_PATH)
			continue;
		rep = hh_agent_stat(c->agent, r->value,
				    c->spec->timeouts.request_ms, &err);
		if (!rep) {
			set_verdict(c, verdict_of(err), "requires", "%s",
				    err->message);
			return FALSE;
		}
		if (rep->err != 0) {
			set_verdict(c, HH_V_SKIP, "requires",
				    "%s does not exist in the guest%s%s", r->value,
				    r->because ? ": " : "",
				    r->because ? r->because : "");
			return FALSE;
		}
	}
	return TRUE;
}

static void take_baseline(Cell *c)
{
	for (guint n = 0; n < c->spec->baseline_nodes; n++) {
		guint64 *kb = g_new0(guint64, 1);

		memtotal_kb(c, (gint)n, kb, NULL);
		g_hash_table_insert(c->baseline, GINT_TO_POINTER(n), kb);
	}
	for (guint i = 1; i < c->spec->scenario->steps->len; i++) {
		HhStep *s = c->spec->scenario->steps->pdata[i];

		for (guint j = 0; j < s->expects->len; j++) {
			HhExpect *e = s->expects->pdata[j];
			guint64 *kb = g_new0(guint64, 1);

			if (e->kind != HH_EXP_NODE_MEMTOTAL || !e->delta ||
			    g_hash_table_contains(c->baseline,
						  GINT_TO_POINTER(e->id))) {
				g_free(kb);
				continue;
			}
			memtotal_kb(c, e->id, kb, NULL);
			g_hash_table_insert(c->baseline, GINT_TO_POINTER(e->id),
					    kb);
		}
	}
}

/* The boot step, then the steps next_step gives, one at a time. */
static void run_steps_from(Cell *c)
{
	const HhStep *s = c->spec->scenario->steps->pdata[0];
	HhCellStepOutcome last;

	for (guint i = 0; s; i++) {
		if (hh_spawn_interrupted())
			return;
		last.passed = run_step(c, i, s);
		last.err = c->last_errno;
		if (!last.passed)
			return;
		s = c->spec->next_step(c->spec->next_data, i + 1, &last);
	}
}

/* The guest answers: its requirements, then the steps (the scenario's,
 * or those next_step gives). */
static void run_scenario(Cell *c)
{
	HhScenario *sc = c->spec->scenario;
	gint64 t0;

	phase(c, "requirements");
	if (!guest_requirements(c))
		return;
	take_baseline(c);
	phase(c, "steps");
	t0 = hh_now_ms();
	if (c->spec->next_step)
		run_steps_from(c);
	else
		for (guint i = 0; i < sc->steps->len; i++) {
			if (hh_spawn_interrupted() ||
			    !run_step(c, i, sc->steps->pdata[i]))
				break;
		}
	c->step_ms_total = (guint)(hh_now_ms() - t0);
}

/* The last "hh-mark: " line of the cell's kernel log, or NULL. */
static char *last_kmsg_mark(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "kmsg.log", NULL);
	g_autofree char *text = hh_text_read_file(path, 64u << 20);
	const char *p = text, *last = NULL;

	while (p && (p = strstr(p, "hh-mark: "))) {
		last = p;
		p++;
	}
	return last ? g_strndup(last, strcspn(last, "\n")) : NULL;
}

/*
 * A distro cell that failed, crashed or timed out: its disk's journal and
 * the files the scenario collects, read with libguestfs once QEMU is gone
 * (12-25 s: passing cells skip it).  postmortem.json says what was found
 * and whether the journal ends before the kernel log does.
 */
static void postmortem(Cell *c)
{
	const HhCellSpec *spec = c->spec;
	g_autoptr(GError) err = NULL;
	g_autoptr(HhPostmortem) pm = NULL;
	g_autoptr(JsonBuilder) b = NULL;
	g_autofree char *path = NULL, *kmark = NULL, *gap = NULL;
	HhVerdict v = c->result->verdict;

	if (!spec->image || !c->disk || v == HH_V_PASS || v == HH_V_SKIP ||
	    hh_spawn_interrupted() || !g_file_test(c->disk, G_FILE_TEST_EXISTS))
		return;
	pm = hh_postmortem_run(c->disk, spec->image->root,
			       (const char *const *)spec->scenario->collect->pdata,
			       spec->dir, &err);
	kmark = last_kmsg_mark(spec->dir);
	b = json_builder_new();
	json_builder_begin_object(b);
	if (pm) {
		gap = hh_postmortem_gap(pm->last_mark, kmark);
		json_builder_set_member_name(b, "journal_entries");
		json_builder_add_int_value(b, pm->entries);
		json_builder_set_member_name(b, "files");
		json_builder_add_int_value(b, pm->files);
		json_builder_set_member_name(b, "seconds");
		json_builder_add_double_value(b, pm->seconds);
		hh_json_set_string(b, "journal_last_mark", pm->last_mark);
	}
	hh_json_set_string(b, "kmsg_last_mark", kmark);
	hh_json_set_string(b, "gap", gap);
	hh_json_set_string(b, "error", err ? err->message : NULL);
	json_builder_end_object(b);
	path = g_build_filename(spec->dir, "postmortem.json", NULL);
	hh_write_json(path, b, TRUE, NULL);
}

HhCellResult *hh_cell_run(const HhCellSpec *spec)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	g_autofree char *run_dir = NULL;
	g_autoptr(GError) err = NULL;
	Cell c = { .spec = spec, .last_errno = -1 };

	g_main_context_push_thread_default(ctx);
	c.t0 = hh_now_ms();
	c.result = hh_cell_result_new();
	phase(&c, "setup");
	c.result->started_us = g_get_real_time();
	c.outcomes = c.result->steps;
	c.matches = g_ptr_array_new_with_free_func(g_free);
	c.baseline = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	if (!hh_mkdir_p(spec->dir, 0755, &err)) {
		set_verdict(&c, HH_V_ERROR, "setup", "%s", err->message);
		goto out;
	}
	if (unmet_requirement(&c))
		goto out;
	run_dir = g_dir_make_tmp("hh-XXXXXX", &err);
	if (!run_dir) {
		set_verdict(&c, HH_V_ERROR, "setup", "%s", err->message);
		goto out;
	}
	if (boot(&c, run_dir))
		run_scenario(&c);
	phase(&c, "shutdown");
	shutdown(&c);
	phase(&c, "analyse");
	analyse_log(&c);
	if (hh_spawn_interrupted()) {
		/* Whatever failed after the signal failed because of it. */
		c.result->verdict = HH_V_PASS;
		set_verdict(&c, HH_V_ERROR, "interrupted", "interrupted by signal %d",
			    hh_spawn_interrupt_signal());
	}
out:
	phase(&c, "finish");
	g_clear_pointer(&c.agent, hh_agent_free);
	g_clear_pointer(&c.vm, hh_vm_free);
	if (spec->image)
		phase(&c, "postmortem");
	postmortem(&c);
	g_free(c.disk);
	if (run_dir)
		hh_rm_rf(run_dir, NULL);
	phase(&c, NULL);
	c.result->seconds = (hh_now_ms() - c.t0) / 1000.0;
	c.result->steps_ms = c.step_ms_total;
	c.result->shutdown_ms = c.shutdown_ms;
	write_result(&c);
	g_ptr_array_unref(c.matches);
	g_hash_table_unref(c.baseline);
	g_free(c.state);
	g_main_context_pop_thread_default(ctx);
	return c.result;
}
