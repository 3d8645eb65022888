// SPDX-License-Identifier: MIT
/*
 * floor OBJECT — loads and attaches every program of a BPF object file, says "probes
 * attached" on stderr, and holds them until SIGINT or SIGTERM. With floor.bpf.o it measures
 * the cost of merely hooking sched_switch.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: floor OBJECT\n");
		return 64;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor: cannot load %s\n", argv[1]);
		goto out;
	}
	bpf_object__for_each_program(prog, obj) if (!bpf_program__attach(prog))
	{
		fprintf(stderr, "floor: cannot attach %s\n", bpf_program__name(prog));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: probes attached\n");
	while (!stop)
		pause();
	ret = 0;
out:
	bpf_object__close(obj); /* detaches the links too */
	return ret;
}
