package cifar

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

// pixel is the planar value of channel k at (y, x) in test record rec.
func pixel(rec, k, y, x int) byte { return byte(rec*37 + k*85 + y*3 + x*5) }

// writeRecords writes a CIFAR binary file of records with the given labels.
func writeRecords(t *testing.T, path string, labels [][2]byte, first int) {
	t.Helper()
	var b []byte
	for i, l := range labels {
		b = append(b, l[0], l[1])
		for k := range Channels {
			for y := range Side {
				for x := range Side {
					b = append(b, pixel(first+i, k, y, x))
				}
			}
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// Fine label 3 has no name: that record is rejected.
	writeRecords(t, filepath.Join(dir, TrainFile), [][2]byte{{0, 2}, {1, 0}, {1, 3}}, 0)
	writeRecords(t, filepath.Join(dir, TestFile), [][2]byte{{0, 1}, {1, 2}}, 10)
	must(t, os.WriteFile(filepath.Join(dir, FineNamesFile), []byte("apple\naquarium_fish\nbaby\n\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, CoarseNamesFile), []byte("fruit\nfish\n"), 0o644))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPlanarToHWC(t *testing.T) {
	got := PlanarToHWC([]byte{1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 250, 255}, 4, 3)
	want := []byte{1, 10, 100, 2, 20, 200, 3, 30, 250, 4, 40, 255}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRun(t *testing.T) {
	in := writeFolder(t)
	rows, md, rej, sum := sourcetest.Run(t, Decode, `path = "`+in+`"
output = "cutouts"
workers = 2`)
	want := []struct {
		id, split, source, name string
		label                   int16
		rec                     int
	}{
		{"cifar100-train-00000", "", "train.bin", "baby", 2, 0},
		{"cifar100-train-00001", "", "train.bin", "apple", 0, 1},
		{"cifar100-test-00000", "test", "test.bin", "aquarium_fish", 1, 10},
		{"cifar100-test-00001", "test", "test.bin", "baby", 2, 11},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.ObjectID != w.id || r.Split != w.split || r.Source != w.source || *r.Label != w.label || *r.LabelName != w.name ||
			r.Height != 32 || r.Width != 32 || r.Channels != 3 || r.Bands != "rgb" || *r.Release != "CIFAR-100" {
			t.Errorf("row %d: %s split %q source %s label %d %s %dx%dx%d bands %s", i, r.ObjectID, r.Split, r.Source,
				*r.Label, *r.LabelName, r.Height, r.Width, r.Channels, r.Bands)
		}
		if r.RA != nil || r.Dec != nil || r.PixelScale != nil || r.Survey != nil || r.Redshift != nil || r.Raw != nil {
			t.Errorf("row %d: a column that should be null is set: %+v", i, r)
		}
		for y := range Side {
			for x := range Side {
				for k := range Channels {
					if got, exp := r.Pixels[(y*Side+x)*Channels+k], pixel(w.rec, k, y, x); got != exp {
						t.Fatalf("row %d pixel (%d,%d,%d) = %d, want %d", i, y, x, k, got, exp)
					}
				}
			}
		}
	}
	// The element-wise check above fixes the bytes; the checksum guards the
	// fixture itself.
	if got := sourcetest.SHA256(rows[0].Pixels); got != "d965e746bd580b2554184bb27e2cb95bd99ccfd1f05fb1c8d5fd96c37bd42b71" {
		t.Errorf("pixel checksum of row 0: %s", got)
	}
	if md[MetaClassNames] != `["apple","aquarium_fish","baby"]` || md[MetaLabels] != "fine" {
		t.Errorf("metadata %v", md)
	}
	if len(rej) != 1 || rej[0].Source != "train.bin" || rej[0].Position != "record 2" || rej[0].ObjectID != "cifar100-train-00002" ||
		!strings.Contains(rej[0].Reason, "fine label 3 has no name") {
		t.Errorf("rejects %+v", rej)
	}
	if len(sum) != 2 || !strings.Contains(sum[0], "4 CIFAR-100 cutouts of 32×32") || !strings.Contains(sum[1], "baby 2") {
		t.Errorf("summary %q", sum)
	}
}

func TestRunCoarseResizedTrainSplit(t *testing.T) {
	in := writeFolder(t)
	s := sourcetest.MustDecode(t, Decode, `path = "`+in+`"
output = "c"
labels = "coarse"
train_split = "train"
size = 16
limit = 1`)
	env := sourcetest.Env(t, t.TempDir(), s, nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows, _ := sourcetest.Cutouts(t, env.Path("c"))
	if len(rows) != 2 || rows[0].Split != "train" || *rows[0].LabelName != "fruit" || *rows[1].LabelName != "fruit" || rows[1].Split != "test" {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Height != 16 || len(r.Pixels) != 16*16*3 {
		t.Fatalf("resized to %dx%d with %d bytes", r.Height, r.Width, len(r.Pixels))
	}
	// Each output pixel is the rounded mean of a 2x2 block of record 0.
	for y := range 16 {
		for x := range 16 {
			for k := range 3 {
				var sum int
				for dy := range 2 {
					for dx := range 2 {
						sum += int(pixel(0, k, 2*y+dy, 2*x+dx))
					}
				}
				if got, want := r.Pixels[(y*16+x)*3+k], byte((sum+2)/4); got != want {
					t.Fatalf("pixel (%d,%d,%d) = %d, want %d", y, x, k, got, want)
				}
			}
		}
	}
}

func TestTruncatedFileFails(t *testing.T) {
	in := writeFolder(t)
	f, err := os.OpenFile(filepath.Join(in, TestFile), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.Write([]byte{1, 2, 3})
	must(t, err)
	must(t, f.Close())
	s := sourcetest.MustDecode(t, Decode, `path = "`+in+`"
output = "c"`)
	err = s.Run(context.Background(), sourcetest.Env(t, t.TempDir(), s, nil))
	want := "test.bin: 6151 bytes is not a whole number of 3074-byte records: the record at byte 6148 is truncated (3 of 3074 bytes)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	sourcetest.CheckErrors(t, Decode, map[string]string{
		`labels = "medium"`:   "Invalid labels",
		`train_split = "val"`: "Invalid train_split",
		`size = 4`:            "Invalid size",
		`rejects = "c"`:       "Invalid rejects table",
		`limit = -1`:          "Invalid limit",
	})
	s := sourcetest.MustDecode(t, Decode, "path = \"p\"\noutput = \"c\"")
	p := s.Params().(params)
	if p.Labels != "fine" || p.TrainSplit != "" || p.Size != 0 || p.Rejects != "c_rejects" || p.Inputs == "" {
		t.Errorf("defaults %+v", p)
	}
}
