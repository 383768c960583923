package galaxy10

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// The published Galaxy10 DECals file (Leung & Bovy; Zenodo record 10845026).
const (
	FileName      = "Galaxy10_DECals.h5"
	DefaultURL    = "https://zenodo.org/records/10845026/files/" + FileName
	DefaultSHA256 = "19aefc477c41bb7f77ff07599a6b82a038dc042f889a111b0d4d98bb755c1571"
)

// Fetch defaults.
const (
	DefaultRetries = 5
	DefaultBackoff = 2 * time.Second
)

// FetchOptions configure Fetch. Only Dir is required.
type FetchOptions struct {
	URL      string       // default DefaultURL
	Dir      string       // folder the file is written to
	SHA256   string       // expected hex digest; default DefaultSHA256
	Client   *http.Client // default http.DefaultClient
	Log      hclog.Logger // default silent
	Progress func(done, total int64)

	// Retries is how many times a failed request or a dropped connection
	// is retried without any bytes arriving in between; default
	// DefaultRetries. Backoff is the wait before the first retry, doubled
	// for each further one; default DefaultBackoff.
	Retries int
	Backoff time.Duration
}

// ChecksumError reports a downloaded (or previously present) file whose
// SHA-256 is not the expected one.
type ChecksumError struct {
	File          string // where the refused bytes were kept
	Expected, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("galaxy10: SHA-256 mismatch: expected %s, got %s; the bytes were kept as %s for inspection (delete it to download again)",
		e.Expected, e.Got, e.File)
}

// Fetch downloads the Galaxy10 DECals file into opt.Dir and returns its path.
//
// A file already there whose SHA-256 matches is kept and nothing is
// downloaded. Otherwise the bytes go to "<name>.part", which a later call
// resumes with an HTTP range request; a server that answers a range request
// with the whole file restarts it. Failed requests and dropped connections
// are retried with exponential backoff. The file is renamed into place only
// once its SHA-256 matches; a mismatching one is renamed to "<name>.bad" and
// reported as a *ChecksumError. Cancelling ctx stops the download and keeps
// the partial file for the next call.
func Fetch(ctx context.Context, opt FetchOptions) (string, error) {
	opt = opt.withDefaults()
	if opt.Dir == "" {
		return "", errors.New("galaxy10: fetch: no destination folder")
	}
	name, err := fileName(opt.URL)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return "", fmt.Errorf("galaxy10: fetch: %w", err)
	}
	dest := filepath.Join(opt.Dir, name)
	if ok, err := checkExisting(dest, opt); ok || err != nil {
		return dest, err
	}
	d := &download{opt: opt, part: dest + ".part"}
	if err := d.run(ctx); err != nil {
		return "", err
	}
	got := hex.EncodeToString(d.hash.Sum(nil))
	if !strings.EqualFold(got, opt.SHA256) {
		bad := dest + ".bad"
		if err := os.Rename(d.part, bad); err != nil {
			return "", fmt.Errorf("galaxy10: fetch: SHA-256 mismatch (expected %s, got %s) and %w", opt.SHA256, got, err)
		}
		return "", &ChecksumError{File: bad, Expected: opt.SHA256, Got: got}
	}
	if err := os.Rename(d.part, dest); err != nil {
		return "", fmt.Errorf("galaxy10: fetch: %w", err)
	}
	if err := syncDir(opt.Dir); err != nil {
		return "", fmt.Errorf("galaxy10: fetch: %w", err)
	}
	opt.Log.Info("downloaded and verified", "file", dest, "bytes", d.size, "sha256", got)
	return dest, nil
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.SHA256 == "" {
		o.SHA256 = DefaultSHA256
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Log == nil {
		o.Log = hclog.NewNullLogger()
	}
	if o.Progress == nil {
		o.Progress = func(int64, int64) {}
	}
	if o.Retries <= 0 {
		o.Retries = DefaultRetries
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	return o
}

// fileName is the last element of the URL's path.
func fileName(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("galaxy10: fetch: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("galaxy10: fetch: URL %q: expected http or https", raw)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		return "", fmt.Errorf("galaxy10: fetch: URL %q names no file", raw)
	}
	return name, nil
}

// checkExisting reports whether dest already holds the expected file. A
// mismatching one is moved to "<dest>.bad" so that it is downloaded again.
func checkExisting(dest string, opt FetchOptions) (bool, error) {
	f, err := os.Open(dest)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("galaxy10: fetch: %w", err)
	}
	defer f.Close()
	opt.Log.Info("verifying the file already present", "file", dest)
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("galaxy10: fetch: reading %s: %w", dest, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if strings.EqualFold(got, opt.SHA256) {
		opt.Log.Info("already present and verified", "file", dest, "sha256", got)
		return true, nil
	}
	bad := dest + ".bad"
	opt.Log.Warn("the file present has the wrong SHA-256; moving it aside and downloading again",
		"file", dest, "moved_to", bad, "expected", opt.SHA256, "got", got)
	if err := os.Rename(dest, bad); err != nil {
		return false, fmt.Errorf("galaxy10: fetch: %w", err)
	}
	return false, nil
}

// download fills a ".part" file, resuming and retrying.
type download struct {
	opt   FetchOptions
	part  string
	file  *os.File
	hash  hash.Hash // of the bytes in file so far
	size  int64     // bytes in file
	total int64     // bytes in the whole resource; -1 while unknown
}

// retryable marks failures worth another request.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

func (d *download) run(ctx context.Context) error {
	f, err := os.OpenFile(d.part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("galaxy10: fetch: %w", err)
	}
	defer f.Close()
	d.file, d.total = f, -1
	// Hash what an earlier call left, so that one pass checks the whole file.
	d.hash = sha256.New()
	if d.size, err = io.Copy(d.hash, f); err != nil {
		return fmt.Errorf("galaxy10: fetch: reading %s: %w", d.part, err)
	}
	if d.size > 0 {
		d.opt.Log.Info("resuming a partial download", "file", d.part, "bytes", d.size)
	}
	failures := 0
	for {
		before := d.size
		complete, err := d.request(ctx)
		if err == nil && complete {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("galaxy10: fetch: %w", err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("galaxy10: fetch interrupted after %d bytes (kept in %s): %w", d.size, d.part, ctx.Err())
		}
		var r retryable
		if err != nil && !errors.As(err, &r) {
			return err
		}
		if d.size > before {
			failures = 0
		}
		failures++
		if failures > d.opt.Retries {
			return fmt.Errorf("galaxy10: fetch: giving up after %d attempts without progress (%d bytes kept in %s): %w", failures, d.size, d.part, err)
		}
		wait := d.opt.Backoff << (failures - 1)
		d.opt.Log.Warn("download interrupted; retrying", "error", err, "bytes", d.size, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("galaxy10: fetch interrupted after %d bytes (kept in %s): %w", d.size, d.part, ctx.Err())
		}
	}
}

// request makes one GET from the current size and copies what arrives. It
// reports whether the file is complete. A nil error with complete false
// means "ask again" (the body ended early); a retryable error means the same
// after a wait.
func (d *download) request(ctx context.Context) (complete bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.opt.URL, nil)
	if err != nil {
		return false, fmt.Errorf("galaxy10: fetch: %w", err)
	}
	if d.size > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", d.size))
	}
	resp, err := d.opt.Client.Do(req)
	if err != nil {
		return false, retryable{fmt.Errorf("GET %s: %w", d.opt.URL, err)}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if d.size > 0 {
			d.opt.Log.Warn("the server ignored the range request; restarting the download", "url", d.opt.URL)
			if err := d.restart(); err != nil {
				return false, err
			}
		}
		d.total = resp.ContentLength
	case http.StatusPartialContent:
		start, total, err := contentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != d.size {
			d.opt.Log.Warn("unusable partial response; restarting the download",
				"content_range", resp.Header.Get("Content-Range"), "want_start", d.size)
			return false, retryable{errors.Join(fmt.Errorf("partial content from byte %d, asked for byte %d", start, d.size), err, d.restart())}
		}
		d.total = total
	case http.StatusRequestedRangeNotSatisfiable:
		// Our part is at least as long as the resource.
		_, total, err := contentRange(resp.Header.Get("Content-Range"))
		if err == nil && total == d.size {
			d.total = total
			return true, nil
		}
		d.opt.Log.Warn("the partial file is longer than the resource; restarting the download", "bytes", d.size)
		return false, retryable{errors.Join(errors.New("range not satisfiable"), d.restart())}
	default:
		err := fmt.Errorf("GET %s: %s", d.opt.URL, resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
			return false, retryable{err}
		}
		return false, fmt.Errorf("galaxy10: fetch: %w", err)
	}
	d.opt.Progress(d.size, d.total)
	_, copyErr := io.Copy(d, resp.Body)
	if copyErr != nil && ctx.Err() == nil {
		if isWriteError(copyErr) {
			return false, fmt.Errorf("galaxy10: fetch: %w", copyErr)
		}
		return false, retryable{fmt.Errorf("connection dropped after %d bytes: %w", d.size, copyErr)}
	}
	if copyErr != nil {
		return false, copyErr
	}
	if d.total >= 0 && d.size < d.total {
		return false, retryable{fmt.Errorf("body ended at byte %d of %d", d.size, d.total)}
	}
	if d.total >= 0 && d.size > d.total {
		return false, fmt.Errorf("galaxy10: fetch: received %d bytes, more than the %d announced", d.size, d.total)
	}
	return true, nil
}

// writeError marks failures to write the part file, which retrying the
// request does not cure.
type writeError struct{ err error }

func (w writeError) Error() string { return fmt.Sprintf("writing the partial file: %v", w.err) }
func (w writeError) Unwrap() error { return w.err }

func isWriteError(err error) bool {
	var w writeError
	return errors.As(err, &w)
}

// Write appends p to the part file and the hash.
func (d *download) Write(p []byte) (int, error) {
	n, err := d.file.Write(p)
	d.hash.Write(p[:n])
	d.size += int64(n)
	d.opt.Progress(d.size, d.total)
	if err != nil {
		return n, writeError{err}
	}
	return n, nil
}

// restart empties the part file.
func (d *download) restart() error {
	if err := d.file.Truncate(0); err != nil {
		return fmt.Errorf("galaxy10: fetch: %w", err)
	}
	if _, err := d.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("galaxy10: fetch: %w", err)
	}
	d.hash.Reset()
	d.size = 0
	return nil
}

// contentRange parses "bytes START-END/TOTAL" or "bytes */TOTAL"; start is
// -1 in the second form, total -1 when "*".
func contentRange(v string) (start, total int64, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bad Content-Range %q", v)
		}
	}
	if rng == "*" {
		return -1, total, nil
	}
	first, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	if start, err = strconv.ParseInt(first, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	return start, total, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
