package fits

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astrogo/fitsio"

	"github.com/astroformer/astroformer/stages/fits/internal/fitstest"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

// writeFITS writes a one-HDU FITS file with fitsio, gzip-compressed when
// the name ends in ".gz".
func writeFITS(t *testing.T, path string, bitpix int, axes []int, data any, cards ...fitsio.Card) {
	t.Helper()
	b := fitstest.File(t, fitstest.Image(t, bitpix, axes, data, cards...))
	if strings.HasSuffix(path, ".gz") {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	sourcetest.WriteFile(t, path, b)
}

func wcsCards(ra, dec, crpix1, crpix2 float64) []fitsio.Card {
	return []fitsio.Card{
		{Name: "CTYPE1", Value: "RA---TAN"}, {Name: "CTYPE2", Value: "DEC--TAN"},
		{Name: "CRVAL1", Value: ra}, {Name: "CRVAL2", Value: dec},
		{Name: "CRPIX1", Value: crpix1}, {Name: "CRPIX2", Value: crpix2},
		{Name: "CD1_1", Value: -0.262 / 3600}, {Name: "CD1_2", Value: 0.0},
		{Name: "CD2_1", Value: 0.0}, {Name: "CD2_2", Value: 0.262 / 3600},
	}
}

// flux is the test cube: band k at FITS pixel (x, y), 0-based.
func flux(k, x, y int) float32 { return 0.02*float32(k+1) + 0.003*float32(y*4+x) - 0.01 }

// cube returns the 4×4×3 test cube in FITS order, with a NaN at band g,
// FITS pixel (0, 0).
func cube() []float32 {
	var d []float32
	for k := range 3 {
		for y := range 4 {
			for x := range 4 {
				d = append(d, flux(k, x, y))
			}
		}
	}
	d[0] = float32(math.NaN())
	return d
}

// flipped returns plane k of the cube in output order (row 0 = FITS row 3)
// with the NaN set to 0.
func flipped(k int) []float32 {
	var out []float32
	for r := range 4 {
		for x := range 4 {
			v := flux(k, x, 3-r)
			if k == 0 && x == 0 && r == 3 {
				v = 0
			}
			out = append(out, v)
		}
	}
	return out
}

func floatsLE(planes ...[]float32) []byte {
	var b []byte
	for _, p := range planes {
		for _, v := range p {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b
}

func TestRunFolder(t *testing.T) {
	dir := t.TempDir()
	writeFITS(t, filepath.Join(dir, "cube.fits"), -32, []int{4, 4, 3}, cube(),
		append(wcsCards(150.25, 2.5, 2.5, 2.5), fitsio.Card{Name: "BANDS", Value: "grz"})...)
	// Stored -50..50: physical 0.05 + 0.001 × stored.
	writeFITS(t, filepath.Join(dir, "sub", "single.FITS.gz"), 16, []int{3, 2}, []int16{-50, 0, 50, 10, 20, 30},
		fitsio.Card{Name: "BSCALE", Value: 0.001}, fitsio.Card{Name: "BZERO", Value: 0.05}, fitsio.Card{Name: "BAND0", Value: "r"})
	bad := card("SIMPLE  =                    T") + card("BITPIX  = 'x'") + card("END")
	if err := os.WriteFile(filepath.Join(dir, "bad.fits"), []byte(bad+strings.Repeat(" ", 2880-len(bad))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, md, rej, sum := sourcetest.Run(t, Decode, `path = "`+dir+`"
output = "cutouts"
keep_raw = true
survey = "DECaLS"
workers = 2`)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}

	c := rows[0]
	if c.ObjectID != "cube" || c.Source != "cube.fits" || c.Height != 4 || c.Width != 4 || c.Channels != 3 || c.Bands != "grz" ||
		*c.Survey != "DECaLS" || c.Release != nil || c.Label != nil || c.Split != "" {
		t.Errorf("cube row: %s %s %dx%dx%d %s", c.ObjectID, c.Source, c.Height, c.Width, c.Channels, c.Bands)
	}
	// The output centre is CRPIX: the position is CRVAL.
	if c.RA == nil || math.Abs(*c.RA-150.25) > 1e-9 || math.Abs(*c.Dec-2.5) > 1e-9 || math.Abs(*c.PixelScale-0.262) > 1e-9 {
		t.Errorf("cube position %v %v scale %v", c.RA, c.Dec, c.PixelScale)
	}
	wantRaw := floatsLE(flipped(0), flipped(1), flipped(2))
	if !bytes.Equal(c.Raw, wantRaw) {
		t.Errorf("cube raw differs")
	}
	want := LegacyScheme().RGB([][]float32{flipped(0), flipped(1), flipped(2)}, []string{"g", "r", "z"}, 4, 4)
	if !bytes.Equal(c.Pixels, want) {
		t.Errorf("cube pixels\n got %v\nwant %v", c.Pixels, want)
	}
	if got := sourcetest.SHA256(c.Pixels); got != "12389260887b5cc76d459598ab001ed6f522c7854b594dce3bc45a2937c91731" {
		t.Errorf("cube pixel checksum %s", got)
	}

	g := rows[1]
	if g.ObjectID != "sub/single" || g.Source != "sub/single.FITS.gz" || g.Height != 2 || g.Width != 3 || g.Bands != "r" ||
		g.RA != nil || g.Dec != nil || g.PixelScale != nil {
		t.Errorf("single row: %s %s %dx%d %s ra %v scale %v", g.ObjectID, g.Source, g.Height, g.Width, g.Bands, g.RA, g.PixelScale)
	}
	if c.NonFinite == nil || *c.NonFinite != 1 || g.NonFinite == nil || *g.NonFinite != 0 {
		t.Errorf("nonfinite_values: cube %v, single %v; want 1 (the cube's NaN) and 0", deref(c.NonFinite), deref(g.NonFinite))
	}
	phys := []float32{0.06, 0.07, 0.08, 0, 0.05, 0.1} // FITS row 1 first
	for i, v := range phys {
		got := math.Float32frombits(binary.LittleEndian.Uint32(g.Raw[4*i:]))
		if math.Abs(float64(got-v)) > 1e-6 {
			t.Errorf("single raw[%d] = %v, want %v", i, got, v)
		}
	}
	for i := 0; i < len(g.Pixels); i += 3 {
		if g.Pixels[i] != g.Pixels[i+1] || g.Pixels[i] != g.Pixels[i+2] {
			t.Fatalf("single band pixel %d not gray: %v", i/3, g.Pixels[i:i+3])
		}
	}
	// r = 0.05 gives 119 (TestLegacyScheme); r = 0 gives 32 (the offset M).
	if g.Pixels[3*4] != 119 || g.Pixels[3*3] != 32 {
		t.Errorf("single band pixels %v", g.Pixels)
	}

	if len(rej) != 1 || rej[0].Source != "bad.fits" || rej[0].Position != "byte 80" || rej[0].ObjectID != "bad" ||
		rej[0].Reason != "BITPIX = 'x': expected an integer" {
		t.Errorf("rejects %+v", rej)
	}
	if md[MetaOrientation] != Orientation || md[MetaRGBQ] != "20" || md[MetaClassNames] != "" {
		t.Errorf("metadata %v", md)
	}
	all := strings.Join(sum, "\n")
	if !strings.Contains(all, "2 FITS cutouts") || !strings.Contains(all, "1 non-finite flux values set to 0 in 1 cutouts") ||
		!strings.Contains(all, "1 cutouts without ra/dec: no WCS") {
		t.Errorf("summary:\n%s", all)
	}
}

func TestRunManifestBands(t *testing.T) {
	dir := t.TempDir()
	d := cube()
	for k, b := range []string{"g", "r", "z"} {
		writeFITS(t, filepath.Join(dir, "A-"+b+".fits"), -32, []int{4, 4}, d[16*k:16*(k+1)], wcsCards(10, 20, 2.5, 2.5)...)
	}
	writeFITS(t, filepath.Join(dir, "small-g.fits"), -32, []int{2, 2}, []float32{1, 2, 3, 4})
	writeFITS(t, filepath.Join(dir, "small-r.fits"), -32, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	writeFITS(t, filepath.Join(dir, "cube.fits"), -32, []int{4, 4, 3}, d, fitsio.Card{Name: "BANDS", Value: "grz"})
	m := "path,object_id,band,ra,dec,label_name\n" +
		"A-r.fits,A,r,,,\n" + // bands keep the manifest's order
		"A-g.fits,A,g,12.5,-7.25,spiral\n" +
		"cube.fits,B,,,,elliptical\n" +
		"A-z.fits,A,z,,,\n" +
		"small-g.fits,S,g,,,\n" +
		"small-r.fits,S,r,,,\n"
	if err := os.WriteFile(filepath.Join(dir, "list.csv"), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, md, rej, _ := sourcetest.Run(t, Decode, `path = "`+filepath.Join(dir, "list.csv")+`"
output = "cutouts"`)
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	a, b := rows[0], rows[1]
	if a.ObjectID != "A" || a.Bands != "rgz" || *a.RA != 12.5 || *a.Dec != -7.25 || *a.LabelName != "spiral" || *a.Label != 1 || a.Source != "A-r.fits" {
		t.Errorf("row A: %s bands %s ra %v label %v %v", a.ObjectID, a.Bands, *a.RA, *a.Label, *a.LabelName)
	}
	if b.ObjectID != "B" || b.Bands != "grz" || b.RA != nil || *b.Label != 0 || b.PixelScale != nil {
		t.Errorf("row B: %s %s %v %v", b.ObjectID, b.Bands, b.RA, *b.Label)
	}
	// Per-band files and the cube hold the same fluxes: same colours.
	if !bytes.Equal(a.Pixels, b.Pixels) {
		t.Errorf("per-band pixels differ from the cube's")
	}
	if md[MetaClassNames] != `["elliptical","spiral"]` {
		t.Errorf("class names %q", md[MetaClassNames])
	}
	if len(rej) != 1 || rej[0].ObjectID != "S" || rej[0].Source != "small-r.fits" ||
		rej[0].Reason != "band r is 2×3 pixels, band g 2×2" || rej[0].Position != "list.csv line 6" {
		t.Errorf("rejects %+v", rej)
	}
}

func TestRunCropResize(t *testing.T) {
	dir := t.TempDir()
	// 9×8: the centred 8×8 square drops the last column; its centre is
	// FITS pixel (4.5, 4.5), half a pixel west of CRPIX (5, 4.5).
	nine := make([]float32, 9*8)
	for i := range nine {
		nine[i] = float32(i%9) * 0.01
	}
	writeFITS(t, filepath.Join(dir, "a.fits"), -32, []int{9, 8}, nine, wcsCards(100, 30, 5, 4.5)...)
	sixteen := make([]float32, 16*16)
	for i := range sixteen {
		sixteen[i] = float32(i) * 1e-3
	}
	writeFITS(t, filepath.Join(dir, "b.fits"), -32, []int{16, 16}, sixteen, wcsCards(100, 30, 8.5, 8.5)...)
	rows, _, rej, _ := sourcetest.Run(t, Decode, `path = "`+filepath.Join(dir, "*.fits")+`"
output = "cutouts"
size = 8
bands = "i"
keep_raw = true
split = "test"`)
	if len(rows) != 2 || len(rej) != 0 {
		t.Fatalf("%d rows, %d rejects", len(rows), len(rej))
	}
	a, b := rows[0], rows[1]
	wantRA, wantDec := gnomonic(100, 30, -0.5*-0.262/3600, 0)
	if a.ObjectID != "a" || a.Height != 8 || a.Width != 8 || a.Split != "test" || a.Bands != "i" ||
		math.Abs(*a.RA-wantRA) > 1e-10 || math.Abs(*a.Dec-wantDec) > 1e-10 || math.Abs(*a.PixelScale-0.262) > 1e-9 {
		t.Errorf("row a: %s %dx%d ra %.10f dec %.10f (want %.10f %.10f) scale %v", a.ObjectID, a.Height, a.Width, *a.RA, *a.Dec, wantRA, wantDec, *a.PixelScale)
	}
	if got := math.Float32frombits(binary.LittleEndian.Uint32(a.Raw[4*7:])); got != 0.07 {
		t.Errorf("row a: last kept column holds %v, want 0.07", got)
	}
	if math.Abs(*b.RA-100) > 1e-10 || math.Abs(*b.Dec-30) > 1e-10 || math.Abs(*b.PixelScale-0.524) > 1e-9 {
		t.Errorf("row b: ra %v dec %v scale %v", *b.RA, *b.Dec, *b.PixelScale)
	}
	// Raw pixel (row 0, col 0) is the mean of FITS rows 15 and 14, columns 0 and 1.
	want := (sixteen[15*16] + sixteen[15*16+1] + sixteen[14*16] + sixteen[14*16+1]) / 4
	if got := math.Float32frombits(binary.LittleEndian.Uint32(b.Raw)); math.Abs(float64(got-want)) > 1e-7 || len(b.Raw) != 8*8*4 {
		t.Errorf("row b raw[0] = %v, want %v (%d bytes)", got, want, len(b.Raw))
	}
}

func TestRunSingleFileFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "one.fits")
	hdr := card("SIMPLE  =                    T") + card("BITPIX  =                  -32") + card("NAXIS   = 'abc'") + card("END")
	if err := os.WriteFile(path, []byte(hdr+strings.Repeat(" ", 2880-len(hdr))), 0o644); err != nil {
		t.Fatal(err)
	}
	s := sourcetest.MustDecode(t, Decode, `path = "`+path+`"
output = "cutouts"`)
	err := s.Run(context.Background(), sourcetest.Env(t, t.TempDir(), s, nil))
	if want := path + ": byte 160: NAXIS = 'abc': expected an integer"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	// A readable single file without band names fails with the reason.
	writeFITS(t, path, -32, []int{2, 2, 2}, make([]float32, 8))
	err = s.Run(context.Background(), sourcetest.Env(t, t.TempDir(), s, nil))
	if err == nil || !strings.Contains(err.Error(), "one.fits: 2 image planes without band names") {
		t.Errorf("no bands: %v", err)
	}
}

func TestDecode(t *testing.T) {
	s := sourcetest.MustDecode(t, Decode, "path = \"p\"\noutput = \"c\"\nrgb_scales = { g = [0, 1.5], y = [1, 2] }\nrgb_q = 8")
	p := s.Params().(params)
	if p.RGBScales["g"] != (Scale{0, 1.5}) || p.RGBScales["y"] != (Scale{1, 2}) || p.RGBScales["z"] != (Scale{0, 2.2}) ||
		p.RGBQ != 8 || p.RGBM != 0.03 || p.Size != 0 || p.KeepRaw || p.Rejects != "c_rejects" {
		t.Errorf("params %+v", p)
	}
	sourcetest.CheckErrors(t, Decode, map[string]string{
		`rgb_scales = { g = [3, 1] }`: "Invalid rgb_scales",
		`rgb_scales = { g = [1] }`:    "Invalid rgb_scales",
		`rgb_q = 0`:                   "Invalid rgb_q",
		`size = 5`:                    "Invalid size",
		`split = "all"`:               "Invalid split",
		`keep_raw = 3`:                "Unsuitable value type",
	})
}

func deref(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}
