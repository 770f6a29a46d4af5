package artsy

import "testing"

func TestExpandLink(t *testing.T) {
	vars := map[string]string{
		"image_version": "large",
		"id":            "4d8b92b34eb68a1b2c0003f4",
		"size":          "10",
		"q":             "Degas & Co/2",
		"empty":         "",
		"path":          "a/b c",
		"uni":           "é",
	}
	cases := []struct {
		name string
		l    Link
		want string
	}{
		{"image version", Link{Href: "https://d.example/x/{image_version}.jpg", Templated: true}, "https://d.example/x/large.jpg"},
		{"not templated flag still expands", Link{Href: "https://d.example/x/{image_version}.jpg"}, "https://d.example/x/large.jpg"},
		{"no braces", Link{Href: "https://api.artsy.net/api/artists?gene_id=1", Templated: true}, "https://api.artsy.net/api/artists?gene_id=1"},
		{"empty", Link{}, ""},
		{"missing var", Link{Href: "/genes/{gene_id}/x", Templated: true}, "/genes//x"},
		{"query removed", Link{Href: "https://api.artsy.net/api/artworks{?similar_to,cursor}", Templated: true}, "https://api.artsy.net/api/artworks"},
		{"query filled", Link{Href: "https://api.artsy.net/api/artworks{?id,size,cursor}", Templated: true}, "https://api.artsy.net/api/artworks?id=4d8b92b34eb68a1b2c0003f4&size=10"},
		{"query encoded", Link{Href: "/search{?q}", Templated: true}, "/search?q=Degas%20%26%20Co%2F2"},
		{"query empty value", Link{Href: "/x{?empty}", Templated: true}, "/x?empty="},
		{"query continuation", Link{Href: "/x?a=1{&size,cursor}", Templated: true}, "/x?a=1&size=10"},
		{"simple encodes", Link{Href: "/p/{path}", Templated: true}, "/p/a%2Fb%20c"},
		{"reserved keeps slash", Link{Href: "/p/{+path}", Templated: true}, "/p/a/b%20c"},
		{"fragment", Link{Href: "/p{#path}", Templated: true}, "/p#a/b%20c"},
		{"label", Link{Href: "/f{.size}", Templated: true}, "/f.10"},
		{"path segments", Link{Href: "/api{/id,size}", Templated: true}, "/api/4d8b92b34eb68a1b2c0003f4/10"},
		{"path params", Link{Href: "/x{;size,empty}", Templated: true}, "/x;size=10;empty"},
		{"multiple simple", Link{Href: "{id,size}", Templated: true}, "4d8b92b34eb68a1b2c0003f4,10"},
		{"prefix modifier", Link{Href: "/{id:4}", Templated: true}, "/4d8b"},
		{"explode ignored", Link{Href: "/{id*}", Templated: true}, "/4d8b92b34eb68a1b2c0003f4"},
		{"utf-8", Link{Href: "/{uni}", Templated: true}, "/%C3%A9"},
		{"unclosed kept", Link{Href: "/x/{image_version", Templated: true}, "/x/{image_version"},
		{"empty expression kept", Link{Href: "/x/{}/{size}", Templated: true}, "/x/{}/10"},
		{"invalid name kept", Link{Href: "/x/{a b}", Templated: true}, "/x/{a b}"},
		{"reserved operator kept", Link{Href: "/x/{=a}", Templated: true}, "/x/{=a}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ExpandLink(c.l, vars); got != c.want {
				t.Errorf("ExpandLink(%q) = %q, want %q", c.l.Href, got, c.want)
			}
		})
	}
	if got := ExpandLink(Link{Href: "/a{?x}/{y}", Templated: true}, nil); got != "/a/" {
		t.Errorf("nil vars: %q", got)
	}
}

func TestRebase(t *testing.T) {
	const next = "https://api.artsy.net/api/artworks?artist_id=4dadd2177129f05924000c68&cursor=506dfe9279fb8700020005ff%3A506dfe9279fb8700020005ff"
	cases := []struct {
		name, href, base, want string
	}{
		{"host only base", "https://api.artsy.net/api/artists/1", "http://127.0.0.1:8080", "http://127.0.0.1:8080/api/artists/1"},
		{"host only base slash", "https://api.artsy.net/api/artists/1", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/api/artists/1"},
		{"api base no doubling", "https://api.artsy.net/api/artists/1", "http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/artists/1"},
		{"api base slash", "https://api.artsy.net/api/artists/1", "http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/artists/1"},
		{"mounted base", "https://api.artsy.net/api/artists/1", "https://mock.example/artsy", "https://mock.example/artsy/api/artists/1"},
		{"mounted api base", "https://api.artsy.net/api/artists/1", "https://mock.example/artsy/api", "https://mock.example/artsy/api/artists/1"},
		{"query kept byte for byte", next, "http://localhost:9999/api", "http://localhost:9999/api/artworks?artist_id=4dadd2177129f05924000c68&cursor=506dfe9279fb8700020005ff%3A506dfe9279fb8700020005ff"},
		{"http scheme", "http://api.artsy.net/api/genes?artist_id=1", "http://h:1", "http://h:1/api/genes?artist_id=1"},
		{"host case and port", "https://API.Artsy.net:443/api/genes/1", "http://h", "http://h/api/genes/1"},
		{"scheme relative", "//api.artsy.net/api/genes/1", "https://h", "https://h/api/genes/1"},
		{"template kept", "https://api.artsy.net/api/artworks{?cursor,size}", "http://h/api", "http://h/api/artworks{?cursor,size}"},
		{"api root", "https://api.artsy.net/api", "http://h/api", "http://h/api"},
		{"apis is not api", "https://api.artsy.net/apis/x", "http://h/api", "http://h/api/apis/x"},
		{"bare host", "https://api.artsy.net", "http://h/api", "http://h/api"},
		{"host then query", "https://api.artsy.net?x=1", "http://h", "http://h/?x=1"},
		{"fragment kept", "https://api.artsy.net/api/artists/1#bio", "http://h", "http://h/api/artists/1#bio"},
		{"image untouched", "https://d32dm0rphc51dk.cloudfront.net/x/{image_version}.jpg", "http://h/api", "https://d32dm0rphc51dk.cloudfront.net/x/{image_version}.jpg"},
		{"permalink untouched", "http://www.artsy.net/artist/edgar-degas", "http://h/api", "http://www.artsy.net/artist/edgar-degas"},
		{"lookalike host untouched", "https://api.artsy.net.evil.example/api/x", "http://h", "https://api.artsy.net.evil.example/api/x"},
		{"already local", "http://h/api/artworks?cursor=1", "http://h/api", "http://h/api/artworks?cursor=1"},
		{"root relative", "/api/artworks?cursor=a%3Ab", "http://h:8/api", "http://h:8/api/artworks?cursor=a%3Ab"},
		{"path relative", "artworks?cursor=a", "http://h:8/api", "http://h:8/api/artworks?cursor=a"},
		{"path relative base slash", "artworks", "http://h:8/api/", "http://h:8/api/artworks"},
		{"dot segments", "../other/./x?y=1", "http://h/api/v2", "http://h/api/other/x?y=1"},
		{"dot segments above root", "../../../x", "http://h/api", "http://h/x"},
		{"query only", "?cursor=2", "http://h/api/artworks", "http://h/api/artworks?cursor=2"},
		{"fragment only", "#top", "http://h/api?x=1", "http://h/api?x=1#top"},
		{"relative template", "artworks{?cursor}", "http://h/api", "http://h/api/artworks{?cursor}"},
		{"empty href", "", "http://h", ""},
		{"empty base", "https://api.artsy.net/api/x", "", "https://api.artsy.net/api/x"},
		{"relative base", "https://api.artsy.net/api/x", "/api", "https://api.artsy.net/api/x"},
		{"bad base", "https://api.artsy.net/api/x", "http://[::1", "https://api.artsy.net/api/x"},
		{"ftp base", "https://api.artsy.net/api/x", "ftp://h/api", "https://api.artsy.net/api/x"},
		{"ipv6 base", "https://api.artsy.net/api/x", "http://[::1]:8080/api", "http://[::1]:8080/api/x"},
		{"other scheme href", "mailto:someone@example.test", "http://h", "mailto:someone@example.test"},
		{"host then query api base", "https://api.artsy.net?x=1", "http://h/api", "http://h/api?x=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Rebase(c.href, c.base); got != c.want {
				t.Errorf("Rebase(%q, %q) = %q, want %q", c.href, c.base, got, c.want)
			}
		})
	}
}
