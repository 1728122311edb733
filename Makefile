# Vigil: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=

.PHONY: deps build release test test-browser screenshots lint format demo bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS)

# Formatting is checked, not debated: .swift-format (line length 150, ordered imports)
# over every Swift file; `make format` rewrites them, `make lint` (part of `make test`,
# so CI runs it) fails on any difference.
SWIFT_FORMAT_PATHS = Sources Tests Package.swift Benchmarks
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_FORMAT_PATHS)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_FORMAT_PATHS)

# Builds, starts a throwaway PostgreSQL (scripts/with-postgres.sh), runs every test against it, removes it.
test: deps lint
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	# Serially: CPU-heavy tests (fuzzers, generators) would otherwise starve the timing of
	# the supervision and fault tests on a 2-core machine.
	scripts/with-postgres.sh $(SWIFT) test --skip-build --no-parallel --skip ConsoleBrowserTests $(SWIFT_BUILD_FLAGS)

# The console in a real browser: headless Chromium over WebDriver (installed when missing),
# against a throwaway PostgreSQL. Its own target: a browser is slow to start and heavy to install.
test-browser:
	@scripts/install-deps.sh --browser
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	scripts/with-postgres.sh $(SWIFT) test --skip-build --no-parallel --filter ConsoleBrowserTests $(SWIFT_BUILD_FLAGS)

# The browser tests again, keeping their screenshots of each page in docs/console/ (committed).
screenshots:
	@scripts/install-deps.sh --browser
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	VIGIL_SCREENSHOTS=docs/console scripts/with-postgres.sh $(SWIFT) test --skip-build --no-parallel --filter ConsoleBrowserTests $(SWIFT_BUILD_FLAGS)

# Runs the main job end to end against a throwaway PostgreSQL and prints a summary.
# A debug build keeps the first run to a few minutes on 2 cores (it shares the build
# with `make test`); DEMO_RELEASE=1 builds optimized for representative throughput.
DEMO_CONFIG = $(if $(DEMO_RELEASE),release,debug)
demo: deps
	$(SWIFT) build -c $(DEMO_CONFIG) --product vigil $(SWIFT_BUILD_FLAGS)
	scripts/with-postgres.sh scripts/demo.sh "$$($(SWIFT) build -c $(DEMO_CONFIG) --show-bin-path)/vigil"

# End-to-end benchmark against a throwaway PostgreSQL (about 10 minutes); writes
# docs/benchmarks.md and its plots. BENCH_QUICK=1 for a short trial run.
bench: deps
	$(SWIFT) build -c release --product vigil $(SWIFT_BUILD_FLAGS)
	scripts/with-postgres.sh scripts/bench.sh "$$($(SWIFT) build -c release --show-bin-path)/vigil"

clean:
	rm -rf .build
