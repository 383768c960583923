package fits

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/stages/internal/source"
)

// scratchBytes is what a worker holds besides the buffers of cutoutCost:
// a block of the data being read, and a gzip reader.
const scratchBytes = 1 << 17

// chooseWorkers returns the number of converting goroutines when workers
// is 0: one per CPU, but no more than budget bytes hold at perWorker bytes
// each, and at least one. Without a budget or an estimate (0) it is cpus.
func chooseWorkers(cpus int, budget, perWorker int64) int {
	cpus = max(cpus, 1)
	if budget <= 0 || perWorker <= 0 {
		return cpus
	}
	return int(max(1, min(int64(cpus), budget/perWorker)))
}

// cutoutCost is the memory a worker needs for a cutout of files files of
// w×h pixels and planes planes each: the fluxes of every band, as float32;
// with size, a row of sums and, when size is larger than the image, the
// enlarged planes; the RGB pixels; with keep_raw, the raw fluxes; and
// scratchBytes.
func (s *stage) cutoutCost(w, h, planes, files int) int64 {
	bands := int64(planes) * int64(files)
	outH, outW := int64(h), int64(w)
	cost := 4*bands*outH*outW + scratchBytes
	if size := int64(s.p.Size); size > 0 {
		outH, outW = size, size
		cost += 8 * size
		if size > int64(min(w, h)) {
			cost += 4 * bands * size * size
		}
	}
	cost += 3 * outH * outW
	if s.p.KeepRaw {
		cost += 4 * bands * outH * outW
	}
	return cost
}

// workerCount returns the workers attribute when set; otherwise it chooses
// the number of workers with chooseWorkers, from the memory budget
// (source.MemoryBudget) and the cost of a cutout like the one of the
// largest input file, and logs the choice and why.
func (s *stage) workerCount(units []unit, log hclog.Logger) int {
	if s.p.Workers > 0 {
		return s.p.Workers
	}
	cpus := runtime.GOMAXPROCS(0)
	if cpus == 1 || len(units) <= 1 {
		return 1
	}
	budget, from := source.MemoryBudget(s.memory)
	if budget == 0 {
		log.Info("workers", "workers", cpus, "why", "one per CPU: "+from)
		return cpus
	}
	cost, what := s.largestCost(units)
	n := chooseWorkers(cpus, budget, cost)
	why := "one per CPU"
	if n < cpus {
		why = "fewer than the CPUs, for the memory budget"
	}
	log.Info("workers", "workers", n, "why", why, "cpus", cpus,
		"budget", source.FormatBytes(budget), "budget from", from,
		"per worker", source.FormatBytes(cost), "estimated from", what)
	return n
}

// largestCost estimates the cost of the largest cutout from the header of
// the largest input file (by its size uncompressed) and says which file
// that is. When that header cannot be read, the estimate is twice the
// file's size.
func (s *stage) largestCost(units []unit) (int64, string) {
	var big bandFile
	var bigSize int64 = -1
	files := 1
	for _, u := range units {
		for _, f := range u.files {
			if n := expandedSize(f.path); n > bigSize {
				big, bigSize, files = f, n, len(u.files)
			}
		}
	}
	sc := new(scratch)
	im, closeFile, err := sc.openImage(big.path)
	if err != nil {
		return 2 * bigSize, fmt.Sprintf("%s (%s; its header: %v)", big.rel, source.FormatBytes(bigSize), err)
	}
	defer closeFile()
	what := fmt.Sprintf("%s (%d×%d pixels × %d planes × %d files, BITPIX %d)",
		big.rel, im.Width(), im.Height(), im.Planes(), files, im.Bitpix)
	return s.cutoutCost(im.Width(), im.Height(), im.Planes(), files), what
}

// expandedSize is the size of a file, or of a .gz file uncompressed as its
// gzip trailer gives it (modulo 4 GiB), or 0 when it cannot be read.
func expandedSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if !strings.HasSuffix(strings.ToLower(path), ".gz") || st.Size() < 4 {
		return st.Size()
	}
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var isize [4]byte
	if _, err := f.ReadAt(isize[:], st.Size()-4); err != nil && err != io.EOF {
		return st.Size()
	}
	return max(st.Size(), int64(binary.LittleEndian.Uint32(isize[:])))
}
