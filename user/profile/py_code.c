// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <glib.h>
#include "py_code.h"
#include "py_linetable.h"

/* Header bytes read at once: every field the reader uses lies below. */
#define CODE_HEADER 256
#define STR_HEADER  80

static uint64_t get_u64(const uint8_t *b, size_t size, uint16_t off)
{
	uint64_t v = 0;

	if ((size_t)off + 8 <= size)
		memcpy(&v, b + off, 8);
	return v;
}

static uint32_t get_u32(const uint8_t *b, size_t size, uint16_t off)
{
	uint32_t v = 0;

	if ((size_t)off + 4 <= size)
		memcpy(&v, b + off, 4);
	return v;
}

/* A compact str object (CPython's PEP 393 layout) as UTF-8; NULL when unreadable or odd. */
static char *read_str(const struct py_offsets *o, py_read_fn rd, void *ctx, uint64_t addr,
		      size_t max)
{
	uint8_t h[STR_HEADER], *data;
	uint64_t len, start;
	unsigned int state, kind;
	GString *s;
	size_t i;

	if (!addr || o->str_compact_data > STR_HEADER || rd(ctx, addr, h, o->str_compact_data))
		return NULL;
	len = get_u64(h, sizeof(h), o->str_length);
	state = get_u32(h, sizeof(h), o->str_state) & 0xff;
	kind = (state >> 2) & 7;
	/* compact (bit 5): the characters follow the header; ascii (bit 6): a shorter header. */
	if (len > max || !(state & 32) || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	start = addr + (state & 64 ? o->str_ascii_data : o->str_compact_data);
	data = g_malloc(len * kind + 1);
	if (len && rd(ctx, start, data, len * kind)) {
		g_free(data);
		return NULL;
	}
	s = g_string_sized_new(len + 1);
	for (i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? data[i] :
			     kind == 2 ? ((uint16_t *)data)[i] :
					 ((uint32_t *)data)[i];

		if (!g_unichar_validate(c) || !c)
			c = 0xfffd;
		g_string_append_unichar(s, c);
	}
	g_free(data);
	return g_string_free(s, FALSE);
}

static int read_bytes(const struct py_offsets *o, py_read_fn rd, void *ctx, uint64_t addr,
		      uint8_t **out, size_t *len)
{
	uint8_t h[STR_HEADER];
	uint64_t n;
	int err;

	if (!addr || o->bytes_data > STR_HEADER)
		return -EINVAL;
	err = rd(ctx, addr, h, o->bytes_data);
	if (err)
		return err;
	n = get_u64(h, sizeof(h), o->bytes_size);
	if (n > PY_LINETABLE_MAX)
		return -EINVAL;
	*out = g_malloc(n ? n : 1);
	*len = n;
	err = n ? rd(ctx, addr + o->bytes_data, *out, n) : 0;
	if (err) {
		g_free(*out);
		*out = NULL;
	}
	return err;
}

int py_code_read(const struct py_offsets *o, uint64_t code_type, py_read_fn rd, void *ctx,
		 uint64_t addr, struct py_code *out)
{
	uint8_t h[CODE_HEADER];
	int err;

	memset(out, 0, sizeof(*out));
	if (o->code_units > CODE_HEADER || !addr)
		return -EINVAL;
	err = rd(ctx, addr, h, o->code_units);
	if (err)
		return err;
	if (get_u64(h, o->code_units, o->ob_type) != code_type)
		return -EINVAL;
	out->check = py_code_check(get_u32(h, o->code_units, o->code_flags),
				   get_u32(h, o->code_units, o->code_argcount),
				   get_u32(h, o->code_units, o->code_kwonly),
				   get_u32(h, o->code_units, o->code_firstline),
				   get_u64(h, o->code_units, o->code_qualname));
	out->firstline = (int)get_u32(h, o->code_units, o->code_firstline);
	out->qualname =
		read_str(o, rd, ctx, get_u64(h, o->code_units, o->code_qualname), PY_NAME_MAX);
	out->filename =
		read_str(o, rd, ctx, get_u64(h, o->code_units, o->code_filename), PY_FILE_MAX);
	err = read_bytes(o, rd, ctx, get_u64(h, o->code_units, o->code_linetable), &out->linetable,
			 &out->ltlen);
	if (!out->qualname || !out->filename || err) {
		py_code_clear(out);
		return err ? err : -EINVAL;
	}
	return 0;
}

void py_code_clear(struct py_code *c)
{
	g_free(c->qualname);
	g_free(c->filename);
	g_free(c->linetable);
	memset(c, 0, sizeof(*c));
}

char *py_code_frame_name(const struct py_code *c, int32_t instr)
{
	const char *file = strrchr(c->filename, '/');
	int line;

	file = file ? file + 1 : c->filename;
	if (py_linetable_line(c->linetable, c->ltlen, c->firstline, instr, &line) || line < 0)
		return g_strdup_printf("%s (%s:?)", c->qualname, file);
	return g_strdup_printf("%s (%s:%d)", c->qualname, file, line);
}

int py_code_line(const struct py_code *c, int32_t instr)
{
	int line;

	if (py_linetable_line(c->linetable, c->ltlen, c->firstline, instr, &line) || line < 0)
		return 0;
	return line;
}
