// SPDX-License-Identifier: MIT
/*
 * Stripped objects: names from separate debug files (by build-id, by .gnu_debuglink), the
 * names without them, and hostile notes and links. The subject (tests/unit/dso/dbgfix.c,
 * built into DBGFIX_DIR by the Makefile) is copied into a scratch directory, given the debug
 * layout under test, loaded into this process and symbolized from its memory map.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "collect/unwind_table.h"
#include "profile/debuginfo.h"
#include "profile/symbolize.h"

enum { FIRST_HIDDEN, EXPORTED, AFTER_EXPORTED };

struct scratch {
	char dir[64];  /* holds the object, obj/ */
	char root[96]; /* the debug root, root/ */
	char obj[128]; /* the object: obj/libdbgfix.so */
	const char *roots[2];
	void *handle;	      /* the object, once loaded */
	struct symbolizer *s; /* made on the first lookup */
	bool starts;	      /* given the CFI's function starts (the tracer's setting) */
};

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A scratch directory with an empty debug root and a copy of DBGFIX_DIR/src as the object. */
static void scratch_new(struct scratch *t, const char *src)
{
	char tmpl[] = "/tmp/concur-dbgsyms-XXXXXX";

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(t->dir, sizeof(t->dir), "%s", tmpl);
	snprintf(t->root, sizeof(t->root), "%s/root", t->dir);
	snprintf(t->obj, sizeof(t->obj), "%s/obj/libdbgfix.so", t->dir);
	t->roots[0] = t->root;
	t->roots[1] = NULL;
	t->handle = NULL;
	t->s = NULL;
	sh("mkdir -p %s %s/obj && cp %s/%s %s", t->root, t->dir, DBGFIX_DIR, src, t->obj);
}

static void scratch_free(struct scratch *t)
{
	symbolizer__free(t->s);
	if (t->handle)
		dlclose(t->handle);
	sh("rm -rf %s", t->dir);
}

/*
 * Loads the object and names the function `which` of it (one byte in, as a return address
 * would be); *vaddr is that address in the object's ELF terms.
 */
static const char *name_in(struct scratch *t, int which, uint64_t *vaddr)
{
	void *(*addr_of)(int);
	struct sym_result r;
	uint64_t ip;
	Dl_info info;

	if (!t->handle) {
		t->handle = dlopen(t->obj, RTLD_NOW | RTLD_LOCAL);
		cr_assert_not_null(t->handle, "%s", dlerror());
		t->s = symbolizer__new();
		cr_assert_not_null(t->s);
		if (t->starts)
			symbolizer__set_function_starts(t->s, unwind_table__function_starts);
		cr_assert_eq(symbolizer__set_debug_dirs(t->s, t->roots), 0);
		cr_assert_eq(symbolizer__snapshot(t->s, getpid(), NULL, NULL), 0);
	}
	addr_of = (void *(*)(int))dlsym(t->handle, "dbgfix_addr");
	cr_assert_not_null(addr_of);
	ip = (uint64_t)(uintptr_t)addr_of(which) + 1;
	cr_assert(dladdr((void *)(uintptr_t)ip, &info));
	/* The object's first segment is at ELF address 0: its base is its bias. */
	*vaddr = ip - (uint64_t)(uintptr_t)info.dli_fbase;
	symbolizer__user(t->s, getpid(), 0, ip, &r);
	cr_expect_str_eq(r.module, "libdbgfix.so");
	return r.name; /* as long as the symbolizer: until scratch_free() */
}

/* Names the first hidden function, expected to be "[libdbgfix.so]+0x<its address>". */
static void expect_address_name(struct scratch *t)
{
	char want[64];
	uint64_t vaddr;
	const char *got = name_in(t, FIRST_HIDDEN, &vaddr);

	snprintf(want, sizeof(want), "[libdbgfix.so]+0x%llx", (unsigned long long)vaddr);
	cr_expect_str_eq(got, want);
}

Test(debugsyms, stripped_without_debug_file)
{
	struct scratch t = { 0 };
	uint64_t vaddr;

	scratch_new(&t, "libdbgfix.nolink.so");
	/* In .dynsym: its own name. */
	cr_expect_str_eq(name_in(&t, EXPORTED, &vaddr), "dbgfix_exported");
	/* Hidden, just past an exported function: named after it, with the offset. */
	cr_expect(!strncmp(name_in(&t, AFTER_EXPORTED, &vaddr), "dbgfix_exported+0x", 18));
	/* Hidden, no exported function before it: the object and address, never a bare [obj]. */
	expect_address_name(&t);
	scratch_free(&t);
}

/* With the functions' starts from the CFI (as the tracer sets them), a hidden function is
 * named by its own start, also just past an exported one: not "dbgfix_exported+0x..", a
 * name of another function. (The lookup is one byte into the function.) */
Test(debugsyms, stripped_named_by_function_starts)
{
	struct scratch t = { 0 };
	const char *got;
	uint64_t vaddr;
	char want[64];

	scratch_new(&t, "libdbgfix.nolink.so");
	t.starts = true;
	cr_expect_str_eq(name_in(&t, EXPORTED, &vaddr), "dbgfix_exported");
	got = name_in(&t, AFTER_EXPORTED, &vaddr);
	snprintf(want, sizeof(want), "[libdbgfix.so]+0x%llx", (unsigned long long)vaddr - 1);
	cr_expect_str_eq(got, want);
	got = name_in(&t, FIRST_HIDDEN, &vaddr);
	snprintf(want, sizeof(want), "[libdbgfix.so]+0x%llx", (unsigned long long)vaddr - 1);
	cr_expect_str_eq(got, want);
	scratch_free(&t);
}

Test(debugsyms, debug_file_by_build_id)
{
	struct scratch t = { 0 };
	uint64_t vaddr;

	scratch_new(&t, "libdbgfix.nolink.so");
	sh("id=$(readelf -n %s | awk '/Build ID/ { print $3 }') && d=$(echo $id | cut -c1-2) && "
	   "mkdir -p %s/.build-id/$d && cp %s/libdbgfix.debug %s/.build-id/$d/$(echo $id | cut -c3-).debug",
	   t.obj, t.root, DBGFIX_DIR, t.root);
	cr_expect_str_eq(name_in(&t, FIRST_HIDDEN, &vaddr), "dbgfix_first_hidden");
	cr_expect_str_eq(name_in(&t, AFTER_EXPORTED, &vaddr), "dbgfix_after");
	scratch_free(&t);
}

Test(debugsyms, debug_file_by_debuglink)
{
	/* The three places, each alone: beside the object, in .debug/, under root/<its dir>/. */
	const char *places[] = { "%s/obj", "%s/obj/.debug", "%s/root%s/obj" };
	uint64_t vaddr;
	size_t i;

	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		struct scratch t = { 0 };
		char dir[256];

		scratch_new(&t, "libdbgfix.so");
		snprintf(dir, sizeof(dir), places[i], t.dir, t.dir);
		sh("mkdir -p %s && cp %s/libdbgfix.debug %s/", dir, DBGFIX_DIR, dir);
		cr_expect_str_eq(name_in(&t, FIRST_HIDDEN, &vaddr), "dbgfix_first_hidden", "in %s",
				 dir);
		scratch_free(&t);
	}
}

Test(debugsyms, debuglink_crc_mismatch_refused)
{
	struct scratch t = { 0 };

	scratch_new(&t, "libdbgfix.so");
	/* Still an ELF file with the right build-id, but not the file the link's CRC names. */
	sh("cp %s/libdbgfix.debug %s/obj/ && printf x >> %s/obj/libdbgfix.debug", DBGFIX_DIR, t.dir,
	   t.dir);
	expect_address_name(&t);
	scratch_free(&t);
}

/* Replaces the object's section name with the bytes of a file written here. */
static void set_section(struct scratch *t, const char *name, const void *bytes, size_t n)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/section", t->dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(bytes, 1, n, f), n);
	fclose(f);
	sh("objcopy --remove-section %s --add-section %s=%s %s", name, name, path, t->obj);
}

static uint32_t file_crc(const char *path)
{
	unsigned char buf[4096];
	uLong crc = crc32(0, Z_NULL, 0);
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		crc = crc32(crc, buf, (uInt)n);
	fclose(f);
	return (uint32_t)crc;
}

Test(debugsyms, debuglink_leaving_its_directory_refused)
{
	unsigned char sec[32] = "../libdbgfix.debug"; /* NUL-padded to 20, then the CRC */
	uint32_t crc;
	struct scratch t = { 0 };
	char debug[160];

	scratch_new(&t, "libdbgfix.nolink.so");
	snprintf(debug, sizeof(debug), "%s/libdbgfix.debug", t.dir);
	sh("cp %s/libdbgfix.debug %s", DBGFIX_DIR, debug);
	crc = file_crc(debug); /* the right CRC: only the name may refuse it */
	memcpy(sec + 20, &crc, sizeof(crc));
	set_section(&t, ".gnu_debuglink", sec, 24);
	expect_address_name(&t);
	scratch_free(&t);
}

/* A GNU build-id note: namesz 4, descsz, type 3, "GNU\0", then descsz bytes of id. */
static size_t build_id_note(unsigned char *out, uint32_t descsz, size_t have)
{
	uint32_t hdr[3] = { 4, descsz, 3 };

	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + 12, "GNU", 4);
	memset(out + 16, 0xab, have);
	return 16 + have;
}

Test(debugsyms, hostile_build_id_notes_refused)
{
	unsigned char note[16 + 256] = { 0 };
	struct scratch t = { 0 };

	/* Oversized: a 200-byte id (and a debug file where its first bytes would lead). */
	scratch_new(&t, "libdbgfix.nolink.so");
	set_section(&t, ".note.gnu.build-id", note, build_id_note(note, 200, 200));
	sh("readelf -n %s | grep -q NT_GNU_BUILD_ID", t.obj);
	sh("mkdir -p %s/.build-id/ab && cp %s/libdbgfix.debug %s/.build-id/ab/%s.debug", t.root,
	   DBGFIX_DIR, t.root, "abababababababababababababababababababab");
	expect_address_name(&t);
	scratch_free(&t);
	/* Truncated: descsz says more than the section holds. */
	scratch_new(&t, "libdbgfix.nolink.so");
	set_section(&t, ".note.gnu.build-id", note, build_id_note(note, 0x7fffffff, 8));
	expect_address_name(&t);
	scratch_free(&t);
}

Test(debugsyms, link_names_and_directories_checked)
{
	cr_expect(debuglink_name_ok("libc.so.6.debug"));
	cr_expect(debuglink_name_ok("ac61ec5a8eb1396f9fbd350e3169a558528a40.debug"));
	cr_expect_not(debuglink_name_ok(""));
	cr_expect_not(debuglink_name_ok("../etc/shadow"));
	cr_expect_not(debuglink_name_ok(".."));
	cr_expect_not(debuglink_name_ok("a/b.debug"));
	cr_expect_not(debuglink_name_ok("/etc/passwd"));
	cr_expect_not(debuglink_name_ok("new\nline"));
	cr_expect(debug_objdir_ok("/usr/lib/x86_64-linux-gnu"));
	cr_expect(debug_objdir_ok("/"));
	cr_expect_not(debug_objdir_ok("usr/lib"));
	cr_expect_not(debug_objdir_ok("/usr/lib/../../etc"));
	cr_expect_not(debug_objdir_ok("/usr/lib/.."));
	cr_expect_not(debug_objdir_ok("/usr/./lib"));
}

Test(debugsyms, relative_debug_dir_refused)
{
	struct symbolizer *s = symbolizer__new();
	const char *dirs[] = { "usr/lib/debug", NULL };

	cr_assert_not_null(s);
	cr_expect_eq(symbolizer__set_debug_dirs(s, dirs), -EINVAL);
	symbolizer__free(s);
}
