# SPDX-License-Identifier: GPL-2.0
#
# badbatch top-level build.
#
#   make              module (against Debian's 6.1 headers), library, tests
#   make demo         the main job: a multi-process pipeline via /dev/badbatch
#   make check        every test lane, ending with "N passed, N failed"
#   make test-unit    native protocol and library tests (ASan/UBSan, TSan)
#   make test-vm      integration tests in a qemu guest running Debian's 6.1
#   make test-kunit   kernel-side unit tests through kunit.py
#   make test-dkms    dkms add/build/remove against the installed headers
#   make test-debug   the VM tests, KUnit and fault injection under KASAN and
#                     KCSAN kernels built from linux-source-6.1 (on demand,
#                     not in make check: ~1-2 h cold; tests/debug/README.md)
#   make lint         checkpatch, sparse and W=1 on the module
#   make models       Promela models of the protocol, checked with spin
#   make bench        benchmarks against peers, quick (bench/README.md);
#                     make bench-full for every suite (never in check)
#
# Every target that needs packages installs them first when run as root.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build

# Debian's 6.1 kernel, not the host's: the module is tested in a VM.
KVER ?= $(shell ls -d /usr/src/linux-headers-6.1*-amd64 2>/dev/null | \
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
KDIR ?= /usr/src/linux-headers-$(KVER)
export KVER KDIR BUILD TOP

CC ?= cc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-I$(TOP)/include -I$(TOP)/include/uapi
CFLAGS ?= -O2 -g
export CFLAGS_COMMON

DEPS := $(TOP)/scripts/deps.sh

.PHONY: all deps module lib tests demo check test-unit test-vm test-kunit \
	test-dkms test-debug lint models clean

all: module lib tests

deps:
	@$(DEPS) build

module: deps
	$(MAKE) -C $(KDIR) M=$(TOP) modules

include userspace/build.mk
include tests/unit/build.mk
include tests/vm/build.mk
include bench/build.mk

tests: lib unit-bins vm-bins

demo: all
	@$(TOP)/tests/vm/demo.sh

test-unit: deps
	@$(TOP)/tests/unit/run.sh

test-vm: all
	@$(TOP)/tests/vm/run.sh

test-kunit: deps
	@$(TOP)/tests/kunit/run.sh

test-dkms: deps
	@$(TOP)/tests/dkms/run.sh

# Not part of check: builds its own kernels. TESTS="a b" for a subset.
test-debug: lib vm-bins
	@$(DEPS) debug vm
	@$(TOP)/tests/debug/run.sh $(TESTS)

lint: deps
	@$(TOP)/scripts/lint.sh

models:
	@$(DEPS) models
	@$(TOP)/models/run.sh

check:
	@$(TOP)/scripts/check.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean >/dev/null 2>&1
	rm -rf $(BUILD)
