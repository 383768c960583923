package imagefolder

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/astroformer/astroformer/stages/internal/manifest"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// item is one image file to convert.
type item struct {
	path      string // file to read
	rel       string // slash-separated path relative to the folder or manifest: the default object_id and the source
	objectID  string
	label     *int16
	labelName *string
	ra, dec   *float64
	position  string // where the item is listed, for rejects: "manifest.csv line 3"; "file" for a folder walk
	reject    string // set when the item is rejected before reading
}

// hasExt reports whether name ends with one of exts, ignoring case.
func hasExt(name string, exts []string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.ContainsFunc(exts, func(e string) bool { return strings.ToLower(e) == ext })
}

// walkImages returns the slash-separated paths, relative to root, of the
// files under dir (itself under root) with one of exts, in lexical order.
// Hidden files and folders (name starting with ".") are skipped.
func walkImages(root, dir string, exts []string) ([]string, error) {
	var rels []string
	err := source.WalkFiles(dir, func(path string, d fs.DirEntry) error {
		if !hasExt(d.Name(), exts) {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	return rels, err
}

// folderItems lists the images under root. With classes, every immediate
// subfolder of root is a class, labelled by its index in sorted order, and
// images directly under root are rejected; without, every image is
// unlabelled. It returns the class names in label order.
func folderItems(root string, exts []string, classes bool) ([]item, []string, error) {
	if !classes {
		rels, err := walkImages(root, root, exts)
		if err != nil {
			return nil, nil, err
		}
		items := make([]item, len(rels))
		for i, rel := range rels {
			items[i] = item{path: filepath.Join(root, filepath.FromSlash(rel)), rel: rel, objectID: rel, position: "file"}
		}
		return items, nil, nil
	}
	entries, err := os.ReadDir(root) // sorted by name
	if err != nil {
		return nil, nil, err
	}
	var items []item
	var names []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case e.IsDir():
			names = append(names, e.Name())
		case hasExt(e.Name(), exts):
			items = append(items, item{
				path: filepath.Join(root, e.Name()), rel: e.Name(), objectID: e.Name(), position: "file",
				reject: "image is not inside a class folder",
			})
		}
	}
	if len(names) > 1<<15 {
		return nil, nil, fmt.Errorf("%s: %d class folders, at most %d", root, len(names), 1<<15)
	}
	for l, name := range names {
		rels, err := walkImages(root, filepath.Join(root, name), exts)
		if err != nil {
			return nil, nil, err
		}
		label, labelName := int16(l), name
		for _, rel := range rels {
			items = append(items, item{
				path: filepath.Join(root, filepath.FromSlash(rel)), rel: rel, objectID: rel, position: "file",
				label: &label, labelName: &labelName,
			})
		}
	}
	return items, names, nil
}

// manifestItems lists the images of a manifest, and the class names in
// label order when every label from 0 to the largest has a name.
func manifestItems(path string) ([]item, []string, error) {
	entries, err := manifest.Read(path)
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Dir(path)
	base := filepath.Base(path)
	items := make([]item, len(entries))
	for i, e := range entries {
		rel := manifest.RelPath(dir, e.Path)
		items[i] = item{
			path: e.Path, rel: rel, objectID: e.ObjectID,
			label: e.Label, labelName: e.LabelName, ra: e.RA, dec: e.Dec,
			position: base + " " + e.Position,
		}
		if items[i].objectID == "" {
			items[i].objectID = rel
		}
	}
	return items, manifest.ClassNames(entries), nil
}
