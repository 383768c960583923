package export

import (
	"os/exec"
	"strings"
	"testing"
)

// toolScripts are the astropy checks of each format: the file must read
// with the units, UCDs and provenance written.
var toolScripts = map[Format]string{
	FITS: `
import sys
from astropy.table import Table
t = Table.read(sys.argv[1])
assert len(t) == 30, len(t)
assert str(t["ra"].unit) == "deg", t["ra"].unit
assert t.meta["MODEL"] == "astroformer_nano" and t.meta["CLASS1"] == "Barred Spiral", t.meta
assert t.meta["CKSHA256"] == "ab" * 32 and t.meta["JOB"] == "demo", t.meta
assert t["label"].mask[1] and not t["label"].mask[0], t["label"]
assert t.meta["CKPT"] == sys.argv[2], t.meta["CKPT"]
`,
	VOTable: `
import sys
from astropy.io.votable import parse
v = parse(sys.argv[1], verify="exception").get_first_table()
t = v.to_table()
assert len(t) == 30, len(t)
assert str(t["ra"].unit) == "deg", t["ra"].unit
f = {x.name: x for x in v.fields}
assert f["ra"].ucd == "pos.eq.ra;meta.main" and f["p"].ucd == "stat.probability", f
assert t["label"].mask[1] and not t["label"].mask[0]
`,
	CSV: `
import sys
from astropy.table import Table
t = Table.read(sys.argv[1], format="ascii.csv")
assert len(t) == 30, len(t)
assert t.colnames[0] == "object_id", t.colnames
`,
}

// checkWithTools reads an export with Debian's tools where they are
// installed: fitsverify (FITS), astropy (every format), stilts (FITS and
// VOTable). Each missing tool is skipped with the reason.
func checkWithTools(t *testing.T, f Format, path string) {
	if f == FITS {
		if _, err := exec.LookPath("fitsverify"); err != nil {
			t.Log("skipping fitsverify: not installed (Debian fitsverify)")
		} else {
			out, _ := exec.Command("fitsverify", path).CombinedOutput()
			if !strings.Contains(string(out), "0 warning(s) and 0 error(s)") {
				t.Errorf("fitsverify:\n%s", out)
			}
		}
	}
	if exec.Command("/usr/bin/python3", "-c", "import astropy").Run() != nil {
		t.Log("skipping the astropy check: /usr/bin/python3 with astropy is not installed (Debian python3-astropy)")
	} else if out, err := exec.Command("/usr/bin/python3", "-c", toolScripts[f], path, longCheckpoint).CombinedOutput(); err != nil {
		t.Errorf("astropy: %v\n%s", err, out)
	}
	if f == CSV {
		return
	}
	if _, err := exec.LookPath("stilts"); err != nil {
		t.Log("skipping stilts: not installed (Debian stilts)")
		return
	}
	out, err := exec.Command("stilts", "tpipe", "in="+path, "cmd=meta Name Units UCD", "ofmt=csv", "out=-").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ra,deg,pos.eq.ra;meta.main") {
		t.Errorf("stilts tpipe cmd=meta: %v\n%s", err, out)
	}
}
