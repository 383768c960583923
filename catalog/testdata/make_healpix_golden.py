#!/usr/bin/python3
"""Write healpix_golden.json, the golden values of the HEALPix tests.

    make_healpix_golden.py [--out FILE]

Uses Debian's python3-healpy (the HEALPix C++ library) as the reference for
catalog.RaDec2Pix and catalog.Pix2RaDec in the nested scheme:

  ang2pix   for orders 0, 1, 2, 5, 10, 18, 29: ra, dec (degrees) -> nested
            pixel, for the poles, the equator, the boundaries between the
            polar caps and the equatorial belt (dec = +-asin(2/3)), face
            corners and edges, ra = 0 and just below 360, and seeded random
            directions uniform on the sphere
  pix2ang   for the same orders: nested pixel -> ra, dec of its centre, for
            the first and last pixels, the pixels of each face corner and
            seeded random pixels

The directions are deterministic (numpy's PCG64 with a fixed seed), so
rerunning the script rewrites the same file. Values are written with repr
precision (17 significant digits).
"""
import argparse
import json
import math
import os

import healpy as hp
import numpy as np

ORDERS = [0, 1, 2, 5, 10, 18, 29]


def directions(rng):
    """Special and random (ra, dec) pairs in degrees."""
    cap = math.degrees(math.asin(2 / 3))
    special = [(0, 90), (123.4, 90), (0, -90), (300, -90), (0, 0), (45, 0), (90, 0),
               (359.9999999, 0), (45, cap), (45, -cap), (45, cap + 1e-9), (45, cap - 1e-9),
               (135, -cap - 1e-9), (0, cap), (90, 89.999999), (270, -89.999999),
               (225, 41.8), (315, -41.8), (180, 0.0000001), (10.5, -0.0000001)]
    n = 200
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return special + list(zip(ra.tolist(), dec.tolist()))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(here, "healpix_golden.json"))
    args = p.parse_args()
    rng = np.random.Generator(np.random.PCG64(20261206))
    dirs = directions(rng)
    ang2pix, pix2ang = [], []
    for order in ORDERS:
        nside = 1 << order
        ra = np.array([d[0] for d in dirs])
        dec = np.array([d[1] for d in dirs])
        pix = hp.ang2pix(nside, ra, dec, nest=True, lonlat=True)
        for r, d, q in zip(ra.tolist(), dec.tolist(), pix.tolist()):
            ang2pix.append({"order": order, "ra": r, "dec": d, "pix": int(q)})
        npix = 12 * nside * nside
        pixels = {0, npix - 1}
        for face in range(12):
            base = face * nside * nside
            pixels.update({base, base + nside * nside - 1})
        pixels.update(int(x) for x in rng.integers(0, npix, 20))
        pixels = sorted(pixels)
        ra_c, dec_c = hp.pix2ang(nside, np.array(pixels), nest=True, lonlat=True)
        for q, r, d in zip(pixels, ra_c.tolist(), dec_c.tolist()):
            pix2ang.append({"order": order, "pix": q, "ra": r, "dec": d})
    with open(args.out, "w") as f:
        f.write('{"generator": %s,\n' % json.dumps("healpy " + hp.__version__))
        for name, rows in (("ang2pix", ang2pix), ("pix2ang", pix2ang)):
            f.write('"%s": [\n' % name)
            f.write(",\n".join(json.dumps(r) for r in rows))
            f.write("\n]%s\n" % ("," if name == "ang2pix" else "}"))


if __name__ == "__main__":
    main()
