# SPDX-License-Identifier: GPL-2.0-only
#
# Tests, the VM runner, check and demo.  Included by the top-level Makefile
# (after lib/lib.mk, whose LIB_* variables it uses).
#
#   make tests            every test program and the demo:
#                           build/tests/unit/<name>       tests/unit/<name>.c, native
#                           build/tests/kselftest/<name>  tests/kselftest/<name>.c, static
#                           build/demo                    tests/demo/demo.c, static
#   make unit-tests       the host unit tests only (SAN=asan|ubsan|tsan builds
#                         them against that libhapmem into build/tests/unit-SAN/)
#   make run-unit         build and run the host unit tests (honours SAN;
#                         SAN=tsan runs the threaded ones, as make check does)
#   make kselftests       the VM tests only
#   make fuzz-vm          the VM ioctl fuzzer, time-seeded and longer than
#                         make check's fixed run (FUZZ_VM_SEED/OPS replay)
#   make debug-kernel     build (or reuse) the cached debug kernel
#   make module-debug     hapmem.ko for the debug kernel, in build/debug/driver/
#   make check            the whole test run (scripts/check)
#   make demo             build, boot the VM, run build/demo
#
# Every tests/unit/*.c and tests/kselftest/*.c is one program: adding a
# test file needs no edit here.  kselftest_harness.h (and the kselftest.h
# it includes) come from Debian's linux-source-6.1, never from the repo:
# scripts/kernel-source --harness puts those two files alone in
# build/kselftest-harness, without extracting the whole kernel tree.

TESTS_OUT := $(BUILD)/tests

KSFT_DIR := $(BUILD)/kselftest-harness
KSFT_HARNESS := $(KSFT_DIR)/kselftest_harness.h

$(KSFT_HARNESS): $(TOP)/scripts/kernel-source
	$(TOP)/scripts/kernel-source --harness $(KSFT_DIR)

# The harness header is a system include: its own code and macros (which
# compare across types, EXPECT_EQ(1, size)) are not held to -Wextra.
TEST_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	      -I$(TOP)/uapi -I$(TOP)/lib/include -I$(TOP)/lib/include/compat -I$(TOP)/lib \
	      -isystem $(KSFT_DIR)

# Host unit tests: native, linked with the static library (internal
# symbols reachable) built with its invariant checks on (LIB_TEST_A:
# build/lib-debug, or the SAN build with its sanitizer flags).
UNIT_SRCS := $(sort $(wildcard $(TOP)/tests/unit/*.c))
UNIT_OUT  := $(TESTS_OUT)/unit$(if $(SAN),-$(SAN))
UNIT_BINS := $(patsubst $(TOP)/tests/unit/%.c,$(UNIT_OUT)/%,$(UNIT_SRCS))

# VM tests and the demo: static, so the initramfs needs no libraries, and
# always against the release library (no sanitizer, no invariant checks).
KSFT_SRCS := $(sort $(wildcard $(TOP)/tests/kselftest/*.c))
KSFT_OUT  := $(TESTS_OUT)/kselftest
KSFT_BINS := $(patsubst $(TOP)/tests/kselftest/%.c,$(KSFT_OUT)/%,$(KSFT_SRCS))
DEMO_BIN  := $(BUILD)/demo

.PHONY: tests unit-tests run-unit kselftests debug-kernel module-debug check demo

ifeq ($(SAN),)
tests: unit-tests kselftests $(DEMO_BIN)
else
tests: unit-tests
endif

unit-tests: $(UNIT_BINS)

# Under TSan only the threaded tests run (tests/unit/tsan.list, as in make
# check): the long single-threaded model tests would hit the harness
# timeout at TSan's speed and have no races to find.
TSAN_UNITS = $(shell sed 's/\#.*//' $(TOP)/tests/unit/tsan.list)
RUN_UNIT_BINS = $(if $(filter tsan,$(SAN)),$(addprefix $(UNIT_OUT)/,$(TSAN_UNITS)),$(UNIT_BINS))

run-unit: unit-tests
	$(TOP)/tests/vm/suite -n unit$(if $(SAN),-$(SAN)) $(RUN_UNIT_BINS)

kselftests: $(KSFT_BINS)

# The harness is a system include (-MMD does not list it): order-only.
$(UNIT_OUT)/%: $(TOP)/tests/unit/%.c $(LIB_TEST_A) | $(KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(LIB_SAN_FLAGS) $(CFLAGS) -MMD -MP -o $@ $< \
		$(LIB_TEST_A) $(LDFLAGS) $(LIB_LDLIBS)

ifeq ($(SAN),)
$(KSFT_OUT)/%: $(TOP)/tests/kselftest/%.c $(LIB_A) | $(KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(CFLAGS) -static -MMD -MP -o $@ $< \
		$(LIB_A) $(LDFLAGS) -pthread

$(DEMO_BIN): $(TOP)/tests/demo/demo.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(CFLAGS) -static -MMD -MP -o $@ $< \
		$(LIB_A) $(LDFLAGS) -pthread
endif

-include $(UNIT_BINS:=.d) $(KSFT_BINS:=.d) $(DEMO_BIN).d

# libFuzzer on the allocator core against a reference model (tests/unit/core_model.h).
# FUZZ_SECONDS bounds the run; longer runs: make fuzz FUZZ_SECONDS=3600.
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(TESTS_OUT)/fuzz/fuzz_core
FUZZ_SRCS := $(TOP)/tests/fuzz/fuzz_core.c $(wildcard $(TOP)/lib/core/*.c)

.PHONY: fuzz
$(FUZZ_BIN): $(FUZZ_SRCS) $(wildcard $(TOP)/lib/core/*.h) $(TOP)/tests/unit/core_model.h
	@mkdir -p $(dir $@)
	clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -DHAPMEM_DEBUG \
		-fno-sanitize-recover=undefined -I$(TOP)/lib -I$(TOP)/lib/include \
		-I$(TOP)/tests/unit -o $@ $(FUZZ_SRCS)

fuzz: $(FUZZ_BIN)
	@mkdir -p $(TESTS_OUT)/fuzz/corpus
	$(FUZZ_BIN) -seed=1 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 $(TESTS_OUT)/fuzz/corpus

# The VM ioctl fuzzer (tests/kselftest/rel_fuzz.c) beyond make check's
# fixed run (fixed seed, fixed count): by default a seed from the clock
# for up to FUZZ_VM_SECS seconds.  A failure prints the FUZZ_VM_SEED and
# FUZZ_VM_OPS that replay it (with no time bound).
FUZZ_VM_SEED ?= time
FUZZ_VM_OPS ?= 5000000
FUZZ_VM_SECS ?= $(if $(filter time,$(FUZZ_VM_SEED)),600,0)
FUZZ_VM_RUN := $(TESTS_OUT)/fuzz-vm/rel_fuzz_long

.PHONY: fuzz-vm
fuzz-vm: kselftests
	@mkdir -p $(dir $(FUZZ_VM_RUN))
	@printf '#!/bin/sh\nHAPMEM_FUZZ_SEED=%s HAPMEM_FUZZ_OPS=%s HAPMEM_FUZZ_SECS=%s exec /hapmem/kselftest/rel_fuzz\n' \
		'$(FUZZ_VM_SEED)' '$(FUZZ_VM_OPS)' '$(FUZZ_VM_SECS)' > $(FUZZ_VM_RUN)
	@chmod +x $(FUZZ_VM_RUN)
	$(TOP)/tests/vm/run --remotes 2 --timeout 1200 --add $(KSFT_OUT) -- $(FUZZ_VM_RUN)

debug-kernel:
	$(TOP)/tests/vm/build-kernel

module-debug:
	$(TOP)/tests/vm/build-module --debug

check:
	@$(TOP)/scripts/check

demo:
	@$(TOP)/scripts/demo

clean::
	rm -rf $(TESTS_OUT) $(BUILD)/debug $(DEMO_BIN) $(DEMO_BIN).d
