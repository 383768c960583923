package catalog_test

import (
	"fmt"
	"math"

	"github.com/astroformer/astroformer/catalog"
)

// HEALPix indexes in the NESTED scheme, as HATS partitions catalogs: a
// pixel of order k contains the four pixels of order k+1 numbered 4p to
// 4p+3, so a position's pixel at a coarser order is its index shifted
// right by two bits per order.
func ExampleRaDec2Pix() {
	const order = 4 // 3,072 pixels of about 3.7 degrees
	for _, g := range []struct {
		name    string
		ra, dec float64
	}{{"M 101", 210.802, 54.349}, {"NGC 1300", 49.921, -19.411}} {
		pix := catalog.RaDec2Pix(order, g.ra, g.dec)
		ra, dec := catalog.Pix2RaDec(order, pix)
		fmt.Printf("%s: pixel %d of %d at order %d (centre %.2f, %+.2f); pixel %d at order 2\n",
			g.name, pix, catalog.NPix(order), order, ra, dec, catalog.ParentPix(pix, order, 2))
	}
	fmt.Printf("order %d pixels are %.2f degrees across\n", order, catalog.Resolution(order)*180/math.Pi)
	// Output:
	// M 101: pixel 714 of 3072 at order 4 (centre 213.75, +54.34); pixel 44 at order 2
	// NGC 1300: pixel 2266 of 3072 at order 4 (centre 47.81, -19.47); pixel 141 at order 2
	// order 4 pixels are 3.66 degrees across
}
