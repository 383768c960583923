package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strconv"
)

// CanonicalJSON encodes v as JSON with object keys sorted at every level and
// no insignificant whitespace, so that equal values always encode to equal
// bytes regardless of struct field order. Numbers keep their textual form.
func CanonicalJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic) // encoding/json sorts map keys
}

// Input is one input artifact of a stage, as it enters the fingerprint.
type Input struct {
	Name        string
	Fingerprint string // from the artifact's manifest
}

// Fingerprint is the hex SHA-256 of everything that determines a stage's
// outputs: kind, name, canonical params JSON (see CanonicalJSON), the job
// seed, the inputs in declared order, and the revision of the stage kind's
// behaviour (see Revisioned). The astroformer version is not part of it: an
// upgrade reruns only the stages whose revision changed, and the outputs
// that depend on them.
func Fingerprint(kind, name string, params json.RawMessage, seed int64, inputs []Input, revision string) string {
	h := sha256.New()
	field := func(s string) { // length-prefixed, so fields cannot run together
		writeLen(h, len(s))
		h.Write([]byte(s))
	}
	field("astroformer.fingerprint/1")
	field(kind)
	field(name)
	field(string(params))
	field(strconv.FormatInt(seed, 10))
	writeLen(h, len(inputs))
	for _, in := range inputs {
		field(in.Name)
		field(in.Fingerprint)
	}
	field(revision)
	return hex.EncodeToString(h.Sum(nil))
}

func writeLen(h hash.Hash, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}
