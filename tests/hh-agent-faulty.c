// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A faulty agent for the fault tests (tests/fault-guest.sh), never
 * shipped: hh-agent.c itself, plus one fault picked by the guest's kernel
 * command line (a test variant's cmdline=), right after the agent is
 * ready:
 *
 *   hh.fault=die:N       the agent (PID 1) exits N seconds later
 *   hh.fault=garbage     answers the first request with a 1 MiB text line,
 *                        then binary junk, then nothing
 *   hh.fault=half        answers with half a frame header, then nothing
 *   hh.fault=lie         answers with a frame whose field claims more
 *                        bytes than the frame holds, then nothing
 *   hh.fault=flood       serves requests while a child floods the kernel
 *                        log through /dev/kmsg as fast as it can
 *
 * Without hh.fault= it is the normal agent.
 */
#define HH_AGENT_FAULT_HOOK fault_hook
static void fault_hook(void);
#include "hh-agent.c"

#include <pthread.h>

/* A thread, not alarm(): the agent's process dies whatever its signals. */
static void *die_later(void *arg)
{
	sleep((unsigned int)(uintptr_t)arg);
	agent_log("fault: exiting now");
	_exit(7);
}

/* Waits for the first request (the harness's SYNC) without answering. */
static void wait_request(void)
{
	struct pollfd p = { .fd = ag.ctl_fd, .events = POLLIN };
	uint8_t buf[256];

	while (poll(&p, 1, -1) < 0 || !(p.revents & POLLIN) ||
	       read(ag.ctl_fd, buf, sizeof(buf)) <= 0)
		sleep_ms(20);
}

static void send_all(const void *buf, size_t len)
{
	size_t off = 0;

	write_some(ag.ctl_fd, buf, len, &off, 60000);
}

static void __attribute__((noreturn)) silence(void)
{
	agent_log("fault: silent from now on");
	for (;;)
		pause();
}

static void flood(void)
{
	char line[200];
	unsigned long n = 0;

	if (fork() != 0)
		return;
	for (;;) {
		int len = snprintf(line, sizeof(line),
				   "hh-fault flood %lu: the quick brown fox "
				   "jumps over the lazy dog\n", n++);

		write_quiet(ag.kmsg_wfd, line, len);
	}
}

static void fault_hook(void)
{
	char cmdline[4096], *f;
	uint8_t frame[64];

	if (read_text("/proc/cmdline", cmdline, sizeof(cmdline)) < 0 ||
	    !(f = strstr(cmdline, "hh.fault=")))
		return;
	f += strlen("hh.fault=");
	agent_log("fault: %.*s", (int)strcspn(f, " "), f);
	if (!strncmp(f, "die:", 4)) {
		pthread_t t;

		pthread_create(&t, NULL, die_later,
			       (void *)(uintptr_t)atoi(f + 4));
	} else if (!strncmp(f, "garbage", 7)) {
		static char big[(1 << 20) + 1];
		static const uint8_t junk[] = { 0xff, 0x00, 0xfe, 0x1b, '[',
						'2', 'J', 0x80, 0xc0, 0x00 };

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\n';
		wait_request();
		send_all(big, sizeof(big));
		send_all(junk, sizeof(junk));
		silence();
	} else if (!strncmp(f, "half", 4)) {
		struct hhp_builder b;

		wait_request();
		hhp_frame_begin(&b, frame, sizeof(frame), HHP_MSG_REPLY, 1);
		send_all(frame, HHP_HEADER_SIZE / 2);
		silence();
	} else if (!strncmp(f, "lie", 3)) {
		struct hhp_builder b;
		size_t len;

		wait_request();
		hhp_frame_begin(&b, frame, sizeof(frame), HHP_MSG_REPLY, 1);
		hhp_add_u64(&b, HHP_F_NONCE, 0);
		len = hhp_frame_finish(&b);
		hhp_put32(frame + HHP_HEADER_SIZE + 2, 4000); /* the field lies */
		send_all(frame, len);
		silence();
	} else if (!strncmp(f, "flood", 5)) {
		flood();
	}
}
