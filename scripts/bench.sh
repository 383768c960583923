#!/usr/bin/env bash
# Benchmarks for `make bench`: times the Go model against the PyTorch reference in the same run
# (same configuration, same threads), ingest against h5py, prediction, and the demo end to end,
# and writes BENCHMARKS.md. Needs Debian's python3-torch and python3-h5py (`make bench-deps`).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-/usr/bin/python3}          # Debian's python3 (python3-torch), not a pyenv one
REF=${REF:-../shared/reference}
OUT=${OUT:-BENCHMARKS.md}
THREADS=${THREADS:-2}
WORK=.bench
mkdir -p "$WORK"
export GOMAXPROCS=$THREADS OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1
# OpenBLAS picks its kernels for the CPU it finds (AVX-512 ones on Zen 4), unless
# OPENBLAS_CORETYPE forces others: the environment of the machine these figures were first
# measured on set it to Haswell (AVX2), which halves the matrix products. The figures are
# for what a default install gets; CORETYPE=... keeps a forced one.
if [ -n "${CORETYPE:-}" ]; then export OPENBLAS_CORETYPE=$CORETYPE; else unset OPENBLAS_CORETYPE; fi

# The default CPU variant, as a torch_bench.py config.
NANO='{"embed_dim":[32,64,128,256],"depths":[1,1,2,1],"stem_width":32,"head_hidden":256}'

go build -tags "${TAGS:-}" -ldflags "-X github.com/astroformer/astroformer/pipeline.version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o "$WORK/astroformer-bench" ./cmd/astroformer-bench

# model_row VARIANT IMAGE BATCH MODE ITERS: one row of the model table, Go and PyTorch side by side,
# with the fraction of the machine's fp32 GEMM peak (GEMM, measured once in this run) each reaches.
model_row() {
  local variant=$1 image=$2 batch=$3 mode=$4 iters=$5 go torch ref
  ref=(--variant "$variant")
  [ "$variant" = astroformer_nano ] && ref=(--config "$NANO")
  go=$("$WORK/astroformer-bench" -variant "$variant" -image "$image" -batch "$batch" -mode "$mode" -threads "$THREADS" -warmup 1 -iters "$iters")
  torch=$("$PY" "$REF/torch_bench.py" "${ref[@]}" --image "$image" --batch "$batch" --mode "$mode" --threads "$THREADS" --warmup 1 --iters "$iters")
  echo "$go" >"$WORK/go-$variant-$image-$mode.json"
  echo "$torch" >"$WORK/torch-$variant-$image-$mode.json"
  "$PY" - "$variant" "$image" "$batch" "$mode" "$go" "$torch" "$GEMM" <<'PYEOF'
import json, sys
variant, image, batch, mode = sys.argv[1:5]
g, t, peak = json.loads(sys.argv[5]), json.loads(sys.argv[6]), float(sys.argv[7])
work = g["gflop_per_image"]
print(f"| {variant} @{image}, {batch} | {mode} | {g['images_per_sec']:.2f} | {t['images_per_sec']:.2f} | **{g['images_per_sec']/t['images_per_sec']:.2f}x** "
      f"| {g['peak_rss_mib']:.0f} | {t['peak_rss_mib']:.0f} | {g['peak_rss_mib']/t['peak_rss_mib']:.2f}x "
      f"| {100*work*g['images_per_sec']/peak:.0f}% | {100*work*t['images_per_sec']/peak:.0f}% |")
PYEOF
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh); every ratio compares figures measured in the same run."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores visible, ${THREADS} threads used"
  core=$(OPENBLAS_VERBOSE=2 "$WORK/astroformer-bench" -mode gemm -threads 1 -iters 3 2>&1 | sed -n 's/^Core: *//p' | head -1)
  echo "- go: $(go version | cut -d' ' -f3), BLAS: $(grep -q openblas <<<"${TAGS:-}" && echo "OpenBLAS (${core:-?} kernels)" || echo gonum pure Go)"
  echo "- reference: $("$PY" -c 'import torch; print("PyTorch", torch.__version__)')"
  echo
  GEMM=$("$WORK/astroformer-bench" -mode gemm -threads "$THREADS" | sed 's/.*"gflops":\([0-9.]*\).*/\1/')
  echo "## Model, side by side with PyTorch, ${THREADS} threads"
  echo
  echo "Command: \`astroformer-bench -variant V -image I -batch B -mode MODE -threads ${THREADS}\` against"
  echo "\`torch_bench.py --variant V (nano: --config '$NANO') --image I --batch B --mode MODE --threads ${THREADS}\`;"
  echo "median of the timed steps after 1 warm-up step. A training step is forward + backward + AdamW."
  echo "Peak: the fp32 GEMM of this build measured in the same run (\`astroformer-bench -mode gemm\`, ${THREADS}"
  echo "goroutines of 1024³ products): **${GEMM} GFLOPS**. \"% of peak\" is model work per image (2·MACs"
  echo "inference, 6·MACs training) × images/s / that peak."
  echo
  echo "| variant @image, batch | mode | Go images/s | PyTorch images/s | Go/PyTorch | Go peak RSS MiB | PyTorch peak RSS MiB | RSS ratio | Go % of peak | PyTorch % of peak |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  model_row astroformer_nano 64 32 train 9
  model_row astroformer_nano 64 32 infer 9
  model_row astroformer_0 64 32 train 9
  model_row astroformer_0 64 32 infer 9
  model_row astroformer_0 256 8 train 2
  model_row astroformer_0 256 8 infer 3
  echo
  for extra in scripts/bench-*.sh; do
    [ -x "$extra" ] && "$extra" "$WORK"
  done
  # The hour-long training run and the low-data comparison have their own targets
  # (make bench-long, make bench-lowdata): keep their sections.
  if [ -f "$OUT" ]; then
    # Sections measured by other scripts or by hand are kept as they are:
    # each lies between "<!-- NAME:begin" and "<!-- NAME:end" lines.
    sed -n '/^<!-- [a-z0-9-]*:begin/,/^<!-- [a-z0-9-]*:end/p' "$OUT"
  fi
} >"$WORK/BENCHMARKS.md.tmp"
mv "$WORK/BENCHMARKS.md.tmp" "$OUT"
echo "wrote $OUT"
