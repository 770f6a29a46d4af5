package artsy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, fails only with its two
// sentinel errors, and that whatever it returns can be turned into records
// and links without panicking, each resource keeping valid JSON of its own.
func FuzzParse(f *testing.F) {
	for _, p := range inputs(f) {
		f.Add(readFile(f, p))
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"_links":{"self":{"href":"/api/artists/"}}}`,
		`{"_links":{"self":{"href":"{?x"}},"_embedded":{"genes":[{"_links":{"image":{"href":"{+a}{#b}{/c:3}","templated":true}}}]}}`,
		`{"_embedded":{"artworks":{"dimensions":{"in":[],"cm":{"text":7}}}}}`,
		"{\"_links\":{},\"name\":\"\xff\"}",
		`[ "a]\"}" , {"id":"x","title":"[}\"{"} ,[1,{"id":"no"}], 3.5e2 ,true,null,{"id":"y"}]`,
		`[{"a":[{"b":"\\"}]},-0.1e+2,{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSplit(t, body)
		doc, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrNotHAL) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "artsy: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		check := func(raw json.RawMessage, links map[string]Link) {
			if !json.Valid(raw) || !utf8.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
				t.Fatalf("raw is not a valid UTF-8 JSON object: %q", raw)
			}
			for _, l := range links {
				ExpandLink(l, map[string]string{"image_version": "large", "x": "a b"})
				Rebase(l.Href, "http://127.0.0.1:8080/api")
			}
		}
		for _, a := range doc.Artists {
			check(a.Raw, a.Links)
			a.Record(nil)
		}
		for _, w := range doc.Artworks {
			check(w.Raw, w.Links)
			w.Record(nil, doc.Artists)
		}
		for _, g := range doc.Genes {
			check(g.Raw, g.Links)
		}
		Rebase(doc.Next, "http://[::1]:1")
		if doc.Total < 0 {
			t.Fatalf("negative total %d", doc.Total)
		}
	})
}

// BenchmarkParse parses a list page of artworks: the hand-written testdata
// page, and the real Degas page when the shared fixtures are present.
func BenchmarkParse(b *testing.B) {
	pages := []struct{ name, path string }{
		{"testdata-page", "testdata/artworks_page.json"},
		{"shared-degas-page", sharedDir + "/maxgrok_edgar-degas-artworks.json"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var body []byte
			if strings.HasPrefix(p.path, sharedDir) {
				body = sharedFixture(b, "maxgrok_edgar-degas-artworks.json")
			} else {
				body = readFile(b, p.path)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			artworks := 0
			for b.Loop() {
				doc, err := Parse(body)
				if err != nil {
					b.Fatal(err)
				}
				artworks += len(doc.Artworks)
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "docs/s")
			b.ReportMetric(float64(artworks)/secs, "artworks/s")
		})
	}
}

// checkSplit compares how elements splits a valid JSON array with
// encoding/json.
func checkSplit(t *testing.T, body []byte) {
	var want []json.RawMessage
	if json.Unmarshal(body, &want) != nil {
		return
	}
	var got elements
	if err := got.UnmarshalJSON(bytes.TrimSpace(body)); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("split %q into %d elements, want %d", body, len(got), len(want))
	}
	for i, e := range got {
		isObject := bytes.HasPrefix(bytes.TrimSpace(want[i]), []byte("{"))
		if e.ok != isObject {
			t.Fatalf("element %d of %q: ok %v, want %v", i, body, e.ok, isObject)
		}
		if e.ok && !bytes.Equal(e.raw, ownJSON(want[i])) {
			t.Fatalf("element %d of %q: raw %q, want %q", i, body, e.raw, want[i])
		}
	}
}
