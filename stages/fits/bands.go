package fits

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/astroformer/astroformer/stages/fits/internal/fitsfile"
)

// splitBands splits a list of band names for n planes: names separated by
// commas or spaces ("g,r,z", "g r z"), or, without separators, one
// character per plane ("grz") or one name for a single plane ("VIS").
func splitBands(s string, n int) ([]string, error) {
	var names []string
	if strings.ContainsAny(s, ", ") {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			names = append(names, f)
		}
	} else if utf8.RuneCountInString(s) == n {
		for _, r := range s {
			names = append(names, string(r))
		}
	} else if n == 1 && s != "" {
		names = []string{s}
	}
	if len(names) != n {
		return nil, fmt.Errorf("names %d bands for %d image planes", len(names), n)
	}
	return names, nil
}

// bandNames returns the band of each of the n planes of an image: from
// override when set, else from the BANDS keyword, else from BAND0 …
// BAND<n-1>, looked up in h and then in the primary header. It returns nil
// when none is set.
func bandNames(override string, n int, headers ...*fitsfile.Header) ([]string, error) {
	if override != "" {
		names, err := splitBands(override, n)
		if err != nil {
			return nil, fmt.Errorf("bands = %q %w", override, err)
		}
		return names, nil
	}
	for _, h := range headers {
		if h == nil {
			continue
		}
		s, ok, err := h.String("BANDS")
		if err != nil {
			return nil, err
		}
		if ok {
			names, err := splitBands(strings.TrimSpace(s), n)
			if err != nil {
				c, _ := h.Get("BANDS")
				return nil, &fitsfile.Error{Offset: c.Offset, Msg: fmt.Sprintf("BANDS = %q %v", s, err)}
			}
			return names, nil
		}
		names := make([]string, 0, n)
		for i := range n {
			key := "BAND" + strconv.Itoa(i)
			s, ok, err := h.String(key)
			if err != nil {
				return nil, err
			}
			if !ok || strings.TrimSpace(s) == "" {
				if i > 0 {
					c, _ := h.Get("BAND0")
					return nil, &fitsfile.Error{Offset: c.Offset, Msg: fmt.Sprintf("BAND0 is set but %s is missing for %d image planes", key, n)}
				}
				break
			}
			names = append(names, strings.TrimSpace(s))
		}
		if len(names) == n {
			return names, nil
		}
	}
	return nil, nil
}

// joinBands is the bands column: the names concatenated when each is one
// character ("grz"), comma-separated otherwise ("VIS,Y").
func joinBands(names []string) string {
	for _, n := range names {
		if utf8.RuneCountInString(n) != 1 {
			return strings.Join(names, ",")
		}
	}
	return strings.Join(names, "")
}
