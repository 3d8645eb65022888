// SPDX-License-Identifier: MIT
/* Writers against golden files, on a synthetic profile built through the same code collect uses. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "account.h"
#include "output.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define GOLDEN "tests/unit/golden/"

static char *command[] = { "./server", "--bench", NULL };

static void add_thread(struct profile *p, __u32 pid, __u32 tid, const char *comm,
		       const __u64 split[CAT_MAX], int dead)
{
	struct thread_acct a;
	__u64 t = T0;
	int c;

	memset(&a, 0, sizeof(a));
	acct_init(&a, pid, tid, T0, TS_RUNNING, CAT_OTHER, CONCUR_NO_SYSCALL);
	strncpy(a.comm, comm, sizeof(a.comm) - 1);
	/* Each category's time as one interval: run, block (or be preempted), wake. */
	for (c = CAT_CPU; c < CAT_MAX; c++) {
		if (!split[c] || c == CAT_CPU)
			continue;
		t += split[CAT_CPU] / (CAT_MAX - 1);
		acct_switch_out(&a, t, c == CAT_RUNQUEUE, c, c == CAT_OTHER ? 16 : 0, 0);
		t += split[c];
		if (c != CAT_RUNQUEUE)
			acct_wakeup(&a, t);
		acct_switch_in(&a, t);
	}
	if (dead)
		acct_finish(&a, t + 1 * MS, 1);
	cr_assert_eq(profile__add_thread(p, &a, T0 + 2000 * MS), 0);
}

static struct profile *sample_profile(void)
{
	static const __u64 worker[CAT_MAX] = { [CAT_CPU] = 900 * MS, [CAT_RUNQUEUE] = 100 * MS,
					       [CAT_LOCK] = 700 * MS, [CAT_IO_NET] = 200 * MS };
	static const __u64 main_t[CAT_MAX] = { [CAT_CPU] = 90 * MS, [CAT_WAIT] = 1800 * MS,
					       [CAT_OTHER] = 50 * MS };
	static const __u64 child[CAT_MAX] = { [CAT_CPU] = 450 * MS, [CAT_IO_DISK] = 300 * MS };
	struct profile *p = profile__new(MODE_RUN, command);

	cr_assert_not_null(p);
	p->window_start_ns = T0;
	p->window_ns = 2000 * MS;
	p->cpus = 2;
	p->exit_status = 0;
	p->stats[STAT_SWITCHES] = 1234;
	p->stats[STAT_WAKEUPS] = 1000;
	p->stats[STAT_FORKS] = 2;
	p->stats[STAT_EXITS] = 1;
	cr_assert_eq(profile__add_proc(p, 100, 1, "server", false), 0);
	cr_assert_eq(profile__add_proc(p, 200, 100, "<script>\x01\xff", true), 0);
	add_thread(p, 100, 100, "server", main_t, 0);
	add_thread(p, 100, 101, "worker \"1\"", worker, 0);
	add_thread(p, 200, 200, "<script>\x01\xff", child, 1);
	cr_assert_eq(profile__add_other(p, 100, 16, 50 * MS, 3), 0);
	profile__finish(p);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

/* Compares with the golden file; CONCUR_UPDATE_GOLDEN=1 rewrites it (review the diff!). */
static void expect_golden(const char *name, const char *got, size_t len)
{
	char path[256];
	size_t want_len;
	char *want;
	FILE *f;

	snprintf(path, sizeof(path), GOLDEN "%s", name);
	if (getenv("CONCUR_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		cr_assert_not_null(f);
		fwrite(got, 1, len, f);
		fclose(f);
	}
	want = slurp(path, &want_len);
	cr_expect(want_len == len && !memcmp(want, got, len), "%s differs from the golden file:\n%s",
		  name, got);
	free(want);
}

static void check_writer(const char *golden, int (*writer)(const struct profile *, FILE *))
{
	struct profile *p = sample_profile();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(writer(p, f), 0);
	fclose(f);
	expect_golden(golden, buf, len);
	free(buf);
	profile__free(p);
}

static int text_plain(const struct profile *p, FILE *f)
{
	return write_text(p, f, false);
}

Test(output, json_matches_golden)
{
	check_writer("summary.json", write_json);
}

Test(output, text_matches_golden)
{
	check_writer("report.txt", text_plain);
}

Test(output, categories_add_up_per_thread)
{
	struct profile *p = sample_profile();
	size_t i;

	for (i = 0; i < p->nthreads; i++)
		cr_expect_eq(acct_total_ns(&p->threads[i].acct), thread_lifetime_ns(&p->threads[i]),
			     "thread %u", p->threads[i].acct.tid);
	profile__free(p);
}

Test(output, text_fits_80_columns_without_colour)
{
	struct profile *p = sample_profile();
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	write_text(p, f, false);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t cols = 0;
		const unsigned char *c;

		for (c = (const unsigned char *)line; *c; c++)
			cols += (*c & 0xc0) != 0x80;	/* count code points, not bytes */
		cr_expect_leq(cols, 80, "too wide: %s", line);
		cr_expect_null(strchr(line, '\033'), "colour escape without a terminal");
	}
	free(buf);
	profile__free(p);
}

Test(output, format_from_extension)
{
	cr_expect_eq(output_format("a/b/summary.json"), OUT_JSON);
	cr_expect_lt(output_format("summary.xyz"), 0);
	cr_expect_lt(output_format(".json.bak"), 0);
}

Test(output, replaces_a_symlink_never_follows_it)
{
	char dir[] = "/tmp/concur-test-XXXXXX", victim[300], link_path[300];
	struct profile *p = sample_profile();
	struct stat st;
	size_t len;
	char *content;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link_path, sizeof(link_path), "%s/out.json", dir);
	close(open(victim, O_CREAT | O_WRONLY, 0600));
	cr_assert_eq(symlink(victim, link_path), 0);
	cr_assert_eq(output_write(p, link_path), 0);
	cr_expect_eq(lstat(link_path, &st), 0);
	cr_expect(S_ISREG(st.st_mode), "the link was replaced by the file");
	content = slurp(victim, &len);
	cr_expect_eq(len, 0, "the link's target was not written");
	free(content);
	unlink(victim);
	unlink(link_path);
	rmdir(dir);
	profile__free(p);
}

Test(output, failed_write_leaves_previous_file_and_no_temp)
{
	struct profile *p = sample_profile();

	/* /proc accepts no new files: the temporary cannot be created. */
	cr_expect_lt(output_write(p, "/proc/concur-test.json"), 0);
	/* A directory in the way: rename fails, the temporary is removed. */
	cr_expect_lt(output_write(p, "/tmp"), 0);
	profile__free(p);
}
