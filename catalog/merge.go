package catalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/table"
)

// MergeOptions control Merge.
type MergeOptions struct {
	// KeepShards leaves the shards folder in place after a successful
	// merge; by default it is removed (the merged table shares its files).
	KeepShards bool
}

// shardDir is one committed shard folder found by Merge.
type shardDir struct {
	name     string // folder name, e.g. "shard-0003-of-0008"
	path     string
	shard    Shard // as recorded in the manifest
	manifest *table.Manifest
}

// Merge turns the shards of a prediction run, the folders under
// ShardsDir(output) written by runs with --shard i/n, into the table output.
// It checks that shards 0..n-1 are all present exactly once and committed,
// that they were made by the same stage parameters and software, from the
// same checkpoint and input, with the same schema, and that every part file
// matches its recorded SHA-256. The part files are then hard-linked (copied
// where the file system cannot link) into a staging folder in shard order,
// so the rows come in the order an unsharded run writes them, and the
// merged manifest is committed atomically. Errors name the shard folders
// concerned.
func Merge(ctx context.Context, output string, opt MergeOptions) (*table.Manifest, error) {
	shards, err := findShards(output)
	if err != nil {
		return nil, err
	}
	if err := checkShards(shards); err != nil {
		return nil, fmt.Errorf("merge %s: %w", output, err)
	}
	for _, s := range shards {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := table.Verify(s.path); err != nil {
			return nil, fmt.Errorf("merge %s: shard %s: %w", output, s.name, err)
		}
	}
	staging, err := artifact.Stage(output)
	if err != nil {
		return nil, err
	}
	m, err := mergeInto(ctx, staging, output, shards)
	if err == nil {
		err = artifact.WriteManifest(staging, m)
	}
	if err == nil {
		err = artifact.Commit(staging, output)
	}
	if err != nil {
		artifact.Discard(staging)
		return nil, err
	}
	if !opt.KeepShards {
		if err := os.RemoveAll(ShardsDir(output)); err != nil {
			return m, fmt.Errorf("merged %s, but removing its shards: %w", output, err)
		}
	}
	return m, nil
}

// findShards reads the manifest of every shard folder of output, in shard
// order. Missing, duplicate and foreign shards are left to checkShards.
func findShards(output string) ([]shardDir, error) {
	dir := ShardsDir(output)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("merge %s: no shards folder %s: run the prediction with --shard INDEX/COUNT first", output, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("merge %s: %w", output, err)
	}
	var shards []shardDir
	var unfinished []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".staging-") {
			unfinished = append(unfinished, e.Name())
			continue
		}
		named, ok := parseShardName(e.Name())
		if !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		m, err := artifact.ReadManifest(path)
		if err != nil {
			return nil, fmt.Errorf("merge %s: shard folder %s: %w", output, e.Name(), err)
		}
		if m.Format != artifact.TableFormat {
			return nil, fmt.Errorf("merge %s: shard folder %s holds %q, not a table", output, e.Name(), m.Format)
		}
		recorded, err := ParseShard(m.Metadata[MetaShard])
		if err != nil {
			return nil, fmt.Errorf("merge %s: shard folder %s: manifest metadata %s: %w", output, e.Name(), MetaShard, err)
		}
		if recorded != named {
			return nil, fmt.Errorf("merge %s: shard folder %s holds shard %s according to its manifest: it was renamed or copied; remove it or rerun shard %s",
				output, e.Name(), recorded, named)
		}
		shards = append(shards, shardDir{name: e.Name(), path: path, shard: recorded, manifest: m})
	}
	if len(shards) == 0 {
		msg := fmt.Sprintf("merge %s: no committed shard folders (shard-IIII-of-NNNN) in %s", output, dir)
		if len(unfinished) > 0 {
			msg += "; unfinished: " + strings.Join(unfinished, ", ") + " (interrupted, or still running)"
		}
		return nil, errors.New(msg)
	}
	slices.SortStableFunc(shards, func(a, b shardDir) int {
		if a.shard.Count != b.shard.Count {
			return a.shard.Count - b.shard.Count
		}
		return a.shard.Index - b.shard.Index
	})
	if err := checkComplete(shards, unfinished); err != nil {
		return nil, fmt.Errorf("merge %s: %w", output, err)
	}
	return shards, nil
}

// checkComplete checks that shards, sorted by count and index, are exactly
// the shards 0..n-1 of one count n.
func checkComplete(shards []shardDir, unfinished []string) error {
	n := shards[0].shard.Count
	for _, s := range shards[1:] {
		if s.shard.Count != n {
			return fmt.Errorf("shards of runs split differently: %s is shard %s, %s is shard %s; remove the folders of the run that is not wanted",
				shards[0].name, shards[0].shard, s.name, s.shard)
		}
	}
	var missing []string
	seen := make(map[int]string, len(shards))
	for _, s := range shards {
		if other, dup := seen[s.shard.Index]; dup {
			return fmt.Errorf("shard %s is present twice: %s and %s; remove one", s.shard, other, s.name)
		}
		seen[s.shard.Index] = s.name
	}
	for i := range n {
		if _, ok := seen[i]; !ok {
			missing = append(missing, shardName(Shard{Index: i, Count: n}))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d shards missing: %s", len(missing), n, strings.Join(missing, ", "))
	var pending []string
	for _, u := range unfinished {
		for _, m := range missing {
			if strings.HasPrefix(u, "."+m+".staging-") {
				pending = append(pending, u)
			}
		}
	}
	if len(pending) > 0 {
		msg += "; unfinished staging folders: " + strings.Join(pending, ", ") + " (interrupted, or still running)"
	}
	return errors.New(msg + "; run the missing shards, then merge again")
}

// checkShards checks that every shard was made like the first one.
func checkShards(shards []shardDir) error {
	ref := shards[0]
	for _, s := range shards[1:] {
		for _, c := range []struct{ what, a, b, hint string }{
			{"checkpoint SHA-256", ref.manifest.Metadata[MetaCheckpointSHA256], s.manifest.Metadata[MetaCheckpointSHA256], "rerun the shards made with the wrong checkpoint"},
			{"input fingerprint", ref.manifest.Metadata[MetaInputFingerprint], s.manifest.Metadata[MetaInputFingerprint], "the input table changed between shards; rerun them all"},
			{"schema fingerprint", ref.manifest.SchemaFingerprint, s.manifest.SchemaFingerprint, "the shards have different columns (class names or tta); rerun them alike"},
			{"parameters and version fingerprint", ref.manifest.Fingerprint, s.manifest.Fingerprint, "the shards ran with different options or astroformer versions; rerun them alike"},
		} {
			if c.a != c.b {
				return fmt.Errorf("%s has %s %s, but %s has %s: %s", ref.name, c.what, orNone(c.a), s.name, orNone(c.b), c.hint)
			}
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// mergeInto links the shards' parts into staging in order and returns the
// merged manifest.
func mergeInto(ctx context.Context, staging, output string, shards []shardDir) (*table.Manifest, error) {
	ref := shards[0].manifest
	m := *ref
	m.Name = filepath.Base(filepath.Clean(output))
	m.Created = time.Now().UTC()
	m.Parts = nil
	m.Rows = 0
	m.Metadata = maps.Clone(ref.Metadata)
	delete(m.Metadata, MetaShard)
	m.Metadata[MetaShards] = strconv.Itoa(len(shards))
	for _, s := range shards {
		for _, p := range s.manifest.Parts {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			name := fmt.Sprintf("part-%05d.parquet", len(m.Parts))
			if err := artifact.LinkOrCopy(filepath.Join(s.path, p.File), filepath.Join(staging, name)); err != nil {
				return nil, fmt.Errorf("merge %s: shard %s: %w", output, s.name, err)
			}
			p.File = name
			m.Parts = append(m.Parts, p)
			m.Rows += p.Rows
		}
	}
	return &m, nil
}
