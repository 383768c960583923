package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFetchCommand(t *testing.T) {
	body := bytes.Repeat([]byte("galaxy"), 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "g.h5", time.Unix(0, 0), bytes.NewReader(body))
	}))
	defer srv.Close()
	sum := sha256.Sum256(body)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr}
	args := []string{"--dir", dir, "--url", srv.URL + "/files/g.h5", "--sha256", hex.EncodeToString(sum[:]), "galaxy10"}
	if status := c.fetch(context.Background(), args); status != exitOK {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	path := filepath.Join(dir, "g.h5")
	if got := strings.TrimSpace(stdout.String()); got != path {
		t.Errorf("printed %q, want %q", got, path)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, body) {
		t.Errorf("file not downloaded: %v", err)
	}

	stderr.Reset()
	args[len(args)-2] = strings.Repeat("0", 64) // wrong checksum
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if status := c.fetch(context.Background(), args); status != exitFailure || !strings.Contains(stderr.String(), "SHA-256 mismatch") {
		t.Errorf("wrong checksum: status %d, stderr %s", status, stderr.String())
	}
	if status := c.fetch(context.Background(), []string{"mnist"}); status != exitUsage {
		t.Errorf("unknown data set: status %d", status)
	}
}
