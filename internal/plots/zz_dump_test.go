package plots

import (
	"math"
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	f, _ := os.Create("/tmp/pl/conf.png")
	names := []string{"Disturbed Galaxies", "Merging Galaxies", "Round Smooth Galaxies", "In-between Round Smooth Galaxies", "Cigar Shaped Smooth Galaxies", "Barred Spiral Galaxies", "Unbarred Tight Spiral Galaxies", "Unbarred Loose Spiral Galaxies", "Edge-on Galaxies without Bulge", "Edge-on Galaxies with Bulge"}
	c := make([][]int64, 10)
	for i := range c {
		c[i] = make([]int64, 10)
		for j := range c[i] {
			c[i][j] = int64((i*7+j*3)%5)
		}
		c[i][i] = 150 + int64(i*5)
	}
	if err := Confusion(f, "confusion matrix (test, n=1774)", names, c); err != nil { t.Fatal(err) }
	f.Close()
	bins := make([]ReliabilityBin, 15)
	for i := range bins {
		lo, hi := float64(i)/15, float64(i+1)/15
		bins[i] = ReliabilityBin{Lower: lo, Upper: hi}
		if i >= 3 {
			bins[i].Count = int64(10 * i * i)
			bins[i].Confidence = (lo + hi) / 2
			bins[i].Accuracy = math.Min(1, (lo+hi)/2-0.08)
		}
	}
	f, _ = os.Create("/tmp/pl/rel.png")
	if err := Reliability(f, "reliability (ECE 0.050)", bins); err != nil { t.Fatal(err) }
	f.Close()
	epochs := []float64{1, 2, 3, 4, 5}
	panels := []Panel{
		{Title: "loss", XLabel: "epoch", Lines: []Line{
			{Label: "train", X: epochs, Y: []float64{2.1, 1.5, math.NaN(), 0.9, 0.8}},
			{Label: "val", X: epochs, Y: []float64{2.0, 1.6, 1.2, 1.1, 1.0}},
		}},
		{Title: "top-1", XLabel: "epoch", Lines: []Line{{Label: "val", X: epochs, Y: []float64{.2, .4, .6, .7, .75}}}},
		{Title: "learning rate", XLabel: "epoch", LogY: true, Lines: []Line{{Label: "lr", X: epochs, Y: []float64{0, 1e-4, 1e-3, 5e-4, 1e-5}}}},
	}
	f, _ = os.Create("/tmp/pl/curves.png")
	if err := Curves(f, panels); err != nil { t.Fatal(err) }
	f.Close()
}
