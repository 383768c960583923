package fitsfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// HDU is the header of one header-data unit and the layout of its data.
type HDU struct {
	Index      int    // 0 for the primary HDU
	Extension  string // XTENSION value; "" for the primary HDU
	Header     *Header
	Bitpix     int
	Axes       []int64 // NAXIS1, NAXIS2, …
	DataOffset int64   // byte offset of the data
	DataBytes  int64   // size of the data without its padding
}

// Image is the pixel data of an image HDU as physical values:
// BZERO + BSCALE × stored value, with BLANK (integer data) read as NaN.
type Image struct {
	HDU
	Primary *Header   // the primary header; the same as Header when the image is the primary HDU
	Data    []float32 // FITS order: NAXIS1 varies fastest
}

// Width, Height and Planes are NAXIS1, NAXIS2 and the product of the
// remaining axes.
func (im *Image) Width() int  { return int(im.Axes[0]) }
func (im *Image) Height() int { return int(im.Axes[1]) }
func (im *Image) Planes() int { return len(im.Data) / (im.Width() * im.Height()) }

// reader counts the bytes consumed from an io.Reader.
type reader struct {
	r   io.Reader
	off int64
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.off += int64(n)
	return n, err
}

// skip discards n bytes; a short file is an *Error at its end.
func (r *reader) skip(n int64, what string) error {
	start := r.off
	m, err := io.CopyN(io.Discard, r, n)
	if err == io.EOF {
		return errorf(start+m, "file ends %d bytes into %s of %d bytes starting at byte %d", m, what, n, start)
	}
	return err
}

// ReadImage reads HDUs from r until the first image with at least two
// non-empty axes: the primary HDU or an IMAGE extension. Axes after the
// second must multiply to the number of planes. The data may not exceed
// maxBytes. A malformed header, an unsupported BITPIX, or a file that ends
// early is an *Error; a file without such an image is an error too.
func ReadImage(r io.Reader, maxBytes int64) (*Image, error) {
	rd := &reader{r: r}
	var primary *Header
	for index := 0; ; index++ {
		hdu, err := readHDU(rd, index)
		if err == io.EOF {
			if index == 0 {
				return nil, errorf(0, "empty file")
			}
			return nil, fmt.Errorf("no image HDU with two or more non-empty axes among the %d HDUs", index)
		}
		if err != nil {
			return nil, err
		}
		if index == 0 {
			primary = hdu.Header
		}
		if hdu.isImage() {
			if hdu.DataBytes > maxBytes {
				return nil, errorf(hdu.DataOffset, "image data of %d bytes is larger than the limit of %d", hdu.DataBytes, maxBytes)
			}
			data, err := readData(rd, hdu)
			if err != nil {
				return nil, err
			}
			return &Image{HDU: *hdu, Primary: primary, Data: data}, nil
		}
		if z, _, _ := hdu.Header.Bool("ZIMAGE"); z {
			return nil, errorf(hdu.Header.Cards[0].Offset, "HDU %d is a tile-compressed image (ZIMAGE = T), which is not supported; uncompress it with funpack", index)
		}
		if err := rd.skip(padded(hdu.DataBytes), fmt.Sprintf("the data of HDU %d", index)); err != nil {
			return nil, err
		}
	}
}

func (h *HDU) isImage() bool {
	if h.Extension != "" && h.Extension != "IMAGE" {
		return false
	}
	if len(h.Axes) < 2 || h.DataBytes == 0 {
		return false
	}
	return !h.randomGroups()
}

func (h *HDU) randomGroups() bool {
	g, _, _ := h.Header.Bool("GROUPS")
	return h.Index == 0 && g && len(h.Axes) > 0 && h.Axes[0] == 0
}

func padded(n int64) int64 { return (n + BlockSize - 1) / BlockSize * BlockSize }

// readHDU reads the header of one HDU and checks its mandatory keywords. It
// returns io.EOF when the file ends cleanly before the HDU.
func readHDU(rd *reader, index int) (*HDU, error) {
	h, err := readHeader(rd)
	if err != nil {
		return nil, err
	}
	hdu := &HDU{Index: index, Header: h, DataOffset: rd.off}
	first := h.Cards[0]
	if index == 0 {
		if first.Key != "SIMPLE" {
			return nil, errorf(first.Offset, "the first card is %q, expected SIMPLE = T: not a FITS file", first.Key)
		}
		if b, ok := first.Value.(bool); !ok || !b {
			return nil, errorf(first.Offset, "SIMPLE = %s: not a standard FITS file", show(first.Value))
		}
	} else {
		if first.Key != "XTENSION" {
			return nil, errorf(first.Offset, "HDU %d starts with %q, expected XTENSION", index, first.Key)
		}
		s, ok := first.Value.(string)
		if !ok || s == "" {
			return nil, errorf(first.Offset, "XTENSION = %s: expected the extension type", show(first.Value))
		}
		hdu.Extension = s
	}
	bitpix, err := mandatoryInt(h, "BITPIX", first.Offset)
	if err != nil {
		return nil, err
	}
	switch bitpix {
	case 8, 16, 32, 64, -32, -64:
	default:
		c, _ := h.Get("BITPIX")
		return nil, errorf(c.Offset, "BITPIX = %d: expected 8, 16, 32, 64, -32 or -64", bitpix)
	}
	hdu.Bitpix = int(bitpix)
	naxis, err := mandatoryInt(h, "NAXIS", first.Offset)
	if err != nil {
		return nil, err
	}
	if naxis < 0 || naxis > 999 {
		c, _ := h.Get("NAXIS")
		return nil, errorf(c.Offset, "NAXIS = %d: expected 0 to 999", naxis)
	}
	hdu.Axes = make([]int64, naxis)
	for i := range hdu.Axes {
		key := fmt.Sprintf("NAXIS%d", i+1)
		n, err := mandatoryInt(h, key, first.Offset)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			c, _ := h.Get(key)
			return nil, errorf(c.Offset, "%s = %d: expected 0 or more", key, n)
		}
		hdu.Axes[i] = n
	}
	pcount, gcount := int64(0), int64(1)
	if index > 0 || hdu.randomGroups() {
		for _, k := range []struct {
			key string
			dst *int64
		}{{"PCOUNT", &pcount}, {"GCOUNT", &gcount}} {
			v, ok, err := h.Int(k.key)
			if err != nil {
				return nil, err
			}
			if ok {
				if v < 0 {
					c, _ := h.Get(k.key)
					return nil, errorf(c.Offset, "%s = %d: expected 0 or more", k.key, v)
				}
				*k.dst = v
			}
		}
	}
	size, err := dataBytes(hdu, pcount, gcount)
	if err != nil {
		return nil, err
	}
	hdu.DataBytes = size
	return hdu, nil
}

func mandatoryInt(h *Header, key string, off int64) (int64, error) {
	v, ok, err := h.Int(key)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errorf(off, "mandatory keyword %s is missing from the header starting here", key)
	}
	return v, nil
}

// dataBytes is |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn),
// skipping NAXIS1 for random groups; 0 without axes.
func dataBytes(hdu *HDU, pcount, gcount int64) (int64, error) {
	if len(hdu.Axes) == 0 {
		return 0, nil
	}
	const limit = math.MaxInt64 / 8
	axes := hdu.Axes
	if hdu.randomGroups() {
		axes = axes[1:]
	}
	n := int64(1)
	for _, a := range axes {
		if a != 0 && n > limit/a {
			return 0, errorf(hdu.DataOffset, "data size overflows: axes %v", hdu.Axes)
		}
		n *= a
	}
	if n > limit-pcount || (gcount != 0 && n+pcount > limit/gcount) {
		return 0, errorf(hdu.DataOffset, "data size overflows: axes %v, PCOUNT %d, GCOUNT %d", hdu.Axes, pcount, gcount)
	}
	n = (n + pcount) * gcount
	bytesPer := int64(hdu.Bitpix / 8)
	if bytesPer < 0 {
		bytesPer = -bytesPer
	}
	if n > limit/bytesPer {
		return 0, errorf(hdu.DataOffset, "data size overflows: axes %v", hdu.Axes)
	}
	return n * bytesPer, nil
}

// readHeader reads header blocks up to and including the one with END.
func readHeader(rd *reader) (*Header, error) {
	h := newHeader()
	block := make([]byte, BlockSize)
	for {
		start := rd.off
		n, err := io.ReadFull(rd, block)
		if err == io.EOF && len(h.Cards) == 0 {
			return nil, io.EOF
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				if len(h.Cards) == 0 && allZero(block[:n]) {
					// Trailing zero bytes after the last HDU are tolerated.
					return nil, io.EOF
				}
				return nil, errorf(start+int64(n), "file ends inside a header block (%d of %d bytes) before the END card", n, BlockSize)
			}
			return nil, err
		}
		if len(h.Cards) == 0 && allZero(block) {
			return nil, io.EOF
		}
		for i := 0; i < BlockSize; i += CardSize {
			off := start + int64(i)
			c, err := ParseCard(block[i:i+CardSize], off)
			if err != nil {
				return nil, err
			}
			if c.Key == "END" {
				if strings.TrimSpace(c.Comment) != "" || c.Value != nil {
					return nil, errorf(off, "END card with content after the keyword")
				}
				if len(h.Cards) == 0 {
					return nil, errorf(off, "header without cards before END")
				}
				return h, nil
			}
			if c.Key == "CONTINUE" && continueString(h, c) {
				continue
			}
			if len(h.Cards) == 0 && c.Key == "" && c.Comment == "" {
				return nil, errorf(off, "header starts with a blank card: not a FITS header")
			}
			if len(h.Cards) >= maxCards {
				return nil, errorf(off, "more than %d cards in one header", maxCards)
			}
			h.add(c)
		}
	}
}

// continueString appends a CONTINUE card's string to the previous card's
// string value when that ends with '&' (the long-string convention) and
// reports whether it did.
func continueString(h *Header, c Card) bool {
	if len(h.Cards) == 0 {
		return false
	}
	last := &h.Cards[len(h.Cards)-1]
	prev, ok := last.Value.(string)
	if !ok || !strings.HasSuffix(prev, "&") {
		return false
	}
	// A CONTINUE card has no "= ": its value starts in byte 11.
	text := c.Comment
	if len(text) < 2 {
		return false
	}
	v, _, err := parseValue([]byte(fmt.Sprintf("%-70s", text[2:])), c.Offset+10)
	s, isStr := v.(string)
	if err != nil || !isStr {
		return false
	}
	last.Value = strings.TrimSuffix(prev, "&") + s
	return true
}

func allZero(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0
}

// readData reads the data of an image HDU and converts it to physical
// values. Only the bytes present are allocated, so a header that claims
// more than the file holds does not cost memory.
func readData(rd *reader, hdu *HDU) ([]float32, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(hdu.DataBytes, 1<<20)))
	n, err := buf.ReadFrom(io.LimitReader(rd, hdu.DataBytes))
	if err != nil {
		return nil, err
	}
	if n < hdu.DataBytes {
		return nil, errorf(hdu.DataOffset+n, "file ends %d bytes into the image data of %d bytes starting at byte %d", n, hdu.DataBytes, hdu.DataOffset)
	}
	h := hdu.Header
	scale, hasScale, err := h.Float("BSCALE")
	if err != nil {
		return nil, err
	}
	if !hasScale {
		scale = 1
	}
	zero, _, err := h.Float("BZERO")
	if err != nil {
		return nil, err
	}
	blank, hasBlank, err := h.Int("BLANK")
	if err != nil {
		return nil, err
	}
	if hdu.Bitpix < 0 {
		hasBlank = false // BLANK applies to integer data only
	}
	return decode(buf.Bytes(), hdu.Bitpix, scale, zero, blank, hasBlank), nil
}

// decode converts big-endian stored values to physical float32 values.
func decode(b []byte, bitpix int, scale, zero float64, blank int64, hasBlank bool) []float32 {
	size := bitpix / 8
	if size < 0 {
		size = -size
	}
	out := make([]float32, len(b)/size)
	be := binary.BigEndian
	phys := func(i int, v int64) {
		if hasBlank && v == blank {
			out[i] = float32(math.NaN())
			return
		}
		out[i] = float32(zero + scale*float64(v))
	}
	for i := range out {
		p := b[i*size:]
		switch bitpix {
		case 8:
			phys(i, int64(p[0])) // unsigned bytes
		case 16:
			phys(i, int64(int16(be.Uint16(p))))
		case 32:
			phys(i, int64(int32(be.Uint32(p))))
		case 64:
			phys(i, int64(be.Uint64(p)))
		case -32:
			out[i] = float32(zero + scale*float64(math.Float32frombits(be.Uint32(p))))
		case -64:
			out[i] = float32(zero + scale*math.Float64frombits(be.Uint64(p)))
		}
	}
	return out
}

// ParseHeader parses header text: whole 80-byte cards up to an END card or
// the end of text, with offsets counted from the start of text. It applies
// the long-string convention like ReadImage but checks no mandatory
// keywords.
func ParseHeader(text []byte) (*Header, error) {
	h := newHeader()
	for off := 0; off < len(text); off += CardSize {
		if len(text)-off < CardSize {
			return nil, errorf(int64(off), "%d bytes left, less than a card", len(text)-off)
		}
		c, err := ParseCard(text[off:off+CardSize], int64(off))
		if err != nil {
			return nil, err
		}
		if c.Key == "END" {
			break
		}
		if c.Key == "CONTINUE" && continueString(h, c) {
			continue
		}
		h.add(c)
	}
	return h, nil
}
