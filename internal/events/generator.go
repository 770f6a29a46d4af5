package events

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Item is a catalog item the Generator produces events about.
type Item struct {
	ID         string   // the catalog id, used as Event.ItemID, Source and Target
	Type       string   // ItemTypeMovie or ItemTypeArtwork
	Categories []string // genres or mediums, e.g. "Drama", "Photograph"; used for searches
}

// GeneratorOptions configures a Generator. Zero values select the defaults.
type GeneratorOptions struct {
	Users     int      // simulated users; default 1000
	Seed      uint64   // seeds every random choice and the event and session ids
	Countries []string // users' home countries, most popular first; default US, GB, FR, DE, JP, BR, IN, NG, MX, KR
	ZipfS     float64  // item popularity exponent, > 1; default 1.1
}

// Defaults applied by NewGenerator.
const (
	DefaultUsers = 1000
	DefaultZipfS = 1.1
)

// DefaultCountries returns the default home countries, most popular first. The slice is
// new on each call.
func DefaultCountries() []string {
	return []string{"US", "GB", "FR", "DE", "JP", "BR", "IN", "NG", "MX", "KR"}
}

// Event mix, in percent; the weights sum to 100.
const (
	pctView     = 55
	pctClick    = 15
	pctSearch   = 12
	pctCollect  = 8
	pctUpload   = 5
	pctPurchase = 5
)

// Behaviour knobs.
const (
	sessionMin        = 5   // fewest events in a session
	sessionMax        = 30  // most events in a session
	sessionEndOneIn   = 50  // a session also ends early with probability 1/sessionEndOneIn
	recentLen         = 8   // items remembered for searches, collects and clicks
	viewedLen         = 16  // viewed items remembered for purchases
	shopperPct        = 5   // percent of users who search a favourite category and never buy
	shopperViewSearch = 25  // percent of a shopper's views that become searches instead
	activePct         = 5   // percent of users who are heavy users
	activeSharePct    = 30  // percent of events that go to a heavy user
	relatedPct        = 35  // percent of views and click targets picked from the last item's category
	collectRecentPct  = 70  // percent of collects of a recently seen item
	purchaseViewedPct = 85  // percent of purchases of a previously viewed item
	maxCategoryRunes  = 200 // a longer category is cut before it goes into a query
)

// searchWords returns the words appended to a category to form a search query.
func searchWords() []string {
	return []string{
		"classic", "best", "new", "top rated", "famous", "modern", "vintage", "award winning",
		"french", "japanese", "1970s", "1990s", "dark", "colorful", "short", "collection",
		"similar", "recommendations", "near me", "cheap", "original", "limited edition",
	}
}

// user is one simulated user's state.
type user struct {
	id       string
	country  string
	session  string
	left     int   // events left in the current session
	last     int   // index of the last item seen, -1 before any
	recent   []int // recently seen items, oldest first
	viewed   []int // viewed items, oldest first
	shopper  bool  // searches favorite over and over, never purchases
	favorite string
}

// Generator produces simulated user activity: Zipf-distributed item popularity, users
// with skewed home countries acting in sessions, an event mix of about 55% views, 15%
// clicks, 12% searches, 8% collects, 5% uploads and 5% purchases, clicks from a user's
// previous item to the next, searches for categories of recently seen items (some users
// search one category over and over and never buy), and purchases mostly of viewed items.
// Its output is a pure function of the items, the options and the sequence of Next calls.
//
// Event ids are derived from the seed and a counter, so two generators with the same seed
// produce the same ids: give each producer run its own seed, or consumers that dedupe on
// Event.ID will drop the second run's events.
//
// A Generator is not safe for concurrent use.
type Generator struct {
	rng      *rand.Rand
	seed     uint64
	events   uint64 // events generated, for ids
	sessions uint64 // sessions started, for ids

	items      []Item
	zipf       *rand.Zipf
	byRank     []int            // popularity rank -> item index
	byCategory map[string][]int // category -> item indexes; read only after construction
	categories []string         // every category, in first-seen order
	artworks   []int            // indexes of artwork items, for uploads
	words      []string

	users []user
}

// NewGenerator returns a Generator of events about items. It fails if items is empty, an
// item has no id or an unknown type, or an option is invalid (negative Users, ZipfS set
// but not above 1, a country that is not an upper-case alpha-2 code).
func NewGenerator(items []Item, opts GeneratorOptions) (*Generator, error) {
	if len(items) == 0 {
		return nil, errors.New("event generator: no items")
	}
	if opts.Users < 0 {
		return nil, fmt.Errorf("event generator: users %d is negative", opts.Users)
	}
	if opts.Users == 0 {
		opts.Users = DefaultUsers
	}
	if opts.ZipfS == 0 {
		opts.ZipfS = DefaultZipfS
	}
	if !(opts.ZipfS > 1) || math.IsInf(opts.ZipfS, 0) {
		return nil, fmt.Errorf("event generator: zipf exponent %v must be a finite number above 1", opts.ZipfS)
	}
	countries := opts.Countries
	if len(countries) == 0 {
		countries = DefaultCountries()
	}
	for _, c := range countries {
		if !validCountry(c) {
			return nil, fmt.Errorf("event generator: country %q is not an upper-case iso 3166-1 alpha-2 code", c)
		}
	}

	g := &Generator{
		rng:        rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		seed:       opts.Seed,
		items:      make([]Item, len(items)),
		byCategory: make(map[string][]int),
		words:      searchWords(),
	}
	for i, it := range items {
		if blank(it.ID) {
			return nil, fmt.Errorf("event generator: item %d has no id", i)
		}
		if it.Type != ItemTypeMovie && it.Type != ItemTypeArtwork {
			return nil, fmt.Errorf("event generator: item %q has type %q, want %q or %q", it.ID, it.Type, ItemTypeMovie, ItemTypeArtwork)
		}
		var cats []string
		for _, c := range it.Categories {
			if blank(c) {
				continue
			}
			cats = append(cats, c)
			if _, ok := g.byCategory[c]; !ok {
				g.categories = append(g.categories, c)
			}
			g.byCategory[c] = append(g.byCategory[c], i)
		}
		g.items[i] = Item{ID: it.ID, Type: it.Type, Categories: cats}
		if it.Type == ItemTypeArtwork {
			g.artworks = append(g.artworks, i)
		}
	}

	// Popularity: Zipf over ranks, ranks assigned to items by a seeded shuffle so the
	// catalog's order does not decide what is popular.
	g.byRank = g.rng.Perm(len(items))
	g.zipf = rand.NewZipf(g.rng, opts.ZipfS, 1, uint64(len(items)-1))

	// Home countries: weight 1/(rank+1)^1.2, so the first few dominate.
	cum := make([]float64, len(countries))
	total := 0.0
	for i := range countries {
		total += math.Pow(float64(i+1), -1.2)
		cum[i] = total
	}
	g.users = make([]user, opts.Users)
	for i := range g.users {
		u := &g.users[i]
		u.id = fmt.Sprintf("user-%05d", i)
		x := g.rng.Float64() * total
		u.country = countries[len(countries)-1]
		for j, c := range cum {
			if x < c {
				u.country = countries[j]
				break
			}
		}
		u.last = -1
		if g.rng.IntN(100) < shopperPct {
			u.shopper = true
			u.favorite = g.categoryOf(g.popular())
		}
	}
	return g, nil
}

// Next returns the next simulated event, stamped with now truncated to the millisecond
// (the wire precision, so the event survives Encode and Decode unchanged). Every event
// it returns passes Validate, provided now is between 1970 and 2200.
func (g *Generator) Next(now time.Time) Event {
	u := g.pickUser()
	if u.left <= 0 || g.rng.IntN(sessionEndOneIn) == 0 {
		g.sessions++
		u.session = fmt.Sprintf("%016x-s%07x", g.seed, g.sessions)
		u.left = sessionMin + g.rng.IntN(sessionMax-sessionMin+1)
	}
	u.left--
	g.events++
	e := Event{
		ID:      fmt.Sprintf("%016x-%08x", g.seed, g.events),
		Type:    g.pickType(u),
		UserID:  u.id,
		Time:    now.Truncate(time.Millisecond),
		Session: u.session,
		Country: u.country,
	}
	switch e.Type {
	case TypeView:
		i := g.related(u.last)
		g.setItem(&e, i)
		g.saw(u, i, true)
	case TypeClick:
		src := u.last
		if src < 0 {
			src = g.popular() // the page the user landed on
		}
		dst, ok := g.other(src)
		if !ok { // a one-item catalog: nowhere to click to
			e.Type = TypeView
			g.setItem(&e, src)
			g.saw(u, src, true)
			break
		}
		e.Source, e.Target = g.items[src].ID, g.items[dst].ID
		e.ItemType = g.items[dst].Type
		g.saw(u, dst, true)
	case TypeSearch:
		cat := u.favorite
		if !u.shopper {
			i := g.popular()
			if len(u.recent) > 0 {
				i = u.recent[g.rng.IntN(len(u.recent))]
			}
			cat = g.categoryOf(i)
		}
		e.Category = cat
		e.Query = queryCategory(cat) + " " + g.words[g.rng.IntN(len(g.words))]
	case TypeCollect:
		i := g.popular()
		if len(u.recent) > 0 && g.rng.IntN(100) < collectRecentPct {
			i = u.recent[g.rng.IntN(len(u.recent))]
		}
		g.setItem(&e, i)
		g.saw(u, i, false)
	case TypeUpload:
		var i int
		if len(g.artworks) > 0 {
			i = g.artworks[g.rng.IntN(len(g.artworks))]
		} else {
			i = g.rng.IntN(len(g.items))
		}
		g.setItem(&e, i)
	case TypePurchase:
		i := g.popular()
		if len(u.viewed) > 0 && g.rng.IntN(100) < purchaseViewedPct {
			i = u.viewed[g.rng.IntN(len(u.viewed))]
		}
		g.setItem(&e, i)
		e.Amount = g.price(g.items[i].Type)
		g.saw(u, i, false)
	}
	return e
}

// pickUser picks the acting user: mostly uniform, with a share of events going to a small
// set of heavy users.
func (g *Generator) pickUser() *user {
	n := len(g.users)
	if heavy := max(1, n*activePct/100); g.rng.IntN(100) < activeSharePct {
		return &g.users[g.rng.IntN(heavy)]
	}
	return &g.users[g.rng.IntN(n)]
}

// pickType draws an event type from the mix. Shoppers turn purchases and some views into
// searches.
func (g *Generator) pickType(u *user) Type {
	var t Type
	switch x := g.rng.IntN(100); {
	case x < pctView:
		t = TypeView
	case x < pctView+pctClick:
		t = TypeClick
	case x < pctView+pctClick+pctSearch:
		t = TypeSearch
	case x < pctView+pctClick+pctSearch+pctCollect:
		t = TypeCollect
	case x < pctView+pctClick+pctSearch+pctCollect+pctUpload:
		t = TypeUpload
	default:
		t = TypePurchase
	}
	if u.shopper && (t == TypePurchase || t == TypeView && g.rng.IntN(100) < shopperViewSearch) {
		t = TypeSearch
	}
	return t
}

// popular draws an item index by Zipf popularity.
func (g *Generator) popular() int { return g.byRank[g.zipf.Uint64()] }

// related draws an item, sometimes from the category of item i (when i >= 0), else by
// popularity.
func (g *Generator) related(i int) int {
	if i >= 0 && len(g.items[i].Categories) > 0 && g.rng.IntN(100) < relatedPct {
		cats := g.items[i].Categories
		same := g.byCategory[cats[g.rng.IntN(len(cats))]]
		return same[g.rng.IntN(len(same))]
	}
	return g.popular()
}

// other draws an item other than src, or reports false when the catalog has only one.
func (g *Generator) other(src int) (int, bool) {
	n := len(g.items)
	if n < 2 {
		return 0, false
	}
	for range 8 {
		if i := g.related(src); i != src {
			return i, true
		}
	}
	return (src + 1 + g.rng.IntN(n-1)) % n, true
}

// categoryOf draws one of item i's categories, falling back to any category, then to
// the item's type, when it has none.
func (g *Generator) categoryOf(i int) string {
	if cats := g.items[i].Categories; len(cats) > 0 {
		return cats[g.rng.IntN(len(cats))]
	}
	if len(g.categories) > 0 {
		return g.categories[g.rng.IntN(len(g.categories))]
	}
	return g.items[i].Type
}

// price draws a purchase amount in a currency unit, rounded to cents.
func (g *Generator) price(itemType string) float64 {
	if itemType == ItemTypeMovie {
		prices := [...]float64{2.99, 3.99, 4.99, 9.99, 14.99, 19.99}
		return prices[g.rng.IntN(len(prices))]
	}
	// Artwork prints and originals: log-uniform between 25 and 2500.
	p := 25 * math.Pow(100, g.rng.Float64())
	return math.Round(p*100) / 100
}

func (g *Generator) setItem(e *Event, i int) {
	e.ItemID = g.items[i].ID
	e.ItemType = g.items[i].Type
}

// saw records that u saw item i (and viewed it, when viewed is set).
func (g *Generator) saw(u *user, i int, viewed bool) {
	u.last = i
	u.recent = remember(u.recent, i, recentLen)
	if viewed {
		u.viewed = remember(u.viewed, i, viewedLen)
	}
}

// remember appends i to s, dropping the oldest entry beyond n.
func remember(s []int, i, n int) []int {
	if len(s) >= n {
		copy(s, s[1:])
		s = s[:n-1]
	}
	return append(s, i)
}

// queryCategory returns the query form of a category: lower case, cut to fit a query.
func queryCategory(c string) string {
	c = strings.ToLower(strings.TrimSpace(c))
	if r := []rune(c); len(r) > maxCategoryRunes {
		c = string(r[:maxCategoryRunes])
	}
	return c
}
