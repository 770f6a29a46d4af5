package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/curiodata/curio/internal/domain"
)

// medium is a generated artwork's medium with MoMA's classification and
// department for it; maxCM bounds its size (0: a time-based work).
type medium struct {
	name, class, dept string
	maxCM             int
}

// artWords holds the word lists of the artwork generator.
type artWords struct {
	subjects, modifiers, colors, objects, tones, verbs, manners []string
	mediums                                                     []medium
}

func newArtWords() *artWords {
	const ps, dp, ph, ad = "Painting & Sculpture", "Drawings & Prints", "Photography", "Architecture & Design"
	return &artWords{
		subjects: []string{
			"Harbor", "Bathers", "Portrait", "Landscape", "Self-Portrait", "Seated Woman", "Reclining Figure",
			"Street Scene", "Lighthouse", "Interior", "Open Window", "Garden", "Bridge", "Factory", "Dancer",
			"Musician", "Horse and Rider", "Olive Trees", "City", "Mountain", "River", "Country Road", "Station",
			"Café", "Orchard", "Kitchen", "Studio", "Market", "Circus", "Cathedral", "Wheat Field", "Shore",
			"Skyline", "Staircase", "Head", "Nude", "Mother and Child", "Two Figures", "Boats", "Forest",
		},
		modifiers: []string{ // lower case but for proper nouns; titleCase capitalizes them in titles
			"at dusk", "at night", "in winter", "in the rain", "by the sea", "in blue", "at noon", "in spring",
			"under snow", "after the storm", "in morning light", "at Arles", "in Paris", "near Kyoto", "with shadows",
			"in fog", "at rest", "in motion", "from above", "with yellow sky", "in ochre", "by lamplight",
			"at the window", "in summer", "on Sunday", "in green", "in autumn", "at low tide", "with birds", "in gray",
		},
		colors:  []string{"Red", "Blue", "Yellow", "Black", "White", "Gray", "Green", "Orange", "Violet", "Ochre"},
		objects: []string{"Lemons", "Apples", "a Guitar", "Flowers", "a Pitcher", "Fish", "Oysters", "a Skull", "Bottles", "Pears", "a Violin", "Onions"},
		tones:   []string{"quiet", "bold", "intimate", "restless", "spare", "luminous", "austere", "playful", "somber", "vivid"},
		verbs:   []string{"studies", "renders", "reimagines", "isolates", "fragments", "celebrates", "observes", "abstracts"},
		manners: []string{
			"through layered, muted color", "with sharp graphic contrasts", "in loose, rapid marks",
			"with careful geometric structure", "in soft, diffused light", "through repeated, rhythmic forms",
			"with a restrained palette", "in dense, textured detail",
		},
		mediums: []medium{
			{"Oil on canvas", "Painting", ps, 200}, {"Acrylic on canvas", "Painting", ps, 250},
			{"Oil on board", "Painting", ps, 90}, {"Tempera on panel", "Painting", ps, 80},
			{"Synthetic polymer paint on canvas", "Painting", ps, 250}, {"Enamel on aluminum", "Painting", ps, 150},
			{"Bronze", "Sculpture", ps, 180}, {"Painted steel", "Sculpture", ps, 300}, {"Carved wood", "Sculpture", ps, 120},
			{"Plaster", "Sculpture", ps, 100},
			{"Ink on paper", "Drawing", dp, 60}, {"Graphite on paper", "Drawing", dp, 50}, {"Charcoal on paper", "Drawing", dp, 70},
			{"Watercolor on paper", "Drawing", dp, 60}, {"Gouache on paper", "Drawing", dp, 60}, {"Cut-and-pasted paper", "Drawing", dp, 60},
			{"Lithograph", "Print", dp, 70}, {"Etching", "Print", dp, 50}, {"Woodcut", "Print", dp, 70},
			{"Screenprint", "Print", dp, 100}, {"Linoleum cut", "Print", dp, 50},
			{"Gelatin silver print", "Photograph", ph, 50}, {"Chromogenic color print", "Photograph", ph, 120},
			{"Platinum print", "Photograph", ph, 30},
			{"Ink and colored pencil on tracing paper", "Architecture", ad, 90}, {"Molded plywood", "Design", ad, 90},
			{"Single-channel video, color, sound", "Video", "Media and Performance", 0},
		},
	}
}

// artwork generates the n-th artwork, attributed to one or two of artists.
func (w *artWords) artwork(r *rand.Rand, n int, artists []*domain.Artist) *domain.Artwork {
	by := []*domain.Artist{pick(r, artists)}
	if chance(r, 12) {
		if b := pick(r, artists); b.ID != by[0].ID {
			by = append(by, b)
		}
	}
	title, subject := w.title(r)
	m := pick(r, w.mediums)
	year := activeYear(r, by[0])
	a := &domain.Artwork{
		ID:             fmt.Sprintf("demo-aw-%06d", n),
		Title:          title,
		Year:           year,
		DateText:       dateText(r, year),
		Medium:         m.name,
		Dimensions:     dimensions(r, m),
		Classification: m.class,
		Department:     m.dept,
		CreditLine:     "Fictional work generated for the Curio demo",
		Source:         Source,
	}
	for _, ar := range by {
		a.ArtistIDs = append(a.ArtistIDs, ar.ID)
		a.Artists = append(a.Artists, ar.Name)
		if ar.Nationality != "" && ar.Nationality != "Nationality unknown" {
			a.Nationalities = append(a.Nationalities, ar.Nationality)
		}
	}
	tone := pick(r, w.tones)
	a.Description = fmt.Sprintf("%s %s %s that %s %s %s; a fictional demo work in the name of %s.",
		strings.ToUpper(article(tone)[:1])+article(tone)[1:], tone, strings.ToLower(m.name[:1])+m.name[1:],
		pick(r, w.verbs), subject, pick(r, w.manners), strings.Join(a.Artists, " and "))
	return a
}

// title returns a generated title and the subject it names, for use in a
// sentence.
func (w *artWords) title(r *rand.Rand) (title, subject string) {
	s, mod := pick(r, w.subjects), pick(r, w.modifiers)
	the := "the " + strings.ToLower(s)
	switch k := r.IntN(20); {
	case k < 6:
		return titleCase(s + " " + mod), the + " " + mod
	case k < 9:
		return "Untitled (" + titleCase(s+" "+mod) + ")", the + " " + mod
	case k < 11:
		if n := between(r, 1, 6); n > 1 {
			return fmt.Sprintf("Study for %s %s", s, roman(n)), the
		}
		return "Study for " + s, the
	case k < 13:
		c1, c2 := pick(r, w.colors), pick(r, w.colors)
		for c2 == c1 {
			c2 = pick(r, w.colors)
		}
		return "Composition with " + c1 + " and " + c2, strings.ToLower(c1 + " and " + c2)
	case k < 15:
		o := pick(r, w.objects)
		return "Still Life with " + o, "a still life of " + strings.ToLower(o)
	case k < 17:
		return fmt.Sprintf("%s, No. %d", s, between(r, 1, 40)), the
	case k < 19:
		c := pick(r, w.colors)
		return c + " " + s, the + " in " + strings.ToLower(c)
	}
	return s, the
}

// titleCase capitalizes the words of s except short function words that do
// not start it.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, wd := range words {
		switch wd {
		case "a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "the", "to", "with":
			if i > 0 {
				continue
			}
		}
		words[i] = strings.ToUpper(wd[:1]) + wd[1:]
	}
	return strings.Join(words, " ")
}

// article returns "a" or "an" for the word that follows it.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// activeYear picks a year in the artist's working life: from age 20 to the
// death (or end) year, or to age 90 and at most 2016 (the data's snapshot
// year) when that is unknown; within the life span when it is shorter.
func activeYear(r *rand.Rand, a *domain.Artist) int {
	if a.BeginYear <= 0 {
		return between(r, 1880, 2016)
	}
	hi := a.EndYear
	if hi <= 0 {
		hi = min(2016, a.BeginYear+90)
	}
	hi = max(hi, a.BeginYear)
	lo := a.BeginYear + 20
	if lo > hi {
		lo = a.BeginYear
	}
	return between(r, lo, hi)
}

// dateText writes a year the way MoMA's free-text Date does.
func dateText(r *rand.Rand, year int) string {
	switch k := r.IntN(20); {
	case k < 2:
		return fmt.Sprintf("c. %d", year)
	case k < 4:
		return fmt.Sprintf("%d-%02d", year, (year+1)%100)
	}
	return fmt.Sprint(year)
}

// dimensions writes a plausible size for a work in medium m.
func dimensions(r *rand.Rand, m medium) string {
	if m.maxCM == 0 {
		return fmt.Sprintf("%d min.", between(r, 2, 45))
	}
	lo := max(m.maxCM/5, 5)
	h, wd := between(r, lo, m.maxCM), between(r, lo, m.maxCM)
	if m.class == "Sculpture" || m.class == "Design" {
		return fmt.Sprintf("%d x %d x %d cm", h, wd, between(r, lo/2+1, m.maxCM/2+1))
	}
	return fmt.Sprintf("%d x %d cm", h, wd)
}
