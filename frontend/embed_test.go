package frontend

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(FS(), name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if len(b) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return string(b)
}

func TestFilesExist(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		readFile(t, name)
	}
}

func TestIndexReferencesAssets(t *testing.T) {
	html := readFile(t, "index.html")
	for _, want := range []string{`src="app.js"`, `href="style.css"`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html does not contain %s", want)
		}
	}
}

func TestIndexAccessibility(t *testing.T) {
	html := readFile(t, "index.html")

	input := regexp.MustCompile(`<input[^>]*\bid="q"[^>]*>`).FindString(html)
	if input == "" {
		t.Fatal(`index.html has no <input id="q">`)
	}
	if !strings.Contains(input, `type="search"`) {
		t.Errorf("search input is not type=search: %s", input)
	}
	if !regexp.MustCompile(`<label[^>]*\bfor="q"[^>]*>`).MatchString(html) {
		t.Error(`index.html has no <label for="q"> for the search input`)
	}
	if !regexp.MustCompile(`<main[\s>]`).MatchString(html) {
		t.Error("index.html has no <main> element")
	}
	for _, want := range []string{
		`<html lang="en"`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`role="alert"`,
		`aria-live="polite"`,
		`id="results"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html does not contain %s", want)
		}
	}
}

// The page must work offline and under a strict CSP: nothing loaded from
// other origins.
func TestNoExternalResources(t *testing.T) {
	ext := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)
	for _, name := range []string{"index.html", "style.css"} {
		if m := ext.FindString(readFile(t, name)); m != "" {
			t.Errorf("%s loads an external resource: %s", name, m)
		}
	}
	if strings.Contains(readFile(t, "style.css"), "@import") {
		t.Error("style.css uses @import")
	}
}

// API data must only ever reach the DOM through textContent.
func TestAppAvoidsHTMLInjection(t *testing.T) {
	js := readFile(t, "app.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
