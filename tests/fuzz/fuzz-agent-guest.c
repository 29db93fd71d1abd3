/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the guest side of the agent protocol, hh-agent.c
 * itself built for the host.  The first byte picks what the input is:
 *   even  the host's byte stream on the control port, read in chunks
 *         whose sizes the second byte varies (requests are decoded,
 *         checked and answered; replies go to /dev/null)
 *   odd   what /dev/kmsg gives (record lines), streamed to the log port
 * Requests do nothing on this machine: fork(), open(), opendir(),
 * clock_settime(), reboot() and sync() are replaced below, before the
 * agent's source is included, so the agent decodes and answers every
 * request but runs no command and touches no file or clock.
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
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *fuzz_in;
static size_t fuzz_len, fuzz_pos, fuzz_chunk;
static int fuzz_fd = -1;	/* reads from it take the fuzzer's input */

static ssize_t fuzz_read(int fd, void *buf, size_t count)
{
	size_t n;

	if (fd != fuzz_fd)
		return read(fd, buf, count);
	n = fuzz_len - fuzz_pos;
	if (n > count)
		n = count;
	if (n > fuzz_chunk)
		n = fuzz_chunk;
	memcpy(buf, fuzz_in + fuzz_pos, n);
	fuzz_pos += n;
	return (ssize_t)n;
}

static pid_t fuzz_fork(void)
{
	errno = ENOMEM;
	return -1;
}

static int fuzz_open(const char *path, int flags, ...)
{
	errno = ENOENT;
	return -1;
}

static DIR *fuzz_opendir(const char *path)
{
	errno = ENOENT;
	return NULL;
}

static int fuzz_fail(void)
{
	errno = EPERM;
	return -1;
}

#define read(fd, buf, count) fuzz_read(fd, buf, count)
#define fork() fuzz_fork()
#define open(...) fuzz_open(__VA_ARGS__)
#define opendir(path) fuzz_opendir(path)
#define clock_settime(clk, ts) fuzz_fail()
#define reboot(how) fuzz_fail()
#define sync() ((void)0)
#define main hh_agent_main
#include "hh-agent.c"
#undef read
#undef open
#undef main

static int kmsg_null = -1;

static void setup_once(void)
{
	if (kmsg_null >= 0)
		return;
	/* PID 1's paths: nothing goes to stderr, POWEROFF does not exit. */
	ag.pid1 = true;
	ag.kmsg_wfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ag.ctl_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ag.log_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	kmsg_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	setup_once();
	fuzz_in = data + 2;
	fuzz_len = size - 2;
	fuzz_pos = 0;
	fuzz_chunk = data[1] ? data[1] * 64u : HHP_FRAME_MAX;
	if (data[0] & 1) {
		fuzz_fd = ag.kmsg_fd = kmsg_null;
		ag.kmsg_len = 0;
		ag.kmsg_pos = 0;
		ag.next_seq = 0;
		ag.lost = 0;
		ag.streaming = true;
		while (kmsg_pump(KMSG_BATCH))
			;
		ag.kmsg_fd = -1;
		return 0;
	}
	fuzz_fd = ag.ctl_fd;
	ag.streaming = false;
	ctl_reset();
	while (fuzz_pos < fuzz_len)
		ctl_input(POLLIN);
	return 0;
}
