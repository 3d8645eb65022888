// SPDX-License-Identifier: MIT
/* What the unwinder did, for the log and the profile: the tables' counts, and how the walks
 * ended by object (the kernel's per-CPU counters summed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "profile/profile.h"
#include "unwind_loader_int.h"

void unwind_loader__log(const struct unwind_loader *l)
{
	const struct unwind_loader_stats *st = &l->st;

	pr_info("unwind tables: %u objects (%u with a table, %u without CFI, %u over the limits, "
		"%u not built when the window ended), %u of %u rows, %u of %u rules, built in %.1f "
		"ms of CPU (%s, raised %u times), loaded in %.1f ms; %u indexes written, %u mappings "
		"left out",
		st->objects, st->tables, st->no_cfi, st->full, st->unbuilt, st->rows, st->max_rows,
		st->rules, st->max_rules, st->build_ns / 1e6,
		l->prio == BG_PRIO_IDLE	  ? "in the background at SCHED_IDLE" :
		l->prio == BG_PRIO_NICE	  ? "in the background at nice 19" :
		l->prio == BG_PRIO_NORMAL ? "in the background at concur's priority" :
					    "in the main loop",
		st->hurried, st->load_ns / 1e6, st->procs, st->dropped);
}

static uint64_t walks(const struct unwind_stops *s)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < UNWIND_STOP_MAX; k++)
		n += s->stop[k];
	return n;
}

static int cmp_stops(const void *a, const void *b)
{
	uint64_t x = walks(a), y = walks(b);

	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(((const struct unwind_stops *)a)->module,
		      ((const struct unwind_stops *)b)->module);
}

int unwind_loader__collect(const struct unwind_loader *l, int stats_fd, struct profile *p)
{
	int ncpus = libbpf_num_possible_cpus(), c, k;
	struct unwind_obj_stats *v;
	GArray *out;
	uint32_t slot;

	if (ncpus <= 0)
		return 0;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	out = g_array_new(FALSE, TRUE, sizeof(struct unwind_stops));
	for (slot = 0; slot < l->nslots; slot++) {
		struct unwind_stops s = { 0 };

		if (bpf_map_lookup_elem(stats_fd, &slot, v))
			continue;
		for (c = 0; c < ncpus; c++) {
			for (k = 0; k < UNWIND_STOP_MAX; k++)
				s.stop[k] += v[c].stop[k];
			s.fp_frames += v[c].fp_frames;
		}
		if (!walks(&s) && !s.fp_frames)
			continue;
		s.module = profile__intern(p, l->slots[slot]);
		if (!s.module)
			break;
		g_array_append_val(out, s);
	}
	free(v);
	if (slot < l->nslots) {
		g_array_free(out, TRUE);
		return -ENOMEM;
	}
	if (out->len) /* an empty GArray's data is NULL, which qsort must not be given */
		qsort(out->data, out->len, sizeof(struct unwind_stops), cmp_stops);
	p->utables = (struct unwind_tables){ l->st.objects, l->st.tables,   l->st.no_cfi,
					     l->st.full,    l->st.rows,	    l->st.max_rows,
					     l->st.rules,   l->st.max_rules };
	g_free(p->ustops);
	p->nustops = out->len;
	p->ustops = (struct unwind_stops *)g_array_free(out, FALSE);
	return 0;
}
