# chan_audiosocket_rs: AudioSocket for Asterisk.
#
#   make install     build the module and install it into MODULES_DIR
#                    (stripped; its debug information under DEBUG_DIR)
#   make deb         the Debian package: target/deb/chan-audiosocket-rs_<version>_<arch>.deb
#   make test        run every test (integration tests need an installed Asterisk)
#
# Integration tests use ASTERISK_PREFIX when set; otherwise every Asterisk
# installed under /opt/asterisk*, /usr/local or /usr, one after the other.

MODULES_DIR ?= /usr/lib/asterisk/modules
# Where gdb looks for detached debug information, by build id.
DEBUG_DIR ?= /usr/lib/debug
# Asterisk's data folder (astdatadir in asterisk.conf): the application's
# page for `core show application` goes to its documentation/thirdparty.
DATA_DIR ?= $(or $(shell sed -n 's/^[[:space:]]*astdatadir[[:space:]]*=>*[[:space:]]*//p' /etc/asterisk/asterisk.conf 2>/dev/null | head -1),/var/lib/asterisk)
DOC_FILE := doc/chan_audiosocket_rs-en_US.xml
DOC_PATH = $(DATA_DIR)/documentation/thirdparty/$(notdir $(DOC_FILE))
CARGO ?= cargo
MODULE_NAME := chan_audiosocket_rs.so
BUILT := target/release/libchan_audiosocket_rs.so
# What gets installed: the module without its debug information, and that
# information apart (compressed), tied to it by build id and debuglink.
STRIPPED := target/release/$(MODULE_NAME)
DEBUGINFO := target/release/$(MODULE_NAME).debug
# The debug file's path under DEBUG_DIR: .build-id/xx/yyyy.debug.
build_id_path = .build-id/$$(readelf -n $(1) | sed -n 's/.*Build ID: \(..\)\(.*\)/\1\/\2/p').debug

# (Each installation once, however many links point at it.)
ASTERISK_PREFIXES ?= $(if $(ASTERISK_PREFIX),$(ASTERISK_PREFIX),$(sort $(realpath $(patsubst %/sbin/asterisk,%,$(wildcard /opt/asterisk*/sbin/asterisk /usr/local/sbin/asterisk /usr/sbin/asterisk)))))

.PHONY: all build stripped install install-samples install-files uninstall deb test bench lint unit integration deps test-deps apt-node clean fuzz

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
# makes keys as README shows; sipp is the SIP phone; lintian checks the
# package and gdb that its debug file resolves the module's frames; Node.js
# and npm run a bot built on npm's asterisk-audiosocket (a server nobody
# here wrote), from Debian unless the machine has its own.
test-deps:
	$(call apt,libnss-wrapper stunnel4 openssl sip-tester lintian gdb,used by the integration tests)
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory apt-node; \
	fi

apt-node:
	$(call apt,nodejs npm,Node.js for the third-party server test)

build: deps
	$(CARGO) build --release

stripped: build
	objcopy --only-keep-debug --compress-debug-sections=zlib $(BUILT) $(DEBUGINFO)
	objcopy --strip-unneeded --remove-section=.comment --add-gnu-debuglink=$(DEBUGINFO) $(BUILT) $(STRIPPED)

# The module and its debug file into DESTDIR (what install and deb share).
MODULE_MODE ?= 0755
install-files: stripped
	install -d $(DESTDIR)$(MODULES_DIR)
	install -m $(MODULE_MODE) $(STRIPPED) $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME)
	install -D -m 0644 $(DEBUGINFO) $(DESTDIR)$(DEBUG_DIR)/$(call build_id_path,$(STRIPPED))
	install -D -m 0644 $(DOC_FILE) $(DESTDIR)$(DOC_PATH)

install: install-files
	@echo
	@echo "Installed $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME) ($$(du -h $(STRIPPED) | cut -f1); debug information in $(DESTDIR)$(DEBUG_DIR)/.build-id)"
	@echo "Add to /etc/asterisk/modules.conf:"
	@echo "    noload => app_audiosocket.so   ; the built-in modules hold the same names"
	@echo "    noload => chan_audiosocket.so"
	@echo "    load => $(MODULE_NAME)"
	@echo "then: asterisk -rx 'module load $(MODULE_NAME)' (or restart Asterisk)"
	@echo "(core show application AudioSocket shows its syntax once Asterisk restarted,"
	@echo " which reads $(DESTDIR)$(DOC_PATH))"

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
	@if [ -f $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME) ]; then \
		rm -f $(DESTDIR)$(DEBUG_DIR)/$(call build_id_path,$(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME)); \
	fi
	rm -f $(DESTDIR)$(MODULES_DIR)/$(MODULE_NAME) $(DESTDIR)$(DOC_PATH)

# The Debian packages, built with dpkg-deb from the same files make install
# puts in place (no Rust needed where they are installed): the module, its
# sample configuration and documentation; and, as Debian does it, its debug
# information in a -dbgsym package. The glibc the module needs is read from
# it: the highest symbol version it uses.
DEB_NAME := chan-audiosocket-rs
DEB_VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB = target/deb/$(DEB_NAME)_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_DBGSYM = target/deb/$(DEB_NAME)-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_MAINTAINER ?= chan_audiosocket_rs maintainers <$(shell git log -1 --format=%ae 2>/dev/null || echo root@localhost)>
DEB_MAIN := target/deb/main
DEB_DBG := target/deb/dbgsym
DEB_DOC := $(DEB_MAIN)/usr/share/doc/$(DEB_NAME)
# $(call deb_control,template,root): the control file, with md5sums.
define deb_control
	sed -e 's/@VERSION@/$(DEB_VERSION)/g' -e 's/@ARCH@/$(DEB_ARCH)/' -e 's/@MAINTAINER@/$(DEB_MAINTAINER)/' \
		-e "s/@SIZE@/$$(du -sk --exclude=DEBIAN $(2) | cut -f1)/" \
		-e "s/@DEPENDS@/libc6 (>= $$(objdump -T $(STRIPPED) | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)), libgcc-s1 (>= 4.2)/" \
		-e "s/@BUILD_ID@/$$(readelf -n $(STRIPPED) | sed -n 's/.*Build ID: //p')/" \
		$(1) > $(2)/DEBIAN/control
	cd $(2) && find usr $$(test -d var && echo var) -type f | sort | xargs md5sum > DEBIAN/md5sums
endef
deb: stripped
	@command -v dpkg-deb >/dev/null || { echo "dpkg-deb not found: make deb needs Debian's dpkg"; exit 1; }
	rm -rf target/deb && mkdir -p $(DEB_MAIN)/DEBIAN $(DEB_DBG)/DEBIAN $(DEB_DBG)/usr/lib $(DEB_DBG)/usr/share/doc
	$(MAKE) --no-print-directory install-files DESTDIR=$(CURDIR)/$(DEB_MAIN) \
		MODULES_DIR=/usr/lib/asterisk/modules DEBUG_DIR=/usr/lib/debug DATA_DIR=/var/lib/asterisk \
		MODULE_MODE=0644
	mv $(DEB_MAIN)/usr/lib/debug $(DEB_DBG)/usr/lib/debug
	ln -s $(DEB_NAME) $(DEB_DBG)/usr/share/doc/$(DEB_NAME)-dbgsym
	install -D -m 0644 samples/audiosocket.conf $(DEB_DOC)/examples/audiosocket.conf
	gzip -9n -c README.md > $(DEB_DOC)/README.md.gz && chmod 0644 $(DEB_DOC)/README.md.gz
	install -m 0644 packaging/deb/copyright $(DEB_DOC)/copyright
	install -D -m 0644 packaging/deb/lintian-overrides $(DEB_MAIN)/usr/share/lintian/overrides/$(DEB_NAME)
	{ echo "$(DEB_NAME) ($(DEB_VERSION)) unstable; urgency=medium"; echo; \
	  echo "  * Built from commit $$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)."; echo; \
	  echo " -- $(DEB_MAINTAINER)  $$(git log -1 --format=%cD 2>/dev/null || date -R)"; } \
		| gzip -9n > $(DEB_DOC)/changelog.gz && chmod 0644 $(DEB_DOC)/changelog.gz
	$(call deb_control,packaging/deb/control,$(DEB_MAIN))
	$(call deb_control,packaging/deb/control-dbgsym,$(DEB_DBG))
	install -m 0755 packaging/deb/postinst $(DEB_MAIN)/DEBIAN/postinst
	dpkg-deb --root-owner-group -Zxz --build $(DEB_MAIN) $(DEB)
	dpkg-deb --root-owner-group -Zxz --build $(DEB_DBG) $(DEB_DBGSYM)
	@echo "Built $(DEB) ($$(du -h $(DEB) | cut -f1)) and $(notdir $(DEB_DBGSYM)) ($$(du -h $(DEB_DBGSYM) | cut -f1))"
	@echo "On the PBX: dpkg -i $(notdir $(DEB)) (and the -dbgsym package where backtraces are wanted)"

lint: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

unit: deps
	$(CARGO) test --release --lib

integration: build deb test-deps
	@if [ -z "$(strip $(ASTERISK_PREFIXES))" ]; then \
		AUDIOSOCKET_DEB=$(CURDIR)/$(DEB) AUDIOSOCKET_DEB_DBGSYM=$(CURDIR)/$(DEB_DBGSYM) AUDIOSOCKET_MODULE=$(CURDIR)/$(BUILT) $(CARGO) test --release --test '*'; \
	else \
		for p in $(ASTERISK_PREFIXES); do \
			echo "== integration tests against $$p ($$($$p/sbin/asterisk -V))"; \
			ASTERISK_PREFIX=$$p AUDIOSOCKET_DEB=$(CURDIR)/$(DEB) AUDIOSOCKET_DEB_DBGSYM=$(CURDIR)/$(DEB_DBGSYM) AUDIOSOCKET_MODULE=$(CURDIR)/$(BUILT) \
				$(CARGO) test --release --test '*' || exit 1; \
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
