// SPDX-License-Identifier: MIT
/*
 * Separate debug files, looked up as the GDB manual's "Separate Debug Files" describes: by
 * build-id, ROOT/.build-id/xx/yyyy....debug (xx the first byte in hex, the rest after it),
 * then by the name .gnu_debuglink gives, in the object's directory, its .debug/
 * subdirectory, and ROOT/<the object's directory>/, checked against the link's CRC-32.
 *
 * The build-id note, the debuglink section and the object's path come from the target and
 * are untrusted: lengths are bounded, the build-id is only used hex-encoded by us, a link
 * name with a "/" or ".." is refused, and the object's directory must be a plain absolute
 * path. Under that directory no symlink is followed at all (openat2 RESOLVE_NO_SYMLINKS):
 * the target may own it. Under a debug root (the administrator's), nothing resolves outside
 * the root (RESOLVE_BENEATH). Candidates must be regular files; they are only ever read.
 */
#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>
#include "debuginfo.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif
/* Debug files are big (libc's is 4 MiB, a browser's gigabytes): past this, not ours to read. */
#define MAX_DEBUG_FILE (2ull << 30)
#define CRC_CHUNK      (64u << 10)

static void read_build_id(Elf_Data *data, struct debug_ref *ref)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while (off < data->d_size && (next = gelf_getnote(data, off, &nh, &name_off, &desc_off))) {
		/* gelf_getnote checked the note fits in data; the length is ours to bound. */
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((const char *)data->d_buf + name_off, "GNU", 4)) {
			if (nh.n_descsz >= BUILD_ID_MIN && nh.n_descsz <= BUILD_ID_MAX &&
			    desc_off + nh.n_descsz <= data->d_size) {
				memcpy(ref->build_id, (const char *)data->d_buf + desc_off,
				       nh.n_descsz);
				ref->build_id_len = nh.n_descsz;
			}
			return;
		}
		off = next;
	}
}

bool debuglink_name_ok(const char *name)
{
	size_t i, len = strnlen(name, DEBUGLINK_MAX + 1);

	if (!len || len > DEBUGLINK_MAX || strstr(name, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

bool debug_objdir_ok(const char *dir)
{
	size_t len = strnlen(dir, 4096);

	if (dir[0] != '/' || len >= 4096 || strstr(dir, "/./") || strstr(dir, "/../"))
		return false;
	if ((len >= 2 && !strcmp(dir + len - 2, "/.")) ||
	    (len >= 3 && !strcmp(dir + len - 3, "/..")))
		return false;
	for (; *dir; dir++)
		if ((unsigned char)*dir < 0x20 || *dir == 0x7f)
			return false;
	return true;
}

/* The name, NUL-padded to 4 bytes, then the CRC in the object's byte order. */
static void read_debuglink(Elf *elf, Elf_Data *data, struct debug_ref *ref)
{
	const char *p = data->d_buf;
	size_t len = strnlen(p, data->d_size), crc_off = (len + 4) & ~(size_t)3;
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	uint32_t crc;

	if (len == data->d_size || crc_off + 4 > data->d_size || !debuglink_name_ok(p) || !ident)
		return;
	memcpy(&crc, p + crc_off, sizeof(crc));
	if ((ident[EI_DATA] == ELFDATA2MSB) != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
		crc = bswap_32(crc);
	memcpy(ref->link, p, len + 1);
	ref->link_crc = crc;
}

void debug_ref__read(Elf *elf, struct debug_ref *ref)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *name;

	memset(ref, 0, sizeof(*ref));
	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || !(data = elf_getdata(scn, NULL)) || !data->d_buf)
			continue;
		if (sh.sh_type == SHT_NOTE && !ref->build_id_len)
			read_build_id(data, ref);
		else if (!strcmp(name, ".gnu_debuglink") && !ref->link[0])
			read_debuglink(elf, data, ref);
	}
}

static int open_resolving(int dirfd, const char *path, uint64_t resolve)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
				.resolve = resolve };
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static bool crc_matches(int fd, uint32_t want)
{
	unsigned char *buf = malloc(CRC_CHUNK);
	uLong crc = crc32(0, Z_NULL, 0);
	off_t off = 0;
	ssize_t n = -1;

	while (buf && (n = pread(fd, buf, CRC_CHUNK, off)) > 0) {
		crc = crc32(crc, buf, (uInt)n);
		off += n;
	}
	free(buf);
	return !n && (uint32_t)crc == want;
}

/* The candidate's build-id matches ref's, when both have one (required when by_id). */
static bool build_id_matches(int fd, const struct debug_ref *ref, bool by_id)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	struct debug_ref got;
	bool ok = false;

	if (elf && elf_kind(elf) == ELF_K_ELF) {
		debug_ref__read(elf, &got);
		if (!got.build_id_len || !ref->build_id_len)
			ok = !by_id;
		else
			ok = got.build_id_len == ref->build_id_len &&
			     !memcmp(got.build_id, ref->build_id, got.build_id_len);
	}
	elf_end(elf);
	return ok;
}

/* fd when it is a regular file of a sane size that is ref's debug file; closed otherwise. */
static int accept_candidate(int fd, const struct debug_ref *ref, bool by_id)
{
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_DEBUG_FILE ||
	    !build_id_matches(fd, ref, by_id) || (!by_id && !crc_matches(fd, ref->link_crc))) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int open_by_build_id(const struct debug_ref *ref, const char *root)
{
	char path[4096 + 2 * BUILD_ID_MAX + 32];
	size_t i;
	int n;

	n = snprintf(path, sizeof(path), "%s/.build-id/%02x/", root, ref->build_id[0]);
	for (i = 1; i < ref->build_id_len && n > 0 && (size_t)n < sizeof(path) - 8; i++)
		n += snprintf(path + n, sizeof(path) - n, "%02x", ref->build_id[i]);
	if (n <= 0 || (size_t)n >= sizeof(path) - 8)
		return -ENAMETOOLONG;
	strcpy(path + n, ".debug");
	return accept_candidate(open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), ref,
				true);
}

/* root/objdir/link, nothing resolving outside root. */
static int open_under_root(const struct debug_ref *ref, const char *root, const char *objdir)
{
	const char *rel = objdir + 1; /* relative to the root */
	char path[2 * 4096];
	int dirfd, fd;

	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", ref->link) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	fd = open_resolving(dirfd, path, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	close(dirfd);
	return accept_candidate(fd, ref, false);
}

static int open_by_link(const struct debug_ref *ref, const char *const *roots, const char *objdir)
{
	static const char *const subdirs[] = { "", "/.debug" };
	char path[2 * 4096];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s/%s",
				     strcmp(objdir, "/") ? objdir : "", subdirs[i],
				     ref->link) >= sizeof(path))
			continue;
		fd = open_resolving(AT_FDCWD, path, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if ((fd = accept_candidate(fd, ref, false)) >= 0)
			return fd;
	}
	for (i = 0; roots[i]; i++)
		if ((fd = open_under_root(ref, roots[i], objdir)) >= 0)
			return fd;
	return -ENOENT;
}

int debug_file__open(const struct debug_ref *ref, const char *const *roots, const char *objdir)
{
	size_t i;
	int fd;

	for (i = 0; ref->build_id_len && roots[i]; i++)
		if ((fd = open_by_build_id(ref, roots[i])) >= 0)
			return fd;
	if (ref->link[0] && objdir && debug_objdir_ok(objdir) && debuglink_name_ok(ref->link))
		return open_by_link(ref, roots, objdir);
	return -ENOENT;
}
