# escguard top-level Makefile.
#   make            build escguard.ko (against KDIR) and escguardctl
#   make test       full test suite: cargo tests + QEMU scenario suite
#   make demo       build everything and boot a guest showing escguard at work
#   make bench      fork/exec overhead and table-size scaling, in the guest
#   make stress     the long stress run (200,000 processes, 4 vCPUs)
#   make test-kasan the whole suite on the clang KASAN+UBSAN kernel flavor
#   make test-kcsan the whole suite on the clang KCSAN kernel flavor
#   make KDIR=/path/to/your/rust-enabled-6.12-build module
#   make install    install what 'make module ctl' built (no build step; see
#                   README "Install on a host"); DESTDIR, PREFIX, KDIR honoured
#   make install-dkms   the module's sources into /usr/src for DKMS
# KDIR defaults to the cached test kernel (built by scripts/build-kernel.sh).

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KRUSTC ?= /usr/bin/rustc
KBINDGEN ?= $(shell command -v bindgen || echo $(HOME)/.cargo/bin/bindgen)
KRUST_LIB_SRC ?= /usr/lib/rustlib/src/rust/library
KDIR ?= $(shell $(ROOT)/scripts/build-kernel.sh --print)
# A clang-built tree (the kasan and kcsan flavors) needs the same LLVM for
# its modules: LLVM=-22 for a tree built by clang 22, read from the tree's
# own config (CONFIG_CLANG_VERSION=220108 -> -22), so that
# `make module KDIR=<clang tree>` works without naming a flavor.
KLLVM = $(shell sed -n 's/^CONFIG_CLANG_VERSION=\([0-9]*\)[0-9][0-9][0-9][0-9]$$/LLVM=-\1/p' $(KDIR)/.config 2>/dev/null)
# DKMS passes CC=clang LD=ld.lld for a clang-built kernel, names that only
# exist where the unversioned clang is installed: name the versioned tools.
KLLVM_SUFFIX = $(patsubst LLVM=%,%,$(KLLVM))
KLLVM_TOOLS = $(if $(KLLVM),CC=clang$(KLLVM_SUFFIX) LD=ld.lld$(KLLVM_SUFFIX))
KMAKE = $(MAKE) -C $(KDIR) M=$(ROOT) RUSTC=$(KRUSTC) BINDGEN=$(KBINDGEN) RUST_LIB_SRC=$(KRUST_LIB_SRC) $(KLLVM) $(KLLVM_TOOLS)

.PHONY: all deps kernel module ctl ctl-static guest test test-kasan test-kcsan demo bench stress clean install install-dkms

all: module ctl

deps:
	$(ROOT)/scripts/install-deps.sh

kernel: deps
	$(ROOT)/scripts/build-kernel.sh

# Kbuild does not notice that KDIR changed (the .mod.c of an external module
# compiles with KDIR-relative include paths), and a module built against the
# bench kernel then fails to load on the test kernel. A stamp names the tree
# the objects were built against; another tree means a clean build.
module:
	@test -f $(KDIR)/Module.symvers || { echo "error: KDIR=$(KDIR) is not a built kernel tree (run 'make kernel' or pass KDIR=)" >&2; exit 1; }
	@if [ "$$(cat $(ROOT)/.kdir-stamp 2>/dev/null)" != "$(KDIR)" ]; then \
		$(KMAKE) clean >/dev/null; rm -f $(ROOT)/module/*_generated.rs; echo "$(KDIR)" > $(ROOT)/.kdir-stamp; fi
	$(KMAKE) modules

ctl:
	cd $(ROOT)/ctl && cargo build --release

# Static binary for the guest (its root has no glibc of ours).
ctl-static:
	cd $(ROOT)/ctl && RUSTFLAGS="-C target-feature=+crt-static" \
		cargo build --release --target x86_64-unknown-linux-gnu

test:
	$(ROOT)/scripts/test.sh

# The sanitizer flavors (README, Kernel flavors): not part of `make test`,
# whose cold-CI budget has no room for their kernel builds and slower suites.
test-kasan:
	ESCGUARD_FLAVOR=kasan $(ROOT)/scripts/test.sh

test-kcsan:
	ESCGUARD_FLAVOR=kcsan $(ROOT)/scripts/test.sh

demo:
	$(ROOT)/scripts/demo.sh

bench:
	$(ROOT)/scripts/bench.sh

stress:
	ESCGUARD_SUITES=stress.sh ESCGUARD_STRESS_PROCS=$${STRESS_PROCS:-200000} $(ROOT)/scripts/test.sh

clean:
	-$(KMAKE) clean
	rm -f $(ROOT)/module/*_generated.rs $(ROOT)/.kdir-stamp
	cd $(ROOT)/ctl && cargo clean

# ---------------------------------------------------------------------------
# Installation. Installs built artefacts only: it never runs a build (so that
# 'sudo make install' does not compile as root); what is missing is named.
PREFIX ?= /usr
DESTDIR ?=
SYSCONFDIR ?= /etc
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/escguard
UNITDIR ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
LOGDIR ?= /var/log/escguard
TEXTFILE_DIR ?= /var/lib/node_exporter/textfile_collector
# The artefacts: the module built against KDIR, and escguardctl.
KO ?= $(ROOT)/escguard.ko
CTL_BIN ?= $(ROOT)/ctl/target/release/escguardctl
VERSION := $(shell cat $(ROOT)/VERSION)
SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@LOGDIR@|$(LOGDIR)|g' \
	-e 's|@TEXTFILE_DIR@|$(TEXTFILE_DIR)|g'
UNITS := escguard.service escguard-log.service escguard-metrics.service escguard-metrics.timer

install:
	@set -e; \
	rel=$$(cat "$(KDIR)/include/config/kernel.release" 2>/dev/null) || { \
		echo "error: KDIR=$(KDIR) has no include/config/kernel.release: pass the kernel's build tree, e.g. KDIR=/lib/modules/\$$(uname -r)/build" >&2; exit 1; }; \
	test -f "$(KO)" || { echo "error: no $(KO): build it first as your user: make module KDIR=$(KDIR)" >&2; exit 1; }; \
	test -x "$(CTL_BIN)" || { echo "error: no $(CTL_BIN): build it first as your user: make ctl" >&2; exit 1; }; \
	if command -v modinfo >/dev/null 2>&1; then \
		vm=$$(modinfo -F vermagic "$(KO)" | cut -d' ' -f1); \
		[ "$$vm" = "$$rel" ] || { echo "error: $(KO) was built for kernel $$vm, KDIR=$(KDIR) is $$rel: rebuild with make module KDIR=$(KDIR)" >&2; exit 1; }; \
	else echo "note: no modinfo; not checking that $(KO) was built for $$rel" >&2; fi; \
	echo "installing escguard $(VERSION) for kernel $$rel into $${DESTDIR:-/}"; \
	gen=$$(mktemp -d); trap 'rm -rf "$$gen"' EXIT; \
	install -D -m 0644 "$(KO)" "$(DESTDIR)/lib/modules/$$rel/extra/escguard.ko"; \
	depmod=$$(command -v depmod || ls /sbin/depmod /usr/sbin/depmod 2>/dev/null | head -1 || true); \
	if [ -n "$$depmod" ]; then \
		"$$depmod" $(if $(DESTDIR),-b "$(DESTDIR)") "$$rel"; \
	else echo "note: depmod not found: skipped; run 'depmod $$rel' before 'modprobe escguard'" >&2; fi; \
	install -D -m 0755 "$(CTL_BIN)" "$(DESTDIR)$(SBINDIR)/escguardctl"; \
	$(SUBST) $(ROOT)/dist/libexec/escguard-load > "$$gen/escguard-load"; \
	install -D -m 0755 "$$gen/escguard-load" "$(DESTDIR)$(LIBEXECDIR)/escguard-load"; \
	install -d "$(DESTDIR)$(UNITDIR)"; \
	for u in $(UNITS); do \
		$(SUBST) "$(ROOT)/dist/systemd/$$u" > "$(DESTDIR)$(UNITDIR)/$$u"; \
		chmod 0644 "$(DESTDIR)$(UNITDIR)/$$u"; done; \
	install -d -m 0755 "$(DESTDIR)$(SYSCONFDIR)/escguard"; \
	if [ -e "$(DESTDIR)$(SYSCONFDIR)/escguard/escguard.conf" ]; then \
		echo "note: keeping the existing $(SYSCONFDIR)/escguard/escguard.conf; the new default is escguard.conf.new" >&2; \
		$(SUBST) $(ROOT)/dist/escguard.conf > "$(DESTDIR)$(SYSCONFDIR)/escguard/escguard.conf.new"; \
	else $(SUBST) $(ROOT)/dist/escguard.conf > "$(DESTDIR)$(SYSCONFDIR)/escguard/escguard.conf"; fi; \
	$(SUBST) $(ROOT)/dist/udev/60-escguard.rules > "$$gen/60-escguard.rules"; \
	install -D -m 0644 "$$gen/60-escguard.rules" "$(DESTDIR)$(UDEVRULESDIR)/60-escguard.rules"; \
	install -D -m 0644 $(ROOT)/dist/sysusers/escguard.conf "$(DESTDIR)$(SYSUSERSDIR)/escguard.conf"; \
	$(SUBST) $(ROOT)/dist/logrotate/escguard > "$$gen/logrotate"; \
	install -D -m 0644 "$$gen/logrotate" "$(DESTDIR)$(LOGROTATEDIR)/escguard"; \
	"$(CTL_BIN)" dist-files --out-dir "$$gen"; \
	install -D -m 0644 "$$gen/completions/escguardctl.bash" "$(DESTDIR)$(BASHCOMPDIR)/escguardctl"; \
	install -D -m 0644 "$$gen/completions/_escguardctl" "$(DESTDIR)$(ZSHCOMPDIR)/_escguardctl"; \
	install -D -m 0644 "$$gen/completions/escguardctl.fish" "$(DESTDIR)$(FISHCOMPDIR)/escguardctl.fish"; \
	install -d "$(DESTDIR)$(MANDIR)/man8"; \
	install -m 0644 "$$gen"/man/*.8 "$(DESTDIR)$(MANDIR)/man8/"; \
	echo "installed; on a systemd host: systemd-sysusers; udevadm control --reload; systemctl daemon-reload; systemctl enable --now escguard escguard-log escguard-metrics.timer"

# The module's sources for DKMS (dkms.conf builds them for each kernel):
#   make install-dkms && dkms install escguard/$(VERSION)
DKMS_SRC = $(DESTDIR)/usr/src/escguard-$(VERSION)
install-dkms:
	install -d $(DKMS_SRC)/include
	install -m 0644 $(ROOT)/dkms.conf $(ROOT)/Kbuild $(ROOT)/Makefile $(ROOT)/VERSION $(DKMS_SRC)/
	cd $(ROOT) && find module \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name '.rustfmt.toml' \) \
		! -name '*_generated.rs' -exec install -D -m 0644 {} $(DKMS_SRC)/{} \;
	install -m 0644 $(ROOT)/include/*.h $(DKMS_SRC)/include/
	@echo "now: dkms install escguard/$(VERSION)"
