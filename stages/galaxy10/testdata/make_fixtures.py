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
      datasets exercise the reader's other chunk indexes and filters, and
      everything the appended job writes.

  make_fixtures.py appended [--out DIR]
      Writes only the fixtures of datasets that grow (maxshape None) written
      with libver='latest', the way survey pipelines append in batches:
      g10_appended.h5 and g10_appended_gzip.h5 (Galaxy10 layout, the first
      dimension unlimited: chunks indexed by an extensible array), their
      expected_appended.json (as expected.json) and index_unlimited.h5
      (several unlimited dimensions: version 2 B-tree chunk indexes). These
      files record no timestamps, so rerunning rewrites them byte for byte;
      the older libver='latest' fixtures do record them, which is why this
      job exists: it leaves those files alone.

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


def fixture_columns(rng, rows=FIXTURE_ROWS):
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

    write_expected(os.path.join(out, "expected.json"), sorted(files), images, columns)


def write_expected(path, files, images, columns):
    """Write the expected values of fixtures holding images and columns."""
    ans, ra, dec, redshift, pxscale = columns
    rows = []
    for i in range(len(ans)):
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
        "files": files,
        "height": images.shape[1],
        "width": images.shape[2],
        "channels": 3,
        "rows": rows,
    }
    with open(path, "w") as f:
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


# The appended fixtures: enough rows, in chunks small enough, that the
# extensible array of every dataset outgrows its index block (4 elements and
# data blocks of 16, 32, 64 and 128 more) and needs secondary blocks: 300
# one-row chunks per column, 600 image chunks. Tiny images keep them small.
APPENDED_ROWS = 300
APPENDED_SIZE = 4
APPENDED_BATCHES = (1, 6, 45, 64, 100, 84)  # rows added by each resize
# Two chunks down an image of 4 rows: the second one is a partial edge.
APPENDED_IMAGE_CHUNKS = (1, 3, APPENDED_SIZE, 3)


def create_untimed(path):
    """Create an HDF5 file with libver='latest' whose objects, the root
    group included, record no modification times, so that the same data
    always make the same bytes."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    return h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl))


def append_rows(dataset, data, batches):
    """Grow dataset along its first dimension and write data, a batch of
    rows at a time, the way a pipeline appends what each job produced."""
    start = 0
    for n in batches:
        dataset.resize(start + n, axis=0)
        dataset[start:start + n] = data[start:start + n]
        start += n
    assert start == len(data)


def write_appended_file(path, images, columns, compress):
    """A Galaxy10-layout file whose datasets all start empty with an
    unlimited first dimension and grow by APPENDED_BATCHES."""
    opts = dict(compression="gzip", compression_opts=4) if compress else {}
    with create_untimed(path) as f:
        names = ["images", "ans", "ra", "dec", "redshift", "pxscale"]
        for name, data in zip(names, (images,) + tuple(columns)):
            chunks = APPENDED_IMAGE_CHUNKS if name == "images" else (1,)
            extra = dict(shuffle=True) if compress and name != "images" else {}
            d = f.create_dataset(name, shape=(0,) + data.shape[1:], dtype=data.dtype,
                                 maxshape=(None,) + data.shape[1:], chunks=chunks,
                                 track_times=False, **opts, **extra)
            append_rows(d, data, APPENDED_BATCHES)


def make_appended_fixtures(out):
    rng = np.random.default_rng(20240602)
    size = APPENDED_SIZE
    images = np.concatenate([b for _, b in galaxy_images(rng, APPENDED_ROWS, size)])
    columns = fixture_columns(rng, APPENDED_ROWS)
    files = {"g10_appended.h5": False, "g10_appended_gzip.h5": True}
    for name, compress in files.items():
        write_appended_file(os.path.join(out, name), images, columns, compress)
    write_expected(os.path.join(out, "expected_appended.json"), sorted(files), images, columns)
    make_unlimited_index_fixtures(out)


def grow(f, name, dtype, final, maxshape, chunks, steps, **opts):
    """Create dataset name of shape (0, ...) and grow it to final in steps
    (a list of shapes), writing arange values (element i of the C-order
    flattening of final holds i) into the part each step adds."""
    want = np.arange(np.prod(final), dtype=dtype).reshape(final)
    start = tuple(0 if m is None else s for m, s in zip(maxshape, final))
    d = f.create_dataset(name, shape=start, dtype=dtype, maxshape=maxshape,
                         chunks=chunks, track_times=False, **opts)
    for shape in list(steps) + [final]:
        old = d.shape
        d.resize(shape)
        # Write only what the resize added: the new rows, then the new
        # columns of the old rows.
        d[old[0]:shape[0], ...] = want[old[0]:shape[0], :shape[1]]
        if len(shape) > 1 and shape[1] > old[1]:
            d[:old[0], old[1]:shape[1]] = want[:old[0], old[1]:shape[1]]
    return d


def make_unlimited_index_fixtures(out):
    """index_unlimited.h5: datasets named *_arange hold arange(n) in C order
    in their type, reshaped to their shape, like those of index_latest.h5."""
    with create_untimed(os.path.join(out, "index_unlimited.h5")) as f:
        # Two unlimited dimensions: a version 2 B-tree of 16 × 14 = 224
        # chunks, more than one leaf holds (84 unfiltered, 67 filtered), so
        # the root is an internal node. Partial chunks at both far edges.
        steps = [(3, 5), (10, 5), (10, 20), (25, 30)]
        grow(f, "btree2_arange", np.uint16, (31, 41), (None, None), (2, 3), steps)
        grow(f, "btree2_gzip_arange", "<i4", (31, 41), (None, None), (2, 3), steps,
             compression="gzip", shuffle=True)
        # One unlimited dimension that is not the first: the extensible
        # array orders chunks with that dimension first.
        grow(f, "earray_dim1_arange", np.uint16, (6, 50), (6, None), (4, 2),
             [(6, 3), (6, 21)])
        # Fixed dimensions below their maximum: chunks are numbered over the
        # grid of the maximum shape (4 chunks across), not the current (2).
        grow(f, "earray_maxdim_arange", "<f8", (20, 5), (None, 11), (2, 3),
             [(4, 5), (9, 5)])
        # Chunks never written: undefined addresses in the extensible array
        # and data blocks never allocated.
        sparse = f.create_dataset("earray_sparse", shape=(0,), maxshape=(None,),
                                  dtype=np.uint8, chunks=(2,), track_times=False)
        sparse.resize((400,))
        sparse[0:4] = [1, 2, 3, 4]
        sparse[380:382] = [5, 6]


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
    ap = sub.add_parser("appended", help="write only the appended-dataset fixtures")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    bench = sub.add_parser("bench", help="write a synthetic benchmark file")
    bench.add_argument("--rows", type=int, required=True)
    bench.add_argument("--size", type=int, default=256)
    bench.add_argument("--out", required=True)
    args = p.parse_args()
    if args.cmd == "fixtures":
        make_fixtures(args.out)
        make_index_fixtures(args.out)
        make_appended_fixtures(args.out)
    elif args.cmd == "appended":
        make_appended_fixtures(args.out)
    else:
        make_bench(args.out, args.rows, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
