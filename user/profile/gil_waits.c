// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gil_waits.h"
#include "py_merge.h"

/* A Python frame: it has a source file, or is one whose code object could not be read. */
static bool is_python(const struct frame *f)
{
	return f->file || (!strcmp(f->name, "[python]") && py_is_interpreter(f->module));
}

/* The leaf-most Python frame of st (frames run root to leaf). */
static const char *waiter_function(const struct stack *st)
{
	uint32_t i;

	for (i = st->nframes; i > 0; i--)
		if (!st->frames[i - 1].kernel && is_python(&st->frames[i - 1]))
			return st->frames[i - 1].name;
	return GIL_NO_PYTHON_FRAME;
}

static const char *comm_of(const struct profile *p, uint32_t pid, uint32_t tid)
{
	size_t i;

	for (i = 0; i < p->nthreads; i++)
		if (p->threads[i].pid == pid && p->threads[i].tid == tid)
			return p->threads[i].comm;
	return NULL;
}

/* One function at any line: "f (x.py:38)" and "f (x.py:39)" agree up to their last ':'. */
static bool same_function(const char *a, const char *b)
{
	const char *ca, *cb;

	if (a == b)
		return true;
	if (!a || !b)
		return false;
	ca = strrchr(a, ':');
	cb = strrchr(b, ':');
	return ca && cb && ca - a == cb - b && !memcmp(a, b, ca - a);
}

/* The holder's share, by thread and function (its lines together, named after the line of
 * its heaviest stack). */
static int add_share(struct gil_wait_row *r, const struct profile *p, const struct stack *st)
{
	struct gil_holder_share *h;
	size_t i;

	for (i = 0; i < r->nholders; i++)
		if (r->holders[i].tid == st->gil_holder &&
		    same_function(r->holders[i].function, st->gil_holder_frame)) {
			r->holders[i].ns += st->ns;
			if (st->ns > r->holders[i].heaviest) {
				r->holders[i].heaviest = st->ns;
				r->holders[i].function = st->gil_holder_frame;
			}
			return 0;
		}
	h = realloc(r->holders, (r->nholders + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	r->holders = h;
	h[r->nholders++] = (struct gil_holder_share){
		.tid = st->gil_holder,
		.thread = st->gil_holder ? comm_of(p, st->pid, st->gil_holder) : NULL,
		.function = st->gil_holder_frame,
		.ns = st->ns,
		.heaviest = st->ns,
	};
	return 0;
}

static int share_by_ns(const void *a, const void *b)
{
	const struct gil_holder_share *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int row_by_ns(const void *a, const void *b)
{
	const struct gil_wait_row *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return strcmp(x->function, y->function);
}

long gil_waits(const struct profile *p, struct gil_wait_row **out)
{
	struct gil_wait_row *rows = NULL, *r, *grown;
	size_t n = 0, i, k;
	const char *fn;
	const char *comm;

	*out = NULL;
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];

		if (st->gil != STACK_GIL_TAKE)
			continue;
		fn = waiter_function(st);
		for (k = 0; k < n; k++)
			if (rows[k].pid == st->pid && rows[k].tid == st->tid &&
			    !strcmp(rows[k].function, fn))
				break;
		if (k == n) {
			grown = realloc(rows, (n + 1) * sizeof(*rows));
			if (!grown)
				goto oom;
			rows = grown;
			comm = comm_of(p, st->pid, st->tid);
			rows[n++] = (struct gil_wait_row){ .pid = st->pid,
							   .tid = st->tid,
							   .thread = comm ? comm : "",
							   .function = fn };
		}
		r = &rows[k];
		r->ns += st->ns;
		r->count += st->count;
		if (add_share(r, p, st))
			goto oom;
	}
	for (k = 0; k < n; k++)
		qsort(rows[k].holders, rows[k].nholders, sizeof(*rows[k].holders), share_by_ns);
	if (n)
		qsort(rows, n, sizeof(*rows), row_by_ns);
	*out = rows;
	return (long)n;
oom:
	gil_waits_free(rows, n);
	return -ENOMEM;
}

void gil_waits_free(struct gil_wait_row *rows, size_t n)
{
	size_t i;

	for (i = 0; rows && i < n; i++)
		free(rows[i].holders);
	free(rows);
}
