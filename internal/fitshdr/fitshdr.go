// Package fitshdr builds FITS headers (FITS Standard 4.0): 80-character
// keyword records in fixed format, strings longer than a card continued
// with the CONTINUE convention, END, and padding to 2880-byte blocks.
package fitshdr

import (
	"fmt"
	"strconv"
	"strings"
)

// Block is the size of a FITS block: headers and data are padded to it.
const Block = 2880

// card is the length of a keyword record.
const card = 80

// maxString is the longest string value, quotes included, that fits in a
// card after "KEYWORD = ".
const maxString = card - 10

// Header is a FITS header under construction.
type Header struct {
	cards    []string
	longStrn bool // a CONTINUE was written: LONGSTRN is added before END
}

// Primary returns the header of an empty primary HDU that announces
// extensions.
func Primary() *Header {
	h := &Header{}
	h.Bool("SIMPLE", true, "conforms to FITS standard")
	h.Int("BITPIX", 8, "array data type")
	h.Int("NAXIS", 0, "no data in the primary HDU")
	h.Bool("EXTEND", true, "extensions follow")
	return h
}

// Bool adds a logical keyword.
func (h *Header) Bool(key string, v bool, comment string) {
	s := "F"
	if v {
		s = "T"
	}
	h.fixed(key, s, comment)
}

// Int adds an integer keyword.
func (h *Header) Int(key string, v int64, comment string) {
	h.fixed(key, strconv.FormatInt(v, 10), comment)
}

// Float adds a real keyword.
func (h *Header) Float(key string, v float64, comment string) {
	s := strconv.FormatFloat(v, 'G', -1, 64)
	if !strings.ContainsAny(s, ".E") {
		s += "."
	}
	h.fixed(key, s, comment)
}

// fixed adds a keyword whose value is right-justified in columns 11-30.
func (h *Header) fixed(key, value, comment string) {
	h.add(fmt.Sprintf("%-8s= %20s", key, value), comment)
}

// String adds a string keyword. Characters outside printable ASCII become
// '?'; a value longer than a card continues on CONTINUE cards.
func (h *Header) String(key, v, comment string) {
	v = ASCII(v)
	quoted := quote(v)
	if len(quoted) <= maxString {
		h.add(fmt.Sprintf("%-8s= %-20s", key, quoted), comment)
		return
	}
	h.longStrn = true
	chunks := split(v, maxString-3) // room for the quotes and '&'
	for i, c := range chunks {
		prefix := "CONTINUE  "
		if i == 0 {
			prefix = fmt.Sprintf("%-8s= ", key)
		}
		if i < len(chunks)-1 {
			h.add(prefix+quote(c+"&"), "")
			continue
		}
		h.add(prefix+quote(c), comment)
	}
}

// split cuts v into pieces whose quoted form, doubled quotes included, has
// at most n characters between the quotes.
func split(v string, n int) []string {
	var out []string
	for len(v) > 0 {
		i, size := 0, 0
		for i < len(v) {
			w := 1
			if v[i] == '\'' {
				w = 2
			}
			if size+w > n {
				break
			}
			size += w
			i++
		}
		out = append(out, v[:i])
		v = v[i:]
	}
	return out
}

// quote returns v in FITS string syntax: single quotes, inner quotes
// doubled, padded to at least 8 characters.
func quote(v string) string {
	return "'" + fmt.Sprintf("%-8s", strings.ReplaceAll(v, "'", "''")) + "'"
}

// Comment adds a COMMENT card, cut to fit.
func (h *Header) Comment(text string) {
	h.cards = append(h.cards, pad(("COMMENT   " + ASCII(text))))
}

// add adds a card with an optional comment, cut to 80 characters.
func (h *Header) add(record, comment string) {
	if comment != "" && len(record) < card-3 {
		record += " / " + ASCII(comment)
	}
	h.cards = append(h.cards, pad(record))
}

// pad cuts or pads a record to 80 characters.
func pad(record string) string {
	if len(record) > card {
		return record[:card]
	}
	return record + strings.Repeat(" ", card-len(record))
}

// Bytes returns the header with END, padded with spaces to a whole number
// of blocks.
func (h *Header) Bytes() []byte {
	cards := h.cards
	if h.longStrn {
		lh := &Header{}
		lh.String("LONGSTRN", "OGIP 1.0", "the OGIP long string convention is used")
		cards = append(append([]string(nil), cards...), lh.cards...)
	}
	var b strings.Builder
	for _, c := range cards {
		b.WriteString(c)
	}
	b.WriteString(pad("END"))
	for b.Len()%Block != 0 {
		b.WriteByte(' ')
	}
	return []byte(b.String())
}

// Padding returns the number of bytes that complete n bytes of data to a
// whole number of blocks.
func Padding(n int64) int64 {
	return (Block - n%Block) % Block
}

// ASCII replaces the characters of s outside printable ASCII with '?', as
// FITS headers and character columns hold only those.
func ASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
