package schemas

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Catalog returns the schema of the catalog table written by prediction: the
// object's identity and truth (when known), the predicted class, its
// confidence, one probability column per class named by ProbColumn, and the
// entropy of the predicted distribution. With tta (test-time augmentation),
// it adds the standard deviation of each class probability across views
// (ProbStdColumn) and the number of views.
//
// Catalog panics if ProbColumns reports an error for classNames; callers
// taking class names from user input check them with ProbColumns first.
func Catalog(classNames []string, tta bool) *arrow.Schema {
	probs, err := ProbColumns(classNames)
	if err != nil {
		panic("schemas.Catalog: " + err.Error())
	}
	fields := append(catalogObjectFields(),
		withUCD(field("predicted_class", arrow.PrimitiveTypes.Int16, false, "", "index of the most probable class"), "meta.code.class"),
		withUCD(field("predicted_label", arrow.BinaryTypes.String, false, "", "name of the most probable class"), "src.class"),
		withUCD(field("confidence", arrow.PrimitiveTypes.Float32, false, "", "probability of the predicted class"), "stat.probability"),
	)
	for i, name := range classNames {
		fields = append(fields, withUCD(field(probs[i], arrow.PrimitiveTypes.Float32, false, "",
			fmt.Sprintf("probability of class %d %q", i, name)), "stat.probability"))
	}
	// Entropy is in nats, which VOUnits has no symbol for: the unit is
	// empty and the description says so.
	fields = append(fields, withUCD(field("entropy", arrow.PrimitiveTypes.Float32, false, "",
		"Shannon entropy of the class probabilities, in nats (natural logarithm)"), "stat.value"))
	if tta {
		for i, name := range classNames {
			fields = append(fields, withUCD(field(probs[i]+"_std", arrow.PrimitiveTypes.Float32, false, "",
				fmt.Sprintf("standard deviation across test-time augmentation views of the probability of class %d %q", i, name)),
				"stat.stdev;stat.probability"))
		}
		fields = append(fields, withUCD(field("tta_views", arrow.PrimitiveTypes.Int16, false, "",
			"number of test-time augmentation views averaged"), "meta.number"))
	}
	return tableSchema("catalog", fields)
}

// catalogObjectFields are the first columns of every catalog (Catalog and
// VoteCatalog): the object and, when known, its truth.
func catalogObjectFields() []arrow.Field {
	return []arrow.Field{
		withUCD(field("object_id", arrow.BinaryTypes.String, false, "", "unique identifier of the object"), "meta.id;meta.main"),
		withUCD(field("ra", arrow.PrimitiveTypes.Float64, true, "deg", "right ascension, ICRS"), "pos.eq.ra;meta.main"),
		withUCD(field("dec", arrow.PrimitiveTypes.Float64, true, "deg", "declination, ICRS"), "pos.eq.dec;meta.main"),
		withUCD(field("label", arrow.PrimitiveTypes.Int16, true, "", "true class index, when known"), "meta.code.class"),
		withUCD(field("label_name", arrow.BinaryTypes.String, true, "", "true class name, when known"), "src.class"),
		withUCD(field("split", arrow.BinaryTypes.String, false, "", `dataset split: "train", "val", "test" or ""`), "meta.dataset"),
	}
}

// ProbColumn returns the catalog column holding the probability of a class:
// "p_" followed by the class name in lower case, without a trailing
// " galaxies", with every run of characters other than ASCII letters and
// digits replaced by one underscore. "Barred Spiral Galaxies" becomes
// "p_barred_spiral".
func ProbColumn(className string) string {
	s := strings.ToLower(strings.TrimSpace(className))
	s = strings.TrimSuffix(s, " galaxies")
	var b strings.Builder
	b.WriteString("p_")
	pendingSep := false
	for _, r := range s {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			if pendingSep && b.Len() > len("p_") {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(r)
			continue
		}
		pendingSep = true
	}
	return b.String()
}

// ProbStdColumn returns the catalog column holding the standard deviation
// across test-time augmentation views of a class probability.
func ProbStdColumn(className string) string {
	return ProbColumn(className) + "_std"
}

// ProbColumns returns ProbColumn of every class name, in order. It reports an
// error when there are no classes, when a name has no letter or digit, or when
// two names map to the same column (or one to the other's "_std" column).
func ProbColumns(classNames []string) ([]string, error) {
	if len(classNames) == 0 {
		return nil, fmt.Errorf("no class names")
	}
	cols := make([]string, len(classNames))
	seen := make(map[string]int, len(classNames))
	for i, name := range classNames {
		col := ProbColumn(name)
		if col == "p_" {
			return nil, fmt.Errorf("class %d %q: name has no ASCII letter or digit to build a column name from", i, name)
		}
		if j, dup := seen[col]; dup {
			return nil, fmt.Errorf("classes %d %q and %d %q both map to column %q", j, classNames[j], i, name, col)
		}
		seen[col] = i
		cols[i] = col
	}
	for i, col := range cols {
		if j, clash := seen[col+"_std"]; clash {
			return nil, fmt.Errorf("class %d %q maps to column %q, the standard deviation column of class %d %q",
				j, classNames[j], col+"_std", i, classNames[i])
		}
	}
	return cols, nil
}

// Embedding column of a catalog written with embeddings, and the catalog
// metadata key that gives its width.
const (
	EmbeddingColumn    = "embedding"
	MetaEmbeddingWidth = "astroformer.embedding_width"
)

// EmbeddingField returns the catalog's optional embedding column: the
// model's pooled pre-logits representation of each cutout, width float32
// values, averaged over the test-time views.
func EmbeddingField(width int) arrow.Field {
	f := field(EmbeddingColumn, arrow.FixedSizeListOfNonNullable(int32(width), arrow.PrimitiveTypes.Float32), false, "",
		fmt.Sprintf("pooled pre-logits representation of the cutout (%d values, mean over the test-time views), for similarity search", width))
	return withUCD(f, "src.morph")
}
