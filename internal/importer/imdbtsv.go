package importer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/curiodata/curio/internal/domain"
)

// imdbMissing is how IMDb TSV files write an unknown value.
const imdbMissing = `\N`

// maxTSVLine bounds one line of an IMDb TSV file.
const maxTSVLine = 1 << 20

// imdbRating is one title.ratings.tsv row.
type imdbRating struct {
	rating float64
	votes  int
}

// rawText renders the rating as IMDb writes it ("7.0", "1660").
func (r imdbRating) rawText() (string, string) {
	avg := strconv.FormatFloat(r.rating, 'f', -1, 64)
	if !strings.Contains(avg, ".") {
		avg += ".0"
	}
	return avg, strconv.Itoa(r.votes)
}

// imdbRatings holds title.ratings.tsv keyed by the numeric part of the tconst
// (a compact key for ~1.5M rows) with a string map for irregular ids.
type imdbRatings struct {
	byNum   map[uint64]imdbRating
	byConst map[string]imdbRating
}

func (r imdbRatings) get(tconst string) (imdbRating, bool) {
	if n, ok := tconstNum(tconst); ok {
		v, ok := r.byNum[n]
		return v, ok
	}
	v, ok := r.byConst[tconst]
	return v, ok
}

// tconstNum packs a tconst ("tt" and up to 17 digits) into a number: the
// digits' value shifted left by 5, or-ed with the digit count, so that ids
// differing only in zero padding stay distinct.
func tconstNum(s string) (uint64, bool) {
	d := strings.TrimPrefix(s, "tt")
	if len(d) == len(s) || len(d) == 0 || len(d) > 17 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(d[i]-'0')
	}
	return n<<5 | uint64(len(d)), true
}

// tsvLines scans IMDb TSV text: a header line, then one row per line with
// fields separated by tabs and no quoting. It calls fn with the 1-based data
// row number, the 1-based file line and the fields. Blank lines are skipped.
func tsvLines(r io.Reader, required []string, fn func(header []string, row, line int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxTSVLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read tsv header: %w", err)
		}
		return errors.New("empty input: no tsv header")
	}
	header := strings.Split(strings.TrimSuffix(sc.Text(), "\r"), "\t")
	if err := checkHeader(header, required...); err != nil {
		return err
	}
	row := 0
	for line := 2; sc.Scan(); line++ {
		s := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		row++
		if err := fn(header, row, line, strings.Split(s, "\t")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read tsv row %d: %w", row+1, err)
	}
	return nil
}

// imdbField returns a trimmed field value, "" for IMDb's \N.
func imdbField(f csvRow, name string) string {
	v := text(f[name])
	if v == imdbMissing {
		return ""
	}
	return v
}

// loadIMDbRatings reads title.ratings.tsv into memory. Malformed rows are
// skipped: they only lose a rating and have no record of their own.
func loadIMDbRatings(r io.Reader) (imdbRatings, error) {
	out := imdbRatings{byNum: make(map[uint64]imdbRating), byConst: make(map[string]imdbRating)}
	br, _, err := newBufReader(r)
	if err != nil {
		return out, err
	}
	err = tsvLines(br, []string{"tconst", "averageRating", "numVotes"}, func(header []string, _, _ int, fields []string) error {
		if len(fields) != len(header) {
			return nil
		}
		f := rawFields(header, fields)
		avg, err1 := parseFloat("averageRating", imdbField(f, "averageRating"))
		votes, err2 := parseInt("numVotes", imdbField(f, "numVotes"))
		tconst := text(f["tconst"])
		if err1 != nil || err2 != nil || tconst == "" {
			return nil
		}
		v := imdbRating{rating: avg, votes: votes}
		if n, ok := tconstNum(tconst); ok {
			out.byNum[n] = v
		} else {
			out.byConst[tconst] = v
		}
		return nil
	})
	return out, err
}

// ReadIMDbTSV streams IMDb's title.basics.tsv joined with title.ratings.tsv
// and emits one movie record per title. ratings may be nil; it is loaded into
// memory first, then basics is streamed line by line (IMDb TSV has no
// quoting, so quotes inside titles are plain text). Columns are looked up by
// header name; tconst, titleType and primaryTitle are required. titleType is
// mapped to Kind: movie → movie, tvSeries and tvMiniSeries → series, others
// kept as is. OriginalTitle is set only when it differs from the title. Raw
// holds the basics row plus averageRating and numVotes when rated.
func ReadIMDbTSV(basics io.Reader, ratings io.Reader, emit func(domain.Record) error) error {
	const what = "read imdb tsv"
	var rt imdbRatings
	if ratings != nil {
		var err error
		if rt, err = loadIMDbRatings(ratings); err != nil {
			return fmt.Errorf("%s: ratings: %w", what, err)
		}
	}
	br, _, err := newBufReader(basics)
	if err != nil {
		return fmt.Errorf("%s: basics: %w", what, err)
	}
	err = tsvLines(br, []string{"tconst", "titleType", "primaryTitle"}, func(header []string, row, line int, fields []string) error {
		f := rawFields(header, fields)
		rec := domain.Record{Source: sourceIMDbTSV, Kind: domain.KindMovie, Line: row, Key: rowKey(row)}
		tconst := imdbField(f, "tconst")
		if tconst != "" {
			rec.Key = tconst
		}
		if r, ok := rt.get(tconst); ok && tconst != "" {
			f["averageRating"], f["numVotes"] = r.rawText()
		}
		rec.Raw = rawObject(f)
		var problem error
		if len(fields) != len(header) {
			problem = fmt.Errorf("has %d fields, want %d", len(fields), len(header))
		} else {
			rec.Movie, problem = parseIMDbTitle(f, rt)
		}
		if problem != nil {
			rec.Movie, rec.Err = nil, rowError(row, line, problem)
		}
		return emitRecord(emit, rec)
	})
	if err != nil {
		return fmt.Errorf("%s: basics: %w", what, err)
	}
	return nil
}

// parseIMDbTitle builds a movie from one title.basics.tsv row.
func parseIMDbTitle(f csvRow, rt imdbRatings) (*domain.Movie, error) {
	m := &domain.Movie{
		ID:     imdbField(f, "tconst"),
		Kind:   imdbKind(imdbField(f, "titleType")),
		Title:  imdbField(f, "primaryTitle"),
		Genres: splitList(imdbField(f, "genres"), ","),
		Source: sourceIMDbTSV,
	}
	if ot := imdbField(f, "originalTitle"); ot != m.Title {
		m.OriginalTitle = ot
	}
	var errs []error
	if m.ID == "" {
		errs = append(errs, errors.New("tconst is empty"))
	}
	if m.Title == "" {
		errs = append(errs, errors.New("primaryTitle is empty"))
	}
	var err error
	if m.Year, err = parseInt("startYear", imdbField(f, "startYear")); err == nil {
		err = checkRange("startYear", float64(m.Year), 1800, 2200)
	}
	errs = append(errs, err)
	if m.EndYear, err = parseInt("endYear", imdbField(f, "endYear")); err == nil {
		err = checkRange("endYear", float64(m.EndYear), 1800, 2200)
	}
	errs = append(errs, err)
	if m.RuntimeMinutes, err = parseInt("runtimeMinutes", imdbField(f, "runtimeMinutes")); err == nil && m.RuntimeMinutes < 0 {
		err = fmt.Errorf("runtimeMinutes %d is negative", m.RuntimeMinutes)
	}
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, joinedError(err)
	}
	if r, ok := rt.get(m.ID); ok {
		m.Rating, m.Votes = r.rating, r.votes
	}
	return m, nil
}

// imdbKind maps an IMDb titleType to a domain Movie kind.
func imdbKind(titleType string) string {
	switch titleType {
	case "movie":
		return "movie"
	case "tvSeries", "tvMiniSeries":
		return "series"
	}
	return titleType
}
