// SPDX-License-Identifier: MIT
/* Writers against golden files, on a synthetic profile built through the same code collect uses. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "account.h"
#include "fixture.h"
#include "render/output.h"

#define MS     FIXTURE_MS
#define GOLDEN "tests/unit/golden/"

static struct profile *sample_profile(void)
{
	struct profile *p = fixture_profile();

	cr_assert_not_null(p);
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
	cr_expect(want_len == len && !memcmp(want, got, len),
		  "%s differs from the golden file:\n%s", name, got);
	free(want);
}

static void check_writer(const char *golden, writer_fn writer)
{
	struct profile *p = sample_profile();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(fixture_write(writer, p, f), 0);
	fclose(f);
	expect_golden(golden, buf, len);
	free(buf);
	profile__free(p);
}

Test(output, json_matches_golden)
{
	check_writer("summary.json", write_json);
}

Test(output, text_matches_golden)
{
	check_writer("report.txt", fixture_write_text);
}

Test(output, categories_add_up_per_thread)
{
	struct profile *p = sample_profile();
	size_t i;

	for (i = 0; i < p->nthreads; i++)
		cr_expect_eq(cat_sum(p->threads[i].ns), thread_lifetime_ns(&p->threads[i]),
			     "thread %u", p->threads[i].tid);
	profile__free(p);
}

Test(output, text_fits_80_columns_without_colour)
{
	struct profile *p = sample_profile();
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fixture_write(fixture_write_text, p, f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t cols = 0;
		const unsigned char *c;

		for (c = (const unsigned char *)line; *c; c++)
			cols += (*c & 0xc0) != 0x80; /* count code points, not bytes */
		cr_expect_leq(cols, 80, "too wide: %s", line);
		cr_expect_null(strchr(line, '\033'), "colour escape without a terminal");
	}
	free(buf);
	profile__free(p);
}

static char *render_str(writer_fn writer, struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(fixture_write(writer, p, f), 0);
	fclose(f);
	return buf;
}

/* Steal appears only when there is some (the fixtures and recordings have none), as a report line
 * only over 1 % of the cpu time. */
Test(output, steal_only_when_there_is_some)
{
	struct profile *p = sample_profile();
	uint64_t ns[CAT_MAX];
	char *json, *text;

	json = render_str(write_json, p);
	text = render_str(fixture_write_text, p);
	cr_expect_null(strstr(json, "steal"));
	cr_expect_null(strstr(text, "steal"));
	free(json);
	free(text);
	profile__thread_ns(p, ns);
	p->threads[0].steal_ns = ns[CAT_CPU] / 200; /* 0.5 %: in the JSON, not in the report */
	json = render_str(write_json, p);
	text = render_str(fixture_write_text, p);
	cr_expect_not_null(strstr(json, "\"steal_ns\": "));
	cr_expect_null(strstr(text, "steal"));
	free(json);
	free(text);
	p->threads[0].steal_ns = ns[CAT_CPU] / 40; /* 2.5 % */
	text = render_str(fixture_write_text, p);
	cr_expect_not_null(strstr(text, "steal 2.5% of the cpu time"), "%s", text);
	free(text);
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
	cr_assert_eq(fixture_output_write(p, link_path), 0);
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
	cr_expect_lt(fixture_output_write(p, "/proc/concur-test.json"), 0);
	/* A directory in the way: rename fails, the temporary is removed. */
	cr_expect_lt(fixture_output_write(p, "/tmp"), 0);
	profile__free(p);
}

/* -o paths are checked before a run starts: what output_write would fail on later. */
Test(output, bad_paths_are_refused_before_the_run)
{
	char dir[] = "/tmp/concur-check-XXXXXX", ok[512], sub[512];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(ok, sizeof(ok), "%s/out.json", dir);
	snprintf(sub, sizeof(sub), "%s/sub.json", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_expect_eq(output_check(ok), 0);
	cr_expect_eq(output_check("out.json"), 0, "a bare name goes in the current directory");
	cr_expect_eq(output_check("/nonexistent-concur-dir/out.json"), -ENOENT);
	cr_expect_eq(output_check(sub), -EISDIR, "a directory where the file would go");
	cr_expect_eq(output_check("/etc/passwd/out.json"), -ENOTDIR);
	cr_expect_lt(output_check("/proc/out.json"), 0, "no new files in /proc, even for root");
	cr_expect_eq(output_check("out.xyz"), -EINVAL);
	rmdir(sub);
	rmdir(dir);
}
