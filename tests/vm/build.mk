# SPDX-License-Identifier: GPL-2.0
#
# VM integration test programs, run in the guest by tests/vm/run.sh.
#
#   make vm-bins   tests/vm/tests/*.c, one program per file, into
#                  $(BUILD)/vm/tests/ (shared code goes in headers there)

VM_TEST_DIR := $(BUILD)/vm/tests
VM_TEST_SRCS := $(wildcard $(TOP)/tests/vm/tests/*.c)
VM_TEST_BINS := $(patsubst $(TOP)/tests/vm/tests/%.c,$(VM_TEST_DIR)/%,$(VM_TEST_SRCS))
VM_TEST_CFLAGS := $(CFLAGS_COMMON) $(CFLAGS) -pthread -MMD -MP

.PHONY: vm-bins

vm-bins: lib $(VM_TEST_BINS)

$(VM_TEST_DIR):
	@mkdir -p $@

$(VM_TEST_DIR)/%: $(TOP)/tests/vm/tests/%.c $(BUILD)/lib/libbadbatch.a | $(VM_TEST_DIR)
	$(CC) $(VM_TEST_CFLAGS) -MF $@.d -o $@ $< $(BUILD)/lib/libbadbatch.a -lpthread

-include $(VM_TEST_BINS:=.d)
