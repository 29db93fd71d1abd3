/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cutting connections to a lost libvirt host (libvirt-abort.h). */
#include "config.h"

#include "libvirt-abort.h"

#include <gio/gio.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct _HhLvPeer {
	GArray *addrs;		/* struct sockaddr_storage */
	char *ssh_host;		/* qemu+ssh: the host ssh is given */
};

void hh_lv_peer_free(HhLvPeer *p)
{
	if (!p)
		return;
	if (p->addrs)
		g_array_unref(p->addrs);
	g_free(p->ssh_host);
	g_free(p);
}

HhLvPeer *hh_lv_peer_new(const char *uri)
{
	g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
	const char *scheme, *host;
	g_autofree char *port = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	HhLvPeer *p;

	if (!u || !(host = g_uri_get_host(u)) || !*host)
		return NULL;
	scheme = g_uri_get_scheme(u);
	p = g_new0(HhLvPeer, 1);
	p->addrs = g_array_new(FALSE, TRUE, sizeof(struct sockaddr_storage));
	if (g_str_has_suffix(scheme, "+ssh") ||
	    g_str_has_suffix(scheme, "+libssh") ||
	    g_str_has_suffix(scheme, "+libssh2")) {
		p->ssh_host = g_strdup(host);
		return p;
	}
	if (g_str_has_suffix(scheme, "+unix") || g_str_has_suffix(scheme, "+ext")) {
		hh_lv_peer_free(p);
		return NULL;
	}
	/* qemu:// and qemu+tls:// listen on 16514, qemu+tcp:// on 16509. */
	port = g_uri_get_port(u) > 0 ?
		g_strdup_printf("%d", g_uri_get_port(u)) :
		g_strdup(g_str_has_suffix(scheme, "+tcp") ? "16509" : "16514");
	if (getaddrinfo(host, port, &hints, &res) == 0) {
		for (struct addrinfo *a = res; a; a = a->ai_next) {
			struct sockaddr_storage ss = { 0 };

			memcpy(&ss, a->ai_addr, MIN(a->ai_addrlen, sizeof(ss)));
			g_array_append_val(p->addrs, ss);
		}
		freeaddrinfo(res);
	}
	return p;
}

static gboolean same_peer(const struct sockaddr_storage *a,
			  const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return FALSE;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(x->sin6_addr));
	}
	return FALSE;
}

static guint shut_sockets(const HhLvPeer *p)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
	const char *name;
	guint n = 0;

	while (d && (name = g_dir_read_name(d))) {
		int fd = atoi(name);
		struct sockaddr_storage ss = { 0 };
		socklen_t len = sizeof(ss);

		if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
			continue;
		for (guint i = 0; i < p->addrs->len; i++) {
			if (same_peer(&ss, &g_array_index(p->addrs,
						struct sockaddr_storage, i))) {
				shutdown(fd, SHUT_RDWR);
				n++;
				break;
			}
		}
	}
	return n;
}

/* ssh children of this process whose command line names the host. */
static guint end_ssh(const HhLvPeer *p)
{
	g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
	const char *name;
	pid_t self = getpid();
	guint n = 0;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *stat = NULL, *cmd = NULL, *sp = NULL, *cp = NULL;
		const char *paren;
		gsize len = 0;
		int ppid = 0;
		char state;

		if (!g_ascii_isdigit(*name))
			continue;
		sp = g_strdup_printf("/proc/%s/stat", name);
		cp = g_strdup_printf("/proc/%s/cmdline", name);
		if (!g_file_get_contents(sp, &stat, NULL, NULL) ||
		    !(paren = strrchr(stat, ')')) ||
		    sscanf(paren + 1, " %c %d", &state, &ppid) != 2 ||
		    ppid != self || !strstr(stat, "(ssh)") ||
		    !g_file_get_contents(cp, &cmd, &len, NULL))
			continue;
		for (gsize i = 0; i + 1 < len; i++) {
			if (!cmd[i])
				cmd[i] = ' ';
		}
		if (strstr(cmd, p->ssh_host) && kill(atoi(name), SIGTERM) == 0)
			n++;
	}
	return n;
}

guint hh_lv_peer_abort(const HhLvPeer *p)
{
	if (!p)
		return 0;
	return p->ssh_host ? end_ssh(p) : shut_sockets(p);
}
