/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hosts files, the TCP policy, and stable shards. */
#include "hh-error.h"
#include "libvirt-abort.h"
#include "hosts.h"
#include "matrix.h"
#include "run.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static GPtrArray *parse(const char *text, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE,
						NULL));
	return hh_hosts_parse(kf, "test.hosts", error);
}

static void test_parse(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) h = parse(
		"[host a]\nuri=qemu+ssh://hh@a/system\ncpus=8\nmemory=32G\n"
		"label=rack 1 a\n[host b]\nuri=qemu+tls://b/system\n"
		"[matrix]\nkernels=x\n", &err);
	HhHostSpec *a, *b;

	g_assert_no_error(err);
	g_assert_cmpuint(h->len, ==, 2);
	a = h->pdata[0];
	b = h->pdata[1];
	g_assert_cmpstr(a->name, ==, "a");
	g_assert_cmpstr(a->label, ==, "rack 1 a");
	g_assert_cmpuint(a->cpus, ==, 8);
	g_assert_cmpuint(a->memory, ==, 32ull << 30);
	g_assert_cmpstr(b->label, ==, "b");
	g_assert_cmpuint(b->cpus, ==, 0);
	g_assert_cmpuint(b->memory, ==, 0);
}

static void expect_error(const char *text, const char *fragment)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) h = parse(text, &err);

	g_assert_null(h);
	g_assert_error(err, HH_ERROR, HH_ERROR_USAGE);
	if (!strstr(err->message, fragment))
		g_error("'%s' lacks '%s'", err->message, fragment);
	g_assert_nonnull(strstr(err->message, "test.hosts"));
}

static void test_parse_errors(void)
{
	expect_error("[host a]\ncpus=2\n", "uri= is missing");
	expect_error("[host a]\nuri=qemu:///system\ncpus=0\n", "cpus=0");
	expect_error("[host a]\nuri=qemu:///system\ncpus=many\n", "cpus=many");
	expect_error("[host a]\nuri=qemu:///system\nmemory=lots\n", "memory=lots");
	expect_error("[host a]\nuri=qemu:///system\nport=22\n", "unknown key 'port'");
	expect_error("[host a]\nuri=qemu:///system\n[host b]\nuri=qemu:///system\n"
		     "label=a\n", "label 'a' is used twice");
	expect_error("[host  ]\nuri=qemu:///system\n", "needs a name");
}

static void test_load_file(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_dir_make_tmp("hh-hosts-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "h.conf", NULL);
	g_autoptr(GPtrArray) h = NULL;

	g_assert_true(g_file_set_contents(path, "[matrix]\nx=1\n", -1, NULL));
	h = hh_hosts_load(path, &err);
	g_assert_null(h);
	g_assert_nonnull(strstr(err->message, "only [host NAME] groups"));
	g_clear_error(&err);
	g_assert_true(g_file_set_contents(path, "# nothing\n", -1, NULL));
	h = hh_hosts_load(path, &err);
	g_assert_null(h);
	g_assert_nonnull(strstr(err->message, "names no host"));
	g_clear_error(&err);
	g_assert_true(g_file_set_contents(path, "[host x]\nuri=qemu:///system\n",
					  -1, NULL));
	h = hh_hosts_load(path, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(h->len, ==, 1);
	g_unlink(path);
	g_rmdir(dir);
}

static void test_tcp_policy(void)
{
	static const char *const allowed[] = {
		"qemu+ssh://hh@192.0.2.7/system", "qemu+tls://host.example/system",
		"qemu+tcp://127.0.0.1:16601/system", "qemu+tcp://localhost/system",
		"qemu+tcp://[::1]:16601/system", "qemu:///system",
	};
	static const char *const refused[] = {
		"qemu+tcp://192.0.2.7/system", "qemu+tcp://build-42/system",
		"xen:///system", "not a uri",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(allowed); i++) {
		g_autoptr(GError) err = NULL;

		if (!hh_host_uri_allowed(allowed[i], FALSE, &err))
			g_error("%s refused: %s", allowed[i], err->message);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) err = NULL;

		g_assert_false(hh_host_uri_allowed(refused[i], FALSE, &err));
		g_assert_error(err, HH_ERROR, HH_ERROR_USAGE);
	}
	g_assert_true(hh_host_uri_allowed("qemu+tcp://192.0.2.7/system", TRUE,
					  NULL));
}

/* The same cell falls in the same shard, and each cell in exactly one. */
static void test_shards(void)
{
	guint count[4] = { 0 };

	for (guint i = 0; i < 300; i++) {
		g_autofree char *name = g_strdup_printf("k/v%u/s%u", i % 7, i);
		guint s = hh_matrix_shard_of(name, 4);

		g_assert_cmpuint(s, <, 4);
		count[s]++;
	}
	/* Roughly even: each shard 20-30 % of 300. */
	for (guint s = 0; s < 4; s++)
		g_assert_cmpuint(count[s], >, 50);
	/* A fixed value: a change of hash would silently reshuffle CI jobs. */
	g_assert_cmpuint(hh_matrix_shard_of("stock/mem2g-of-3g/boot-clean", 1000),
			 ==, 215);
}

static void test_shard_parse(void)
{
	guint k, n;

	g_assert_true(hh_shard_parse("2/3", &k, &n, NULL));
	g_assert_cmpuint(k, ==, 2);
	g_assert_cmpuint(n, ==, 3);
	g_assert_false(hh_shard_parse("0/3", &k, &n, NULL));
	g_assert_false(hh_shard_parse("4/3", &k, &n, NULL));
	g_assert_false(hh_shard_parse("3", &k, &n, NULL));
	g_assert_false(hh_shard_parse("1/2/3", &k, &n, NULL));
	g_assert_false(hh_shard_parse("a/b", &k, &n, NULL));
}

/* A lost host's sockets are shut down: a connection to its address and
 * port sees end of file; one to another port does not. */
static void test_abort_sockets(void)
{
	int lfd[2], cfd[2];
	guint16 port[2];
	g_autofree char *uri = NULL;
	g_autoptr(HhLvPeer) peer = NULL;
	char c;

	for (guint i = 0; i < 2; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		lfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		g_assert_cmpint(bind(lfd[i], (struct sockaddr *)&a, sizeof(a)), ==, 0);
		g_assert_cmpint(listen(lfd[i], 1), ==, 0);
		getsockname(lfd[i], (struct sockaddr *)&a, &len);
		port[i] = ntohs(a.sin_port);
		cfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		g_assert_cmpint(connect(cfd[i], (struct sockaddr *)&a, sizeof(a)), ==, 0);
	}
	uri = g_strdup_printf("qemu+tcp://127.0.0.1:%u/system", port[0]);
	peer = hh_lv_peer_new(uri);
	g_assert_nonnull(peer);
	g_assert_cmpuint(hh_lv_peer_abort(peer), ==, 1);
	g_assert_cmpint(recv(cfd[0], &c, 1, MSG_DONTWAIT), ==, 0);
	g_assert_cmpint(recv(cfd[1], &c, 1, MSG_DONTWAIT), ==, -1);
	g_assert_null(hh_lv_peer_new("qemu:///system"));
	for (guint i = 0; i < 2; i++) {
		close(cfd[i]);
		close(lfd[i]);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hosts/parse", test_parse);
	g_test_add_func("/hosts/parse-errors-name-file-and-key", test_parse_errors);
	g_test_add_func("/hosts/load-file", test_load_file);
	g_test_add_func("/hosts/tcp-only-on-loopback", test_tcp_policy);
	g_test_add_func("/hosts/shards-stable-and-complete", test_shards);
	g_test_add_func("/hosts/shard-parse", test_shard_parse);
	g_test_add_func("/hosts/lost-host-sockets-cut", test_abort_sockets);
	return g_test_run();
}
