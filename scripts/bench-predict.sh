#!/usr/bin/env bash
# Part of `make bench`: prediction throughput of the default CPU variant (uses the demo's model)
# against the engine's inference rate for the same variant, image size and batch, measured
# right before and after each prediction (the machine's speed drifts by 10-20% between runs).
set -euo pipefail
work=$1
model=$work/demo/model
[ -d "$model" ] || { echo "bench-predict: no $model (run bench-demo.sh first)" >&2; exit 1; }
# 20,000 cutouts, so that opening the model and building its graph (about 0.1 s) weigh little.
rows=20000
if [ ! -d "$work/predict-input/cutouts" ]; then
  cat >"$work/predict-input.hcl" <<HCL
job "bench-predict" {
  workdir = "$work/predict-input"
  seed    = 11
  stage "synthetic" "survey" {
    output = "cutouts"
    count  = $rows
    size   = 64
  }
}
HCL
  bin/astroformer run "$work/predict-input.hcl" >/dev/null 2>&1
fi
# The engine over the same 625 batches of 32: its median step (images_per_sec, the model table's
# figure) and its sustained rate (all the timed steps' images over their total time), which is what
# an end-to-end run is comparable with: a long run pays for the slow steps a median leaves out.
steps=$((rows / 32))
engine() { # median-step and sustained images/s of the engine's forward pass
  "$work/astroformer-bench" -variant astroformer_nano -image 64 -batch 32 -mode infer -threads "${GOMAXPROCS:-2}" -warmup 2 -iters "$steps" |
    sed 's/.*"images_per_sec":\([0-9.]*\).*"sustained_images_per_sec":\([0-9.]*\).*/\1 \2/'
}
row() { # tta
  local tta=$1 out=$work/pred-tta$1 before after
  rm -rf "$out"
  before=$(engine)
  /usr/bin/time -f '%e %M' -o "$work/time-$tta" \
    bin/astroformer predict --model "$model" --input "$work/predict-input/cutouts" --output "$out" --batch 32 --tta "$tta" --shard off >/dev/null 2>&1
  after=$(engine)
  read -r secs kb <"$work/time-$tta"
  echo "$before $after" | awk -v r="$rows" -v s="$secs" -v kb="$kb" -v t="$tta" \
    '{ m = ($1 + $3) / 2; e = ($2 + $4) / 2; p = r*t/s
       printf "| %d | %d | %.1f | %.1f | %.0f | %.0f | %.0f | **%.0f%%** | %.0f%% |\n", t, r, r/s, p, kb/1024, e, m, 100*p/e, 100*p/m }'
}
echo "## Prediction: astroformer_nano, 64x64, batch 32, ${GOMAXPROCS:-2} threads"
echo
echo "Command: \`/usr/bin/time bin/astroformer predict --model $model --input $work/predict-input/cutouts --output OUT --batch 32 --tta T\`"
echo "(the demo's checkpoint over $rows synthetic 64x64 cutouts of another seed; images/s counts every TTA"
echo "view, and the time is the whole command's: reading, preprocessing, the model, writing the catalog)."
echo "Engine: \`astroformer-bench -variant astroformer_nano -image 64 -batch 32 -mode infer -iters $steps\`, run just"
echo "before and just after the prediction (the mean of the two): its sustained rate (the images of all"
echo "$steps timed forward passes over their total time: the same work as the prediction's, slow steps"
echo "included) and its median step (the model table's statistic, which leaves the slow steps out)."
echo "Target: at least 90% of the engine."
echo
echo "| TTA views | cutouts | cutouts/s | images/s | peak RSS MiB | engine images/s, sustained | engine images/s, median step | of the sustained engine | of the median step |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
row 1
row 8
echo
