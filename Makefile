# astroformer — the two commands a fresh machine needs are `make demo` and `make test`.
# Both fetch Go modules themselves. OpenBLAS (Debian libopenblas-dev) is used when present;
# without it everything builds and runs with gonum's pure-Go BLAS (slower, same results).

GO        ?= go
BIN       := bin/astroformer
JOB       ?= jobs/demo.hcl
FUZZTIME  ?= 20000x
# BLAS=openblas|gonum; auto-detected from the installed headers and library.
BLAS      ?= $(shell test -e /usr/include/x86_64-linux-gnu/cblas.h -o -e /usr/include/cblas.h -o -e /usr/include/openblas/cblas.h && ls /usr/lib/*/libopenblas.so >/dev/null 2>&1 && echo openblas || echo gonum)
TAGS      := $(if $(filter openblas,$(BLAS)),openblas,)
export CGO_LDFLAGS := $(if $(filter openblas,$(BLAS)),-lopenblas,)
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/astroformer/astroformer/pipeline.version=$(VERSION)

.PHONY: all build demo openblas-if-possible astro-tools-if-possible test fuzz bench bench-long bench-lowdata report-shot bench-deps vet fmt clean deps blas

all: build

deps:
	$(GO) mod download

build: deps
	@mkdir -p bin
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/astroformer

# The main job on the embedded default data (a synthetic survey release). Training is several
# times faster with OpenBLAS: when it is missing and we are root on Debian, demo installs
# libopenblas-dev with apt-get first; otherwise it runs on the pure-Go BLAS.
demo:
	@$(MAKE) --no-print-directory openblas-if-possible
	@$(MAKE) --no-print-directory build
	./$(BIN) run $(JOB)

openblas-if-possible:
	@if [ "$(BLAS)" = gonum ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing libopenblas-dev (apt-get) for the fast BLAS"; \
	    apt-get install -y --no-install-recommends libopenblas-dev >/dev/null 2>&1 || \
	    { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends libopenblas-dev >/dev/null 2>&1; } || \
	    echo "could not install libopenblas-dev: using the pure-Go BLAS (slower)"; \
	  else \
	    echo "libopenblas-dev not found: using the pure-Go BLAS (slower; 'sudo make blas' installs it)"; \
	  fi; \
	fi

# Debian's astronomy tools that the export, Parquet and HEALPix tests check their files with
# (each test skips, saying why, when one is missing). As root with apt-get they are installed
# first; a failure to install only leaves those checks skipped.

astro-tools-if-possible:
	@missing=""; \
	command -v fitsverify >/dev/null || missing="$$missing fitsverify"; \
	/usr/bin/python3 -c 'import astropy' 2>/dev/null || missing="$$missing python3-astropy"; \
	/usr/bin/python3 -c 'import healpy' 2>/dev/null || missing="$$missing python3-healpy"; \
	command -v stilts >/dev/null || missing="$$missing stilts"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing (apt-get) for the format checks"; \
	    apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1; } || \
	    echo "could not install$$missing: those format checks are skipped"; \
	  else \
	    echo "not installed:$$missing: those format checks are skipped ('sudo apt-get install$$missing' adds them)"; \
	  fi; \
	fi

# A full-page screenshot of an evaluation report in headless Chromium (Debian: apt-get install
# --no-install-recommends chromium), to look at how report.html reads; by default the demo's,
# written next to its report folder as runs/demo/report_shot.png.
REPORT    ?= runs/demo/report/report.html
SHOT      ?= $(dir $(REPORT))../report_shot.png
report-shot:
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,9000 \
	  --screenshot=$(abspath $(SHOT)) file://$(abspath $(REPORT))
	@echo "screenshot: $(SHOT)"

# Unit, parity and integration tests, then a short run of every fuzz target.
test: deps
	@$(MAKE) --no-print-directory astro-tools-if-possible
	$(GO) vet ./...
	$(GO) test -tags '$(TAGS)' -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz

fuzz:
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
	  dir=$$(dirname $$file); \
	  for f in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
	    echo "fuzz $$dir $$f ($(FUZZTIME))"; \
	    $(GO) test -tags '$(TAGS)' -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$dir; \
	  done; \
	done

# Benchmarks (not tests): writes BENCHMARKS.md. Needs Debian's python3-torch for the reference
# and python3-h5py for the ingest comparison; `make bench-deps` installs them (root, apt-get).
bench: build
	TAGS='$(TAGS)' ./scripts/bench.sh

# The longer CPU training run (jobs/synthetic-long.hcl, about an hour on 2 cores): replaces its
# section of BENCHMARKS.md.
bench-long: build
	./scripts/long-run.sh

# Learning from little data side by side with the PyTorch reference, model selection and
# fine-tuning (about 20 minutes on 2 cores): replaces its section of BENCHMARKS.md.
bench-lowdata: build
	./scripts/lowdata-run.sh

bench-deps:
	apt-get install -y python3-torch python3-h5py libopenblas-dev

# Installs OpenBLAS for the fast build (optional).
blas:
	apt-get install -y libopenblas-dev

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf bin runs .bench
