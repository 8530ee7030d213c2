package manifest

import (
	"cmp"
	"fmt"
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
func (e FieldError) Error() string { return locate(e.File, e.Line, e.Column, e.Field, e.Message) }

// locate formats a message as "file:line:column: field: message", leaving
// out the parts that are unknown or empty.
func locate(file string, line, col int, field, msg string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		b.WriteString(":" + strconv.Itoa(line))
		if col > 0 {
			b.WriteString(":" + strconv.Itoa(col))
		}
	}
	if field != "" {
		b.WriteString(": " + field)
	}
	b.WriteString(": " + msg)
	return b.String()
}

// Unwrap returns the underlying cause, or nil.
func (e FieldError) Unwrap() error { return e.Err }

// ValidationError lists the problems found in a manifest, ordered by
// position: every one, up to MaxProblems, then one that counts the others.
// Parse and Load return it as a *ValidationError.
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

// Warning is something a lenient reading (Options.Lenient) accepted
// although kspbench does not use it: an unknown key, a section of the
// KubeStellar UI that only its frontend reads, a backend without routes.
type Warning struct {
	// File, Line, Column and Field locate it, as in FieldError.
	File         string
	Line, Column int
	Field        string
	// Message says what was accepted and what becomes of it, in lower case.
	Message string
}

// String returns the warning as "file:line:column: field: message".
func (w Warning) String() string { return locate(w.File, w.Line, w.Column, w.Field, w.Message) }

// problems collects the errors and warnings of one reading, at most
// MaxProblems of each; past that it only counts them.
type problems struct {
	file         string
	errs         []FieldError
	warns        []Warning
	droppedErrs  int
	droppedWarns int
}

// errorsFull reports whether another error would only be counted: callers
// check it before they spend time on a message.
func (p *problems) errorsFull() bool { return len(p.errs) >= MaxProblems }

// warningsFull reports whether another warning would only be counted.
func (p *problems) warningsFull() bool { return len(p.warns) >= MaxProblems }

// errorCount is the number of errors found, listed or not.
func (p *problems) errorCount() int { return len(p.errs) + p.droppedErrs }

// addError records an error at line and col; the text of field is built
// only when the error is listed.
func (p *problems) addError(line, col int, field fieldPath, err error, format string, args ...any) {
	if p.errorsFull() {
		p.droppedErrs++
		return
	}
	p.errs = append(p.errs, FieldError{File: p.file, Line: line, Column: col, Field: field.String(),
		Message: fmt.Sprintf(format, args...), Err: err})
}

// addWarning records a warning at line and col.
func (p *problems) addWarning(line, col int, field string, format string, args ...any) {
	if p.warningsFull() {
		p.droppedWarns++
		return
	}
	p.warns = append(p.warns, Warning{File: p.file, Line: line, Column: col, Field: field,
		Message: fmt.Sprintf(format, args...)})
}

// validationError returns the errors sorted by position, problems found at
// the same position in the order in which they were found, followed by a
// count of those left out.
func (p *problems) validationError() *ValidationError {
	errs := slices.Clone(p.errs)
	slices.SortStableFunc(errs, func(a, b FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if p.droppedErrs > 0 {
		errs = append(errs, FieldError{File: p.file, Message: fmt.Sprintf(
			"%d more problems not listed (at most %d are, those found first; manifest.MaxProblems)",
			p.droppedErrs, MaxProblems)})
	}
	return &ValidationError{Errors: errs}
}

// warnings returns the warnings sorted as validationError sorts errors.
func (p *problems) warnings() []Warning {
	if len(p.warns) == 0 {
		return nil
	}
	warns := slices.Clone(p.warns)
	slices.SortStableFunc(warns, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if p.droppedWarns > 0 {
		warns = append(warns, Warning{File: p.file, Message: fmt.Sprintf(
			"%d more warnings not listed (at most %d are, those found first; manifest.MaxProblems)",
			p.droppedWarns, MaxProblems)})
	}
	return warns
}
