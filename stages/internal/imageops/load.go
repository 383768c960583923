package imageops

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for Load
	_ "image/png"  // register PNG for Load
	"io"
	"os"
)

// MaxPixels bounds the width×height that Load accepts, so that a corrupt or
// hostile header cannot make it allocate gigabytes.
const MaxPixels = 1 << 26

// Load decodes the JPEG or PNG file at path (the format is recognised from
// its content, not its name). Images over MaxPixels are refused before
// their pixels are decoded.
func Load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decode(f)
}

func decode(f io.ReadSeeker) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("not a JPEG or PNG image: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%s image of %d×%d pixels is larger than %d pixels", format, cfg.Width, cfg.Height, MaxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	return img, nil
}
