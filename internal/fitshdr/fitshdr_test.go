package fitshdr

import (
	"fmt"
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
	if got := readString(data, "CKPT"); got != v {
		t.Errorf("continued value %q, want %q", got, v)
	}
	if !strings.Contains(data, "LONGSTRN= 'OGIP 1.0'") {
		t.Error("no LONGSTRN")
	}
}

// readString reads back the string value of key, with its CONTINUE cards.
func readString(data, key string) string {
	var got strings.Builder
	for i := 0; i+80 <= len(data); i += 80 {
		c := data[i : i+80]
		if !strings.HasPrefix(c, fmt.Sprintf("%-8s= ", key)) && (got.Len() == 0 || !strings.HasPrefix(c, "CONTINUE  ")) {
			if got.Len() > 0 {
				break
			}
			continue
		}
		s := c[10:]
		s = s[1:strings.LastIndex(s, "'")]
		s = strings.TrimRight(s, " ")
		s = strings.ReplaceAll(s, "''", "'")
		next := i+160 <= len(data) && strings.HasPrefix(data[i+80:], "CONTINUE  ")
		if next && strings.HasSuffix(s, "&") {
			s = strings.TrimSuffix(s, "&")
		}
		got.WriteString(s)
		if !next {
			break
		}
	}
	return got.String()
}

// FuzzString checks that any value reads back as its ASCII form, in cards
// of 80 characters.
func FuzzString(f *testing.F) {
	f.Add("short")
	f.Add(strings.Repeat("it's a long value & more ", 9))
	f.Fuzz(func(t *testing.T, v string) {
		h := &Header{}
		h.String("KEY", v, "a comment")
		data := string(h.Bytes())
		if len(data)%Block != 0 {
			t.Fatalf("header of %d bytes", len(data))
		}
		want := strings.TrimRight(ASCII(v), " ") // FITS ignores trailing spaces
		if strings.HasSuffix(want, "&") && len(quote(want)) > maxString {
			return // a continued value cannot end in '&'
		}
		if got := strings.TrimRight(readString(data, "KEY"), " "); got != want {
			t.Fatalf("read back %q, want %q", got, want)
		}
	})
}
