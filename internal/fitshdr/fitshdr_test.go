package fitshdr

import (
	"strings"
	"testing"
)

// TestLongString checks the CONTINUE convention: the pieces, quotes
// undoubled, join to the value.
func TestLongString(t *testing.T) {
	v := "/data/runs/" + strings.Repeat("galaxy10-'decals'-astroformer_0/", 4) + "best.safetensors"
	h := &Header{}
	h.String("CKPT", v, "checkpoint file")
	data := string(h.Bytes())
	if len(data)%Block != 0 {
		t.Fatalf("header of %d bytes", len(data))
	}
	var got strings.Builder
	for i := 0; i+80 <= len(data); i += 80 {
		c := data[i : i+80]
		if !strings.HasPrefix(c, "CKPT    = ") && !strings.HasPrefix(c, "CONTINUE  ") {
			continue
		}
		s := c[10:]
		s = s[1:strings.LastIndex(s, "'")]
		s = strings.TrimRight(s, " ")
		s = strings.ReplaceAll(s, "''", "'")
		got.WriteString(strings.TrimSuffix(s, "&"))
	}
	if got.String() != v {
		t.Errorf("continued value %q, want %q", got.String(), v)
	}
	if !strings.Contains(data, "LONGSTRN= 'OGIP 1.0'") {
		t.Error("no LONGSTRN")
	}
}
