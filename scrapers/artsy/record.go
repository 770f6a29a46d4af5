package artsy

import (
	"bytes"
	"errors"

	"github.com/curiodata/curio/internal/domain"
)

// Source is the Source of the records this package makes.
const Source = "artsy"

// ID prefixes of Curio's Artsy items.
const (
	ArtistIDPrefix  = "artsy-a-"
	ArtworkIDPrefix = "artsy-aw-"
)

// Record makes the Curio record of the artist: Source "artsy", Kind artist,
// Key the Artsy id, and an Artist with ID "artsy-a-"+ID, BeginYear and
// EndYear the first four-digit year (1000–2100) in Birthday and Deathday, and
// Bio the Biography or, when that is empty, "Nationality, Birthday–Deathday".
// Record.Raw is a copy of raw, the artist's source JSON; nil means a.Raw.
// An artist without an id gets Err and no Artist.
func (a Artist) Record(raw []byte) domain.Record {
	rec := domain.Record{Source: Source, Kind: domain.KindArtist, Key: a.ID, Raw: rawCopy(raw, a.Raw)}
	if a.ID == "" {
		rec.Err = errors.New("artsy artist has no id")
		return rec
	}
	bio := a.Biography
	if bio == "" {
		bio = lifeLine(a.Nationality, a.Birthday, a.Deathday)
	}
	rec.Artist = &domain.Artist{
		ID:          ArtistIDPrefix + a.ID,
		Name:        a.Name,
		Bio:         bio,
		Nationality: a.Nationality,
		Gender:      a.Gender,
		BeginYear:   domain.FirstYear(a.Birthday),
		EndYear:     domain.FirstYear(a.Deathday),
		Source:      Source,
	}
	return rec
}

// lifeLine writes "French, 1834–1917", "French, born 1950", "died 1600" ...
// from the parts that are known.
func lifeLine(nationality, birthday, deathday string) string {
	var dates string
	switch {
	case birthday != "" && deathday != "":
		dates = birthday + "–" + deathday
	case birthday != "":
		dates = "born " + birthday
	case deathday != "":
		dates = "died " + deathday
	}
	switch {
	case nationality == "":
		return dates
	case dates == "":
		return nationality
	}
	return nationality + ", " + dates
}

// Record makes the Curio record of the artwork: Source "artsy", Kind artwork,
// Key the Artsy id, and an Artwork with ID "artsy-aw-"+ID; ArtistIDs
// ("artsy-a-"+ID), Artists (names) and Nationalities, in the same order, from
// artists (those without an id are skipped; Nationalities is nil when none is
// known); Year the first four-digit year (1000–2100) in Date, which is kept as
// DateText; Classification the Category; CreditLine the collecting
// institution; Description the additional information; URL the permalink;
// ImageURL the thumbnail, else the image link with {image_version} expanded
// to "large". Record.Raw is a copy of raw, the artwork's source JSON; nil
// means w.Raw. An artwork without an id gets Err and no Artwork.
func (w Artwork) Record(raw []byte, artists []Artist) domain.Record {
	rec := domain.Record{Source: Source, Kind: domain.KindArtwork, Key: w.ID, Raw: rawCopy(raw, w.Raw)}
	if w.ID == "" {
		rec.Err = errors.New("artsy artwork has no id")
		return rec
	}
	aw := &domain.Artwork{
		ID:             ArtworkIDPrefix + w.ID,
		Title:          w.Title,
		Year:           domain.FirstYear(w.Date),
		DateText:       w.Date,
		Medium:         w.Medium,
		Dimensions:     w.Dimensions,
		Classification: w.Category,
		CreditLine:     w.CollectingInstitution,
		Description:    w.AdditionalInformation,
		URL:            w.Links["permalink"].Href,
		ImageURL:       w.ImageURL(),
		Source:         Source,
	}
	knownNationality := false
	for _, a := range artists {
		if a.ID == "" {
			continue
		}
		aw.ArtistIDs = append(aw.ArtistIDs, ArtistIDPrefix+a.ID)
		aw.Artists = append(aw.Artists, a.Name)
		aw.Nationalities = append(aw.Nationalities, a.Nationality)
		knownNationality = knownNationality || a.Nationality != ""
	}
	if !knownNationality {
		aw.Nationalities = nil
	}
	rec.Artwork = aw
	return rec
}

// ImageURL returns the artwork's thumbnail link, else its image link with
// {image_version} expanded to "large"; "" when it has neither.
func (w Artwork) ImageURL() string {
	vars := map[string]string{"image_version": "large"}
	if l, ok := w.Links["thumbnail"]; ok && l.Href != "" {
		return ExpandLink(l, vars)
	}
	return ExpandLink(w.Links["image"], vars)
}

// rawCopy returns a copy of raw, or of fallback when raw is nil.
func rawCopy(raw, fallback []byte) []byte {
	if raw == nil {
		raw = fallback
	}
	if raw == nil {
		return nil
	}
	return bytes.Clone(raw)
}
