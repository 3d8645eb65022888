// SPDX-License-Identifier: MIT
/*
 * Recordings (.concur), the file: magic, format version, checksums and the zlib stream are
 * checked before the body is believed, then handed to the body's reader (recording_read.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <libdeflate.h>
#include "recording_cursor.h"
#include "recording_format.h"

/*
 * The body, inflated into exactly the size declared: no more, no less, and no byte of the
 * stream left over. libdeflate, not zlib's inflate: the body is one buffer of known size, which
 * libdeflate inflates about twice as fast (zlib was 40 % of concur report's time on 100 000
 * stacks); it checks the zlib header and the Adler-32 trailer as inflate did.
 */
static int inflate_body(struct rd *r, const uint8_t *z, size_t zlen, uint8_t *body, size_t len)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t in_used = 0, out_got = 0;
	enum libdeflate_result res;

	if (!d)
		return rd_oom(r);
	res = libdeflate_zlib_decompress_ex(d, z, zlen, body, len, &in_used, &out_got);
	libdeflate_free_decompressor(d);
	if (res != LIBDEFLATE_SUCCESS || in_used != zlen || out_got != len)
		rd_fail(r, -EBADMSG,
			"corrupt recording: the compressed body does not inflate to "
			"its declared %zu bytes",
			len);
	return r->ret;
}

/* Magic, format version and the writer's version string: what every version agrees on. */
static int read_preamble(struct rd *r)
{
	char who[64] = "";
	uint32_t version, n, i;

	if (r->left < REC_MAGIC_LEN || memcmp(r->p, REC_MAGIC, REC_MAGIC_LEN))
		return rd_fail(r, -EBADMSG, "not a concur recording");
	rd_take(r, REC_MAGIC_LEN);
	if (r->left < 4 + 1)
		return rd_fail(r, -EBADMSG, "truncated recording");
	version = rd_u32(r);
	n = r->p[0];
	/* The writer's name, shown only as printable ASCII, for the version message. */
	for (i = 0; n < sizeof(who) && n < r->left && i < n; i++)
		who[i] = r->p[1 + i] >= 0x20 && r->p[1 + i] < 0x7f ? r->p[1 + i] : '?';
	if (version != REC_FORMAT)
		return rd_fail(r, -ENOTSUP,
			       "recording format version %u%s%s%s; this concur reads "
			       "version %d",
			       version, *who ? " (written by concur " : "", who, *who ? ")" : "",
			       REC_FORMAT);
	if (r->left < 1 + n)
		return rd_fail(r, -EBADMSG, "truncated recording");
	rd_take(r, 1 + n);
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
		return rd_fail(r, -EBADMSG, "truncated recording");
	c->body_len = rd_u64(r);
	c->zlen = rd_u64(r);
	c->body_crc = rd_u32(r);
	if (c->zlen > r->left - 4)
		return rd_fail(r, -EBADMSG, "truncated recording (%zu of %llu bytes)", len,
			       (unsigned long long)(len - r->left + c->zlen + 4));
	if (c->zlen < r->left - 4)
		return rd_fail(r, -EBADMSG, "corrupt recording: %llu bytes after its end",
			       (unsigned long long)(r->left - 4 - c->zlen));
	c->z = rd_take(r, c->zlen);
	if (libdeflate_crc32(0, buf, len - 4) != rd_u32(r))
		return rd_fail(r, -EBADMSG, "checksum mismatch: the recording is damaged");
	/* Only now is the declared size worth believing, and only when deflate could do it. */
	if (c->body_len > REC_MAX_BODY || c->zlen > REC_MAX_FILE ||
	    c->body_len > c->zlen * DEFLATE_MAX_RATIO + 1024)
		return rd_fail(r, -EFBIG,
			       "corrupt recording: a body of %llu bytes from %llu "
			       "compressed is impossible or too large",
			       (unsigned long long)c->body_len, (unsigned long long)c->zlen);
	return 0;
}

int recording_read_mem(const void *buf, size_t len, struct profile **out, char *err, size_t errlen)
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
		return rd_oom(&r);
	ret = inflate_body(&r, c.z, c.zlen, body, c.body_len);
	if (!ret && libdeflate_crc32(0, body, c.body_len) != c.body_crc)
		ret = rd_fail(&r, -EBADMSG, "checksum mismatch: the recording's body is damaged");
	if (!ret)
		ret = recording_parse_body(body, c.body_len, out, err, errlen);
	free(body);
	if (!ret)
		profile__finish(*out);
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
		snprintf(err, errlen, "%s",
			 ret == -EFBIG ? "too large for a recording" : strerror(-ret));
		return ret;
	}
	ret = recording_read_mem(buf, len, out, err, errlen);
	free(buf);
	return ret;
}
