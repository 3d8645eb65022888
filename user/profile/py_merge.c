// SPDX-License-Identifier: MIT
#include <string.h>
#include "py_merge.h"

#define EVAL_LOOP "_PyEval_EvalFrameDefault"

/*
 * Interpreter functions kept visible: taking and dropping the GIL, the lock and sleep calls a
 * Python program blocks in, and the calls that release the GIL around them.
 */
static const char *const kept[] = {
	"take_gil",
	"drop_gil",
	"PyThread_acquire_lock_timed",
	"PyThread_acquire_lock",
	"lock_PyThread_acquire_lock",
	"rlock_acquire",
	"acquire_timed",
	"time_sleep",
	"pysleep",
	"PyEval_RestoreThread",
	"PyEval_SaveThread",
	"os_read",
	"os_write",
	"os_waitpid",
	"sock_recv",
	"sock_send",
	"sock_accept",
	"sock_call_ex",
	"select_select",
	"select_poll_poll",
	"select_epoll_poll",
};

bool py_is_interpreter(const char *module)
{
	return module && (!strncmp(module, "python3", 7) || !strncmp(module, "libpython3", 10));
}

static bool is_eval_loop(const char *name)
{
	size_t n = strlen(EVAL_LOOP);

	return name && !strncmp(name, EVAL_LOOP, n) && (name[n] == '\0' || name[n] == '.');
}

static bool is_kept(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(kept) / sizeof(kept[0]); i++)
		if (!strcmp(name, kept[i]))
			return true;
	return false;
}

enum py_merge_result py_merge(const struct py_native *nat, size_t nn, bool cut, const bool *entry,
			      size_t np, int32_t *out, size_t *nout)
{
	size_t i, py = 0, n = 0, loops = 0;
	bool short_loop = false;

	for (i = 0; i < nn; i++) {
		if (is_eval_loop(nat[i].name)) {
			loops++;
			if (py >= np)
				short_loop = true;
			while (py < np) {
				out[n++] = -1 - (int32_t)py;
				if (entry[py++])
					break;
			}
		} else if (!py_is_interpreter(nat[i].module) || is_kept(nat[i].name)) {
			out[n++] = (int32_t)i;
		}
	}
	*nout = n;
	if (!loops && np) {
		while (py < np)
			out[n++] = -1 - (int32_t)py++;
		*nout = n;
		return PY_MERGE_ROOTED;
	}
	i = np - py;
	while (py < np)
		out[n++] = -1 - (int32_t)py++;
	*nout = n;
	if (short_loop)
		return PY_MERGE_MISMATCH;
	if (cut && i)
		return PY_MERGE_ROOTED;
	return i > 1 ? PY_MERGE_MISMATCH : PY_MERGE_SPLICED;
}

size_t py_gil_slot(const struct py_native *f, size_t n, const char *fn, size_t *drop)
{
	size_t i, interp = n;

	*drop = n;
	for (i = 0; i < n; i++) {
		if (f[i].python)
			return i;
		if (!py_is_interpreter(f[i].module))
			continue;
		if (interp == n)
			interp = i;
		if (*drop == n && f[i].name && !strcmp(f[i].name, fn))
			*drop = i;
	}
	return interp;
}
