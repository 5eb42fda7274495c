# SPDX-License-Identifier: GPL-2.0-only
#
# libhapmem: built into $(BUILD)/lib.  Included by the top-level Makefile.
#
#   make lib                 build/lib/libhapmem.so.0.1.0 (+ .so.0, .so links),
#                            build/lib/libhapmem.a, build/lib/libhapmem.pc
#   make lib CC=clang        the same with clang (warnings are errors too)
#   make lib SAN=asan        ASan + UBSan build in build/lib-asan/
#   make lib SAN=ubsan       UBSan only, in build/lib-ubsan/
#   make lib SAN=tsan        TSan build in build/lib-tsan/
#   make lib-debug           build/lib-debug/libhapmem.a: the plain build
#                            with the internal invariant checks on
#                            (HAPMEM_DEBUG), which the unit tests link
#   make lib-symbols         check that only the public API is exported
#
# Every lib/*/*.c is compiled: one folder per layer (lib/README; the porting
# faces of lib/compat included, their headers are lib/include/compat, found
# with pkg-config libhapmem-compat): adding a source file needs no edit here.  LIB_FILTER (a make pattern list)
# leaves files out while one is being written, e.g.
#   make lib LIB_FILTER=lib/heap/%
#
# Variables other makefiles may use:
#   LIB_OUT      output directory for the current SAN (build/lib[-SAN])
#   LIB_A        the static library, LIB_SO the shared one (real file name)
#   LIB_CFLAGS   compiler flags (include dirs, sanitizer flags, HAPMEM_DEBUG
#                in the sanitizer builds)
#   LIB_TEST_A   the static library the unit tests link: LIB_A with the
#                invariant checks on (build/lib-debug, or the SAN build)
#   LIB_SAN_FLAGS sanitizer flags alone (for linking test binaries)
#   LIB_LDLIBS   libraries a program linking LIB_A needs

LIB_VERSION     := 0.1.0
LIB_SOVERSION   := 0
LIB_NAME        := libhapmem
PREFIX          ?= /usr/local

SAN ?=
ifeq ($(SAN),)
LIB_OUT         := $(BUILD)/lib
LIB_SAN_FLAGS   :=
else ifeq ($(SAN),asan)
LIB_OUT         := $(BUILD)/lib-asan
LIB_SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
else ifeq ($(SAN),ubsan)
LIB_OUT         := $(BUILD)/lib-ubsan
LIB_SAN_FLAGS   := -fsanitize=undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
else ifeq ($(SAN),tsan)
LIB_OUT         := $(BUILD)/lib-tsan
LIB_SAN_FLAGS   := -fsanitize=thread -fno-omit-frame-pointer
else
$(error SAN must be empty, asan, ubsan or tsan)
endif

LIB_SRCS  := $(filter-out $(LIB_FILTER),$(sort $(wildcard $(TOP)/lib/*/*.c)))
LIB_OBJS  := $(patsubst $(TOP)/lib/%.c,$(LIB_OUT)/obj/%.o,$(LIB_SRCS))
LIB_DEPS  := $(LIB_OBJS:.o=.d)
LIB_MAP   := $(TOP)/lib/libhapmem.map

LIB_SO_REAL := $(LIB_NAME).so.$(LIB_VERSION)
LIB_SONAME  := $(LIB_NAME).so.$(LIB_SOVERSION)
LIB_SO      := $(LIB_OUT)/$(LIB_SO_REAL)
LIB_A       := $(LIB_OUT)/$(LIB_NAME).a
LIB_PC      := $(LIB_OUT)/$(LIB_NAME).pc
LIB_PC_COMPAT := $(LIB_OUT)/$(LIB_NAME)-compat.pc

# The internal invariant checks (HM_CORE_ASSERT in lib/core, the front
# end's in lib/heap) are compiled in with HAPMEM_DEBUG: on in every build
# the tests link (the sanitizer builds, and build/lib-debug for the plain
# unit tests), off in the release library that is installed and that the
# benches, the kselftests and the demo link.
LIB_DEBUG_FLAGS := $(if $(SAN),-DHAPMEM_DEBUG)
LIB_WARN    := -Wall -Wextra -Werror
LIB_BASE_CFLAGS := -std=gnu11 -O2 -g $(LIB_WARN) -fPIC -fvisibility=hidden \
	       -I$(TOP)/lib/include -I$(TOP)/uapi -I$(TOP)/lib \
	       $(LIB_SAN_FLAGS)
LIB_CFLAGS  := $(LIB_BASE_CFLAGS) $(LIB_DEBUG_FLAGS)
LIB_LDLIBS  := -pthread
LIB_AR      ?= ar

.PHONY: lib lib-debug lib-symbols
lib: $(LIB_SO) $(LIB_OUT)/$(LIB_SONAME) $(LIB_OUT)/$(LIB_NAME).so $(LIB_A) $(LIB_PC) \
     $(LIB_PC_COMPAT)

# Rebuild everything when the compiler or the flags change (CC=clang after
# a gcc build, say).  The stamp's recipe runs on every make that needs the
# library, but rewrites the file only when its content differs: make looks
# at its time again after the recipe, so an unchanged stamp rebuilds
# nothing.  Nothing is run or written while the makefiles are read.
LIB_STAMP := $(LIB_OUT)/.flags
LIB_STAMP_TEXT = $(CC) $(LIB_CFLAGS) $(CFLAGS) $(LDFLAGS)

.PHONY: lib-flags-force
lib-flags-force:
$(LIB_STAMP): lib-flags-force
	@mkdir -p $(dir $@)
	@[ "`cat $@ 2>/dev/null`" = '$(LIB_STAMP_TEXT)' ] || echo '$(LIB_STAMP_TEXT)' > $@

$(LIB_OUT)/obj/%.o: $(TOP)/lib/%.c $(LIB_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_SO): $(LIB_OBJS) $(LIB_MAP) $(LIB_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(LIB_OBJS) -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=$(LIB_MAP) -Wl,--no-undefined \
		-Wl,-z,relro,-z,now,-z,noexecstack $(LIB_SAN_FLAGS) $(LDFLAGS) $(LIB_LDLIBS)

$(LIB_OUT)/$(LIB_SONAME): $(LIB_SO)
	ln -sfn $(LIB_SO_REAL) $@

$(LIB_OUT)/$(LIB_NAME).so: $(LIB_OUT)/$(LIB_SONAME)
	ln -sfn $(LIB_SONAME) $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(LIB_AR) rcs $@ $(LIB_OBJS)

# The plain build with the invariant checks on: the same sources, objects
# of their own in build/lib-debug (so build/lib stays the release one), a
# static library only.  A sanitizer build has the checks already: there
# the unit tests link LIB_A itself.
ifeq ($(SAN),)
LIB_DBG_OUT   := $(BUILD)/lib-debug
LIB_DBG_OBJS  := $(patsubst $(TOP)/lib/%.c,$(LIB_DBG_OUT)/obj/%.o,$(LIB_SRCS))
LIB_DBG_STAMP := $(LIB_DBG_OUT)/.flags
LIB_DBG_STAMP_TEXT = $(CC) $(LIB_BASE_CFLAGS) -DHAPMEM_DEBUG $(CFLAGS)
LIB_DBG_A     := $(LIB_DBG_OUT)/$(LIB_NAME).a
LIB_TEST_A    := $(LIB_DBG_A)

$(LIB_DBG_STAMP): lib-flags-force
	@mkdir -p $(dir $@)
	@[ "`cat $@ 2>/dev/null`" = '$(LIB_DBG_STAMP_TEXT)' ] || echo '$(LIB_DBG_STAMP_TEXT)' > $@

$(LIB_DBG_OUT)/obj/%.o: $(TOP)/lib/%.c $(LIB_DBG_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_BASE_CFLAGS) -DHAPMEM_DEBUG $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_DBG_A): $(LIB_DBG_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(LIB_AR) rcs $@ $(LIB_DBG_OBJS)

-include $(LIB_DBG_OBJS:.o=.d)
else
LIB_TEST_A    := $(LIB_A)
endif

lib-debug: $(LIB_TEST_A)

$(LIB_OUT)/%.pc: $(TOP)/lib/%.pc.in $(MAKEFILE_LIST)
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(LIB_VERSION)|g' $< > $@

# Exported dynamic symbols must be exactly the ones the public headers
# declare, and nothing internal (hm_*) may leak.
lib-symbols: lib
	$(TOP)/lib/check-symbols $(LIB_SO) $(TOP)/lib/include

-include $(LIB_DEPS)

clean::
	rm -rf $(BUILD)/lib $(BUILD)/lib-debug $(BUILD)/lib-asan $(BUILD)/lib-ubsan \
		$(BUILD)/lib-tsan
