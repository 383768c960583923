package fits

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/astroformer/astroformer/stages/internal/manifest"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// unit is one cutout to make: one FITS file, or one file per band.
type unit struct {
	files     []bandFile
	objectID  string
	position  string // where the unit is listed: "list.csv line 3"; "file" otherwise
	ra, dec   *float64
	label     *int16
	labelName *string
}

// bandFile is an input file and, for one-file-per-band units, its band.
type bandFile struct {
	path string // to open
	rel  string // slash-separated, relative to the input folder: the source column
	band string
}

// trimFITSExt returns name without its FITS extension (.fits, .fit or
// .fts, optionally followed by .gz, any case) and whether it had one.
func trimFITSExt(name string) (string, bool) {
	lower := strings.ToLower(name)
	for _, ext := range []string{".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz"} {
		if strings.HasSuffix(lower, ext) {
			return name[:len(name)-len(ext)], true
		}
	}
	return name, false
}

// isGlob reports whether path has glob metacharacters.
func isGlob(path string) bool { return strings.ContainsAny(path, "*?[") }

// globRoot is the folder part of a pattern before its first metacharacter.
func globRoot(pattern string) string {
	i := strings.IndexAny(pattern, "*?[")
	return filepath.Dir(pattern[:i+1])
}

// listUnits lists the cutouts to make from path: a manifest, a glob, a
// folder (walked recursively for FITS files, hidden entries skipped), or a
// single file. single reports the last case.
func listUnits(path string) (units []unit, names []string, single bool, err error) {
	switch {
	case manifest.IsManifest(path):
		units, names, err = manifestUnits(path)
		return units, names, false, err
	case isGlob(path):
		matches, err := filepath.Glob(path)
		if err != nil {
			return nil, nil, false, fmt.Errorf("%s: %w", path, err)
		}
		root := globRoot(path)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				continue
			}
			units = append(units, fileUnit(m, manifest.RelPath(root, m)))
		}
		return units, nil, false, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, false, err
	}
	if !st.IsDir() {
		return []unit{fileUnit(path, filepath.Base(path))}, nil, true, nil
	}
	err = source.WalkFiles(path, func(p string, d fs.DirEntry) error {
		if _, ok := trimFITSExt(d.Name()); !ok {
			return nil
		}
		units = append(units, fileUnit(p, manifest.RelPath(path, p)))
		return nil
	})
	return units, nil, false, err
}

func fileUnit(path, rel string) unit {
	id, _ := trimFITSExt(rel)
	return unit{files: []bandFile{{path: path, rel: rel}}, objectID: id, position: "file"}
}

// manifestUnits groups the rows of a manifest into units: rows with a band
// are grouped by object_id, in order of first appearance, their bands in
// row order; other rows are a unit each.
func manifestUnits(path string) ([]unit, []string, error) {
	entries, err := manifest.Read(path)
	if err != nil {
		return nil, nil, err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	var units []unit
	group := map[string]int{} // object_id -> unit index
	for _, e := range entries {
		rel := manifest.RelPath(dir, e.Path)
		pos := base + " " + e.Position
		if e.Band == "" {
			u := fileUnit(e.Path, rel)
			if e.ObjectID != "" {
				u.objectID = e.ObjectID
			}
			u.position, u.ra, u.dec, u.label, u.labelName = pos, e.RA, e.Dec, e.Label, e.LabelName
			units = append(units, u)
			continue
		}
		if e.ObjectID == "" {
			return nil, nil, fmt.Errorf("%s: %s: a row with a band needs an object_id to group the bands of one object", path, e.Position)
		}
		i, ok := group[e.ObjectID]
		if !ok {
			i = len(units)
			group[e.ObjectID] = i
			units = append(units, unit{objectID: e.ObjectID, position: pos})
		}
		u := &units[i]
		for _, f := range u.files {
			if f.band == e.Band {
				return nil, nil, fmt.Errorf("%s: %s: object %q has band %q twice", path, e.Position, e.ObjectID, e.Band)
			}
		}
		u.files = append(u.files, bandFile{path: e.Path, rel: rel, band: e.Band})
		if u.ra == nil && e.RA != nil {
			u.ra, u.dec = e.RA, e.Dec
		}
		if u.label == nil && e.Label != nil {
			u.label = e.Label
		}
		if u.labelName == nil && e.LabelName != nil {
			u.labelName = e.LabelName
		}
	}
	return units, manifest.ClassNames(entries), nil
}
