/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Several libvirt hosts (hosts.h): the hosts file, connecting, capacity,
 * and getting a lost host back. */
#include "config.h"

#include "hosts.h"
#include "hh-error.h"
#include "util.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

void hh_host_spec_free(gpointer p)
{
	HhHostSpec *h = p;

	if (!h)
		return;
	g_free(h->name);
	g_free(h->uri);
	g_free(h->label);
	g_free(h->where);
	g_free(h);
}

static const char *const host_keys[] = { "uri", "cpus", "memory", "label",
					 NULL };

static gboolean parse_one(GKeyFile *kf, const char *path, const char *group,
			  HhHostSpec *h, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	g_autofree char *cpus = NULL, *memory = NULL;

	h->where = g_strdup_printf("%s: [%s]", path, group);
	for (guint i = 0; keys && keys[i]; i++) {
		if (!g_strv_contains(host_keys, keys[i])) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s: unknown key '%s' (expected uri, cpus, "
				    "memory or label)", h->where, keys[i]);
			return FALSE;
		}
	}
	h->uri = g_key_file_get_string(kf, group, "uri", NULL);
	if (!h->uri || !*g_strstrip(h->uri)) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "%s: uri= is missing (a libvirt URI such as "
			    "qemu+ssh://user@host/system)", h->where);
		return FALSE;
	}
	h->label = g_key_file_get_string(kf, group, "label", NULL);
	if (!h->label || !*g_strstrip(h->label)) {
		g_free(h->label);
		h->label = g_strdup(h->name);
	}
	cpus = g_key_file_get_string(kf, group, "cpus", NULL);
	if (cpus) {
		guint64 n;

		if (!g_ascii_string_to_unsigned(g_strstrip(cpus), 10, 1, 4096,
						&n, NULL)) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s: cpus=%s: expected a number from 1 "
				    "to 4096", h->where, cpus);
			return FALSE;
		}
		h->cpus = (guint)n;
	}
	memory = g_key_file_get_string(kf, group, "memory", NULL);
	if (memory) {
		g_autoptr(GError) err = NULL;

		if (!hh_parse_size(g_strstrip(memory), &h->memory, &err) ||
		    !h->memory) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s: memory=%s: %s", h->where, memory,
				    err ? err->message : "must not be 0");
			return FALSE;
		}
	}
	return TRUE;
}

GPtrArray *hh_hosts_parse(GKeyFile *kf, const char *path, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
		hh_host_spec_free);
	g_autoptr(GHashTable) labels = g_hash_table_new(g_str_hash,
							g_str_equal);

	for (guint i = 0; groups[i]; i++) {
		HhHostSpec *h;

		if (!g_str_has_prefix(groups[i], "host "))
			continue;
		h = g_new0(HhHostSpec, 1);
		g_ptr_array_add(out, h);
		h->name = g_strstrip(g_strdup(groups[i] + 5));
		if (!*h->name) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s: [%s]: a host needs a name, as in "
				    "[host rack1-a]", path, groups[i]);
			return NULL;
		}
		if (!parse_one(kf, path, groups[i], h, error))
			return NULL;
		if (!g_hash_table_add(labels, h->label)) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s: label '%s' is used twice", h->where,
				    h->label);
			return NULL;
		}
	}
	return g_steal_pointer(&out);
}

GPtrArray *hh_hosts_load(const char *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) groups = NULL;
	GPtrArray *hosts;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "hosts file %s: %s", path, err->message);
		return NULL;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i]; i++) {
		if (!g_str_has_prefix(groups[i], "host ")) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s: [%s]: a hosts file has only [host "
				    "NAME] groups", path, groups[i]);
			return NULL;
		}
	}
	hosts = hh_hosts_parse(kf, path, error);
	if (hosts && !hosts->len) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "%s names no host: add a [host NAME] group with "
			    "uri=", path);
		g_clear_pointer(&hosts, g_ptr_array_unref);
	}
	return hosts;
}

static gboolean loopback(const char *server)
{
	g_autoptr(GInetAddress) a = NULL;

	if (!server || !*server || g_ascii_strcasecmp(server, "localhost") == 0)
		return TRUE;
	a = g_inet_address_new_from_string(server);
	return a && g_inet_address_get_is_loopback(a);
}

gboolean hh_host_uri_allowed(const char *uri, gboolean allow_insecure,
			     GError **error)
{
	g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
	const char *scheme;

	if (!u) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "'%s' is not a libvirt URI (expected for example "
			    "qemu+ssh://user@host/system)", uri);
		return FALSE;
	}
	scheme = g_uri_get_scheme(u);
	if (!g_str_has_prefix(scheme, "qemu")) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "'%s': the harness runs QEMU domains: expected a "
			    "qemu://, qemu+ssh:// or qemu+tls:// URI", uri);
		return FALSE;
	}
	if (g_str_equal(scheme, "qemu+tcp") && !allow_insecure &&
	    !loopback(g_uri_get_host(u))) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "'%s': unauthenticated, unencrypted TCP to another "
			    "machine lets anyone on the network run guests "
			    "there; use qemu+ssh:// or qemu+tls:// (see "
			    "docs/hosts.md), or pass --insecure-tcp for a "
			    "closed test network", uri);
		return FALSE;
	}
	return TRUE;
}

void hh_host_free(gpointer p)
{
	HhHost *h = p;

	if (!h)
		return;
	hh_vm_backend_close(h->backend);
	if (h->old)
		g_ptr_array_unref(h->old);
	g_free(h);
}

/* Connection, capacity: NULL (with the reason) if the host is not there. */
static HhVmBackend *open_host(HhHostSpec *spec, HhCost *budget,
			      guint max_jobs, GError **error)
{
	g_autoptr(HhVmBackend) b = hh_vm_backend_open("libvirt", spec->uri,
						      error);
	guint cpus = 0;
	guint64 memory = 0;

	if (!b)
		return NULL;
	if (!spec->cpus || !spec->memory) {
		if (!hh_vm_backend_capacity(b, &cpus, &memory, error))
			return NULL;
	}
	budget->cpus = spec->cpus ? spec->cpus : cpus;
	budget->memory = spec->memory ? spec->memory : memory;
	/* -j bounds every host alike; cpus= or its CPUs bound each. */
	if (max_jobs && budget->cpus > max_jobs)
		budget->cpus = max_jobs;
	return g_steal_pointer(&b);
}

typedef struct {
	HhHostSpec *spec;
	guint max_jobs;
	HhVmBackend *backend;
	HhCost budget;
	GError *error;
} Connect;

static gpointer connect_thread(gpointer data)
{
	Connect *c = data;

	c->backend = open_host(c->spec, &c->budget, c->max_jobs, &c->error);
	return NULL;
}

GPtrArray *hh_hosts_connect(GPtrArray *specs, guint max_jobs,
			    gboolean allow_insecure, GError **error)
{
	g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(hh_host_free);
	g_autofree Connect *c = g_new0(Connect, specs->len);
	g_autofree GThread **t = g_new0(GThread *, specs->len);

	for (guint i = 0; i < specs->len; i++) {
		HhHostSpec *s = specs->pdata[i];

		if (!hh_host_uri_allowed(s->uri, allow_insecure, error)) {
			g_prefix_error(error, "%s: ", s->where);
			return NULL;
		}
	}
	for (guint i = 0; i < specs->len; i++) {
		c[i].spec = specs->pdata[i];
		c[i].max_jobs = max_jobs;
		t[i] = g_thread_new("hh-connect", connect_thread, &c[i]);
	}
	for (guint i = 0; i < specs->len; i++) {
		HhHost *h;

		g_thread_join(t[i]);
		if (!c[i].backend) {
			fprintf(stderr, "host %s (%s) is unreachable and is "
				"skipped: %s\n", c[i].spec->label, c[i].spec->uri,
				c[i].error->message);
			g_clear_error(&c[i].error);
			continue;
		}
		h = g_new0(HhHost, 1);
		h->spec = c[i].spec;
		h->backend = c[i].backend;
		h->budget = c[i].budget;
		h->index = hosts->len;
		h->old = g_ptr_array_new_with_free_func(
			(GDestroyNotify)hh_vm_backend_close);
		fprintf(stderr, "host %s: %s, %u CPU(s), %.1f GiB for guests\n",
			h->spec->label, h->spec->uri, h->budget.cpus,
			h->budget.memory / 1073741824.0);
		g_ptr_array_add(hosts, h);
	}
	if (!hosts->len) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "none of the %u host(s) could be reached",
			    specs->len);
		return NULL;
	}
	return g_steal_pointer(&hosts);
}

HhVmBackend *hh_host_reconnect(HhHost *h, const char *prefix,
			       guint *reaped)
{
	g_autoptr(GError) err = NULL;
	HhCost budget;
	HhVmBackend *b = open_host(h->spec, &budget, h->budget.cpus, &err);

	*reaped = 0;
	if (!b)
		return NULL;
	*reaped = hh_vm_backend_reap_prefix(b, prefix, &err);
	if (err)
		fprintf(stderr, "host %s: removing what the run left there: "
			"%s\n", h->spec->label, err->message);
	return b;
}
