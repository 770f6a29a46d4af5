// Package importer streams public dataset formats into domain records.
//
// Every reader calls emit once per data row, in input order, with a
// domain.Record whose Raw field holds the source row as a JSON object
// (column name → value as in the source). A row that cannot be parsed is not
// fatal: its Record has Err set, no typed item, and Raw kept when possible.
// Readers return an error only when the input itself is unreadable (I/O
// error, missing header columns, not the expected format at all) or when
// emit returns an error, which stops the read and is returned wrapped.
//
// Readers hold one row at a time in memory; ReadIMDbTSV additionally loads
// the ratings file into a map before streaming the basics file.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/curiodata/curio/internal/domain"
)

// Format names accepted by callers that pick a reader by name.
const (
	FormatMoviesCSV    = "movies-csv"    // Kaggle IMDB-5000 movie_metadata.csv, read by ReadMoviesCSV
	FormatIMDbTSV      = "imdb-tsv"      // IMDb title.basics.tsv + title.ratings.tsv, read by ReadIMDbTSV
	FormatMoMAArtists  = "moma-artists"  // MoMA Artists CSV or JSON, read by ReadMoMAArtists
	FormatMoMAArtworks = "moma-artworks" // MoMA Artworks JSON or CSV, read by ReadMoMAArtworks
)

// Source names written to domain.Record.Source and the typed items.
const (
	sourceIMDb5000     = "imdb-5000"
	sourceIMDbTSV      = "imdb-tsv"
	sourceMoMAArtists  = "moma-artists"
	sourceMoMAArtworks = "moma-artworks"
)

// Formats returns the names of the supported input formats.
func Formats() []string {
	return []string{FormatMoviesCSV, FormatIMDbTSV, FormatMoMAArtists, FormatMoMAArtworks}
}

// rowKey is the Record.Key of a row whose stable id is unknown.
func rowKey(row int) string { return "row-" + strconv.Itoa(row) }

// emitRecord calls emit and wraps its error with the row key.
func emitRecord(emit func(domain.Record) error, rec domain.Record) error {
	if err := emit(rec); err != nil {
		return fmt.Errorf("emit %s: %w", rec.Key, err)
	}
	return nil
}

// newBufReader wraps r, skips a UTF-8 byte order mark and leading white
// space, and returns the first remaining byte (0 at end of input).
func newBufReader(r io.Reader) (*bufio.Reader, byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if p, err := br.Peek(3); err == nil && bytes.Equal(p, []byte("\uFEFF")) {
		if _, err := br.Discard(3); err != nil {
			return nil, 0, err
		}
	}
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return br, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if err := br.UnreadByte(); err != nil {
			return nil, 0, err
		}
		return br, b, nil
	}
}

// clean returns s as valid UTF-8: input that is not UTF-8 is decoded as
// Windows-1252, the usual encoding of such files.
func clean(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	if d, err := charmap.Windows1252.NewDecoder().String(s); err == nil {
		return d
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// text trims white space (including U+00A0) from s.
func text(s string) string { return strings.TrimSpace(s) }

// rawObject marshals a column → value map as a JSON object.
func rawObject(m csvRow) []byte {
	b, err := json.Marshal(m)
	if err != nil { // cannot happen for map[string]string
		return []byte("{}")
	}
	return b
}

// rawFields pairs header names with the fields of a row. Fields beyond the
// header are kept under "_extra_N" names.
func rawFields(header, fields []string) csvRow {
	m := make(csvRow, len(fields))
	for i, f := range fields {
		name := fmt.Sprintf("_extra_%d", i-len(header)+1)
		if i < len(header) {
			name = header[i]
		}
		m[name] = clean(f)
	}
	return m
}

// parseInt parses a whole number that may be written as a float ("2009.0").
// Empty input means unknown and yields 0.
func parseInt(name, s string) (int, error) {
	s = text(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s %q is not a whole number", name, s)
	}
	return int(f), nil
}

// parseFloat parses a decimal number; empty input yields 0.
func parseFloat(name, s string) (float64, error) {
	s = text(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s %q is not a number", name, s)
	}
	return f, nil
}

// checkRange reports an error when v is outside [lo, hi]; 0 means unknown
// and is always accepted.
func checkRange(name string, v, lo, hi float64) error {
	if v != 0 && (v < lo || v > hi) {
		return fmt.Errorf("%s %v is out of range %v–%v", name, v, lo, hi)
	}
	return nil
}

// splitList splits s on sep, trims the parts and drops empty ones.
func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = text(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkHeader trims the header names in place (dropping a byte order mark)
// and reports the required names that are missing.
func checkHeader(header []string, required ...string) error {
	have := make(map[string]bool, len(header))
	for i, h := range header {
		h = text(strings.TrimPrefix(h, "\uFEFF"))
		header[i] = h
		have[h] = true
	}
	var missing []string
	for _, r := range required {
		if !have[r] {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("header lacks required columns: %s", strings.Join(missing, ", "))
	}
	return nil
}

// csvRows reads a CSV header, checks the required columns and calls fn for
// each data row with its 1-based row number, the 1-based file line where it
// starts, its fields by column name (values as in the source, made valid
// UTF-8) and a row-level problem (wrong field count, bad quoting) or nil.
func csvRows(r io.Reader, required []string, fn func(row, line int, fields csvRow, problem error) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("empty input: no csv header")
	}
	if err != nil {
		return fmt.Errorf("read csv header: %w", err)
	}
	header = append([]string(nil), header...)
	if err := checkHeader(header, required...); err != nil {
		return err
	}
	for row := 1; ; row++ {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var line int
		var problem error
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("read csv row %d: %w", row, err)
			}
			line, problem = pe.StartLine, pe.Err
		} else {
			line, _ = cr.FieldPos(0)
			if len(fields) != len(header) {
				problem = fmt.Errorf("has %d fields, want %d", len(fields), len(header))
			}
		}
		if err := fn(row, line, rawFields(header, fields), problem); err != nil {
			return err
		}
	}
}

// rowError formats a row-level problem with the data row and file line.
func rowError(row, line int, err error) error {
	return fmt.Errorf("row %d (line %d): %w", row, line, err)
}

// elementError formats a problem with a JSON array element.
func elementError(n int, err error) error {
	return fmt.Errorf("element %d: %w", n, err)
}

// jsonElements streams a JSON array of values, or a sequence of JSON values
// (newline-delimited JSON), calling fn with each element's 1-based number and
// its compacted text.
func jsonElements(br *bufio.Reader, fn func(n int, elem []byte) error) error {
	dec := json.NewDecoder(br)
	first, _ := br.Peek(1)
	array := len(first) == 1 && first[0] == '['
	if array {
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("read json: %w", err)
		}
	}
	var buf bytes.Buffer
	for n := 1; ; n++ {
		if array && !dec.More() {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if !array && errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read json element %d: %w", n, err)
		}
		buf.Reset()
		if err := json.Compact(&buf, raw); err != nil {
			return fmt.Errorf("read json element %d: %w", n, err)
		}
		if err := fn(n, bytes.Clone(buf.Bytes())); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("read json: end of array: %w", err)
	}
	return nil
}

// jsonRow is one decoded JSON object. Its accessors turn scalars into text
// so that CSV and JSON rows share the same field parsing.
type jsonRow map[string]json.RawMessage

// decodeJSONRow decodes elem as an object. When elem is not an object the
// returned raw wraps it as {"_value": elem} so that Raw stays an object.
func decodeJSONRow(elem []byte) (jsonRow, []byte, error) {
	if len(elem) == 0 || elem[0] != '{' {
		kind := "a scalar"
		switch {
		case len(elem) > 0 && elem[0] == '[':
			kind = "an array"
		case len(elem) > 0 && elem[0] == '"':
			kind = "a string"
		case bytes.Equal(elem, []byte("null")):
			kind = "null"
		}
		raw := append(append([]byte(`{"_value":`), elem...), '}')
		return nil, raw, fmt.Errorf("is %s, not an object", kind)
	}
	var m jsonRow
	if err := json.Unmarshal(elem, &m); err != nil {
		return nil, elem, fmt.Errorf("decode object: %w", err)
	}
	return m, elem, nil
}

// scalar returns the text of a JSON scalar: strings unquoted, numbers and
// booleans as written, null as "".
func scalar(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return "", true
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case '[', '{':
		return "", false
	}
	return string(v), true
}

// str returns the field as text. A one-element array is taken as its element,
// longer arrays are joined with ", ".
func (m jsonRow) str(key string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", nil
	}
	if s, ok := scalar(v); ok {
		return s, nil
	}
	parts, err := m.list(key, func(s string) []string { return []string{s} })
	if err != nil {
		return "", err
	}
	return strings.Join(parts, ", "), nil
}

// list returns the field as a list: arrays element by element, a string
// through split (the CSV-style encoding), another scalar as one element.
// Empty values are dropped.
func (m jsonRow) list(key string, split func(string) []string) ([]string, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		var out []string
		for _, e := range elems {
			s, ok := scalar(e)
			if !ok {
				return nil, fmt.Errorf("%s holds a nested array or object", key)
			}
			if s = text(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	s, ok := scalar(v)
	if !ok {
		return nil, fmt.Errorf("%s is an object, want a list", key)
	}
	if len(v) > 0 && v[0] == '"' {
		return split(s), nil
	}
	if s == "" {
		return nil, nil
	}
	return []string{s}, nil
}

// csvRow is one CSV row keyed by header name.
type csvRow map[string]string

// str returns the field as in the source ("" when the column is absent).
func (m csvRow) str(key string) (string, error) { return m[key], nil }

// list splits the field with split, the way the CSV form encodes lists.
func (m csvRow) list(key string, split func(string) []string) ([]string, error) {
	return split(m[key]), nil
}

// fieldSource is what CSV and JSON rows share.
type fieldSource interface {
	str(key string) (string, error)
	list(key string, split func(string) []string) ([]string, error)
}
