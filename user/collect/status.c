// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "account.h"
#include "collect.h"
#include "profile/profile.h"
#include "status.h"

#define STATUS_WIDTH 79

void status_format(char *buf, size_t size, double elapsed_s, const struct status_sums *sums)
{
	size_t len;
	int c, n;

	n = snprintf(buf, size, "concur: %.1fs  %zu proc  %zu thr  %llu ev ", elapsed_s,
		     sums->procs, sums->threads, (unsigned long long)sums->events);
	len = n < 0 ? 0 : (size_t)n;
	for (c = 0; c < CAT_MAX && len < size; c++) {
		double v = sums->total ? 100.0 * sums->ns[c] / sums->total : 0;

		if (v < 0.5)
			continue;
		n = snprintf(buf + len, size - len, " %s %.0f%%", cat_short_names[c], v);
		if (n < 0 || len + n >= size || len + n > STATUS_WIDTH)
			break;
		len += n;
	}
	buf[len < size ? len : size - 1] = '\0';
}

struct sum_ctx {
	struct status_sums *s;
	uint64_t now;
};

static int add_thread(const void *key, void *value, void *ctx)
{
	struct sum_ctx *c = ctx;
	struct thread_acct *a = value;
	int i;

	(void)key;
	acct_finish(a, c->now);
	for (i = 0; i < CAT_MAX; i++) {
		c->s->ns[i] += a->ns[i];
		c->s->total += a->ns[i];
	}
	c->s->threads++;
	/* A process is counted by its main thread: exact for all but exotic exits. */
	c->s->procs += a->tid == a->pid;
	return 0;
}

/*
 * Sums every thread of a map (the live ones keyed by tid, the exited ones by a u64),
 * intervals in progress included, as if the window ended now.
 */
static void sum_threads(int fd, size_t key_size, uint64_t now, struct status_sums *s)
{
	struct sum_ctx c = { s, now };
	struct thread_acct a;

	map_walk(fd, key_size, &a, add_thread, &c);
}

void status_update(struct status *st, const int thread_fds[2], int stats_fd, uint64_t now,
		   uint64_t t0)
{
	struct status_sums sums;
	uint64_t stats[STAT_MAX];
	char line[STATUS_WIDTH + 1];

	memset(&sums, 0, sizeof(sums));
	sum_threads(thread_fds[0], sizeof(__u32), now, &sums);
	sum_threads(thread_fds[1], sizeof(__u64), now, &sums);
	if (!collect_stats(stats, stats_fd))
		sums.events = stats[STAT_SWITCHES] + stats[STAT_WAKEUPS] + stats[STAT_FORKS] +
			      stats[STAT_EXITS];
	status_format(line, sizeof(line), (now - t0) / 1e9, &sums);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	st->shown = true;
}

void status_clear(struct status *st)
{
	if (st->shown)
		fputs("\r\033[K", stderr);
	st->shown = false;
}
