package catalog

import (
	"bufio"
	"encoding/binary"
	"os"

	"github.com/astroformer/astroformer/internal/fitshdr"
)

// writePointMap writes the HATS point map: a FITS file whose BINTABLE
// extension has one int64 column holding the number of rows in every
// HEALPix pixel of order, in the nested scheme, one pixel per table row
// (INDXSCHM IMPLICIT), with the keywords healpy, cdshealpix and hats read
// (PIXTYPE, ORDERING, COORDSYS, NSIDE, FIRSTPIX, LASTPIX). counts holds the
// nonzero pixels; the file is streamed, so memory does not grow with
// 12·4^order. Like the other files of the staging folder, it is flushed to
// disk by artifact.Commit.
func writePointMap(path string, order int, counts map[int64]int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	npix := NPix(order)
	h := fitshdr.Primary().Bytes()
	h = append(h, pointMapHeader(order).Bytes()...)
	_, err = bw.Write(h)
	var cell [8]byte
	for p := int64(0); p < npix && err == nil; p++ {
		binary.BigEndian.PutUint64(cell[:], uint64(counts[p]))
		_, err = bw.Write(cell[:])
	}
	if err == nil {
		_, err = bw.Write(make([]byte, fitshdr.Padding(8*npix)))
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pointMapHeader returns the BINTABLE header of a point map at order.
func pointMapHeader(order int) *fitshdr.Header {
	npix := NPix(order)
	h := &fitshdr.Header{}
	h.String("XTENSION", "BINTABLE", "binary table extension")
	h.Int("BITPIX", 8, "8-bit bytes")
	h.Int("NAXIS", 2, "2-dimensional binary table")
	h.Int("NAXIS1", 8, "width of a row in bytes")
	h.Int("NAXIS2", npix, "one row per pixel")
	h.Int("PCOUNT", 0, "no heap")
	h.Int("GCOUNT", 1, "one group")
	h.Int("TFIELDS", 1, "one column")
	h.String("TTYPE1", "COUNT", "rows in the pixel")
	h.String("TFORM1", "K", "int64")
	h.String("EXTNAME", "POINT_MAP", "")
	h.String("PIXTYPE", "HEALPIX", "HEALPix pixelisation")
	h.String("ORDERING", "NESTED", "pixel ordering scheme")
	h.String("COORDSYS", "C", "celestial (equatorial, ICRS) coordinates")
	h.Int("NSIDE", NSide(order), "resolution parameter")
	h.Int("ORDER", int64(order), "HEALPix order, log2(NSIDE)")
	h.String("INDXSCHM", "IMPLICIT", "the row is the pixel")
	h.Int("FIRSTPIX", 0, "first pixel")
	h.Int("LASTPIX", npix-1, "last pixel")
	h.String("OBJECT", "FULLSKY", "")
	return h
}
