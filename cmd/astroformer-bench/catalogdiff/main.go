// Command catalogdiff compares two catalogs of the same cutouts, such as
// one predicted in fp32 and one in bf16 (BENCHMARKS.md, "Reduced precision
// (bf16)"): the share of objects given the same top-1 class, and the
// largest absolute difference of a class probability. It prints one JSON
// line.
//
//	catalogdiff -a runs/bf16/fp32 -b runs/bf16/bf16 -split test
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// prediction is what catalogdiff compares of one object.
type prediction struct {
	class int16
	probs []float32
}

// result is the JSON line.
type result struct {
	Split           string  `json:"split"`
	Objects         int     `json:"objects"`
	Top1Agreement   float64 `json:"top1_agreement"`
	Top1Differ      int     `json:"top1_differ"`
	MaxAbsProbDiff  float64 `json:"max_abs_prob_diff"`
	MeanAbsProbDiff float64 `json:"mean_abs_prob_diff"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "catalogdiff:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("catalogdiff", flag.ContinueOnError)
	a := fs.String("a", "", "first catalog table `FOLDER`")
	b := fs.String("b", "", "second catalog table `FOLDER`, of the same objects and classes")
	split := fs.String("split", "test", `compare the objects of this split only ("" for all)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *a == "" || *b == "" {
		return fmt.Errorf("-a and -b are required")
	}
	pa, classes, err := read(*a, *split)
	if err != nil {
		return err
	}
	pb, classesB, err := read(*b, *split)
	if err != nil {
		return err
	}
	if !slices.Equal(classes, classesB) {
		return fmt.Errorf("class names differ: %q, %q", classes, classesB)
	}
	if len(pa) != len(pb) || len(pa) == 0 {
		return fmt.Errorf("%d objects in %s and %d in %s (split %q): want the same, at least one", len(pa), *a, len(pb), *b, *split)
	}
	res := result{Split: *split, Objects: len(pa)}
	var sum float64
	for id, x := range pa {
		y, ok := pb[id]
		if !ok {
			return fmt.Errorf("object %q is in %s only", id, *a)
		}
		if x.class != y.class {
			res.Top1Differ++
		}
		for k := range x.probs {
			d := math.Abs(float64(x.probs[k]) - float64(y.probs[k]))
			res.MaxAbsProbDiff = max(res.MaxAbsProbDiff, d)
			sum += d
		}
	}
	res.Top1Agreement = 1 - float64(res.Top1Differ)/float64(res.Objects)
	res.MeanAbsProbDiff = sum / float64(res.Objects*len(classes))
	return json.NewEncoder(os.Stdout).Encode(res)
}

// read returns the predictions of the catalog in dir for the objects of
// split ("" for all), by object id, and its class names.
func read(dir, split string) (map[string]prediction, []string, error) {
	t, err := table.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	var classes []string
	if err := json.Unmarshal([]byte(t.Manifest().Metadata[catalog.MetaClassNames]), &classes); err != nil {
		return nil, nil, fmt.Errorf("%s: class names: %w", dir, err)
	}
	out := map[string]prediction{}
	sc := t.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	for sc.Next() {
		r, err := schemas.NewCatalogReader(sc.Record(), classes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		for i := range int(sc.Record().NumRows()) {
			row := r.Row(i)
			if split != "" && row.Split != split {
				continue
			}
			if _, dup := out[row.ObjectID]; dup {
				return nil, nil, fmt.Errorf("%s: object %q twice", dir, row.ObjectID)
			}
			out[row.ObjectID] = prediction{class: row.PredictedClass, probs: row.Probs}
		}
	}
	return out, classes, sc.Err()
}
