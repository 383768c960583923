package evaluate

import (
	"bytes"
	"context"
	"image/png"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromium returns the path of a Chromium binary, or "" when none is
// installed.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// TestReportInChromium renders report.html in headless Chromium, as
// `make report-shot` does for the demo, and checks that the browser draws
// the gallery's embedded cutouts.
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not starting a browser")
	}
	browser := chromium()
	if browser == "" {
		t.Skip("chromium is not installed (Debian: apt-get install --no-install-recommends chromium); report.html is not checked in a browser")
	}
	work := galleryWork(t, 64, 64)
	runStage(t, work, "input = \"catalog\"\noutput = \"report\"\ncutouts = \"cutouts\"")
	page, err := filepath.Abs(filepath.Join(work, "report", ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--window-size=1100,1600", "--screenshot="+shot, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, out)
	}
	img, err := png.Decode(bytes.NewReader(mustRead(t, shot)))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1100 || b.Dy() != 1600 {
		t.Fatalf("screenshot is %dx%d, want 1100x1600", b.Dx(), b.Dy())
	}
	// writeCutouts paints object i in (40·i mod 256, 128, 200): the gallery
	// shows several of them, each over 96×96 pixels.
	painted := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			_, g, bl, _ := img.At(x, y).RGBA()
			if g>>8 == 128 && bl>>8 == 200 {
				painted++
			}
		}
	}
	if painted < 3*96*96 {
		t.Errorf("%d pixels of cutout colour in the screenshot; the gallery's images were not drawn", painted)
	}
}
