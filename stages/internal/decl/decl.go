// Package decl holds what the Decode functions of the stage kinds share:
// a Diagnoser that reports an invalid attribute of a stage block at its
// source range, and the checks of the artifact names every kind declares.
package decl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Diagnoser reports invalid attributes of a stage block as error
// diagnostics appended to a caller's hcl.Diagnostics, each at the
// attribute, or where the block ends when the attribute is not set.
type Diagnoser struct {
	body   hcl.Body
	attrs  hcl.Attributes
	diags  *hcl.Diagnostics
	values bool // Bad reports at the attribute's value, not the whole attribute
	note   func(attr string) string
}

// New returns a Diagnoser for body that appends to *diags and reports at
// the range of the whole attribute (name = value).
func New(body hcl.Body, diags *hcl.Diagnostics) *Diagnoser {
	attrs, _ := body.JustAttributes()
	return &Diagnoser{body: body, attrs: attrs, diags: diags}
}

// NewValues is New for a Diagnoser that reports at the range of the
// attribute's value.
func NewValues(body hcl.Body, diags *hcl.Diagnostics) *Diagnoser {
	d := New(body, diags)
	d.values = true
	return d
}

// NoteUnset makes Bad append note(attr) to the detail of an attribute that
// is not set in the block, for kinds whose values then come from elsewhere
// (a preset); note returns "" for no addition.
func (d *Diagnoser) NoteUnset(note func(attr string) string) {
	d.note = note
}

// Set reports whether attribute name is set in the block.
func (d *Diagnoser) Set(name string) bool {
	_, ok := d.attrs[name]
	return ok
}

// Given reports whether attribute name is set in the block to a value
// other than null: whether it replaces the kind's default.
func (d *Diagnoser) Given(name string) bool {
	a, ok := d.attrs[name]
	return ok && !Null(a, nil)
}

// At returns the range of attribute name (name = value), or of the place
// it is missing from.
func (d *Diagnoser) At(name string) *hcl.Range {
	if a, ok := d.attrs[name]; ok {
		return a.Range.Ptr()
	}
	return d.body.MissingItemRange().Ptr()
}

// Value returns the range of the value of attribute name, or of the place
// it is missing from.
func (d *Diagnoser) Value(name string) *hcl.Range {
	if a, ok := d.attrs[name]; ok {
		return a.Expr.Range().Ptr()
	}
	return d.body.MissingItemRange().Ptr()
}

// Over returns the range spanning those of names that are set, the range
// of the value when only one is, or the place they are missing from.
func (d *Diagnoser) Over(names ...string) *hcl.Range {
	var found []*hcl.Attribute
	for _, n := range names {
		if a, ok := d.attrs[n]; ok {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return d.body.MissingItemRange().Ptr()
	case 1:
		return found[0].Expr.Range().Ptr()
	}
	r := found[0].Range
	for _, a := range found[1:] {
		r = hcl.RangeOver(r, a.Range)
	}
	return &r
}

// Report appends an error diagnostic at subject.
func (d *Diagnoser) Report(subject *hcl.Range, summary, detail string) {
	*d.diags = append(*d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject})
}

// Bad reports attribute attr as invalid.
func (d *Diagnoser) Bad(attr, summary, detail string) {
	if d.note != nil && !d.Set(attr) {
		detail += d.note(attr)
	}
	subject := d.At(attr)
	if d.values {
		subject = d.Value(attr)
	}
	d.Report(subject, summary, detail)
}

// CheckEmpty reports attribute attr, naming an artifact, when its value is
// empty: "Empty <attr>", with the detail "<attr> names <what>.".
func (d *Diagnoser) CheckEmpty(attr, value, what string) {
	if value == "" {
		d.Bad(attr, "Empty "+attr, attr+" names "+what+".")
	}
}

// CheckOverwrite reports an output, not empty, equal to the input:
// "Output overwrites input" at output, with the detail "input and output
// are both <input>" followed by more (such as ".").
func (d *Diagnoser) CheckOverwrite(input, output, more string) {
	if input != "" && input == output {
		d.Bad("output", "Output overwrites input", fmt.Sprintf("input and output are both %q", input)+more)
	}
}
