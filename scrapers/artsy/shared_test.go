package artsy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir holds real Artsy API responses next to the project checkout.
const sharedDir = "../../../shared/fixtures/artsy"

// sharedFixture reads one shared response, skipping the test when the shared
// fixtures are not there.
func sharedFixture(t testing.TB, name string) []byte {
	t.Helper()
	if _, err := os.Stat(sharedDir); err != nil {
		t.Skipf("no shared fixtures at %s", sharedDir)
	}
	b, err := os.ReadFile(filepath.Join(sharedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseShared(t *testing.T, name string) Document {
	t.Helper()
	doc, err := Parse(sharedFixture(t, name))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return doc
}

const degasID = "4dadd2177129f05924000c68"

func TestSharedDegas(t *testing.T) {
	doc := parseShared(t, "maxgrok_edgar-degas.json")
	if len(doc.Artists) != 1 || len(doc.Artworks)+len(doc.Genes) != 0 || doc.Next != "" {
		t.Fatalf("got %+v, want one artist", doc)
	}
	a := doc.Artists[0]
	if a.ID != degasID || a.Slug != "edgar-degas" || a.Name != "Edgar Degas" || a.Nationality != "French" ||
		a.Birthday != "1834" || a.Deathday != "1917" || a.Gender != "male" || a.Hometown != "Paris, France" {
		t.Errorf("artist = %+v", a)
	}
	wantArtworks := "https://api.artsy.net/api/artworks?artist_id=" + degasID
	if got := a.Links["artworks"].Href; got != wantArtworks {
		t.Errorf("artworks link = %q, want %q", got, wantArtworks)
	}
	if got, want := Rebase(a.Links["artworks"].Href, "http://127.0.0.1:8080/api"), "http://127.0.0.1:8080/api/artworks?artist_id="+degasID; got != want {
		t.Errorf("rebased artworks link = %q, want %q", got, want)
	}
	rec := a.Record(nil)
	if rec.Err != nil || rec.Artist == nil {
		t.Fatalf("record = %+v", rec)
	}
	ar := rec.Artist
	if ar.ID != "artsy-a-"+degasID || ar.Name != "Edgar Degas" || ar.Nationality != "French" || ar.Gender != "male" ||
		ar.BeginYear != 1834 || ar.EndYear != 1917 || ar.Bio != "French, 1834–1917" || ar.Source != "artsy" {
		t.Errorf("domain artist = %+v", *ar)
	}
	if rec.Key != degasID || !json.Valid(rec.Raw) {
		t.Errorf("key %q, raw valid %v", rec.Key, json.Valid(rec.Raw))
	}
}

func TestSharedDegasArtworks(t *testing.T) {
	doc := parseShared(t, "maxgrok_edgar-degas-artworks.json")
	if len(doc.Artworks) != 5 || len(doc.Artists)+len(doc.Genes) != 0 {
		t.Fatalf("got %d artworks, %d artists, %d genes; want 5 artworks", len(doc.Artworks), len(doc.Artists), len(doc.Genes))
	}
	if doc.Total != 0 {
		t.Errorf("Total = %d, want 0 (total_count is null)", doc.Total)
	}
	const cursor = "cursor=506dfe9279fb8700020005ff%3A506dfe9279fb8700020005ff"
	if want := "https://api.artsy.net/api/artworks?artist_id=" + degasID + "&" + cursor; doc.Next != want {
		t.Errorf("Next = %q, want %q", doc.Next, want)
	}
	for base, want := range map[string]string{
		"http://127.0.0.1:8080/api": "http://127.0.0.1:8080/api/artworks?artist_id=" + degasID + "&" + cursor,
		"http://localhost:9000":     "http://localhost:9000/api/artworks?artist_id=" + degasID + "&" + cursor,
	} {
		if got := Rebase(doc.Next, base); got != want {
			t.Errorf("Rebase(next, %q) = %q, want %q", base, got, want)
		}
	}

	degas := parseShared(t, "maxgrok_edgar-degas.json").Artists
	want := []struct {
		id, title, date string
		year            int
		dims, image     string
	}{
		{"4eb19840b4da190001001a25", "Aux Ambassadeurs", "1879-1880", 1879, "9 13/16 × 12 1/16 in", "https://d32dm0rphc51dk.cloudfront.net/r_Z0oC3yT1wrnYCCBONOlw/medium.jpg"},
		{"4eb1b131b89d900001005c7c", "Grande Arabesque", "first modeled ca. 1885-1890; this example cast posthumously", 1885, "16 1/2 × 22 1/2 × 5 1/2 in", "https://d32dm0rphc51dk.cloudfront.net/awbfDv2AP4i3rNlly7hkQQ/medium.jpg"},
		{"4eb823c592f64f00010010b2", "The Bellelli Sisters (Giovanna and Giuliana Bellelli)", "1865-1866", 1865, "36 1/4 × 28 1/2 in", "https://d32dm0rphc51dk.cloudfront.net/BOC8VeUZGYUaIiuKaCyE7Q/medium.jpg"},
		{"4f9bcc20e286f60001000869", "The Dance Lesson", "ca. 1879", 1879, "15 × 34 3/5 in", "https://d32dm0rphc51dk.cloudfront.net/W3vatICkbl1aYyGGuHdt8g/medium.jpg"},
		// no thumbnail: the templated image link, expanded to "large"
		{"506dfe9279fb8700020005ff", "Dans un café (L'absinthe)", "1875-1876", 1875, "36 1/5 × 26 4/5 in", "https://d32dm0rphc51dk.cloudfront.net/WhEYWJVogdUhFdq47Vnxtw/large.jpg"},
	}
	for i, w := range doc.Artworks {
		rec := w.Record(nil, degas)
		if rec.Err != nil || rec.Artwork == nil {
			t.Fatalf("artwork %d: %+v", i, rec)
		}
		aw, e := rec.Artwork, want[i]
		if w.ID != e.id || aw.ID != "artsy-aw-"+e.id || aw.Title != e.title || aw.DateText != e.date || aw.Year != e.year ||
			aw.Dimensions != e.dims || aw.ImageURL != e.image {
			t.Errorf("artwork %d = %+v, want %+v", i, *aw, e)
		}
		if len(aw.ArtistIDs) != 1 || aw.ArtistIDs[0] != "artsy-a-"+degasID || aw.Artists[0] != "Edgar Degas" || aw.Nationalities[0] != "French" {
			t.Errorf("artwork %d artists = %q %q %q", i, aw.ArtistIDs, aw.Artists, aw.Nationalities)
		}
		var own struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(rec.Raw, &own); err != nil || own.ID != e.id {
			t.Errorf("artwork %d raw holds %q (%v)", i, own.ID, err)
		}
	}
	if got := doc.Artworks[4].Record(nil, nil).Artwork.CreditLine; got != "Musée d'Orsay, Paris" {
		t.Errorf("credit line = %q", got)
	}
}

func TestSharedGene(t *testing.T) {
	doc := parseShared(t, "maxgrok_impressionism.json")
	if len(doc.Genes) != 1 || len(doc.Artists)+len(doc.Artworks) != 0 {
		t.Fatalf("got %+v, want one gene", doc)
	}
	g := doc.Genes[0]
	if g.ID != "4d90d191dcdd5f44a500004e" || g.Name != "Impressionism" || len(g.Description) < 100 {
		t.Errorf("gene = %q %q (%d-byte description)", g.ID, g.Name, len(g.Description))
	}
	if got := g.Links["artworks"].Href; got != "https://api.artsy.net/api/artworks?gene_id=4d90d191dcdd5f44a500004e" {
		t.Errorf("artworks link = %q", got)
	}
}

func TestSharedArtwork(t *testing.T) {
	doc := parseShared(t, "galleryguide_artwork_the-old-violin_516dfb9ab31e2b2270000c45.json")
	if len(doc.Artworks) != 1 || len(doc.Artists)+len(doc.Genes) != 0 {
		t.Fatalf("got %+v, want one artwork", doc)
	}
	w := doc.Artworks[0]
	if w.ID != "516dfb9ab31e2b2270000c45" || w.Title != "The Old Violin" || w.Date != "1886" || w.Medium != "Oil on canvas" ||
		w.Category != "Painting" || w.Dimensions != "38 × 23 5/8 in" {
		t.Errorf("artwork = %+v", w)
	}
	aw := w.Record(nil, nil).Artwork
	if aw.ID != "artsy-aw-516dfb9ab31e2b2270000c45" || aw.Year != 1886 || aw.CreditLine != "National Gallery of Art, Washington D.C." ||
		aw.URL != "https://www.artsy.net/artwork/william-michael-harnett-the-old-violin" ||
		aw.ImageURL != "https://d32dm0rphc51dk.cloudfront.net/dTGcd0Xx0aEp_MDFdHIUIw/medium.jpg" ||
		aw.Description == "" || aw.Description[0] == '\n' || aw.ArtistIDs != nil {
		t.Errorf("domain artwork = %+v", *aw)
	}
	if got := Rebase(w.Links["artists"].Href, "http://127.0.0.1:8080/api"); got != "http://127.0.0.1:8080/api/artists?artwork_id=516dfb9ab31e2b2270000c45" {
		t.Errorf("rebased artists link = %q", got)
	}
}
