package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestForwardEmbed checks that the embeddings are what the classifier
// reads: head.fc applied to them gives the logits, which equal Forward's.
func TestForwardEmbed(t *testing.T) {
	s := goldenSpec(t, 32, 32, 4)
	net := newNet(t, s, 5)
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 3*3*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	logits, emb, err := net.ForwardEmbed(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	w := net.EmbeddingWidth()
	if w != s.HeadHidden || len(emb) != 3*w {
		t.Fatalf("embedding width %d, %d values for 3 images; want %d each", w, len(emb), s.HeadHidden)
	}
	plain, err := net.Forward(x, 3)
	if err != nil || !slices.Equal(plain, logits) {
		t.Fatalf("ForwardEmbed's logits differ from Forward's (%v)", err)
	}
	var fcW, fcB []float32
	for _, p := range net.Params() {
		switch p.Name {
		case "head.fc.weight":
			fcW = p.Data
		case "head.fc.bias":
			fcB = p.Data
		}
	}
	for i := range 3 {
		for k := range 4 {
			sum := float64(fcB[k])
			for j := range w {
				sum += float64(fcW[k*w+j]) * float64(emb[i*w+j])
			}
			if d := math.Abs(sum - float64(logits[i*4+k])); d > 1e-4 {
				t.Errorf("image %d class %d: head.fc(embedding) = %g, logit %g", i, k, sum, logits[i*4+k])
			}
		}
		for _, v := range emb[i*w : (i+1)*w] {
			if v < -1 || v > 1 {
				t.Fatalf("embedding value %g outside tanh's range", v)
			}
		}
	}
}
