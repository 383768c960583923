package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteTo writes a human-readable summary of the run: one line per stage with
// its status and time, followed by the stage's Summarize lines.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	count := map[Status]int{}
	idWidth := 0
	for _, res := range r.Results {
		count[res.Status]++
		idWidth = max(idWidth, len(res.Kind)+1+len(res.Stage))
	}
	var parts []string
	for _, st := range []Status{Ran, Skipped, Failed, Interrupted} {
		if count[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[st], st))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to do")
	}
	fmt.Fprintf(&b, "job %q in %s: %s in %s\n", r.Job, r.Workdir, strings.Join(parts, ", "), roundDuration(r.Duration))
	for _, res := range r.Results {
		id := res.Kind + "/" + res.Stage
		took := ""
		if res.Status != Skipped {
			took = roundDuration(res.Duration).String()
		}
		line := fmt.Sprintf("  %-11s %-*s  %8s", res.Status, idWidth, id, took)
		if res.Status != Ran {
			line += "  " + res.Reason
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
		for _, s := range res.Summary {
			for line := range strings.Lines(s) {
				fmt.Fprintf(&b, "  %-11s %s\n", "", strings.TrimRight(line, "\n"))
			}
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// roundDuration keeps three significant digits or so: 1.23s, 12.3s, 2m3s, 45ms.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}
