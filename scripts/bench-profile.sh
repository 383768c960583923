#!/usr/bin/env bash
# Part of `make bench`: where a training step's time goes (pprof, default CPU variant).
set -euo pipefail
work=$1
go test -tags "${TAGS:-}" ./model/ -run '^$' -bench 'BenchmarkTrainStep$' -benchtime 5x -cpu "${GOMAXPROCS:-2}" \
  -cpuprofile "$work/train.prof" -o "$work/model.test" >"$work/profile-bench.txt" 2>&1
echo "## Where a training step's time goes"
echo
echo "Command: \`go test ./model/ -run '^\$' -bench 'BenchmarkTrainStep\$' -benchtime 5x -cpu ${GOMAXPROCS:-2} -cpuprofile train.prof\`"
echo "then \`go tool pprof -top\`; the top functions by flat time:"
echo
echo '```'
go tool pprof -top -nodecount 15 "$work/model.test" "$work/train.prof" 2>/dev/null | sed -n '/flat%/,$p'
echo '```'
echo
