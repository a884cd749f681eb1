# chan_audiosocket_rs: AudioSocket for Asterisk.
#
#   make install     build the module and install it into MODULES_DIR
#   make test        run every test (integration tests need an installed Asterisk)
#
# Integration tests use ASTERISK_PREFIX when set; otherwise every Asterisk
# installed under /opt/asterisk*, /usr/local or /usr, one after the other.

MODULES_DIR ?= /usr/lib/asterisk/modules
CARGO ?= cargo
MODULE_NAME := chan_audiosocket_rs.so
BUILT := target/release/libchan_audiosocket_rs.so

# (Each installation once, however many links point at it.)
ASTERISK_PREFIXES ?= $(if $(ASTERISK_PREFIX),$(ASTERISK_PREFIX),$(sort $(realpath $(patsubst %/sbin/asterisk,%,$(wildcard /opt/asterisk*/sbin/asterisk /usr/local/sbin/asterisk /usr/sbin/asterisk)))))

.PHONY: all build install install-samples uninstall test bench lint unit integration deps test-deps clean fuzz

all: build

# Installs Debian packages that are missing: $(call apt,package...,why).
define apt
	@if command -v dpkg >/dev/null; then \
		missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then \
			echo "Installing$$missing ($(2))"; \
			if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
			$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
		fi; \
	fi
endef

# bindgen needs libclang; install it from the distribution when it is missing.
deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)"; exit 1; }
	@command -v cc >/dev/null || { echo "no C compiler: apt-get install build-essential"; exit 1; }
	$(call apt,libclang-dev,needed by bindgen)

# What the integration tests use beside Asterisk: nss_wrapper gives the
# test Asterisk its own hosts file (a name with several addresses); stunnel
# terminates TLS in front of a plain server, as users deploy it; openssl
# makes keys as README shows.
test-deps:
	$(call apt,libnss-wrapper stunnel4 openssl,used by the integration tests)

build: deps
	$(CARGO) build --release

install: build
	install -d $(DESTDIR)$(MODULES_DIR)
	install -m 0755 $(BUILT) $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME)
	@echo
	@echo "Installed $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME)"
	@echo "Add to /etc/asterisk/modules.conf:"
	@echo "    noload => app_audiosocket.so   ; the built-in modules hold the same names"
	@echo "    noload => chan_audiosocket.so"
	@echo "    load => $(MODULE_NAME)"
	@echo "then: asterisk -rx 'module load $(MODULE_NAME)' (or restart Asterisk)"

# The sample audiosocket.conf (never overwrites an existing one).
CONFIG_DIR ?= /etc/asterisk
install-samples:
	install -d $(DESTDIR)$(CONFIG_DIR)
	@if [ -e $(DESTDIR)$(CONFIG_DIR)/audiosocket.conf ]; then \
		echo "$(DESTDIR)$(CONFIG_DIR)/audiosocket.conf exists; left as it is"; \
	else \
		install -m 0644 samples/audiosocket.conf $(DESTDIR)$(CONFIG_DIR)/audiosocket.conf; \
		echo "Installed $(DESTDIR)$(CONFIG_DIR)/audiosocket.conf"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME)

lint: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

unit: deps
	$(CARGO) test --release --lib

integration: build test-deps
	@if [ -z "$(strip $(ASTERISK_PREFIXES))" ]; then \
		AUDIOSOCKET_MODULE=$(CURDIR)/$(BUILT) $(CARGO) test --release --test '*'; \
	else \
		for p in $(ASTERISK_PREFIXES); do \
			echo "== integration tests against $$p ($$($$p/sbin/asterisk -V))"; \
			ASTERISK_PREFIX=$$p AUDIOSOCKET_MODULE=$(CURDIR)/$(BUILT) $(CARGO) test --release --test '*' || exit 1; \
		done; \
	fi

test: lint unit integration

# Microbenchmarks, then the side-by-side comparison with Asterisk's built-in
# AudioSocket modules and chan_websocket, on the newest Asterisk installed
# (or ASTERISK_PREFIX); a column that Asterisk lacks is skipped, saying why.
BENCH_CALLS ?= 100,300,500
BENCH_SECONDS ?= 20
BENCH_ROUNDS ?= 3
BENCH_WORKLOADS ?= echo,paced,talking
bench: build
	$(CARGO) bench --no-default-features --bench hot_paths --target-dir target/bench
	ASTERISK_PREFIX=$(lastword $(ASTERISK_PREFIXES)) AUDIOSOCKET_MODULE=$(CURDIR)/$(BUILT) \
		$(CARGO) run --release --example bench -- --calls $(BENCH_CALLS) --seconds $(BENCH_SECONDS) \
		--rounds $(BENCH_ROUNDS) --workloads $(BENCH_WORKLOADS)

# Fuzzes the decoder and the session's reading of server bytes, starting
# from the small corpus kept in fuzz/corpus (new finds go to a scratch copy).
# cargo fuzz passes nightly-only compiler flags; RUSTC_BOOTSTRAP lets the
# stable toolchain accept them.
FUZZ_SECONDS ?= 300
fuzz: deps
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	rm -rf target/fuzz-corpus && mkdir -p target && cp -r fuzz/corpus/server_bytes target/fuzz-corpus
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run server_bytes ../target/fuzz-corpus -- \
		-max_total_time=$(FUZZ_SECONDS) -max_len=140000 -rss_limit_mb=2048

clean:
	$(CARGO) clean
