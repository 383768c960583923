package fits

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/stages/fits/internal/fitsfile"
)

func card(s string) string { return fmt.Sprintf("%-80s", s) }

func parse(t testing.TB, cards ...string) *fitsfile.Header {
	t.Helper()
	var text string
	for _, c := range cards {
		text += card(c)
	}
	h, err := fitsfile.ParseHeader([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// gnomonic is the textbook inverse gnomonic projection from standard
// coordinates (xi, eta in degrees of the tangent plane) around (ra0, dec0):
// an independent check of tan.sky.
func gnomonic(ra0, dec0, xi, eta float64) (ra, dec float64) {
	const rad = math.Pi / 180
	x, y, d0 := xi*rad, eta*rad, dec0*rad
	den := math.Cos(d0) - y*math.Sin(d0)
	ra = math.Mod(ra0+math.Atan2(x, den)/rad+360, 360)
	dec = math.Atan2(math.Sin(d0)+y*math.Cos(d0), math.Hypot(x, den)) / rad
	return ra, dec
}

func legacyWCS(ra, dec float64) []string {
	return []string{
		"CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'",
		fmt.Sprintf("CRVAL1  = %20.12f", ra), fmt.Sprintf("CRVAL2  = %20.12f", dec),
		"CRPIX1  =                128.5", "CRPIX2  =                128.5",
		"CD1_1   = -7.27777777777778E-05", "CD1_2   =                   0.",
		"CD2_1   =                   0.", "CD2_2   = 7.27777777777778E-05",
	}
}

func TestTANReferencePixel(t *testing.T) {
	w, why, err := parseTAN(parse(t, legacyWCS(150.25, 2.5)...))
	if w == nil || err != nil {
		t.Fatalf("parseTAN: %q %v", why, err)
	}
	ra, dec, ok := w.sky(128.5, 128.5)
	if !ok || math.Abs(ra-150.25) > 1e-12 || math.Abs(dec-2.5) > 1e-12 {
		t.Errorf("reference pixel at (%v, %v), want (150.25, 2.5)", ra, dec)
	}
	if s, ok := w.scale(); !ok || math.Abs(s-0.262) > 1e-12 {
		t.Errorf("pixel scale %v, want 0.262", s)
	}
	// One degree west along the equator: dRA = atan(-pi/180) exactly.
	w, _, _ = parseTAN(parse(t, legacyWCS(180, 0)...))
	ra, dec, _ = w.sky(128.5+1/7.27777777777778e-05, 128.5)
	if want := 180 + math.Atan(-math.Pi/180)*180/math.Pi; math.Abs(ra-want) > 1e-9 || math.Abs(dec) > 1e-12 {
		t.Errorf("1 deg west: (%.12f, %.12f), want (%.12f, 0)", ra, dec, want)
	}
}

func TestTANAgainstGnomonic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		ra0, dec0 := rng.Float64()*360, rng.Float64()*179.8-89.9
		cd := [4]float64{}
		for i := range cd {
			cd[i] = (rng.Float64() - 0.5) * 1e-3
		}
		h := parse(t, "CTYPE1  = 'RA---TAN-SIP'", "CTYPE2  = 'DEC--TAN-SIP'", "RADESYS = 'ICRS'",
			fmt.Sprintf("CRVAL1  = %.15g", ra0), fmt.Sprintf("CRVAL2  = %.15g", dec0),
			"CRPIX1  = 10.0", "CRPIX2  = 20.0",
			fmt.Sprintf("CD1_1   = %.15g", cd[0]), fmt.Sprintf("CD1_2   = %.15g", cd[1]),
			fmt.Sprintf("CD2_1   = %.15g", cd[2]), fmt.Sprintf("CD2_2   = %.15g", cd[3]))
		w, why, err := parseTAN(h)
		if w == nil {
			t.Fatalf("parseTAN: %q %v", why, err)
		}
		x, y := rng.Float64()*2000-500, rng.Float64()*2000-500
		xi := cd[0]*(x-10) + cd[1]*(y-20)
		eta := cd[2]*(x-10) + cd[3]*(y-20)
		wantRA, wantDec := gnomonic(ra0, dec0, xi, eta)
		ra, dec, ok := w.sky(x, y)
		dra := math.Abs(ra - wantRA)
		dra = min(dra, 360-dra) * math.Cos(wantDec*math.Pi/180)
		if !ok || dra > 1e-9 || math.Abs(dec-wantDec) > 1e-9 || ra < 0 || ra >= 360 {
			t.Fatalf("CRVAL (%v, %v), pixel (%v, %v): (%v, %v), want (%v, %v)", ra0, dec0, x, y, ra, dec, wantRA, wantDec)
		}
	}
}

func TestTANMatrixForms(t *testing.T) {
	base := []string{"CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'", "CRVAL1  = 10.0", "CRVAL2  = 40.0", "CRPIX1  = 1.0", "CRPIX2  = 1.0"}
	s, c := math.Sincos(30 * math.Pi / 180)
	cdelt := []string{"CDELT1  = -0.001", "CDELT2  = 0.002"}
	forms := map[string][]string{
		// CROTA2 = rho: CD = [[CDELT1 cos, -CDELT2 sin], [CDELT1 sin, CDELT2 cos]] of rho.
		"CD": {fmt.Sprintf("CD1_1   = %.17g", -0.001*c), fmt.Sprintf("CD1_2   = %.17g", 0.002*s),
			fmt.Sprintf("CD2_1   = %.17g", 0.001*s), fmt.Sprintf("CD2_2   = %.17g", 0.002*c)},
		"PC": append([]string{fmt.Sprintf("PC1_1   = %.17g", c), fmt.Sprintf("PC1_2   = %.17g", -2*s),
			fmt.Sprintf("PC2_1   = %.17g", 0.5*s), fmt.Sprintf("PC2_2   = %.17g", c)}, cdelt...),
		"CROTA2": append([]string{"CROTA2  = -30.0"}, cdelt...),
	}
	var ref [2]float64
	for i, name := range []string{"CD", "PC", "CROTA2"} {
		w, why, err := parseTAN(parse(t, append(append([]string{}, base...), forms[name]...)...))
		if w == nil {
			t.Fatalf("%s: %q %v", name, why, err)
		}
		ra, dec, _ := w.sky(50, -30)
		if i == 0 {
			ref = [2]float64{ra, dec}
		} else if math.Abs(ra-ref[0]) > 1e-10 || math.Abs(dec-ref[1]) > 1e-10 {
			t.Errorf("%s gives (%v, %v), CD gives %v", name, ra, dec, ref)
		}
	}
}

func TestTANUnsupported(t *testing.T) {
	full := legacyWCS(1, 2)
	for _, tc := range []struct {
		cards []string
		why   string
	}{
		{nil, "no WCS"},
		{[]string{"CTYPE1  = 'RA---SIN'", "CTYPE2  = 'DEC--SIN'"}, "only RA---TAN and DEC--TAN"},
		{[]string{"CTYPE1  = 'GLON-TAN'", "CTYPE2  = 'GLAT-TAN'"}, "only RA---TAN"},
		{append([]string{"RADESYS = 'FK4'"}, full...), `RADESYS = "FK4"`},
		{append([]string{"EQUINOX = 1950.0"}, full...), "EQUINOX = 1950"},
		{full[:3], "CRPIX1 is missing"},
		{full[:6], "neither CDi_j nor CDELT1"},
		{slices.Concat(full[:6], []string{"CD1_1   = 1.0", "CD2_1   = 1.0"}), "singular"},
		{slices.Concat(full[:6], []string{"CDELT1  = 0.0", "CDELT2  = 1.0"}), "CDELT1 or CDELT2 is 0"},
	} {
		w, why, err := parseTAN(parse(t, tc.cards...))
		if w != nil || err != nil || !strings.Contains(why, tc.why) {
			t.Errorf("%q: %v %q %v, want reason %q", tc.cards, w, why, err, tc.why)
		}
	}
	_, _, err := parseTAN(parse(t, "CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'", "CRPIX1  = 'x'", "CRPIX2  = 1", "CRVAL1  = 1", "CRVAL2  = 1"))
	if err == nil || err.Error() != "byte 160: CRPIX1 = 'x': expected a finite number" {
		t.Errorf("string CRPIX1: %v", err)
	}
}

func TestBandNames(t *testing.T) {
	for _, tc := range []struct {
		override string
		cards    []string
		n        int
		want     string
		err      string
	}{
		{"", []string{"BANDS   = 'grz     '"}, 3, "[g r z]", ""},
		{"", []string{"BANDS   = 'g,r,z'", "BAND0   = 'x'"}, 3, "[g r z]", ""},
		{"", []string{"BAND0   = 'g'", "BAND1   = 'r'"}, 2, "[g r]", ""},
		{"", []string{"BANDS   = 'VIS'"}, 1, "[VIS]", ""},
		{"", nil, 2, "[]", ""},
		{"i z", []string{"BANDS   = 'grz'"}, 2, "[i z]", ""},
		{"", []string{"BANDS   = 'grz'"}, 2, "", `byte 0: BANDS = "grz" names 0 bands for 2 image planes`},
		{"", []string{"X       = 1", "BAND0   = 'g'"}, 2, "", "byte 80: BAND0 is set but BAND1 is missing"},
		{"gr", nil, 3, "", `bands = "gr" names 0 bands for 3 image planes`},
		{"", []string{"BANDS   = 3"}, 1, "", "BANDS = 3: expected a string"},
	} {
		got, err := bandNames(tc.override, tc.n, parse(t, tc.cards...))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: error %v, want %q", tc.override, tc.cards, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("%q %q: %q %v, want %s", tc.override, tc.cards, got, err, tc.want)
		}
	}
	// The primary header is the fallback for an extension image.
	got, err := bandNames("", 3, parse(t, "EXTNAME = 'IMAGE'"), parse(t, "BANDS   = 'grz'"))
	if err != nil || fmt.Sprint(got) != "[g r z]" {
		t.Errorf("primary fallback: %q %v", got, err)
	}
	if joinBands([]string{"g", "r"}) != "gr" || joinBands([]string{"VIS", "Y"}) != "VIS,Y" {
		t.Error("joinBands")
	}
}

// TestLegacyScheme checks pixels against values computed independently
// (Python, the legacypipe formula).
func TestLegacyScheme(t *testing.T) {
	s := LegacyScheme()
	bands := []string{"g", "r", "z"}
	planes := [][]float32{{0.1, 0, -1}, {0.2, 0, 0.01}, {0.3, 0, 5}}
	if err := s.Check(bands); err != nil {
		t.Fatal(err)
	}
	got := s.RGB(planes, bands, 1, 3)
	want := []byte{192, 197, 175, 32, 32, 32, 255, 5, 0}
	if string(got) != string(want) {
		t.Errorf("grz pixels %v, want %v", got, want)
	}
	got = s.RGB([][]float32{{0.05, -0.03 / 3.4}}, []string{"r"}, 1, 2)
	if want := []byte{119, 119, 119, 0, 0, 0}; string(got) != string(want) {
		t.Errorf("single band %v, want %v", got, want)
	}
	if err := s.Check([]string{"g", "u"}); err == nil || !strings.Contains(err.Error(), "both drawn in RGB plane 2") {
		t.Errorf("g and u: %v", err)
	}
	if err := s.Check([]string{"y"}); err == nil || !strings.Contains(err.Error(), `band "y" has no colour scale`) {
		t.Errorf("y: %v", err)
	}
	md := s.Metadata()
	if md[MetaRGBScales] != `{"g":[2,6],"i":[0,1],"r":[1,3.4],"u":[2,1.5],"z":[0,2.2]}` || md[MetaRGBM] != "0.03" || md[MetaRGBQ] != "20" {
		t.Errorf("metadata %v", md)
	}
}

// FuzzInterpret feeds arbitrary header text to the header interpretation:
// band names and the WCS must fail cleanly or give sane values.
func FuzzInterpret(f *testing.F) {
	seed := func(cards ...string) string {
		var s string
		for _, c := range cards {
			s += card(c)
		}
		return s
	}
	f.Add(seed(append([]string{"BANDS   = 'grz'"}, legacyWCS(150, 2)...)...), uint8(3))
	f.Add(seed("BAND0   = 'g'", "BAND1   = 'r'", "CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'", "CRVAL1  = 359.9999", "CRVAL2  = 89.99",
		"CRPIX1  = 0.5", "CRPIX2  = 0.5", "CDELT1  = -1e-3", "CDELT2  = 1e-3", "CROTA2  = 45"), uint8(2))
	f.Add(seed("CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'", "CRVAL1  = 1", "CRVAL2  = -90", "CRPIX1  = 1", "CRPIX2  = 1",
		"PC1_1   = 1e300", "CDELT1  = 1e300", "CDELT2  = 1", "LONPOLE = 0"), uint8(1))
	f.Fuzz(func(t *testing.T, text string, planes uint8) {
		h, err := fitsfile.ParseHeader([]byte(text[:len(text)/fitsfile.CardSize*fitsfile.CardSize]))
		if err != nil {
			return
		}
		n := int(planes%4) + 1
		if names, err := bandNames("", n, h); err == nil && names != nil && len(names) != n {
			t.Fatalf("%d names for %d planes", len(names), n)
		}
		w, _, err := parseTAN(h)
		if w == nil || err != nil {
			return
		}
		for _, p := range [][2]float64{{0.5, 0.5}, {128.5, 128.5}, {1e4, -1e4}} {
			ra, dec, ok := w.sky(p[0], p[1])
			if ok && !(ra >= 0 && ra < 360 && dec >= -90 && dec <= 90) {
				t.Fatalf("pixel %v: (%v, %v)", p, ra, dec)
			}
		}
		if s, ok := w.scale(); ok && !(s > 0) {
			t.Fatalf("scale %v", s)
		}
	})
}
