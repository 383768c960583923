package tinyimagenet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Files and folders of the tiny-imagenet-200 layout.
const (
	WnidsFile          = "wnids.txt"
	WordsFile          = "words.txt"
	TrainDir           = "train"
	ValDir             = "val"
	ValAnnotationsFile = "val_annotations.txt"
)

// item is one image to convert, or a row of val_annotations.txt to reject.
type item struct {
	path     string // image file, relative to the data set folder (slash-separated)
	label    int    // index in wnids; -1 for a rejected annotation
	split    string
	position string // "val_annotations.txt line N" for val images, "file" for train images
	reject   string // why the annotation cannot be used
}

// readLines calls fn with each non-blank line of the file at path and its
// 1-based number; an error from fn is returned prefixed with path and line.
func readLines(path string, fn func(line int, text string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return scanLines(f, path, fn)
}

func scanLines(r io.Reader, name string, fn func(line int, text string) error) error {
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if err := fn(line, text); err != nil {
			return fmt.Errorf("%s: line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// readWnids reads wnids.txt: one WordNet id per line, in label order.
func readWnids(path string) ([]string, error) {
	var wnids []string
	seen := map[string]int{}
	err := readLines(path, func(line int, text string) error {
		id := strings.TrimSpace(text)
		if strings.ContainsAny(id, " \t/") {
			return fmt.Errorf("%q is not a WordNet id", id)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("%s already on line %d", id, prev)
		}
		seen[id] = line
		wnids = append(wnids, id)
		return nil
	})
	if err == nil && len(wnids) == 0 {
		err = fmt.Errorf("%s: no WordNet ids", path)
	}
	return wnids, err
}

// classNames returns the label name of each wnid: the first synonym of its
// words.txt line ("n01443537\tgoldfish, Carassius auratus" gives
// "goldfish"). A wnid missing from words.txt is named by itself. When two
// classes would share a name, each such name gets " (<wnid>)" appended so
// that names stay unique.
func classNames(wordsPath string, wnids []string) ([]string, error) {
	want := map[string]int{}
	for i, id := range wnids {
		want[id] = i
	}
	names := slices.Clone(wnids)
	err := readLines(wordsPath, func(line int, text string) error {
		id, words, ok := strings.Cut(text, "\t")
		if !ok {
			return errors.New("expected a WordNet id, a tab and the words")
		}
		if i, ok := want[strings.TrimSpace(id)]; ok {
			first, _, _ := strings.Cut(words, ",")
			if first = strings.TrimSpace(first); first != "" {
				names[i] = first
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = fmt.Sprintf("%s (%s)", n, wnids[i])
		}
	}
	return names, nil
}

// trainItems lists train/<wnid>/images/* for each wnid in label order, the
// files of each class sorted by name.
func trainItems(root string, wnids []string, split string) ([]item, error) {
	var items []item
	for label, id := range wnids {
		dir := filepath.Join(root, TrainDir, id, "images")
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			items = append(items, item{
				path:  TrainDir + "/" + id + "/images/" + e.Name(),
				label: label, split: split, position: "file",
			})
		}
	}
	return items, nil
}

// valItems reads val/val_annotations.txt ("val_0.JPEG\tn03444034\t0\t32\t44\t62":
// file, wnid, bounding box) in file order. An annotation with an unknown
// wnid becomes an item to reject; a line without a file and a wnid is an
// error.
func valItems(root string, wnids []string, split string) ([]item, error) {
	labels := map[string]int{}
	for i, id := range wnids {
		labels[id] = i
	}
	var items []item
	err := readLines(filepath.Join(root, ValDir, ValAnnotationsFile), func(line int, text string) error {
		fields := strings.Split(text, "\t")
		if len(fields) < 2 || strings.TrimSpace(fields[0]) == "" {
			return fmt.Errorf("expected a file name and a WordNet id separated by a tab, found %q", text)
		}
		file, id := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		if strings.ContainsAny(file, `/\`) {
			return fmt.Errorf("file name %q contains a path separator", file)
		}
		it := item{path: ValDir + "/images/" + file, split: split, position: fmt.Sprintf("%s line %d", ValAnnotationsFile, line)}
		if l, ok := labels[id]; ok {
			it.label = l
		} else {
			it.label = -1
			it.reject = fmt.Sprintf("WordNet id %q is not in %s", id, WnidsFile)
		}
		items = append(items, it)
		return nil
	})
	return items, err
}
