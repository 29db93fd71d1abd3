/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hh-protocol.h: the wire protocol between the harness (host) and the
 * in-guest agent.  This one header is compiled into both sides: the static
 * guest agent (no GLib, no allocation) and the orchestrator.  See
 * docs/protocol.md for the prose description.
 *
 * Every message is a frame:
 *
 *   offset size  field
 *   0      4     magic    0x31504848 ("HHP1" read as bytes)
 *   4      2     version  HHP_VERSION
 *   6      2     type     enum hhp_type
 *   8      4     id       request id; a reply carries its request's id
 *   12     4     length   payload length, at most HHP_MAX_PAYLOAD
 *   16     ...   payload  a sequence of fields
 *
 * A field is: tag (2 bytes), length (4 bytes), value.  Integers are little
 * endian.  Unknown tags are skipped; a field that runs past the end of the
 * payload, a bad magic or version, or an oversized length is a protocol
 * error, and a stream that had one is dead (the error is sticky).
 */
#ifndef HH_PROTOCOL_H
#define HH_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HHP_MAGIC 0x31504848u
#define HHP_VERSION 1
#define HHP_HEADER_SIZE 16
#define HHP_FIELD_HEADER_SIZE 6
#define HHP_MAX_PAYLOAD (256u * 1024u)
#define HHP_FRAME_MAX (HHP_HEADER_SIZE + HHP_MAX_PAYLOAD)

/* virtio-serial port names (virtserialport name=...) */
#define HHP_PORT_CONTROL "org.hotplug-harness.control"
#define HHP_PORT_LOG "org.hotplug-harness.log"

/* Message types.  Numbers are part of the ABI: never renumber. */
enum hhp_type {
	HHP_MSG_SYNC = 1,	/* host: NONCE.  Reply: NONCE, VERSION, TEXT */
	HHP_MSG_WRITE = 2,	/* host: PATH, DATA.  Reply: ERRNO, TEXT */
	HHP_MSG_READ = 3,	/* host: PATH.  Reply: ERRNO, DATA */
	HHP_MSG_EXEC = 4,	/* host: ARG..., TIMEOUT_MS.  Reply: STATUS,
				 * FLAGS, DATA (stdout+stderr), ERRNO */
	HHP_MSG_MARK = 5,	/* host: TEXT (written to /dev/kmsg).  Reply */
	HHP_MSG_STATE = 6,	/* host: -.  Reply: DATA (see below) */
	HHP_MSG_POWEROFF = 7,	/* host: -.  Reply, then the guest powers off */
	HHP_MSG_SETTIME = 8,	/* host: TIME_NS (CLOCK_REALTIME).  Reply */
	HHP_MSG_STAT = 9,	/* host: PATH.  Reply: ERRNO (of stat()), TEXT */

	HHP_MSG_REPLY = 64,	/* guest, control port: reply to a request */
	HHP_MSG_KMSG = 65,	/* guest, log port: SEQ, TS_USEC, LEVEL, TEXT */
	HHP_MSG_LOST = 66,	/* guest, log port: COUNT records were lost */
	HHP_MSG_BAD_REQUEST = 67, /* guest, control port: TEXT */
};

/* Field tags.  Numbers are part of the ABI: never renumber. */
enum hhp_tag {
	HHP_F_NONCE = 1,	/* u64 */
	HHP_F_VERSION = 2,	/* u32 */
	HHP_F_PATH = 3,		/* bytes, no NUL inside */
	HHP_F_DATA = 4,		/* bytes */
	HHP_F_ERRNO = 5,	/* u32: 0 on success */
	HHP_F_TEXT = 6,		/* bytes: a message for humans */
	HHP_F_ARG = 7,		/* bytes, repeated: argv[0], argv[1], ... */
	HHP_F_TIMEOUT_MS = 8,	/* u32 */
	HHP_F_STATUS = 9,	/* u32: wait status as from waitpid() */
	HHP_F_FLAGS = 10,	/* u32: HHP_FLAG_* */
	HHP_F_SEQ = 11,		/* u64: /dev/kmsg sequence number */
	HHP_F_TS_USEC = 12,	/* u64: /dev/kmsg timestamp */
	HHP_F_LEVEL = 13,	/* u32: syslog priority (facility << 3 | level) */
	HHP_F_COUNT = 14,	/* u64 */
	HHP_F_TIME_NS = 15,	/* u64 */
};

#define HHP_FLAG_TIMED_OUT 0x1u		/* EXEC: killed at its timeout */
#define HHP_FLAG_TRUNCATED 0x2u		/* DATA was cut at HHP_MAX_DATA */

/* Largest DATA an agent sends, leaving room for the other fields. */
#define HHP_MAX_DATA (HHP_MAX_PAYLOAD - 4096u)
#define HHP_MAX_ARGS 64

/*
 * STATE reply DATA: text, one record per line, fields separated by one
 * space, "key=value" after the first two words:
 *
 *   node <id> possible=<0|1> online=<0|1> memory=<0|1> cpu=<0|1>
 *   cpu <id> possible=<0|1> present=<0|1> online=<0|1> node=<id|-1>
 *   block <id> state=<word> node=<id|-1> zones=<word>[,<word>...]
 *   block_size <bytes>
 */

struct hhp_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t id;
	uint32_t length;
};

struct hhp_field {
	uint16_t tag;
	uint32_t length;
	const uint8_t *value;
};

static inline void hhp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void hhp_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void hhp_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t hhp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t hhp_get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t hhp_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Frame builder over a caller-owned buffer of HHP_FRAME_MAX bytes (or
 * less).  A field that does not fit sets overflow; hhp_frame_finish() then
 * returns 0 and the frame must not be sent.
 */
struct hhp_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;
};

static inline void hhp_frame_begin(struct hhp_builder *b, uint8_t *buf,
				   size_t cap, uint16_t type, uint32_t id)
{
	b->buf = buf;
	b->cap = cap;
	b->len = HHP_HEADER_SIZE;
	b->overflow = cap < HHP_HEADER_SIZE;
	if (b->overflow)
		return;
	hhp_put32(buf, HHP_MAGIC);
	hhp_put16(buf + 4, HHP_VERSION);
	hhp_put16(buf + 6, type);
	hhp_put32(buf + 8, id);
	hhp_put32(buf + 12, 0);
}

static inline void hhp_add_bytes(struct hhp_builder *b, uint16_t tag,
				 const void *value, size_t length)
{
	if (b->overflow)
		return;
	if (length > HHP_MAX_PAYLOAD ||
	    b->cap - b->len < HHP_FIELD_HEADER_SIZE + length ||
	    b->len - HHP_HEADER_SIZE + HHP_FIELD_HEADER_SIZE + length >
		    HHP_MAX_PAYLOAD) {
		b->overflow = 1;
		return;
	}
	hhp_put16(b->buf + b->len, tag);
	hhp_put32(b->buf + b->len + 2, (uint32_t)length);
	if (length)
		memcpy(b->buf + b->len + HHP_FIELD_HEADER_SIZE, value, length);
	b->len += HHP_FIELD_HEADER_SIZE + length;
}

static inline void hhp_add_str(struct hhp_builder *b, uint16_t tag,
			       const char *s)
{
	hhp_add_bytes(b, tag, s, strlen(s));
}

static inline void hhp_add_u32(struct hhp_builder *b, uint16_t tag,
			       uint32_t v)
{
	uint8_t tmp[4];

	hhp_put32(tmp, v);
	hhp_add_bytes(b, tag, tmp, sizeof(tmp));
}

static inline void hhp_add_u64(struct hhp_builder *b, uint16_t tag,
			       uint64_t v)
{
	uint8_t tmp[8];

	hhp_put64(tmp, v);
	hhp_add_bytes(b, tag, tmp, sizeof(tmp));
}

/* Returns the frame length, or 0 if a field did not fit. */
static inline size_t hhp_frame_finish(struct hhp_builder *b)
{
	if (b->overflow)
		return 0;
	hhp_put32(b->buf + 12, (uint32_t)(b->len - HHP_HEADER_SIZE));
	return b->len;
}

/*
 * Checks a frame header.  Returns NULL if it is acceptable, or a static
 * message naming what is wrong.
 */
static inline const char *hhp_parse_header(const uint8_t *p,
					   struct hhp_header *h)
{
	h->magic = hhp_get32(p);
	h->version = hhp_get16(p + 4);
	h->type = hhp_get16(p + 6);
	h->id = hhp_get32(p + 8);
	h->length = hhp_get32(p + 12);
	if (h->magic != HHP_MAGIC)
		return "bad frame magic";
	if (h->version != HHP_VERSION)
		return "unsupported protocol version";
	if (h->length > HHP_MAX_PAYLOAD)
		return "frame payload too large";
	return NULL;
}

/*
 * Walks the fields of a payload.  *off starts at 0.  Returns 1 with *f
 * filled, 0 at the end, -1 if a field runs past the payload.
 */
static inline int hhp_next_field(const uint8_t *payload, size_t length,
				 size_t *off, struct hhp_field *f)
{
	if (*off == length)
		return 0;
	if (length - *off < HHP_FIELD_HEADER_SIZE)
		return -1;
	f->tag = hhp_get16(payload + *off);
	f->length = hhp_get32(payload + *off + 2);
	if (f->length > length - *off - HHP_FIELD_HEADER_SIZE)
		return -1;
	f->value = payload + *off + HHP_FIELD_HEADER_SIZE;
	*off += HHP_FIELD_HEADER_SIZE + f->length;
	return 1;
}

/* Finds the first field with a tag.  Returns 1 found, 0 absent, -1 bad. */
static inline int hhp_find_field(const uint8_t *payload, size_t length,
				 uint16_t tag, struct hhp_field *out)
{
	size_t off = 0;
	struct hhp_field f;
	int r;

	while ((r = hhp_next_field(payload, length, &off, &f)) == 1) {
		if (f.tag == tag) {
			*out = f;
			return 1;
		}
	}
	return r;
}

/* Reads an integer field of exactly 4 or 8 bytes; 0 ok, -1 absent or bad */
static inline int hhp_find_u32(const uint8_t *payload, size_t length,
			       uint16_t tag, uint32_t *v)
{
	struct hhp_field f;

	if (hhp_find_field(payload, length, tag, &f) != 1 || f.length != 4)
		return -1;
	*v = hhp_get32(f.value);
	return 0;
}

static inline int hhp_find_u64(const uint8_t *payload, size_t length,
			       uint16_t tag, uint64_t *v)
{
	struct hhp_field f;

	if (hhp_find_field(payload, length, tag, &f) != 1 || f.length != 8)
		return -1;
	*v = hhp_get64(f.value);
	return 0;
}

/*
 * Incremental stream reader over a caller-owned buffer of at least
 * HHP_FRAME_MAX bytes.  Feed bytes as they arrive, then take frames with
 * hhp_reader_next() until it returns 0.
 */
struct hhp_reader {
	uint8_t *buf;
	size_t cap;
	size_t len;		/* bytes held */
	size_t consumed;	/* bytes of buf already handed out */
	const char *error;	/* sticky */
};

static inline void hhp_reader_init(struct hhp_reader *r, uint8_t *buf,
				   size_t cap)
{
	r->buf = buf;
	r->cap = cap;
	r->len = 0;
	r->consumed = 0;
	r->error = cap < HHP_FRAME_MAX ? "reader buffer too small" : NULL;
}

/* Room for the next read; call after hhp_reader_next() returned 0. */
static inline size_t hhp_reader_space(struct hhp_reader *r, uint8_t **where)
{
	if (r->consumed) {
		memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
		r->len -= r->consumed;
		r->consumed = 0;
	}
	*where = r->buf + r->len;
	return r->cap - r->len;
}

static inline void hhp_reader_commit(struct hhp_reader *r, size_t n)
{
	r->len += n;
}

/*
 * Returns 1 with a frame (header in *h, payload pointer valid until the
 * next call to hhp_reader_space()), 0 if more bytes are needed, -1 on a
 * protocol error (r->error says which; sticky).  Every field of a returned
 * frame has been checked to lie inside the payload.
 */
static inline int hhp_reader_next(struct hhp_reader *r, struct hhp_header *h,
				  const uint8_t **payload)
{
	size_t avail = r->len - r->consumed;
	const uint8_t *p = r->buf + r->consumed;
	size_t off = 0;
	struct hhp_field f;
	int rc;

	if (r->error)
		return -1;
	if (avail < HHP_HEADER_SIZE)
		return 0;
	r->error = hhp_parse_header(p, h);
	if (r->error)
		return -1;
	if (avail < HHP_HEADER_SIZE + h->length)
		return 0;
	while ((rc = hhp_next_field(p + HHP_HEADER_SIZE, h->length, &off, &f)) ==
	       1)
		;
	if (rc < 0) {
		r->error = "field runs past the end of its frame";
		return -1;
	}
	*payload = p + HHP_HEADER_SIZE;
	r->consumed += HHP_HEADER_SIZE + h->length;
	return 1;
}

#endif /* HH_PROTOCOL_H */
