package schemas

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestUnitsAndUCDs checks every unit of every schema with astropy's VOUnits
// parser and every UCD with its UCD1+ checker (warnings are errors), where
// Debian's python3-astropy is installed; and that the main columns have
// their UCDs.
func TestUnitsAndUCDs(t *testing.T) {
	var units, ucds []string
	embedding := arrow.NewSchema([]arrow.Field{EmbeddingField(8)}, nil)
	for _, s := range []*arrow.Schema{Cutouts(), Catalog([]string{"a", "b"}, true), Rejects(), Metrics(), embedding} {
		for _, f := range s.Fields() {
			if u, _ := f.Metadata.GetValue(MetaUnit); u != "" {
				units = append(units, u)
			}
			if u, _ := f.Metadata.GetValue(MetaUCD); u != "" {
				ucds = append(ucds, u)
			}
		}
	}
	cat := Catalog([]string{"a"}, false)
	for col, want := range map[string]string{"object_id": "meta.id;meta.main", "ra": "pos.eq.ra;meta.main",
		"dec": "pos.eq.dec;meta.main", "predicted_label": "src.class", "p_a": "stat.probability"} {
		f, _ := cat.FieldsByName(col)
		if got, _ := f[0].Metadata.GetValue(MetaUCD); got != want {
			t.Errorf("catalog column %s: UCD %q, want %q", col, got, want)
		}
	}
	if exec.Command("/usr/bin/python3", "-c", "import astropy").Run() != nil {
		t.Skip("astropy checks skipped: /usr/bin/python3 with astropy is not installed (Debian python3-astropy)")
	}
	script := `
import sys, warnings
warnings.simplefilter("error")
import astropy.units as u
from astropy.io.votable import ucd
units, ucds = sys.argv[1].split("\n"), sys.argv[2].split("\n")
for x in units:
    u.Unit(x, format="vounit")
for x in ucds:
    assert ucd.check_ucd(x, check_controlled_vocabulary=True), x
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, strings.Join(units, "\n"), strings.Join(ucds, "\n")).CombinedOutput()
	if err != nil {
		t.Errorf("astropy: %v\n%s", err, out)
	}
}
