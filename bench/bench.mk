# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmarks (issue 8).  Not part of `make check`; not a timed test.
#
#   make bench        build the allocator harness (one program per allocator
#                     family), run every workload, print the table, write
#                     build/bench/results.txt and the PNG plots
#
# Needs: gcc, valgrind, gnuplot-nox, libjemalloc-dev, libmimalloc-dev.

BENCH_OUT   := $(BUILD)/bench
BENCH_SRC   := $(TOP)/bench/alloc/alloc_bench.c
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
		-I$(TOP)/lib -I$(TOP)/lib/include -I$(TOP)/uapi

.PHONY: bench bench-build
bench-build: $(BENCH_OUT)/alloc_bench $(BENCH_OUT)/alloc_bench_jemalloc $(BENCH_OUT)/alloc_bench_mimalloc

$(BENCH_OUT)/alloc_bench: $(BENCH_SRC) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_A) $(LIB_LDLIBS)

$(BENCH_OUT)/alloc_bench_jemalloc: $(BENCH_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DPEER_JEMALLOC -o $@ $< -ljemalloc

$(BENCH_OUT)/alloc_bench_mimalloc: $(BENCH_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DPEER_MIMALLOC -o $@ $< -lmimalloc

bench: bench-build
	$(TOP)/bench/alloc/run $(BENCH_OUT)
