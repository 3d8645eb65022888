// SPDX-License-Identifier: MIT
/* The terminal report: readable at 80 columns, colour only when asked (on a TTY). */
#include <stdlib.h>
#include <string.h>
#include "concur.h"
#include "advise/advise.h"
#include "output.h"
#include "printable.h"
#include "profile/gil_waits.h"
#include "profile/py_offsets.h"
#include "profile/stack_marks.h"
#include "profile/symbolize.h"
#include "profile/unnamed.h"
#include "syscalls.h"

#define BAR_WIDTH   40
#define TOP_THREADS 10
#define TOP_OTHER   3
#define TOP_ADVICE  10
#define WIDTH	    80

/* ANSI colours per category, matching the order of enum concur_cat. */
static const char *const colours[CAT_MAX] = {
	"\033[31m", "\033[33m", "\033[35m", "\033[34m", "\033[36m",
	"\033[94m", "\033[32m", "\033[90m", "\033[37m", "\033[95m",
};

struct style {
	bool on;
};

static const char *sgr(const struct style *s, const char *code)
{
	return s->on ? code : "";
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* A percentage in 5 columns: "." for nothing, "100" when whole. */
static void pct5(FILE *f, uint64_t part, uint64_t whole)
{
	double v = pct(part, whole);

	if (!part)
		fprintf(f, "%5s", ".");
	else if (v >= 99.95)
		fprintf(f, "%5s", "100");
	else
		fprintf(f, "%5.1f", v);
}

static void print_secs(FILE *f, int width, uint64_t ns)
{
	if (ns >= 10000000000ull)
		fprintf(f, "%*.0fs", width - 1, ns / 1e9);
	else if (ns >= 1000000000ull)
		fprintf(f, "%*.2fs", width - 1, ns / 1e9);
	else
		fprintf(f, "%*.1fms", width - 2, ns / 1e6);
}

/* A name from the target (at most a comm's bytes) in width columns, cut or padded. */
static void print_comm(FILE *f, const char *comm, int width)
{
	int n = (int)printable_fputs(f, comm, CONCUR_COMM_LEN - 1, width);

	fprintf(f, "%*s", width - n, "");
}

static void print_bar(FILE *f, const struct style *s, int cat, double v)
{
	static const char *const eighths[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
	int units, i;

	/* Over 100% only when a sum of times wrapped (a crafted recording): the bar stays a bar. */
	v = v > 100.0 ? 100.0 : v;
	units = (int)(v / 100.0 * BAR_WIDTH * 8 + 0.5);
	fputs(sgr(s, colours[cat]), f);
	for (i = 0; i < units / 8; i++)
		fputs("█", f);
	fputs(eighths[units % 8], f);
	fputs(sgr(s, "\033[0m"), f);
}

/* The command line, printable, cut to fit one line. */
static void print_command(FILE *f, char **argv)
{
	int room = 60;
	size_t i;

	for (i = 0; argv && argv[i] && room > 0; i++) {
		fputc(' ', f);
		room -= (int)printable_fputs(f, argv[i], SIZE_MAX, room);
	}
	if (room <= 0)
		fputs("...", f);
}

/*
 * Time the threads were on a CPU that the CPU did not run them (account.h): taken by the
 * hypervisor, or by interrupts. Part of cpu; named when it is over 1 % of it, where it starts
 * to explain why cpu exceeds what the kernel's task counters say, or a slower run.
 */
static void print_steal(FILE *f, const struct profile *p, const struct style *s)
{
	uint64_t ns[CAT_MAX], steal = profile__steal_ns(p);

	profile__thread_ns(p, ns);
	if (!steal || steal * 100 <= ns[CAT_CPU])
		return;
	fprintf(f,
		"%ssteal%s %.1f%% of the cpu time (%.3f s): on a CPU the host or interrupts took\n",
		sgr(s, "\033[1;33m"), sgr(s, "\033[0m"), pct(steal, ns[CAT_CPU]), steal / 1e9);
}

static void print_header(FILE *f, const struct profile *p, const struct style *s)
{
	fprintf(f, "%sconcur %s:%s", sgr(s, "\033[1m"), p->mode == MODE_RUN ? "run" : "attach",
		sgr(s, "\033[0m"));
	print_command(f, p->command);
	if (p->mode == MODE_RUN && p->exit_status >= 0)
		fprintf(f, "  (exit status %d)", p->exit_status);
	fprintf(f, "%s\n", p->interrupted ? "  [interrupted]" : "");
	fputs("window ", f);
	print_secs(f, 1, p->window_ns);
	fprintf(f, ", %d CPUs, %zu process%s, %zu thread%s, %llu switches, %llu wakeups\n", p->cpus,
		p->nprocs, p->nprocs == 1 ? "" : "es", p->nthreads, p->nthreads == 1 ? "" : "s",
		(unsigned long long)p->stats[STAT_SWITCHES],
		(unsigned long long)p->stats[STAT_WAKEUPS]);
	if (profile__lost(p))
		fprintf(f, "%s%llu events could not be accounted (maps full)%s\n",
			sgr(s, "\033[1;31m"), (unsigned long long)profile__lost(p),
			sgr(s, "\033[0m"));
	else
		fputs("0 events lost\n", f);
	/* Runnable time the quota took: named here, or it reads as a busy machine. */
	if (p->throttled_ns)
		fprintf(f,
			"%sthrottled by its CPU quota%s for %.2f s (%llu periods, cgroup cpu.stat)\n",
			sgr(s, "\033[1;33m"), sgr(s, "\033[0m"), p->throttled_ns / 1e9,
			(unsigned long long)p->nr_throttled);
	print_steal(f, p, s);
}

static void print_split(FILE *f, const struct profile *p, const struct style *s)
{
	uint64_t ns[CAT_MAX], total = profile__thread_ns(p, ns);
	int c;

	fprintf(f, "\n%sWhere the time went%s (thread-time ", sgr(s, "\033[1m"), sgr(s, "\033[0m"));
	print_secs(f, 1, total);
	fputs(")\n", f);
	for (c = 0; c < CAT_MAX; c++) {
		fprintf(f, "  %-9s %6.1f%%  ", cat_names[c], pct(ns[c], total));
		print_bar(f, s, c, pct(ns[c], total));
		fputc('\n', f);
	}
}

static void print_columns(FILE *f, const struct style *s, const char *first)
{
	int c;

	fprintf(f, "%s  %-6s %-12s %7s", sgr(s, "\033[1m"), first, "COMM", "TIME");
	for (c = 0; c < CAT_MAX; c++)
		fprintf(f, "%5s", cat_short_names[c]);
	fprintf(f, "%s\n", sgr(s, "\033[0m"));
}

static void print_row(FILE *f, uint32_t id, const char *comm, uint64_t total,
		      const uint64_t ns[CAT_MAX])
{
	int c;

	fprintf(f, "  %-6u ", id);
	print_comm(f, comm, 12);
	fputc(' ', f);
	print_secs(f, 7, total);
	for (c = 0; c < CAT_MAX; c++)
		pct5(f, ns[c], total);
	fputc('\n', f);
}

static void print_other(FILE *f, const struct proc *pr)
{
	char buf[32];
	size_t i;

	if (!pr->nother)
		return;
	fputs("          other: ", f);
	for (i = 0; i < pr->nother && i < TOP_OTHER; i++) {
		fprintf(f, "%s%s ", i ? ", " : "", syscall_name(pr->other[i].nr, buf, sizeof(buf)));
		print_secs(f, 1, pr->other[i].ns);
	}
	fputc('\n', f);
}

static void print_procs(FILE *f, const struct profile *p, const struct style *s)
{
	size_t i;

	fputs("\nProcesses (% of each process's thread-time)\n", f);
	print_columns(f, s, "PID");
	for (i = 0; i < p->nprocs; i++) {
		print_row(f, p->procs[i].pid, p->procs[i].comm, cat_sum(p->procs[i].ns),
			  p->procs[i].ns);
		print_other(f, &p->procs[i]);
	}
}

static int by_lifetime_desc(const void *a, const void *b)
{
	uint64_t x = thread_lifetime_ns(*(const struct thread *const *)a);
	uint64_t y = thread_lifetime_ns(*(const struct thread *const *)b);

	return x > y ? -1 : x < y;
}

static int print_threads(FILE *f, const struct profile *p, const struct style *s)
{
	size_t n = p->nthreads < TOP_THREADS ? p->nthreads : TOP_THREADS, i;
	const struct thread **order = calloc(p->nthreads + 1, sizeof(*order));

	if (!order)
		return -ENOMEM;
	for (i = 0; i < p->nthreads; i++)
		order[i] = &p->threads[i];
	qsort(order, p->nthreads, sizeof(*order), by_lifetime_desc);
	fprintf(f, "\nTop threads by lifetime (%zu of %zu)\n", n, p->nthreads);
	print_columns(f, s, "TID");
	for (i = 0; i < n; i++)
		print_row(f, order[i]->tid, order[i]->comm, thread_lifetime_ns(order[i]),
			  order[i]->ns);
	free(order);
	return 0;
}

static int wrap(FILE *f, int col, int indent, const char *text);

#define STR_(x) #x
#define STR(x)	STR_(x)

/* A "note:" paragraph under the stacks, line wrapped below it. */
static void print_note(FILE *f, const struct style *s, const char *line)
{
	fprintf(f, "%snote:%s ", sgr(s, "\033[1m"), sgr(s, "\033[0m"));
	wrap(f, 6, 2, line);
	fputc('\n', f);
}

/* Why each mark's stacks were cut: the end of "N stacks (...) ...". */
static const char *const mark_reasons[MARK_MAX] = {
	[MARK_TRUNCATED] = "were deeper than the kernel's limit of " STR(
		CONCUR_STACK_DEPTH) " frames: their outer callers are missing",
	[MARK_UNWIND_STOPPED] = "walked into return addresses outside the process's code (a "
				"function using rbp as a general register, or JIT code) and were "
				"cut there",
	[MARK_NO_TABLE] = "were taken before their process's unwind tables were in (its first "
			  "milliseconds), by the frame-pointer walk: their callers are likely "
			  "missing",
};

/* With --unwind=cfi (stop reasons or table figures recorded) the depth limit is the BPF
 * walker's, not the kernel's: it too keeps the frames nearest the leaf. */
static const char *mark_reason(const struct profile *p, int m)
{
	if (m == MARK_TRUNCATED && (p->nustops || p->utables.max_rows))
		return "were deeper than the CFI walker's limit of " STR(
			CONCUR_STACK_DEPTH) " frames: their outer callers are missing";
	return mark_reasons[m];
}

/* Stacks concur cut, counted from the markers at their roots. */
static void print_marked(FILE *f, const struct profile *p, const struct style *s)
{
	struct mark_total t[MARK_MAX];
	char line[400];
	int m;

	profile__mark_totals(p, t);
	for (m = MARK_NONE + 1; m < MARK_MAX; m++) {
		if (!t[m].stacks)
			continue;
		snprintf(line, sizeof(line),
			 "%llu stacks (%llu samples, %.3f s) %s; their root frame is %s.",
			 (unsigned long long)t[m].stacks, (unsigned long long)t[m].samples,
			 t[m].ns / 1e9, mark_reason(p, m), stack_mark_name(m));
		print_note(f, s, line);
	}
}

/* How the CFI unwinder's walks ended (include/unwind.h's reasons), as the report says it. */
static const char *const ustop_text[UNWIND_STOP_MAX] = {
	[UNWIND_STOP_COMPLETE] = "complete",
	[UNWIND_STOP_FP_FALLBACK] = "frame pointers (no tables yet)",
	[UNWIND_STOP_NO_TABLE] = "no table",
	[UNWIND_STOP_READ_FAULT] = "stack unreadable",
	[UNWIND_STOP_DEPTH] = "depth limit",
	[UNWIND_STOP_INVALID] = "CFI not followed",
	[UNWIND_STOP_BAD_FRAME] = "bad frame",
};

/* Objects where more walks than this stopped early are named, at most USTOPS_SHOWN of them. */
#define USTOPS_SHOWN 5

/* --unwind=cfi: how the user stacks' walks ended, and the objects where they stopped early. */
static void print_ustops(FILE *f, const struct profile *p, const struct style *s)
{
	uint64_t tot[UNWIND_STOP_MAX] = { 0 }, all = 0, early;
	size_t i, shown = 0;
	int k;

	for (i = 0; i < p->nustops; i++)
		for (k = 0; k < UNWIND_STOP_MAX; k++)
			tot[k] += p->ustops[i].stop[k];
	for (k = 0; k < UNWIND_STOP_MAX; k++)
		all += tot[k];
	if (!p->nustops)
		return;
	fprintf(f, "User stacks walked by CFI tables: %llu walks", (unsigned long long)all);
	for (k = 0; k < UNWIND_STOP_MAX; k++)
		if (tot[k])
			fprintf(f, ", %s %.1f%%", ustop_text[k], pct(tot[k], all));
	fputc('\n', f);
	for (i = 0; i < p->nustops && shown < USTOPS_SHOWN; i++) {
		const struct unwind_stops *u = &p->ustops[i];

		early = 0;
		for (k = UNWIND_STOP_NO_TABLE; k < UNWIND_STOP_MAX; k++)
			early += k == UNWIND_STOP_DEPTH ? 0 : u->stop[k];
		if (!early)
			continue;
		shown++;
		fprintf(f, "%snote:%s walks stopped early in ", sgr(s, "\033[1m"),
			sgr(s, "\033[0m"));
		print_comm(f, u->module, (int)strnlen(u->module, 60));
		fputc(':', f);
		for (k = UNWIND_STOP_NO_TABLE; k < UNWIND_STOP_MAX; k++)
			if (u->stop[k] && k != UNWIND_STOP_DEPTH)
				fprintf(f, " %s %llu", ustop_text[k],
					(unsigned long long)u->stop[k]);
		fputc('\n', f);
	}
}

/* Stacks with user frames concur could not name: how many, and why (unnamed.h). */
static void print_unnamed(FILE *f, const struct profile *p, const struct style *s)
{
	struct mark_total t[UNNAMED_MAX];
	char line[700];
	int n;

	profile__unnamed_totals(p, t);
	if (!t[UNNAMED_NO_MAP].stacks && !t[UNNAMED_OUTSIDE].stacks)
		return;
	n = snprintf(line, sizeof(line),
		     "%llu stacks (%llu samples, %.3f s) have user frames concur could not name, "
		     "shown as [unknown]:",
		     (unsigned long long)(t[UNNAMED_NO_MAP].stacks + t[UNNAMED_OUTSIDE].stacks),
		     (unsigned long long)(t[UNNAMED_NO_MAP].samples + t[UNNAMED_OUTSIDE].samples),
		     (t[UNNAMED_NO_MAP].ns + t[UNNAMED_OUTSIDE].ns) / 1e9);
	if (t[UNNAMED_NO_MAP].stacks)
		n += snprintf(line + n, sizeof(line) - n,
			      " %llu (%.3f s) because no memory map of their process's image "
			      "could be read (it exited or exec'd first; module " SYM_NO_MAP ")%s",
			      (unsigned long long)t[UNNAMED_NO_MAP].stacks,
			      t[UNNAMED_NO_MAP].ns / 1e9, t[UNNAMED_OUTSIDE].stacks ? ";" : ".");
	if (t[UNNAMED_OUTSIDE].stacks)
		snprintf(line + n, sizeof(line) - n,
			 " %llu (%.3f s) at addresses outside every file the process had mapped "
			 "when its map was read (JIT or anonymous code, or code mapped and gone "
			 "between reads).",
			 (unsigned long long)t[UNNAMED_OUTSIDE].stacks,
			 t[UNNAMED_OUTSIDE].ns / 1e9);
	fprintf(f, "%swarning:%s ", sgr(s, "\033[1;33m"), sgr(s, "\033[0m"));
	wrap(f, 9, 2, line);
	fputc('\n', f);
}

/* The Python walker's failures the reader should know of (the counts: the JSON, -v). */
static void print_py_notes(FILE *f, const struct profile *p, const struct style *s)
{
	unsigned int major, minor, said[8][2];
	size_t i, j, nsaid = 0;
	char line[400];

	/* A CPython without a frame layout: its stacks hold the interpreter's native frames. */
	for (i = 0; i < p->nprocs && nsaid < 8; i++) {
		if (sscanf(p->procs[i].runtime, "CPython %u.%u", &major, &minor) != 2 ||
		    py_offsets_find(major, minor))
			continue;
		for (j = 0; j < nsaid && (said[j][0] != major || said[j][1] != minor); j++)
			;
		if (j < nsaid)
			continue;
		said[nsaid][0] = major;
		said[nsaid++][1] = minor;
		snprintf(line, sizeof(line),
			 "python %u.%u: no frame layout known, native frames only.", major, minor);
		print_note(f, s, line);
	}

	if (p->py[PYC_UNRESOLVED]) {
		snprintf(line, sizeof(line),
			 "%llu Python frames are named [python]: their code objects could not be "
			 "read (the process exited before they were, or the object was freed).",
			 (unsigned long long)p->py[PYC_UNRESOLVED]);
		print_note(f, s, line);
	}
	if (p->py[PYC_MISMATCHED]) {
		snprintf(line, sizeof(line),
			 "%llu stacks' Python frames did not match their native eval-loop frames: "
			 "the Python frames left over are put at the root.",
			 (unsigned long long)p->py[PYC_MISMATCHED]);
		print_note(f, s, line);
	}
}

/* --unwind=cfi: objects left without a table, and why; their frames took frame-pointer steps. */
static void print_utables(FILE *f, const struct profile *p, const struct style *s)
{
	const struct unwind_tables *t = &p->utables;

	if (!t->full && !t->no_cfi)
		return;
	fprintf(f, "%snote:%s %u of %u objects have no unwind table (walked by frame pointers):",
		sgr(s, "\033[1m"), sgr(s, "\033[0m"), t->full + t->no_cfi, t->objects);
	if (t->no_cfi)
		fprintf(f, " %u without usable CFI", t->no_cfi);
	if (t->full)
		fprintf(f, "%s %u because the tables were full (%u of %u rows, %u of %u rules)",
			t->no_cfi ? "," : "", t->full, t->rows, t->max_rows, t->rules,
			t->max_rules);
	fputc('\n', f);
}

static void print_stack_notes(FILE *f, const struct profile *p, const struct style *s)
{
	size_t i;

	if (!p->sample_hz)
		return;
	fprintf(f, "\nStacks: %zu distinct, on-CPU sampled at %u Hz", p->nstacks, p->sample_hz);
	if (p->stats[STAT_STACK_ERRORS] || p->stats[STAT_STACK_KEYS_FULL])
		fprintf(f, "; %llu stacks not captured, %llu weights lost (maps full)",
			(unsigned long long)p->stats[STAT_STACK_ERRORS],
			(unsigned long long)p->stats[STAT_STACK_KEYS_FULL]);
	fputc('\n', f);
	for (i = 0; i < p->nunwind; i++) {
		fprintf(f, "%swarning:%s stacks in ", sgr(s, "\033[1;33m"), sgr(s, "\033[0m"));
		print_comm(f, p->unwind[i].module, (int)strnlen(p->unwind[i].module, 60));
		fprintf(f,
			" stop after 1-2 frames (%.0f%% of its time): built without frame\n"
			"  pointers, its callers are missing. Rebuild with -fno-omit-frame-pointer.\n",
			pct(p->unwind[i].shallow_ns, p->unwind[i].total_ns));
	}
	print_ustops(f, p, s);
	print_utables(f, p, s);
	print_marked(f, p, s);
	print_unnamed(f, p, s);
	print_py_notes(f, p, s);
}

/* GIL waits shown, and holders per wait. */
#define GIL_ROWS_SHOWN	  10
#define GIL_HOLDERS_SHOWN 3

/* "name (tid N)", or "an unknown thread". */
static void who_line(char *buf, size_t len, const char *comm, uint32_t tid)
{
	if (!tid)
		snprintf(buf, len, "an unknown thread");
	else if (comm && *comm)
		snprintf(buf, len, "%s (tid %u)", comm, tid);
	else
		snprintf(buf, len, "tid %u", tid);
}

/* Which Python functions waited for the GIL, and who held it meanwhile (gil_waits.h). */
static int print_gil(FILE *f, const struct profile *p, const struct style *s)
{
	struct gil_wait_row *rows;
	long n = gil_waits(p, &rows);
	char line[1200], who[64];
	size_t i, k;

	if (n <= 0)
		return n < 0 ? (int)n : 0;
	fprintf(f, "\n%sGIL waits (CPython), by Python function%s (%ld of %ld)\n",
		sgr(s, "\033[1m"), sgr(s, "\033[0m"), n < GIL_ROWS_SHOWN ? n : GIL_ROWS_SHOWN, n);
	for (i = 0; i < (size_t)n && i < GIL_ROWS_SHOWN; i++) {
		const struct gil_wait_row *r = &rows[i];

		who_line(who, sizeof(who), r->thread, r->tid);
		snprintf(line, sizeof(line), "%s waited %.3f s for the GIL in %s (%llu waits)", who,
			 r->ns / 1e9, r->function, (unsigned long long)r->count);
		fputs("  ", f);
		wrap(f, 2, 6, line);
		fputc('\n', f);
		for (k = 0; k < r->nholders && k < GIL_HOLDERS_SHOWN; k++) {
			const struct gil_holder_share *h = &r->holders[k];

			if (!h->tid) {
				snprintf(line, sizeof(line),
					 "%4.0f%% with the holder unknown (the GIL free, or "
					 "changing hands, when the wait began)",
					 pct(h->ns, r->ns));
			} else {
				who_line(who, sizeof(who), h->thread, h->tid);
				snprintf(line, sizeof(line), "%4.0f%% while %s ran %s",
					 pct(h->ns, r->ns), who,
					 h->function ? h->function : "(no Python frame read)");
			}
			fputs("    ", f);
			wrap(f, 4, 10, line);
			fputc('\n', f);
		}
	}
	gil_waits_free(rows, n);
	return 0;
}

/* Writes text from column col, wrapped at WIDTH, continuation lines indented to indent;
 * made printable (it may hold the target's names). Returns the column after it. */
static int wrap(FILE *f, int col, int indent, const char *text)
{
	const char *w = text, *e;
	bool first = true;
	int len;

	while (*w) {
		while (*w == ' ')
			w++;
		if (!*w)
			break;
		for (e = w; *e && *e != ' '; e++)
			;
		len = (int)printable_cols(w, e - w);
		if (!first && col + 1 + len > WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		first = false;
		col += (int)printable_fputs(f, w, e - w, SIZE_MAX);
		w = e;
	}
	return col;
}

static void print_evidence(FILE *f, const struct adv_scope *sc)
{
	bool shown[CAT_MAX] = { false };
	char buf[64], line[ADV_TEXT * 2] = "evidence:";
	int c, best, k;

	for (k = 0; k < CAT_MAX; k++) {
		best = -1;
		for (c = 0; c < CAT_MAX; c++)
			if (!shown[c] && (best < 0 || sc->ns[c] > sc->ns[best]))
				best = c;
		if (best < 0 || pct(sc->ns[best], sc->active_ns) < 1.0)
			break;
		shown[best] = true;
		snprintf(buf, sizeof(buf), "%s %s %.0f%%", k ? "," : "", cat_names[best],
			 pct(sc->ns[best], sc->active_ns));
		strncat(line, buf, sizeof(line) - strlen(line) - 1);
	}
	snprintf(buf, sizeof(buf), " (%u active thread%s", sc->active, sc->active == 1 ? "" : "s");
	strncat(line, buf, sizeof(line) - strlen(line) - 1);
	if (sc->idle)
		snprintf(buf, sizeof(buf), ", %u idle in %s)", sc->idle,
			 sc->idle_cat >= 0 ? cat_names[sc->idle_cat] : "?");
	else
		snprintf(buf, sizeof(buf), ")");
	strncat(line, buf, sizeof(line) - strlen(line) - 1);
	if (sc->gil_ns) {
		snprintf(buf, sizeof(buf), "; GIL wait %.0f%%", pct(sc->gil_ns, sc->active_ns));
		strncat(line, buf, sizeof(line) - strlen(line) - 1);
	}
	if (sc->interp_known) {
		snprintf(buf, sizeof(buf), "; CPU samples in the interpreter %.0f%%",
			 pct(sc->interp_ns, sc->interp_ns + sc->native_ns));
		strncat(line, buf, sizeof(line) - strlen(line) - 1);
	}
	fputs("    ", f);
	wrap(f, 4, 6, line);
	fputc('\n', f);
	snprintf(line, sizeof(line), "context: %s", sc->costs);
	fputs("    ", f);
	wrap(f, 4, 6, line);
	fputc('\n', f);
	if (sc->lock.ns && sc->lock.symbol && sc->cat == CAT_LOCK) {
		/* A symbol is the target's: wrap() makes it printable. */
		snprintf(line, sizeof(line),
			 "most-waited lock: %s+%llu in %s, %.1f ms over %llu "
			 "waits by %u thread%s",
			 sc->lock.symbol, (unsigned long long)sc->lock.offset, sc->lock.module,
			 sc->lock.ns / 1e6, (unsigned long long)sc->lock.count, sc->lock.threads,
			 sc->lock.threads == 1 ? "" : "s");
		fputs("    ", f);
		wrap(f, 4, 6, line);
		fputc('\n', f);
	}
}

/* A code path on one line, leaf first, user frames (kernel ones when there are none). */
static void print_path(FILE *f, const struct stack *st, int col)
{
	bool user = false;
	uint32_t i, k;
	int len, n;

	for (i = 0; i < st->nframes; i++)
		user |= !st->frames[i].kernel;
	for (i = st->nframes, k = 0; i-- > 0;) {
		const char *name = st->frames[i].name;

		if (user && st->frames[i].kernel)
			continue;
		len = (int)printable_cols(name, SIZE_MAX);
		if (col + (k ? 3 : 0) + (len < 8 ? len : 8) > WIDTH - 3) {
			fputs(" ...", f);
			break;
		}
		if (k++) {
			fputs(" < ", f);
			col += 3;
		}
		n = (int)printable_fputs(f, name, SIZE_MAX, WIDTH - 3 - col);
		col += n;
		if (n < len) {
			fputs("...", f);
			break;
		}
	}
	fputc('\n', f);
}

/* The classic table with the scope's figures: per aspect, the marks, then the figure. */
static void print_design_table(FILE *f, const struct adv_scope *sc)
{
	int a, l;

	fprintf(f, "    %-18s", "design table:");
	for (l = 0; l < ADV_LEVER_MAX; l++)
		fprintf(f, l + 1 < ADV_LEVER_MAX ? " %-13s" : " %s", adv_lever_names[l]);
	fputc('\n', f);
	for (a = 0; a < ADV_ASPECT_MAX; a++) {
		fprintf(f, "      %-16s", adv_aspect_names[a]);
		for (l = 0; l < ADV_LEVER_MAX; l++)
			fprintf(f, l + 1 < ADV_LEVER_MAX ? " %-13s" : " %s",
				adv_effect_names[sc->table[a].mark[l]]);
		fputs("\n        ", f);
		wrap(f, 8, 8, sc->table[a].measured);
		fputc('\n', f);
	}
}

static void print_scope(FILE *f, const struct adv_scope *sc, const struct style *s)
{
	char head[ADV_TEXT * 2];
	size_t i;
	int l, col, len;

	if (sc->whole) {
		fprintf(f, "  %swhole workload:%s ", sgr(s, "\033[1m"), sgr(s, "\033[0m"));
		col = 18;
	} else {
		fprintf(f, "  %s%-6u ", sgr(s, "\033[1m"), sc->pid);
		len = (int)printable_cols(sc->comm, CONCUR_COMM_LEN - 1);
		print_comm(f, sc->comm, len);
		fprintf(f, ":%s ", sgr(s, "\033[0m"));
		col = 11 + len;
	}
	wrap(f, col, 4, adv_verdict_names[sc->verdict]);
	fputs("\n    ", f);
	wrap(f, 4, 4, sc->why);
	fputc('\n', f);
	for (l = 0; l < ADV_LEVER_MAX; l++) {
		const struct adv_row *r = &sc->rows[l];

		if (r->bound > 0)
			snprintf(head, sizeof(head), "%s%s, ≤ %.1f× (%s)",
				 adv_effect_names[r->effect], sc->best == l ? " (try first)" : "",
				 r->bound, r->basis);
		else
			snprintf(head, sizeof(head), "%s", adv_effect_names[r->effect]);
		fprintf(f, "    %-10s ", adv_lever_names[l]);
		wrap(f, 15, 17, head);
		fprintf(f, "\n%17s", "");
		wrap(f, 17, 17, r->reason);
		fputc('\n', f);
	}
	print_evidence(f, sc);
	for (i = 0; i < sc->ntop; i++) {
		fputs("      ", f);
		print_secs(f, 8, sc->top[i].ns);
		fputs("  ", f);
		print_path(f, sc->top[i].st, 16);
	}
	print_design_table(f, sc);
}

/* Children too short to advise alone (advise.h: struct adv_exe), one line per executable:
 * how many, their summed lives, what bounds them. */
static void print_short_procs(FILE *f, const struct advice *a)
{
	char line[ADV_TEXT];
	size_t i;
	int len;

	if (!a->nexes)
		return;
	fputs("  short processes (children alive under 50 ms, by executable):\n", f);
	for (i = 0; i < a->nexes && i < TOP_ADVICE; i++) {
		const struct adv_exe *e = &a->exes[i];

		fputs("    ", f);
		len = (int)printable_cols(e->comm, CONCUR_COMM_LEN - 1);
		print_comm(f, e->comm, len);
		snprintf(line, sizeof(line), ": %u, %.3f s in all, mostly %s (%.0f%%)", e->count,
			 e->life_ns / 1e9, e->cat >= 0 ? cat_names[e->cat] : "?",
			 e->cat >= 0 ? pct(e->ns[e->cat], cat_sum(e->ns)) : 0.0);
		fprintf(f, "%s\n", line);
	}
	if (a->nexes > TOP_ADVICE)
		fprintf(f, "    (%zu more executables: see the JSON summary)\n",
			a->nexes - TOP_ADVICE);
}

static void print_advice(FILE *f, const struct advice *a, const struct style *s)
{
	size_t i, n, k;

	fprintf(f, "\n%sAdvice%s (%d CPU%s, %.2f busy on average)\n", sgr(s, "\033[1m"),
		sgr(s, "\033[0m"), a->cpus, a->cpus == 1 ? "" : "s", a->parallelism);
	if (a->nprocs != 1)
		print_scope(f, &a->whole, s);
	for (i = 0, n = 0; i < a->nprocs && n < TOP_ADVICE; i++)
		if (!a->procs[a->order[i]].summarised) {
			print_scope(f, &a->procs[a->order[i]], s);
			n++;
		}
	for (i = 0, k = 0; i < a->nprocs; i++)
		k += !a->procs[i].summarised;
	if (n < k)
		fprintf(f, "  (%zu more processes: see the JSON summary)\n", k - n);
	print_short_procs(f, a);
}

int write_text(const struct profile *p, const struct advice *a, FILE *f, bool colour)
{
	struct style s = { .on = colour };
	int err;

	print_header(f, p, &s);
	print_split(f, p, &s);
	print_procs(f, p, &s);
	err = print_threads(f, p, &s);
	print_stack_notes(f, p, &s);
	if (!err)
		err = print_gil(f, p, &s);
	if (!err)
		print_advice(f, a, &s);
	return err ? err : ferror(f) ? -EIO : 0;
}
