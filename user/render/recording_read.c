// SPDX-License-Identifier: MIT
/*
 * Recordings (.concur), the reader: the file is hostile until proven otherwise. The format is
 * described at the top of recording_write.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "recording_format.h"

/* A cursor over untrusted bytes; the first error sticks, and reads after it give zeros. */
struct rd {
	const uint8_t *p;
	size_t left;
	const char *section;	/* for messages */
	char *err;
	size_t errlen;
	int ret;
};

/* Records the first error; returns it. */
static int __attribute__((format(printf, 3, 4))) fail(struct rd *r, int ret, const char *fmt, ...)
{
	va_list ap;

	if (r->ret)
		return r->ret;
	r->ret = ret;
	if (r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int corrupt(struct rd *r, const char *what)
{
	return fail(r, -EBADMSG, "corrupt recording: %s: %s", r->section, what);
}

static int oom(struct rd *r)
{
	return fail(r, -ENOMEM, "out of memory");
}

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *b = r->p;

	if (r->ret)
		return NULL;
	if (n > r->left) {
		corrupt(r, "ends early");
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return b;
}

static uint64_t get_le(struct rd *r, int bytes)
{
	const uint8_t *b = take(r, bytes);
	uint64_t v = 0;
	int i;

	for (i = 0; b && i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint32_t get_u32(struct rd *r)
{
	return get_le(r, 4);
}

static int32_t get_i32(struct rd *r)
{
	return (int32_t)get_le(r, 4);
}

static uint64_t get_u64(struct rd *r)
{
	return get_le(r, 8);
}

static bool get_flag(struct rd *r)
{
	uint64_t v = get_le(r, 1);

	if (v > 1)
		corrupt(r, "a flag is neither 0 nor 1");
	return v;
}

/* A count of records of at least min_size bytes each: all of them must fit in what is left. */
static uint32_t get_count(struct rd *r, size_t min_size, uint32_t max)
{
	uint32_t n = get_u32(r);

	if (r->ret)
		return 0;
	if (n > max) {
		fail(r, -EBADMSG, "corrupt recording: %s: %u records, more than %u", r->section, n,
		     max);
		return 0;
	}
	if ((uint64_t)n * min_size > r->left) {
		fail(r, -EBADMSG, "corrupt recording: %s: %u records cannot fit in %zu bytes",
		     r->section, n, r->left);
		return 0;
	}
	return n;
}

static void get_bytes(struct rd *r, void *dst, size_t n)
{
	const uint8_t *b = take(r, n);

	if (b)
		memcpy(dst, b, n);
}

static void get_comm(struct rd *r, char comm[CONCUR_COMM_LEN])
{
	get_bytes(r, comm, CONCUR_COMM_LEN);
	comm[CONCUR_COMM_LEN - 1] = '\0';	/* writers may read it as a C string */
}

static uint32_t get_cat(struct rd *r)
{
	uint32_t c = get_u32(r);

	if (c >= CAT_MAX)
		corrupt(r, "category out of range");
	return c < CAT_MAX ? c : 0;
}

static void get_cats(struct rd *r, uint64_t v[CAT_MAX])
{
	int c;

	for (c = 0; c < CAT_MAX; c++)
		v[c] = get_u64(r);
}

/* What the body's records refer to while it is read. */
struct loader {
	struct rd r;
	struct profile *p;
	const char **strs;
	uint32_t nstrs;
};

static const char *get_str(struct loader *l)
{
	uint32_t i = get_u32(&l->r);

	if (l->r.ret)
		return NULL;
	if (i >= l->nstrs) {
		fail(&l->r, -EBADMSG, "corrupt recording: %s: string %u of %u", l->r.section, i,
		     l->nstrs);
		return NULL;
	}
	return l->strs[i];
}

static void read_scalars(struct rd *r, struct profile *p)
{
	uint32_t ncats, nstats, i, mode;

	r->section = "profile";
	ncats = get_u32(r);
	nstats = get_count(r, 8, UINT32_MAX);
	if (!r->ret && ncats != CAT_MAX)
		fail(r, -EBADMSG, "corrupt recording: %u categories, not %d", ncats, CAT_MAX);
	mode = get_u32(r);
	if (mode != MODE_RUN && mode != MODE_ATTACH)
		corrupt(r, "unknown mode");
	p->mode = mode;
	p->exit_status = get_i32(r);
	p->interrupted = get_flag(r);
	p->window_start_ns = get_u64(r);
	p->window_ns = get_u64(r);
	p->cpus = get_i32(r);
	p->sample_hz = get_u32(r);
	p->anomalies = get_u64(r);
	/* Counters added by a later concur are skipped; ones it lacks stay 0. */
	for (i = 0; i < nstats && !r->ret; i++) {
		uint64_t v = get_u64(r);

		if (i < STAT_MAX)
			p->stats[i] = v;
	}
}

static int read_strings(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i, len;
	const uint8_t *s;
	char *tmp;

	r->section = "strings";
	n = get_count(r, SZ_STRING, UINT32_MAX);
	l->strs = calloc(n ? n : 1, sizeof(*l->strs));
	if (!l->strs)
		return oom(r);
	for (i = 0; i < n && !r->ret; i++) {
		len = get_u32(r);
		s = take(r, len);
		if (!s)
			return r->ret;
		if (memchr(s, '\0', len))
			return corrupt(r, "a NUL byte inside a string");
		tmp = strndup((const char *)s, len);
		if (!tmp)
			return oom(r);
		l->strs[i] = profile__intern(l->p, tmp);
		free(tmp);
		if (!l->strs[i])
			return oom(r);
		l->nstrs = i + 1;
	}
	return r->ret;
}

static int read_command(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t argc, i;

	r->section = "command";
	argc = get_count(r, SZ_ARG, UINT32_MAX - 1);
	if (r->ret)
		return r->ret;
	l->p->owned_command = calloc(argc + 1, sizeof(char *));
	if (!l->p->owned_command)
		return oom(r);
	/* Interned strings are never written to: the array is char ** only to match argv. */
	for (i = 0; i < argc && !r->ret; i++)
		l->p->owned_command[i] = (char *)get_str(l);
	l->p->command = l->p->owned_command;
	return r->ret;
}

/* The `other` time of the process just added. */
static void read_other(struct loader *l, uint32_t pid)
{
	struct rd *r = &l->r;
	uint32_t n = get_count(r, SZ_OTHER, UINT32_MAX), i;
	int32_t nr;
	uint64_t ns, cnt;

	for (i = 0; i < n && !r->ret; i++) {
		nr = get_i32(r);
		ns = get_u64(r);
		cnt = get_u64(r);
		if (!r->ret && profile__add_other(l->p, pid, nr, ns, cnt))
			oom(r);
	}
}

static void read_proc(struct loader *l)
{
	struct rd *r = &l->r;
	struct proc pr = {};
	int err;

	pr.pid = get_u32(r);
	pr.ppid = get_u32(r);
	pr.start_ns = get_u64(r);
	pr.end_ns = get_u64(r);
	pr.exited = get_flag(r);
	get_comm(r, pr.comm);
	get_comm(r, pr.runtime);
	pr.cpus = get_u32(r);
	pr.peak_running = get_u32(r);
	pr.rss_kb = get_u64(r);
	if (r->ret)
		return;
	err = profile__add_proc(l->p, &pr);
	if (err == -EEXIST)
		corrupt(r, "a process listed twice");
	else if (err)
		oom(r);
	read_other(l, pr.pid);
}

static void read_procs(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "processes";
	n = get_count(r, SZ_PROC, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++)
		read_proc(l);
}

static void read_threads(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "threads";
	n = get_count(r, SZ_THREAD, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++) {
		struct thread t = {};

		t.pid = get_u32(r);
		t.tid = get_u32(r);
		get_comm(r, t.comm);
		t.start_ns = get_u64(r);
		t.end_ns = get_u64(r);
		t.exited = get_flag(r);
		get_cats(r, t.ns);
		get_cats(r, t.cnt);
		t.preemptions = get_u64(r);
		t.wakeups = get_u64(r);
		if (!r->ret && profile__add_thread(l->p, &t))
			oom(r);
	}
}

static int read_frames(struct loader *l, struct stack *st)
{
	struct rd *r = &l->r;
	uint32_t n = get_count(r, SZ_FRAME, REC_MAX_FRAMES), i;

	if (r->ret)
		return r->ret;
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames)
		return oom(r);
	st->nframes = n;
	for (i = 0; i < n && !r->ret; i++) {
		st->frames[i].ip = get_u64(r);
		st->frames[i].name = get_str(l);
		st->frames[i].module = get_str(l);
		st->frames[i].kernel = get_flag(r);
	}
	return r->ret;
}

/* A stack is added as soon as its frames are allocated: the profile frees them, read or not. */
static void read_stacks(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "stacks";
	n = get_count(r, SZ_STACK, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++) {
		struct stack st = {};

		st.pid = get_u32(r);
		st.tid = get_u32(r);
		st.cat = get_cat(r);
		st.ns = get_u64(r);
		st.count = get_u64(r);
		if (read_frames(l, &st) == -ENOMEM)
			return;
		if (profile__add_stack(l->p, &st)) {
			free(st.frames);
			oom(r);
		}
	}
}

static int read_unwind(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t n, i;

	r->section = "unwind warnings";
	n = get_count(r, SZ_UNWIND, UINT32_MAX);
	if (!n)
		return r->ret;
	p->unwind = calloc(n, sizeof(*p->unwind));
	if (!p->unwind)
		return oom(r);
	p->nunwind = n;
	for (i = 0; i < n && !r->ret; i++) {
		p->unwind[i].module = get_str(l);
		p->unwind[i].shallow_ns = get_u64(r);
		p->unwind[i].total_ns = get_u64(r);
		p->unwind[i].shallow_stacks = get_u64(r);
		p->unwind[i].stacks = get_u64(r);
	}
	return r->ret;
}

static void read_futexes(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i;

	r->section = "futexes";
	n = get_count(r, SZ_FUTEX, UINT32_MAX);
	for (i = 0; i < n && !r->ret; i++) {
		struct futex_wait fw = {};

		fw.pid = get_u32(r);
		fw.tid = get_u32(r);
		fw.addr = get_u64(r);
		fw.ns = get_u64(r);
		fw.count = get_u64(r);
		if (get_flag(r)) {
			fw.symbol = get_str(l);
			fw.module = get_str(l);
			fw.offset = get_u64(r);
		}
		if (!r->ret && profile__add_futex(l->p, &fw))
			oom(r);
	}
}

/* The uncompressed body into a new profile. */
static int parse_body(const uint8_t *body, size_t len, struct profile **out, char *err,
		      size_t errlen)
{
	struct loader l = { .r = { .p = body, .left = len, .err = err, .errlen = errlen } };

	l.p = profile__new(MODE_RUN, NULL);
	if (!l.p)
		return oom(&l.r);
	read_scalars(&l.r, l.p);
	read_strings(&l);
	read_command(&l);
	read_procs(&l);
	read_threads(&l);
	read_stacks(&l);
	read_unwind(&l);
	read_futexes(&l);
	/* Sorted and derived as a collected profile is: a crafted file may list anything in any
	 * order. */
	profile__finish(l.p);
	if (!l.r.ret && l.r.left)
		fail(&l.r, -EBADMSG, "corrupt recording: %zu bytes after the last section",
		     l.r.left);
	free(l.strs);
	if (l.r.ret) {
		profile__free(l.p);
		return l.r.ret;
	}
	*out = l.p;
	return 0;
}

/* The body, inflated into exactly the size declared: no more, no less. */
static int inflate_body(struct rd *r, const uint8_t *z, size_t zlen, uint8_t *body, size_t len)
{
	z_stream s = { .next_in = (Bytef *)z, .avail_in = zlen };
	int zret;

	/* avail_in and avail_out are uInt: the sizes were checked below 4 GiB by the caller. */
	s.next_out = body;
	s.avail_out = len;
	if (inflateInit(&s) != Z_OK)
		return oom(r);
	zret = inflate(&s, Z_FINISH);
	if (zret == Z_MEM_ERROR)
		oom(r);
	else if (zret != Z_STREAM_END || s.total_out != len || s.avail_in)
		fail(r, -EBADMSG, "corrupt recording: the compressed body does not inflate to "
				  "its declared %zu bytes",
		     len);
	inflateEnd(&s);
	return r->ret;
}

/* Magic, format version and the writer's version string: what every version agrees on. */
static int read_preamble(struct rd *r)
{
	char who[64] = "";
	uint32_t version, n, i;

	if (r->left < REC_MAGIC_LEN || memcmp(r->p, REC_MAGIC, REC_MAGIC_LEN))
		return fail(r, -EBADMSG, "not a concur recording");
	take(r, REC_MAGIC_LEN);
	if (r->left < 4 + 1)
		return fail(r, -EBADMSG, "truncated recording");
	version = get_u32(r);
	n = r->p[0];
	/* The writer's name, shown only as printable ASCII, for the version message. */
	for (i = 0; n < sizeof(who) && n < r->left && i < n; i++)
		who[i] = r->p[1 + i] >= 0x20 && r->p[1 + i] < 0x7f ? r->p[1 + i] : '?';
	if (version != REC_FORMAT)
		return fail(r, -ENOTSUP, "recording format version %u%s%s%s; this concur reads "
					 "version %d",
			    version, *who ? " (written by concur " : "", who, *who ? ")" : "",
			    REC_FORMAT);
	if (r->left < 1 + n)
		return fail(r, -EBADMSG, "truncated recording");
	take(r, 1 + n);
	return 0;
}

/* Where the compressed body is, checked against the file's own checksum. */
struct container {
	uint64_t body_len, zlen;
	uint32_t body_crc;
	const uint8_t *z;
};

static int read_container(struct rd *r, const void *buf, size_t len, struct container *c)
{
	if (read_preamble(r))
		return r->ret;
	if (r->left < 8 + 8 + 4 + 4)
		return fail(r, -EBADMSG, "truncated recording");
	c->body_len = get_u64(r);
	c->zlen = get_u64(r);
	c->body_crc = get_u32(r);
	if (c->zlen > r->left - 4)
		return fail(r, -EBADMSG, "truncated recording (%zu of %llu bytes)", len,
			    (unsigned long long)(len - r->left + c->zlen + 4));
	if (c->zlen < r->left - 4)
		return fail(r, -EBADMSG, "corrupt recording: %llu bytes after its end",
			    (unsigned long long)(r->left - 4 - c->zlen));
	c->z = take(r, c->zlen);
	if (crc32(0, buf, len - 4) != get_u32(r))
		return fail(r, -EBADMSG, "checksum mismatch: the recording is damaged");
	/* Only now is the declared size worth believing, and only when deflate could do it. */
	if (c->body_len > REC_MAX_BODY || c->zlen > REC_MAX_FILE ||
	    c->body_len > c->zlen * DEFLATE_MAX_RATIO + 1024)
		return fail(r, -EFBIG, "corrupt recording: a body of %llu bytes from %llu "
				       "compressed is impossible or too large",
			    (unsigned long long)c->body_len, (unsigned long long)c->zlen);
	return 0;
}

int recording_read_mem(const void *buf, size_t len, struct profile **out, char *err,
		       size_t errlen)
{
	struct rd r = { .p = buf, .left = len, .section = "header", .err = err, .errlen = errlen };
	struct container c = {};
	uint8_t *body;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (read_container(&r, buf, len, &c))
		return r.ret;
	body = malloc(c.body_len ? c.body_len : 1);
	if (!body)
		return oom(&r);
	ret = inflate_body(&r, c.z, c.zlen, body, c.body_len);
	if (!ret && crc32(0, body, c.body_len) != c.body_crc)
		ret = fail(&r, -EBADMSG, "checksum mismatch: the recording's body is damaged");
	if (!ret)
		ret = parse_body(body, c.body_len, out, err, errlen);
	free(body);
	return ret;
}

/*
 * The whole file in memory, at most REC_MAX_FILE bytes. A regular file is read in one go (its
 * size, and one byte more to see the end); anything else grows as it delivers.
 */
static int slurp(int fd, uint8_t **out, size_t *len)
{
	size_t alloc = 0, n = 0, want;
	uint8_t *buf = NULL, *tmp;
	struct stat st;
	ssize_t got;
	int err;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size >= REC_MAX_FILE)
		return -EFBIG;
	for (;;) {
		if (n == alloc) {
			if (alloc >= REC_MAX_FILE) {
				free(buf);
				return -EFBIG;
			}
			if (alloc)
				want = alloc * 2;
			else
				want = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1 << 16;
			want = want < REC_MAX_FILE ? want : REC_MAX_FILE;
			tmp = realloc(buf, want);
			if (!tmp) {
				free(buf);
				return -ENOMEM;
			}
			buf = tmp;
			alloc = want;
		}
		got = read(fd, buf + n, alloc - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			free(buf);
			return err;
		}
		if (!got)
			break;
		n += got;
		/* Not a recording (/dev/zero, a log): no need to read on to its end. */
		if (n >= REC_MAGIC_LEN && memcmp(buf, REC_MAGIC, REC_MAGIC_LEN))
			break;
	}
	*out = buf;
	*len = n;
	return 0;
}

int recording_read(const char *path, struct profile **out, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	ret = slurp(fd, &buf, &len);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "%s", ret == -EFBIG ? "too large for a recording" :
							    strerror(-ret));
		return ret;
	}
	ret = recording_read_mem(buf, len, out, err, errlen);
	free(buf);
	return ret;
}
