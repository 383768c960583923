package fitsfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/astrogo/fitsio"

	"github.com/astroformer/astroformer/stages/fits/internal/fitstest"
)

func card(s string) string { return fmt.Sprintf("%-80s", s) }

// header pads cards and an END card to whole blocks.
func header(cards ...string) string {
	h := strings.Join(cards, "") + card("END")
	return h + strings.Repeat(" ", (BlockSize-len(h)%BlockSize)%BlockSize)
}

func TestParseCard(t *testing.T) {
	for _, tc := range []struct {
		in      string
		key     string
		value   any
		comment string
	}{
		{"SIMPLE  =                    T / conforms", "SIMPLE", true, "conforms"},
		{"NAXIS1  =                  256", "NAXIS1", int64(256), ""},
		{"BZERO   =               -32768", "BZERO", int64(-32768), ""},
		{"CD1_1   = -7.27777777777778E-05 / CD matrix", "CD1_1", -7.27777777777778e-05, "CD matrix"},
		{"CRPIX1  =                128.5", "CRPIX1", 128.5, ""},
		{"CRVAL1  =        1.5D2", "CRVAL1", 150.0, ""},
		{"X       =                  +.5", "X", 0.5, ""},
		{"BANDS   = 'grz     '           / bands", "BANDS", "grz", "bands"},
		{"OBJECT  = 'O''Brien''s'", "OBJECT", "O'Brien's", ""},
		{"EMPTY   = ''", "EMPTY", "", ""},
		{"LEAD    = '  x'", "LEAD", "  x", ""},
		{"UNDEF   =                      / nothing", "UNDEF", nil, "nothing"},
		{"C       = (1.0, -2)", "C", Complex("(1.0, -2)"), ""},
		{"COMMENT = 'not a value'", "COMMENT", nil, "= 'not a value'"},
		{"HISTORY made by hand", "HISTORY", nil, "made by hand"},
		{"NOVALUE   1 2 3", "NOVALUE", nil, "  1 2 3"},
		{"", "", nil, ""},
	} {
		c, err := ParseCard([]byte(card(tc.in)), 160)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if c.Key != tc.key || c.Value != tc.value || c.Comment != tc.comment || c.Offset != 160 {
			t.Errorf("%q: got %q %#v %q @%d, want %q %#v %q", tc.in, c.Key, c.Value, c.Comment, c.Offset, tc.key, tc.value, tc.comment)
		}
	}
}

func TestParseCardErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"naxis   =                    2", `byte 80: keyword "naxis": 'n' is not allowed`},
		{"NAXIS   = 'two", "byte 90: keyword NAXIS: string value has no closing quote"},
		{"NAXIS   =                    2 3", `byte 111: keyword NAXIS: unexpected "3" after the value`},
		{"NAXIS   =                  two", `byte 107: keyword NAXIS: value "two" is not a string, logical`},
		{"BIG     =  99999999999999999999", "integer 99999999999999999999 out of range"},
		{"X       = (1, 2", "complex value has no closing parenthesis"},
		{"X       = 'é'", "byte 91: byte 0xc3 in a header card"},
	} {
		_, err := ParseCard([]byte(card(tc.in))[:80], 80)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseCard([]byte("SHORT"), 0); err == nil {
		t.Error("short card accepted")
	}
}

func TestHeaderAccessors(t *testing.T) {
	h := newHeader()
	for i, s := range []string{"I       = 3", "F       = 2.5", "W       = 4.0", "S       = 'x'", "B       = T", "I       = 9"} {
		c, err := ParseCard([]byte(card(s)), int64(80*i))
		if err != nil {
			t.Fatal(err)
		}
		h.add(c)
	}
	if v, ok, err := h.Int("I"); v != 3 || !ok || err != nil {
		t.Errorf("Int(I) = %v %v %v; the first card wins", v, ok, err)
	}
	if v, ok, err := h.Int("W"); v != 4 || !ok || err != nil {
		t.Errorf("Int(W) = %v %v %v", v, ok, err)
	}
	if _, _, err := h.Int("F"); err == nil || err.Error() != "byte 80: F = 2.5: expected an integer" {
		t.Errorf("Int(F) error %v", err)
	}
	if v, _, err := h.Float("I"); v != 3 || err != nil {
		t.Errorf("Float(I) = %v %v", v, err)
	}
	if _, _, err := h.Float("S"); err == nil || err.Error() != "byte 240: S = 'x': expected a finite number" {
		t.Errorf("Float(S) error %v", err)
	}
	if _, ok, err := h.String("NONE"); ok || err != nil {
		t.Errorf("String(NONE) = %v %v", ok, err)
	}
	if _, _, err := h.String("B"); err == nil {
		t.Error("String(B): no error")
	}
	if v, _, err := h.Bool("B"); !v || err != nil {
		t.Errorf("Bool(B) = %v %v", v, err)
	}
}

func TestReadImageFloatCube(t *testing.T) {
	data := []float32{1, 2, 3, 4, 5, 6, float32(math.NaN()), -1.5, 1e-3, 0, 7, 8}
	b := fitstest.File(t, fitstest.Image(t, -32, []int{2, 2, 3}, data, fitsio.Card{Name: "BANDS", Value: "grz"}))
	im, err := ReadImage(bytes.NewReader(b), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if im.Width() != 2 || im.Height() != 2 || im.Planes() != 3 || im.Index != 0 || im.Bitpix != -32 || im.DataOffset != BlockSize {
		t.Fatalf("image %dx%dx%d HDU %d bitpix %d at %d", im.Width(), im.Height(), im.Planes(), im.Index, im.Bitpix, im.DataOffset)
	}
	for i, v := range data {
		if got := im.Data[i]; got != v && !(math.IsNaN(float64(v)) && math.IsNaN(float64(got))) {
			t.Errorf("pixel %d = %v, want %v", i, got, v)
		}
	}
	if s, _, _ := im.Header.String("BANDS"); s != "grz" || im.Primary != im.Header {
		t.Errorf("BANDS %q", s)
	}
}

// TestReadImageScaled checks BSCALE, BZERO and BLANK on integer data.
// fitsio's own Image.Read returns the stored values unscaled.
func TestReadImageScaled(t *testing.T) {
	b := fitstest.File(t, fitstest.Image(t, 16, []int{3}, []int16{1, -2, -32768}))
	im, err := ReadImage(bytes.NewReader(b), 1<<20)
	if err == nil {
		err = fmt.Errorf("1-D image accepted as %v", im.Axes)
	}
	if !strings.Contains(err.Error(), "no image HDU") {
		t.Fatalf("1-D: %v", err)
	}
	b = fitstest.File(t, fitstest.Image(t, 16, []int{3, 1, 1}, []int16{1, -2, -32768},
		fitsio.Card{Name: "BSCALE", Value: 0.5},
		fitsio.Card{Name: "BZERO", Value: 10.0},
		fitsio.Card{Name: "BLANK", Value: -32768},
	))
	if im, err = ReadImage(bytes.NewReader(b), 1<<20); err != nil {
		t.Fatal(err)
	}
	if im.Data[0] != 10.5 || im.Data[1] != 9 || !math.IsNaN(float64(im.Data[2])) {
		t.Errorf("physical values %v, want [10.5 9 NaN]", im.Data)
	}
	// Unsigned 16-bit data in the BZERO = 32768 convention.
	b = fitstest.File(t, fitstest.Image(t, 16, []int{2, 1}, []int16{-32768, 32767}, fitsio.Card{Name: "BZERO", Value: 32768}))
	if im, err = ReadImage(bytes.NewReader(b), 1<<20); err != nil {
		t.Fatal(err)
	}
	if im.Data[0] != 0 || im.Data[1] != 65535 {
		t.Errorf("unsigned values %v, want [0 65535]", im.Data)
	}
}

func TestReadImageTypes(t *testing.T) {
	for _, tc := range []struct {
		bitpix int
		data   any
		want   [2]float32
	}{
		{8, []byte{0, 255}, [2]float32{0, 255}},
		{32, []int32{-7, 1 << 20}, [2]float32{-7, 1 << 20}},
		{64, []int64{-7, 1 << 40}, [2]float32{-7, 1 << 40}},
		{-64, []float64{-7.25, 1e10}, [2]float32{-7.25, 1e10}},
	} {
		b := fitstest.File(t, fitstest.Image(t, tc.bitpix, []int{2, 1}, tc.data))
		im, err := ReadImage(bytes.NewReader(b), 1<<20)
		if err != nil {
			t.Fatalf("BITPIX %d: %v", tc.bitpix, err)
		}
		if got := [2]float32(im.Data); got != tc.want {
			t.Errorf("BITPIX %d: %v, want %v", tc.bitpix, got, tc.want)
		}
	}
}

func TestReadImageExtension(t *testing.T) {
	b := fitstest.File(t,
		fitstest.Image(t, 8, nil, []byte{}),
		fitstest.Image(t, -32, []int{2, 2}, []float32{1, 2, 3, 4}, fitsio.Card{Name: "EXTNAME", Value: "IMG"}),
	)
	im, err := ReadImage(bytes.NewReader(b), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if im.Index != 1 || im.Extension != "IMAGE" || im.Primary == im.Header || im.Data[3] != 4 {
		t.Errorf("HDU %d %q data %v", im.Index, im.Extension, im.Data)
	}
}

func TestReadImageErrors(t *testing.T) {
	valid := header(card("SIMPLE  =                    T"), card("BITPIX  =                  -32"),
		card("NAXIS   =                    2"), card("NAXIS1  =                    2"), card("NAXIS2  =                    2"))
	for _, tc := range []struct {
		name, in string
		off      int64
		want     string
	}{
		{"empty", "", 0, "empty file"},
		{"html", "<!DOCTYPE html>" + strings.Repeat(" ", 3000), 0, `keyword "<!DOCTYP": '<' is not allowed`},
		{"simple F", header(card("SIMPLE  =                    F")), 0, "SIMPLE = F: not a standard FITS file"},
		{"no bitpix", header(card("SIMPLE  =                    T"), card("NAXIS   =                    0")), 0, "mandatory keyword BITPIX is missing"},
		{"bad bitpix", header(card("SIMPLE  =                    T"), card("BITPIX  =                   12"), card("NAXIS   =                    0")), 80, "BITPIX = 12"},
		{"naxis string", header(card("SIMPLE  =                    T"), card("BITPIX  =                    8"), card("NAXIS   = 'abc'")), 160, "NAXIS = 'abc': expected an integer"},
		{"negative axis", header(card("SIMPLE  =                    T"), card("BITPIX  =                    8"), card("NAXIS   =                    1"), card("NAXIS1  =                   -1")), 240, "NAXIS1 = -1"},
		{"no end", card("SIMPLE  =                    T") + strings.Repeat(" ", BlockSize-80+100), 2880 + 100, "file ends inside a header block"},
		{"short data", valid + strings.Repeat("\x00", 10), 2890, "file ends 10 bytes into the image data of 16 bytes"},
		{"bscale string", header(card("SIMPLE  =                    T"), card("BITPIX  =                    8"), card("NAXIS   =                    2"),
			card("NAXIS1  =                    1"), card("NAXIS2  =                    1"), card("BSCALE  = 'x'")) + "\x00", 400, "BSCALE = 'x': expected a finite number"},
		{"too big", header(card("SIMPLE  =                    T"), card("BITPIX  =                  -64"), card("NAXIS   =                    2"),
			card("NAXIS1  =               100000"), card("NAXIS2  =               100000")), 2880, "larger than the limit"},
		{"overflow", header(card("SIMPLE  =                    T"), card("BITPIX  =                  -64"), card("NAXIS   =                    3"),
			card("NAXIS1  =      100000000000000"), card("NAXIS2  =      100000000000000"), card("NAXIS3  =                    9")), 2880, "data size overflows"},
		{"continue first", header(card("CONTINUE  'x'"), card("SIMPLE  =                    T")), 0, `the first card is "CONTINUE"`},
		{"table only", header(card("SIMPLE  =                    T"), card("BITPIX  =                    8"), card("NAXIS   =                    0")) +
			header(card("XTENSION= 'BINTABLE'"), card("BITPIX  =                    8"), card("NAXIS   =                    2"),
				card("NAXIS1  =                    4"), card("NAXIS2  =                    1"), card("PCOUNT  =                    0"),
				card("GCOUNT  =                    1"), card("ZIMAGE  =                    T")) + strings.Repeat("\x00", 2880), 2880, "tile-compressed"},
	} {
		_, err := ReadImage(strings.NewReader(tc.in), 1<<20)
		var fe *Error
		if !errors.As(err, &fe) || fe.Offset != tc.off || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want *Error at byte %d containing %q", tc.name, err, tc.off, tc.want)
		}
	}
}

func TestContinue(t *testing.T) {
	in := header(card("SIMPLE  =                    T"), card("LONG    = 'abc&'"), card("CONTINUE  'def&'"), card("CONTINUE  'gh' / end"),
		card("BITPIX  =                    8"), card("NAXIS   =                    0"))
	h, err := readHeader(&reader{r: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := h.String("LONG"); s != "abcdefgh" {
		t.Errorf("LONG = %q", s)
	}
}

// FuzzReadImage checks that no input panics or allocates more than the
// limit, and that an image it returns is consistent. The input is header
// text, padded here to whole cards and blocks and closed with an END card,
// followed by data bytes: small inputs keep the fuzzer fast.
func FuzzReadImage(f *testing.F) {
	for _, seed := range []struct {
		cards []string
		data  []byte
	}{
		{[]string{"SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    3",
			"NAXIS1  =                    2", "NAXIS2  =                    1", "NAXIS3  =                    2", "BANDS   = 'gr'"}, make([]byte, 16)},
		{[]string{"SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
			"NAXIS1  =                    2", "NAXIS2  =                    1", "BSCALE  =                  2.0", "BLANK   =                    3"}, []byte{0, 3, 0, 1}},
		{[]string{"SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0", "LONG    = 'ab&'", "CONTINUE  'c'",
			"END", "XTENSION= 'IMAGE   '", "BITPIX  =                    8", "NAXIS   =                    2", "NAXIS1  =                    1",
			"NAXIS2  =                    1", "PCOUNT  =                    0", "GCOUNT  =                    1"}, []byte{7}},
	} {
		var hdr string
		for _, c := range seed.cards {
			hdr += card(c)
		}
		f.Add(hdr, seed.data)
	}
	f.Fuzz(func(t *testing.T, hdr string, data []byte) {
		h := hdr + strings.Repeat(" ", (CardSize-len(hdr)%CardSize)%CardSize) + card("END")
		h += strings.Repeat(" ", (BlockSize-len(h)%BlockSize)%BlockSize)
		im, err := ReadImage(io.MultiReader(strings.NewReader(h), bytes.NewReader(data)), 1<<16)
		if err != nil {
			return
		}
		n := int64(1)
		for _, a := range im.Axes {
			n *= a
		}
		if int64(len(im.Data)) != n || len(im.Axes) < 2 || im.Planes()*im.Width()*im.Height() != len(im.Data) {
			t.Fatalf("axes %v with %d values", im.Axes, len(im.Data))
		}
	})
}

// FuzzParseCard checks that any 80 bytes parse or fail without a panic,
// and that parsed values have one of the documented types.
func FuzzParseCard(f *testing.F) {
	for _, s := range []string{
		"SIMPLE  =                    T", "BANDS   = 'g''r'  / x", "CD1_1   = -7.2D-05", "C       = (1, 2)",
		"HISTORY x", "UNDEF   =", "X       = 1 2",
	} {
		f.Add([]byte(card(s)))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b := make([]byte, CardSize)
		copy(b, in)
		for i := len(in); i < CardSize; i++ {
			b[i] = ' '
		}
		c, err := ParseCard(b, 0)
		if err != nil {
			return
		}
		switch c.Value.(type) {
		case nil, string, bool, int64, float64, Complex:
		default:
			t.Fatalf("value of type %T", c.Value)
		}
	})
}
