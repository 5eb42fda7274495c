# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmarks.  Not part of `make check`; not a timed test.
#
#   make bench        build the allocator harness (one program per allocator
#                     family) and the driver benchmark, run every allocator
#                     workload on the host, then the driver benchmark in the
#                     VM (tests/vm/run --distro 6.12: Debian's 6.12 kernel,
#                     which has the system dma-buf heap, the driver's peer),
#                     print the tables,
#                     write build/bench/results.txt and the PNG plots
#   make bench-driver the driver half alone (merges into results.txt)
#   make bench-ranges per figure, min/median/max over the kept runs
#                     (BENCH_COMMITS="abc123 def456" to take only those)
#
# Each make bench / bench-driver keeps its results.txt under
# build/bench/history/ (bench/history save), named by time and commit:
# ranges come from kept runs, never from memory.
#
# Needs: gcc, valgrind, gnuplot-nox, libjemalloc-dev, libmimalloc-dev, and
# what tests/vm/run needs (qemu-system-x86, the 6.12 distro kernel).

BENCH_OUT   := $(BUILD)/bench
BENCH_SRC   := $(TOP)/bench/alloc/alloc_bench.c
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
		-I$(TOP)/lib -I$(TOP)/lib/include -I$(TOP)/uapi

.PHONY: bench bench-build bench-driver
bench-build: $(BENCH_OUT)/alloc_bench $(BENCH_OUT)/alloc_bench_jemalloc $(BENCH_OUT)/alloc_bench_mimalloc \
	$(BENCH_OUT)/driver_bench $(BENCH_OUT)/heap_probe

$(BENCH_OUT)/alloc_bench: $(BENCH_SRC) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_A) $(LIB_LDLIBS)

$(BENCH_OUT)/alloc_bench_jemalloc: $(BENCH_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DPEER_JEMALLOC -o $@ $< -ljemalloc

$(BENCH_OUT)/alloc_bench_mimalloc: $(BENCH_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DPEER_MIMALLOC -o $@ $< -lmimalloc

# A diagnostic that reads heap internals (Documentation/benchmarks.rst);
# built with the rest so it cannot rot, run by hand.
$(BENCH_OUT)/heap_probe: $(TOP)/bench/alloc/heap_probe.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_A) $(LIB_LDLIBS)

# Static: it runs in the VM's initramfs.  Uses HAP_malloc through the
# library's driver backend, so it links the static library.
$(BENCH_OUT)/driver_bench: $(TOP)/bench/driver/driver_bench.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $< $(LIB_A) $(LIB_LDLIBS)

bench: bench-build
	$(TOP)/bench/alloc/run $(BENCH_OUT)
	$(TOP)/bench/driver/run $(BENCH_OUT)
	$(TOP)/bench/history save $(BENCH_OUT)

bench-driver: $(BENCH_OUT)/driver_bench
	$(TOP)/bench/driver/run $(BENCH_OUT)
	$(TOP)/bench/history save $(BENCH_OUT)

.PHONY: bench-ranges
bench-ranges:
	$(TOP)/bench/history ranges $(BENCH_OUT) $(BENCH_COMMITS)
