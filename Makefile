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
# The core (src/base, spec, model, score, task) sees neither MPI nor HDF5:
# it is compiled by the compiler mpicc wraps, with only OpenBLAS's and
# libyaml's include paths, so a stray #include <mpi.h> or <hdf5.h> there
# fails the build (docs/design.md, "Layers"; tests/t_layers.sh).
CORE_PKGS  ?= $(BLAS_PKG) $(YAML_PKG)
CORE_CC    ?= $(firstword $(shell $(CC) -showme:command 2>/dev/null) cc)
CORE_PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(CORE_PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes
ifeq ($(WERROR),1)
WARN      += -Werror
endif
ifneq ($(SANITIZER),)
SAN_FLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

ALL_CPPFLAGS  := -Isrc -D_XOPEN_SOURCE=700 $(PKG_CFLAGS) $(CPPFLAGS)
CORE_CPPFLAGS := -Isrc -D_XOPEN_SOURCE=700 $(CORE_PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS    := -std=c11 $(WARN) $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS   := $(LDFLAGS) $(SAN_FLAGS)
LIBS          := $(PKG_LIBS) -lm -pthread

# Layers, lowest first (docs/design.md): each may include only headers of
# its own and lower layers (tests/t_layers.sh checks the includes).
CORE_LAYERS := base spec model score task
PAR_LAYERS  := io farm cli
CORE_SRC  := $(sort $(foreach l,$(CORE_LAYERS),$(wildcard src/$(l)/*.c)))
PAR_SRC   := $(filter-out src/cli/main.c,$(sort $(foreach l,$(PAR_LAYERS),$(wildcard src/$(l)/*.c))))
CORE_OBJ  := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
PAR_OBJ   := $(PAR_SRC:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJ   := $(CORE_OBJ) $(PAR_OBJ)
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
HEADERS   := $(wildcard src/*/*.h src/*/*.def src/*/*.inc)

.PHONY: all test test-only check-unit clean install uninstall deps bench demo fuzz study study-check study-cost core-probe
REF_BIN   := $(BUILD)/tests/ref/rnn_dump
all: $(BUILD)/sweep $(TEST_BIN) $(BENCH_BIN) $(REF_BIN) $(BUILD)/study_cost

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

$(CORE_OBJ): $(BUILD)/obj/%.o: src/%.c $(HEADERS) $(BUILD)/.depcheck
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(PAR_OBJ): $(BUILD)/obj/%.o: src/%.c $(HEADERS) $(BUILD)/.depcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# Compile one file as the core is compiled (tests/t_layers.sh):
#   make core-probe PROBE=file.c
core-probe:
	$(CORE_CC) $(CORE_CPPFLAGS) $(ALL_CFLAGS) -fsyntax-only $(PROBE)

# The networks' element-wise loops (src/model/rnn_impl.inc) vectorise only with
# GCC's dynamic cost model (-O2 uses "very cheap"): ~8% of a step at N = 512.
# -ffp-contract=off: no FMA contraction in its SSE2 and AVX2 builds (or under
# a user's -march), so both round every operation as written (same bits).
$(BUILD)/obj/model/rnn.o: ALL_CFLAGS += -fvect-cost-model=dynamic -ffp-contract=off
# The same for the place-cell codes (the float exp's clamp is a select; the
# baseline and AVX2 + FMA builds give the same bits, place.c).
$(BUILD)/obj/model/place.o: ALL_CFLAGS += -fvect-cost-model=dynamic -ffp-contract=off
# And for the hidden noise's Box-Muller blocks (model/rng.c; same bits on both builds).
$(BUILD)/obj/model/rng.o: ALL_CFLAGS += -fvect-cost-model=dynamic -ffp-contract=off
# And for the trajectories' sines and cosines (model/traj.c; same bits on both
# builds and in its scalar calls).
$(BUILD)/obj/model/traj.o: ALL_CFLAGS += -fvect-cost-model=dynamic -ffp-contract=off

$(BUILD)/libsweep.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sweep: src/cli/main.c $(BUILD)/libsweep.a
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

# The issue-7 step table: C step, sgemm-only and PyTorch side by side; then
# whole tasks, C (timed by phase, against the sgemm-only bound) and the
# PyTorch peer end to end (docs/performance.md).  TASK_ROWS="N:P:steps ..."
# and TASK_TORCH_ROWS="N ..." choose the task rows (bench/run_task_table.sh).
TASK_ROWS       ?= 128:256:3000 512:512:300 1024:512:100
TASK_TORCH_ROWS ?= 128
bench: $(BENCH_BIN)
	BUILD=$(BUILD) PYTHON=$(PYTHON) bash bench/run_step_table.sh
	BUILD=$(BUILD) PYTHON=$(PYTHON) ROWS="$(TASK_ROWS)" TORCH_ROWS="$(TASK_TORCH_ROWS)" bash bench/run_task_table.sh

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

# The studies (docs/studies.md): one spec per study in two sizes,
#   make study NAME=leak_vs_noise SIZE=laptop     sweeps/laptop/NAME.yaml, 3 local ranks
#   make study NAME=leak_vs_noise SIZE=cluster    sweeps/NAME.yaml, mpirun -n 64 (in an allocation;
#                                                 17 or 61 ranks for the studies with fewer tasks)
# runs the sweep into $(STUDY_OUT)/NAME-SIZE/results.h5 (resuming it when it
# exists: STUDY_FLAGS=--force starts afresh), prints `sweep status` and writes
# the report (analysis/report.py, plus analysis/study_NAME.py when there is
# one) into $(STUDY_OUT)/NAME-SIZE/report/ (STUDY_OUT: out/studies).
# STUDY_RANKS overrides the ranks.
STUDIES     := leak_vs_noise grid_emergence replay cueva_wei linear_rnn cell_types cueva_wei_speed_heading grid_positive_control leak_vs_noise_grid
STUDY_SIZES := laptop cluster
STUDY_OUT   ?= out/studies
STUDY_SPEC   = $(if $(filter laptop,$(SIZE)),sweeps/laptop/$(NAME).yaml,sweeps/$(NAME).yaml)
# cluster ranks: 1 scheduler + one worker per task, at most 64
STUDY_CLUSTER_RANKS_grid_emergence := 17
STUDY_CLUSTER_RANKS_cueva_wei      := 17
STUDY_CLUSTER_RANKS_linear_rnn     := 61
STUDY_CLUSTER_RANKS_cell_types     := 33
STUDY_CLUSTER_RANKS_cueva_wei_speed_heading := 17
STUDY_CLUSTER_RANKS_grid_positive_control := 9
STUDY_CLUSTER_RANKS_leak_vs_noise_grid := 17
STUDY_RANKS ?= $(if $(filter laptop,$(SIZE)),3,$(or $(STUDY_CLUSTER_RANKS_$(NAME)),64))
STUDY_DIR    = $(STUDY_OUT)/$(NAME)-$(SIZE)
STUDY_FLAGS ?= $(if $(wildcard $(STUDY_DIR)/results.h5),--resume)

# The cost of every study spec, both sizes (analysis/study_cost.c).
study-cost: $(BUILD)/study_cost
	$(BUILD)/study_cost sweeps/laptop/*.yaml
	$(BUILD)/study_cost --workers 63 $(addprefix sweeps/,$(addsuffix .yaml,$(STUDIES)))

$(BUILD)/study_cost: analysis/study_cost.c $(BUILD)/libsweep.a
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(BUILD)/libsweep.a $(LIBS)

study-check:
	@if [ -z "$(filter $(STUDIES),$(NAME))" ] || [ "$(words $(NAME))" != 1 ]; then \
	  echo "make study: unknown NAME '$(NAME)'; one of: $(STUDIES)" >&2; exit 2; fi
	@if [ -z "$(filter $(STUDY_SIZES),$(SIZE))" ] || [ "$(words $(SIZE))" != 1 ]; then \
	  echo "make study: unknown SIZE '$(SIZE)'; one of: $(STUDY_SIZES)" >&2; exit 2; fi
	@test -f $(STUDY_SPEC) || { echo "make study: missing spec $(STUDY_SPEC)" >&2; exit 2; }

study: study-check
	$(MAKE) deps
	$(MAKE) $(BUILD)/sweep
	@mkdir -p $(STUDY_DIR)
	@# the report is written whatever the run's exit status (a partial file
	@# of a stopped or partly failed run reports fine); make fails with it
	rc=0; OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 \
	  mpirun -n $(STUDY_RANKS) --oversubscribe $(BUILD)/sweep $(STUDY_SPEC) \
	  -o $(STUDY_DIR)/results.h5 $(STUDY_FLAGS) || rc=$$?; \
	[ -f $(STUDY_DIR)/results.h5 ] || exit $$rc; \
	$(BUILD)/sweep status $(STUDY_DIR)/results.h5; \
	$(PYTHON) analysis/report.py $(STUDY_DIR)/results.h5 -o $(STUDY_DIR)/report || exit 1; \
	if [ -f analysis/study_$(NAME).py ]; then \
	  echo "$(PYTHON) analysis/study_$(NAME).py $(STUDY_DIR)/results.h5 -o $(STUDY_DIR)/report"; \
	  $(PYTHON) analysis/study_$(NAME).py $(STUDY_DIR)/results.h5 -o $(STUDY_DIR)/report || exit 1; fi; \
	echo "study $(NAME) ($(SIZE)): results in $(STUDY_DIR)/results.h5, report in $(STUDY_DIR)/report/ (sweep exit $$rc)"; \
	exit $$rc

install: $(BUILD)/sweep
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	install -m 0755 $(BUILD)/sweep $(DESTDIR)$(PREFIX)/bin/sweep
	install -m 0644 $(BUILD)/libsweep.a $(DESTDIR)$(PREFIX)/lib/libsweep.a
	for d in $(CORE_LAYERS) $(PAR_LAYERS); do \
	  install -d $(DESTDIR)$(PREFIX)/include/sweep/$$d; \
	  install -m 0644 $$(ls src/$$d/*.h src/$$d/*.def 2>/dev/null) $(DESTDIR)$(PREFIX)/include/sweep/$$d/; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sweep $(DESTDIR)$(PREFIX)/lib/libsweep.a
	rm -rf $(DESTDIR)$(PREFIX)/include/sweep

clean:
	rm -rf $(BUILD)
