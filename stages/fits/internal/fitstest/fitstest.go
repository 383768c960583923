// Package fitstest writes FITS files with fitsio, a writer independent of
// the fits stage's own reader, for the tests of the fits stage and of
// fitsfile.
package fitstest

import (
	"bytes"
	"testing"

	"github.com/astrogo/fitsio"
)

// File returns a FITS file of the HDUs that hdus write, in order. An error
// stops the test.
func File(t testing.TB, hdus ...func(f *fitsio.File)) []byte {
	t.Helper()
	var buf bytes.Buffer
	f, err := fitsio.Create(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdus {
		h(f)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Image returns a writer of an image HDU of bitpix, axes and data, with
// cards in its header, for File.
func Image(t testing.TB, bitpix int, axes []int, data any, cards ...fitsio.Card) func(f *fitsio.File) {
	return func(f *fitsio.File) {
		img := fitsio.NewImage(bitpix, axes)
		if len(cards) > 0 {
			if err := img.Header().Append(cards...); err != nil {
				t.Fatal(err)
			}
		}
		if err := img.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := f.Write(img); err != nil {
			t.Fatal(err)
		}
	}
}
