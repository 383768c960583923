package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/internal/progress"
)

// logFlags are the logging flags shared by commands that do work.
type logFlags struct {
	json  bool
	level string
}

func (f *logFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.json, "log-json", false, "write logs as JSON lines instead of text")
	fs.StringVar(&f.level, "log-level", "info", "least severe `LEVEL` shown: trace, debug, info, warn or error")
}

// check validates the flags before any work starts.
func (f *logFlags) check() error {
	if hclog.LevelFromString(f.level) == hclog.NoLevel {
		return fmt.Errorf("invalid --log-level %q: want trace, debug, info, warn or error", f.level)
	}
	return nil
}

// logger returns a logger writing to the progress group's writer (above
// the bars), coloured when stderr is a terminal and the format is text.
func (f *logFlags) logger(stderr io.Writer, bars *progress.Group) hclog.Logger {
	color := hclog.ColorOff
	if !f.json && isTerminal(stderr) {
		color = hclog.ForceColor
	}
	timeFormat := "15:04:05.000" // a run rarely spans midnight; the text stays short
	if f.json {
		timeFormat = time.RFC3339Nano
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "astroformer",
		Level:      hclog.LevelFromString(f.level),
		Output:     bars.Writer(),
		JSONFormat: f.json,
		Color:      color,
		TimeFormat: timeFormat,
	})
}

// isTerminal reports whether w is a terminal that accepts colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && progress.IsTerminal(f) && os.Getenv("NO_COLOR") == "" && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
