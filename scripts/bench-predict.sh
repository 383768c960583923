#!/usr/bin/env bash
# Part of `make bench`: prediction throughput of the default CPU variant (uses the demo's model).
set -euo pipefail
work=$1
model=$work/demo/model
[ -d "$model" ] || { echo "bench-predict: no $model (run bench-demo.sh first)" >&2; exit 1; }
rows=$(bin/astroformer inspect "$work/demo/cutouts_split" --per-class 0 2>/dev/null | awk '$1 == "rows" { print $2; exit }' | head -1)
row() { # tta
  local tta=$1
  local out=$work/pred-tta$tta
  rm -rf "$out"
  /usr/bin/time -f '%e %M' -o "$work/time-$tta" \
    bin/astroformer predict --model "$model" --input "$work/demo/cutouts_split" --output "$out" --batch 32 --tta "$tta" --shard off >/dev/null 2>&1
  read -r secs kb <"$work/time-$tta"
  awk -v r="${rows:-3000}" -v s="$secs" -v kb="$kb" -v t="$tta" \
    'BEGIN { printf "| %d | %d | %.1f | %.1f | %.0f |\n", t, r, r/s, r*t/s, kb/1024 }'
}
echo "## Prediction: astroformer_nano, 64x64, batch 32, ${GOMAXPROCS:-2} threads"
echo
echo "Command: \`/usr/bin/time bin/astroformer predict --model $model --input $work/demo/cutouts_split --output OUT --batch 32 --tta T\`"
echo "(the demo's checkpoint over the demo's 3,000 cutouts; images/s counts every TTA view). The PyTorch"
echo "reference's inference figure for the same variant and batch is in the model table above."
echo
echo "| TTA views | cutouts | cutouts/s | images/s | peak RSS MiB |"
echo "|---:|---:|---:|---:|---:|"
row 1
row 8
echo
