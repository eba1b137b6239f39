# SPDX-License-Identifier: GPL-2.0
#
# Native unit tests: tests/unit/*.c and the library's sources compiled
# together into one program per variant, so the sanitizers see the
# library too.
#
#   make unit-bins [UNIT_VARIANT=plain|asan|tsan]
#	-> $(BUILD)/unit/$(UNIT_VARIANT)/badbatch-unit
#
# tests/unit/run.sh builds and runs all three variants.

UNIT_VARIANT ?= plain
UNIT_DIR := $(BUILD)/unit/$(UNIT_VARIANT)
UNIT_BIN := $(UNIT_DIR)/badbatch-unit

UNIT_SAN_plain :=
UNIT_SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# TSan does not model fences or membarrier(2): it checks that every word
# the need-wakeup protocol shares is accessed atomically, not its order
# (the Spin models in models/ do that).
UNIT_SAN_tsan := -fsanitize=thread -Wno-tsan -DUT_SCALE_DIV=2

UNIT_SRCS := $(wildcard $(TOP)/tests/unit/*.c)
UNIT_OBJS := \
	$(patsubst $(TOP)/tests/unit/%.c,$(UNIT_DIR)/t/%.o,$(UNIT_SRCS)) \
	$(patsubst $(TOP)/userspace/lib/%.c,$(UNIT_DIR)/lib/%.o,$(LIB_SRCS))
UNIT_CFLAGS := $(CFLAGS_COMMON) $(CFLAGS) -pthread -MMD -MP \
	$(UNIT_SAN_$(UNIT_VARIANT)) -I$(TOP)/userspace/lib \
	-DUT_VARIANT=\"$(UNIT_VARIANT)\"

UNIT_FLAGS := $(UNIT_DIR)/cflags

.PHONY: unit-bins

unit-bins: $(UNIT_BIN)

$(UNIT_DIR)/t $(UNIT_DIR)/lib:
	@mkdir -p $@

# Rebuild everything when the flags change (variants, CFLAGS).
$(UNIT_FLAGS): bb-force | $(UNIT_DIR)/t
	@echo '$(UNIT_CFLAGS)' | cmp -s - $@ || echo '$(UNIT_CFLAGS)' > $@

$(UNIT_DIR)/t/%.o: $(TOP)/tests/unit/%.c $(UNIT_FLAGS) | $(UNIT_DIR)/t
	$(CC) $(UNIT_CFLAGS) -c -o $@ $<

$(UNIT_DIR)/lib/%.o: $(TOP)/userspace/lib/%.c $(UNIT_FLAGS) | $(UNIT_DIR)/lib
	$(CC) $(UNIT_CFLAGS) -c -o $@ $<

$(UNIT_BIN): $(UNIT_OBJS)
	$(CC) $(UNIT_CFLAGS) -o $@ $^

-include $(UNIT_OBJS:.o=.d)
