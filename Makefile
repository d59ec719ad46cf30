# sweep -- build, test and install.
#
#   make                     build/libsweep.a and build/sweep
#   make test                build and run the whole test suite (tests/run.sh)
#   make check-unit          only the C unit tests
#   make SANITIZER=address   (or undefined, or address,undefined) instrumented build
#   make WERROR=1            warnings are errors (CI)
#   make BUILD=dir           build somewhere else than build/
#   make install PREFIX=/usr/local DESTDIR=
#
# A user's CFLAGS / LDFLAGS / CPPFLAGS are kept: the project's own flags are
# added around them, never instead of them.  Package names are overridable
# for distributions that call parallel HDF5 differently:
#   make HDF5_PKG=hdf5-mpich   or   make PKGS="hdf5 openblas yaml-0.1"

CC        ?= mpicc
ifeq ($(origin CC),default)
CC        := mpicc
endif
PKG_CONFIG ?= pkg-config
HDF5_PKG  ?= hdf5-openmpi
BLAS_PKG  ?= openblas
YAML_PKG  ?= yaml-0.1
PKGS      ?= $(HDF5_PKG) $(BLAS_PKG) $(YAML_PKG)
BUILD     ?= build
PREFIX    ?= /usr/local
PYTHON    ?= /usr/bin/python3

CFLAGS    ?= -O2 -g
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes
ifeq ($(WERROR),1)
WARN      += -Werror
endif
ifneq ($(SANITIZER),)
SAN_FLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

ALL_CPPFLAGS := -Iinclude -D_XOPEN_SOURCE=700 $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   := -std=c11 $(WARN) $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS  := $(LDFLAGS) $(SAN_FLAGS)
LIBS         := $(PKG_LIBS) -lm

LIB_SRC   := $(filter-out src/main.c,$(sort $(wildcard src/*.c)))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
HEADERS   := $(wildcard include/*.h include/*.def src/*.inc)

.PHONY: all test test-only check-unit clean install uninstall deps bench demo fuzz
REF_BIN   := $(BUILD)/tests/ref/rnn_dump
all: $(BUILD)/sweep $(TEST_BIN) $(BENCH_BIN) $(REF_BIN)

# Parallel HDF5 is required: refuse a serial build with a clear message.
$(BUILD)/.depcheck: Makefile
	@mkdir -p $(BUILD)
	@$(PKG_CONFIG) --exists $(PKGS) || { \
	  echo "error: pkg-config cannot find: $(PKGS)" >&2; \
	  echo "       run scripts/install-deps, or set HDF5_PKG / BLAS_PKG / YAML_PKG / PKGS" >&2; exit 1; }
	@printf '#include <H5pubconf.h>\n#ifndef H5_HAVE_PARALLEL\n#error serial\n#endif\n' | \
	  $(CC) $(ALL_CPPFLAGS) -E -x c - >/dev/null 2>&1 || { \
	  echo "error: the HDF5 found through pkg-config '$(HDF5_PKG)' is not the parallel (MPI-IO) build." >&2; \
	  echo "       sweep writes one shared file from every rank and needs parallel HDF5" >&2; \
	  echo "       (Debian: libhdf5-openmpi-dev; then HDF5_PKG=hdf5-openmpi)." >&2; exit 1; }
	@touch $@

$(BUILD)/obj/%.o: src/%.c $(HEADERS) $(BUILD)/.depcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# The networks' element-wise loops (src/rnn_impl.inc) vectorise only with
# GCC's dynamic cost model (-O2 uses "very cheap"): ~8% of a step at N = 512.
$(BUILD)/obj/rnn.o: ALL_CFLAGS += -fvect-cost-model=dynamic

$(BUILD)/libsweep.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sweep: src/main.c $(BUILD)/libsweep.a
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(BUILD)/libsweep.a $(LIBS)

$(BUILD)/tests/%: tests/%.c tests/testlib.h $(BUILD)/libsweep.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Itests $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(BUILD)/libsweep.a $(LIBS)

# the C side of the PyTorch oracle (tests/t_torch_oracle.sh)
$(BUILD)/tests/ref/rnn_dump: tests/ref/rnn_dump.c $(BUILD)/libsweep.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(BUILD)/libsweep.a $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsweep.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(BUILD)/libsweep.a $(LIBS)

# The issue-7 step table: C step, sgemm-only and PyTorch side by side
# (docs/performance.md).
bench: $(BENCH_BIN)
	BUILD=$(BUILD) PYTHON=$(PYTHON) bash bench/run_step_table.sh

# `make test` and `make demo` install what is missing first, then re-enter
# make so that pkg-config sees the freshly installed packages.
deps:
	bash scripts/install-deps

test: deps
	$(MAKE) test-only

test-only: all
	BUILD=$(BUILD) PYTHON=$(PYTHON) bash tests/run.sh

check-unit: all
	BUILD=$(BUILD) PYTHON=$(PYTHON) UNIT_ONLY=1 bash tests/run.sh

# Fuzz the spec parser with libFuzzer (clang): `make fuzz FUZZ_SECONDS=600`.
FUZZ_SECONDS ?= 600
fuzz:
	bash scripts/install-deps --with-fuzz
	FUZZ_DIR=$(BUILD)/fuzz bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The demo: sweeps/demo.yaml (about two minutes of training on 2 cores) on
# 3 local ranks (a sleeping scheduler + 2 workers), then the report (demo/).
DEMO_RANKS ?= 3
DEMO_SPEC  ?= sweeps/demo.yaml
demo: deps
	$(MAKE) $(BUILD)/sweep
	@mkdir -p demo
	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
	  mpirun -n $(DEMO_RANKS) --oversubscribe $(BUILD)/sweep $(DEMO_SPEC) -o demo/results.h5 --force
	$(BUILD)/sweep status demo/results.h5
	$(PYTHON) analysis/report.py demo/results.h5 -o demo/report
	@echo "demo: results in demo/results.h5, report in demo/report/"

install: $(BUILD)/sweep
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/sweep
	install -m 0755 $(BUILD)/sweep $(DESTDIR)$(PREFIX)/bin/sweep
	install -m 0644 $(BUILD)/libsweep.a $(DESTDIR)$(PREFIX)/lib/libsweep.a
	install -m 0644 include/*.h include/*.def $(DESTDIR)$(PREFIX)/include/sweep/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sweep $(DESTDIR)$(PREFIX)/lib/libsweep.a
	rm -rf $(DESTDIR)$(PREFIX)/include/sweep

clean:
	rm -rf $(BUILD)
