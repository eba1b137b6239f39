# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks: never part of `make check`.
#
#   make bench        quick mode (under 5 minutes): bench/run.sh quick
#   make bench-full   every suite and parameter: bench/run.sh full
#   make bench-bins   bench/*.c, one program per file (common.c is shared),
#                     into $(BUILD)/bench/, and the Java harness
#
# Peers are built when their Debian packages are installed (the bench lane
# of scripts/deps.sh installs them): liburcu, ck, DPDK, LMAX Disruptor.

BENCH_DIR := $(BUILD)/bench
BENCH_SRCS := $(filter-out $(TOP)/bench/common.c $(TOP)/bench/peers_queues.c,\
	$(wildcard $(TOP)/bench/*.c))
BENCH_BINS := $(patsubst $(TOP)/bench/%.c,$(BENCH_DIR)/%,$(BENCH_SRCS))
BENCH_CFLAGS := $(CFLAGS_COMMON) -O2 -g -pthread -MMD -MP -I$(TOP)/bench
# The same programs built and linked with -flto: the library's fast path
# inlined into the benchmark's loop, as a program built that way gets it.
BENCH_LTO_BINS := $(BENCH_DIR)/bb_topo_lto

# The in-process queues: each peer only when its headers are there.
BENCH_Q_DEFS :=
BENCH_Q_LIBS :=
ifeq ($(shell pkg-config --exists liburcu && echo y),y)
BENCH_Q_DEFS += -DHAVE_URCU
endif
ifeq ($(shell pkg-config --exists ck && echo y),y)
BENCH_Q_DEFS += -DHAVE_CK
BENCH_Q_LIBS += -lck
endif
ifeq ($(shell pkg-config --exists libdpdk && echo y),y)
BENCH_Q_DEFS += -DHAVE_DPDK $(shell pkg-config --cflags libdpdk)
BENCH_Q_LIBS += -lrte_ring -lrte_eal
endif

BENCH_JAR := /usr/share/java/disruptor.jar
BENCH_JAVA := $(BENCH_DIR)/java/Harness.class

.PHONY: bench bench-full bench-bins bench-java

bench-bins: lib $(BENCH_BINS) $(BENCH_LTO_BINS) $(BENCH_DIR)/peers_queues \
	bench-java

bench-java: $(BENCH_JAVA)

$(BENCH_DIR) $(BENCH_DIR)/obj:
	@mkdir -p $@

$(BENCH_DIR)/obj/common.o: $(TOP)/bench/common.c | $(BENCH_DIR)/obj
	$(CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/%: $(TOP)/bench/%.c $(BENCH_DIR)/obj/common.o $(LIB_A) | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -MF $@.d -o $@ $< $(BENCH_DIR)/obj/common.o \
		$(LIB_A) -lrt

$(BENCH_DIR)/%_lto: $(TOP)/bench/%.c $(TOP)/bench/common.c $(LIB_A) | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -flto=auto -DBB_BENCH_IMPL='"badbatch-lto"' \
		-MF $@.d -o $@ $< $(TOP)/bench/common.c \
		$(LIB_A) -lrt

$(BENCH_DIR)/peers_queues: $(TOP)/bench/peers_queues.c $(BENCH_DIR)/obj/common.o | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -Wno-error $(BENCH_Q_DEFS) -MF $@.d -o $@ $< \
		$(BENCH_DIR)/obj/common.o $(BENCH_Q_LIBS)

$(BENCH_JAVA): $(wildcard $(TOP)/bench/java/*.java)
	@if command -v javac >/dev/null && [ -f $(BENCH_JAR) ]; then \
		mkdir -p $(BENCH_DIR)/java && \
		javac -nowarn -cp $(BENCH_JAR) -d $(BENCH_DIR)/java $^; \
	else echo "bench: no javac or $(BENCH_JAR): LMAX Disruptor skipped"; fi

bench:
	@$(DEPS) build vm bench
	@$(MAKE) --no-print-directory all bench-bins
	@$(TOP)/bench/run.sh quick

bench-full:
	@$(DEPS) build vm bench
	@$(MAKE) --no-print-directory all bench-bins
	@$(TOP)/bench/run.sh full

-include $(BENCH_BINS:=.d) $(BENCH_LTO_BINS:=.d) $(BENCH_DIR)/peers_queues.d
