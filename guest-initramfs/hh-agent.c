// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hh-agent: the in-guest agent of hotplug-harness.  It runs as /init of the
 * guest initramfs, answers requests on the control virtio-serial port and
 * streams /dev/kmsg on the log port (see hh-protocol.h).
 *
 * Requests are served one at a time.  EXEC, and WRITE (a sysfs write may
 * take seconds, or hang), run in a child process; meanwhile the control
 * port is not read, but kmsg streaming goes on.
 *
 * When not PID 1 (host-side testing) it takes --ports CTRL LOG and
 * --kmsg PATH, and mounts nothing and powers nothing off.
 *
 * With --system it is a service of the guest's own init (systemd on a
 * distro image, see docs/distro.md): it writes MARKs to /dev/kmsg as PID 1
 * does, mounts nothing, and on POWEROFF exits 0 (its unit's SuccessAction
 * powers the guest off, with the file systems unmounted).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "hh-protocol.h"

#define AGENT_VERSION "hh-agent 1.0 (protocol 1)"
#define AGENT_PATH "/bin:/sbin:/usr/bin:/usr/sbin"

#define IO_TIMEOUT_MS 5000	/* a port that does not drain for this long */
#define BACKOFF_MS 50		/* after EOF/POLLHUP on a port or kmsg */
#define PORT_WAIT_MS 10000
#define PORT_RETRY_MS 20
#define KILL_GRACE_MS 2000	/* for a child to die after SIGKILL */
#define KMSG_BUF 16384		/* > CONSOLE_EXT_LOG_MAX: one whole record */
#define KMSG_BATCH 64		/* records per poll round */
#define PIPE_BATCH 16		/* pipe reads per poll round */
#define PIPE_DRAIN 1024		/* reads after the exit: > any pipe size */
#define MAX_IDS 8192		/* CPU and node ids in STATE */
#define MAX_BLOCKS 32768	/* memory blocks in STATE */

#define SYS_NODE "/sys/devices/system/node"
#define SYS_CPU "/sys/devices/system/cpu"
#define SYS_MEMORY "/sys/devices/system/memory"
#define SYS_PORTS "/sys/class/virtio-ports"

struct agent {
	bool pid1;
	bool system;		/* --system: a service of the guest's init */
	const char *ctl_path;	/* test mode */
	const char *log_path;
	const char *kmsg_path;
	int ctl_fd;
	int log_fd;
	int kmsg_fd;		/* records in */
	int kmsg_wfd;		/* MARK and our own messages out */
	int sig_fd;		/* SIGCHLD */
	bool streaming;		/* a SYNC has been answered */
	bool connected;		/* control port delivered data since EOF */
	bool log_stalled;
	uint64_t next_seq;	/* of the next kmsg record */
	uint64_t lost;		/* kmsg records to report in a LOST frame */
	size_t log_len;		/* bytes of log_buf pending on the log port */
	size_t log_off;		/* of those, already written */
	int64_t ctl_resume;	/* back-off: leave the fd alone until then */
	int64_t log_resume;
	int64_t log_progress;	/* last time the log port took bytes */
	int64_t kmsg_resume;
	size_t kmsg_len;	/* bytes in kmsg_buf */
	size_t kmsg_pos;	/* of those, already handled */
	struct hhp_reader reader;
};

enum job_kind { JOB_EXEC, JOB_WRITE };

struct job {
	enum job_kind kind;
	bool active;
	bool exited;
	bool killed;
	uint32_t id;
	pid_t pid;
	int pipe_fd;
	int status;
	uint32_t flags;
	size_t len;		/* output in data_buf */
	int64_t deadline;	/* 0: no timeout */
	int64_t kill_deadline;
};

struct request {
	uint32_t id;
	uint16_t type;
	const uint8_t *payload;
	size_t len;
};

struct handler {
	const char *name;
	void (*fn)(const struct request *rq);
};

struct text_out {
	char *buf;
	size_t cap;
	size_t len;
	bool truncated;
};

struct idset {
	uint64_t bits[MAX_IDS / 64];
};

struct kmsg_rec {
	uint64_t seq;
	uint64_t ts;
	uint32_t level;
	const char *text;
	size_t len;
};

static struct agent ag = {
	.ctl_fd = -1, .log_fd = -1, .kmsg_fd = -1, .kmsg_wfd = -1,
	.sig_fd = -1,
};
static struct job job = { .pipe_fd = -1 };

static uint8_t rx_buf[HHP_FRAME_MAX];
static uint8_t tx_buf[HHP_FRAME_MAX];
static uint8_t data_buf[HHP_MAX_DATA];
static char arg_buf[HHP_MAX_PAYLOAD + HHP_MAX_ARGS];
static uint8_t log_buf[KMSG_BUF + 512];
static char kmsg_buf[KMSG_BUF + 1];
static char text_buf[65536];	/* sysfs files read for STATE */
static unsigned int block_ids[MAX_BLOCKS];

static void ctl_process(void);

/* Utilities */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void write_quiet(int fd, const char *s, size_t len)
{
	if (fd >= 0 && write(fd, s, len) < 0)
		return;
}

static void agent_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Writes "hh-agent: ..." to /dev/kmsg, or to stderr without it. */
static void agent_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "hh-agent: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	write_quiet(ag.kmsg_wfd >= 0 ? ag.kmsg_wfd : STDERR_FILENO, line, n);
}

/* Reads a small text file, NUL-terminated, trailing whitespace cut. */
static ssize_t read_text(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	while (len < cap - 1 &&
	       (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -1;
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	return len;
}

/* sysfs wants the whole value in one write() */
static int write_once(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return errno;
	n = write(fd, data, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	if (close(fd) < 0 && !err)
		err = errno;
	return err;
}

/*
 * Waits for POLLOUT until the deadline.  Returns false once the deadline
 * has passed.  A port without a host reports POLLHUP and no POLLOUT at
 * once: sleep a little rather than spin.
 */
static bool wait_writable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int64_t left = deadline - now_ms();

	if (left <= 0)
		return false;
	if (poll(&p, 1, (int)left) > 0 && !(p.revents & POLLOUT))
		sleep_ms(PORT_RETRY_MS);
	return true;
}

/*
 * Writes buf[*off..len) to a non-blocking fd, waiting whenever it is full
 * for up to timeout_ms without progress.  Returns 0 when all is written,
 * -ETIMEDOUT or another -errno otherwise; *off tells how far it got.
 */
static int write_some(int fd, const uint8_t *buf, size_t len, size_t *off,
		      int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (*off < len) {
		ssize_t n = write(fd, buf + *off, len - *off);

		if (n > 0) {
			*off += n;
			deadline = now_ms() + timeout_ms;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -errno;
		} else if (!wait_writable(fd, deadline)) {
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static void set_timeout(int *timeout, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms > INT_MAX)
		ms = INT_MAX;
	if (*timeout < 0 || ms < *timeout)
		*timeout = (int)ms;
}

/* Control port output */

static void ctl_send(struct hhp_builder *b);

static void bad_request(uint32_t id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bad_request(uint32_t id, const char *fmt, ...)
{
	struct hhp_builder b;
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	hhp_frame_begin(&b, tx_buf, sizeof(tx_buf), HHP_MSG_BAD_REQUEST, id);
	hhp_add_str(&b, HHP_F_TEXT, text);
	ctl_send(&b);
}

static void ctl_send(struct hhp_builder *b)
{
	uint32_t id = hhp_get32(b->buf + 8);
	size_t len = hhp_frame_finish(b);
	size_t off = 0;
	int err;

	if (!len) {
		agent_log("reply to request %u does not fit a frame", id);
		bad_request(id, "reply does not fit in a frame");
		return;
	}
	err = write_some(ag.ctl_fd, b->buf, len, &off, IO_TIMEOUT_MS);
	if (err)
		agent_log("reply to request %u dropped (%zu of %zu bytes): %s",
			  id, off, len, strerror(-err));
}

static void reply_begin(struct hhp_builder *b, uint32_t id)
{
	hhp_frame_begin(b, tx_buf, sizeof(tx_buf), HHP_MSG_REPLY, id);
}

static void reply_errno(uint32_t id, int err)
{
	struct hhp_builder b;

	reply_begin(&b, id);
	hhp_add_u32(&b, HHP_F_ERRNO, err);
	hhp_add_str(&b, HHP_F_TEXT, err ? strerror(err) : "ok");
	ctl_send(&b);
}

static void reply_data(uint32_t id, int err, uint32_t flags, size_t len)
{
	struct hhp_builder b;

	reply_begin(&b, id);
	hhp_add_u32(&b, HHP_F_ERRNO, err);
	hhp_add_u32(&b, HHP_F_FLAGS, flags);
	hhp_add_bytes(&b, HHP_F_DATA, data_buf, len);
	ctl_send(&b);
}

/*
 * Log port output.  A frame waits in log_buf until the port has taken all
 * of it, and no kmsg record is read meanwhile: nothing is dropped, records
 * wait in the kernel's buffer (an overrun there shows up as LOST).  The
 * main loop retries on POLLOUT, so a slow host never holds up requests.
 */

/* Returns true when nothing is left pending; waits up to timeout_ms. */
static bool log_push(int timeout_ms)
{
	size_t before = ag.log_off;
	int err = write_some(ag.log_fd, log_buf, ag.log_len, &ag.log_off,
			     timeout_ms);

	if (ag.log_off != before)
		ag.log_progress = now_ms();
	if (err) {
		if (ag.log_off == before)	/* not POLLOUT after all */
			ag.log_resume = now_ms() + BACKOFF_MS;
		return false;
	}
	ag.log_len = 0;
	ag.log_off = 0;
	if (ag.log_stalled)
		agent_log("log port: host reading again");
	ag.log_stalled = false;
	return true;
}

static void log_queue(size_t len)
{
	ag.log_len = len;
	ag.log_off = 0;
	ag.log_progress = now_ms();
	log_push(0);
}

static void log_output(short revents)
{
	if (revents & POLLOUT)
		log_push(0);
	else				/* POLLHUP: no host */
		ag.log_resume = now_ms() + BACKOFF_MS;
}

/* Says so once when the host has not read the log port for 5 s. */
static void log_check(int64_t now, int *timeout)
{
	int64_t stall_at = ag.log_progress + IO_TIMEOUT_MS;

	if (!ag.log_len || ag.log_stalled)
		return;
	if (now < stall_at) {
		set_timeout(timeout, stall_at - now);
		return;
	}
	ag.log_stalled = true;
	agent_log("log port: host not reading for %d s, holding kmsg",
		  IO_TIMEOUT_MS / 1000);
}

/* /dev/kmsg records */

/* Parses decimal digits in [p, end); returns the end of them or NULL. */
static const char *parse_u64(const char *p, const char *end, uint64_t *v)
{
	const char *start = p;

	*v = 0;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return NULL;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return p == start ? NULL : p;
}

/* "prefix,seq,ts_usec,flags[,...];text" */
static bool parse_record(const char *line, size_t len, struct kmsg_rec *r)
{
	const char *semi = memchr(line, ';', len);
	const char *p;
	uint64_t prefix;

	if (!semi)
		return false;
	p = parse_u64(line, semi, &prefix);
	if (!p || *p != ',' || prefix > UINT32_MAX)
		return false;
	p = parse_u64(p + 1, semi, &r->seq);
	if (!p || *p != ',')
		return false;
	p = parse_u64(p + 1, semi, &r->ts);
	if (!p || (*p != ',' && p != semi))
		return false;
	r->level = (uint32_t)prefix;
	r->text = semi + 1;
	r->len = line + len - r->text;
	return true;
}

static size_t build_lost(uint8_t *buf, size_t cap, uint64_t count)
{
	struct hhp_builder b;

	hhp_frame_begin(&b, buf, cap, HHP_MSG_LOST, 0);
	hhp_add_u64(&b, HHP_F_COUNT, count);
	return hhp_frame_finish(&b);
}

static size_t build_kmsg(uint8_t *buf, size_t cap, const struct kmsg_rec *r)
{
	struct hhp_builder b;

	hhp_frame_begin(&b, buf, cap, HHP_MSG_KMSG, 0);
	hhp_add_u64(&b, HHP_F_SEQ, r->seq);
	hhp_add_u64(&b, HHP_F_TS_USEC, r->ts);
	hhp_add_u32(&b, HHP_F_LEVEL, r->level);
	hhp_add_bytes(&b, HHP_F_TEXT, r->text, r->len);
	return hhp_frame_finish(&b);
}

/* Queues one record (after a LOST frame for any gap) and sends it. */
static void kmsg_emit(const char *line, size_t len)
{
	struct kmsg_rec r = { .text = line, .len = len };
	size_t n = 0;

	if (parse_record(line, len, &r)) {
		if (r.seq > ag.next_seq)
			ag.lost += r.seq - ag.next_seq;
		ag.next_seq = r.seq + 1;
	}
	if (ag.lost) {
		n = build_lost(log_buf, sizeof(log_buf), ag.lost);
		ag.lost = 0;
	}
	log_queue(n + build_kmsg(log_buf + n, sizeof(log_buf) - n, &r));
}

/*
 * Reads more of kmsg.  /dev/kmsg gives one record per read(); a test file
 * gives any chunk, so complete lines are taken out of kmsg_buf.  Returns
 * false when there is nothing more for now.
 */
static bool kmsg_fill(void)
{
	ssize_t n;

	memmove(kmsg_buf, kmsg_buf + ag.kmsg_pos, ag.kmsg_len - ag.kmsg_pos);
	ag.kmsg_len -= ag.kmsg_pos;
	ag.kmsg_pos = 0;
	if (ag.kmsg_len == KMSG_BUF) {	/* a line longer than the buffer */
		kmsg_buf[ag.kmsg_len++] = '\n';
		return true;
	}
	n = read(ag.kmsg_fd, kmsg_buf + ag.kmsg_len, KMSG_BUF - ag.kmsg_len);
	if (n > 0) {
		ag.kmsg_len += n;
		return true;
	}
	if (n < 0 && (errno == EPIPE || errno == EINTR))
		return true;	/* overwritten: the seq gap tells how many */
	if (n < 0 && errno != EAGAIN)
		agent_log("reading kmsg: %s", strerror(errno));
	if (n == 0 || errno != EAGAIN)
		ag.kmsg_resume = now_ms() + BACKOFF_MS;
	return false;
}

/* Takes the next record line; continuation lines " KEY=value" are skipped */
static bool kmsg_next_line(const char **line, size_t *len)
{
	for (;;) {
		char *p = kmsg_buf + ag.kmsg_pos;
		char *nl = memchr(p, '\n', ag.kmsg_len - ag.kmsg_pos);

		if (!nl) {
			if (!kmsg_fill())
				return false;
			continue;
		}
		ag.kmsg_pos += nl - p + 1;
		if (nl != p && *p != ' ') {
			*line = p;
			*len = nl - p;
			return true;
		}
	}
}

/* Streams up to max records; returns false when kmsg has no more now. */
static bool kmsg_pump(int max)
{
	const char *line;
	size_t len;

	for (; max > 0; max--) {
		if (ag.log_len)
			return true;
		if (!kmsg_next_line(&line, &len))
			return false;
		kmsg_emit(line, len);
	}
	return true;
}

/* Streams all that kmsg holds now, unless the log port is stuck for 5 s */
static void kmsg_flush(void)
{
	if (!ag.streaming || ag.kmsg_fd < 0)
		return;
	for (;;) {
		if (ag.log_len && !log_push(IO_TIMEOUT_MS))
			return;
		if (!kmsg_pump(KMSG_BATCH))
			return;
	}
}

/* Child processes */

static void drain_signalfd(void)
{
	struct signalfd_siginfo si;

	while (read(ag.sig_fd, &si, sizeof(si)) == sizeof(si))
		;
}

/* As PID 1 every orphan is ours: reap them all, keep the job's status. */
static void reap_children(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (job.active && pid == job.pid) {
			job.exited = true;
			job.status = status;
		}
	}
}

/* Reads into data_buf, or to nowhere once that is full. */
static ssize_t job_read_chunk(void)
{
	static uint8_t discard[4096];
	ssize_t n;

	if (job.len == sizeof(data_buf)) {
		n = read(job.pipe_fd, discard, sizeof(discard));
		if (n > 0)
			job.flags |= HHP_FLAG_TRUNCATED;
		return n;
	}
	n = read(job.pipe_fd, data_buf + job.len, sizeof(data_buf) - job.len);
	if (n > 0)
		job.len += n;
	return n;
}

static void job_read_pipe(int max_reads)
{
	ssize_t n;

	while (job.pipe_fd >= 0 && max_reads-- > 0) {
		n = job_read_chunk();
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close(job.pipe_fd);	/* EOF, or an error */
		job.pipe_fd = -1;
	}
}

static void __attribute__((noreturn)) child_exec(char **argv, int out)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigset_t none;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	else
		close(STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "hh-agent: exec %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

/* Returns 0 with the job running, or an errno. */
static int job_start(uint32_t id, char **argv, uint32_t timeout_ms)
{
	int p[2];
	pid_t pid;
	int err;

	if (pipe2(p, O_CLOEXEC) < 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0)
		child_exec(argv, p[1]);
	setpgid(pid, pid);	/* also done by the child: no race either way */
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	job = (struct job){ .active = true, .kind = JOB_EXEC, .id = id,
			    .pid = pid, .pipe_fd = p[0] };
	if (timeout_ms)
		job.deadline = now_ms() + timeout_ms;
	return 0;
}

/* Returns 0 with the writer running, or -1 if fork() failed. */
static int job_start_write(uint32_t id, const char *path, const void *data,
			   size_t len)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(write_once(path, data, len));
	job = (struct job){ .active = true, .kind = JOB_WRITE, .id = id,
			    .pid = pid, .pipe_fd = -1 };
	return 0;
}

static void exec_reply(const struct job *done, const char *note)
{
	struct hhp_builder b;

	reply_begin(&b, done->id);
	hhp_add_u32(&b, HHP_F_STATUS, (uint32_t)done->status);
	hhp_add_u32(&b, HHP_F_FLAGS, done->flags);
	hhp_add_bytes(&b, HHP_F_DATA, data_buf, done->len);
	hhp_add_u32(&b, HHP_F_ERRNO, 0);
	if (note)
		hhp_add_str(&b, HHP_F_TEXT, note);
	ctl_send(&b);
}

/* The writer child exits with the errno; a signal reads as EINTR. */
static void write_reply(const struct job *done)
{
	int st = done->status;

	reply_errno(done->id, WIFEXITED(st) ? WEXITSTATUS(st) : EINTR);
}

static void job_finish(const char *note)
{
	struct job done = job;

	if (job.pipe_fd >= 0)
		close(job.pipe_fd);
	job = (struct job){ .pipe_fd = -1 };
	if (done.kind == JOB_WRITE)
		write_reply(&done);
	else
		exec_reply(&done, note);
	ctl_process();	/* requests that came in behind this one */
}

static void job_kill(void)
{
	kill(-job.pid, SIGKILL);
	kill(job.pid, SIGKILL);
	job.killed = true;
	job.flags |= HHP_FLAG_TIMED_OUT;
	job.kill_deadline = now_ms() + KILL_GRACE_MS;
}

static void job_check(void)
{
	int64_t now = now_ms();

	if (!job.active)
		return;
	if (job.exited) {
		/* whatever it wrote is in the pipe; later writers are lost */
		job_read_pipe(PIPE_DRAIN);
		job_finish(NULL);
	} else if (job.killed && now >= job.kill_deadline) {
		agent_log("pid %d survived SIGKILL: reply sent without it",
			  job.pid);
		job.status = SIGKILL;
		job_finish("the command did not exit after SIGKILL");
	} else if (!job.killed && job.deadline && now >= job.deadline) {
		job_kill();
	}
}

static void job_timeout(int64_t now, int *timeout)
{
	if (!job.active)
		return;
	if (job.killed)
		set_timeout(timeout, job.kill_deadline - now);
	else if (job.deadline)
		set_timeout(timeout, job.deadline - now);
	if (ag.sig_fd < 0)	/* no SIGCHLD wake-ups: poll for the exit */
		set_timeout(timeout, PORT_RETRY_MS);
}

/* Request handlers */

static const struct handler *find_handler(uint16_t type);

static const char *req_name(const struct request *rq)
{
	return find_handler(rq->type)->name;
}

/* The need_* helpers answer BAD_REQUEST themselves and return -1. */
static int need_field(const struct request *rq, uint16_t tag,
		      const char *name, struct hhp_field *f)
{
	if (hhp_find_field(rq->payload, rq->len, tag, f) == 1)
		return 0;
	bad_request(rq->id, "%s: missing %s field", req_name(rq), name);
	return -1;
}

static int need_u32(const struct request *rq, uint16_t tag, const char *name,
		    uint32_t *v)
{
	if (!hhp_find_u32(rq->payload, rq->len, tag, v))
		return 0;
	bad_request(rq->id, "%s: missing or malformed %s field (u32)",
		    req_name(rq), name);
	return -1;
}

static int need_u64(const struct request *rq, uint16_t tag, const char *name,
		    uint64_t *v)
{
	if (!hhp_find_u64(rq->payload, rq->len, tag, v))
		return 0;
	bad_request(rq->id, "%s: missing or malformed %s field (u64)",
		    req_name(rq), name);
	return -1;
}

/* Returns 0 with path a C string, or an errno. */
static int copy_path(const struct hhp_field *f, char *path)
{
	if (f->length >= PATH_MAX)
		return ENAMETOOLONG;
	if (memchr(f->value, '\0', f->length))
		return EINVAL;
	memcpy(path, f->value, f->length);
	path[f->length] = '\0';
	return 0;
}

static void do_sync(const struct request *rq)
{
	struct hhp_builder b;
	uint64_t nonce;

	if (need_u64(rq, HHP_F_NONCE, "NONCE", &nonce))
		return;
	reply_begin(&b, rq->id);
	hhp_add_u64(&b, HHP_F_NONCE, nonce);
	hhp_add_u32(&b, HHP_F_VERSION, HHP_VERSION);
	hhp_add_str(&b, HHP_F_TEXT, AGENT_VERSION);
	ctl_send(&b);
	ag.streaming = true;
	ag.kmsg_resume = 0;
	ag.log_resume = 0;
}

static bool is_proc_self(const char *path)
{
	return !strncmp(path, "/proc/self/", 11) ||
	       !strncmp(path, "/proc/thread-self/", 18);
}

static void do_write(const struct request *rq)
{
	struct hhp_field pf, df;
	char path[PATH_MAX];
	int err;

	if (need_field(rq, HHP_F_PATH, "PATH", &pf) ||
	    need_field(rq, HHP_F_DATA, "DATA", &df))
		return;
	err = copy_path(&pf, path);
	if (!err && !is_proc_self(path) &&
	    !job_start_write(rq->id, path, df.value, df.length))
		return;
	if (!err)	/* fork() failed, or /proc/self must mean us */
		err = write_once(path, df.value, df.length);
	reply_errno(rq->id, err);
}

/* Reads a file into data_buf; returns 0 or an errno. */
static int read_file(const char *path, size_t *len, uint32_t *flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;
	char extra;

	if (fd < 0)
		return errno;
	while (*len < sizeof(data_buf)) {
		n = read(fd, data_buf + *len, sizeof(data_buf) - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += n;
	}
	if (n >= 0 && *len == sizeof(data_buf) && read(fd, &extra, 1) > 0)
		*flags |= HHP_FLAG_TRUNCATED;
	n = n < 0 ? errno : 0;
	close(fd);
	return (int)n;
}

static void do_read(const struct request *rq)
{
	struct hhp_field pf;
	char path[PATH_MAX];
	uint32_t flags = 0;
	size_t len = 0;
	int err;

	if (need_field(rq, HHP_F_PATH, "PATH", &pf))
		return;
	err = copy_path(&pf, path);
	if (!err)
		err = read_file(path, &len, &flags);
	reply_data(rq->id, err, flags, len);
}

/* Does the path exist (as test -e says, without a fork)? */
static void do_stat(const struct request *rq)
{
	struct hhp_field pf;
	char path[PATH_MAX];
	struct stat st;
	int err;

	if (need_field(rq, HHP_F_PATH, "PATH", &pf))
		return;
	err = copy_path(&pf, path);
	if (!err && stat(path, &st) < 0)
		err = errno;
	reply_errno(rq->id, err);
}

static void exec_fail(uint32_t id, int err)
{
	struct hhp_builder b;
	const char *msg = strerror(err);

	reply_begin(&b, id);
	hhp_add_u32(&b, HHP_F_STATUS, 0);
	hhp_add_u32(&b, HHP_F_FLAGS, 0);
	hhp_add_bytes(&b, HHP_F_DATA, msg, strlen(msg));
	hhp_add_u32(&b, HHP_F_ERRNO, err);
	ctl_send(&b);
}

/* Fills argv from the ARG fields: 0, an errno, or -1 (no ARG at all). */
static int collect_args(const struct request *rq, char **argv)
{
	struct hhp_field f;
	size_t off = 0, used = 0;
	int argc = 0;

	while (hhp_next_field(rq->payload, rq->len, &off, &f) == 1) {
		if (f.tag != HHP_F_ARG)
			continue;
		if (argc == HHP_MAX_ARGS)
			return E2BIG;
		if (memchr(f.value, '\0', f.length))
			return EINVAL;
		argv[argc++] = memcpy(arg_buf + used, f.value, f.length);
		used += f.length;
		arg_buf[used++] = '\0';
	}
	argv[argc] = NULL;
	return argc ? 0 : -1;
}

static void do_exec(const struct request *rq)
{
	static char *argv[HHP_MAX_ARGS + 1];
	uint32_t timeout;
	int err;

	if (need_u32(rq, HHP_F_TIMEOUT_MS, "TIMEOUT_MS", &timeout))
		return;
	err = collect_args(rq, argv);
	if (err < 0) {
		bad_request(rq->id, "EXEC: missing ARG field");
		return;
	}
	if (!err)
		err = job_start(rq->id, argv, timeout);
	if (err)
		exec_fail(rq->id, err);
}

static int write_mark(const uint8_t *text, size_t len)
{
	static const char prefix[] = "hh-mark: ";
	char *line = (char *)data_buf;
	size_t n = sizeof(prefix) - 1;
	int fd = ag.pid1 || ag.system ? ag.kmsg_wfd : STDERR_FILENO;
	ssize_t done;

	if (fd < 0)
		return ENODEV;
	if (n + len + 1 > sizeof(data_buf))
		return E2BIG;
	memcpy(line, prefix, n);
	memcpy(line + n, text, len);
	n += len;
	line[n++] = '\n';
	done = write(fd, line, n);
	if (done < 0)
		return errno;
	return (size_t)done == n ? 0 : EIO;
}

static void do_mark(const struct request *rq)
{
	struct hhp_field tf;

	if (need_field(rq, HHP_F_TEXT, "TEXT", &tf))
		return;
	reply_errno(rq->id, write_mark(tf.value, tf.length));
}

/* STATE */

static void out_line(struct text_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends a line, or stops the output for good when it does not fit. */
static void out_line(struct text_out *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (o->truncated)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (o->len + n > o->cap) {
		o->truncated = true;
		return;
	}
	memcpy(o->buf + o->len, line, n);
	o->len += n;
}

static bool idset_has(const struct idset *s, unsigned long id)
{
	return id < MAX_IDS && (s->bits[id / 64] >> (id % 64) & 1);
}

/* Parses a list like "0-2,4"; ids past MAX_IDS are left out. */
static void idset_parse(struct idset *s, const char *p)
{
	unsigned long a, b;
	char *end;

	memset(s, 0, sizeof(*s));
	while (*p) {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-' && isdigit((unsigned char)end[1]))
			b = strtoul(end + 1, &end, 10);
		for (; a <= b && a < MAX_IDS; a++)
			s->bits[a / 64] |= 1ull << (a % 64);
		p = end;
	}
}

/* A missing file reads as an empty set. */
static void idset_read(struct idset *s, const char *path)
{
	if (read_text(path, text_buf, sizeof(text_buf)) < 0)
		text_buf[0] = '\0';
	idset_parse(s, text_buf);
}

/* The node of a cpuN or memoryN directory: its nodeN link, or -1. */
static int node_of(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int node = -1;
	long n;
	char *end;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "node", 4) ||
		    !isdigit((unsigned char)e->d_name[4]))
			continue;
		n = strtol(e->d_name + 4, &end, 10);
		if (!*end && n <= INT_MAX && (node < 0 || n < node))
			node = (int)n;
	}
	closedir(d);
	return node;
}

static void state_nodes(struct text_out *o)
{
	static struct idset possible, online, memory, cpu;

	idset_read(&possible, SYS_NODE "/possible");
	idset_read(&online, SYS_NODE "/online");
	idset_read(&memory, SYS_NODE "/has_memory");
	idset_read(&cpu, SYS_NODE "/has_cpu");
	for (unsigned long id = 0; id < MAX_IDS; id++) {
		if (!idset_has(&possible, id))
			continue;
		out_line(o, "node %lu possible=1 online=%d memory=%d cpu=%d",
			 id, idset_has(&online, id), idset_has(&memory, id),
			 idset_has(&cpu, id));
	}
}

static void state_cpus(struct text_out *o)
{
	static struct idset possible, present, online;
	char dir[64];

	idset_read(&possible, SYS_CPU "/possible");
	idset_read(&present, SYS_CPU "/present");
	idset_read(&online, SYS_CPU "/online");
	for (unsigned long id = 0; id < MAX_IDS && !o->truncated; id++) {
		if (!idset_has(&possible, id))
			continue;
		snprintf(dir, sizeof(dir), SYS_CPU "/cpu%lu", id);
		out_line(o, "cpu %lu possible=1 present=%d online=%d node=%d",
			 id, idset_has(&present, id), idset_has(&online, id),
			 node_of(dir));
	}
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a;
	unsigned int y = *(const unsigned int *)b;

	return (x > y) - (x < y);
}

/* Lists the memoryN ids, sorted; sets *truncated past MAX_BLOCKS. */
static size_t list_blocks(bool *truncated)
{
	DIR *d = opendir(SYS_MEMORY);
	struct dirent *e;
	unsigned long id;
	size_t count = 0;
	char *end;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "memory", 6) ||
		    !isdigit((unsigned char)e->d_name[6]))
			continue;
		id = strtoul(e->d_name + 6, &end, 10);
		if (*end || id > UINT_MAX)
			continue;
		if (count == MAX_BLOCKS) {
			*truncated = true;
			break;
		}
		block_ids[count++] = (unsigned int)id;
	}
	closedir(d);
	qsort(block_ids, count, sizeof(block_ids[0]), cmp_uint);
	return count;
}

/* Reads dir/name into buf as one word; spaces become commas. */
static void read_word(const char *dir, const char *name, char *buf,
		      size_t cap)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_text(path, buf, cap) <= 0) {
		snprintf(buf, cap, "unknown");
		return;
	}
	for (char *p = buf; *p; p++)
		if (isspace((unsigned char)*p))
			*p = ',';
}

static void state_blocks(struct text_out *o)
{
	char dir[64], state[64], zones[128];
	size_t count = list_blocks(&o->truncated);

	for (size_t i = 0; i < count && !o->truncated; i++) {
		snprintf(dir, sizeof(dir), SYS_MEMORY "/memory%u",
			 block_ids[i]);
		read_word(dir, "state", state, sizeof(state));
		read_word(dir, "valid_zones", zones, sizeof(zones));
		out_line(o, "block %u state=%s node=%d zones=%s", block_ids[i],
			 state, node_of(dir), zones);
	}
}

static void state_block_size(struct text_out *o)
{
	char buf[64];

	if (read_text(SYS_MEMORY "/block_size_bytes", buf, sizeof(buf)) > 0)
		out_line(o, "block_size %llu", strtoull(buf, NULL, 16));
}

static void do_state(const struct request *rq)
{
	struct text_out o = { .buf = (char *)data_buf,
			      .cap = sizeof(data_buf) };

	state_nodes(&o);
	state_cpus(&o);
	state_blocks(&o);
	state_block_size(&o);
	reply_data(rq->id, 0, o.truncated ? HHP_FLAG_TRUNCATED : 0, o.len);
}

static void do_settime(const struct request *rq)
{
	struct timespec ts;
	uint64_t ns;

	if (need_u64(rq, HHP_F_TIME_NS, "TIME_NS", &ns))
		return;
	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	reply_errno(rq->id, clock_settime(CLOCK_REALTIME, &ts) ? errno : 0);
}

/* Returns only if the kernel refused. */
static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	agent_log("power off failed: %s", strerror(errno));
}

static void do_poweroff(const struct request *rq)
{
	reply_errno(rq->id, 0);
	if (ag.pid1 || ag.system)
		agent_log(ag.pid1 ? "powering off" :
			  "exiting: the unit's SuccessAction powers off");
	kmsg_flush();
	if (!ag.pid1)
		exit(0);
	power_off();
}

static const struct handler handlers[] = {
	[HHP_MSG_SYNC] = { "SYNC", do_sync },
	[HHP_MSG_WRITE] = { "WRITE", do_write },
	[HHP_MSG_READ] = { "READ", do_read },
	[HHP_MSG_EXEC] = { "EXEC", do_exec },
	[HHP_MSG_MARK] = { "MARK", do_mark },
	[HHP_MSG_STATE] = { "STATE", do_state },
	[HHP_MSG_POWEROFF] = { "POWEROFF", do_poweroff },
	[HHP_MSG_SETTIME] = { "SETTIME", do_settime },
	[HHP_MSG_STAT] = { "STAT", do_stat },
};

static const struct handler *find_handler(uint16_t type)
{
	if (type >= sizeof(handlers) / sizeof(handlers[0]) ||
	    !handlers[type].fn)
		return NULL;
	return &handlers[type];
}

/* Control port input */

static void handle_request(const struct hhp_header *h, const uint8_t *payload)
{
	struct request rq = { h->id, h->type, payload, h->length };
	const struct handler *hd = find_handler(h->type);

	if (hd)
		hd->fn(&rq);
	else if (h->type >= HHP_MSG_REPLY && h->type <= HHP_MSG_BAD_REQUEST)
		bad_request(h->id, "message type %u is not a request",
			    h->type);
	else
		bad_request(h->id, "unknown request type %u", h->type);
}

static void ctl_reset(void)
{
	hhp_reader_init(&ag.reader, rx_buf, sizeof(rx_buf));
}

/* Serves the buffered requests; stops while an EXEC runs. */
static void ctl_process(void)
{
	struct hhp_header h;
	const uint8_t *payload;
	int rc;

	while (!job.active) {
		rc = hhp_reader_next(&ag.reader, &h, &payload);
		if (rc == 0)
			return;
		if (rc < 0) {
			agent_log("control port: %s", ag.reader.error);
			bad_request(0, "%s", ag.reader.error);
			ctl_reset();
			return;
		}
		handle_request(&h, payload);
	}
}

/* No host on the port: reads give EOF and poll POLLHUP until one comes. */
static void ctl_disconnected(int err)
{
	if (ag.connected)
		agent_log("control port: host went away (%s)",
			  err ? strerror(err) : "EOF");
	ag.connected = false;
	ctl_reset();
	ag.ctl_resume = now_ms() + BACKOFF_MS;
}

static void ctl_input(short revents)
{
	uint8_t *where;
	size_t space = hhp_reader_space(&ag.reader, &where);
	ssize_t n;

	if (!space) {
		bad_request(0, "request buffer full");
		ctl_reset();
		return;
	}
	n = read(ag.ctl_fd, where, space);
	if (n > 0) {
		ag.connected = true;
		hhp_reader_commit(&ag.reader, n);
		ctl_process();
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		ctl_disconnected(n ? errno : 0);
	} else if (revents & (POLLHUP | POLLERR)) {
		ctl_disconnected(0);
	}
}

/* Main loop */

enum { P_CTL, P_LOG, P_KMSG, P_PIPE, P_SIG, P_COUNT };

/* Polls fd for events, unless it is backed off until resume. */
static void want_fd(struct pollfd *p, int fd, short events, int64_t resume,
		    int64_t now, int *timeout)
{
	p->fd = -1;
	p->events = events;
	p->revents = 0;
	if (fd < 0)
		return;
	if (now < resume)
		set_timeout(timeout, resume - now);
	else
		p->fd = fd;
}

static int poll_setup(struct pollfd *p)
{
	int64_t now = now_ms();
	int timeout = -1;
	bool kmsg_on = ag.streaming && !ag.log_len;

	want_fd(&p[P_CTL], job.active ? -1 : ag.ctl_fd, POLLIN,
		ag.ctl_resume, now, &timeout);
	want_fd(&p[P_LOG], ag.log_len ? ag.log_fd : -1, POLLOUT,
		ag.log_resume, now, &timeout);
	want_fd(&p[P_KMSG], kmsg_on ? ag.kmsg_fd : -1, POLLIN,
		ag.kmsg_resume, now, &timeout);
	want_fd(&p[P_PIPE], job.active ? job.pipe_fd : -1, POLLIN, 0, now,
		&timeout);
	want_fd(&p[P_SIG], ag.sig_fd, POLLIN, 0, now, &timeout);
	job_timeout(now, &timeout);
	log_check(now, &timeout);
	return timeout;
}

static void __attribute__((noreturn)) main_loop(void)
{
	struct pollfd p[P_COUNT];

	for (;;) {
		if (poll(p, P_COUNT, poll_setup(p)) < 0 && errno != EINTR) {
			agent_log("poll: %s", strerror(errno));
			sleep_ms(BACKOFF_MS);
			continue;
		}
		if (p[P_SIG].revents)
			drain_signalfd();
		reap_children();
		if (p[P_PIPE].revents)
			job_read_pipe(PIPE_BATCH);
		job_check();
		if (p[P_LOG].revents)
			log_output(p[P_LOG].revents);
		if (p[P_KMSG].revents)
			kmsg_pump(KMSG_BATCH);
		if (p[P_CTL].revents)
			ctl_input(p[P_CTL].revents);
	}
}

/* Start-up */

static void mount_fs(const char *type, const char *dir, const char *opts)
{
	mkdir(dir, 0755);
	if (mount(type, dir, type, 0, opts) < 0 && errno != EBUSY)
		agent_log("mount %s on %s: %s", type, dir, strerror(errno));
}

/* A closed 0, 1 or 2 would be reused by our own descriptors. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/console", O_RDWR | O_NOCTTY) < 0)
			open("/dev/null", O_RDWR);
	}
}

/* User writes to /dev/kmsg are rate limited (10 per 5 s) by default. */
static void enable_devkmsg(void)
{
	static const char path[] = "/proc/sys/kernel/printk_devkmsg";
	char buf[32];

	if (read_text(path, buf, sizeof(buf)) >= 0 && !strcmp(buf, "on"))
		return;
	if (write_once(path, "on\n", 3))
		agent_log("cannot set %s to on: MARKs may be rate limited",
			  path);
}

static void setup_pid1(void)
{
	mount_fs("devtmpfs", "/dev", "mode=0755");
	ensure_stdio();
	ag.kmsg_wfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	agent_log("started");
	mount_fs("proc", "/proc", NULL);
	mount_fs("sysfs", "/sys", NULL);
	mount_fs("debugfs", "/sys/kernel/debug", NULL);
	mount_fs("tmpfs", "/tmp", "mode=1777");
	if (setenv("PATH", AGENT_PATH, 1) < 0)
		agent_log("setenv PATH: %s", strerror(errno));
	enable_devkmsg();
}

/* A service of systemd: the file systems are there already. */
static void setup_system(void)
{
	ag.kmsg_wfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	agent_log("started as a service");
	if (setenv("PATH", AGENT_PATH, 1) < 0)
		agent_log("setenv PATH: %s", strerror(errno));
	enable_devkmsg();
}

static int usage(void)
{
	fprintf(stderr, "usage (not as PID 1): hh-agent [--system] "
			"[--ports CTRL LOG] [--kmsg PATH]\n");
	return 2;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ports") && i + 2 < argc) {
			ag.ctl_path = argv[++i];
			ag.log_path = argv[++i];
		} else if (!strcmp(argv[i], "--system")) {
			ag.system = true;
		} else if (!strcmp(argv[i], "--kmsg") && i + 1 < argc) {
			ag.kmsg_path = argv[++i];
		} else {
			return usage();
		}
	}
	return 0;
}

static void setup_signals(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ag.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ag.sig_fd < 0)
		agent_log("signalfd: %s", strerror(errno));
}

static void open_kmsg(void)
{
	const char *path = ag.kmsg_path ? ag.kmsg_path : "/dev/kmsg";

	ag.kmsg_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (ag.kmsg_fd < 0)
		agent_log("open %s: %s: no kmsg streaming", path,
			  strerror(errno));
}

/* Finds the /dev node of the virtio port with this name. */
static bool find_port(const char *name, char *dev, size_t cap)
{
	DIR *d = opendir(SYS_PORTS);
	struct dirent *e;
	char path[320], buf[128];
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYS_PORTS "/%s/name", e->d_name);
		if (read_text(path, buf, sizeof(buf)) < 0 || strcmp(buf, name))
			continue;
		snprintf(dev, cap, "/dev/%s", e->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

static int open_port(const char *path)
{
	return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/* Opens a port by name once it shows up; keeps the fd for good. */
static void try_port(int *fd, const char *name)
{
	char dev[300];

	if (*fd < 0 && find_port(name, dev, sizeof(dev)))
		*fd = open_port(dev);
}

static bool open_ports(void)
{
	int64_t deadline = now_ms() + PORT_WAIT_MS;

	if (ag.ctl_path) {
		ag.ctl_fd = open_port(ag.ctl_path);
		ag.log_fd = open_port(ag.log_path);
		return ag.ctl_fd >= 0 && ag.log_fd >= 0;
	}
	for (;;) {
		try_port(&ag.ctl_fd, HHP_PORT_CONTROL);
		try_port(&ag.log_fd, HHP_PORT_LOG);
		if (ag.ctl_fd >= 0 && ag.log_fd >= 0)
			return true;
		if (now_ms() >= deadline)
			return false;
		sleep_ms(PORT_RETRY_MS);
	}
}

static void __attribute__((noreturn)) no_ports(void)
{
	static const char msg[] =
		"hh-agent: FATAL: virtio-serial ports " HHP_PORT_CONTROL
		" and " HHP_PORT_LOG " not found (or not openable) within "
		"10 s; powering off\n";
	int fd;

	if (!ag.pid1) {
		write_quiet(ag.system ? ag.kmsg_wfd : STDERR_FILENO, msg,
			    sizeof(msg) - 1);
		exit(1);	/* --system: the unit's FailureAction */
	}
	write_quiet(ag.kmsg_wfd, msg, sizeof(msg) - 1);
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	write_quiet(fd, msg, sizeof(msg) - 1);
	power_off();
	for (;;)
		pause();	/* PID 1 must not exit */
}

/*
 * hh-agent --workload MIB NODE SECONDS (torture's memory workload, see
 * docs/torture.md): goes to the background at once, then holds MIB MiB of
 * anonymous memory placed on NODE with mbind(2) and writes every page of
 * it ten times a second for SECONDS, so that offlining a block has to
 * migrate pages in use.  MPOL_PREFERRED, not MPOL_BIND: a task bound to a
 * node whose only memory goes offline is rightly OOM-killed
 * (CONSTRAINT_MEMORY_POLICY), which the first torture run found; if NODE
 * has no memory the policy is refused and the memory comes from anywhere.
 * A raw syscall: the agent has no libnuma.
 */
#define WL_MPOL_PREFERRED 1

static int workload(int argc, char **argv)
{
	unsigned long mib, node, secs, mask[2] = { 0, 0 };
	long page = sysconf(_SC_PAGESIZE);
	struct timespec tick = { 0, 100000000 };
	unsigned char *mem;
	size_t len;
	pid_t pid;
	int fd;

	if (argc != 5)
		return 2;
	mib = strtoul(argv[2], NULL, 10);
	node = strtoul(argv[3], NULL, 10);
	secs = strtoul(argv[4], NULL, 10);
	if (!mib || mib > 1024 || node >= 8 * sizeof(mask) || secs > 3600)
		return 2;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0)
		return 0;	/* the step is done; the child works on */
	setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	len = mib << 20;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(1);
	mask[node / (8 * sizeof(long))] = 1UL << (node % (8 * sizeof(long)));
	(void)syscall(SYS_mbind, mem, len, WL_MPOL_PREFERRED, mask,
		      8 * sizeof(mask), 0);
	for (unsigned long t = 0; t < secs * 10; t++) {
		for (size_t off = 0; off < len; off += (size_t)page)
			mem[off] = (unsigned char)(t + off / (size_t)page);
		nanosleep(&tick, NULL);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--workload"))
		return workload(argc, argv);
	ag.pid1 = getpid() == 1;
	if (ag.pid1)
		setup_pid1();
	else if (parse_args(argc, argv))
		return 2;
	if (ag.system)
		setup_system();
	setup_signals();
	open_kmsg();
	if (!open_ports())
		no_ports();
	ctl_reset();
	agent_log("ready");
#ifdef HH_AGENT_FAULT_HOOK
	/* Only tests/hh-agent-faulty.c defines it: the production agent has
	 * no fault modes. */
	HH_AGENT_FAULT_HOOK();
#endif
	main_loop();
}
