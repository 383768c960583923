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

# The default CPU variant, as a torch_bench.py config.
NANO='{"embed_dim":[32,64,128,256],"depths":[1,1,2,1],"stem_width":32,"head_hidden":256}'

go build -tags "${TAGS:-}" -ldflags "-X github.com/astroformer/astroformer/pipeline.version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o "$WORK/astroformer-bench" ./cmd/astroformer-bench

model_row() { # mode
  local mode=$1 go torch
  go=$("$WORK/astroformer-bench" -variant astroformer_nano -image 64 -batch 32 -mode "$mode" -threads "$THREADS" -warmup 2 -iters 7)
  torch=$("$PY" "$REF/torch_bench.py" --config "$NANO" --image 64 --batch 32 --mode "$mode" --threads "$THREADS" --warmup 2 --iters 7)
  echo "$go" >"$WORK/go-$mode.json"
  echo "$torch" >"$WORK/torch-$mode.json"
  "$PY" - "$mode" "$go" "$torch" <<'PYEOF'
import json, sys
mode, g, t = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"| {mode} | {g['images_per_sec']:.1f} | {t['images_per_sec']:.1f} | **{g['images_per_sec']/t['images_per_sec']:.2f}x** "
      f"| {g['peak_rss_mib']:.0f} | {t['peak_rss_mib']:.0f} | {g['peak_rss_mib']/t['peak_rss_mib']:.2f}x |")
PYEOF
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh); every ratio compares figures measured in the same run."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores visible, ${THREADS} threads used"
  echo "- go: $(go version | cut -d' ' -f3), BLAS: $(grep -q openblas <<<"${TAGS:-}" && echo OpenBLAS || echo gonum pure Go)"
  echo "- reference: $("$PY" -c 'import torch; print("PyTorch", torch.__version__)')"
  echo
  echo "## Model: astroformer_nano, 64x64, batch 32, ${THREADS} threads"
  echo
  echo "Command: \`astroformer-bench -variant astroformer_nano -image 64 -batch 32 -mode MODE -threads ${THREADS}\` against"
  echo "\`torch_bench.py --config '$NANO' --image 64 --batch 32 --mode MODE --threads ${THREADS}\`;"
  echo "median of 7 steps after 2 warm-up steps. A training step is forward + backward + AdamW."
  echo
  echo "| mode | Go images/s | PyTorch images/s | Go/PyTorch | Go peak RSS MiB | PyTorch peak RSS MiB | RSS ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  model_row train
  model_row infer
  echo
  for extra in scripts/bench-*.sh; do
    [ -x "$extra" ] && "$extra" "$WORK"
  done
  # The hour-long training run and the low-data comparison have their own targets
  # (make bench-long, make bench-lowdata): keep their sections.
  if [ -f "$OUT" ]; then
    sed -n '/^<!-- long-run:begin/,/^<!-- long-run:end/p' "$OUT"
    sed -n '/^<!-- lowdata:begin/,/^<!-- lowdata:end/p' "$OUT"
  fi
} >"$WORK/BENCHMARKS.md.tmp"
mv "$WORK/BENCHMARKS.md.tmp" "$OUT"
echo "wrote $OUT"
