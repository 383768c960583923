package synthetic

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestZZEndToEnd(t *testing.T) {
	if os.Getenv("E2E") == "" {
		t.Skip()
	}
	s, _ := decode(t, "output = \"cutouts\"\ncount = 10000")
	env := newEnv(t, t.TempDir(), s)
	t0 := time.Now()
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Logf("stage: 10000 cutouts in %v", time.Since(t0))
	objs := make([]Object, 10000)
	t0 = time.Now()
	RenderBatch(context.Background(), Options{Seed: 1}, 0, 0, objs)
	t.Logf("render only: 10000 cutouts in %v", time.Since(t0))
}
