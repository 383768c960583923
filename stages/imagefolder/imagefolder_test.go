package imagefolder

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

// val is the test pattern: channel k of pixel (x, y) of image seed.
func val(seed, x, y, k int) byte { return byte(seed + 7*x + 3*y + 50*k) }

func pattern(w, h, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: val(seed, x, y, 0), G: val(seed, x, y, 1), B: val(seed, x, y, 2), A: 255})
		}
	}
	return img
}

// halved is the expected 8×8 area resize of the 16×16 square of pattern
// seed starting at column x0: rounded means of 2×2 blocks.
func halved(seed, x0 int) []byte {
	var out []byte
	for y := range 8 {
		for x := range 8 {
			for k := range 3 {
				s := int(val(seed, x0+2*x, 2*y, k)) + int(val(seed, x0+2*x+1, 2*y, k)) +
					int(val(seed, x0+2*x, 2*y+1, k)) + int(val(seed, x0+2*x+1, 2*y+1, k))
				out = append(out, byte((s+2)/4))
			}
		}
	}
	return out
}

// makeFolder writes a class-per-subfolder tree of 16×16 (and one 20×16)
// images. Pattern values stay below 256 so that no channel wraps.
func makeFolder(t *testing.T) string {
	root := t.TempDir()
	sourcetest.WriteFile(t, filepath.Join(root, "spiral/b.png"), sourcetest.PNG(t, pattern(16, 16, 1)))
	sourcetest.WriteFile(t, filepath.Join(root, "spiral/deeper/a.PNG"), sourcetest.PNG(t, pattern(20, 16, 2)))
	sourcetest.WriteFile(t, filepath.Join(root, "spiral/notes.txt"), []byte("ignored"))
	sourcetest.WriteFile(t, filepath.Join(root, "spiral/.hidden.png"), []byte("ignored"))
	sourcetest.WriteFile(t, filepath.Join(root, "elliptical/broken.png"), []byte("\x89PNG\r\n\x1a\nbroken"))
	gray := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i)
	}
	sourcetest.WriteFile(t, filepath.Join(root, "elliptical/g.png"), sourcetest.PNG(t, gray))
	sourcetest.WriteFile(t, filepath.Join(root, "loose.png"), sourcetest.PNG(t, pattern(16, 16, 3)))
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, pattern(16, 16, 4), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	sourcetest.WriteFile(t, filepath.Join(root, "spiral/c.jpeg"), jb.Bytes())
	return root
}

func TestFolderClasses(t *testing.T) {
	root := makeFolder(t)
	rows, md, rej, sum := sourcetest.Run(t, Decode, `path = "`+root+`"
output = "cutouts"
size = 8
bands = "grz"
pixel_scale = 0.262
survey = "DECaLS"
workers = 2`)
	grayWant := make([]byte, 0, 8*8*3)
	for y := range 8 {
		for x := range 8 {
			s := 0
			for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				s += (2*y+d[1])*16 + 2*x + d[0]
			}
			v := byte((s + 2) / 4)
			grayWant = append(grayWant, v, v, v)
		}
	}
	want := []struct {
		id, name string
		label    int16
		pixels   []byte // nil: JPEG, checked approximately
	}{
		{"elliptical/g.png", "elliptical", 0, grayWant},
		{"spiral/b.png", "spiral", 1, halved(1, 0)},
		{"spiral/c.jpeg", "spiral", 1, nil},
		{"spiral/deeper/a.PNG", "spiral", 1, halved(2, 2)}, // 20 wide: columns 2 to 17
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.ObjectID != w.id || r.Source != w.id || *r.Label != w.label || *r.LabelName != w.name || r.Split != "" ||
			r.Height != 8 || r.Width != 8 || r.Channels != 3 || r.Bands != "grz" || *r.Survey != "DECaLS" || r.Release != nil {
			t.Errorf("row %d: %s label %v %v split %q %dx%dx%d", i, r.ObjectID, *r.Label, *r.LabelName, r.Split, r.Height, r.Width, r.Channels)
		}
		if r.PixelScale == nil || *r.PixelScale != 0.262*2 {
			t.Errorf("row %d: pixel_scale %v, want 0.524", i, r.PixelScale)
		}
		if r.RA != nil || r.Dec != nil || r.Raw != nil {
			t.Errorf("row %d: ra, dec or raw set", i)
		}
		if w.pixels == nil {
			exp := halved(4, 0)
			for j := range exp {
				if d := int(r.Pixels[j]) - int(exp[j]); d < -12 || d > 12 {
					t.Fatalf("row %d byte %d: %d, JPEG of %d", i, j, r.Pixels[j], exp[j])
				}
			}
		} else if !bytes.Equal(r.Pixels, w.pixels) {
			t.Errorf("row %d pixels\n got %v\nwant %v", i, r.Pixels, w.pixels)
		}
	}
	if md[MetaClassNames] != `["elliptical","spiral"]` {
		t.Errorf("class names %q", md[MetaClassNames])
	}
	if len(rej) != 2 ||
		rej[0].Source != "loose.png" || rej[0].Reason != "image is not inside a class folder" ||
		rej[1].Source != "elliptical/broken.png" || rej[1].ObjectID != "elliptical/broken.png" || !strings.Contains(rej[1].Reason, "not a JPEG or PNG image") {
		t.Errorf("rejects %+v", rej)
	}
	if !strings.Contains(sum[0], "4 cutouts of 8×8") || sum[1] != "  elliptical 1 · spiral 3" {
		t.Errorf("summary %q", sum)
	}
}

func TestFolderUnlabelled(t *testing.T) {
	root := makeFolder(t)
	rows, md, rej, _ := sourcetest.Run(t, Decode, `path = "`+root+`"
output = "cutouts"
labels = "none"
extensions = [".png"]
split = "test"`)
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ObjectID)
		if r.Label != nil || r.LabelName != nil || r.Split != "test" || r.Height != DefaultSize || r.PixelScale != nil {
			t.Errorf("row %s: label %v split %q size %d", r.ObjectID, r.Label, r.Split, r.Height)
		}
	}
	// Lexical walk order; a.PNG matches ".png" regardless of case.
	if got := strings.Join(ids, ","); got != "elliptical/g.png,loose.png,spiral/b.png,spiral/deeper/a.PNG" {
		t.Errorf("ids %s", got)
	}
	if _, ok := md[MetaClassNames]; ok || len(rej) != 1 {
		t.Errorf("metadata %v, rejects %+v", md, rej)
	}
}

func TestManifestCSV(t *testing.T) {
	root := makeFolder(t)
	sourcetest.WriteFile(t, filepath.Join(root, "list.csv"), []byte(
		"path,object_id,ra,dec,label_name\n"+
			"spiral/b.png,NGC 1,150.5,2.25,spiral\n"+
			"elliptical/g.png,,,,elliptical\n"+
			"missing.png,M3,1,1,spiral\n"))
	rows, md, rej, _ := sourcetest.Run(t, Decode, `path = "`+filepath.Join(root, "list.csv")+`"
output = "cutouts"
size = 8`)
	if len(rows) != 2 || len(rej) != 1 {
		t.Fatalf("%d rows, %d rejects", len(rows), len(rej))
	}
	r := rows[0]
	if r.ObjectID != "NGC 1" || r.Source != "spiral/b.png" || *r.RA != 150.5 || *r.Dec != 2.25 || *r.Label != 1 || *r.LabelName != "spiral" ||
		!bytes.Equal(r.Pixels, halved(1, 0)) {
		t.Errorf("row 0: %+v", r)
	}
	r = rows[1]
	if r.ObjectID != "elliptical/g.png" || r.RA != nil || r.Dec != nil || *r.Label != 0 {
		t.Errorf("row 1: %s ra %v label %v", r.ObjectID, r.RA, *r.Label)
	}
	if md[MetaClassNames] != `["elliptical","spiral"]` {
		t.Errorf("class names %q", md[MetaClassNames])
	}
	if x := rej[0]; x.Source != "missing.png" || x.Position != "list.csv line 4" || x.ObjectID != "M3" || !strings.Contains(x.Reason, "no such file") {
		t.Errorf("reject %+v", x)
	}
}

func TestManifestParquet(t *testing.T) {
	root := makeFolder(t)
	type row struct {
		Path  string `parquet:"path"`
		Label *int32 `parquet:"label,optional"`
	}
	three := int32(3)
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	if _, err := w.Write([]row{{Path: filepath.Join(root, "spiral/b.png"), Label: &three}, {Path: "elliptical/g.png"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sourcetest.WriteFile(t, filepath.Join(root, "m.parquet"), buf.Bytes())
	rows, md, _, _ := sourcetest.Run(t, Decode, `path = "`+filepath.Join(root, "m.parquet")+`"
output = "cutouts"
size = 8`)
	if len(rows) != 2 || rows[0].ObjectID != "spiral/b.png" || *rows[0].Label != 3 || rows[0].LabelName != nil || rows[1].Label != nil {
		t.Fatalf("rows %+v", rows)
	}
	if _, ok := md[MetaClassNames]; ok {
		t.Errorf("class names without names: %v", md)
	}
}

func TestDecodeErrors(t *testing.T) {
	sourcetest.CheckErrors(t, Decode, map[string]string{
		`labels = "files"`:     "Invalid labels",
		`size = 0`:             "Invalid size",
		`split = "dev"`:        "Invalid split",
		`extensions = []`:      "Invalid extensions",
		`extensions = ["png"]`: "Invalid extensions",
		`pixel_scale = -1`:     "Invalid pixel_scale",
		`bands = ""`:           "Empty bands",
	})
}

func TestManifestErrorFailsRun(t *testing.T) {
	dir := t.TempDir()
	sourcetest.WriteFile(t, filepath.Join(dir, "m.csv"), []byte("path,ra,dec\na.png,x,1\n"))
	s := sourcetest.MustDecode(t, Decode, `path = "`+filepath.Join(dir, "m.csv")+`"
output = "c"`)
	err := s.Run(context.Background(), sourcetest.Env(t, t.TempDir(), s, nil))
	if err == nil || !strings.Contains(err.Error(), `m.csv: line 2, column ra: "x" is not a number`) {
		t.Errorf("error %v", err)
	}
}
