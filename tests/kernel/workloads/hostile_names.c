// SPDX-License-Identifier: MIT
/*
 * hostile_names SECS — threads whose names are what a hostile target would choose: markup,
 * control characters (a newline, an escape), quotes and separators, invalid UTF-8. Each
 * spins for SECS so that it has stacks too.
 */
#include "common.h"
#include <sys/prctl.h>

static const char *const names[] = {
	"<script>x",
	"a\nb\033[31m",
	"q\"u';o\\te",
	"\xff\xfe\xc3(",
};

static uint64_t t_end;

static void *worker(void *arg)
{
	prctl(PR_SET_NAME, (const char *)arg);
	busy_until_ns(t_end);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[4];
	int i;

	if (argc != 2)
		usage(argv[0], "SECS");
	t_end = now_ns() + parse_secs(argv[1], argv[0], "SECS");
	for (i = 0; i < 4; i++)
		if ((errno = pthread_create(&t[i], NULL, worker, (void *)names[i])))
			die("pthread_create");
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}
