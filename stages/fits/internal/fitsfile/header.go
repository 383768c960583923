// Package fitsfile reads FITS images (the Flexible Image Transport System,
// FITS Standard 4.0): header cards with their byte offsets, the walk over
// header-data units, and the pixel data of one image as physical float32
// values.
//
// It exists beside github.com/astrogo/fitsio because a source stage must
// turn a damaged file into an error that names the byte where the damage
// is, and must not panic; fitsio v0.3.0 panics on some malformed headers,
// reports no offsets, and its Image.Read returns stored values without
// BSCALE and BZERO. Every malformed input gives an *Error.
package fitsfile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sizes fixed by the standard.
const (
	CardSize  = 80
	BlockSize = 2880
)

// maxCards bounds the header of one HDU (about 28 MB of cards).
const maxCards = 1 << 18

// Error is a malformed file, located by the byte offset of the card or
// data where the problem is.
type Error struct {
	Offset int64
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg) }

func errorf(off int64, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Card is one keyword record of a header. Value is a string, bool, int64
// or float64; nil for commentary cards and undefined values; a Complex for
// complex numbers, kept as text.
type Card struct {
	Key     string
	Value   any
	Comment string
	Offset  int64 // of the card's first byte in the file
}

// Complex is a complex-valued card's value, as written: "(1.0, 2.0)".
type Complex string

// Header is the ordered cards of one HDU.
type Header struct {
	Cards []Card
	index map[string]int // first card of each keyword with a value
}

func newHeader() *Header { return &Header{index: map[string]int{}} }

func (h *Header) add(c Card) {
	if _, ok := h.index[c.Key]; !ok && c.Value != nil {
		h.index[c.Key] = len(h.Cards)
	}
	h.Cards = append(h.Cards, c)
}

// Get returns the first card of key that has a value.
func (h *Header) Get(key string) (Card, bool) {
	i, ok := h.index[key]
	if !ok {
		return Card{}, false
	}
	return h.Cards[i], true
}

// Int returns the integer value of key; ok is false when key is absent. A
// value of another type, or a float with a fractional part, is an *Error
// at the card.
func (h *Header) Int(key string) (v int64, ok bool, err error) {
	return value(h, key, "an integer", func(v any) (int64, bool) {
		switch x := v.(type) {
		case int64:
			return x, true
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), true
			}
		}
		return 0, false
	})
}

// Float returns the numeric value of key (integer or floating point); ok
// is false when key is absent. A value of another type, or one that is not
// finite, is an *Error at the card.
func (h *Header) Float(key string) (v float64, ok bool, err error) {
	return value(h, key, "a finite number", func(v any) (float64, bool) {
		switch x := v.(type) {
		case int64:
			return float64(x), true
		case float64:
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				return x, true
			}
		}
		return 0, false
	})
}

// String returns the string value of key with trailing spaces removed; ok
// is false when key is absent. A value of another type is an *Error.
func (h *Header) String(key string) (v string, ok bool, err error) {
	return value(h, key, "a string", as[string])
}

// Bool returns the logical value of key; ok is false when key is absent.
func (h *Header) Bool(key string) (v bool, ok bool, err error) {
	return value(h, key, "T or F", as[bool])
}

// value returns the value of key as convert gives it; ok is false when key
// is absent. A value that convert refuses is an *Error at the card saying
// that want was expected.
func value[T any](h *Header, key, want string, convert func(any) (T, bool)) (v T, ok bool, err error) {
	c, ok := h.Get(key)
	if !ok {
		return v, false, nil
	}
	if x, good := convert(c.Value); good {
		return x, true, nil
	}
	return v, true, errorf(c.Offset, "%s = %s: expected %s", key, show(c.Value), want)
}

// as returns v as a T, if it is one.
func as[T any](v any) (T, bool) {
	x, ok := v.(T)
	return x, ok
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case bool:
		if x {
			return "T"
		}
		return "F"
	case nil:
		return "(undefined)"
	case Complex:
		return string(x)
	}
	return fmt.Sprint(v)
}

// commentary keywords never carry a value, whatever bytes 9-10 hold.
func commentary(key string) bool {
	return key == "" || key == "COMMENT" || key == "HISTORY"
}

// ParseCard parses one 80-byte card that starts at byte off of the file.
func ParseCard(b []byte, off int64) (Card, error) {
	if len(b) != CardSize {
		return Card{}, errorf(off, "card of %d bytes, expected %d", len(b), CardSize)
	}
	for i, ch := range b {
		if ch < 0x20 || ch > 0x7e {
			return Card{}, errorf(off+int64(i), "byte 0x%02x in a header card: only printable ASCII is allowed", ch)
		}
	}
	key := strings.TrimRight(string(b[:8]), " ")
	for i := 0; i < len(key); i++ {
		ch := key[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return Card{}, errorf(off+int64(i), "keyword %q: %q is not allowed (A-Z, 0-9, '-' and '_' are)", key, ch)
		}
	}
	c := Card{Key: key, Offset: off}
	if commentary(key) || string(b[8:10]) != "= " {
		c.Comment = strings.TrimRight(string(b[8:]), " ")
		return c, nil
	}
	v, comment, err := parseValue(b[10:], off+10)
	if err != nil {
		err.Msg = "keyword " + key + ": " + err.Msg
		return Card{}, err
	}
	c.Value, c.Comment = v, comment
	return c, nil
}

// parseValue parses a value field (bytes 11-80 of a card) starting at byte
// off, and its comment.
func parseValue(b []byte, off int64) (any, string, *Error) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i == len(b) {
		return nil, "", nil
	}
	var v any
	switch ch := b[i]; {
	case ch == '/':
		return nil, comment(b[i:]), nil
	case ch == '\'':
		var sb strings.Builder
		j := i + 1
		for {
			if j >= len(b) {
				return nil, "", errorf(off+int64(i), "string value has no closing quote")
			}
			if b[j] == '\'' {
				if j+1 < len(b) && b[j+1] == '\'' {
					sb.WriteByte('\'')
					j += 2
					continue
				}
				break
			}
			sb.WriteByte(b[j])
			j++
		}
		v, i = strings.TrimRight(sb.String(), " "), j+1
	case ch == '(':
		j := i
		for j < len(b) && b[j] != ')' {
			j++
		}
		if j == len(b) {
			return nil, "", errorf(off+int64(i), "complex value has no closing parenthesis")
		}
		v, i = Complex(b[i:j+1]), j+1
	default:
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '/' {
			j++
		}
		tok := string(b[i:j])
		var err error
		if v, err = parseToken(tok); err != nil {
			return nil, "", errorf(off+int64(i), "%v", err)
		}
		i = j
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i < len(b) && b[i] != '/' {
		return nil, "", errorf(off+int64(i), "unexpected %q after the value (a comment starts with '/')", strings.TrimRight(string(b[i:]), " "))
	}
	return v, comment(b[i:]), nil
}

func comment(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return strings.TrimSpace(string(b[1:]))
}

// parseToken parses a logical, integer or floating-point value.
func parseToken(tok string) (any, error) {
	switch tok {
	case "T":
		return true, nil
	case "F":
		return false, nil
	}
	if isInteger(tok) {
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %s out of range", tok)
		}
		return n, nil
	}
	if isReal(tok) {
		f, err := strconv.ParseFloat(strings.NewReplacer("D", "E", "d", "e").Replace(tok), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("value %q is not a number", tok)
		}
		return f, nil
	}
	return nil, fmt.Errorf("value %q is not a string, logical, integer or floating-point number", tok)
}

// isInteger reports whether s is [+-]digits.
func isInteger(s string) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isReal reports whether s is a fixed-format FITS floating-point number:
// [+-]digits[.digits][(E|D)[+-]digits], with at least one mantissa digit.
func isReal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'E' || s[i] == 'D' || s[i] == 'e' || s[i] == 'd') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}
