package manifest

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem of a manifest.
type FieldError struct {
	// File is the file name given to Parse, or the path given to Load.
	File string
	// Line and Column locate the problem, 1-based. For a field, they point
	// at its key; for a list item, at the item. Column is 0 when only the
	// line is known (YAML syntax errors); both are 0 when neither is.
	Line, Column int
	// Field is the path of the field at fault, such as
	// "spec.backend.routes[1].path", or "" for the whole file.
	Field string
	// Message says what is wrong, in lower case.
	Message string
	// Err is the underlying cause, when there is one (a YAML syntax error,
	// a memory size that does not parse); its text is already in Message.
	Err error
}

// Error returns the problem as "file:line:column: field: message", leaving
// out the parts that are unknown or empty.
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// Unwrap returns the underlying cause, or nil.
func (e FieldError) Unwrap() error { return e.Err }

// ValidationError lists every problem found in a manifest, ordered by
// position. Parse and Load return it as a *ValidationError.
type ValidationError struct {
	Errors []FieldError
}

// Error returns one line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, each a FieldError, so that errors.As and
// errors.Is reach them and their causes.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}

// newValidationError sorts errs by position; problems found at the same
// position keep the order in which they were found.
func newValidationError(errs []FieldError) *ValidationError {
	errs = slices.Clone(errs)
	slices.SortStableFunc(errs, func(a, b FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return &ValidationError{Errors: errs}
}
