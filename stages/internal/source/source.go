// Package source holds what the source stages share: their declaration
// (the attributes every source block has, Tables and Files, embedded in a
// kind's params; Decode and Declare; the checks of the attributes, with the
// same diagnostics in every stage); Stage, the pipeline.Stage methods but
// Run; the opening and committing of their resumable ingest.Sink; the loop
// that converts numbered input items chunk by chunk on several goroutines
// and feeds them, in order, to the sink (Ingest, and Stage.Ingest around
// it); a digest of input files for stage fingerprints; the walk of the
// visible files under a folder; and the per-class summary line.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/stages/ingest"
)

// Result is what converting one input item gives: a cutout, or the reason
// to reject the item, or an error that stops the stage.
type Result struct {
	// Cutout is the row to add. When Reject is set, only its Source,
	// Position and ObjectID (which may be empty) are used, to locate the
	// item in the rejects table.
	Cutout ingest.Cutout
	Reject string
	Err    error
}

// Options configure Ingest.
type Options struct {
	Chunk   int           // items per resumable chunk; at least 1
	Workers int           // converting goroutines; 0 means GOMAXPROCS
	Bar     *progress.Bar // advanced once per item; may be nil
	// Key names the chunk of items [first, last] for the sink's EndPart and
	// Done; it must be the same in a resumed run. The default is
	// "items <first>-<last>".
	Key func(first, last int) string
}

// Ingest converts the items 0..n-1 with convert and adds them, in item
// order, to sink: cutouts with Add, rejected items with Reject. Items are
// converted chunk by chunk, each chunk on opt.Workers goroutines, so memory
// holds at most one chunk of results. Chunks that sink.Done reports complete
// (from an interrupted earlier run) are skipped and counted in resumed.
//
// On an error Ingest returns at once: an error of the sink aborts it; a
// conversion error or a cancelled ctx leaves it open with its completed
// chunks, for a later run to resume. convert must be safe for concurrent
// use.
func Ingest(ctx context.Context, sink *ingest.Sink, n int, opt Options, convert func(i int) Result) (resumed int, err error) {
	chunk := max(opt.Chunk, 1)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	key := opt.Key
	if key == nil {
		key = func(first, last int) string { return fmt.Sprintf("items %d-%d", first, last) }
	}
	results := make([]Result, min(chunk, n))
	for first := 0; first < n; first += chunk {
		m := min(chunk, n-first)
		k := key(first, first+m-1)
		if sink.Done(k) {
			resumed += m
			opt.Bar.IncrBy(m)
			continue
		}
		if err := convertChunk(ctx, results[:m], first, workers, convert); err != nil {
			return resumed, err
		}
		for i := range results[:m] {
			r := &results[i]
			var err error
			if r.Reject != "" {
				err = sink.Reject(r.Cutout.Source, r.Cutout.Position, r.Cutout.ObjectID, r.Reject)
			} else {
				err = sink.Add(r.Cutout)
			}
			*r = Result{} // drop the pixels now
			if err != nil {
				sink.Abort()
				return resumed, err
			}
			opt.Bar.Increment()
		}
		if err := sink.EndPart(k); err != nil {
			sink.Abort()
			return resumed, err
		}
	}
	return resumed, nil
}

// convertChunk fills out[i] = convert(first+i) on workers goroutines and
// returns ctx's error if it was cancelled, or else the first conversion
// error in item order.
func convertChunk(ctx context.Context, out []Result, first, workers int, convert func(int) Result) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(out)) {
		wg.Go(func() {
			for i := range next {
				out[i] = convert(first + i)
			}
		})
	}
feed:
	for i := range out {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// A chunk during which ctx was cancelled is not complete, even if every
	// item was converted.
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range out {
		if out[i].Err != nil {
			return out[i].Err
		}
	}
	return nil
}

// Digest returns a hex SHA-256 over the name, size and modification time of
// every regular file at or under each path, in walk order, for stage
// parameters: it changes when an input file is added, removed, replaced or
// touched. Paths that cannot be read contribute their error text, so the
// digest still changes when they become readable.
func Digest(paths ...string) string {
	h := sha256.New()
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() && !(d.Type()&fs.ModeSymlink != 0) {
				return nil
			}
			st, err := os.Stat(path)
			if err != nil {
				return err
			}
			if st.Mode().IsRegular() {
				fmt.Fprintf(h, "%s\x00%d\x00%d\n", path, st.Size(), st.ModTime().UnixNano())
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(h, "error %s\n", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WalkFiles calls fn, in lexical order, for every entry under root that is
// not a folder, skipping the hidden files and folders below root (those
// whose name starts with "."). An error from fn, or from reading a folder,
// ends the walk and is returned.
func WalkFiles(root string, fn func(path string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		return fn(path, d)
	})
}

// PerClass formats rows per class for a summary line: the names in label
// order, then any other keys of counts given in extra (ingest.Unlabelled,
// typically). With more than a dozen names it gives the number of classes
// and the smallest and largest counts instead.
func PerClass(counts map[string]int64, names []string, extra ...string) string {
	var parts []string
	if len(names) > 12 {
		lo, hi := "", ""
		for _, name := range names {
			if lo == "" || counts[name] < counts[lo] {
				lo = name
			}
			if hi == "" || counts[name] > counts[hi] {
				hi = name
			}
		}
		parts = append(parts, fmt.Sprintf("%d classes, %d (%s) to %d (%s) rows each",
			len(names), counts[lo], lo, counts[hi], hi))
		names = nil
	}
	for _, name := range append(names[:len(names):len(names)], extra...) {
		if n, ok := counts[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
	}
	return strings.Join(parts, " · ")
}
