#!/usr/bin/env bash
# Part of `make bench`: the demo job end to end from an empty workdir, its wall time and top-1.
set -euo pipefail
work=$1
rm -rf "$work/demo"
start=$(date +%s.%N)
bin/astroformer run jobs/demo.hcl --workdir "$work/demo" >"$work/demo.log" 2>&1
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
echo "## Demo: \`make demo\` (jobs/demo.hcl) end to end"
echo
echo "Command: \`bin/astroformer run jobs/demo.hcl --workdir $work/demo\` from an empty workdir (synthetic"
echo "survey of 3,000 64x64 cutouts, split, 6 epochs of astroformer_nano, prediction with 8-view TTA and"
echo "HEALPix layout, evaluation). Target: under 10 minutes on 2 cores."
echo
awk -v s="$secs" 'BEGIN { printf "- wall time: **%.0f s** (%.1f min)\n", s, s / 60 }'
echo "- $(grep -m1 'val top-1' "$work/demo.log" | sed 's/^ *//')"
echo "- test split: $(grep -m1 'top-1 .*CI' "$work/demo.log" | sed 's/^ *//')"
echo "- per stage:"
echo
echo '```'
grep -E '^  (ran|skipped) ' "$work/demo.log"
echo '```'
echo
