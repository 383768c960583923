#!/usr/bin/python3
"""Make Galaxy10 DECals-layout HDF5 files for the galaxy10 stage.

Two jobs:

  make_fixtures.py fixtures [--out DIR]
      Writes the small, committed test fixtures into DIR (default: the folder
      of this script) plus expected.json, which lists for every row the
      SHA-256 of its pixels (raw uint8, HWC order), its label, ra, dec,
      redshift (null for NaN), pixel scale and, for rows the stage must
      reject, the reason. The Go tests read the .h5 files with Go only and
      compare row by row. The data are deterministic: rerunning the script
      rewrites identical datasets (HDF5 metadata may differ in timestamps).
      It also writes index_v0.h5 and index_latest.h5, small files whose
      datasets exercise the reader's other chunk indexes and filters.

  make_fixtures.py bench --rows N [--size S] --out FILE
      Writes a synthetic file of N images of SxSx3 (default 256) with the
      layout of the published file, for the ingest benchmark. The images are
      a smooth galaxy-like profile over a noisy sky, so gzip compresses them
      roughly as much as it compresses the real ones (about 0.7).

Layout of Galaxy10_DECals.h5 (all datasets at the root, N rows):
  images   uint8   (N, H, W, 3)
  ans      uint8   (N,)   class 0-9
  ra, dec  float64 (N,)   degrees
  redshift float64 (N,)   NaN where unknown
  pxscale  float64 (N,)   arcsec/pixel (0.262 or 0.524)

Needs numpy and h5py (Debian: python3-h5py); run with /usr/bin/python3.
"""

import argparse
import hashlib
import json
import os
import sys

import h5py
import numpy as np

FIXTURE_ROWS = 12
FIXTURE_SIZE = 32

# Rows of the fixtures that hold something the stage must notice.
BAD_LABEL_ROW = 10  # label 10 is out of range
NAN_DEC_ROW = 7  # dec is NaN
NAN_REDSHIFT_ROW = 4  # redshift is NaN: a null, not a reject


def galaxy_images(rng, rows, size):
    """Return uint8 (rows, size, size, 3) images: an elliptical exponential
    profile with a random centre, orientation and colour over Gaussian sky
    noise. Yields them in blocks so that large files never sit in memory."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    block = 64
    for start in range(0, rows, block):
        n = min(block, rows - start)
        out = np.empty((n, size, size, 3), dtype=np.uint8)
        for i in range(n):
            cx, cy = size / 2 + rng.normal(0, size / 20, 2)
            theta = rng.uniform(0, np.pi)
            q = rng.uniform(0.3, 1.0)
            scale = size * rng.uniform(0.04, 0.12)
            dx, dy = xx - cx, yy - cy
            u = dx * np.cos(theta) + dy * np.sin(theta)
            v = (-dx * np.sin(theta) + dy * np.cos(theta)) / q
            profile = np.exp(-np.sqrt(u * u + v * v) / scale)
            colour = rng.uniform(0.5, 1.0, 3).astype(np.float32)
            sky = rng.uniform(8, 20)
            img = sky + 220 * profile[..., None] * colour
            img += rng.normal(0, 10.0, (size, size, 3)).astype(np.float32)
            out[i] = np.clip(img, 0, 255).astype(np.uint8)
        yield start, out


def fixture_columns(rng):
    rows = FIXTURE_ROWS
    ans = np.array([i % 10 for i in range(rows)], dtype=np.uint8)
    ans[BAD_LABEL_ROW] = 10
    ra = np.round(rng.uniform(0, 360, rows), 6)
    dec = np.round(rng.uniform(-30, 60, rows), 6)
    dec[NAN_DEC_ROW] = np.nan
    redshift = np.round(rng.uniform(0.01, 0.2, rows), 5)
    redshift[NAN_REDSHIFT_ROW] = np.nan
    pxscale = np.where(np.arange(rows) % 3 == 2, 0.524, 0.262)
    return ans, ra, dec, redshift, pxscale


def write_file(path, images, columns, libver, image_chunks, column_opts):
    ans, ra, dec, redshift, pxscale = columns
    kwargs = {"libver": libver} if libver else {}
    with h5py.File(path, "w", **kwargs) as f:
        f.create_dataset("images", data=images, chunks=image_chunks,
                         compression="gzip", compression_opts=4)
        f.create_dataset("ans", data=ans, **column_opts)
        f.create_dataset("ra", data=ra, **column_opts)
        f.create_dataset("dec", data=dec, **column_opts)
        f.create_dataset("redshift", data=redshift, **column_opts)
        f.create_dataset("pxscale", data=pxscale, **column_opts)


def json_float(x):
    return None if np.isnan(x) else float(x)


def make_fixtures(out):
    rng = np.random.default_rng(20240601)
    images = next(galaxy_images(rng, FIXTURE_ROWS, FIXTURE_SIZE))[1]
    columns = fixture_columns(rng)
    size = FIXTURE_SIZE
    files = {
        # What h5py writes by default: superblock v0, object header v1,
        # B-tree v1 chunk index; one chunk per image, 1-D columns contiguous.
        "g10_default.h5": dict(libver=None, image_chunks=(1, size, size, 3),
                               column_opts={}),
        # libver='latest': superblock v3, object header v2, layout v4 with a
        # fixed-array chunk index; 1-D columns chunked and compressed too.
        "g10_latest.h5": dict(libver="latest", image_chunks=(1, size, size, 3),
                              column_opts=dict(chunks=(5,), compression="gzip")),
        # Chunks that cut images across rows, rows and channels, with partial
        # chunks at the edges, and shuffled columns.
        "g10_tiled.h5": dict(libver=None, image_chunks=(5, size // 2, size // 2, 2),
                             column_opts=dict(chunks=(8,), compression="gzip",
                                              shuffle=True)),
    }
    for name, spec in files.items():
        write_file(os.path.join(out, name), images, columns, **spec)

    ans, ra, dec, redshift, pxscale = columns
    rows = []
    for i in range(FIXTURE_ROWS):
        reject = None
        if i == BAD_LABEL_ROW:
            reject = "label"
        elif i == NAN_DEC_ROW:
            reject = "dec"
        rows.append({
            "index": i,
            "label": int(ans[i]),
            "ra": json_float(ra[i]),
            "dec": json_float(dec[i]),
            "redshift": json_float(redshift[i]),
            "pxscale": float(pxscale[i]),
            "pixels_sha256": hashlib.sha256(images[i].tobytes()).hexdigest(),
            "reject": reject,
        })
    expected = {
        "files": sorted(files),
        "height": size,
        "width": size,
        "channels": 3,
        "rows": rows,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def make_index_fixtures(out):
    """Files that exercise the HDF5 reader beyond the Galaxy10 layout. Every
    dataset named *_arange holds arange(n) in its type, so the Go tests need
    no expected values."""
    n = 3000
    with h5py.File(os.path.join(out, "index_v0.h5"), "w") as f:
        # 1500 chunks: a B-tree of several levels; Fletcher-32 checksums.
        f.create_dataset("btree_arange", data=np.arange(n, dtype=np.uint16),
                         chunks=(2,), compression="gzip", shuffle=True,
                         fletcher32=True)
        f.create_dataset("be_int32_arange", data=np.arange(20, dtype=">i4"),
                         chunks=(8,))
        # Only the first chunk is ever written.
        sparse = f.create_dataset("sparse", shape=(10,), dtype=np.uint8, chunks=(2,))
        sparse[0:2] = [1, 2]
    with h5py.File(os.path.join(out, "index_latest.h5"), "w", libver="latest") as f:
        # 1500 chunks: a fixed array index of two pages (1024 entries each).
        f.create_dataset("paged_arange", data=np.arange(n, dtype=np.uint16), chunks=(2,))
        f.create_dataset("paged_gzip_arange", data=np.arange(n, dtype=np.uint16),
                         chunks=(2,), compression="gzip")
        # One chunk covering the whole dataset: the single-chunk index.
        f.create_dataset("single_arange", data=np.arange(50, dtype=np.float32),
                         chunks=(50,), compression="gzip")
        # Unfiltered and allocated early: the implicit index.
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((4,))
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        space = h5py.h5s.create_simple((10,))
        h5py.h5d.create(f.id, b"implicit_arange", h5py.h5t.STD_I64LE, space, dcpl)
        f["implicit_arange"][...] = np.arange(10, dtype=np.int64)


def make_bench(path, rows, size):
    rng = np.random.default_rng(7)
    with h5py.File(path, "w") as f:
        images = f.create_dataset("images", shape=(rows, size, size, 3),
                                  dtype=np.uint8, chunks=(1, size, size, 3),
                                  compression="gzip", compression_opts=4)
        for start, block in galaxy_images(rng, rows, size):
            images[start:start + len(block)] = block
        f.create_dataset("ans", data=rng.integers(0, 10, rows, dtype=np.uint8))
        f.create_dataset("ra", data=rng.uniform(0, 360, rows))
        f.create_dataset("dec", data=rng.uniform(-30, 60, rows))
        z = rng.uniform(0.01, 0.2, rows)
        z[rng.random(rows) < 0.1] = np.nan
        f.create_dataset("redshift", data=z)
        f.create_dataset("pxscale", data=np.where(rng.random(rows) < 0.3, 0.524, 0.262))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixtures", help="write the test fixtures")
    fx.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    bench = sub.add_parser("bench", help="write a synthetic benchmark file")
    bench.add_argument("--rows", type=int, required=True)
    bench.add_argument("--size", type=int, default=256)
    bench.add_argument("--out", required=True)
    args = p.parse_args()
    if args.cmd == "fixtures":
        make_fixtures(args.out)
        make_index_fixtures(args.out)
    else:
        make_bench(args.out, args.rows, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
