/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent protocol end to end on the host: the real hh-agent (in its
 * test mode, ports on ptys, kernel log from a file) against the harness's
 * agent client; then a hostile fake guest on a socketpair, whose garbage,
 * oversized and out-of-order messages must end in a protocol error, never
 * a crash or a hang.
 */
#include "agent-client.h"
#include "hh-error.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <pty.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static GIOStream *stream_for_fd(int fd)
{
	g_autoptr(GInputStream) in = g_unix_input_stream_new(fd, FALSE);
	g_autoptr(GOutputStream) out = g_unix_output_stream_new(fd, TRUE);

	return g_simple_io_stream_new(in, out);
}

typedef struct {
	char *dir;
	HhChild *child;
	HhAgent *agent;
} RealAgent;

static int raw_pty(char *name)
{
	int master, slave;
	struct termios t;

	g_assert_cmpint(openpty(&master, &slave, name, NULL, NULL), ==, 0);
	tcgetattr(slave, &t);
	cfmakeraw(&t);
	tcsetattr(slave, TCSANOW, &t);
	tcgetattr(master, &t);
	cfmakeraw(&t);
	tcsetattr(master, TCSANOW, &t);
	/* The agent opens the slave by name; keep ours open until then so
	 * the master does not see a hang-up. */
	return master;
}

static void real_setup(RealAgent *ra, gconstpointer data)
{
	g_autofree char *agent = g_build_filename(g_getenv("HH_BUILDDIR") ?: ".",
						  "guest-initramfs", "hh-agent",
						  NULL);
	g_autofree char *kmsg = NULL;
	g_autoptr(GError) err = NULL;
	char ctl_name[128], log_name[128];
	int ctl = raw_pty(ctl_name), log = raw_pty(log_name);
	g_autoptr(GIOStream) cs = stream_for_fd(ctl);
	g_autoptr(GIOStream) ls = stream_for_fd(log);
	const char *argv[] = { agent, "--ports", ctl_name, log_name, "--kmsg",
			       NULL, NULL };

	if (!g_file_test(agent, G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip("hh-agent is not built");
		return;
	}
	ra->dir = g_dir_make_tmp("hh-agent-test-XXXXXX", &err);
	g_assert_no_error(err);
	kmsg = g_build_filename(ra->dir, "kmsg", NULL);
	g_assert_true(hh_write_file(kmsg,
		"6,0,1000,-;Linux version 6.1.192\n"
		" SUBSYSTEM=cpu\n"
		"4,1,2000,-;WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2\n"
		"6,2,3000,-;hh-test: \\xff invalid utf-8 escaped by the kernel\n",
		-1, &err));
	argv[5] = kmsg;
	ra->child = hh_child_spawn(argv, NULL, NULL, NULL,
				   HH_SPAWN_INHERIT_OUTPUT, &err);
	g_assert_no_error(err);
	ra->agent = hh_agent_new(cs, ls, NULL, NULL);
}

static void real_teardown(RealAgent *ra, gconstpointer data)
{
	g_clear_pointer(&ra->agent, hh_agent_free);
	g_clear_pointer(&ra->child, hh_child_free);
	if (ra->dir)
		hh_rm_rf(ra->dir, NULL);
	g_free(ra->dir);
}

static void test_real_requests(RealAgent *ra, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *file = NULL, *missing = NULL;
	g_autoptr(HhAgentReply) w = NULL, r = NULL, bad = NULL, x = NULL;
	g_autoptr(HhAgentReply) slow = NULL, st = NULL;
	const char *echo[] = { "sh", "-c", "echo hello; exit 3", NULL };
	const char *sleep_argv[] = { "sleep", "10", NULL };
	g_autoptr(GRegex) re = g_regex_new("^WARNING: CPU", 0, 0, NULL);
	guint idx;
	int status;

	if (!ra->agent)
		return;
	g_assert_true(hh_agent_sync(ra->agent, 10000, &err));
	g_assert_no_error(err);

	file = g_build_filename(ra->dir, "target", NULL);
	/* Like sysfs: the agent writes existing files, it creates none. */
	g_assert_true(hh_write_file(file, "", 0, &err));
	w = hh_agent_write(ra->agent, file, "online", 5000, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(w->err, ==, 0);
	r = hh_agent_read(ra->agent, file, 5000, &err);
	g_assert_no_error(err);
	g_assert_cmpmem(g_bytes_get_data(r->data, NULL),
			g_bytes_get_size(r->data), "online", 6);

	missing = g_build_filename(ra->dir, "no", "such", NULL);
	bad = hh_agent_write(ra->agent, missing, "1", 5000, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(bad->err, ==, ENOENT);

	x = hh_agent_exec(ra->agent, echo, 5000, 10000, &err);
	g_assert_no_error(err);
	g_assert_true(WIFEXITED(x->status));
	g_assert_cmpint(WEXITSTATUS(x->status), ==, 3);
	g_assert_cmpmem(g_bytes_get_data(x->data, NULL),
			g_bytes_get_size(x->data), "hello\n", 6);

	slow = hh_agent_exec(ra->agent, sleep_argv, 200, 10000, &err);
	g_assert_no_error(err);
	g_assert_true(slow->flags & HHP_FLAG_TIMED_OUT);

	st = hh_agent_state(ra->agent, 5000, &err);
	g_assert_no_error(err);
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(st->data, NULL),
				      g_bytes_get_size(st->data), "cpu 0 "));

	/* The kernel log arrived, continuation lines dropped. */
	g_assert_true(hh_agent_wait_log(ra->agent, re, 0, 5000, &idx, &err));
	g_assert_cmpuint(idx, ==, 1);
	g_assert_cmpuint(hh_agent_log_get(ra->agent, 1)->seq, ==, 1);
	g_assert_cmpuint(hh_agent_log_get(ra->agent, 1)->level, ==, 4);
	g_assert_cmpstr(hh_agent_log_get(ra->agent, 0)->text, ==,
			"Linux version 6.1.192");

	g_assert_true(hh_agent_poweroff(ra->agent, 5000, &err));
	g_assert_no_error(err);
	g_assert_true(hh_child_wait(ra->child, 5000, &status, &err));
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- a hostile guest ---- */

typedef struct {
	int guest_ctl;
	int guest_log;
	HhAgent *agent;
} Fake;

static void fake_setup(Fake *f, gconstpointer data)
{
	int ctl[2], log[2];
	g_autoptr(GIOStream) cs = NULL, ls = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, log), ==, 0);
	cs = stream_for_fd(ctl[0]);
	ls = stream_for_fd(log[0]);
	f->guest_ctl = ctl[1];
	f->guest_log = log[1];
	f->agent = hh_agent_new(cs, ls, NULL, NULL);
}

/* The same with a small send buffer on the host's end of the control
 * port, which a guest that never reads fills at once. */
static void fake_setup_small(Fake *f, gconstpointer data)
{
	int ctl[2], log[2], small = 4096;
	g_autoptr(GIOStream) cs = NULL, ls = NULL;
	g_autoptr(GSocket) sock = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, log), ==, 0);
	g_assert_cmpint(setsockopt(ctl[0], SOL_SOCKET, SO_SNDBUF, &small,
				   sizeof(small)), ==, 0);
	/* A socket connection, as QEMU's and libvirt's ports are (a GUnix
	 * stream on a blocking descriptor would block in the write). */
	sock = g_socket_new_from_fd(ctl[0], NULL);
	g_assert_nonnull(sock);
	cs = G_IO_STREAM(g_socket_connection_factory_create_connection(sock));
	ls = stream_for_fd(log[0]);
	f->guest_ctl = ctl[1];
	f->guest_log = log[1];
	f->agent = hh_agent_new(cs, ls, NULL, NULL);
}

static void fake_teardown(Fake *f, gconstpointer data)
{
	hh_agent_free(f->agent);
	close(f->guest_ctl);
	close(f->guest_log);
}

static void send_raw(int fd, const void *p, size_t n)
{
	g_assert_cmpint(write(fd, p, n), ==, (ssize_t)n);
}

static void send_reply(int fd, guint16 type, guint32 id, const char *text)
{
	guint8 buf[512];
	struct hhp_builder b;
	size_t n;

	hhp_frame_begin(&b, buf, sizeof(buf), type, id);
	hhp_add_u32(&b, HHP_F_ERRNO, 0);
	if (text)
		hhp_add_str(&b, HHP_F_TEXT, text);
	n = hhp_frame_finish(&b);
	send_raw(fd, buf, n);
}

static void expect_protocol_error(Fake *f, const char *fragment)
{
	g_autoptr(GError) err = NULL;
	gint64 t0 = hh_now_ms();
	g_autoptr(HhAgentReply) r =
		hh_agent_read(f->agent, "/x", 20000, &err);

	g_assert_null(r);
	g_assert_error(err, HH_ERROR, HH_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(err->message, fragment));
	/* Detected when the bytes arrive, not at the 20 s timeout. */
	g_assert_cmpint(hh_now_ms() - t0, <, 10000);
}

static void test_garbage(Fake *f, gconstpointer data)
{
	send_raw(f->guest_ctl, "GET / HTTP/1.0\r\n\r\n", 18);
	expect_protocol_error(f, "bad frame magic");
}

static void test_oversized(Fake *f, gconstpointer data)
{
	guint8 hdr[HHP_HEADER_SIZE];

	hhp_put32(hdr, HHP_MAGIC);
	hhp_put16(hdr + 4, HHP_VERSION);
	hhp_put16(hdr + 6, HHP_MSG_REPLY);
	hhp_put32(hdr + 8, 1);
	hhp_put32(hdr + 12, 0xfffffff0u);
	/* Only the header: the length alone must condemn it. */
	send_raw(f->guest_ctl, hdr, sizeof(hdr));
	expect_protocol_error(f, "too large");
}

static void test_out_of_order(Fake *f, gconstpointer data)
{
	send_reply(f->guest_ctl, HHP_MSG_REPLY, 4242, "ok");
	expect_protocol_error(f, "not the one waiting");
}

static void test_wrong_type(Fake *f, gconstpointer data)
{
	send_reply(f->guest_ctl, HHP_MSG_KMSG, 1, "kmsg on the control port");
	expect_protocol_error(f, "unexpected message type 65");
}

static void test_bad_log_stream(Fake *f, gconstpointer data)
{
	guint8 junk[64];

	memset(junk, 0xa5, sizeof(junk));
	send_raw(f->guest_log, junk, sizeof(junk));
	expect_protocol_error(f, "log port");
}

static void test_hostile_text_made_valid(Fake *f, gconstpointer data)
{
	guint8 buf[256];
	struct hhp_builder b;
	static const char text[] = "bad \xff\xfe utf8 \0 and a NUL";
	g_autoptr(GRegex) re = g_regex_new("utf8", 0, 0, NULL);
	g_autoptr(GError) err = NULL;
	const HhKmsgRecord *r;
	guint idx;

	hhp_frame_begin(&b, buf, sizeof(buf), HHP_MSG_KMSG, 0);
	hhp_add_u64(&b, HHP_F_SEQ, 7);
	hhp_add_bytes(&b, HHP_F_TEXT, text, sizeof(text) - 1);
	send_raw(f->guest_log, buf, hhp_frame_finish(&b));
	g_assert_true(hh_agent_wait_log(f->agent, re, 0, 5000, &idx, &err));
	r = hh_agent_log_get(f->agent, idx);
	g_assert_true(g_utf8_validate(r->text, -1, NULL));
	g_assert_nonnull(strstr(r->text, "and a NUL"));
}

static void test_silent_guest_times_out(Fake *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;

	g_assert_false(hh_agent_sync(f->agent, 300, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_TIMEOUT);
}

static void test_guest_gone(Fake *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhAgentReply) r = NULL;

	close(f->guest_ctl);
	f->guest_ctl = open("/dev/null", O_RDONLY);
	r = hh_agent_read(f->agent, "/x", 20000, &err);
	g_assert_null(r);
	g_assert_error(err, HH_ERROR, HH_ERROR_QEMU);
}

/* A guest with no agent never reads its control port: the request's
 * write must give up at the deadline, not block the harness for good. */
static void test_unread_port_times_out(Fake *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhAgentReply) r = NULL;
	g_autofree char *big = g_strnfill(200000, 'x');
	gint64 t0 = g_get_monotonic_time();

	r = hh_agent_write(f->agent, "/x", big, 300, &err);
	g_assert_null(r);
	g_assert_error(err, HH_ERROR, HH_ERROR_TIMEOUT);
	g_assert_nonnull(strstr(err->message, "took no request"));
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 3 * G_USEC_PER_SEC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	hh_spawn_init();
	g_test_add("/agent/real/requests-log-poweroff", RealAgent, NULL,
		   real_setup, test_real_requests, real_teardown);
#define FAKE(path, fn) g_test_add(path, Fake, NULL, fake_setup, fn, fake_teardown)
	FAKE("/agent/hostile/garbage-is-protocol-error", test_garbage);
	FAKE("/agent/hostile/oversized-length-rejected-at-once", test_oversized);
	FAKE("/agent/hostile/out-of-order-reply", test_out_of_order);
	FAKE("/agent/hostile/wrong-type-on-control-port", test_wrong_type);
	FAKE("/agent/hostile/garbage-on-log-port", test_bad_log_stream);
	FAKE("/agent/hostile/text-made-valid-utf8", test_hostile_text_made_valid);
	FAKE("/agent/hostile/silent-guest-times-out", test_silent_guest_times_out);
	FAKE("/agent/hostile/guest-gone-is-an-error", test_guest_gone);
	g_test_add("/agent/hostile/unread-port-times-out", Fake, NULL,
		   fake_setup_small, test_unread_port_times_out, fake_teardown);
	return g_test_run();
}
