package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func idSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{{Name: "object_id", Type: arrow.BinaryTypes.String}}, nil)
}

// writeShard commits shard s of output: rows [first, first+rows) named
// "obj-N", in parts of 2 rows, made with the given checkpoint hash.
func writeShard(t *testing.T, output string, s Shard, first, rows int, checkpoint string) {
	t.Helper()
	b := array.NewStringBuilder(memory.DefaultAllocator)
	for i := first; i < first+rows; i++ {
		b.Append(fmt.Sprintf("obj-%d", i))
	}
	col := b.NewArray()
	rec := array.NewRecord(idSchema(), []arrow.Array{col}, int64(rows))
	defer rec.Release()
	col.Release()
	tabletest.Write(t, ShardDir(output, s), idSchema(), table.Options{
		RowsPerPart: 2,
		Metadata: map[string]string{
			MetaShard: s.String(), MetaCheckpointSHA256: checkpoint, MetaInputFingerprint: "input",
			MetaClassNames: `["a","b"]`,
		},
		Manifest: artifact.Manifest{Name: filepath.Base(output), Stage: "predict", Kind: "predict", Fingerprint: "fp", Producer: "test"},
	}, rec)
}

// writeShards writes the three shards of 7 rows (2, 2 and 3 rows).
func writeShards(t *testing.T, output string) {
	t.Helper()
	for i := range 3 {
		s := Shard{Index: i, Count: 3}
		lo, hi := s.Rows(7)
		writeShard(t, output, s, int(lo), int(hi-lo), "ckpt")
	}
}

func TestMerge(t *testing.T) {
	output := filepath.Join(t.TempDir(), "catalog")
	writeShards(t, output)
	m, err := Merge(context.Background(), output, MergeOptions{KeepShards: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tabletest.Strings(t, output, "object_id"), " "); got != "obj-0 obj-1 obj-2 obj-3 obj-4 obj-5 obj-6" {
		t.Errorf("merged rows %q, want obj-0 to obj-6 in order", got)
	}
	if m.Rows != 7 || len(m.Parts) != 4 || m.Name != "catalog" || m.Metadata[MetaShards] != "3" || m.Metadata[MetaClassNames] != `["a","b"]` {
		t.Errorf("manifest: %+v", m)
	}
	if _, ok := m.Metadata[MetaShard]; ok {
		t.Error("merged manifest keeps a shard's index")
	}
	if err := table.Verify(output); err != nil {
		t.Fatal(err)
	}
	// The parts are the shards' files, linked, not rewritten.
	a, err := os.Stat(filepath.Join(output, "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.Stat(filepath.Join(ShardDir(output, Shard{Index: 0, Count: 3}), "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(a, b) {
		t.Error("merged part is a copy, not a hard link of the shard's")
	}
	// Merging again without keeping the shards removes them.
	if _, err := Merge(context.Background(), output, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ShardsDir(output)); !os.IsNotExist(err) {
		t.Errorf("shards folder still there: %v", err)
	}
	if got := len(tabletest.Strings(t, output, "object_id")); got != 7 {
		t.Errorf("%d rows after the second merge, want 7", got)
	}
}

func TestMergeErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, output string)
		want  []string
	}{
		{"missing shard", func(t *testing.T, output string) {
			writeShards(t, output)
			os.RemoveAll(ShardDir(output, Shard{Index: 1, Count: 3}))
			os.Mkdir(filepath.Join(ShardsDir(output), ".shard-0001-of-0003.staging-abcd"), 0o755)
		}, []string{"1 of 3 shards missing: shard-0001-of-0003", "unfinished staging folders: .shard-0001-of-0003.staging-abcd"}},
		{"duplicate shard", func(t *testing.T, output string) {
			writeShards(t, output)
			copyDir(t, ShardDir(output, Shard{Index: 2, Count: 3}), filepath.Join(ShardsDir(output), "shard-2-of-3"))
		}, []string{"shard 2/3 is present twice", "shard-0002-of-0003", "shard-2-of-3"}},
		{"renamed shard", func(t *testing.T, output string) {
			writeShards(t, output)
			os.RemoveAll(ShardDir(output, Shard{Index: 2, Count: 3}))
			copyDir(t, ShardDir(output, Shard{Index: 1, Count: 3}), ShardDir(output, Shard{Index: 2, Count: 3}))
		}, []string{"shard folder shard-0002-of-0003 holds shard 1/3"}},
		{"inconsistent checkpoint", func(t *testing.T, output string) {
			writeShards(t, output)
			s := Shard{Index: 1, Count: 3}
			os.RemoveAll(ShardDir(output, s))
			writeShard(t, output, s, 2, 2, "other")
		}, []string{"shard-0000-of-0003 has checkpoint SHA-256 ckpt, but shard-0001-of-0003 has other"}},
		{"different shard counts", func(t *testing.T, output string) {
			writeShards(t, output)
			writeShard(t, output, Shard{Index: 0, Count: 2}, 0, 3, "ckpt")
		}, []string{"shards of runs split differently", "shard-0000-of-0002", "shard-0000-of-0003"}},
		{"no shards", func(t *testing.T, output string) {}, []string{"no shards folder"}},
		{"corrupt part", func(t *testing.T, output string) {
			writeShards(t, output)
			path := filepath.Join(ShardDir(output, Shard{Index: 1, Count: 3}), "part-00000.parquet")
			data, _ := os.ReadFile(path)
			data[10] ^= 0xff
			os.WriteFile(path, data, 0o644)
		}, []string{"shard shard-0001-of-0003", "SHA-256"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			output := filepath.Join(t.TempDir(), "catalog")
			c.setup(t, output)
			_, err := Merge(context.Background(), output, MergeOptions{})
			if err == nil {
				t.Fatal("merge succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := os.Stat(output); !os.IsNotExist(err) {
				t.Errorf("a failed merge left %s: %v", output, err)
			}
		})
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestShards(t *testing.T) {
	// Shards cover every row once, in order.
	for _, n := range []int{1, 2, 3, 7} {
		for _, total := range []int64{0, 1, 5, 100} {
			var next int64
			for i := range n {
				lo, hi := Shard{Index: i, Count: n}.Rows(total)
				if lo != next || hi < lo {
					t.Fatalf("%d rows, shard %d/%d: [%d, %d) after row %d", total, i, n, lo, hi, next)
				}
				next = hi
			}
			if next != total {
				t.Fatalf("%d rows in %d shards end at %d", total, n, next)
			}
		}
	}
	for _, c := range []struct {
		in   string
		want Shard
		err  bool
	}{
		{"3/8", Shard{3, 8}, false}, {" 0/1 ", Shard{0, 1}, false},
		{"8/8", Shard{}, true}, {"-1/4", Shard{}, true}, {"3", Shard{}, true}, {"a/b", Shard{}, true}, {"1/0", Shard{}, true},
	} {
		got, err := ParseShard(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseShard(%q) = %v, %v", c.in, got, err)
		}
	}
	if s, ok := parseShardName("shard-0003-of-0008"); !ok || s != (Shard{3, 8}) {
		t.Errorf("parseShardName: %v %v", s, ok)
	}
	for _, bad := range []string{"shard-3", "shard-a-of-8", "shard-9-of-8", "shard--1-of-8", "xshard-1-of-2"} {
		if _, ok := parseShardName(bad); ok {
			t.Errorf("parseShardName(%q) accepted", bad)
		}
	}
	if got := ShardDir("/w/catalog/", Shard{3, 8}); got != "/w/catalog.shards/shard-0003-of-0008" {
		t.Errorf("ShardDir = %s", got)
	}
}

func TestShardFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cases := []struct {
		name   string
		getenv func(string) string
		shards int
		want   Shard
		found  bool
		err    string
	}{
		{"none", env(), 0, Shard{}, false, ""},
		{"slurm", env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "8", EnvSlurmTaskMin, "0"), 0, Shard{3, 8}, true, ""},
		{"slurm from 1", env(EnvSlurmTaskID, "8", EnvSlurmTaskCount, "8", EnvSlurmTaskMin, "1"), 0, Shard{7, 8}, true, ""},
		{"slurm without count", env(EnvSlurmTaskID, "3"), 0, Shard{}, true, EnvSlurmTaskCount},
		{"slurm with a step", env(EnvSlurmTaskID, "8", EnvSlurmTaskCount, "4", EnvSlurmTaskMin, "0"), 0, Shard{}, true, "contiguous"},
		{"slurm and --shards disagree", env(EnvSlurmTaskID, "1", EnvSlurmTaskCount, "4"), 8, Shard{}, true, "disagrees"},
		{"kubernetes with --shards", env(EnvK8sIndex, "5"), 6, Shard{5, 6}, true, ""},
		{"kubernetes with env", env(EnvK8sIndex, "0", EnvShards, "2"), 0, Shard{0, 2}, true, ""},
		{"kubernetes without count", env(EnvK8sIndex, "0"), 0, Shard{}, true, EnvShards},
		{"kubernetes index too large", env(EnvK8sIndex, "4", EnvShards, "4"), 0, Shard{}, true, "index < count"},
		{"garbage", env(EnvK8sIndex, "x"), 2, Shard{}, true, "not an integer"},
	}
	for _, c := range cases {
		got, found, err := ShardFromEnv(c.getenv, c.shards)
		if found != c.found || got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v %v %v, want %v %v error containing %q", c.name, got, found, err, c.want, c.found, c.err)
		}
	}
}
