package catalog

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Shard is one of Count disjoint parts of a prediction run: shard Index
// processes rows [Index·N/Count, (Index+1)·N/Count) of an N-row input, so the
// shards taken in index order cover the input in its own order.
type Shard struct {
	Index, Count int
}

// String returns "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Sharded reports whether s is one of several shards.
func (s Shard) Sharded() bool { return s.Count > 1 }

// Validate reports whether 0 ≤ Index < Count.
func (s Shard) Validate() error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %d/%d: want 0 ≤ index < count", s.Index, s.Count)
	}
	return nil
}

// Rows returns the half-open range of rows [lo, hi) of an input of total
// rows that the shard processes.
func (s Shard) Rows(total int64) (lo, hi int64) {
	return total * int64(s.Index) / int64(s.Count), total * int64(s.Index+1) / int64(s.Count)
}

// ParseShard parses "i/n" (0 ≤ i < n), as given to --shard.
func ParseShard(text string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(text), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT, e.g. 3/8 (indexes start at 0)", text)
	}
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT, two integers, e.g. 3/8", text)
	}
	s := Shard{Index: index, Count: count}
	if err := s.Validate(); err != nil {
		return Shard{}, err
	}
	return s, nil
}

// Environment variables ShardFromEnv reads.
const (
	EnvSlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvK8sIndex       = "JOB_COMPLETION_INDEX"
	EnvShards         = "ASTROFORMER_SHARDS"
)

// ShardFromEnv works out the shard of a process started by a batch system,
// reading variables with getenv (os.Getenv in production):
//
//   - a Slurm job array (sbatch --array=0-7): index SLURM_ARRAY_TASK_ID minus
//     SLURM_ARRAY_TASK_MIN, count SLURM_ARRAY_TASK_COUNT. The array must be a
//     contiguous range without a step;
//   - a Kubernetes Indexed Job: index JOB_COMPLETION_INDEX, count shards, or
//     ASTROFORMER_SHARDS when shards is 0 (Kubernetes does not tell a pod
//     the number of completions).
//
// found is false when neither system's variables are set. shards, when not
// 0, must agree with the count found.
func ShardFromEnv(getenv func(string) string, shards int) (s Shard, found bool, err error) {
	atoi := func(name string) (int, error) {
		v, err := strconv.Atoi(strings.TrimSpace(getenv(name)))
		if err != nil {
			return 0, fmt.Errorf("%s=%q: not an integer", name, getenv(name))
		}
		return v, nil
	}
	switch {
	case getenv(EnvSlurmTaskID) != "":
		id, err := atoi(EnvSlurmTaskID)
		if err != nil {
			return Shard{}, true, err
		}
		if getenv(EnvSlurmTaskCount) == "" {
			return Shard{}, true, fmt.Errorf("%s is set but %s is not: run as a Slurm job array (sbatch --array=0-N)", EnvSlurmTaskID, EnvSlurmTaskCount)
		}
		count, err := atoi(EnvSlurmTaskCount)
		if err != nil {
			return Shard{}, true, err
		}
		first := 0
		if getenv(EnvSlurmTaskMin) != "" {
			if first, err = atoi(EnvSlurmTaskMin); err != nil {
				return Shard{}, true, err
			}
		}
		s = Shard{Index: id - first, Count: count}
		if err := s.Validate(); err != nil {
			return Shard{}, true, fmt.Errorf("Slurm array task %d of %d starting at %d: %w (the array must be a contiguous range such as --array=0-%d)",
				id, count, first, err, count-1)
		}
		if shards != 0 && shards != s.Count {
			return Shard{}, true, fmt.Errorf("--shards %d disagrees with the %d tasks of the Slurm array", shards, s.Count)
		}
		return s, true, nil
	case getenv(EnvK8sIndex) != "":
		index, err := atoi(EnvK8sIndex)
		if err != nil {
			return Shard{}, true, err
		}
		count := shards
		if count == 0 {
			if getenv(EnvShards) == "" {
				return Shard{}, true, fmt.Errorf("%s is set but the shard count is not: pass --shards N or set %s to the Job's completions", EnvK8sIndex, EnvShards)
			}
			if count, err = atoi(EnvShards); err != nil {
				return Shard{}, true, err
			}
		}
		s = Shard{Index: index, Count: count}
		if err := s.Validate(); err != nil {
			return Shard{}, true, fmt.Errorf("Kubernetes completion index %d with %d shards: %w", index, count, err)
		}
		return s, true, nil
	}
	return Shard{}, false, nil
}

// ShardsDir returns the folder that holds the shards of the table output:
// "<output>.shards".
func ShardsDir(output string) string { return filepath.Clean(output) + ".shards" }

// ShardDir returns the folder a shard of output writes:
// "<output>.shards/shard-0003-of-0008".
func ShardDir(output string, s Shard) string {
	return filepath.Join(ShardsDir(output), shardName(s))
}

func shardName(s Shard) string { return fmt.Sprintf("shard-%04d-of-%04d", s.Index, s.Count) }

// parseShardName parses a shard folder name made by shardName, with any
// zero padding: "shard-<index>-of-<count>".
func parseShardName(name string) (Shard, bool) {
	rest, ok := strings.CutPrefix(name, "shard-")
	if !ok {
		return Shard{}, false
	}
	i, n, ok := strings.Cut(rest, "-of-")
	if !ok || !digits(i) || !digits(n) {
		return Shard{}, false
	}
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	s := Shard{Index: index, Count: count}
	if err1 != nil || err2 != nil || s.Validate() != nil {
		return Shard{}, false
	}
	return s, true
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
