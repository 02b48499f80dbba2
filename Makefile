# tgwh: every target works on a fresh machine with only Node.js and npm (Bun comes from npm).
SHELL := /bin/bash
BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc
VERSION := $(shell node -p "require('./package.json').version")
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
SOURCES := $(shell find src -type f \( -name '*.ts' -o -name '*.sql' -o -name '*.json' -o -name '*.html' -o -name '*.js' -o -name '*.css' \) 2>/dev/null)

.PHONY: run test test-prereqs build deps typecheck unit e2e migrations clean soak install bench release

deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

ENTRYPOINTS = src/main.ts src/store/sqlite/commit/checkpoint-thread.ts

build: dist/tgwh
dist/tgwh: node_modules/.installed $(SOURCES)
	@mkdir -p dist
	@# Build beside and rename: a running test's binary is never overwritten in place.
	@# --bytecode: ships precompiled JS, so a start (and a restart) takes ~2.5x less time (bench/RESULTS.md).
	@# Worker threads' entry files are extra entrypoints: the binary must carry them.
	$(BUN) build $(ENTRYPOINTS) --compile --minify-syntax --bytecode \
	  --define 'TGWH_BUILD_VERSION="$(VERSION)"' --define 'TGWH_BUILD_COMMIT="$(COMMIT)"' \
	  --outfile dist/tgwh.tmp.$$$$ && mv -f dist/tgwh.tmp.$$$$ dist/tgwh

# Starts the service on ./data/tgwh.db; without TGWH_BOT_TOKEN it is the dev sandbox.
run: build
	@if [ -z "$$TGWH_BOT_TOKEN$$TGWH_BOT_TOKEN_FILE" ]; then export TGWH_DEV=1; fi; \
	  ./dist/tgwh migrate && exec ./dist/tgwh serve

typecheck: node_modules/.installed
	$(TSC) --noEmit -p .

# The Debian packages the deploy, browser, PostgreSQL and Redis tests drive: installed when run as
# root, otherwise make stops with the one apt-get line to run (scripts/test-prereqs.sh).
test-prereqs:
	@scripts/test-prereqs.sh

test: test-prereqs typecheck build
	$(BUN) test --timeout 120000

# Chaos soak against the compiled binary (bench/soak.ts; docs/soak.md): DURATION=30m RATE=200
# KILL_EVERY=60s OUT=bench/soak-out. Then the bad-input fuzz with more cases than make test runs.
DURATION ?= 30m
soak: build
	@# A private copy of the binary: a rebuild during the run must not change what restarts run.
	cp dist/tgwh dist/tgwh-soak && TGWH_BINARY=$(CURDIR)/dist/tgwh-soak DURATION=$(DURATION) $(BUN) bench/soak.ts
	FUZZ_RUNS=$${FUZZ_RUNS:-2000} $(BUN) test test/fuzz

# After changing a schema (src/store/<dialect>/schema.ts): generate each dialect's SQL migration
# and embed it in the binary. A data change goes into the generated file by hand (see sqlite's 0002).
MIGRATION_DIALECTS := sqlite postgres
migrations: node_modules/.installed
	for d in $(MIGRATION_DIALECTS); do \
	  node_modules/.bin/drizzle-kit generate --config drizzle.$$d.config.ts && \
	  $(BUN) scripts/embed-migrations.ts src/store/$$d/migrations || exit 1; \
	done

# Installs on this VM (as root): `sudo make install INSTALL_ARGS="--server-name bot.example.com"`;
# DESTDIR=/tmp/root stages into a directory instead (see deploy/install.sh --help).
install: build
	deploy/install.sh --binary dist/tgwh $(if $(DESTDIR),--prefix "$(DESTDIR)") $(INSTALL_ARGS)

# A release the VM installs without building (no Node.js there): the binary, deploy/, install.sh
# at the top, docs and README, as dist/tgwh-VERSION-linux-x64.tar.gz with a .sha256 beside it.
# RELEASE_DIR=DIR writes them elsewhere. Reproducible: sorted, root-owned, dated by the last commit.
RELEASE_DIR ?= dist
RELEASE := tgwh-$(VERSION)-linux-x64
RELEASE_MTIME := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
release: dist/tgwh
	@[ "$$(uname -sm)" = "Linux x86_64" ] || { echo "make release builds linux-x64 on a linux-x64 machine (this is $$(uname -sm))" >&2; exit 2; }
	@rm -rf "$(RELEASE_DIR)/$(RELEASE)" && mkdir -p "$(RELEASE_DIR)/$(RELEASE)"
	cp dist/tgwh "$(RELEASE_DIR)/$(RELEASE)/tgwh"
	cp -R deploy docs README.md "$(RELEASE_DIR)/$(RELEASE)/"
	cp deploy/install.sh "$(RELEASE_DIR)/$(RELEASE)/install.sh"
	tar -C "$(RELEASE_DIR)" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(RELEASE_MTIME) \
	  -czf "$(RELEASE_DIR)/$(RELEASE).tar.gz.tmp" "$(RELEASE)"
	mv -f "$(RELEASE_DIR)/$(RELEASE).tar.gz.tmp" "$(RELEASE_DIR)/$(RELEASE).tar.gz"
	cd "$(RELEASE_DIR)" && sha256sum "$(RELEASE).tar.gz" > "$(RELEASE).tar.gz.sha256"
	@rm -rf "$(RELEASE_DIR)/$(RELEASE)"
	@echo "release: $(RELEASE_DIR)/$(RELEASE).tar.gz (+ .sha256)"

# Benchmarks (not part of make test): ingest against a bare server, grammY's webhookCallback, the
# durable floor and grammY + bunqueue; sustained capacity at fixed rates; drain, a million-job queue,
# start time. Needs wrk and a C compiler for the fixed-rate loader (apt-get install -y wrk gcc).
# Appends to bench/RESULTS.md.
bench: build
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk" >&2; exit 2; }
	@command -v cc >/dev/null || { echo "make bench needs a C compiler for bench/loader/fixed-rate.c: apt-get install -y gcc" >&2; exit 2; }
	$(BUN) bench/run.ts

clean:
	rm -rf dist
