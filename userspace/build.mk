# SPDX-License-Identifier: GPL-2.0
#
# libbadbatch (static and shared) and the programs built on it.
#
#   make lib     $(BUILD)/lib/libbadbatch.{a,so}, then the tools
#   make tools   userspace/tools/*.c and userspace/examples/*.c, one
#                program per file, into $(BUILD)/bin/, linked statically
#                so a guest with a minimal userland can run them.

LIB_DIR := $(BUILD)/lib
LIB_SRCS := $(wildcard $(TOP)/userspace/lib/*.c)
LIB_OBJS := $(patsubst $(TOP)/userspace/lib/%.c,$(LIB_DIR)/obj/%.o,$(LIB_SRCS))
LIB_A := $(LIB_DIR)/libbadbatch.a
LIB_SO := $(LIB_DIR)/libbadbatch.so
# Fat LTO objects: plain links use the machine code as before; a program
# built and linked with -flto gets the hot path (claim, slot, publish,
# consume) inlined into its own loop (bench/FINDINGS.md).
LIB_CFLAGS := $(CFLAGS_COMMON) $(CFLAGS) -fPIC -fvisibility=hidden \
	-pthread -MMD -MP -flto=auto -ffat-lto-objects

TOOL_SRCS := $(wildcard $(TOP)/userspace/tools/*.c) \
	$(wildcard $(TOP)/userspace/examples/*.c)
TOOL_BINS := $(addprefix $(BUILD)/bin/,$(basename $(notdir $(TOOL_SRCS))))
TOOL_CFLAGS := $(CFLAGS_COMMON) $(CFLAGS) -pthread -MMD -MP

.PHONY: lib tools

lib: $(LIB_A) $(LIB_SO) tools

tools: $(TOOL_BINS)

$(LIB_DIR)/obj $(BUILD)/bin:
	@mkdir -p $@

# Rebuild the library when its flags change (CFLAGS on the command line).
LIB_FLAGS := $(LIB_DIR)/obj/cflags

.PHONY: bb-force
$(LIB_FLAGS): bb-force | $(LIB_DIR)/obj
	@echo '$(LIB_CFLAGS)' | cmp -s - $@ || echo '$(LIB_CFLAGS)' > $@

$(LIB_DIR)/obj/%.o: $(TOP)/userspace/lib/%.c $(LIB_FLAGS) | $(LIB_DIR)/obj
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared -pthread -Wl,-soname,libbadbatch.so -Wl,-z,defs \
		-o $@ $^

$(BUILD)/bin/%: $(TOP)/userspace/tools/%.c $(LIB_A) | $(BUILD)/bin
	$(CC) $(TOOL_CFLAGS) -MF $@.d -static -o $@ $< $(LIB_A)

$(BUILD)/bin/%: $(TOP)/userspace/examples/%.c $(LIB_A) | $(BUILD)/bin
	$(CC) $(TOOL_CFLAGS) -MF $@.d -static -o $@ $< $(LIB_A)

-include $(LIB_OBJS:.o=.d) $(TOOL_BINS:=.d)
