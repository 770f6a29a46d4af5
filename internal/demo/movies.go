package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/curiodata/curio/internal/domain"
)

// genre is one of the generated genres with the plot words that suit it.
type genre struct {
	name  string
	mood  string   // adjective for the story ("a tense story of ...")
	hooks []string // what the protagonist runs into
}

// movieWords holds the word lists of the movie generator and the titles
// that later movies may continue as sequels.
type movieWords struct {
	nouns, adjectives, times, quests, places, firsts, lasts []string
	people, settings, openings, themes                      []string
	genres                                                  []genre
	countries                                               [][2]string // country, language
	franchises                                              []*franchise
}

// franchise is a generated movie that has, or may get, sequels.
type franchise struct {
	title, director string
	primary         string // genre the plots are about
	genres          []string
	year, parts     int
}

func newMovieWords() *movieWords {
	return &movieWords{
		nouns: []string{
			"Harbor", "City", "Orchard", "River", "Garden", "Mirror", "Lantern", "Station", "Kingdom", "Desert",
			"Forest", "Island", "Tower", "Bridge", "Storm", "Road", "Valley", "Machine", "Letter", "Dream",
			"Shadow", "Frontier", "Ocean", "Empire", "Circus", "Hotel", "Train", "Winter", "Summer", "Moon",
			"Fire", "Crown", "Sword", "Voyage", "Stranger", "Detective", "Widow", "Doctor", "Pilot", "Dancer",
			"Thief", "Queen", "King", "Prophet", "Ghost", "Witness", "Heart", "Rain", "Signal", "Archive",
			"Carnival", "Lighthouse", "Comet", "Labyrinth", "Monsoon", "Orchestra", "Paradise", "Horizon", "Canyon", "Café",
		},
		adjectives: []string{
			"Silent", "Iron", "Glass", "Crimson", "Hidden", "Last", "Golden", "Broken", "Distant", "Endless",
			"Forgotten", "Electric", "Velvet", "Burning", "Frozen", "Wild", "Secret", "Lonely", "Midnight", "Scarlet",
			"Silver", "Hollow", "Restless", "Savage", "Gentle", "Invisible", "Lost", "Northern", "Southern", "Eternal",
			"Painted", "Shattered", "Wandering", "Quiet", "Bitter", "Brave", "Dark", "Bright", "Sleeping", "Seventh",
		},
		times:  []string{"Midnight", "Winter", "Summer", "Twilight", "Morning", "Autumn", "Sunday", "Nightfall"},
		quests: []string{"Return of the", "Escape from the", "Beyond the", "Secrets of the", "Song of the", "Legend of the", "Night of the", "Flight of the"},
		places: []string{
			"Lisbon", "Kyoto", "Marrakesh", "Montréal", "São Paulo", "Reykjavík", "Zürich", "Kraków", "Bogotá",
			"Saint-Étienne", "Málaga", "Ålesund", "Vienna", "Chicago", "Istanbul", "Havana",
		},
		firsts: []string{
			"Ada", "Alan", "Alice", "Amara", "Anders", "Ángel", "Anna", "Arjun", "Astrid", "Benedikt",
			"Bianca", "Camila", "Carlos", "Chiara", "Chloé", "Clara", "Dmitri", "Elena", "Elif", "Émile",
			"Erik", "Esther", "Farah", "Felix", "François", "Grace", "Hana", "Hannah", "Henrik", "Hugo",
			"Ines", "Isabel", "Ivan", "Jakob", "James", "Jana", "José", "Julia", "Kenji", "Lars",
			"Léa", "Leila", "Lucas", "Lucía", "Maja", "Marco", "María", "Mateo", "Maya", "Mehmet",
			"Mia", "Miguel", "Mira", "Nadia", "Naomi", "Nikolai", "Noah", "Noémie", "Olga", "Omar",
			"Oscar", "Paulo", "Priya", "Rafael", "Rosa", "Ruth", "Sami", "Sofia", "Søren", "Stefan",
			"Tomás", "Uma", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zoë", "Zofia", "Björn",
		},
		lasts: []string{
			"Abbott", "Almeida", "Andersen", "Bauer", "Becker", "Bergström", "Brontë", "Byrne", "Castillo", "Chen",
			"Costa", "Dąbrowski", "Dubois", "Duarte", "Eriksen", "Fernández", "Fischer", "Fontaine", "García", "Gómez",
			"Haddad", "Hansen", "Hartmann", "Herrera", "Ibáñez", "Ishikawa", "Jansen", "Kaplan", "Keller", "Kowalski",
			"Larsen", "Lefèvre", "Lindqvist", "López", "Marchetti", "Martín", "Meyer", "Moreau", "Müller", "Murphy",
			"Nakamura", "Novák", "Núñez", "O'Brien", "Okafor", "Olsen", "Ortega", "Park", "Pereira", "Petrov",
			"Quinn", "Ramírez", "Reyes", "Richter", "Rossi", "Russo", "Sánchez", "Santos", "Schäfer", "Schmidt",
			"Silva", "Sokolov", "Suárez", "Sullivan", "Svensson", "Tanaka", "Thompson", "Torres", "Varga", "Vogel",
			"Wagner", "Walsh", "Weber", "Wójcik", "Yamamoto", "Yılmaz", "Zielinski", "Žižek", "Åberg", "Çelik",
		},
		people: []string{
			"a retired detective", "a young schoolteacher", "a pair of estranged sisters", "an ambitious journalist",
			"a widowed lighthouse keeper", "a small-town mechanic", "a disgraced surgeon", "an aging boxer",
			"a runaway teenager", "a stubborn cartographer", "a shy violinist", "a night-shift nurse",
		},
		settings: []string{
			"a coastal town", "a crumbling hotel", "a remote research station", "post-war Vienna", "the outskirts of Lisbon",
			"a snowbound village", "a sprawling desert city", "a floating market", "an island prison", "1970s Havana",
		},
		openings: []string{
			"When %[1]s uncovers %[2]s in %[3]s, an ordinary life begins to unravel.",
			"%[1]s must face %[2]s in %[3]s.",
			"In %[3]s, %[1]s is drawn into %[2]s.",
			"%[1]s sets out across %[3]s and runs straight into %[2]s.",
		},
		themes: []string{"loyalty and betrayal", "second chances", "family secrets", "ambition", "grief and hope", "survival", "friendship", "home"},
		genres: []genre{
			{"Action", "breathless", []string{"a stolen shipment of weapons", "a hijacked train", "a mercenary army"}},
			{"Adventure", "sweeping", []string{"a map to a lost city", "an uncharted river", "a sunken treasure"}},
			{"Animation", "whimsical", []string{"a talking lantern", "a kingdom of paper animals"}},
			{"Biography", "intimate", []string{"the record that made a legend", "a life lived in the spotlight"}},
			{"Comedy", "riotous", []string{"a wildly mistaken identity", "a wedding gone wrong", "an inheritance with absurd conditions"}},
			{"Crime", "gritty", []string{"a heist gone wrong", "a corrupt police chief", "a string of unsolved robberies"}},
			{"Documentary", "revealing", []string{"the hidden history of a forgotten industry", "the last season of a traveling circus"}},
			{"Drama", "quietly devastating", []string{"a long-buried family secret", "an unexpected inheritance", "a painful reunion"}},
			{"Family", "warm-hearted", []string{"a runaway dog", "a magical snow globe"}},
			{"Fantasy", "enchanting", []string{"an ancient curse", "a dragon's egg", "a door to another world"}},
			{"History", "epic", []string{"the fall of an empire", "a forgotten revolution"}},
			{"Horror", "chilling", []string{"something ancient beneath the floorboards", "a house that remembers", "a whispering forest"}},
			{"Music", "soaring", []string{"a band on the brink of breaking up", "a lost recording"}},
			{"Mystery", "twisting", []string{"a locked-room murder", "a letter from a dead man", "a missing heiress"}},
			{"Romance", "tender", []string{"an unexpected love", "a summer romance", "a letter never sent"}},
			{"Sci-Fi", "mind-bending", []string{"a signal from a distant star", "a rogue artificial intelligence", "a broken time machine"}},
			{"Sport", "rousing", []string{"an underdog team", "one last championship"}},
			{"Thriller", "tense", []string{"a deadly conspiracy", "a relentless stalker", "a coded message"}},
			{"War", "harrowing", []string{"a doomed mission behind enemy lines", "the last days of a siege"}},
			{"Western", "dusty", []string{"a gang of outlaws", "a frontier town's last sheriff"}},
		},
		countries: [][2]string{
			{"USA", "English"}, {"USA", "English"}, {"USA", "English"}, {"USA", "English"}, {"UK", "English"},
			{"Canada", "English"}, {"France", "French"}, {"Spain", "Spanish"}, {"Mexico", "Spanish"},
			{"Brazil", "Portuguese"}, {"Germany", "German"}, {"Italy", "Italian"}, {"Japan", "Japanese"},
			{"South Korea", "Korean"}, {"India", "Hindi"}, {"Sweden", "Swedish"},
		},
	}
}

// movie generates the n-th movie; about one in twelve continues an earlier
// one as a sequel ("... II").
func (w *movieWords) movie(r *rand.Rand, n int) *domain.Movie {
	m := &domain.Movie{ID: fmt.Sprintf("demo-m-%06d", n), Kind: "movie", Source: Source}
	var primary genre
	if len(w.franchises) > 0 && chance(r, 8) {
		f := pick(r, w.franchises)
		f.parts++
		f.year = min(2024, f.year+between(r, 2, 6))
		m.Title = f.title + " " + roman(min(f.parts, 10))
		m.Year, m.Directors, m.Genres = f.year, []string{f.director}, slices.Clone(f.genres)
		primary = w.genre(f.primary)
	} else {
		m.Title = w.title(r)
		m.Year = between(r, 1920, 2024)
		if chance(r, 60) {
			m.Year = between(r, 1970, 2024)
		}
		m.Directors = []string{w.person(r)}
		primary = pick(r, w.genres)
		m.Genres = []string{primary.name}
		for extra := r.IntN(3); len(m.Genres) < 1+extra; {
			if g := pick(r, w.genres).name; !slices.Contains(m.Genres, g) {
				m.Genres = append(m.Genres, g)
			}
		}
		slices.Sort(m.Genres)
		w.franchises = append(w.franchises, &franchise{
			title: m.Title, director: m.Directors[0], primary: primary.name, genres: slices.Clone(m.Genres), year: m.Year, parts: 1,
		})
	}
	for size := between(r, 3, 6); len(m.Cast) < size; {
		if p := w.person(r); p != m.Directors[0] && !slices.Contains(m.Cast, p) {
			m.Cast = append(m.Cast, p)
		}
	}
	m.RuntimeMinutes = max(70, min(180, int(math.Round(105+r.NormFloat64()*20))))
	if chance(r, 10) {
		m.Kind, m.RuntimeMinutes = "series", between(r, 22, 60)
		if chance(r, 60) {
			m.EndYear = min(2024, m.Year+between(r, 1, 9))
		}
	}
	m.Rating = math.Round(max(1, min(9.5, 6.4+r.NormFloat64()*1.1))*10) / 10
	// Pareto-distributed votes: most titles have a few hundred, a few have millions.
	m.Votes = int(min(2.9e6, 100/math.Pow(1-r.Float64(), 2)))
	m.Plot = fmt.Sprintf(pick(r, w.openings), pick(r, w.people), pick(r, primary.hooks), pick(r, w.settings))
	m.Plot = strings.ToUpper(m.Plot[:1]) + m.Plot[1:]
	if chance(r, 50) {
		m.Plot += fmt.Sprintf(" A %s story of %s.", primary.mood, pick(r, w.themes))
	}
	m.ContentRating = contentRating(r, primary.name)
	c := pick(r, w.countries)
	m.Country, m.Language = c[0], c[1]
	return m
}

// genre returns the named genre.
func (w *movieWords) genre(name string) genre {
	for _, g := range w.genres {
		if g.name == name {
			return g
		}
	}
	return w.genres[0]
}

// title generates a movie title such as "The Silent Harbor",
// "Midnight in the Glass City" or "Return of the Iron Orchard".
func (w *movieWords) title(r *rand.Rand) string {
	adj, noun := pick(r, w.adjectives), pick(r, w.nouns)
	switch r.IntN(10) {
	case 0, 1, 2:
		return "The " + adj + " " + noun
	case 3:
		return pick(r, w.times) + " in the " + adj + " " + noun
	case 4, 5:
		return pick(r, w.quests) + " " + adj + " " + noun
	case 6:
		other := pick(r, w.nouns)
		for other == noun {
			other = pick(r, w.nouns)
		}
		return "The " + noun + " and the " + other
	case 7:
		return adj + " " + noun
	case 8:
		return "The " + noun + " of " + pick(r, w.places)
	}
	return "The " + noun
}

// person generates a name such as "José Núñez".
func (w *movieWords) person(r *rand.Rand) string {
	return pick(r, w.firsts) + " " + pick(r, w.lasts)
}

// contentRating picks a US rating (G, PG, PG-13, R) suited to the genre.
func contentRating(r *rand.Rand, genre string) string {
	k := r.IntN(100)
	switch genre {
	case "Animation", "Family":
		if k < 50 {
			return "G"
		}
		return "PG"
	case "Horror", "Crime", "War", "Thriller":
		if k < 60 {
			return "R"
		}
		return "PG-13"
	}
	switch {
	case k < 5:
		return "G"
	case k < 20:
		return "PG"
	case k < 65:
		return "PG-13"
	}
	return "R"
}
