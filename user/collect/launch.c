// SPDX-License-Identifier: MIT
/*
 * `run`: the workload is forked and held before exec until the probes are attached, so
 * nothing it does is missed. Under sudo it runs as the invoking user unless asked not to.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "launch.h"

/* The invoking user under sudo, if concur runs as root through sudo. */
static int sudo_user(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	unsigned long vu, vg;
	char *end;

	if (geteuid() != 0 || !u || !g)
		return 0;
	errno = 0;
	vu = strtoul(u, &end, 10);
	if (errno || *end || end == u)
		return 0;
	vg = strtoul(g, &end, 10);
	if (errno || *end || end == g || !vu)
		return 0;
	*uid = vu;
	*gid = vg;
	return 1;
}

static int drop_to(uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL))
		return -errno;
	if (setgid(gid) || setuid(uid))
		return -errno;
	return 0;
}

/* Runs in the child: waits for the go byte, then execs; reports failure as an errno. */
static void child_main(char **argv, int go_fd, int err_fd, int drop, uid_t uid, gid_t gid)
{
	char c;
	int err = 0;

	/* concur's own dispositions are not the workload's: a stop signal to the group kills it
	 * while held, and an ignored SIGPIPE would survive the exec. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (drop)
		err = drop_to(uid, gid);
	if (!err && read(go_fd, &c, 1) != 1)
		_exit(127); /* concur gave up before releasing us */
	if (!err) {
		execvp(argv[0], argv);
		err = -errno;
	}
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int launch_prepare(struct launch *l, char **argv, bool keep_root)
{
	int go[2], errp[2];
	uid_t uid = 0;
	gid_t gid = 0;
	int drop = !keep_root && sudo_user(&uid, &gid);

	l->pid = -1;
	l->go_fd = l->err_fd = -1;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	l->pid = fork();
	if (l->pid == 0) {
		close(go[1]);
		close(errp[0]);
		child_main(argv, go[0], errp[1], drop, uid, gid);
	}
	close(go[0]);
	close(errp[1]);
	if (l->pid < 0) {
		close(go[1]);
		close(errp[0]);
		return -errno;
	}
	l->go_fd = go[1];
	l->err_fd = errp[0];
	return 0;
}

int launch_release(struct launch *l, int *wstatus)
{
	int err = 0, child_err;
	ssize_t n;

	if (write(l->go_fd, "g", 1) != 1)
		err = -errno;
	close(l->go_fd);
	l->go_fd = -1;
	/* EOF means exec succeeded (the pipe is close-on-exec); a number is its errno. */
	do {
		n = read(l->err_fd, &child_err, sizeof(child_err));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(child_err))
		err = child_err;
	close(l->err_fd);
	l->err_fd = -1;
	*wstatus = 0;
	if (err) {
		if (waitpid(l->pid, wstatus, 0) < 0)
			*wstatus = 0;
		l->pid = -1;
	}
	return err;
}

void launch_cancel(struct launch *l)
{
	if (l->pid > 0)
		kill(l->pid, SIGKILL);
	launch_abort(l);
}

void launch_abort(struct launch *l)
{
	if (l->go_fd >= 0)
		close(l->go_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	l->go_fd = l->err_fd = -1;
	if (l->pid > 0)
		waitpid(l->pid, NULL, 0);
	l->pid = -1;
}

int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -1;
}
