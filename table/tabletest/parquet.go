package tabletest

import (
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// ParquetFile opens the Parquet file at path with arrow-go's own reader, as
// an independent check of what the table package writes. The file stays
// open until the end of the test; an error stops the test.
func ParquetFile(t testing.TB, path string) *file.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pf
}
