# Makefile: build, run, test and install kiln; configure writes objs/Makefile.
#
#   make              build objs/kiln and objs/libkiln.a (configure first,
#                     installing missing Debian packages when root)
#   make run          build, then run kiln in the foreground on
#                     http://127.0.0.1:8080/ with the repo as its prefix
#   make test         build, then unit, check-headers, check-style,
#                     check-without, prove, memcheck
#   make memcheck     t/memcheck/: kiln under valgrind, no leak that grows
#                     with the requests (plain build only)
#   make test-sanitized  unit and prove again, built with ASan and UBSan
#                     in build-asan/ (what .ci/run runs after make test)
#   make unit         t/unit/test_*.c, each linked against objs/libkiln.a
#   make prove        t/*.t, the Perl integration tests
#   make check-style  clang-format --dry-run, the 1500-line file and
#                     150-line function caps
#   make check-headers  every header compiles on its own, with its layer's
#                     include paths; a wrong-way include is not found
#   make check-without  every --without-http_<name>_module links
#   make fuzz [FUZZ_SECONDS=10]  each t/fuzz/fuzz_*.c for that long
#   make bench        t/bench/run
#   make install [DESTDIR=...]
#   make clean
#
# The configured tree is objs/ unless ./configure --builddir=DIR; then
# make BUILDDIR=DIR. When configure or auto/* changes, the next make re-runs
# ./configure with the arguments it was last given (objs/reconfigure).

BUILDDIR ?= objs
FUZZ_SECONDS ?= 10
PROVE_JOBS ?= 2
UNIT_TIMEOUT ?= 300
CLANG_FORMAT ?= $(firstword $(shell command -v clang-format-14 clang-format \
                                    2>/dev/null))

# make V=1 shows each command whole.
ifeq ($(V),1)
KL_QUIET_CC =
KL_QUIET_LINK =
KL_QUIET_AR =
else
KL_QUIET_CC = @echo "    CC    $@";
KL_QUIET_LINK = @echo "    LINK  $@";
KL_QUIET_AR = @echo "    AR    $@";
endif

MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
.DEFAULT_GOAL := all

# Goals that do not need a configured tree.
KL_NOCONF_GOALS := clean check-style deps help test-sanitized

ifneq ($(filter-out $(KL_NOCONF_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(BUILDDIR)/Makefile
endif

KL_CONFIGURE_PARTS := configure \
    $(filter-out auto/deps auto/size-exempt,$(wildcard auto/*))

$(BUILDDIR)/Makefile: $(KL_CONFIGURE_PARTS) $(KL_ADDON_CONFIGS)
	@if [ -f $(BUILDDIR)/reconfigure ]; then \
	    echo "make: configure or its parts changed: running it again"; \
	    sh $(BUILDDIR)/reconfigure; \
	else \
	    ./auto/deps && \
	    ./configure --prefix=$(CURDIR) \
	        $(if $(filter-out objs,$(BUILDDIR)),--builddir=$(BUILDDIR)); \
	fi


all: $(KL_BIN) $(KL_LIB)

$(KL_BIN): $(KL_MAIN_OBJ) $(KL_LIB_OBJS) $(BUILDDIR)/Makefile
	$(KL_QUIET_LINK)$(CC) $(LDFLAGS) -o $@ $(KL_MAIN_OBJ) $(KL_LIB_OBJS) \
	    $(KL_LIBS)

# Everything but main(): what the unit tests link against.
$(KL_LIB): $(KL_LIB_OBJS) $(BUILDDIR)/Makefile
	@rm -f $@
	$(KL_QUIET_AR)ar rcs $@ $(KL_LIB_OBJS)


# The repo is the prefix: conf/kiln.conf, html/, and logs/ (git-ignored).
run: all
	@mkdir -p logs
	@echo "kiln: http://127.0.0.1:8080/ serves html/; logs/ has the logs;" \
	      "Ctrl-C stops it"
	$(KL_BIN) -p $(CURDIR)/ -c conf/kiln.conf -g 'daemon off;'


# Every stage runs even when one before it failed, so one run shows all
# that is wrong; the exit status says whether any failed.
test: all
	@failed=; \
	for t in unit check-headers check-style check-without prove memcheck; do \
	    $(MAKE) --no-print-directory $$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed" >&2; \
	    exit 1; fi


# The unit and integration tests again against a build with ASan and UBSan
# (configured once in SAN_BUILDDIR, rebuilt as sources change). The Perl
# harness fails a test file whose error log or stderr holds a sanitizer
# report; the unit binaries fail by exit status.
SAN_BUILDDIR ?= build-asan

test-sanitized:
	@if [ ! -f $(SAN_BUILDDIR)/reconfigure ]; then \
	    ./auto/deps && \
	    ./configure --with-sanitizers --prefix=$(CURDIR) \
	        --builddir=$(SAN_BUILDDIR) || exit 1; \
	fi; \
	failed=; \
	for t in unit prove; do \
	    $(MAKE) --no-print-directory BUILDDIR=$(SAN_BUILDDIR) $$t \
	        || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "make test-sanitized: failed:$$failed" >&2; exit 1; fi

# Unit tests: t/unit/test_<component>.c, criterion, one binary each.

KL_UNIT_SRCS := $(sort $(wildcard t/unit/test_*.c))
KL_UNIT_BINS := $(patsubst t/unit/%.c,$(BUILDDIR)/t/unit/%,$(KL_UNIT_SRCS))

# criterion's assertion macros declare variables after statements.
KL_UNIT_CFLAGS = $(CFLAGS) -Wno-declaration-after-statement

$(BUILDDIR)/t/unit/test_%: t/unit/test_%.c $(KL_LIB)
	@mkdir -p $(@D)
	$(KL_QUIET_LINK)$(CC) $(KL_UNIT_CFLAGS) -iquote t/unit $(KL_INCS) \
	    -MMD -MP $(LDFLAGS) -o $@ $< $(KL_LIB) -lcriterion $(KL_LIBS)

# Each binary runs whole, its output kept in objs/t/unit/test_x.log;
# criterion's Synthesis lines are added up into one closing line (its
# Failing count includes the crashes). A binary that exits non-zero with
# no failure counted (it died before its summary, or hung for
# UNIT_TIMEOUT seconds) counts as one failure.
ifeq ($(KL_CRITERION),yes)
unit: $(KL_UNIT_BINS)
	@if [ -z "$(KL_UNIT_BINS)" ]; then echo "unit: no t/unit/test_*.c"; \
	    exit 0; fi; \
	passed=0; failed=0; bad=; \
	for t in $(KL_UNIT_BINS); do \
	    echo "$$t"; \
	    timeout $(UNIT_TIMEOUT) "$$t" > "$$t.log" 2>&1; rc=$$?; \
	    cat "$$t.log"; \
	    s=`sed -n -e 's/\x1b\[[0-9;]*m//g' \
	        -e 's/.*Synthesis: Tested: [0-9]* | Passing: \([0-9]*\)/\1/' \
	        -e 's/ | Failing: \([0-9]*\) | Crashing: .*/ \1/p' \
	        "$$t.log" | tail -n 1`; \
	    set -- $${s:-0 0}; \
	    passed=$$((passed + $$1)); \
	    if [ $$rc -ne 0 ]; then \
	        bad="$$bad $${t##*/}"; \
	        if [ $$2 -eq 0 ]; then set -- $$1 1; fi; \
	    fi; \
	    failed=$$((failed + $$2)); \
	done; \
	echo "unit: $$passed passed, $$failed failed"; \
	if [ -n "$$bad" ]; then echo "unit: failed:$$bad"; exit 1; fi
else
unit:
	@echo "make unit: ./configure did not find criterion;" \
	      "apt-get install libcriterion-dev, then ./configure" >&2
	@exit 1
endif


# Integration tests: t/*.t (Perl, Test::More, t/lib/Test/Kiln.pm) against
# objs/kiln.

export KILN_BINARY := $(abspath $(KL_BIN))

prove: all
	@if ls t/*.t > /dev/null 2>&1; then \
	    echo "prove -j$(PROVE_JOBS) -I t/lib t/*.t"; \
	    prove -j$(PROVE_JOBS) -I t/lib t/*.t; \
	else \
	    echo "prove: no t/*.t"; \
	fi


# valgrind memcheck over static and engine requests (t/memcheck/), run N
# and 4N rounds: no error, nothing lost, nothing that grows. The plain
# build only: ASan binaries do not run under valgrind.
memcheck: all
	prove -I t/lib t/memcheck/


# STYLE.md rules 15 and 17: every C file under core/ master/ worker/
# modules/ t/ (tracked or new, not ignored) is as clang-format would write
# it, no file is over 1500 lines unless auto/size-exempt names it, and no
# function is over 150 unless auto/size-exempt has a "function FILE NAME"
# line for it. A function's size is the count KL_FUNC_LINES prints: from
# its opening brace at column 0 to the closing one (nginx's layout, which
# clang-format keeps), named after the last "name(" line at column 0.
# DESIGN.md section 10: modules/ reads and writes connections only through
# c->io. A call to a socket-only function, a read/write on a connection's
# fd, or a reach for the plain table itself (outside comments and strings)
# fails check-style.
KL_FUNC_LINES := FNR == 1 { start = 0 } \
    /^[a-zA-Z_][a-zA-Z0-9_]*\(/ { name = $$0; sub(/\(.*/, "", name) } \
    /^\{/ { start = FNR } \
    /^\}/ && start { n = FNR - start; start = 0; \
                     if (n > 150) print FILENAME, name, n }
KL_IO_BYPASS := (^|[^_[:alnum:].">])(recv|recvfrom|recvmsg|send|sendto|sendmsg|sendfile|sendfile64|splice|readv|writev|shutdown)[[:space:]]*\(|(^|[^_[:alnum:].">])(read|write|pread|pwrite)[[:space:]]*\([^,]*(^|[^_[:alnum:]])(c|connection)->fd|kl_os_io\b

check-style:
	@if [ -z "$(CLANG_FORMAT)" ]; then \
	    echo "check-style: clang-format not found" \
	         "(apt-get install clang-format)" >&2; exit 1; fi
	@files=`git ls-files --cached --others --exclude-standard \
	        -- '*.c' '*.h' 2>/dev/null` \
	    || files=`find core master worker modules t -name '*.[ch]'`; \
	files=`for f in $$files; do \
	    case "$$f" in \
	    core/*|master/*|worker/*|modules/*|t/*) ;; \
	    *) continue ;; \
	    esac; \
	    [ ! -f "$$f" ] || echo "$$f"; \
	done`; \
	$(CLANG_FORMAT) --version | grep -q 'version 14\.' \
	    || echo "check-style: .clang-format is written for clang-format 14;" \
	            "`$(CLANG_FORMAT) --version` may disagree"; \
	if [ -z "$$files" ]; then echo "check-style: no C files"; exit 0; fi; \
	fail=0; \
	$(CLANG_FORMAT) --dry-run -Werror $$files || fail=1; \
	exempt=`sed -e 's/#.*//' -e '/^[[:space:]]*function[[:space:]]/d' \
	    auto/size-exempt 2>/dev/null`; \
	for f in $$files; do \
	    n=`wc -l < "$$f"`; \
	    if [ $$n -gt 1500 ]; then \
	        case " `echo $$exempt` " in \
	        *" $$f "*) ;; \
	        *) echo "$$f: $$n lines, over 1500 (STYLE.md rule 15)"; \
	           fail=1 ;; \
	        esac; \
	    fi; \
	done; \
	fexempt=" `sed -e 's/#.*//' auto/size-exempt 2>/dev/null \
	    | awk '$$1 == "function" { printf "%s:%s ", $$2, $$3 }'` "; \
	long=`awk '$(KL_FUNC_LINES)' $$files | while read -r f name n; do \
	    case "$$fexempt" in \
	    *" $$f:$$name "*) ;; \
	    *) echo "$$f: $$name is $$n lines, over 150 (STYLE.md rule 15)" ;; \
	    esac; \
	done`; \
	if [ -n "$$long" ]; then echo "$$long"; fail=1; fi; \
	mods=`for f in $$files; do case "$$f" in modules/*) echo "$$f";; esac; \
	    done`; \
	if [ -n "$$mods" ] && grep -nE '$(KL_IO_BYPASS)' $$mods \
	    | grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*)'; then \
	    echo "check-style: socket I/O above core/ must go through c->io" \
	         "(core/connection.h)"; \
	    fail=1; \
	fi; \
	if [ $$fail = 0 ]; then \
	    echo "check-style: `echo $$files | wc -w` files formatted," \
	         "none over 1500 lines, no function over 150," \
	         "no socket I/O in modules/"; \
	else \
	    echo "check-style: failed; $(CLANG_FORMAT) -i FILE formats one" >&2; \
	    exit 1; \
	fi


# STYLE.md rule 16: each header compiles alone (and twice: guarded), with
# the include paths of its layer only (auto/cc). Then the layers are
# proven to hold: a wrong-way include must not be found with the flags of
# the folder it would come from (core/ and worker/ cannot see the engine
# or master/, the engine cannot see a feature's header), while the right
# way is found with the same flags.
KL_LAYER_OK := core:kl_core.h core:event_connect.h http:kl_http.h \
    http:upstream_peer.h module:kl_http.h module:upstream.h
KL_LAYER_BAD := core:kl_http.h core:master.h core:upstream_peer.h \
    http:proxy_http.h http:gzip_accept.h http:upstream_round_robin.h \
    http:master.h module:map_keys.h module:master.h

check-headers: $(BUILDDIR)/Makefile
	@fail=0; n=0; \
	for h in `find core master worker modules -name '*.h' | sort`; do \
	    n=$$((n + 1)); \
	    case "$$h" in \
	    core/*|master/*|worker/*) incs="$(KL_INCS_CORE)" ;; \
	    modules/http/*) incs="$(KL_INCS_HTTP)" ;; \
	    *) incs="$(KL_INCS_MODULE)" ;; \
	    esac; \
	    printf '#include "%s"\n#include "%s"\n' "$$h" "$$h" \
	    | $(CC) $(CFLAGS) $$incs -fsyntax-only -x c - \
	    || { echo "check-headers: $$h does not compile alone"; fail=1; }; \
	done; \
	for t in $(KL_LAYER_OK) $(KL_LAYER_BAD); do \
	    case "$${t%%:*}" in \
	    core) incs="$(KL_INCS_CORE)" ;; \
	    http) incs="$(KL_INCS_HTTP)" ;; \
	    module) incs="$(KL_INCS_MODULE)" ;; \
	    esac; \
	    if printf '#include "%s"\n' "$${t#*:}" \
	        | $(CC) $(CFLAGS) $$incs -E -x c - > /dev/null 2>&1; \
	    then found=yes; else found=no; fi; \
	    case " $(KL_LAYER_OK) " in \
	    *" $$t "*) [ $$found = yes ] && continue ;; \
	    *) [ $$found = no ] && continue ;; \
	    esac; \
	    echo "check-headers: layer $${t%%:*} `[ $$found = yes ] \
	        && echo finds || echo 'does not find'` $${t#*:}"; fail=1; \
	done; \
	if [ $$fail = 0 ]; then \
	    echo "check-headers: $$n headers compile alone with their" \
	         "layer's include paths; `echo $(KL_LAYER_BAD) | wc -w`" \
	         "wrong-way includes are not found"; \
	else \
	    exit 1; \
	fi


# Every --without-http_<name>_module links and passes kiln -t: the
# objects of this build, linked again for each optional module left out
# (t/without.sh), in objs/without/<name>/.
check-without: $(KL_MAIN_OBJ) $(KL_LIB_OBJS)
	@CC='$(CC)' CFLAGS='$(CFLAGS)' LDFLAGS='$(LDFLAGS)' KL_LIBS='$(KL_LIBS)' \
	KL_BUILDDIR='$(BUILDDIR)' KL_MAIN_OBJ='$(KL_MAIN_OBJ)' \
	KL_LIB_OBJS='$(KL_LIB_OBJS)' KL_MODULES='$(KL_MODULES)' \
	KL_INCS_CORE='$(KL_INCS_CORE)' sh t/without.sh


# Fuzzing: t/fuzz/fuzz_<name>.c is built with clang and libFuzzer against
# the sources compiled again with clang (objs/fuzz/), then run for
# FUZZ_SECONDS with the seeds of t/fuzz/corpus/<name>/. What it finds
# goes to objs/fuzz/corpus/<name>/ (new inputs) and objs/fuzz/artifacts/
# (crashes), so the tree stays clean; copy a crash into t/fuzz/corpus to
# keep it as a regression seed.

KL_FUZZ_SRCS := $(sort $(wildcard t/fuzz/fuzz_*.c))
KL_FUZZ_BINS := $(patsubst t/fuzz/%.c,$(BUILDDIR)/fuzz/%,$(KL_FUZZ_SRCS))

fuzz:
	@if [ -z "$(KL_FUZZ_SRCS)" ]; then \
	    echo "fuzz: no t/fuzz/fuzz_*.c"; exit 0; fi; \
	./auto/deps fuzz || exit 1; \
	if [ "$(KL_FUZZER)" != yes ]; then sh $(BUILDDIR)/reconfigure; fi; \
	$(MAKE) --no-print-directory fuzz-run

ifeq ($(KL_FUZZER),yes)
fuzz-run: $(KL_FUZZ_BINS)
	@fail=0; \
	for b in $(KL_FUZZ_BINS); do \
	    name=$${b##*/fuzz_}; \
	    seeds=t/fuzz/corpus/$$name; \
	    mkdir -p $$seeds $(BUILDDIR)/fuzz/corpus/$$name \
	             $(BUILDDIR)/fuzz/artifacts/$$name; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS)s (seeds in $$seeds)"; \
	    if $$b -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	           -artifact_prefix=$(BUILDDIR)/fuzz/artifacts/$$name/ \
	           $(BUILDDIR)/fuzz/corpus/$$name $$seeds > $$b.log 2>&1; \
	    then \
	        grep -E '^(#[0-9]+|Done)' $$b.log | tail -n 2; \
	    else \
	        tail -n 40 $$b.log; \
	        echo "fuzz: $$name FAILED: $$b.log," \
	             "$(BUILDDIR)/fuzz/artifacts/$$name/"; \
	        fail=1; \
	    fi; \
	done; \
	exit $$fail
else
fuzz-run:
	@echo "make fuzz: ./configure found no libFuzzer" \
	      "($(KL_FUZZ_CC) -fsanitize=fuzzer): install clang" >&2
	@exit 1
endif

$(BUILDDIR)/fuzz/fuzz_%: t/fuzz/fuzz_%.c $(KL_FUZZ_LIB)
	$(KL_QUIET_LINK)$(KL_FUZZ_CC) $(KL_FUZZ_CFLAGS) -fsanitize=fuzzer \
	    $(KL_INCS) -MMD -MP -o $@ $< $(KL_FUZZ_LIB) $(KL_LIBS)

$(KL_FUZZ_LIB): $(KL_FUZZ_OBJS) $(BUILDDIR)/Makefile
	@rm -f $@
	$(KL_QUIET_AR)ar rcs $@ $(KL_FUZZ_OBJS)


# The bench clients are built with the server's CFLAGS; t/bench/README.md
# says what runs and how to pick (BENCH_ONLY, BENCH_SECONDS ...).
bench: all
	@sh auto/deps bench
	@mkdir -p $(BUILDDIR)/bench
	$(CC) $(CFLAGS) -o $(BUILDDIR)/bench/idle t/bench/idle.c
	BENCH_TOOLS=$(abspath $(BUILDDIR))/bench ./t/bench/run


deps:
	@./auto/deps build test

clean:
	rm -rf $(BUILDDIR)

help:
	@sed -n -e '3,/^$$/s/^# \{0,1\}//p' Makefile


-include $(KL_MAIN_OBJ:.o=.d) $(KL_LIB_OBJS:.o=.d) $(KL_FUZZ_OBJS:.o=.d) \
         $(KL_UNIT_BINS:=.d) $(KL_FUZZ_BINS:=.d)

.PHONY: all run test test-sanitized unit prove memcheck check-style check-headers check-without fuzz fuzz-run \
        bench deps clean help
