package source

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// byteUnits are the units ParseBytes accepts, in lower case.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseBytes parses an amount of memory: a number, optionally with a
// fraction, and a unit, B, KB, MB, GB, TB (powers of 1000) or KiB, MiB,
// GiB, TiB (powers of 1024), in any case: "4GiB", "512 MB", "1.5GiB". A
// number without a unit is bytes. The amount must be at least one byte.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" || strings.Count(num, ".") > 1 || num == "." {
		return 0, errors.New("no number of bytes")
	}
	mult, ok := byteUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q (B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, errors.New("no number of bytes")
	}
	v *= mult
	switch {
	case v < 1:
		return 0, errors.New("less than one byte")
	case v >= math.MaxInt64:
		return 0, errors.New("more than 2⁶³ bytes")
	}
	return int64(v), nil
}

// CheckMemory parses the memory attribute, when given, with ParseBytes and
// reports a value that does not parse; it returns the bytes, or 0 when the
// attribute is not given or is invalid.
func (a *Attrs) CheckMemory(s *string) int64 {
	if s == nil {
		return 0
	}
	n, err := ParseBytes(*s)
	if err != nil {
		a.Bad("memory", "Invalid memory", fmt.Sprintf("memory is %q: %v; expected an amount such as \"4GiB\" or \"512MB\".", *s, err))
		return 0
	}
	return n
}

// MemoryBudget returns the memory a stage's converting goroutines may use
// together, and where the figure comes from: explicit when it is more than
// 0 (the stage's memory attribute); else the Go memory limit (GOMEMLIMIT,
// or debug.SetMemoryLimit); else half the memory the kernel reports
// available (MemAvailable of /proc/meminfo); else 0, "no memory limit
// known".
func MemoryBudget(explicit int64) (budget int64, from string) {
	if explicit > 0 {
		return explicit, "the memory attribute"
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		return limit, "GOMEMLIMIT"
	}
	if avail, ok := memAvailable("/proc/meminfo"); ok {
		return avail / 2, "half of MemAvailable in /proc/meminfo"
	}
	return 0, "no memory limit known"
}

// memAvailable reads MemAvailable from a meminfo file, in bytes.
func memAvailable(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb << 10, err == nil && kb > 0
	}
	return 0, false
}

// FormatBytes writes n bytes in binary units for a log line: "512 B",
// "1.5 MiB", "4 GiB".
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " " + units[i]
}
