#!/usr/bin/env bash
# `make bench-long`: the longer CPU training run, jobs/synthetic-long.hcl, from an empty workdir
# (about an hour on two cores), and its wall time, CPU time, peak memory and top-1 per epoch. It
# replaces the section between the long-run markers of BENCHMARKS.md, which `make bench` keeps.
#
#   scripts/long-run.sh                    run the job (JOB, default jobs/synthetic-long.hcl), then write the section
#   scripts/long-run.sh --report LOG TIME  only write the section from a run's log and the
#                                          output of `/usr/bin/time -v` for it
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-BENCHMARKS.md}
JOB=${JOB:-jobs/synthetic-long.hcl}
work=.bench
mkdir -p "$work"

if [ "${1:-}" = --report ]; then
  log=$2 timing=$3
  command="bin/astroformer run $JOB"
else
  log=$work/long.log timing=$work/long.time
  command="bin/astroformer run $JOB --workdir $work/synthetic-long"
  rm -rf "$work/synthetic-long"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$timing" $command >"$log" 2>&1
  else
    start=$(date +%s)
    $command >"$log" 2>&1
    echo "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:$(( $(date +%s) - start ))" >"$timing"
  fi
fi

field() { sed -n "s/^[[:space:]]*$1: *//p" "$timing" | head -1; }
wall=$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)')
secs=$(awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$wall")
user=$(field 'User time (seconds)')
sys=$(field 'System time (seconds)')
rss=$(field 'Maximum resident set size (kbytes)')

section() {
  echo "<!-- long-run:begin (scripts/long-run.sh) -->"
  echo "## Long CPU training run: jobs/synthetic-long.hcl"
  echo
  echo "Command: \`$command\` from an empty workdir (\`make bench-long\` reruns it): synthetic survey of"
  echo "20,000 64x64 cutouts, split 80/10/10, 20 epochs of astroformer_nano (batch 32, lr 4e-3, EMA), then
prediction and evaluation of the test split."
  echo "Target: at least 90% validation top-1."
  echo
  echo "- date: $(date -u -r "$log" +%Y-%m-%dT%H:%MZ); machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(grep -m1 -o 'producer=[^ ]*' "$log")"
  awk -v s="$secs" -v u="${user:-0}" -v y="${sys:-0}" -v r="${rss:-0}" 'BEGIN {
    printf "- wall time: **%.0f min** (%.0f s); CPU time %.0f min", s / 60, s, (u + y) / 60
    if (r > 0) printf "; peak RSS %.0f MiB", r / 1024
    printf "\n" }'
  echo "- $(grep -m1 'best val top-1' "$log" | sed 's/^ *//')"
  echo "- $(grep -m1 'best EMA val top-1' "$log" | sed 's/^ *//')"
  # A 95% Wilson interval for the final val top-1 over the validation rows.
  grep -m1 'final val top-1' "$log" | sed 's/.*final val top-1 \([0-9.]*\)%.*/\1/' |
    awk -v n="$(grep -m1 -o '[0-9]* val rows' "$log" | cut -d' ' -f1)" '{
      p = $1 / 100; z = 1.96; d = 1 + z * z / n; c = (p + z * z / (2 * n)) / d
      h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
      printf "- final val top-1 %.2f%%, 95%% interval [%.1f%%, %.1f%%] over %d validation cutouts\n", 100 * p, 100 * (c - h), 100 * (c + h), n }'
  if grep -q 'top-1 .*CI' "$log"; then
    echo "- test split (best checkpoint, no TTA): $(grep -m1 'top-1 .*CI' "$log" | sed 's/^ *//')"
  fi
  echo
  echo "| epoch | train loss | val loss | val top-1 | EMA val top-1 | learning rate | images/s | data wait |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  grep 'epoch done:' "$log" | awk '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %.4f | %.4f | %.1f%% | %.1f%% | %.2e | %s | %.1f%% |\n", v["epoch"], v["loss"], v["val_loss"],
      100 * v["val_top1"], 100 * v["ema_top1"], v["lr"], v["images_per_sec"], 100 * v["data_wait_fraction"] }'
  echo
  echo "<!-- long-run:end -->"
}

section >"$work/long-run.md"
if grep -q '^<!-- long-run:begin' "$OUT" 2>/dev/null; then
  awk -v f="$work/long-run.md" '
    /^<!-- long-run:begin/ { while ((getline line < f) > 0) print line; skip = 1; next }
    /^<!-- long-run:end/ { skip = 0; next }
    !skip' "$OUT" >"$OUT.tmp"
else
  { cat "$OUT"; echo; cat "$work/long-run.md"; } >"$OUT.tmp"
fi
mv "$OUT.tmp" "$OUT"
echo "wrote the long-run section of $OUT"
