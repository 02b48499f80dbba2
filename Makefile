# tgwh: every target works on a fresh machine with only Node.js and npm (Bun comes from npm).
SHELL := /bin/bash
BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc
VERSION := $(shell node -p "require('./package.json').version")
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
SOURCES := $(shell find src -type f \( -name '*.ts' -o -name '*.sql' -o -name '*.json' -o -name '*.html' -o -name '*.js' -o -name '*.css' \) 2>/dev/null)

.PHONY: run test build deps typecheck unit e2e migrations clean

deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: dist/tgwh
dist/tgwh: node_modules/.installed $(SOURCES)
	@mkdir -p dist
	@# Build beside and rename: a running test's binary is never overwritten in place.
	$(BUN) build src/main.ts --compile --minify-syntax \
	  --define 'TGWH_BUILD_VERSION="$(VERSION)"' --define 'TGWH_BUILD_COMMIT="$(COMMIT)"' \
	  --outfile dist/tgwh.tmp.$$$$ && mv -f dist/tgwh.tmp.$$$$ dist/tgwh

# Starts the service on ./data/tgwh.db; without TGWH_BOT_TOKEN it is the dev sandbox.
run: build
	@if [ -z "$$TGWH_BOT_TOKEN$$TGWH_BOT_TOKEN_FILE" ]; then export TGWH_DEV=1; fi; \
	  ./dist/tgwh migrate && exec ./dist/tgwh serve

typecheck: node_modules/.installed
	$(TSC) --noEmit -p .

test: typecheck build
	$(BUN) test

# After changing src/db/schema.ts: generate the SQL migration and embed it in the binary.
migrations: node_modules/.installed
	node_modules/.bin/drizzle-kit generate
	$(BUN) scripts/embed-migrations.ts

clean:
	rm -rf dist
