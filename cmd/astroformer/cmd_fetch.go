package main

import (
	"context"
	"fmt"

	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/stages/galaxy10"
)

const fetchDescription = `
Fetch downloads a published data set into a folder and prints the path of the
file. The only data set so far is galaxy10, the Galaxy10 DECals HDF5 file
(2.5 GB; ` + galaxy10.DefaultURL + `).

A file already present whose SHA-256 matches is kept; an interrupted download
resumes from its .part file; a download whose SHA-256 does not match is kept
as .bad and the command fails.
`

func (c *cli) fetch(ctx context.Context, args []string) int {
	cmd := commandNamed("fetch")
	fs := c.flagSet(cmd, fetchDescription)
	dir := fs.String("dir", "data", "`DIR` to download into")
	url := fs.String("url", galaxy10.DefaultURL, "`URL` to download from (a mirror)")
	sum := fs.String("sha256", galaxy10.DefaultSHA256, "expected SHA-256 of the file, in `HEX`")
	var lf logFlags
	lf.register(fs)
	pos, status, ok := parse(fs, args)
	if !ok {
		return status
	}
	if len(pos) != 1 || pos[0] != "galaxy10" {
		return usageError(fs, "want the data set to fetch: galaxy10")
	}
	if err := lf.check(); err != nil {
		return usageError(fs, "%v", err)
	}
	bars := progress.New(c.stderr)
	log := lf.logger(c.stderr, bars)
	bar := bars.Bar(galaxy10.FileName, 0)
	var shown, logged, lastTotal int64 = 0, -1, -1
	path, err := galaxy10.Fetch(ctx, galaxy10.FetchOptions{
		URL:    *url,
		Dir:    *dir,
		SHA256: *sum,
		Log:    log,
		Progress: func(done, total int64) {
			if total != lastTotal && total > 0 {
				bar.SetTotal(total)
				lastTotal = total
			}
			if done < shown { // restarted from zero
				shown = 0
			}
			bar.IncrBy(int(done - shown))
			shown = done
			// Off a terminal the log tells the story, every tenth.
			if !bars.Active() && total > 0 {
				if tenth := 10 * done / total; tenth > logged {
					logged = tenth
					log.Info("downloading", "percent", 10*tenth, "bytes", done, "of", total)
				}
			}
		},
	})
	bar.Done()
	bars.Close()
	if err != nil {
		return c.failed("astroformer fetch", err, err.Error())
	}
	fmt.Fprintln(c.stdout, path)
	return exitOK
}
