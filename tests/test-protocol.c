/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The agent protocol parser (hh-protocol.h), shared by host and guest, fed
 * well-formed, malformed, truncated and oversized frames. */
#include "hh-protocol.h"

#include <glib.h>

static guint8 *frame_buf(void)
{
	return g_malloc0(HHP_FRAME_MAX);
}

static size_t make_frame(guint8 *buf, guint16 type, guint32 id)
{
	struct hhp_builder b;

	hhp_frame_begin(&b, buf, HHP_FRAME_MAX, type, id);
	hhp_add_str(&b, HHP_F_PATH, "/sys/devices/system/memory/probe");
	hhp_add_str(&b, HHP_F_DATA, "0x80000000");
	hhp_add_u32(&b, HHP_F_ERRNO, 22);
	hhp_add_u64(&b, HHP_F_NONCE, 0x1122334455667788ull);
	return hhp_frame_finish(&b);
}

static void test_round_trip(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;
	struct hhp_header h;
	struct hhp_field f = { 0 };
	const guint8 *payload;
	guint8 *where;
	size_t len = make_frame(out, HHP_MSG_WRITE, 7);
	guint32 v32 = 0;
	guint64 v64 = 0;

	g_assert_cmpuint(len, >, HHP_HEADER_SIZE);
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	/* Deliver it one byte at a time: no frame until the last byte. */
	for (size_t i = 0; i < len; i++) {
		g_assert_cmpint(hhp_reader_next(&r, &h, &payload), ==, 0);
		g_assert_cmpuint(hhp_reader_space(&r, &where), >, 0);
		*where = out[i];
		hhp_reader_commit(&r, 1);
	}
	g_assert_cmpint(hhp_reader_next(&r, &h, &payload), ==, 1);
	g_assert_cmpuint(h.type, ==, HHP_MSG_WRITE);
	g_assert_cmpuint(h.id, ==, 7);
	g_assert_cmpint(hhp_find_field(payload, h.length, HHP_F_DATA, &f), ==, 1);
	g_assert_cmpmem(f.value, f.length, "0x80000000", 10);
	g_assert_cmpint(hhp_find_u32(payload, h.length, HHP_F_ERRNO, &v32), ==, 0);
	g_assert_cmpuint(v32, ==, 22);
	g_assert_cmpint(hhp_find_u64(payload, h.length, HHP_F_NONCE, &v64), ==, 0);
	g_assert_cmpuint(v64, ==, 0x1122334455667788ull);
	/* A u32 read of an 8-byte field is refused, not misread. */
	g_assert_cmpint(hhp_find_u32(payload, h.length, HHP_F_NONCE, &v32), ==, -1);
	g_assert_cmpint(hhp_reader_next(&r, &h, &payload), ==, 0);
}

static void test_two_frames_in_one_read(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;
	struct hhp_header h;
	const guint8 *payload;
	guint8 *where;
	size_t a = make_frame(out, HHP_MSG_REPLY, 1);
	size_t b = make_frame(out + a, HHP_MSG_REPLY, 2);

	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	hhp_reader_space(&r, &where);
	memcpy(where, out, a + b);
	hhp_reader_commit(&r, a + b);
	g_assert_cmpint(hhp_reader_next(&r, &h, &payload), ==, 1);
	g_assert_cmpuint(h.id, ==, 1);
	g_assert_cmpint(hhp_reader_next(&r, &h, &payload), ==, 1);
	g_assert_cmpuint(h.id, ==, 2);
	g_assert_cmpint(hhp_reader_next(&r, &h, &payload), ==, 0);
}

static int feed(struct hhp_reader *r, const guint8 *data, size_t len)
{
	struct hhp_header h;
	const guint8 *payload;
	guint8 *where;

	g_assert_cmpuint(hhp_reader_space(r, &where), >=, len);
	memcpy(where, data, len);
	hhp_reader_commit(r, len);
	return hhp_reader_next(r, &h, &payload);
}

static void test_bad_magic(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;
	size_t len = make_frame(out, HHP_MSG_REPLY, 1);

	out[0] ^= 0xff;
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	g_assert_cmpint(feed(&r, out, len), ==, -1);
	g_assert_cmpstr(r.error, ==, "bad frame magic");
	/* Sticky: a good frame afterwards does not revive the stream. */
	len = make_frame(out, HHP_MSG_REPLY, 2);
	g_assert_cmpint(feed(&r, out, len), ==, -1);
}

static void test_bad_version(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;
	size_t len = make_frame(out, HHP_MSG_REPLY, 1);

	hhp_put16(out + 4, HHP_VERSION + 1);
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	g_assert_cmpint(feed(&r, out, len), ==, -1);
	g_assert_cmpstr(r.error, ==, "unsupported protocol version");
}

static void test_oversized_length(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;

	make_frame(out, HHP_MSG_REPLY, 1);
	/* The header alone condemns it: nothing is buffered waiting. */
	hhp_put32(out + 12, HHP_MAX_PAYLOAD + 1);
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	g_assert_cmpint(feed(&r, out, HHP_HEADER_SIZE), ==, -1);
	g_assert_cmpstr(r.error, ==, "frame payload too large");
	hhp_put32(out + 12, 0xffffffffu);
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	g_assert_cmpint(feed(&r, out, HHP_HEADER_SIZE), ==, -1);
}

static void test_field_past_end(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;
	size_t len = make_frame(out, HHP_MSG_REPLY, 1);

	/* First field claims more bytes than the payload holds. */
	hhp_put32(out + HHP_HEADER_SIZE + 2, 0x7fffffff);
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	g_assert_cmpint(feed(&r, out, len), ==, -1);
	g_assert_cmpstr(r.error, ==, "field runs past the end of its frame");
}

static void test_truncated_field_header(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *rbuf = frame_buf();
	struct hhp_reader r;
	struct hhp_builder b;
	size_t len;

	hhp_frame_begin(&b, out, HHP_FRAME_MAX, HHP_MSG_REPLY, 1);
	len = hhp_frame_finish(&b);
	/* Three stray bytes: less than a field header. */
	out[len] = out[len + 1] = out[len + 2] = 1;
	hhp_put32(out + 12, 3);
	hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
	g_assert_cmpint(feed(&r, out, len + 3), ==, -1);
}

static void test_builder_overflow(void)
{
	g_autofree guint8 *out = frame_buf();
	g_autofree guint8 *big = g_malloc0(HHP_MAX_PAYLOAD);
	struct hhp_builder b;

	hhp_frame_begin(&b, out, HHP_FRAME_MAX, HHP_MSG_REPLY, 1);
	hhp_add_bytes(&b, HHP_F_DATA, big, HHP_MAX_PAYLOAD);
	g_assert_cmpuint(hhp_frame_finish(&b), ==, 0);
	/* The largest DATA the agent sends still fits with other fields. */
	hhp_frame_begin(&b, out, HHP_FRAME_MAX, HHP_MSG_REPLY, 1);
	hhp_add_u32(&b, HHP_F_ERRNO, 0);
	hhp_add_str(&b, HHP_F_TEXT, "ok");
	hhp_add_bytes(&b, HHP_F_DATA, big, HHP_MAX_DATA);
	g_assert_cmpuint(hhp_frame_finish(&b), >, HHP_MAX_DATA);
	/* A small buffer overflows instead of writing past its end. */
	hhp_frame_begin(&b, out, 32, HHP_MSG_REPLY, 1);
	hhp_add_str(&b, HHP_F_TEXT, "more than sixteen bytes of text");
	g_assert_cmpuint(hhp_frame_finish(&b), ==, 0);
}

static void test_random_garbage_never_crashes(void)
{
	g_autofree guint8 *rbuf = frame_buf();
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	guint8 junk[4096];

	for (int round = 0; round < 200; round++) {
		struct hhp_reader r;
		size_t len = g_rand_int_range(rand, 1, sizeof(junk));
		int rc;

		for (size_t i = 0; i < len; i++)
			junk[i] = (guint8)g_rand_int(rand);
		/* Keep a valid header half of the time so the field walker
		 * sees random payloads too. */
		if (round % 2 && len >= HHP_HEADER_SIZE) {
			hhp_put32(junk, HHP_MAGIC);
			hhp_put16(junk + 4, HHP_VERSION);
			hhp_put32(junk + 12, (guint32)(len - HHP_HEADER_SIZE));
		}
		hhp_reader_init(&r, rbuf, HHP_FRAME_MAX);
		rc = feed(&r, junk, len);
		g_assert_true(rc == -1 || rc == 0 || rc == 1);
		/* Accepted or waiting, never both an error and a frame. */
		g_assert_true((rc == -1) == (r.error != NULL));
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/protocol/round-trip-byte-by-byte", test_round_trip);
	g_test_add_func("/protocol/two-frames-in-one-read", test_two_frames_in_one_read);
	g_test_add_func("/protocol/bad-magic-is-sticky", test_bad_magic);
	g_test_add_func("/protocol/bad-version", test_bad_version);
	g_test_add_func("/protocol/oversized-length-rejected-from-header", test_oversized_length);
	g_test_add_func("/protocol/field-past-end", test_field_past_end);
	g_test_add_func("/protocol/truncated-field-header", test_truncated_field_header);
	g_test_add_func("/protocol/builder-overflow", test_builder_overflow);
	g_test_add_func("/protocol/random-garbage-never-crashes", test_random_garbage_never_crashes);
	return g_test_run();
}
