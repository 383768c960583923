package jobs

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diags in compiler style, each with its position,
// the source line and a caret under the offending text:
//
//	demo.hcl:3:9: error: Unknown stage kind
//	    3 |   stage "synthetc" "survey" {
//	      |         ^^^^^^^^^^
//	  There is no stage kind "synthetc". Did you mean "synthetic"? ...
//
// Sources come from the files this Loader parsed. With color set, severities
// and carets are coloured with ANSI escapes.
func (l *Loader) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	var b strings.Builder
	for _, d := range diags {
		writeDiagnostic(&b, d, l.files, color)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDiagnostic(b *strings.Builder, d *hcl.Diagnostic, files map[string]*hcl.File, color bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	severity, code := "error", "1;31"
	if d.Severity == hcl.DiagWarning {
		severity, code = "warning", "1;33"
	}
	if d.Subject != nil {
		s := d.Subject
		fmt.Fprintf(b, "%s:%d:%d: ", s.Filename, s.Start.Line, s.Start.Column)
	}
	fmt.Fprintf(b, "%s %s\n", paint(code, severity+":"), paint("1", d.Summary))
	if d.Subject != nil {
		if f := files[d.Subject.Filename]; f != nil {
			writeSnippet(b, f.Bytes, *d.Subject, func(s string) string { return paint(code, s) })
		}
	}
	if d.Detail != "" {
		for line := range strings.SplitSeq(d.Detail, "\n") {
			fmt.Fprintf(b, "  %s\n", line)
		}
	}
}

// writeSnippet prints the first line of rng with carets under the part of
// it that rng covers.
func writeSnippet(b *strings.Builder, src []byte, rng hcl.Range, paint func(string) string) {
	start := rng.Start.Byte
	if start < 0 || start > len(src) {
		return
	}
	lineStart := strings.LastIndexByte(string(src[:start]), '\n') + 1
	lineEnd := len(src)
	if i := strings.IndexByte(string(src[start:]), '\n'); i >= 0 {
		lineEnd = start + i
	}
	line := strings.TrimRight(string(src[lineStart:lineEnd]), "\r")
	end := min(max(rng.End.Byte, start), lineStart+len(line))

	// Pad with the line's own tabs so that the carets line up.
	var pad strings.Builder
	for _, r := range string(src[lineStart:start]) {
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	width := max(utf8.RuneCount(src[start:end]), 1)
	num := fmt.Sprint(rng.Start.Line)
	gutter := strings.Repeat(" ", len(num))
	fmt.Fprintf(b, "  %s | %s\n", num, line)
	fmt.Fprintf(b, "  %s | %s%s\n", gutter, pad.String(), paint(strings.Repeat("^", width)))
}
