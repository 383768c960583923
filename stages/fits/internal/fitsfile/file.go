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
	Data    []float32 // FITS order: NAXIS1 varies fastest; nil until the data is read
	rd      *reader   // positioned at the data until it is read
}

// Width, Height and Planes are NAXIS1, NAXIS2 and the product of the
// remaining axes.
func (im *Image) Width() int  { return int(im.Axes[0]) }
func (im *Image) Height() int { return int(im.Axes[1]) }
func (im *Image) Planes() int { return im.Values() / (im.Width() * im.Height()) }

// Values is the number of values in the image's data.
func (im *Image) Values() int { return int(im.DataBytes / int64(im.valueBytes())) }

func (im *Image) valueBytes() int { return max(im.Bitpix, -im.Bitpix) / 8 }

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
//
// ReadImage allocates the values the header announces before reading
// them; ReadImageHeader and ReadData read into a buffer of the caller's.
func ReadImage(r io.Reader, maxBytes int64) (*Image, error) {
	im, err := ReadImageHeader(r, maxBytes)
	if err != nil {
		return nil, err
	}
	if err := im.ReadData(make([]float32, im.Values())); err != nil {
		return nil, err
	}
	return im, nil
}

// ReadImageHeader is ReadImage without the data: it reads HDUs from r up
// to the data of the first image and returns the image with Data nil. Read
// the data next with ReadData, or skip it with Discard.
func ReadImageHeader(r io.Reader, maxBytes int64) (*Image, error) {
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
			return &Image{HDU: *hdu, Primary: primary, rd: rd}, nil
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
	if len(h.Axes) < 2 || h.Axes[0] == 0 || h.Axes[1] == 0 || h.DataBytes == 0 {
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
	if err := hdu.readShape(first.Offset); err != nil {
		return nil, err
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

// readShape reads the mandatory BITPIX, NAXIS and NAXISn keywords; errors
// about a missing one point at the HDU's first card, at first.
func (hdu *HDU) readShape(first int64) error {
	h := hdu.Header
	bitpix, err := mandatoryInt(h, "BITPIX", first)
	if err != nil {
		return err
	}
	switch bitpix {
	case 8, 16, 32, 64, -32, -64:
	default:
		c, _ := h.Get("BITPIX")
		return errorf(c.Offset, "BITPIX = %d: expected 8, 16, 32, 64, -32 or -64", bitpix)
	}
	hdu.Bitpix = int(bitpix)
	naxis, err := mandatoryInt(h, "NAXIS", first)
	if err != nil {
		return err
	}
	if naxis < 0 || naxis > 999 {
		c, _ := h.Get("NAXIS")
		return errorf(c.Offset, "NAXIS = %d: expected 0 to 999", naxis)
	}
	hdu.Axes = make([]int64, naxis)
	for i := range hdu.Axes {
		key := fmt.Sprintf("NAXIS%d", i+1)
		n, err := mandatoryInt(h, key, first)
		if err != nil {
			return err
		}
		if n < 0 {
			c, _ := h.Get(key)
			return errorf(c.Offset, "%s = %d: expected 0 or more", key, n)
		}
		hdu.Axes[i] = n
	}
	return nil
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

// blockBytes is the size of the blocks the data is read in: a multiple of
// every value size.
const blockBytes = 1 << 16

// ReadData reads the image's data, which must come next in the reader
// ReadImageHeader read the header from, into dst, converted to physical
// values block by block, and sets Data to dst. dst must hold Values
// values. A file that ends early, or a malformed BSCALE, BZERO or BLANK,
// is an *Error.
func (im *Image) ReadData(dst []float32) error {
	if len(dst) != im.Values() {
		return fmt.Errorf("fitsfile: a buffer of %d values for an image of %d", len(dst), im.Values())
	}
	if err := im.read(dst); err != nil {
		return err
	}
	im.Data = dst
	return nil
}

// Discard reads past the image's data and returns the error ReadData
// would: for a file that ends early, or a malformed BSCALE, BZERO or BLANK.
func (im *Image) Discard() error { return im.read(nil) }

// CheckSize returns the *Error that reading the data would give when the
// file, of size bytes, ends before the end of the image's data: so that
// no buffer is sized by a header that claims more than the file holds.
func (im *Image) CheckSize(size int64) error {
	if n := size - im.DataOffset; n < im.DataBytes {
		return im.short(max(n, 0))
	}
	return nil
}

func (im *Image) short(n int64) *Error {
	return errorf(im.DataOffset+n, "file ends %d bytes into the image data of %d bytes starting at byte %d", n, im.DataBytes, im.DataOffset)
}

// read reads the data in blocks and converts them into dst, or only
// reads them when dst is nil. An error of the keywords is returned after
// the data is read, so that a short file is reported first.
func (im *Image) read(dst []float32) error {
	phys, perr := newPhysical(&im.HDU)
	size := im.valueBytes()
	block := make([]byte, min(blockBytes, im.DataBytes))
	per := len(block) / size
	for i, n := 0, im.Values(); i < n; i += per {
		k := min(per, n-i)
		b := block[:k*size]
		if m, err := readFull(im.rd, b); err == io.EOF {
			return im.short(int64(i*size + m))
		} else if err != nil {
			return err
		}
		if dst != nil && perr == nil {
			phys.decode(b, dst[i:i+k])
		}
	}
	return perr
}

// readFull reads len(b) bytes; it returns io.EOF when r ends first, with
// the number of bytes read, and any other error of r as it is.
func readFull(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if n == len(b) {
			break
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// physical converts stored values to physical ones.
type physical struct {
	bitpix      int
	scale, zero float64
	blank       int64
	hasBlank    bool
}

// newPhysical reads BSCALE, BZERO and BLANK; BLANK applies to integer
// data only.
func newPhysical(hdu *HDU) (physical, error) {
	h := hdu.Header
	p := physical{bitpix: hdu.Bitpix, scale: 1}
	scale, hasScale, err := h.Float("BSCALE")
	if err != nil {
		return p, err
	}
	if hasScale {
		p.scale = scale
	}
	if p.zero, _, err = h.Float("BZERO"); err != nil {
		return p, err
	}
	if p.blank, p.hasBlank, err = h.Int("BLANK"); err != nil {
		return p, err
	}
	p.hasBlank = p.hasBlank && hdu.Bitpix > 0
	return p, nil
}

// decode converts the big-endian stored values in b to physical float32
// values in out, one per value of b.
func (p physical) decode(b []byte, out []float32) {
	be := binary.BigEndian
	switch p.bitpix {
	case 8:
		for i := range out {
			out[i] = p.integer(int64(b[i])) // unsigned bytes
		}
	case 16:
		for i := range out {
			out[i] = p.integer(int64(int16(be.Uint16(b[2*i:]))))
		}
	case 32:
		for i := range out {
			out[i] = p.integer(int64(int32(be.Uint32(b[4*i:]))))
		}
	case 64:
		for i := range out {
			out[i] = p.integer(int64(be.Uint64(b[8*i:])))
		}
	case -32:
		for i := range out {
			out[i] = float32(p.zero + p.scale*float64(math.Float32frombits(be.Uint32(b[4*i:]))))
		}
	case -64:
		for i := range out {
			out[i] = float32(p.zero + p.scale*math.Float64frombits(be.Uint64(b[8*i:])))
		}
	}
}

func (p physical) integer(v int64) float32 {
	if p.hasBlank && v == p.blank {
		return float32(math.NaN())
	}
	return float32(p.zero + p.scale*float64(v))
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
