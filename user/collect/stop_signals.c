// SPDX-License-Identifier: MIT
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "stop_signals.h"

/*
 * Stop signals come in bursts: timeout(1) signals its child and then its process group,
 * systemd and container runtimes do the same, a terminal's Ctrl-C reaches every process of the
 * foreground group. A burst stops concur once and the report is written; only a signal this
 * long after the first (stopping hangs) forces the exit.
 */
#define FORCE_EXIT_AFTER_NS 2000000000ull

static volatile sig_atomic_t stop_signal;
/* Sent by a process (kill), not by the terminal to the whole foreground group. */
static volatile sig_atomic_t stop_by_kill;
/* When the first stop signal came (CLOCK_MONOTONIC); the handler alone touches it, with the
 * other stop signals blocked. */
static uint64_t first_stop_ns;

/* Async-signal-safe: clock_gettime, write, signal and raise only. */
static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	static const char forced[] = "concur: stopping takes too long: exiting on the second "
				     "signal, without a report\n";
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ull + ts.tv_nsec;

	(void)uctx;
	if (!stop_signal) {
		first_stop_ns = now;
		stop_by_kill = info->si_code == SI_USER || info->si_code == SI_QUEUE;
		stop_signal = sig;
		return;
	}
	if (now - first_stop_ns < FORCE_EXIT_AFTER_NS)
		return; /* the same burst */
	if (write(STDERR_FILENO, forced, sizeof(forced) - 1) < 0) {
		/* nothing more to say */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void stop_signals_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool stop_signal_is(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

int stop_signals_first(void)
{
	return stop_signal;
}

bool stop_signals_by_kill(void)
{
	return stop_by_kill;
}

void stop_signals_test_point(const char *stage)
{
	const char *at = getenv("CONCUR_TEST_STOP_AT");

	if (at && !strcmp(at, stage))
		kill(0, SIGTERM);
}
