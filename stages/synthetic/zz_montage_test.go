package synthetic

import (
	"image"
	stdcolor "image/color"
	"image/png"
	"os"
	"testing"
)

func TestZZMontage(t *testing.T) {
	out := os.Getenv("MONTAGE")
	if out == "" {
		t.Skip()
	}
	const per = 6
	r, _ := NewRenderer(Options{Seed: 11, Weights: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}})
	n := 64
	img := image.NewRGBA(image.Rect(0, 0, 2*per*(n+2), 2*NumClasses*(n+2)))
	got := map[Class]int{}
	var obj Object
	for i := int64(0); len(got) < NumClasses*per+100; i++ {
		c := r.Class(i)
		if got[c] >= per {
			if i > 10000 {
				break
			}
			continue
		}
		r.Render(i, &obj)
		col := got[c]
		got[c]++
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				p := obj.Pixels[3*(y*n+x):]
				for k := 0; k < 4; k++ {
					img.Set(2*(col*(n+2)+x)+k%2, 2*(int(c)*(n+2)+y)+k/2, stdcolor.RGBA{p[0], p[1], p[2], 255})
				}
			}
		}
	}
	f, _ := os.Create(out)
	png.Encode(f, img)
	f.Close()
}
