// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "output.h"
#include "out_pprof.h"
#include "out_html.h"
#include "recording.h"

static const struct {
	const char *ext;
	enum out_format fmt;
	writer_fn write;
} formats[] = {
	{ ".json", OUT_JSON, write_json },    { ".folded", OUT_FOLDED, write_folded },
	{ ".txt", OUT_FOLDED, write_folded }, { ".pb.gz", OUT_PPROF, write_pprof },
	{ ".html", OUT_HTML, write_html },    { ".concur", OUT_RECORDING, write_recording },
};

static int find_format(const char *path)
{
	size_t n = strlen(path), e, i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		e = strlen(formats[i].ext);
		if (n > e && !strcmp(path + n - e, formats[i].ext))
			return i;
	}
	return -EINVAL;
}

const char *output_extensions(void)
{
	static char list[128];
	size_t i, len = 0;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]) && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
				formats[i].ext);
	return list;
}

int output_format(const char *path)
{
	int i = find_format(path);

	return i < 0 ? i : (int)formats[i].fmt;
}

/* Under sudo, files belong to the user who asked for them. */
static void chown_to_invoker(int fd)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *end;
	long uid, gid;

	if (!u || !g)
		return;
	uid = strtol(u, &end, 10);
	if (*end || end == u)
		return;
	gid = strtol(g, &end, 10);
	if (*end || end == g)
		return;
	if (fchown(fd, uid, gid))
		return; /* root-owned is still a correct file */
}

/* The directory a path's file goes in: "." for a bare name; -ENAMETOOLONG if it does not fit. */
static int dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(dir, size, ".");
	else if (slash == path)
		n = snprintf(dir, size, "/");
	else
		n = snprintf(dir, size, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * The file is made beside its name and renamed into place: the directory must take a new
 * file. Tried for real (a hidden file made and removed): permissions say nothing for root, and
 * nothing about a read-only mount or /proc.
 */
static int try_create_in(const char *dir)
{
	char probe[PATH_MAX];
	int fd, n = snprintf(probe, sizeof(probe), "%s/.concur-check.XXXXXX", dir);

	if (n < 0 || (size_t)n >= sizeof(probe))
		return -ENAMETOOLONG;
	fd = mkostemp(probe, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(probe);
	return 0;
}

int output_check(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	int err;

	if (find_format(path) < 0)
		return -EINVAL;
	if (!*path || path[strlen(path) - 1] == '/')
		return -EISDIR;
	err = dir_of(path, dir, sizeof(dir));
	if (err)
		return err;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!lstat(path, &st) && S_ISDIR(st.st_mode))
		return -EISDIR;
	return try_create_in(dir);
}

int output_write(const struct profile *p, const struct advice *a, const char *path)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int idx = find_format(path), fd, err = 0;
	FILE *f;

	if (idx < 0)
		return idx;
	if (slash)
		err = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path,
			       slash + 1);
	else
		err = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (err < 0 || (size_t)err >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* mkostemp creates with O_EXCL: never through a link planted at the name. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0644);
	chown_to_invoker(fd);
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	/* Writers report a stream error as -EIO; the failed write's errno says more (ENOSPC). */
	errno = 0;
	err = formats[idx].write(p, a, f);
	if (err == -EIO && errno)
		err = -errno;
	if ((fflush(f) || ferror(f)) && !err)
		err = errno ? -errno : -EIO;
	if (!err && fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = errno ? -errno : -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
cleanup:
	if (err)
		unlink(tmp);
	return err;
}
