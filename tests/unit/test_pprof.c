// SPDX-License-Identifier: MIT
/* The pprof writer, read back with zlib and a minimal protobuf decoder written for the test. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "fixture.h"
#include "render/out_pprof.h"

#define MS	   FIXTURE_MS
#define MAX_LOCS   64
#define MAX_LABELS 8

/* The decoded profile: just what the tests look at. Ids index the tables directly. */
struct bytes {
	const uint8_t *p;
	size_t len;
};

struct label {
	uint64_t key, str, num;
	bool has_num;
};

struct sample {
	uint64_t loc[MAX_LOCS];
	size_t nloc;
	int64_t value[2];
	size_t nvalue;
	struct label label[MAX_LABELS];
	size_t nlabel;
};

struct decoded {
	uint8_t *raw;
	struct bytes *str;
	size_t nstr;
	struct sample *samples;
	size_t nsamples;
	uint64_t type[4][2];
	size_t ntype;
	uint64_t default_type, period, duration;
	uint64_t loc_func[4096]; /* by location id */
	uint64_t loc_mapping[4096];
	uint64_t func_name[4096]; /* by function id */
	uint64_t func_file[4096];
	uint64_t mapping_file[256]; /* by mapping id */
	bool mapping_has_functions[256];
};

struct reader {
	const uint8_t *p, *end;
};

static uint64_t rd_varint(struct reader *r)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64; shift += 7) {
		cr_assert_lt(r->p, r->end, "truncated varint");
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	cr_assert_fail("varint too long");
	return 0;
}

/* The next field: a varint in *v, or a length-delimited field in *sub. false at the end. */
static bool rd_field(struct reader *r, unsigned int *field, uint64_t *v, struct reader *sub)
{
	uint64_t key, len;

	if (r->p == r->end)
		return false;
	key = rd_varint(r);
	*field = key >> 3;
	if ((key & 7) == 0) {
		*v = rd_varint(r);
		return true;
	}
	cr_assert_eq(key & 7, 2, "unexpected wire type %d", (int)(key & 7));
	len = rd_varint(r);
	cr_assert_leq(len, (uint64_t)(r->end - r->p), "field overruns its message");
	sub->p = r->p;
	sub->end = r->p + len;
	r->p += len;
	return true;
}

/* A packed repeated varint field, or one element of an unpacked one. */
static size_t rd_packed(struct reader *sub, uint64_t v, bool packed, uint64_t *out, size_t n,
			size_t max)
{
	if (!packed) {
		cr_assert_lt(n, max);
		out[n++] = v;
		return n;
	}
	while (sub->p < sub->end) {
		cr_assert_lt(n, max);
		out[n++] = rd_varint(sub);
	}
	return n;
}

static void decode_label(struct reader *r, struct label *l)
{
	struct reader sub;
	unsigned int field;
	uint64_t v = 0;

	memset(l, 0, sizeof(*l));
	while (rd_field(r, &field, &v, &sub)) {
		if (field == 1)
			l->key = v;
		else if (field == 2)
			l->str = v;
		else if (field == 3)
			l->num = v, l->has_num = true;
	}
}

static void decode_sample(struct reader *r, struct sample *s)
{
	struct reader sub = { 0 };
	unsigned int field;
	uint64_t v = 0, vals[2];
	size_t n;

	memset(s, 0, sizeof(*s));
	while (rd_field(r, &field, &v, &sub)) {
		bool packed = sub.p != NULL;

		if (field == 1) {
			s->nloc = rd_packed(&sub, v, packed, s->loc, s->nloc, MAX_LOCS);
		} else if (field == 2) {
			n = rd_packed(&sub, v, packed, vals, 0, 2);
			memcpy(s->value + s->nvalue, vals, n * sizeof(*vals));
			s->nvalue += n;
		} else if (field == 3) {
			cr_assert_lt(s->nlabel, MAX_LABELS);
			decode_label(&sub, &s->label[s->nlabel++]);
		}
		sub.p = NULL;
	}
}

/* Fields 1 and 2 of a message as varints (ValueType: type, unit). */
static void decode_pair(struct reader *r, uint64_t out[2])
{
	struct reader sub;
	unsigned int field;
	uint64_t v = 0;

	out[0] = out[1] = 0;
	while (rd_field(r, &field, &v, &sub))
		if (field == 1 || field == 2)
			out[field - 1] = v;
}

static void decode_location(struct decoded *d, struct reader *r)
{
	struct reader sub;
	unsigned int field;
	uint64_t v = 0, id = 0, mapping = 0, line[2] = { 0 };

	while (rd_field(r, &field, &v, &sub)) {
		if (field == 1)
			id = v;
		else if (field == 2)
			mapping = v;
		else if (field == 4)
			decode_pair(&sub, line);
	}
	cr_assert(id > 0 && id < 4096, "location id %lu", (unsigned long)id);
	d->loc_func[id] = line[0];
	d->loc_mapping[id] = mapping;
}

static void decode_function(struct decoded *d, struct reader *r)
{
	struct reader sub;
	unsigned int field;
	uint64_t v = 0, id = 0, name = 0, system_name = 0, file = 0;

	while (rd_field(r, &field, &v, &sub)) {
		if (field == 1)
			id = v;
		else if (field == 2)
			name = v;
		else if (field == 3)
			system_name = v;
		else if (field == 4)
			file = v;
	}
	cr_assert(id > 0 && id < 4096, "function id %lu", (unsigned long)id);
	cr_expect_eq(name, system_name);
	d->func_name[id] = name;
	d->func_file[id] = file;
}

static void decode_mapping(struct decoded *d, struct reader *r)
{
	struct reader sub;
	unsigned int field;
	uint64_t v = 0, id = 0, file = 0, has_functions = 0;

	while (rd_field(r, &field, &v, &sub)) {
		if (field == 1)
			id = v;
		else if (field == 5)
			file = v;
		else if (field == 7)
			has_functions = v;
	}
	cr_assert(id > 0 && id < 256, "mapping id %lu", (unsigned long)id);
	d->mapping_file[id] = file;
	d->mapping_has_functions[id] = has_functions;
}

/* Room for element n of *arr: doubled at each power of two (one element at a time made
 * this test take minutes under ASan, whose realloc always copies). */
static void *grow(void *arr, size_t n, size_t size)
{
	if (n & (n - 1))
		return arr;
	arr = realloc(arr, (n ? 2 * n : 1) * size);
	cr_assert_not_null(arr);
	return arr;
}

static void decode_field(struct decoded *d, unsigned int field, uint64_t v, struct reader *sub)
{
	if (field == 1 || field == 11) { /* sample types, then the period type */
		cr_assert_lt(d->ntype, 4);
		decode_pair(sub, d->type[d->ntype++]);
	} else if (field == 2) {
		d->samples = grow(d->samples, d->nsamples, sizeof(*d->samples));
		decode_sample(sub, &d->samples[d->nsamples++]);
	} else if (field == 3) {
		decode_mapping(d, sub);
	} else if (field == 4) {
		decode_location(d, sub);
	} else if (field == 5) {
		decode_function(d, sub);
	} else if (field == 6) {
		d->str = grow(d->str, d->nstr, sizeof(*d->str));
		d->str[d->nstr++] = (struct bytes){ sub->p, (size_t)(sub->end - sub->p) };
	} else if (field == 10) {
		d->duration = v;
	} else if (field == 12) {
		d->period = v;
	} else if (field == 14) {
		d->default_type = v;
	}
}

static uint8_t *gunzip(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = 1 << 20;
	uint8_t *out = malloc(cap);
	z_stream z = { 0 };
	int ret;

	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only: a zlib header fails */
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	do {
		if (z.total_out == cap) {
			uint8_t *more = realloc(out, cap *= 2);

			cr_assert_not_null(more);
			out = more;
		}
		z.next_out = out + z.total_out;
		z.avail_out = cap - z.total_out;
		ret = inflate(&z, Z_NO_FLUSH);
		cr_assert(ret == Z_OK || ret == Z_STREAM_END, "inflate: %d", ret);
	} while (ret != Z_STREAM_END);
	cr_expect_eq(z.avail_in, 0, "bytes after the gzip stream");
	*out_len = z.total_out;
	inflateEnd(&z);
	return out;
}

static struct decoded *decode_profile(const struct profile *p)
{
	struct decoded *d = calloc(1, sizeof(*d));
	char *gz = NULL;
	size_t gz_len = 0, len;
	FILE *f = open_memstream(&gz, &gz_len);
	struct reader r, sub = { 0 };
	unsigned int field;
	uint64_t v = 0;

	cr_assert_eq(write_pprof(p, NULL, f), 0);
	fclose(f);
	d->raw = gunzip((uint8_t *)gz, gz_len, &len);
	free(gz);
	r.p = d->raw;
	r.end = d->raw + len;
	while (rd_field(&r, &field, &v, &sub))
		decode_field(d, field, v, &sub);
	return d;
}

static void free_decoded(struct decoded *d)
{
	free(d->raw);
	free(d->str);
	free(d->samples);
	free(d);
}

static bool str_is(const struct decoded *d, uint64_t id, const char *s, size_t len)
{
	cr_assert_lt(id, d->nstr, "string id %lu out of range", (unsigned long)id);
	return d->str[id].len == len && !memcmp(d->str[id].p, s, len);
}

static bool str_eq(const struct decoded *d, uint64_t id, const char *s)
{
	return str_is(d, id, s, strlen(s));
}

/* The value of the label named key; NULL when absent. */
static const struct label *find_label(const struct decoded *d, const struct sample *s,
				      const char *key)
{
	size_t i;

	for (i = 0; i < s->nlabel; i++)
		if (str_eq(d, s->label[i].key, key))
			return &s->label[i];
	return NULL;
}

static const char *loc_name(const struct decoded *d, uint64_t loc, size_t *len)
{
	uint64_t name;

	cr_assert(loc > 0 && loc < 4096);
	cr_assert_neq(d->loc_func[loc], 0, "location %lu has no function", (unsigned long)loc);
	name = d->func_name[d->loc_func[loc]];
	cr_assert_lt(name, d->nstr);
	*len = d->str[name].len;
	return (const char *)d->str[name].p;
}

static struct profile *fixture(void)
{
	struct profile *p = fixture_profile();

	cr_assert_not_null(p);
	return p;
}

Test(pprof, string_table_starts_empty_and_types_are_declared)
{
	struct profile *p = fixture();
	struct decoded *d = decode_profile(p);

	cr_assert_gt(d->nstr, 0);
	cr_expect_eq(d->str[0].len, 0, "string_table[0] must be \"\"");
	cr_assert_eq(d->ntype, 3, "two sample types and the period type");
	cr_expect(str_eq(d, d->type[0][0], "samples") && str_eq(d, d->type[0][1], "count"));
	cr_expect(str_eq(d, d->type[1][0], "time") && str_eq(d, d->type[1][1], "nanoseconds"));
	cr_expect(str_eq(d, d->type[2][0], "cpu") && str_eq(d, d->type[2][1], "nanoseconds"));
	cr_expect(str_eq(d, d->default_type, "time"));
	cr_expect_eq(d->period, 10 * MS, "1 s / 100 Hz");
	cr_expect_eq(d->duration, 2000 * MS);
	free_decoded(d);
	profile__free(p);
}

Test(pprof, one_sample_per_stack_with_count_and_time)
{
	struct profile *p = fixture();
	struct decoded *d = decode_profile(p);
	size_t i;

	cr_assert_eq(d->nsamples, p->nstacks);
	for (i = 0; i < d->nsamples; i++) {
		cr_assert_eq(d->samples[i].nvalue, 2);
		cr_expect_eq(d->samples[i].value[0], (int64_t)p->stacks[i].count);
		cr_expect_eq(d->samples[i].value[1], (int64_t)p->stacks[i].ns);
	}
	free_decoded(d);
	profile__free(p);
}

Test(pprof, time_per_category_label_matches_the_fixture)
{
	static const uint64_t want[CAT_MAX] = { [CAT_CPU] = 1350 * MS,
						[CAT_LOCK] = 700 * MS,
						[CAT_IO_NET] = 200 * MS,
						[CAT_WAIT] = 1800 * MS,
						[CAT_IO_DISK] = 300 * MS };
	struct profile *p = fixture();
	struct decoded *d = decode_profile(p);
	uint64_t got[CAT_MAX] = { 0 };
	const struct label *l;
	size_t i;
	int c;

	for (i = 0; i < d->nsamples; i++) {
		l = find_label(d, &d->samples[i], "category");
		cr_assert_not_null(l, "sample %zu has no category", i);
		cr_expect(!l->has_num);
		for (c = 0; c < CAT_MAX && !str_eq(d, l->str, cat_names[c]); c++)
			;
		cr_assert_lt(c, CAT_MAX, "unknown category");
		/* cr_assert_lt returned: c is in range (cppcheck cannot know it ends the test). */
		// cppcheck-suppress arrayIndexOutOfBounds
		got[c] += d->samples[i].value[1];
	}
	for (c = 0; c < CAT_MAX; c++)
		cr_expect_eq(got[c], want[c], "%s: %lu ns", cat_names[c], (unsigned long)got[c]);
	free_decoded(d);
	profile__free(p);
}

/* pprof wants the leaf first, then the callers, then our category root frame. */
static void expect_leaf_first(const struct decoded *d, const struct sample *s,
			      const struct stack *st)
{
	const struct frame *fr;
	const char *name;
	size_t i, len;

	cr_assert_eq(s->nloc, st->nframes + 1);
	for (i = 0; i < st->nframes; i++) {
		fr = &st->frames[st->nframes - 1 - i];
		name = loc_name(d, s->loc[i], &len);
		cr_expect(len == strlen(fr->name) && !memcmp(name, fr->name, len),
			  "frame %zu: %.*s, want %s", i, (int)len, name, fr->name);
		cr_expect(str_eq(d, d->mapping_file[d->loc_mapping[s->loc[i]]], fr->module));
	}
	name = loc_name(d, s->loc[st->nframes], &len);
	cr_expect(len == strlen(cat_names[st->cat]) && !memcmp(name, cat_names[st->cat], len),
		  "root: %.*s", (int)len, name);
}

Test(pprof, locations_are_leaf_first_under_the_category)
{
	struct profile *p = fixture();
	struct decoded *d = decode_profile(p);
	size_t i;

	cr_assert_eq(d->nsamples, p->nstacks);
	for (i = 0; i < d->nsamples; i++)
		expect_leaf_first(d, &d->samples[i], &p->stacks[i]);
	free_decoded(d);
	profile__free(p);
}

Test(pprof, functions_and_mappings_are_deduplicated)
{
	struct profile *p = fixture();
	struct decoded *d = decode_profile(p);
	size_t i, j, nfunc = 0;

	for (i = 1; i < 4096 && d->func_name[i]; i++)
		nfunc++;
	/* 16 distinct (name, module) in the fixture, plus the 5 categories used. */
	cr_expect_eq(nfunc, 21);
	for (i = 1; i < nfunc; i++)
		for (j = i + 1; j <= nfunc; j++)
			cr_expect(d->func_name[i] != d->func_name[j] ||
					  d->func_file[i] != d->func_file[j],
				  "functions %zu and %zu", i, j);
	for (i = 1; i < 256 && d->mapping_file[i]; i++)
		cr_expect(d->mapping_has_functions[i], "pprof must not try to symbolize");
	/* server, libc.so.6, [kernel], child, [concur] */
	cr_expect_eq(i - 1, 5);
	for (i = 1; i < d->nstr; i++)
		for (j = i + 1; j < d->nstr; j++)
			cr_expect(!str_is(d, i, (const char *)d->str[j].p, d->str[j].len),
				  "string %zu repeated", j);
	free_decoded(d);
	profile__free(p);
}

Test(pprof, hostile_names_survive_byte_exact)
{
	static const char img[] = "parse_<img src=x onerror=alert(1)>";
	static const char script[] = "<script>\x01\xff";
	struct profile *p = fixture();
	struct decoded *d = decode_profile(p);
	const struct sample *s;
	const char *name;
	size_t i, len;

	name = loc_name(d, d->samples[1].loc[0], &len);
	cr_expect(len == strlen(img) && !memcmp(name, img, len));
	for (i = 0; i < d->nsamples; i++) {
		s = &d->samples[i];
		if (p->stacks[i].pid != 200)
			continue;
		cr_expect(str_eq(d, find_label(d, s, "thread")->str, script));
		cr_expect(str_eq(d, find_label(d, s, "process")->str, script));
		cr_expect_eq(find_label(d, s, "pid")->num, 200);
	}
	s = &d->samples[0];
	cr_expect(str_eq(d, find_label(d, s, "thread")->str, "worker \"1\""));
	cr_expect(str_eq(d, find_label(d, s, "process")->str, "server"));
	cr_expect_eq(find_label(d, s, "tid")->num, 101);
	free_decoded(d);
	profile__free(p);
}

Test(pprof, comm_without_terminator_is_cut_at_its_size)
{
	struct profile *p = fixture();
	struct decoded *d;
	size_t i;

	for (i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == 101)
			memset(p->threads[i].comm, 'A', CONCUR_COMM_LEN);
	d = decode_profile(p);
	cr_expect(str_eq(d, find_label(d, &d->samples[0], "thread")->str, "AAAAAAAAAAAAAAAA"));
	free_decoded(d);
	profile__free(p);
}

Test(pprof, empty_profile_is_valid)
{
	struct profile *p = profile__new(MODE_ATTACH, NULL);
	struct decoded *d;

	cr_assert_not_null(p);
	d = decode_profile(p);
	cr_expect_eq(d->nsamples, 0);
	cr_expect_eq(d->str[0].len, 0);
	cr_expect_eq(d->period, 0, "no sampling, no period");
	free_decoded(d);
	profile__free(p);
}

/* pid 0 (the idle task) is a number label of 0: it must still reach the reader. */
Test(pprof, number_labels_of_zero_are_kept)
{
	struct profile *p = profile__new(MODE_ATTACH, NULL);
	struct stack st = { .pid = 0, .tid = 0, .cat = CAT_CPU, .ns = 1, .count = 1 };
	const struct label *l;
	struct decoded *d;

	cr_assert_not_null(p);
	st.nframes = 1;
	st.frames = calloc(1, sizeof(*st.frames));
	st.frames[0].name = profile__intern(p, "do_idle");
	st.frames[0].module = profile__intern(p, "[kernel]");
	st.frames[0].kernel = true;
	cr_assert_eq(profile__add_stack(p, &st), 0);
	d = decode_profile(p);
	cr_assert_eq(d->nsamples, 1);
	l = find_label(d, &d->samples[0], "pid");
	cr_assert_not_null(l, "no pid label");
	cr_expect(l->has_num && l->num == 0);
	l = find_label(d, &d->samples[0], "tid");
	cr_assert_not_null(l, "no tid label");
	cr_expect(l->has_num && l->num == 0);
	cr_expect_null(find_label(d, &d->samples[0], "thread"), "no comm, no thread label");
	free_decoded(d);
	profile__free(p);
}

/* Many stacks over few names: the tables must stay small, every sample intact. */
Test(pprof, many_stacks_share_functions)
{
	struct profile *p = profile__new(MODE_ATTACH, NULL);
	struct stack st = { .pid = 1, .tid = 1, .cat = CAT_SLEEP, .ns = 1, .count = 1 };
	struct decoded *d;
	char name[32];
	size_t i, j;

	cr_assert_not_null(p);
	for (i = 0; i < 20000; i++) {
		st.nframes = 30;
		st.frames = calloc(st.nframes, sizeof(*st.frames));
		for (j = 0; j < st.nframes; j++) {
			snprintf(name, sizeof(name), "f%zu", (i + j) % 100);
			st.frames[j].name = profile__intern(p, name);
			st.frames[j].module = profile__intern(p, "app");
			st.frames[j].ip = 0x1000 + (i + j) % 100;
		}
		cr_assert_eq(profile__add_stack(p, &st), 0);
	}
	d = decode_profile(p);
	cr_assert_eq(d->nsamples, 20000);
	cr_expect_eq(d->loc_func[102], 0, "100 frame locations and the category, no more");
	cr_expect_neq(d->loc_func[101], 0);
	for (i = 0; i < d->nsamples; i += 997)
		expect_leaf_first(d, &d->samples[i], &p->stacks[i]);
	free_decoded(d);
	profile__free(p);
}

Test(pprof, write_error_is_reported)
{
	struct profile *p = fixture();
	FILE *f = fopen("/dev/null", "r");

	cr_assert_not_null(f);
	cr_expect_lt(write_pprof(p, NULL, f), 0);
	fclose(f);
	profile__free(p);
}
