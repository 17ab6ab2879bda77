# escguard top-level Makefile.
#   make            build escguard.ko (against KDIR) and escguardctl
#   make test       full test suite: cargo tests + QEMU scenario suite
#   make demo       build everything and boot a guest showing escguard at work
#   make bench      fork/exec overhead and table-size scaling, in the guest
#   make stress     the long stress run (200,000 processes, 4 vCPUs)
#   make KDIR=/path/to/your/rust-enabled-6.12-build module
# KDIR defaults to the cached test kernel (built by scripts/build-kernel.sh).

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KRUSTC ?= /usr/bin/rustc
KBINDGEN ?= $(shell command -v bindgen || echo $(HOME)/.cargo/bin/bindgen)
KRUST_LIB_SRC ?= /usr/lib/rustlib/src/rust/library
KDIR ?= $(shell $(ROOT)/scripts/build-kernel.sh --print)
KMAKE = $(MAKE) -C $(KDIR) M=$(ROOT) RUSTC=$(KRUSTC) BINDGEN=$(KBINDGEN) RUST_LIB_SRC=$(KRUST_LIB_SRC)

.PHONY: all deps kernel module ctl ctl-static guest test demo bench stress clean

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
