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
