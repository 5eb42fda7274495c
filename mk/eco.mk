# SPDX-License-Identifier: GPL-2.0-only
#
# The ecosystem around the driver and the library: installing, DKMS, the
# in-tree build, code health, the golden ABI, the documentation and the
# hapmem CLI.  Included by the top-level Makefile (after lib/lib.mk).
#
#   make install          module (kbuild modules_install + depmod), libraries
#                         with soname links, headers, pkg-config file, udev
#                         rule, the hapmem CLI; PREFIX (/usr/local), DESTDIR
#   make uninstall        remove all of it (same PREFIX/DESTDIR)
#   make install-check    install into a scratch DESTDIR, build a program
#                         against it with pkg-config, uninstall, check empty
#   make dkms-install     register, build and install the module with DKMS
#   make dkms-uninstall   remove it from DKMS
#   make dkms-check       a real "dkms build" against the distro headers, in
#                         a private DKMS tree under build/, removed afterwards
#   make intree-check     the driver as drivers/misc/hapmem of a copy of
#                         linux-source-6.1, built with CONFIG_HAPMEM=m and =y
#   make lint             every code-health check below
#     checkpatch            checkpatch.pl --strict on driver/ and uapi/
#     kernel-doc            kernel-doc comments parse without warnings
#     sparse                C=2 with endian checks, no warnings
#     lib-gcc lib-clang     the library (release and lib-debug) and the CLI,
#                           -Wall -Wextra -Werror
#     cppcheck              lib/ and tools/ (scripts/cppcheck.supp)
#     abi-check             the uapi layout against uapi/hapmem.abi
#     clang-format-check    .clang-format parses (driver/ style)
#   make abi-update       rewrite uapi/hapmem.abi from the header (review!)
#   make htmldocs         Documentation/ -> build/htmldocs (sphinx -W)
#   make compile_commands.json   for editors: the library, the CLI (bear)
#                         and the driver (kbuild's gen_compile_commands.py)
#   make cli              build/hapmem, the static hapmem CLI

ECO_KSRC = $(eval ECO_KSRC := $$(shell $(TOP)/scripts/kernel-source))$(ECO_KSRC)
# The release the module is for: KVER (scripts/kver; Debian's headers
# report "6.1.192" as kernelrelease, but install under 6.1.0-N-amd64).
ECO_KREL = $(KVER)
LINT_OUT := $(BUILD)/lint

# ---------------------------------------------------------------- the CLI
CLI_SRCS := $(sort $(wildcard $(TOP)/tools/hapmem/*.c))
CLI_BIN  := $(BUILD)/hapmem
CLI_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(TOP)/uapi \
	     -I$(TOP)/lib/include

.PHONY: cli
ifneq ($(CLI_SRCS),)
all: cli
endif
cli: $(CLI_BIN)

# Static, so the VM's initramfs needs no libraries.  It talks to the
# driver directly (ioctl, debugfs) and does not link libhapmem.
$(CLI_BIN): $(CLI_SRCS) $(wildcard $(TOP)/tools/hapmem/*.h) $(TOP)/uapi/linux/hapmem.h
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) $(CFLAGS) -static -o $@ $(CLI_SRCS) $(LDFLAGS)

# ---------------------------------------------------------------- lint
.PHONY: lint checkpatch kernel-doc sparse lib-gcc lib-clang cppcheck \
	abi-check abi-update clang-format-check
lint: checkpatch kernel-doc sparse lib-gcc lib-clang cppcheck abi-check \
      clang-format-check
	@echo "lint: all checks passed"

checkpatch:
	$(TOP)/scripts/check-kernel-style

# kernel-doc prints its complaints (a member without a description, a
# malformed comment) on stderr and still exits 0: any output fails.
KDOC_FILES ?= $(filter-out %.mod.c,$(wildcard $(TOP)/driver/*.[ch])) \
	      $(TOP)/uapi/linux/hapmem.h
kernel-doc:
	@out=$$(perl $(ECO_KSRC)/scripts/kernel-doc -none $(KDOC_FILES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; echo "kernel-doc: warnings above" >&2; exit 1; fi; \
	echo "kernel-doc: $(words $(KDOC_FILES)) files clean"

sparse:
	$(TOP)/scripts/check-sparse $(KDIR) $(LINT_OUT)/sparse

# The library under both compilers, release and with the invariant checks
# on (lib-debug), each in its own build directory so the normal build/lib
# is not rebuilt; the CLI likewise.
lib-gcc lib-clang: lib-%:
	@mkdir -p $(LINT_OUT)/$*
	@$(MAKE) -f $(TOP)/Makefile --no-print-directory lib lib-debug \
		BUILD=$(LINT_OUT)/$* CC=$* SAN= > $(LINT_OUT)/$*.log 2>&1 || \
		{ grep -E 'error|warning' $(LINT_OUT)/$*.log; echo "$@: failed (log: $(LINT_OUT)/$*.log)" >&2; exit 1; }
	$(if $(CLI_SRCS),@$* $(CLI_CFLAGS) -o $(LINT_OUT)/$*/hapmem $(CLI_SRCS))
	@echo "$@: libhapmem (release, debug) and the CLI build clean with $* -Wall -Wextra -Werror"

# Bug classes on (warning, performance, portability, style); the
# suppressions file lists the two style checks that contradict the
# kernel coding style, each with its reason.
cppcheck:
	cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
		--enable=warning,style,performance,portability \
		--suppressions-list=$(TOP)/scripts/cppcheck.supp \
		--template='{file}:{line}: {severity}: {message} [{id}]' \
		-I$(TOP)/lib/include -I$(TOP)/lib -I$(TOP)/uapi \
		$(TOP)/lib $(TOP)/tools/hapmem
	@echo "cppcheck: lib/ and tools/hapmem clean"

abi-check:
	$(TOP)/scripts/abi-check --out $(BUILD)/abi

abi-update:
	$(TOP)/scripts/abi-check --update --out $(BUILD)/abi

clang-format-check:
	@clang-format --style=file --dump-config \
		--assume-filename=$(TOP)/driver/main.c >/dev/null
	@clang-format --style=file --dry-run -Werror \
		$(TOP)/tools/hapmem/*.c $(TOP)/tools/hapmem/*.h 2>/dev/null \
		|| { echo "clang-format: tools/hapmem differs from .clang-format" >&2; exit 1; }
	@echo "clang-format: .clang-format parses; tools/hapmem follows it"

# ---------------------------------------------------------------- docs
.PHONY: htmldocs
# The kernel-doc extension does not pass kernel-doc's own warnings to
# Sphinx, so the headers the pages pull in are checked first.  -E: every
# page is read again, else a warning of an unchanged page would not be
# repeated and -W would let it through.
htmldocs:
	@$(MAKE) -f $(TOP)/Makefile --no-print-directory kernel-doc \
		KDOC_FILES=$(TOP)/uapi/linux/hapmem.h
	HAPMEM_KSRC=$(ECO_KSRC) sphinx-build -W --keep-going -E -q -b html \
		-d $(BUILD)/htmldocs/.doctrees $(TOP)/Documentation $(BUILD)/htmldocs
	@echo "htmldocs: $(BUILD)/htmldocs/index.html"

# ---------------------------------------------------------------- install
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PCDIR      ?= $(LIBDIR)/pkgconfig
# udev reads /etc and /usr/lib (/lib), never /usr/local: a /usr/local
# install puts its rule where an administrator's rules go.
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
MODDIR     ?= updates
HAPMEM_GROUP ?= hapmem

INST_HDRS := $(sort $(wildcard $(TOP)/lib/include/*.h))
INST_HDRDIR = $(DESTDIR)$(INCLUDEDIR)/hapmem
# The porting faces' headers keep their upstream paths under compat/.
INST_COMPAT_HDRS := $(patsubst $(TOP)/lib/include/compat/%,%,$(sort \
	$(wildcard $(TOP)/lib/include/compat/*.h $(TOP)/lib/include/compat/*/*.h \
		$(TOP)/lib/include/compat/*/*/*.h)))
INST_PCS := $(LIB_NAME) $(LIB_NAME)-compat

.PHONY: install uninstall install-module install-lib install-udev \
	uninstall-module install-check
install: install-module install-lib install-udev
	@echo "install: done (DESTDIR='$(DESTDIR)' PREFIX=$(PREFIX))"

# Distro headers carry no signing key (Debian signs its own modules
# apart): kbuild's attempt to sign would only print SSL errors, so signing
# is left on only when KDIR has the key.  A staged install (DESTDIR) leaves
# depmod to the package's postinst.
ECO_SIGN = $(if $(wildcard $(KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=)
install-module: module
	$(MAKE) -C $(KDIR) M=$(MOD_OUT) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(MODDIR) CONFIG_HAPMEM=m $(ECO_SIGN) modules_install
	$(if $(DESTDIR),@echo "install: DESTDIR is set: depmod is the package's job",depmod -a $(ECO_KREL))

install-lib: lib cli
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PCDIR) $(INST_HDRDIR)/linux $(DESTDIR)$(BINDIR)
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/$(LIB_SO_REAL)
	ln -sfn $(LIB_SO_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sfn $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/$(LIB_NAME).so
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/$(LIB_NAME).a
	install -m 0644 $(INST_HDRS) $(INST_HDRDIR)/
	install -m 0644 $(TOP)/uapi/linux/hapmem.h $(INST_HDRDIR)/linux/hapmem.h
	set -e; for h in $(INST_COMPAT_HDRS); do \
		install -D -m 0644 $(TOP)/lib/include/compat/$$h $(INST_HDRDIR)/compat/$$h; done
	@# The .pc files are made for this PREFIX, whatever PREFIX the build had.
	set -e; for pc in $(INST_PCS); do \
		sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(LIB_VERSION)|g' \
			-e 's|^libdir=.*|libdir=$(LIBDIR)|' -e 's|^includedir=.*|includedir=$(INCLUDEDIR)|' \
			$(TOP)/lib/$$pc.pc.in > $(DESTDIR)$(PCDIR)/$$pc.pc; \
		chmod 0644 $(DESTDIR)$(PCDIR)/$$pc.pc; done
	install -m 0755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/hapmem
	$(if $(DESTDIR),,ldconfig)

# The group is created on a live install only; a staged one (DESTDIR) is a
# package, whose postinst runs "groupadd --system hapmem".
install-udev:
	install -d $(DESTDIR)$(UDEVRULESDIR)
	install -m 0644 $(TOP)/udev/60-hapmem.rules $(DESTDIR)$(UDEVRULESDIR)/60-hapmem.rules
ifeq ($(DESTDIR),)
	getent group $(HAPMEM_GROUP) >/dev/null || groupadd --system $(HAPMEM_GROUP)
	@if udevadm control --reload-rules 2>/dev/null; then \
		udevadm trigger --subsystem-match=misc --sysname-match='hapmem*'; \
	else echo "install: udev is not running here; the rule applies when it starts"; fi
endif

uninstall: uninstall-module
	rm -f $(DESTDIR)$(LIBDIR)/$(LIB_SO_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
		$(DESTDIR)$(LIBDIR)/$(LIB_NAME).so $(DESTDIR)$(LIBDIR)/$(LIB_NAME).a \
		$(DESTDIR)$(PCDIR)/$(LIB_NAME).pc $(DESTDIR)$(PCDIR)/$(LIB_NAME)-compat.pc \
		$(DESTDIR)$(BINDIR)/hapmem \
		$(DESTDIR)$(UDEVRULESDIR)/60-hapmem.rules
	rm -f $(INST_HDRDIR)/linux/hapmem.h $(addprefix $(INST_HDRDIR)/,$(notdir $(INST_HDRS))) \
		$(addprefix $(INST_HDRDIR)/compat/,$(INST_COMPAT_HDRS))
	-[ ! -d $(INST_HDRDIR)/compat ] || find $(INST_HDRDIR)/compat -depth -type d -empty -delete
	-rmdir $(INST_HDRDIR)/linux $(INST_HDRDIR) 2>/dev/null
	$(if $(DESTDIR),,ldconfig)
	@echo "uninstall: done; the '$(HAPMEM_GROUP)' group is kept (groupdel $(HAPMEM_GROUP) removes it)"

uninstall-module:
	rm -f $(DESTDIR)/lib/modules/$(ECO_KREL)/$(MODDIR)/hapmem.ko
	-rmdir $(DESTDIR)/lib/modules/$(ECO_KREL)/$(MODDIR) 2>/dev/null
	$(if $(DESTDIR),,depmod -a $(ECO_KREL))

# A staged install and uninstall, checked file by file, and a program
# built against the staged tree through pkg-config, linked both ways.
install-check:
	$(TOP)/scripts/install-check

# ---------------------------------------------------------------- DKMS
DKMS_NAME    := hapmem
DKMS_VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
DKMS_SRC      = /usr/src/$(DKMS_NAME)-$(DKMS_VERSION)

.PHONY: dkms-install dkms-uninstall dkms-check dkms-src
# dkms.conf, driver/ and uapi/ as DKMS wants them: one source directory.
dkms-src:
	$(TOP)/scripts/dkms-stage $(DKMS_SRC)

# Built and installed for every kernel with headers, not only KVER's.
dkms-install:
	$(TOP)/scripts/dkms-install

dkms-uninstall:
	-dkms remove -m $(DKMS_NAME) -v $(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

# Every installed Debian kernel with headers (6.1 and 6.12), as DKMS's
# autoinstall would on a machine with both.
dkms-check:
	@set -e; for k in $$($(TOP)/scripts/kver --all); do \
		$(TOP)/scripts/dkms-check $$k $(BUILD)/dkms-check; done
	$(TOP)/scripts/dkms-check --all $(BUILD)/dkms-check

# ---------------------------------------------------------------- in tree
.PHONY: intree-check
intree-check:
	$(TOP)/scripts/intree-check

# ---------------------------------------------------------------- editors
# The library and the CLI through bear; the driver from kbuild's own
# .cmd files (gen_compile_commands.py of the extracted source); merged.
.PHONY: compile_commands.json
compile_commands.json:
	@mkdir -p $(BUILD)/cc
	bear --output $(BUILD)/cc/user.json -- $(MAKE) -f $(TOP)/Makefile \
		--no-print-directory -B lib cli BUILD=$(BUILD)/cc/build SAN=
	$(MAKE) -C $(KDIR) M=$(TOP)/driver CONFIG_HAPMEM=m modules
	python3 $(ECO_KSRC)/scripts/clang-tools/gen_compile_commands.py \
		-d $(TOP)/driver -o $(BUILD)/cc/driver.json
	python3 -c 'import json,sys; json.dump(sum((json.load(open(f)) for f in sys.argv[1:]), []), open("$(TOP)/compile_commands.json", "w"), indent=1)' \
		$(BUILD)/cc/user.json $(BUILD)/cc/driver.json
	@echo "compile_commands.json: $$(grep -c '"file"' $(TOP)/compile_commands.json) entries"

clean::
	rm -rf $(LINT_OUT) $(BUILD)/abi $(BUILD)/htmldocs $(BUILD)/cc \
		$(BUILD)/dkms-check $(BUILD)/install-check $(CLI_BIN)

# ---------------------------------------------------------------- CLI test
# The VM test of the CLI (tests/kselftest/cli_hapmem.c) finds the binary
# in bin/ beside itself: a directory, which the suite runner skips, and
# which travels into the guest with build/tests/kselftest.
$(KSFT_OUT)/bin/hapmem: $(CLI_BIN)
	@mkdir -p $(dir $@)
	cp $< $@
$(KSFT_OUT)/cli_hapmem: $(KSFT_OUT)/bin/hapmem
