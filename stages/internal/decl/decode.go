package decl

import (
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// Decode decodes a stage block into params, a pointer to a struct that
// holds the kind's defaults (or its preset's values): each field with an
// hcl tag, `hcl:"<name>"` for a required attribute or `hcl:"<name>,optional"`,
// takes the value of that attribute when the block sets it; an optional
// attribute the block leaves out, or sets to null, keeps the field's value.
// Fields of embedded structs without an hcl tag are attributes too, so that
// kinds can share some. The block may hold no other attribute, nor blocks.
//
// The diagnostics are those gohcl.DecodeBody gives for a struct of the
// same attributes, with source ranges.
func Decode(body hcl.Body, ctx *hcl.EvalContext, params any) hcl.Diagnostics {
	content, diags := body.Content(Schema(params))
	return append(diags, Assign(content, ctx, params)...)
}

// Schema returns the schema of the attributes of params (see Decode),
// sorted by name as gohcl's are.
func Schema(params any) *hcl.BodySchema {
	schema := &hcl.BodySchema{}
	eachField(reflect.ValueOf(params).Elem(), func(name string, required bool, _ reflect.Value) {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name, Required: required})
	})
	slices.SortFunc(schema.Attributes, func(a, b hcl.AttributeSchema) int { return strings.Compare(a.Name, b.Name) })
	return schema
}

// Assign decodes the attributes of content into the fields of params that
// name them (see Decode).
func Assign(content *hcl.BodyContent, ctx *hcl.EvalContext, params any) hcl.Diagnostics {
	var diags hcl.Diagnostics
	eachField(reflect.ValueOf(params).Elem(), func(name string, required bool, field reflect.Value) {
		attr, ok := content.Attributes[name]
		if !ok {
			return
		}
		if !required && Null(attr, ctx) {
			return
		}
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, ctx, field.Addr().Interface())...)
	})
	return diags
}

// eachField calls f for each field of the struct v with an hcl tag, and
// those of its embedded structs without one, in field order.
func eachField(v reflect.Value, f func(name string, required bool, field reflect.Value)) {
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		tag, ok := sf.Tag.Lookup("hcl")
		switch {
		case ok:
			name, opt, _ := strings.Cut(tag, ",")
			f(name, opt != "optional", v.Field(i))
		case sf.Anonymous && sf.Type.Kind() == reflect.Struct:
			eachField(v.Field(i), f)
		}
	}
}

// Null reports whether attr's value is null: an optional attribute set to
// null is as one left out.
func Null(attr *hcl.Attribute, ctx *hcl.EvalContext) bool {
	v, diags := attr.Expr.Value(ctx)
	return !diags.HasErrors() && v.IsNull()
}
