package artifact

import (
	"os"
	"sync"
	"time"
)

// A process keeps the owner files of the staging folders it claimed fresh:
// every heartbeatInterval it sets their modification time to now. A process
// on another host cannot be signalled to learn whether it still runs, so its
// staging folder is taken to be abandoned once its owner file has gone
// unrefreshed for longer than Lease. A batch task requeued on another node
// (Slurm's --requeue, a rescheduled pod) therefore resumes the staging folder
// of the task it replaces after at most Lease.
//
// The comparison is between the owner file's modification time, set by the
// file system, and this host's clock: on a shared file system the hosts'
// clocks must agree to well within Lease, as NTP keeps them.
const Lease = 5 * time.Minute

// heartbeatInterval is how often owner files are refreshed; a tenth of
// Lease, so that a late beat or two never lets a live folder be taken.
var heartbeatInterval = Lease / 10

// beats is the set of owner files this process refreshes.
var beats heartbeats

type heartbeats struct {
	mu      sync.Mutex
	files   map[string]bool
	running bool
}

// add starts refreshing the owner file at path.
func (h *heartbeats) add(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.files == nil {
		h.files = make(map[string]bool)
	}
	h.files[path] = true
	if !h.running {
		h.running = true
		go h.run()
	}
}

// remove stops refreshing the owner file at path.
func (h *heartbeats) remove(path string) {
	h.mu.Lock()
	delete(h.files, path)
	h.mu.Unlock()
}

func (h *heartbeats) run() {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for now := range t.C {
		h.beat(now)
	}
}

// beat refreshes every owner file still held by this process. A file that
// is gone, or that now names another owner (the folder was taken over), is
// dropped from the set.
func (h *heartbeats) beat(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for path := range h.files {
		if o, ok := readOwnerFile(path); !ok || !o.self() {
			delete(h.files, path)
			continue
		}
		if err := os.Chtimes(path, now, now); err != nil {
			delete(h.files, path)
		}
	}
}

// held reports whether the owner file at path is refreshed by this process.
func (h *heartbeats) held(path string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.files[path]
}
