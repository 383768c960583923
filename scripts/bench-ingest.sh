#!/usr/bin/env bash
# Part of `make bench`: Galaxy10-layout HDF5 ingest against h5py reading the same file.
set -euo pipefail
work=$1
echo "## Ingest: Galaxy10 DECals layout, 2,000 images of 256x256x3 (gzip, one chunk per image)"
echo
echo "Command: \`go run ./cmd/astroformer-bench-ingest --rows 2000\` (targets: >= 150 images/s on 2 cores,"
echo "peak RSS < 512 MB; h5py reads the same file in the same run)."
echo
echo '```'
go run ./cmd/astroformer-bench-ingest --rows 2000 2>&1 | grep -v '^temporary folder' | grep -v '^generat'
echo '```'
echo
