package galaxy10

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// resource is the file a test server serves, with its digest.
type resource struct {
	body   []byte
	sha256 string
}

func newResource(n int) resource {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	sum := sha256.Sum256(b)
	return resource{body: b, sha256: hex.EncodeToString(sum[:])}
}

// server serves res at /files/Galaxy10_DECals.h5 through handle, counting
// requests and recording their Range headers.
type server struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	ranges   []string
}

func newServer(t *testing.T, handle func(n int64, w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1)
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) url() string { return s.URL + "/files/" + FileName }

// serveContent answers with http.ServeContent, which honours Range.
func serveContent(res resource) func(int64, http.ResponseWriter, *http.Request) {
	return func(_ int64, w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, FileName, time.Unix(0, 0), bytes.NewReader(res.body))
	}
}

func fetchOptions(s *server, dir string, res resource) FetchOptions {
	return FetchOptions{URL: s.url(), Dir: dir, SHA256: res.sha256, Client: s.Client(), Backoff: time.Millisecond}
}

// fetchOverPart fetches res from s into a folder where an interrupted
// download left part, and checks the file fetched.
func fetchOverPart(t *testing.T, s *server, res resource, part []byte) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName+".part"), part, 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := Fetch(context.Background(), fetchOptions(s, dir, res))
	checkFetched(t, path, err, dir, res)
}

func checkFetched(t *testing.T, path string, err error, dir string, res resource) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, FileName); path != want {
		t.Fatalf("path %s, want %s", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, res.body) {
		t.Fatalf("downloaded %d bytes that differ from the %d served", len(got), len(res.body))
	}
	if _, err := os.Stat(path + ".part"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial file left behind: %v", err)
	}
}

func TestFetchDownloadsAndReportsProgress(t *testing.T) {
	res := newResource(300_000)
	s := newServer(t, serveContent(res))
	dir := t.TempDir()
	opt := fetchOptions(s, dir, res)
	var last, total int64
	opt.Progress = func(done, tot int64) { last, total = done, tot }
	path, err := Fetch(context.Background(), opt)
	checkFetched(t, path, err, dir, res)
	if last != int64(len(res.body)) || total != int64(len(res.body)) {
		t.Errorf("last progress %d of %d, want %d of %d", last, total, len(res.body), len(res.body))
	}
}

func TestFetchResumesWithRange(t *testing.T) {
	res := newResource(200_000)
	s := newServer(t, serveContent(res))
	fetchOverPart(t, s, res, res.body[:70_000])
	if len(s.ranges) != 1 || s.ranges[0] != "bytes=70000-" {
		t.Errorf("requests with Range %q, want one with bytes=70000-", s.ranges)
	}
}

func TestFetchRestartsWhenRangeIgnored(t *testing.T) {
	res := newResource(100_000)
	s := newServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(res.body)))
		w.Write(res.body) // 200 with the whole file, whatever the Range
	})
	// A stale partial file that is not even a prefix of the resource.
	fetchOverPart(t, s, res, bytes.Repeat([]byte{7}, 5000))
}

func TestFetchSurvivesDroppedConnections(t *testing.T) {
	res := newResource(400_000)
	s := newServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			// Announce the rest of the file, send some of it, and hang up.
			start := int64(0)
			if rng := r.Header.Get("Range"); rng != "" {
				fmt.Sscanf(rng, "bytes=%d-", &start)
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(res.body)-1, len(res.body)))
				w.Header().Set("Content-Length", fmt.Sprint(int64(len(res.body))-start))
				w.WriteHeader(http.StatusPartialContent)
			} else {
				w.Header().Set("Content-Length", fmt.Sprint(len(res.body)))
				w.WriteHeader(http.StatusOK)
			}
			w.Write(res.body[start : start+100_000])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		serveContent(res)(n, w, r)
	})
	dir := t.TempDir()
	path, err := Fetch(context.Background(), fetchOptions(s, dir, res))
	checkFetched(t, path, err, dir, res)
	want := []string{"", "bytes=100000-", "bytes=200000-"}
	if strings.Join(s.ranges, ",") != strings.Join(want, ",") {
		t.Errorf("ranges requested %q, want %q", s.ranges, want)
	}
}

func TestFetchRefusesBadChecksum(t *testing.T) {
	res := newResource(50_000)
	s := newServer(t, serveContent(res))
	dir := t.TempDir()
	opt := fetchOptions(s, dir, res)
	opt.SHA256 = strings.Repeat("0", 64)
	_, err := Fetch(context.Background(), opt)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Got != res.sha256 || ce.Expected != opt.SHA256 {
		t.Fatalf("err = %v, want a ChecksumError", err)
	}
	dest := filepath.Join(dir, FileName)
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Error("mismatching file renamed into place")
	}
	if b, err := os.ReadFile(dest + ".bad"); err != nil || !bytes.Equal(b, res.body) {
		t.Errorf("refused bytes not kept as .bad: %v", err)
	}
	if !strings.Contains(err.Error(), dest+".bad") {
		t.Errorf("message does not say where the bytes are: %v", err)
	}
}

func TestFetchKeepsVerifiedFile(t *testing.T) {
	res := newResource(10_000)
	s := newServer(t, serveContent(res))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), res.body, 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := Fetch(context.Background(), fetchOptions(s, dir, res))
	checkFetched(t, path, err, dir, res)
	if n := s.requests.Load(); n != 0 {
		t.Errorf("%d requests for a file already verified", n)
	}
}

func TestFetchReplacesCorruptFile(t *testing.T) {
	res := newResource(10_000)
	s := newServer(t, serveContent(res))
	dir := t.TempDir()
	dest := filepath.Join(dir, FileName)
	if err := os.WriteFile(dest, []byte("not the file"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := Fetch(context.Background(), fetchOptions(s, dir, res))
	checkFetched(t, path, err, dir, res)
	if b, err := os.ReadFile(dest + ".bad"); err != nil || string(b) != "not the file" {
		t.Errorf("corrupt file not moved aside: %q %v", b, err)
	}
}

func TestFetchCompletesFromWholePart(t *testing.T) {
	res := newResource(20_000)
	s := newServer(t, serveContent(res))
	// Interrupted after the last byte but before the rename: the server
	// answers 416 to a range starting at the end.
	fetchOverPart(t, s, res, res.body)
}

func TestFetchRetriesServerErrors(t *testing.T) {
	res := newResource(20_000)
	s := newServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		serveContent(res)(n, w, r)
	})
	dir := t.TempDir()
	path, err := Fetch(context.Background(), fetchOptions(s, dir, res))
	checkFetched(t, path, err, dir, res)
}

func TestFetchGivesUp(t *testing.T) {
	res := newResource(1000)
	for _, c := range []struct {
		status   int
		requests int64
	}{
		{http.StatusNotFound, 1},                    // not worth retrying
		{http.StatusBadGateway, DefaultRetries + 1}, // retried, then abandoned
	} {
		s := newServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no", c.status)
		})
		_, err := Fetch(context.Background(), fetchOptions(s, t.TempDir(), res))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(c.status)) {
			t.Errorf("status %d: err = %v", c.status, err)
		}
		if n := s.requests.Load(); n != c.requests {
			t.Errorf("status %d: %d requests, want %d", c.status, n, c.requests)
		}
	}
}

func TestFetchCancelledKeepsPart(t *testing.T) {
	res := newResource(300_000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(res.body)))
		w.Write(res.body[:100_000])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	dir := t.TempDir()
	opt := fetchOptions(s, dir, res)
	opt.Progress = func(done, _ int64) {
		if done > 0 {
			cancel() // once bytes have reached the partial file
		}
	}
	_, err := Fetch(ctx, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName+".part"))
	if err != nil || st.Size() == 0 {
		t.Fatalf("partial file not kept: %v", err)
	}
}

func TestContentRange(t *testing.T) {
	for _, c := range []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/1000", 100, 1000, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */1000", -1, 1000, true},
		{"items 1-2/3", 0, 0, false},
		{"bytes 1-2", 0, 0, false},
	} {
		start, total, err := contentRange(c.in)
		if (err == nil) != c.ok || (c.ok && (start != c.start || total != c.total)) {
			t.Errorf("contentRange(%q) = %d, %d, %v", c.in, start, total, err)
		}
	}
}
