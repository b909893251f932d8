# ringgate — the commands the README names. `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: run build release check-deploy test test-sdk test-short race fuzz bench bench-sip bench-deps vet fmt deps clean

run: ## ringgate dev: SQLite under ./ringgate-data, simulator, demo app on :8080
	$(GO) run ./cmd/ringgate dev

build:
	$(GO) build -o bin/ringgate ./cmd/ringgate

release: ## static, reproducible binaries for linux/amd64, linux/arm64, darwin/amd64, darwin/arm64 and SHA256SUMS in dist/
	./scripts/release.sh dist

check-deploy: ## systemd-analyze verify the unit, promtool check the alert rules (CI runs it)
	./scripts/check-deploy.sh

deps: ## install the system packages tests talk to (PostgreSQL, sipp)
	./scripts/install-deps.sh

test: ## everything CI runs: vet, then all tests with the race detector, then the SDKs'
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	cd compat/twiliogo && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 5m ./...
	$(MAKE) test-sdk

# The SDKs (sdk/go, sdk/js) and the clients generated from openapi.json
# (sdk/gen/go with oapi-codegen, sdk/js/gen with openapi-typescript and
# openapi-fetch), each test process against a `ringgate dev` of its own,
# all from one binary built here. sdk/js needs `npm ci` (scripts/install-deps.sh).
SDK_BIN := $(CURDIR)/bin/ringgate-sdktest
test-sdk: ## the Go and TypeScript SDKs and the generated clients against a real server
	$(GO) build -buildvcs=false -o $(SDK_BIN) ./cmd/ringgate
	cd sdk/go && $(GO) vet ./... && RINGGATE_BIN=$(SDK_BIN) $(GO) test -race -count=1 ./...
	cd sdk/gen/go && $(GO) vet ./... && RINGGATE_BIN=$(SDK_BIN) $(GO) test -count=1 ./...
	cd sdk/js && RINGGATE_BIN=$(SDK_BIN) npm test

test-short:
	$(GO) test -short -count=1 $(PKGS)

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	./scripts/fuzz.sh $(or $(FUZZTIME),30s)

bench: ## load figures as ratios against a bare net/http baseline, then micro-benchmarks
	$(GO) run ./internal/bench/cmd/rgbench
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/...

bench-sip: ## ringgate on SQLite and PostgreSQL against Kamailio (stateless 486, and 486 + one SQLite / PostgreSQL row per call), sipp as the caller; needs scripts/install-bench-deps.sh
	$(GO) run ./internal/bench/cmd/sipbench $(BENCH_SIP_FLAGS)

bench-deps: ## install sipp and Kamailio for bench-sip
	./scripts/install-bench-deps.sh

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin dist ringgate-data
