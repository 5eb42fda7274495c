# SPDX-License-Identifier: GPL-2.0-only
#
# hapmem top-level Makefile.
#
#   make            build driver/hapmem.ko and lib/ (shared + static)
#   make deps       install every Debian package the build and tests need
#   make check      host unit tests, then the kselftests in the VM on the
#                   distro kernel and on the debug kernel
#   make demo       build, boot the VM, run the demo program
#
#   make tests      every test program and the demo (see tests/tests.mk)
#   make run-unit   build and run the host unit tests (SAN=asan|ubsan|tsan)
#   make debug-kernel / module-debug
#                   the cached debug kernel, hapmem.ko built against it
#   tests/vm/run -- PROGRAM   run a program in the VM (tests/vm/run --help)
#
# KDIR selects the kernel to build the module against (default: the
# installed Debian linux-headers-*-amd64, not the running kernel).

TOP := $(CURDIR)
BUILD := $(TOP)/build
KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | grep -- '-amd64$$' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
export HAPMEM_CACHE ?= /var/cache/hapmem

CC ?= cc

.PHONY: all module lib clean deps check demo
all: module lib

module:
	$(MAKE) -C $(KDIR) M=$(TOP)/driver CONFIG_HAPMEM=m modules

deps:
	@$(TOP)/scripts/deps

include lib/lib.mk
include tests/tests.mk
-include bench/bench.mk
-include mk/eco.mk

clean::
	$(MAKE) -C $(KDIR) M=$(TOP)/driver clean 2>/dev/null || true
	rm -rf $(BUILD)
