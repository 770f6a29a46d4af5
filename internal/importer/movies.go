package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/curiodata/curio/internal/domain"
)

// ReadMoviesCSV streams the Kaggle IMDB-5000 movie_metadata.csv and emits one
// movie record per row. Columns are looked up by header name; movie_title and
// movie_imdb_link are required. The movie ID is the IMDb tt id taken from
// movie_imdb_link; plot_keywords, gross, budget and the Facebook counts are
// kept in Raw only. The file holds some duplicate rows: they are emitted as
// they come, with the same Key.
func ReadMoviesCSV(r io.Reader, emit func(domain.Record) error) error {
	const what = "read movies csv"
	br, _, err := newBufReader(r)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err = csvRows(br, []string{"movie_title", "movie_imdb_link"}, func(row, line int, f csvRow, problem error) error {
		rec := domain.Record{Source: sourceIMDb5000, Kind: domain.KindMovie, Line: row, Raw: rawObject(f), Key: rowKey(row)}
		if problem == nil {
			var m *domain.Movie
			m, problem = parseKaggleMovie(f)
			if m != nil && m.ID != "" {
				rec.Key = m.ID
			}
			if problem == nil {
				rec.Movie = m
			}
		}
		if problem != nil {
			rec.Err = rowError(row, line, problem)
		}
		return emitRecord(emit, rec)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// parseKaggleMovie builds a movie from one movie_metadata.csv row. On error
// the returned movie, if any, carries only the ID.
func parseKaggleMovie(f csvRow) (*domain.Movie, error) {
	id := imdbID(f["movie_imdb_link"])
	if id == "" {
		return nil, fmt.Errorf("movie_imdb_link %q holds no IMDb title id", text(f["movie_imdb_link"]))
	}
	m := &domain.Movie{
		ID:            id,
		Kind:          "movie",
		Title:         text(f["movie_title"]), // TrimSpace also drops the trailing U+00A0
		Genres:        splitList(f["genres"], "|"),
		ContentRating: text(f["content_rating"]),
		Country:       text(f["country"]),
		Language:      text(f["language"]),
		Source:        sourceIMDb5000,
	}
	if d := text(f["director_name"]); d != "" {
		m.Directors = []string{d}
	}
	for _, c := range []string{"actor_1_name", "actor_2_name", "actor_3_name"} {
		if a := text(f[c]); a != "" {
			m.Cast = append(m.Cast, a)
		}
	}
	var errs []error
	if m.Title == "" {
		errs = append(errs, errors.New("movie_title is empty"))
	}
	var err error
	if m.Year, err = parseInt("title_year", f["title_year"]); err == nil {
		err = checkRange("title_year", float64(m.Year), 1870, 2100)
	}
	errs = append(errs, err)
	if m.RuntimeMinutes, err = parseInt("duration", f["duration"]); err == nil {
		err = checkRange("duration", float64(m.RuntimeMinutes), 1, 10000)
	}
	errs = append(errs, err)
	if m.Rating, err = parseFloat("imdb_score", f["imdb_score"]); err == nil {
		err = checkRange("imdb_score", m.Rating, 1, 10)
	}
	errs = append(errs, err)
	if m.Votes, err = parseInt("num_voted_users", f["num_voted_users"]); err == nil && m.Votes < 0 {
		err = fmt.Errorf("num_voted_users %d is negative", m.Votes)
	}
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return &domain.Movie{ID: id}, joinedError(err)
	}
	return m, nil
}

// joinedError flattens an errors.Join result onto one line ("a; b").
func joinedError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 1 {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return err
}

// imdbID returns the first IMDb title id ("tt" followed by digits) in s, as
// found in links like http://www.imdb.com/title/tt0499549/?ref_=fn_tt_tt_1.
func imdbID(s string) string {
	for i := 0; i+2 < len(s); i++ {
		if s[i] != 't' || s[i+1] != 't' {
			continue
		}
		j := i + 2
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i+2 {
			return s[i:j]
		}
	}
	return ""
}
