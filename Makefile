# SPDX-License-Identifier: GPL-2.0-only
#
# hapmem top-level Makefile.
#
#   make            build hapmem.ko and lib/ (shared + static)
#   make deps       install every Debian package the build and tests need
#   make check      host unit tests, then the kselftests in the VMs: Debian's
#                   6.1 and 6.12 kernels, the debug kernel, arm64
#   make demo       build, boot the VM, run the demo program
#
#   make tests      every test program and the demo (see tests/tests.mk)
#   make run-unit   build and run the host unit tests (SAN=asan|ubsan|tsan)
#   make debug-kernel / module-debug
#                   the cached debug kernel, hapmem.ko built against it
#   tests/vm/run -- PROGRAM   run a program in the VM (tests/vm/run --help)
#
# The kernel is chosen explicitly, never "the newest installed":
#
#   KVER=6.1        (the default) Debian's 6.1 kernel, the newest installed
#                   6.1.0-NN-amd64; KVER=6.12 the newest 6.12.NN+deb12-amd64;
#                   a full release name (KVER=6.12.118+deb12-amd64) as it is
#                   (scripts/kver resolves it).  The module is built in
#                   build/modules/<release>/driver/hapmem.ko, one directory
#                   per kernel, so a module is never loaded into a kernel it
#                   was not built for.  KDIR overrides the headers' tree.
#   ARCH=arm64      cross-build with gcc-aarch64-linux-gnu: the module
#                   (against Debian's arm64 kernel, tests/vm/arm64-kernel),
#                   the library, the kselftests and the demo, all under
#                   build/arm64/ (build/arm64/lib/libhapmem.a,
#                   build/arm64/driver/hapmem.ko); make demo ARCH=arm64 runs
#                   the demo in the arm64 VM.

TOP := $(CURDIR)
export HAPMEM_CACHE ?= /var/cache/hapmem

ifneq ($(filter arm64 aarch64,$(ARCH)),)
override ARCH := arm64
export ARCH
HAPMEM_ARCH := arm64
ifneq ($(origin BUILD),command line)
BUILD := $(TOP)/build/arm64
endif
export CROSS_COMPILE ?= aarch64-linux-gnu-
ifneq ($(origin CC),command line)
CC := $(CROSS_COMPILE)gcc
endif
LIB_AR := $(CROSS_COMPILE)ar
KVER = $(eval KVER := $$(shell $(TOP)/tests/vm/arm64-kernel --release))$(KVER)
KDIR = $(eval KDIR := $$(shell $(TOP)/tests/vm/arm64-kernel --kdir))$(KDIR)
MOD_OUT = $(BUILD)/driver
else
HAPMEM_ARCH :=
ifneq ($(origin BUILD),command line)
BUILD := $(TOP)/build
endif
CC ?= cc
KVER ?= 6.1
KVER_ASKED := $(KVER)
# Resolved by the first rule that uses it (never while make reads this).
override KVER = $(eval override KVER := $$(shell $(TOP)/scripts/kver $(KVER_ASKED) 2>/dev/null))$(KVER)
KDIR ?= /lib/modules/$(KVER)/build
MOD_OUT = $(BUILD)/modules/$(KVER)/driver
endif
MODULE = $(MOD_OUT)/hapmem.ko

.PHONY: all module module-path lib clean deps check demo
all: module lib

# The sources are mirrored next to the objects (scripts/mirror-driver).
module:
	@[ -n "$(KVER)" ] || { $(TOP)/scripts/kver $(KVER_ASKED); exit 1; }
	$(TOP)/scripts/mirror-driver $(patsubst %/driver,%,$(MOD_OUT))
	$(MAKE) -C $(KDIR) M=$(MOD_OUT) CONFIG_HAPMEM=m modules

# Where "make module" puts hapmem.ko for this KVER/ARCH.
module-path:
	@echo $(MODULE)

deps:
	@$(TOP)/scripts/deps

include lib/lib.mk
include tests/tests.mk
include bench/bench.mk
include mk/eco.mk

# Cross-built, "all" is everything the arm64 VM runs.
ifeq ($(HAPMEM_ARCH),arm64)
all: kselftests $(DEMO_BIN)
endif

clean::
	$(MAKE) -C $(KDIR) M=$(TOP)/driver clean 2>/dev/null || true
	rm -rf $(BUILD)
