/* SPDX-License-Identifier: MIT */
/*
 * epoll_idle SECS — thread "epoller" loops in epoll_wait() (timeout 100 ms) on an eventfd that
 * nobody writes, for SECS seconds: an idle event loop.
 * Ground truth: the epoller's time is almost all poll.
 */
#include "common.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

static uint64_t deadline;

static void *epoller(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t t;
	int efd, ep;

	(void)arg;
	name_thread("epoller");
	efd = eventfd(0, EFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0 || ep < 0)
		die("eventfd/epoll_create1");
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		die("epoll_ctl");
	while ((t = now_ns()) < deadline) {
		uint64_t left_ms = (deadline - t + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;

		if (epoll_wait(ep, &ev, 1, left_ms < 100 ? (int)left_ms : 100) < 0 && errno != EINTR)
			die("epoll_wait");
	}
	close(ep);
	close(efd);
	schedstat_dump();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	int err;

	if (argc != 2)
		usage(argv[0], "SECS");
	deadline = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	if ((err = pthread_create(&th, NULL, epoller, NULL)))
		die_err("pthread_create", err);
	pthread_join(th, NULL);
	schedstat_dump();
	return 0;
}
