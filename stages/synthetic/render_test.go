package synthetic

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"
)

func render(t *testing.T, opt Options, workers int, first int64, n int) []Object {
	t.Helper()
	objs := make([]Object, n)
	if err := RenderBatch(context.Background(), opt, workers, first, objs); err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestRenderDeterministic(t *testing.T) {
	opt := Options{Seed: 42, Size: 48}
	one := render(t, opt, 1, 100, 40)
	three := render(t, opt, 3, 100, 40)
	r, err := NewRenderer(opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		a, b := one[i], three[i]
		if a.Index != 100+int64(i) || !bytes.Equal(a.Pixels, b.Pixels) || a.Class != b.Class ||
			a.RA != b.RA || a.Dec != b.Dec || a.Redshift != b.Redshift {
			t.Fatalf("object %d differs between 1 and 3 workers", a.Index)
		}
		var c Object
		r.Render(a.Index, &c)
		if !bytes.Equal(a.Pixels, c.Pixels) {
			t.Fatalf("object %d rendered alone differs from the batch", a.Index)
		}
		if len(a.Pixels) != 48*48*Channels {
			t.Fatalf("object %d has %d bytes, want %d", a.Index, len(a.Pixels), 48*48*Channels)
		}
	}
	other := render(t, Options{Seed: 43, Size: 48}, 2, 100, 40)
	same := 0
	for i := range one {
		if bytes.Equal(one[i].Pixels, other[i].Pixels) {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("%d of %d objects identical for seeds 42 and 43", same, len(one))
	}
}

func TestRenderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := RenderBatch(ctx, Options{}, 2, 0, make([]Object, 8)); err != context.Canceled {
		t.Fatalf("RenderBatch on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestOptionsInvalid(t *testing.T) {
	for _, opt := range []Options{
		{Size: 8},
		{Weights: []float64{1, 2}},
		{Weights: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, -1}},
		{Weights: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, math.NaN()}},
		{Weights: make([]float64, NumClasses)},
		{Footprint: Footprint{RAMin: 10, RAMax: 5, DecMax: 1}},
		{Footprint: Footprint{RAMax: 5, DecMin: -95, DecMax: 1}},
	} {
		if _, err := NewRenderer(opt); err == nil {
			t.Errorf("NewRenderer(%+v) succeeded, want an error", opt)
		}
	}
}

func TestClassBalance(t *testing.T) {
	r, err := NewRenderer(Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := Galaxy10Counts()
	var total float64
	for _, w := range want {
		total += w
	}
	for _, n := range []int64{500, int64(total)} {
		var got [NumClasses]float64
		for i := range n {
			got[r.Class(i)]++
		}
		for c := range got {
			if exp := want[c] * float64(n) / total; math.Abs(got[c]-exp) > 3 {
				t.Errorf("first %d objects: %v class %d, want %.1f ± 3", n, got[c], c, exp)
			}
		}
	}
	// A zero weight excludes the class.
	w := make([]float64, NumClasses)
	w[BarredSpiral] = 1
	r, err = NewRenderer(Options{Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(100) {
		if c := r.Class(i); c != BarredSpiral {
			t.Fatalf("object %d is class %d with weight only on %d", i, c, BarredSpiral)
		}
	}
}

func TestFootprint(t *testing.T) {
	fp := Footprint{RAMin: 10, RAMax: 12, DecMin: -30, DecMax: -29}
	for _, o := range render(t, Options{Size: 16, Footprint: fp}, 2, 0, 50) {
		if o.RA < fp.RAMin || o.RA >= fp.RAMax || o.Dec < fp.DecMin || o.Dec > fp.DecMax {
			t.Fatalf("object %d at (%g, %g), outside %+v", o.Index, o.RA, o.Dec, fp)
		}
		if lo, hi := redshiftRange(o.Class); o.Redshift < lo || o.Redshift >= hi {
			t.Fatalf("object %d of class %d at redshift %g, want [%g, %g)", o.Index, o.Class, o.Redshift, lo, hi)
		}
	}
}

// features are hand-made morphology statistics of a cutout, measured on the
// light above the sky within the central region.
type features struct {
	axisRatio     float64 // from the second moments
	size          float64 // sqrt of the trace of the second moments, pixels
	asymmetry     float64 // Σ|I - I rotated 180°| / Σ I about the centroid
	blueness      float64 // Σ blue / Σ red
	concentration float64 // light within 3 px of the centroid / light within 12 px
}

func (f features) vector() []float64 {
	return []float64{f.axisRatio, math.Log(f.size), f.asymmetry, math.Log(f.blueness), f.concentration}
}

func measure(px []uint8, n int) features {
	lum := make([]float64, n*n)
	var border []float64
	for p := range lum {
		lum[p] = float64(px[3*p]) + float64(px[3*p+1]) + float64(px[3*p+2])
		if x, y := p%n, p/n; x < 2 || y < 2 || x >= n-2 || y >= n-2 {
			border = append(border, lum[p])
		}
	}
	slices.Sort(border)
	median := border[len(border)/2]
	for i, v := range border {
		border[i] = math.Abs(v - median)
	}
	slices.Sort(border)
	sky := median + 5*1.48*border[len(border)/2] // 5σ above the sky
	// Keep the light of the pixels above the threshold connected to the
	// brightest pixel near the centre: the galaxy without most stars and
	// background objects.
	c := n / 2
	seed := c*n + c
	for y := c - 4; y <= c+4; y++ {
		for x := c - 4; x <= c+4; x++ {
			if lum[y*n+x] > lum[seed] {
				seed = y*n + x
			}
		}
	}
	mask := make([]bool, n*n)
	stack := []int{seed}
	mask[seed] = true
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := p%n, p/n
		for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			qx, qy := x+d[0], y+d[1]
			if q := qy*n + qx; qx >= 0 && qy >= 0 && qx < n && qy < n && !mask[q] && lum[q] > sky {
				mask[q] = true
				stack = append(stack, q)
			}
		}
	}
	weight := func(x, y int) float64 {
		if !mask[y*n+x] {
			return 0
		}
		return lum[y*n+x] - sky
	}
	var sw, sx, sy, red, blue float64
	for y := range n {
		for x := range n {
			w := weight(x, y)
			sw += w
			sx += w * float64(x)
			sy += w * float64(y)
			if w > 0 {
				red += float64(px[3*(y*n+x)])
				blue += float64(px[3*(y*n+x)+2])
			}
		}
	}
	if sw == 0 {
		return features{axisRatio: 1, size: 1, blueness: 1}
	}
	mx, my := sx/sw, sy/sw
	var xx, yy, xy, asym, inner, outer float64
	for y := range n {
		for x := range n {
			w := weight(x, y)
			dx, dy := float64(x)-mx, float64(y)-my
			xx += w * dx * dx
			yy += w * dy * dy
			xy += w * dx * dy
			rx, ry := int(math.Round(2*mx))-x, int(math.Round(2*my))-y
			if rx >= 0 && ry >= 0 && rx < n && ry < n {
				asym += math.Abs(w - weight(rx, ry))
			} else {
				asym += w
			}
			switch r := math.Hypot(dx, dy); {
			case r <= 3:
				inner += w
				fallthrough
			case r <= 12:
				outer += w
			}
		}
	}
	xx, yy, xy = xx/sw, yy/sw, xy/sw
	mean, diff := (xx+yy)/2, math.Sqrt((xx-yy)*(xx-yy)/4+xy*xy)
	return features{
		axisRatio:     math.Sqrt(math.Max(0, mean-diff) / (mean + diff)),
		size:          math.Sqrt(xx + yy),
		asymmetry:     asym / sw,
		blueness:      (blue + 1) / (red + 1),
		concentration: inner / math.Max(outer, 1),
	}
}

// TestClassesSeparable checks that the classes differ the way their
// definitions say, and that a nearest-centroid classifier on five hand-made
// features is far better than chance.
func TestClassesSeparable(t *testing.T) {
	const perClass = 40
	equal := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	objs := render(t, Options{Seed: 3, Weights: equal}, 0, 0, perClass*NumClasses)
	feats := make([][]features, NumClasses)
	for _, o := range objs {
		feats[o.Class] = append(feats[o.Class], measure(o.Pixels, DefaultSize))
	}
	mean := func(c Class, f func(features) float64) float64 {
		var s float64
		for _, x := range feats[c] {
			s += f(x)
		}
		return s / float64(len(feats[c]))
	}
	q := func(f features) float64 { return f.axisRatio }
	asym := func(f features) float64 { return f.asymmetry }
	blue := func(f features) float64 { return f.blueness }
	for _, order := range [][]Class{
		{RoundSmooth, InBetweenRoundSmooth, CigarShapedSmooth},
		{RoundSmooth, InBetweenRoundSmooth, EdgeOnWithBulge},
		{UnbarredLooseSpiral, EdgeOnWithoutBulge},
	} {
		for i := 1; i < len(order); i++ {
			a, b := mean(order[i-1], q), mean(order[i], q)
			if a < b+0.1 {
				t.Errorf("mean axis ratio of class %d is %.2f, of class %d %.2f: want the first larger by 0.1", order[i-1], a, order[i], b)
			}
		}
	}
	smoothAsym := (mean(RoundSmooth, asym) + mean(InBetweenRoundSmooth, asym) + mean(CigarShapedSmooth, asym)) / 3
	for _, c := range []Class{Disturbed, Merging} {
		if a := mean(c, asym); a < 1.5*smoothAsym {
			t.Errorf("mean asymmetry of class %d is %.2f, of smooth galaxies %.2f: want 1.5× larger", c, a, smoothAsym)
		}
	}
	for _, c := range []Class{Disturbed, BarredSpiral, UnbarredTightSpiral, UnbarredLooseSpiral} {
		if a, b := mean(c, blue), mean(RoundSmooth, blue); a < b+0.05 {
			t.Errorf("mean blue/red of class %d is %.2f, of round smooth %.2f: want bluer", c, a, b)
		}
	}

	// Nearest centroid on standardised features, trained on even objects
	// and tested on odd ones.
	dim := len(features{}.vector())
	var mu, sd = make([]float64, dim), make([]float64, dim)
	for _, o := range objs {
		for k, v := range measure(o.Pixels, DefaultSize).vector() {
			mu[k] += v / float64(len(objs))
			sd[k] += v * v / float64(len(objs))
		}
	}
	for k := range sd {
		sd[k] = math.Sqrt(sd[k] - mu[k]*mu[k])
	}
	centroid := make([][]float64, NumClasses)
	count := make([]float64, NumClasses)
	for c := range centroid {
		centroid[c] = make([]float64, dim)
	}
	std := func(f features) []float64 {
		v := f.vector()
		for k := range v {
			v[k] = (v[k] - mu[k]) / sd[k]
		}
		return v
	}
	for c, fs := range feats {
		for i := 0; i < len(fs); i += 2 {
			for k, v := range std(fs[i]) {
				centroid[c][k] += v
			}
			count[c]++
		}
		for k := range centroid[c] {
			centroid[c][k] /= count[c]
		}
	}
	var right, total int
	for c, fs := range feats {
		for i := 1; i < len(fs); i += 2 {
			v := std(fs[i])
			best, bestD := -1, math.Inf(1)
			for k, cen := range centroid {
				var d float64
				for j := range v {
					d += (v[j] - cen[j]) * (v[j] - cen[j])
				}
				if d < bestD {
					best, bestD = k, d
				}
			}
			if best == c {
				right++
			}
			total++
		}
	}
	acc := float64(right) / float64(total)
	t.Logf("nearest-centroid accuracy on %d held-out cutouts: %.2f (chance 0.10)", total, acc)
	if acc < 0.35 {
		t.Errorf("nearest-centroid accuracy %.2f, want >= 0.35 (chance is 0.10)", acc)
	}
}
