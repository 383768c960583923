#!/bin/bash
# Submit a sharded prediction and its merge to Slurm:
#
#   deploy/slurm/submit.sh SHARDS MODEL INPUT OUTPUT [TTA [HEALPIX_ORDER]]
#
# e.g. deploy/slurm/submit.sh 16 runs/g10/model runs/g10/cutouts runs/g10/catalog 8 5
# Paths must be on a file system every node sees. Extra sbatch options (a
# partition, an account) go in SBATCH_PARTITION, SBATCH_ACCOUNT, ... as
# sbatch reads them from the environment.
set -euo pipefail

if [ $# -lt 4 ] || [ $# -gt 6 ]; then
	echo "usage: $0 SHARDS MODEL INPUT OUTPUT [TTA [HEALPIX_ORDER]]" >&2
	exit 2
fi
shards=$1
case $shards in
'' | *[!0-9]* | 0)
	echo "$0: SHARDS must be a positive integer, got '$shards'" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)

export MODEL=$2 INPUT=$3 OUTPUT=$4 TTA=${5:-8} HEALPIX_ORDER=${6:--1}

array=$(sbatch --parsable --array="0-$((shards - 1))" --export=ALL "$here/predict-array.sbatch")
array=${array%%;*} # drop a cluster name
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --export=ALL "$here/merge.sbatch")
echo "prediction array $array ($shards tasks), merge job ${merge%%;*} once they all succeed"
