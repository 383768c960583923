#!/usr/bin/env bash
# make bench-lowdata: learning from little data, side by side with the PyTorch reference.
#
# Writes the two low-data tasks as PNG class folders (astroformer-lowdata), trains
# the reference (shared/reference/torch_train_folder.py, PyTorch's default
# initialisation) and this project (jobs/lowdata-syn32.hcl, jobs/lowdata-syn64.hcl)
# with the same recipe, data and budget for each seed, one thread each and the two
# sides run at the same time (so the times compare like with like), then the
# selection evidence (jobs/lowdata-select.hcl: best vs last on a 50-image val split)
# and the fine-tuning job (jobs/finetune.hcl). Replaces the "lowdata" section of
# BENCHMARKS.md. About 20 minutes on two cores (18 on the machine of BENCHMARKS.md).
#
# EPOCHS=N (at least 2) is a smoke run of the same steps: every job and the
# reference train N epochs (one of them warmup); with OUT=some-copy.md it
# leaves BENCHMARKS.md alone.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-BENCHMARKS.md}
SEEDS=${SEEDS:-"0 1"}
REF=${REF:-../shared/reference/torch_train_folder.py}
PY=${PY:-/usr/bin/python3}
work=${WORK:-.bench/lowdata}
EPOCHS=${EPOCHS:-}

# job SRC DST SEED writes a copy of job file SRC with the job's seed set to
# SEED (the lowdata jobs' "seed    = 0"), and with EPOCHS when set.
job() {
  local smoke=()
  [ -n "$EPOCHS" ] && smoke=(-e "s/^\( *epochs *= *\)[0-9]*/\1$EPOCHS/" -e "s/^\( *warmup_epochs *= *\)[0-9]*/\11/")
  sed -e "s/seed    = 0/seed    = $3/" "${smoke[@]}" "$1" >"$2"
}
mkdir -p "$work" data/lowdata bin
go build -o bin/astroformer-lowdata ./cmd/astroformer-lowdata
[ -d data/lowdata/syn32 ] || bin/astroformer-lowdata -out data/lowdata/syn32 -size 32 -train 100 -test 1000 -seed 2
[ -d data/lowdata/syn64 ] || bin/astroformer-lowdata -out data/lowdata/syn64 -size 64 -train 100 -test 300 -seed 1

# side task seed: both implementations of one task and seed, at once, one thread each.
side() {
  local task=$1 seed=$2 image epochs
  image=${task#syn}
  job "jobs/lowdata-$task.hcl" "$work/$task-$seed.hcl" "$seed"
  epochs=$(sed -n 's/^ *epochs *= *\([0-9]*\).*/\1/p' "$work/$task-$seed.hcl" | head -1)
  rm -rf "$work/$task-$seed"
  ( start=$(date +%s)
    GOMAXPROCS=1 bin/astroformer run "$work/$task-$seed.hcl" --workdir "$work/$task-$seed" >"$work/$task-$seed.log" 2>&1
    echo $(($(date +%s) - start)) >"$work/$task-$seed.secs" ) &
  "$PY" "$REF" "data/lowdata/$task" --image "$image" --epochs "$epochs" --seed "$seed" --threads 1 >"$work/$task-$seed.ref.json"
  wait
}

for task in syn32 syn64; do for seed in $SEEDS; do side $task $seed; done; done
for seed in $SEEDS; do
  job jobs/lowdata-select.hcl "$work/select-$seed.hcl" "$seed"
  rm -rf "$work/select-$seed"
  bin/astroformer run "$work/select-$seed.hcl" --workdir "$work/select-$seed" >"$work/select-$seed.log" 2>&1
done
rm -rf "$work/finetune"
job jobs/finetune.hcl "$work/finetune.hcl" 7 # its own seed, 7
bin/astroformer run "$work/finetune.hcl" --workdir "$work/finetune" >"$work/finetune.log" 2>&1

section() {
  echo "<!-- lowdata:begin (scripts/lowdata-run.sh) -->"
  echo "## Learning from little data: \`make bench-lowdata\`"
  echo
  echo "Command: \`make bench-lowdata\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'))."
  echo "Each row trains once with that seed; the reference (\`torch_train_folder.py\`, PyTorch's default"
  echo "initialisation) and this project (\`jobs/lowdata-<task>.hcl\`, \`init = \"torch\"\`) run at the same"
  echo "time on one thread each. Test top-1 on the held-out test images, 95% Wilson interval for ours."
  echo "The recipe, the tasks and what closed the gap are in the next section (by hand)."
  echo
  echo "| task | seed | reference top-1 | reference s | astroformer top-1 | astroformer s |"
  echo "|---|---:|---:|---:|---:|---:|"
  for task in syn32 syn64; do for seed in $SEEDS; do
    ref=$(sed 's/.*"top1": \([0-9.]*\).*"seconds": \([0-9.]*\).*/\1 \2/' "$work/$task-$seed.ref.json")
    echo "| $task | $seed | ${ref% *}% | ${ref#* } | $(grep -m1 -o 'top-1 [0-9.]*% \[[0-9., ]*\]' "$work/$task-$seed.log" | sed 's/top-1 //') | $(cat "$work/$task-$seed.secs") |"
  done; done
  echo
  echo "Model selection (\`jobs/lowdata-select.hcl\`: syn32 with 50 of its 1,000 labelled images as val):"
  echo
  echo "| seed | best epoch on val (\`best.safetensors\`) | last epoch (\`model.safetensors\`) |"
  echo "|---:|---:|---:|"
  for seed in $SEEDS; do
    echo "| $seed | $(grep 'evaluate_best' -A1 "$work/select-$seed.log" | grep -m1 -o 'top-1 [0-9.]*% \[[0-9., ]*\]' | sed 's/top-1 //') | $(grep 'evaluate_last' -A1 "$work/select-$seed.log" | grep -m1 -o 'top-1 [0-9.]*% \[[0-9., ]*\]' | sed 's/top-1 //') |"
  done
  echo
  echo "Fine-tuning (\`jobs/finetune.hcl\`: 50 labelled cutouts per class, 1,500 test cutouts):"
  echo
  echo "| model | test top-1 |"
  echo "|---|---:|"
  echo "| fine-tuned from the pretrained survey model | $(grep 'evaluate_finetuned' -A1 "$work/finetune.log" | grep -m1 -o 'top-1 [0-9.]*% \[[0-9., ]*\]' | sed 's/top-1 //') |"
  echo "| from scratch | $(grep 'evaluate_scratch' -A1 "$work/finetune.log" | grep -m1 -o 'top-1 [0-9.]*% \[[0-9., ]*\]' | sed 's/top-1 //') |"
  echo
  echo "<!-- lowdata:end -->"
}

section >"$work/section.md"
if grep -q '^<!-- lowdata:begin' "$OUT" 2>/dev/null; then
  awk -v f="$work/section.md" '
    /^<!-- lowdata:begin/ { while ((getline line < f) > 0) print line; skip = 1; next }
    /^<!-- lowdata:end/ { skip = 0; next }
    !skip' "$OUT" >"$OUT.tmp"
else
  { cat "$OUT"; echo; cat "$work/section.md"; } >"$OUT.tmp"
fi
mv "$OUT.tmp" "$OUT"
