package vo

import (
	"encoding/xml"
	"os/exec"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/astroformer/astroformer/schemas"
)

// awkward is a description with characters that need escaping in XML and
// YAML.
const awkward = "a \"quoted\" <tag> & key: value # not a comment\nsecond line, Sérsic"

func awkwardSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{{
		Name: "x: y", Type: arrow.PrimitiveTypes.Float32, Nullable: true,
		Metadata: arrow.NewMetadata([]string{schemas.MetaUnit, schemas.MetaUCD, schemas.MetaDescription},
			[]string{"arcsec/pixel", "instr.scale", awkward}),
	}}, nil)
}

// TestVOParquetContentEscapes parses the VOTable back with encoding/xml.
func TestVOParquetContentEscapes(t *testing.T) {
	var doc struct {
		Fields []struct {
			Name        string `xml:"name,attr"`
			Datatype    string `xml:"datatype,attr"`
			Unit        string `xml:"unit,attr"`
			UCD         string `xml:"ucd,attr"`
			Description string `xml:"DESCRIPTION"`
		} `xml:"RESOURCE>TABLE>FIELD"`
	}
	if err := xml.Unmarshal([]byte(VOParquetContent(awkwardSchema(), "t")), &doc); err != nil {
		t.Fatal(err)
	}
	f := doc.Fields[0]
	if f.Name != "x: y" || f.Datatype != "float" || f.Unit != "arcsec/pixel" || f.UCD != "instr.scale" || f.Description != awkward {
		t.Errorf("field read back as %+v", f)
	}
}

// TestAstropyYAMLEscapes parses the YAML back with astropy, where Debian's
// python3-astropy is installed.
func TestAstropyYAMLEscapes(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import astropy").Run() != nil {
		t.Skip("/usr/bin/python3 with astropy is not installed (Debian python3-astropy)")
	}
	md := map[string]string{"k: 1": awkward}
	y := AstropyYAML(awkwardSchema(), md, []string{"k: 1"})
	script := `
import sys
from astropy.table import meta
h = meta.get_header_from_yaml(sys.argv[1].split("\n"))
c = h["datatype"][0]
assert c["name"] == "x: y" and c["datatype"] == "float32" and c["unit"] == "arcsec/pixel", c
assert c["description"] == sys.argv[2] and c["meta"]["ucd"] == "instr.scale", c
assert h["meta"]["k: 1"] == sys.argv[2], h["meta"]
`
	if out, err := exec.Command("/usr/bin/python3", "-c", script, y, awkward).CombinedOutput(); err != nil {
		t.Errorf("astropy: %v\n%s\n%s", err, out, y)
	}
}

// TestDescribeLists checks the arraysize of list columns.
func TestDescribeLists(t *testing.T) {
	emb := Describe(schemas.EmbeddingField(256))
	if emb.Datatype != "float" || emb.Arraysize != "256" {
		t.Errorf("embedding: %+v", emb)
	}
	l := Describe(arrow.Field{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)})
	if l.Datatype != "int" || l.Arraysize != "*" {
		t.Errorf("list: %+v", l)
	}
}
