# concur — build, test, demo, install.
# `make` builds build/concur; `make test` runs unit and real-kernel tests; `make demo` profiles a workload.

OUT := build
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC ?= gcc
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
ARCH := x86
VMLINUX_H ?= $(OUT)/vmlinux.h

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -MMD -MP $(EXTRA_CFLAGS)
CPPFLAGS += -D_GNU_SOURCE -Iinclude -I$(OUT) -DCONCUR_VERSION='"$(VERSION)"'
LDLIBS += -lbpf -lelf -lz -lstdc++
# GLib: the hash tables, growable arrays and byte buffers (Debian libglib2.0-dev).
CPPFLAGS += $(shell pkg-config --cflags glib-2.0)
LDLIBS += $(shell pkg-config --libs glib-2.0)

# The system include dirs, so BPF code finds <asm/unistd.h> and friends.
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts/,/End of search/ s| \(/.*\)|-idirafter \1|p')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -I$(OUT) $(CLANG_BPF_SYS_INCLUDES)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
# user/: main.c wires the stages, one folder each (collect, profile, advise, render).
USER_DIRS := collect profile advise render
LIB_SRCS := $(wildcard $(patsubst %,user/%/*.c,$(USER_DIRS)))
LIB_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(LIB_SRCS))
# The objects that talk to the kernel through the skeleton; the rest (libconcur.a) builds the
# unit tests, fixtures and fuzzers too, from this same list.
LOADER_OBJS := $(OUT)/user/collect/tracer.o
NOKERNEL_OBJS := $(filter-out $(LOADER_OBJS),$(LIB_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%.o,$(UNIT_SRCS))
WORKLOADS := $(patsubst tests/kernel/workloads/%.c,$(OUT)/workloads/%,\
	$(wildcard tests/kernel/workloads/*.c))
SCENARIOS := $(patsubst tests/kernel/scenarios/%.c,$(OUT)/scenarios/%,$(wildcard tests/kernel/scenarios/*.c))
DEMO_WORKLOADS := $(patsubst tools/demo/%.c,$(OUT)/demo/%,$(wildcard tools/demo/*.c))
BENCH_WORKLOADS := $(patsubst tools/bench/%.c,$(OUT)/bench/%,$(wildcard tools/bench/*.c))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all deps test-deps bench-deps bench asan test unit-test output-test kernel-test demo install clean

all: $(OUT)/concur

# Install the build (and test) dependencies with apt-get when something is missing (needs root).
deps:
	$(Q)tools/install-deps.sh

test-deps:
	$(Q)tools/install-deps.sh --test

$(OUT) $(OUT)/bpf $(patsubst %,$(OUT)/user/%,$(USER_DIRS)) $(OUT)/tests/unit $(OUT)/tests/fixture $(OUT)/workloads $(OUT)/demo \
		$(OUT)/bench $(OUT)/scenarios:
	$(Q)mkdir -p $@

ifeq ($(VMLINUX_H),$(OUT)/vmlinux.h)
$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@
endif

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -include $(VMLINUX_H) -MMD -MP -c $< -o $@

$(OUT)/concur.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUT)/concur.skel.h: $(OUT)/concur.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name concur_bpf > $@

$(OUT)/syscall_names.h: /usr/include/x86_64-linux-gnu/asm/unistd_64.h | $(OUT)
	$(call msg,GEN,$@)
	$(Q)sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/\t[\2] = "\1",/p' $< > $@

# The HTML report's page, style and script, compiled in (with the script's hash for the page's
# Content-Security-Policy).
REPORT_ASSETS := $(addprefix user/render/report/,report.html report.css report.js)
$(OUT)/report_assets.h: $(REPORT_ASSETS) tools/embed-assets.sh | $(OUT)
	$(call msg,GEN,$@)
	$(Q)tools/embed-assets.sh $(REPORT_ASSETS) > $@

$(OUT)/user/%.o: user/%.c | $(patsubst %,$(OUT)/user/%,$(USER_DIRS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Iuser $(CFLAGS) -c $< -o $@

# Generated headers, each a prerequisite of the objects that include it only (-MMD records
# the rest): editing the HTML script rebuilds the HTML writer, not the whole tool.
$(LOADER_OBJS): $(OUT)/concur.skel.h
$(OUT)/user/render/syscalls.o: $(OUT)/syscall_names.h
$(OUT)/user/render/out_html.o $(OUT)/tests/unit/test_html.o: $(OUT)/report_assets.h

$(OUT)/libconcur.a: $(NOKERNEL_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/concur: $(OUT)/user/main.o $(LOADER_OBJS) $(OUT)/libconcur.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Unit tests: everything but the BPF loader, so they run without a kernel or root.
$(OUT)/tests/unit/%.o: tests/unit/%.c | $(OUT)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Iuser -Itests/fixture $(CFLAGS) -Wno-missing-field-initializers -c $< -o $@

$(OUT)/tests/fixture/%.o: tests/fixture/%.c | $(OUT)/tests/fixture
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Iuser $(CFLAGS) -c $< -o $@

$(OUT)/unit-tests: $(UNIT_OBJS) $(OUT)/tests/fixture/fixture.o $(OUT)/libconcur.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lcriterion -o $@

# Writes the synthetic fixture profile in any output format, for checks by real readers.
$(OUT)/render-fixture: $(OUT)/tests/fixture/render_fixture.o $(OUT)/tests/fixture/fixture.o \
		$(OUT)/libconcur.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Frame pointers in every function (leaves too) and no tail calls: stacks show every caller.
FP_CFLAGS := -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls
WL_CFLAGS := -O2 -g $(FP_CFLAGS) -pthread -Wall -Wextra -Werror

# A large random profile (100 000 stacks by default) in any format: reports must cope with it.
$(OUT)/big-fixture: $(OUT)/tests/fixture/big_fixture.o $(OUT)/libconcur.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/workloads/%: tests/kernel/workloads/%.c tests/kernel/workloads/common.h | $(OUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@ $(WL_LDLIBS)

# The advisor's scenarios: a fixed amount of work, each variant run and timed by the tests.
$(OUT)/scenarios/%: tests/kernel/scenarios/%.c tests/kernel/scenarios/scenario.h \
		tests/kernel/workloads/common.h | $(OUT)/scenarios
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@

# The frame-pointer warning's test subject.
$(OUT)/workloads/nofp: WL_CFLAGS := -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror
# A PIE executable and a shared library beside it.
$(OUT)/workloads/libconcurwork.so: tests/kernel/workloads/lib/concurwork.c | $(OUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) -fPIC -shared $< -o $@
$(OUT)/workloads/uselib: $(OUT)/workloads/libconcurwork.so
$(OUT)/workloads/uselib: WL_CFLAGS += -pie -fPIE
$(OUT)/workloads/uselib: WL_LDLIBS := -L$(OUT)/workloads -lconcurwork -Wl,-rpath,'$$ORIGIN'

$(OUT)/demo/%: tools/demo/%.c | $(OUT)/demo
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@

$(OUT)/bench/%: tools/bench/%.c tools/bench/common.h | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@

# The cheapest tracer of context switches (an empty program): the floor of the overhead table.
BENCH_FLOOR := $(OUT)/bench/floor $(OUT)/bench/floor.bpf.o
$(OUT)/bench/floor.bpf.o: tools/bench/floor/floor.bpf.c $(VMLINUX_H) | $(OUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -include $(VMLINUX_H) -c $< -o $@

$(OUT)/bench/floor: tools/bench/floor/floor.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LDLIBS) -o $@

unit-test: $(OUT)/unit-tests
	$(Q)$(OUT)/unit-tests --jobs 1

# The output files read by their real readers (go tool pprof, Chromium), on synthetic fixtures.
output-test: $(OUT)/concur $(OUT)/render-fixture $(OUT)/big-fixture
	$(Q)tests/output/check_pprof.sh $(OUT)
	$(Q)tests/output/check_html.sh $(OUT)
	$(Q)tests/render/check.sh $(OUT)

# The recording reader under libFuzzer, ASan and UBSan, with every writer on what it accepts,
# linked with libconcur.a built with clang and the sanitizers in a build directory of its own.
# `make fuzz` builds it; `make fuzz-run` replays the past crashes (tests/unit/recordings/), then
# fuzzes FUZZ_TIME seconds from the seed corpus: new inputs go to $(FUZZ_OUT)/corpus, crashes
# to $(FUZZ_OUT)/.
.PHONY: fuzz fuzz-run
FUZZ_TIME ?= 60
FUZZ_OUT := $(OUT)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all

fuzz: test-deps
	$(Q)$(MAKE) --no-print-directory OUT=$(FUZZ_OUT) CC=$(CLANG) \
		EXTRA_CFLAGS="-O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_OUT)/fuzz-recording

$(OUT)/tools/fuzz:
	$(Q)mkdir -p $@

$(OUT)/tools/fuzz/%.o: tools/fuzz/%.c | $(OUT)/tools/fuzz
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Iuser $(CFLAGS) -c $< -o $@

$(OUT)/fuzz-recording: $(OUT)/tools/fuzz/fuzz_recording.o $(OUT)/libconcur.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

fuzz-run: fuzz
	$(Q)mkdir -p $(FUZZ_OUT)/corpus
	$(Q)$(FUZZ_OUT)/fuzz-recording tests/unit/recordings/*
	$(Q)$(FUZZ_OUT)/fuzz-recording -max_total_time=$(FUZZ_TIME) -max_len=16384 \
		-artifact_prefix=$(FUZZ_OUT)/ $(FUZZ_OUT)/corpus tools/fuzz/corpus

kernel-test: $(OUT)/concur $(WORKLOADS) $(SCENARIOS)
	$(Q)python3 tests/kernel/run.py --concur $(OUT)/concur --workloads $(OUT)/workloads $(KTEST_FLAGS)

test: test-deps
	$(Q)$(MAKE) --no-print-directory unit-test
	$(Q)$(MAKE) --no-print-directory output-test
	$(Q)$(MAKE) --no-print-directory kernel-test

demo: deps
	$(Q)$(MAKE) --no-print-directory $(OUT)/concur $(DEMO_WORKLOADS)
	$(Q)$(OUT)/concur run -o $(OUT)/demo-report.html -- $(OUT)/demo/kitchen
	@echo "The flame graph: $(OUT)/demo-report.html (open it in a browser)"

# The unit tests and real-kernel tests on the product built with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a build directory of its own.
ASAN_OUT := $(OUT)/asan
asan: test-deps
	$(Q)$(MAKE) --no-print-directory OUT=$(ASAN_OUT) \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		$(ASAN_OUT)/concur $(ASAN_OUT)/unit-tests \
		$(patsubst $(OUT)/%,$(ASAN_OUT)/%,$(WORKLOADS))
	$(Q)ASAN_OPTIONS=detect_leaks=1 $(ASAN_OUT)/unit-tests --jobs 1
	$(Q)ASAN_OPTIONS=detect_leaks=1 python3 tests/kernel/run.py --concur $(ASAN_OUT)/concur \
		--workloads $(ASAN_OUT)/workloads $(KTEST_FLAGS) \
		-k stacks_known_functions -k attach_blocked -k recording_replays -k hostile_names

# Overhead beside bpftrace and perf, and accuracy against the kernel's own accounting (~6 min).
bench: bench-deps $(OUT)/concur $(OUT)/big-fixture $(BENCH_WORKLOADS) $(BENCH_FLOOR) $(WORKLOADS)
	$(Q)python3 tools/bench/overhead.py
	$(Q)python3 tools/bench/accuracy.py
	$(Q)python3 tools/bench/render.py

bench-deps:
	$(Q)tools/install-deps.sh --bench

install: $(OUT)/concur
	install -D -m 0755 $(OUT)/concur $(DESTDIR)$(PREFIX)/bin/concur
	install -D -m 0644 man/concur.8 $(DESTDIR)$(PREFIX)/share/man/man8/concur.8

clean:
	rm -rf $(OUT)

-include $(wildcard $(OUT)/user/*.d $(OUT)/user/*/*.d $(OUT)/bpf/*.d $(OUT)/tests/unit/*.d \
	$(OUT)/tests/fixture/*.d $(OUT)/tools/fuzz/*.d)
