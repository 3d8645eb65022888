/* SPDX-License-Identifier: MIT */
/*
 * tcp_client SECS — forks a server process (comm "tcp_server") listening on 127.0.0.1 (an
 * ephemeral port) that answers each 1-byte request with 1 byte after sleeping 20 ms; thread
 * "client" connects and does blocking write()/read() round trips on the socket for SECS
 * seconds, then closes the connection, and the main thread reaps the server.
 * Ground truth: the client is blocked in read() on a TCP socket almost all the time: io.net.
 * (read/write rather than recv/send, so that the category comes from the fd's kind.)
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static struct sockaddr_in addr;
static uint64_t deadline;

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("setsockopt");
}

/* The server process: one connection, one reply per byte, until the client closes. */
static void serve(int lfd)
{
	char c;
	ssize_t n;
	int fd;

	prctl(PR_SET_NAME, "tcp_server");
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(lfd);
	nodelay(fd);
	while ((n = read(fd, &c, 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("server read");
		}
		sleep_ns(20 * NSEC_PER_MSEC);
		if (write(fd, &c, 1) != 1)
			die("server write");
	}
	close(fd);
	schedstat_dump();
	_exit(0);
}

static void *client(void *arg)
{
	char c = 'x';
	int fd;

	(void)arg;
	name_thread("client");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect");
	nodelay(fd);
	while (now_ns() < deadline) {
		if (write(fd, &c, 1) != 1)
			die("client write");
		if (read(fd, &c, 1) != 1)
			die("client read");
	}
	close(fd);
	schedstat_dump();
	return NULL;
}

int main(int argc, char **argv)
{
	socklen_t len = sizeof(addr);
	int lfd, err, status;
	pthread_t th;
	pid_t pid;

	if (argc != 2)
		usage(argv[0], "SECS");
	deadline = now_ns() + parse_secs(argv[1], argv[0], "SECS");

	/* Listen before forking: the client can connect at once, without a race. */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len))
		die("bind/listen");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		serve(lfd);
	close(lfd);

	if ((err = pthread_create(&th, NULL, client, NULL)))
		die_err("pthread_create", err);
	pthread_join(th, NULL);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "tcp_client: server failed (status %#x)\n", status);
		return 1;
	}
	schedstat_dump();
	return 0;
}
