package skymap

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// patch adds n positions of 3 classes in ra 355..365 (across 0°), dec 10..14.
func patch(m *Map, n int) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		m.Add(math.Mod(355+10*rng.Float64(), 360), 10+4*rng.Float64(), i%3)
	}
}

func TestWindow(t *testing.T) {
	m := New(1)
	patch(m, 2000)
	w := m.window()
	if w == nil {
		t.Fatal("a 10° patch is drawn on the whole sky")
	}
	if d := math.Abs(math.Mod(w.RA+180, 360) - 180); d > 0.5 || w.HalfWidth < 5 || w.HalfWidth > 7 {
		t.Errorf("window centred on ra %g, half width %g; want about 0 and 5.3", w.RA, w.HalfWidth)
	}
	if w.DecMin > 10 || w.DecMax < 14 {
		t.Errorf("window dec %g..%g does not hold 10..14", w.DecMin, w.DecMax)
	}
	if a := w.Aspect(); a < 1.0/3-1e-9 || a > 1+1e-9 {
		t.Errorf("aspect %g outside [1/3, 1]", a)
	}
	if o := m.displayOrder(w); o >= CountOrder || o < 4 {
		t.Errorf("display order %d for 2000 rows over 40 deg²", o)
	}

	all := New(1)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		all.Add(360*rng.Float64(), math.Asin(2*rng.Float64()-1)*180/math.Pi, 0)
	}
	if w := all.window(); w != nil {
		t.Errorf("the whole sky zoomed to %+v", *w)
	}
	var buf bytes.Buffer
	if s, err := all.Draw(&buf, "sky", []string{"a"}); err != nil || !s.AllSky || !strings.Contains(s.Caption(), "Mollweide") {
		t.Errorf("whole sky: summary %+v, error %v", s, err)
	}
}

func TestAddColumnsAndDraw(t *testing.T) {
	m := New(7)
	patch(m, 100)
	ra, dec, class := array.NewFloat64Builder(memory.DefaultAllocator), array.NewFloat64Builder(memory.DefaultAllocator), array.NewInt16Builder(memory.DefaultAllocator)
	ra.AppendValues([]float64{1, 2, math.NaN(), 3}, []bool{true, false, true, true})
	dec.AppendValues([]float64{11, 12, 13, 95}, nil)
	class.AppendValues([]int16{1, 2, 0, 0}, nil)
	if err := m.AddColumns(ra.NewArray(), dec.NewArray(), class.NewArray()); err != nil {
		t.Fatal(err)
	}
	if m.Positions() != 101 || m.Missing() != 3 {
		t.Errorf("%d positions, %d missing; want 101 and 3 (null ra, NaN ra, dec 95)", m.Positions(), m.Missing())
	}
	if err := m.AddColumns(class.NewArray(), dec.NewArray(), class.NewArray()); err == nil {
		t.Error("an int16 ra column was accepted")
	}
	var buf bytes.Buffer
	s, err := m.Draw(&buf, "sky", []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Fatal(err)
	}
	if s.AllSky || s.Drawn != 101 || !strings.Contains(s.Caption(), "3 rows without ra/dec left off") {
		t.Errorf("summary %+v, caption %q", s, s.Caption())
	}
	if _, err := New(1).Draw(&buf, "sky", []string{"a"}); err == nil {
		t.Error("a map without positions drew")
	}
}

func TestSampleBounded(t *testing.T) {
	m := New(1)
	patch(m, MaxPoints+500)
	if len(m.sample) != MaxPoints || m.Positions() != MaxPoints+500 {
		t.Errorf("sample of %d for %d positions", len(m.sample), m.Positions())
	}
}
