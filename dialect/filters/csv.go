package filters

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// csvFilter renders a two-dimensional array as CSV text the way Ruby's CSV
// library does: fields are quoted when they hold the delimiter, a quote or a
// line break, empty strings are quoted and nil is left empty.
func csvFilter(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("csv", args, 0, 1); err != nil {
		return nil, err
	}
	if err := checkKwargs("csv", kwargs, "delimiter", "include_bom"); err != nil {
		return nil, err
	}
	var delim any = ","
	if len(args) == 1 {
		delim = args[0]
	}
	if d, ok := kwarg(kwargs, "delimiter"); ok {
		delim = d
	}
	sep, err := csvDelimiter("csv", delim)
	if err != nil {
		return nil, err
	}
	rows, ok := toArray(input)
	if !ok {
		return nil, errorf("csv: expected an array of rows, got %s", value.TypeName(input))
	}
	var b strings.Builder
	if kwBool(kwargs, "include_bom", false) {
		b.WriteString("\uFEFF")
	}
	for _, r := range rows {
		fields, ok := toArray(r)
		if !ok {
			if r == nil {
				fields = nil
			} else {
				return nil, errorf("csv: expected each row to be an array, got %s", value.TypeName(r))
			}
		}
		for i, f := range fields {
			if i > 0 {
				b.WriteString(sep)
			}
			writeCSVField(&b, f, sep)
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

func writeCSVField(b *strings.Builder, f any, sep string) {
	if f == nil {
		return
	}
	s := value.ToS(f)
	if s == "" || strings.Contains(s, sep) || strings.ContainsAny(s, "\"\r\n") {
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(s, `"`, `""`))
		b.WriteByte('"')
		return
	}
	b.WriteString(s)
}

func csvDelimiter(name string, d any) (string, error) {
	s, ok := d.(string)
	if !ok || s == "" {
		return "", errorf("%s: delimiter must be a non-empty string", name)
	}
	if utf8.RuneCountInString(s) != 1 {
		return "", errorf("%s: delimiter must be a single character, got %q", name, s)
	}
	if s == `"` || s == "\n" || s == "\r" {
		return "", errorf("%s: invalid delimiter %q", name, s)
	}
	return s, nil
}

// parseCSV reads CSV text into an array of rows, or with headers: true into
// an array of hashes keyed by the first row.
func parseCSV(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("parse_csv", args, 0, 0); err != nil {
		return nil, err
	}
	if err := checkKwargs("parse_csv", kwargs, "headers", "delimiter"); err != nil {
		return nil, err
	}
	s, err := str("parse_csv", input)
	if err != nil {
		return nil, err
	}
	sep := ","
	if d, ok := kwarg(kwargs, "delimiter"); ok {
		if sep, err = csvDelimiter("parse_csv", d); err != nil {
			return nil, err
		}
	}
	rows, err := readCSV(s, sep)
	if err != nil {
		return nil, wrapErr("parse_csv", err)
	}
	if !kwBool(kwargs, "headers", false) {
		out := make([]any, len(rows))
		for i, r := range rows {
			out[i] = r
		}
		return out, nil
	}
	out := []any{}
	if len(rows) == 0 {
		return out, nil
	}
	headers := rows[0]
	for _, r := range rows[1:] {
		// As CSV::Row#to_h: fields past the headers have a nil header, and
		// the first of duplicate headers wins (nil headers become "").
		m := value.NewMap(len(headers))
		for i := 0; i < max(len(headers), len(r)); i++ {
			var key string
			if i < len(headers) {
				key = value.ToString(headers[i])
			}
			if m.Has(key) {
				continue
			}
			var v any
			if i < len(r) {
				v = r[i]
			}
			m.Set(key, v)
		}
		out = append(out, m)
	}
	return out, nil
}

// csvError is a malformed-CSV failure, worded as Ruby's CSV library words it.
type csvError struct {
	msg  string
	line int
}

func (e *csvError) Error() string { return e.msg + " in line " + strconv.Itoa(e.line) + "." }

// readCSV parses CSV text. Unquoted empty fields are nil and quoted empty
// fields are "", as in Ruby. The row separator is the first of "\r\n",
// "\n" or "\r" found in the text.
func readCSV(s, sep string) ([][]any, error) {
	rowSep := "\n"
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		switch {
		case strings.HasPrefix(s[i:], "\r\n"):
			rowSep = "\r\n"
		case s[i] == '\r':
			rowSep = "\r"
		}
	}
	var rows [][]any
	line := 1
	pos := 0
	for pos < len(s) {
		row := []any{}
		if strings.HasPrefix(s[pos:], rowSep) {
			rows = append(rows, row)
			pos += len(rowSep)
			line++
			continue
		}
		startLine := line
		for {
			// one field
			if pos < len(s) && s[pos] == '"' {
				pos++
				var f strings.Builder
				closed := false
				for pos < len(s) {
					c := s[pos]
					if c == '"' {
						if pos+1 < len(s) && s[pos+1] == '"' {
							f.WriteByte('"')
							pos += 2
							continue
						}
						pos++
						closed = true
						break
					}
					if c == '\n' {
						line++
					}
					f.WriteByte(c)
					pos++
				}
				if !closed {
					return nil, &csvError{"Unclosed quoted field", startLine}
				}
				row = append(row, f.String())
				if pos < len(s) && !strings.HasPrefix(s[pos:], sep) && !strings.HasPrefix(s[pos:], rowSep) {
					return nil, &csvError{"Any value after quoted field isn't allowed", startLine}
				}
			} else {
				end := pos
				for end < len(s) && !strings.HasPrefix(s[end:], sep) && !strings.HasPrefix(s[end:], rowSep) {
					end++
				}
				field := s[pos:end]
				if strings.Contains(field, `"`) {
					return nil, &csvError{"Illegal quoting", line}
				}
				if strings.ContainsAny(field, "\r\n") {
					return nil, &csvError{"Unquoted fields do not allow new line <" + value.InspectString(string(field[strings.IndexAny(field, "\r\n")])) + ">", line}
				}
				if field == "" {
					row = append(row, nil)
				} else {
					row = append(row, field)
				}
				pos = end
			}
			if pos < len(s) && strings.HasPrefix(s[pos:], sep) {
				pos += len(sep)
				continue
			}
			break
		}
		rows = append(rows, row)
		if strings.HasPrefix(s[pos:], rowSep) {
			pos += len(rowSep)
			line++
		}
	}
	return rows, nil
}
