// SPDX-License-Identifier: MIT
/* concur: command line and wiring only. */
#include <argp.h>
#include <stdarg.h>
#include <sysexits.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "render/output.h"
#include "render/recording.h"
#include "collect/stop_signals.h"
#include "collect/tracer.h"
#include "log.h"

#define MAX_OUTPUTS 16
#define MAX_PIDS    256

const char *argp_program_version = "concur " CONCUR_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
	"Where did the time go? Splits every thread's wall-clock time into cpu,\n"
	"runqueue, lock, io.disk, io.net, io.pipe, poll, sleep, wait and other.\n"
	"\n"
	"  run [--] CMD [ARG...]  launch CMD and follow its descendants until it exits\n"
	"  attach -p PID[,PID]    profile running processes until -d, Ctrl-C or exit\n"
	"  report FILE.concur     render a recording saved with -o FILE.concur\n"
	"                         (no root needed)\n"
	"\v"
	"EXAMPLES:\n"
	"  sudo concur run -- ./my_program arg1 arg2\n"
	"  sudo concur attach -p 1234,1240 -d 10\n"
	"  sudo concur run -o summary.json -- make -j2 test\n"
	"  sudo concur run -o today.concur -- ./server\n"
	"  concur report today.concur -o today.html\n"
	"\n"
	"The report goes to standard output; -o FILE.json also writes a JSON summary.\n"
	"Exit status: 0, or the workload's own for `run`; 1 on error; 127 if CMD\n"
	"cannot be executed.";

enum { OPT_CHILDREN = 256, OPT_AS_ROOT, OPT_NO_STACKS, OPT_UNWIND, OPT_BENCH_TIMING };

#define DEFAULT_HZ 99
#define MAX_HZ	   10000

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0,
	  "Also write FILE; the format follows the extension: .json, .folded/.txt, .pb.gz, .html, "
	  ".concur (a recording for `concur report`)",
	  0 },
	{ "pid", 'p', "PID[,PID...]", 0, "attach: the processes to profile", 0 },
	{ "duration", 'd', "SECONDS", 0, "attach: stop after SECONDS (default: Ctrl-C)", 0 },
	{ "children", OPT_CHILDREN, NULL, 0, "attach: also follow processes the targets start", 0 },
	{ "as-root", OPT_AS_ROOT, NULL, 0, "run: under sudo, keep root for the workload", 0 },
	{ "freq", 'F', "HZ", 0, "On-CPU sampling rate per CPU (default 99)", 0 },
	{ "no-stacks", OPT_NO_STACKS, NULL, 0, "Time split only: no stacks, no sampling (cheapest)",
	  0 },
	{ "unwind", OPT_UNWIND, "cfi|fp", 0,
	  "How user stacks are walked: cfi, tables built from each object's .eh_frame, for code "
	  "without frame pointers (default; frame pointers where an object has none yet); fp, the "
	  "kernel's frame-pointer walk",
	  0 },
	/* For tools/bench/probe_cost.py: clock reads around each stack capture (~200 ns each),
	 * their sums in the JSON's stacks.timing. */
	{ "bench-timing", OPT_BENCH_TIMING, NULL, OPTION_HIDDEN, "Time the stack captures", 0 },
	{ "quiet", 'q', NULL, 0, "No terminal report (the -o files are still written)", 0 },
	{ "verbose", 'v', NULL, 0,
	  "More messages: -v what concur does, -vv debugging (libbpf's too)", 0 },
	{},
};

/*
 * A usage error: one line, then exit 64 (EX_USAGE) like argp itself. argp_error() would add
 * a second line pointing at --help; the pointer is folded into the one line instead.
 */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("concur: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see concur --help)\n", stderr);
	exit(EX_USAGE);
}

struct args {
	const char *cmd;
	bool report;
	const char *recording;	 /* report: the file to read */
	const char *tracing_opt; /* an option given that only run and attach take */
	struct tracer_opts t;
	uint32_t pids[MAX_PIDS];
	const char *outputs[MAX_OUTPUTS];
	size_t noutputs;
	bool quiet;
	FILE *null_stream;
};

static int parse_pids(struct args *a, char *s)
{
	char *tok, *end, *save = NULL;
	unsigned long v;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		errno = 0;
		v = strtoul(tok, &end, 10);
		if (errno || *end || end == tok || !v || v > INT_MAX)
			usage_error("not a process id: '%s'", tok);
		if (a->t.npids == MAX_PIDS)
			usage_error("at most %d processes", MAX_PIDS);
		a->pids[a->t.npids++] = v;
	}
	return 0;
}

static void parse_duration(struct args *a, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v <= 0 || v > 1e7)
		usage_error("not a duration in seconds: '%s'", s);
	a->t.duration_ns = (uint64_t)(v * 1e9);
}

static void parse_hz(struct args *a, const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || !v || v > MAX_HZ)
		usage_error("not a sampling rate (1 to %d Hz): '%s'", MAX_HZ, s);
	a->t.sample_hz = v;
}

static void parse_arg(struct args *a, char *arg, struct argp_state *st)
{
	if (!a->cmd) {
		if (strcmp(arg, "run") && strcmp(arg, "attach") && strcmp(arg, "report"))
			usage_error("unknown command '%s' (run, attach or report)", arg);
		a->cmd = arg;
		a->report = !strcmp(arg, "report");
		a->t.mode = strcmp(arg, "run") ? MODE_ATTACH : MODE_RUN;
		return;
	}
	if (a->report && !a->recording) {
		a->recording = arg;
		return;
	}
	if (a->t.mode != MODE_RUN)
		usage_error("unexpected argument '%s'", arg);
	/* The workload's own options are its own: stop parsing at its name. */
	a->t.argv = &st->argv[st->next - 1];
	st->next = st->argc;
}

static void check_record_args(const struct args *a)
{
	if (a->t.mode == MODE_RUN && !a->t.argv)
		usage_error("run: missing the command to run");
	if (a->t.mode == MODE_RUN && (a->t.npids || a->t.duration_ns))
		usage_error("run: -p and -d are for attach");
	if (a->t.mode == MODE_ATTACH && !a->t.npids)
		usage_error("attach: which process? (-p PID)");
}

/* A recording is rendered, not made: the options that shape one have no say. */
static void check_report_args(const struct args *a)
{
	if (!a->recording)
		usage_error("report: which recording? (concur report FILE.concur)");
	if (a->tracing_opt)
		usage_error("report: %s is for run and attach", a->tracing_opt);
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct args *a = st->input;

	switch (key) {
	case 'o':
		if (a->noutputs == MAX_OUTPUTS)
			usage_error("at most %d outputs", MAX_OUTPUTS);
		if (output_format(arg) < 0)
			usage_error("unknown output format: '%s' (known: %s)", arg,
				    output_extensions());
		a->outputs[a->noutputs++] = arg;
		break;
	case 'p':
		a->tracing_opt = "-p";
		return parse_pids(a, arg);
	case 'd':
		a->tracing_opt = "-d";
		parse_duration(a, arg);
		break;
	case 'F':
		a->tracing_opt = "-F";
		parse_hz(a, arg);
		break;
	case OPT_NO_STACKS:
		a->tracing_opt = "--no-stacks";
		a->t.stacks = false;
		break;
	case OPT_UNWIND:
		a->tracing_opt = "--unwind";
		if (strcmp(arg, "fp") && strcmp(arg, "cfi"))
			usage_error("--unwind: '%s' is neither fp nor cfi", arg);
		a->t.unwind_cfi = !strcmp(arg, "cfi");
		break;
	case OPT_BENCH_TIMING:
		a->tracing_opt = "--bench-timing";
		a->t.bench_timing = true;
		break;
	case OPT_CHILDREN:
		a->tracing_opt = "--children";
		a->t.follow_children = true;
		break;
	case OPT_AS_ROOT:
		a->tracing_opt = "--as-root";
		a->t.keep_root = true;
		break;
	case 'q':
		a->quiet = true;
		break;
	case 'v':
		if (log_max_level < LOG_DEBUG)
			log_max_level++;
		break;
	case ARGP_KEY_INIT:
		/* getopt has said what is wrong in one line; argp's "Try --help" line is dropped. */
		st->err_stream = a->null_stream;
		break;
	case ARGP_KEY_ARG:
		parse_arg(a, arg, st);
		break;
	case ARGP_KEY_END:
		if (!a->cmd)
			usage_error("missing command: run, attach or report");
		if (a->report)
			check_report_args(a);
		else
			check_record_args(a);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The command line the report shows: the workload's, or the pids attached to. */
static char **describe(struct args *a)
{
	char **v = calloc(a->t.npids + 1, sizeof(*v));
	size_t i;

	if (!v || a->t.mode == MODE_RUN) {
		free(v);
		return NULL;
	}
	for (i = 0; i < a->t.npids; i++)
		if (asprintf(&v[i], "%u", a->pids[i]) < 0)
			v[i] = NULL;
	return v;
}

/* Every -o path, before anything is launched or attached: a whole run is not lost to a typo. */
static int check_outputs(const struct args *a)
{
	size_t i;
	int err;

	for (i = 0; i < a->noutputs; i++) {
		err = output_check(a->outputs[i]);
		if (err) {
			fprintf(stderr, "concur: cannot write %s: %s\n", a->outputs[i],
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The advice, computed once, then every output of the finished profile. */
static int write_outputs(const struct args *a, const struct profile *p)
{
	struct advice adv;
	size_t i;
	int err, ret = 0;

	err = advise(p, &adv);
	if (err) {
		fprintf(stderr, "concur: cannot advise: %s\n", strerror(-err));
		return 1;
	}
	if (!a->quiet && write_text(p, &adv, stdout, isatty(STDOUT_FILENO)) == 0)
		fflush(stdout);
	for (i = 0; i < a->noutputs; i++) {
		err = output_write(p, &adv, a->outputs[i]);
		if (err) {
			fprintf(stderr, "concur: cannot write %s: %s\n", a->outputs[i],
				strerror(-err));
			ret = 1;
		}
	}
	advice_free(&adv);
	return ret;
}

/* concur report: the outputs from a recording, without the kernel or root. */
static int report(const struct args *a)
{
	struct profile *p = NULL;
	char err[256];
	int ret;

	if (check_outputs(a))
		return 1;
	if (recording_read(a->recording, &p, err, sizeof(err))) {
		fprintf(stderr, "concur: %s: %s\n", a->recording, err);
		return 1;
	}
	ret = write_outputs(a, p);
	profile__free(p);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		options, parse_opt, "run|attach [CMD [ARG...]]\nreport FILE.concur", doc, NULL,
		NULL,	 NULL
	};
	struct tracer_error e = { .exit_code = 1 };
	struct args a = { .t = { .stacks = true, .unwind_cfi = true, .sample_hz = DEFAULT_HZ } };
	struct profile *p = NULL;
	char **desc = NULL;
	int ret, err;
	size_t i;

	argv[0] = "concur"; /* getopt names the program in its messages */
	a.null_stream = fopen("/dev/null", "w");
	argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &a);
	if (a.null_stream)
		fclose(a.null_stream);
	if (a.report)
		return report(&a);
	a.t.pids = a.pids;
	a.t.status_line = !a.quiet && isatty(STDERR_FILENO);
	/* From here on a stop signal ends in a report, however early it comes. */
	stop_signals_install();
	if (check_outputs(&a))
		return 1;
	err = tracer_check_env(&e);
	if (!err)
		err = tracer_collect(&a.t, &p, &e);
	if (err) {
		fprintf(stderr, "concur: %s\n", e.msg);
		return e.exit_code;
	}
	desc = describe(&a);
	p->command = a.t.mode == MODE_RUN ? a.t.argv : desc;
	ret = write_outputs(&a, p);
	if (!ret && a.t.mode == MODE_RUN && !p->interrupted && p->exit_status > 0)
		ret = p->exit_status;
	profile__free(p);
	for (i = 0; desc && desc[i]; i++)
		free(desc[i]);
	free(desc);
	return ret;
}
