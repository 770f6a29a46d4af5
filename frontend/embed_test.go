package frontend

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The app's files. Every module must be listed here and reachable from app.js.
var (
	modules = []string{
		"app.js", "api.js", "dom.js", "util.js", "charts.js", "search.js", "item.js",
		"trending.js", "map.js", "countries.js", "topics.js", "pipeline.js", "lineage.js", "runs.js", "admin.js",
	}
	appFiles = append([]string{"index.html", "style.css"}, modules...)
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

// scripts returns every .js file of the app by name.
func scripts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".js") {
			out[p] = readFile(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFilesExist(t *testing.T) {
	for _, name := range appFiles {
		readFile(t, name)
	}
	// No stray scripts: an unlisted module is either dead or untested.
	for name := range scripts(t) {
		if !slices.Contains(modules, name) {
			t.Errorf("%s is not in the module list of embed_test.go", name)
		}
	}
}

func TestIndexReferencesAssets(t *testing.T) {
	html := readFile(t, "index.html")
	for _, want := range []string{`src="app.js"`, `href="style.css"`, `<script type="module" src="app.js">`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html does not contain %s", want)
		}
	}
	// Every local file the page references is embedded.
	for _, m := range regexp.MustCompile(`\b(?:src|href)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "#"), ref == "/healthz", strings.HasPrefix(ref, "/api/"):
			continue
		}
		if _, err := fs.Stat(FS(), strings.TrimPrefix(ref, "./")); err != nil {
			t.Errorf("index.html references %q, which is not embedded: %v", ref, err)
		}
	}
}

var (
	// import {a, b as c} from './x.js'; import * as x from './x.js'; export {a} from './x.js'; import './x.js'
	importRE    = regexp.MustCompile(`(?m)^\s*(?:import|export)\s+(?:([\w*\s{},$]+?)\s+from\s+)?['"]([^'"]+)['"]`)
	dynImportRE = regexp.MustCompile(`\bimport\s*\(\s*['"]([^'"]+)['"]`)
	exportDecl  = regexp.MustCompile(`(?m)^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([\w$]+)`)
	exportList  = regexp.MustCompile(`(?m)^export\s*\{([^}]*)\}`)
)

// exportsOf lists the names a module exports.
func exportsOf(src string) []string {
	var out []string
	for _, m := range exportDecl.FindAllStringSubmatch(src, -1) {
		out = append(out, m[1])
	}
	for _, m := range exportList.FindAllStringSubmatch(src, -1) {
		for _, part := range strings.Split(m[1], ",") {
			f := strings.Fields(part)
			if len(f) > 0 {
				out = append(out, f[len(f)-1])
			}
		}
	}
	if regexp.MustCompile(`(?m)^export\s+default\b`).MatchString(src) {
		out = append(out, "default")
	}
	return out
}

// Without a build step a missing file or export only shows up as a blank page
// in the browser, so check the module graph here: every import resolves to an
// embedded file that exports the imported names, there are no cycles, and
// every module is reachable from app.js.
func TestModuleGraph(t *testing.T) {
	files := scripts(t)
	deps := map[string][]string{}
	for name, src := range files {
		if dynImportRE.MatchString(src) {
			t.Errorf("%s uses a dynamic import; keep the module graph static", name)
		}
		for _, m := range importRE.FindAllStringSubmatch(src, -1) {
			clause, spec := strings.TrimSpace(m[1]), m[2]
			if !strings.HasPrefix(spec, "./") || !strings.HasSuffix(spec, ".js") {
				t.Errorf("%s imports %q: only relative ./name.js modules are allowed", name, spec)
				continue
			}
			target := path.Clean(path.Join(path.Dir(name), spec))
			dep, ok := files[target]
			if !ok {
				t.Errorf("%s imports %q, which is not embedded", name, spec)
				continue
			}
			deps[name] = append(deps[name], target)
			exported := exportsOf(dep)
			need := func(n string) {
				if !slices.Contains(exported, n) {
					t.Errorf("%s imports %s from %s, which does not export it (exports: %s)", name, n, target, strings.Join(exported, ", "))
				}
			}
			switch {
			case clause == "":
			case strings.HasPrefix(clause, "*"):
				// import * as ns: every ns.name used must be exported.
				ns := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(clause, "*")), "as"))
				body := importRE.ReplaceAllString(src, "")
				for _, u := range regexp.MustCompile(`\b`+regexp.QuoteMeta(ns)+`\.([\w$]+)`).FindAllStringSubmatch(body, -1) {
					need(u[1])
				}
			case strings.HasPrefix(clause, "{"):
				for _, part := range strings.Split(strings.Trim(clause, "{} \n"), ",") {
					if f := strings.Fields(part); len(f) > 0 {
						need(f[0])
					}
				}
			default:
				need("default")
			}
		}
	}

	// Reachability and cycles, by depth-first search from app.js.
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(string, []string)
	visit = func(n string, stack []string) {
		switch state[n] {
		case active:
			t.Errorf("import cycle: %s -> %s", strings.Join(stack, " -> "), n)
			return
		case done:
			return
		}
		state[n] = active
		for _, d := range deps[n] {
			visit(d, append(stack, n))
		}
		state[n] = done
	}
	visit("app.js", nil)
	for name := range files {
		if state[name] != done {
			t.Errorf("%s is not imported (directly or not) by app.js", name)
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
		`id="facets"`,
		`<h1`,
		`<h2`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html does not contain %s", want)
		}
	}
	status := regexp.MustCompile(`<[^>]*\bid="status"[^>]*>`).FindString(html)
	if !strings.Contains(status, `role="status"`) || !strings.Contains(status, `aria-live="polite"`) {
		t.Errorf(`the page status is not a polite live region: %q`, status)
	}

	// Every form control has a label (a <label for> or an aria-label).
	for _, ctl := range regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*>`).FindAllString(html, -1) {
		if strings.Contains(ctl, `type="hidden"`) || strings.Contains(ctl, `aria-label=`) {
			continue
		}
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(ctl)
		if id == nil || !strings.Contains(html, `for="`+id[1]+`"`) {
			t.Errorf("form control without a label: %s", ctl)
		}
	}

	// The main navigation links every page, and only one nav is unnamed.
	nav := regexp.MustCompile(`(?s)<nav[^>]*aria-label="Main"[^>]*>.*?</nav>`).FindString(html)
	if nav == "" {
		t.Fatal(`index.html has no <nav aria-label="Main">`)
	}
	for _, route := range []string{"#/", "#/trending", "#/map", "#/topics", "#/pipeline", "#/runs"} {
		if !strings.Contains(nav, `href="`+route+`"`) {
			t.Errorf("the main navigation has no link to %s", route)
		}
	}
	for _, n := range regexp.MustCompile(`<nav\b[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(n, "aria-label=") {
			t.Errorf("navigation landmark without a name: %s", n)
		}
	}
}

// The ids and attributes the browser tests (and users of assistive
// technology) rely on must exist in the page or be created by a script.
func TestStableIDs(t *testing.T) {
	html := readFile(t, "index.html")
	for _, id := range []string{"q", "results", "facets", "status", "error", "type", "pager"} {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf(`index.html has no id="%s"`, id)
		}
	}
	files := scripts(t)
	for file, ids := range map[string][]string{
		"item.js":     {"item-title", "similar", "trend-chart"},
		"trending.js": {"terms-chart", "trending-items"},
		"map.js":      {"uploads-map", "uploads-table"},
		"topics.js":   {"topics", "topic-items"},
		"pipeline.js": {"assets", "partitions", "asset-title", "materialize", "backfill-missing", "history-table", "action-result"},
		"lineage.js":  {"lineage"},
		"runs.js":     {"runs"},
		"admin.js":    {"token-dialog", "admin-token", "token-submit", "token-button"},
	} {
		for _, id := range ids {
			if !regexp.MustCompile(`(?:\.id = |\bid: |\btable\()'` + regexp.QuoteMeta(id) + `'`).MatchString(files[file]) {
				t.Errorf("%s does not create an element with id %q", file, id)
			}
		}
	}
	if !strings.Contains(files["item.js"], "chart.node.dataset.total = String(total)") {
		t.Error("item.js does not keep data-total on the trend chart up to date")
	}
	if !strings.Contains(files["app.js"], `'aria-current', 'page'`) {
		t.Error("app.js does not mark the current navigation link with aria-current")
	}
}

// Controls created by scripts need labels too.
func TestScriptControlsAreLabelled(t *testing.T) {
	control := regexp.MustCompile(`el\('(?:input|select|textarea)'|createElement\('(?:input|select|textarea)'`)
	label := regexp.MustCompile(`el\('label'|labelled\(|aria-label`)
	for name, src := range scripts(t) {
		if control.MatchString(src) && !label.MatchString(src) {
			t.Errorf("%s creates form controls but no labels", name)
		}
	}
	// Charts and the map are images to assistive technology: they need names.
	for _, file := range []string{"charts.js", "map.js"} {
		if !strings.Contains(scripts(t)[file], "aria-label") {
			t.Errorf("%s draws a chart without an aria-label", file)
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
	css := readFile(t, "style.css")
	if strings.Contains(css, "@import") {
		t.Error("style.css uses @import")
	}
	if m := regexp.MustCompile(`(?i)url\(\s*['"]?(https?:)?//`).FindString(css); m != "" {
		t.Errorf("style.css loads an external resource: %s", m)
	}
	// Scripts name no absolute URL but the SVG namespace.
	abs := regexp.MustCompile(`['"` + "`" + `](?:https?:)?//[^'"` + "`" + `]*`)
	for name, src := range scripts(t) {
		for _, m := range abs.FindAllString(src, -1) {
			if m[1:] != "http://www.w3.org/2000/svg" {
				t.Errorf("%s contains an absolute URL: %s", name, m)
			}
		}
	}
	if regexp.MustCompile(`(?i)<(script|link)[^>]*(src|href)="[^"]*:`).MatchString(readFile(t, "index.html")) {
		t.Error("index.html loads a script or stylesheet by absolute URL")
	}
}

// API data must only ever reach the DOM through textContent, and URLs from the
// API only through dom.js's checked helpers.
func TestAppAvoidsHTMLInjection(t *testing.T) {
	bad := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment",
		"DOMParser", "eval(", "new Function", "setAttribute('on", `setAttribute("on`, "srcdoc"}
	urlSinks := regexp.MustCompile(`\.(?:href|src|action|formAction)\s*=[^=]|setAttribute\(\s*['"](?:href|src|xlink:href|action)['"]`)
	for name, src := range scripts(t) {
		for _, b := range bad {
			if strings.Contains(src, b) {
				t.Errorf("%s uses %s", name, b)
			}
		}
		if name != "dom.js" {
			if m := urlSinks.FindString(src); m != "" {
				t.Errorf("%s sets a URL directly (%s); use dom.js's routeLink/externalLink/image/setSafeHref", name, m)
			}
		}
	}
	dom := scripts(t)["dom.js"]
	for _, want := range []string{"isSafeURL(url)", "startsWith('#/')"} {
		if !strings.Contains(dom, want) {
			t.Errorf("dom.js does not check URLs with %s", want)
		}
	}
}

func TestStyleSheet(t *testing.T) {
	css := readFile(t, "style.css")
	for _, want := range []string{
		"[hidden] { display: none !important; }",
		"@media (prefers-color-scheme: dark)",
		":focus-visible",
		"@media (max-width: 599.98px)",
		"@media (prefers-reduced-motion: reduce)",
		".sr-only",
	} {
		if !strings.Contains(css, want) {
			t.Errorf("style.css has no %s", want)
		}
	}
	if strings.Count(css, "{") != strings.Count(css, "}") {
		t.Error("style.css has unbalanced braces")
	}
}

var countryRow = regexp.MustCompile(`(?m)^\s*\["([A-Z]{2})", "([^"]+)", (-?\d+(?:\.\d+)?), (-?\d+(?:\.\d+)?)\],$`)

func TestCountries(t *testing.T) {
	src := readFile(t, "countries.js")
	type place struct{ lat, lon float64 }
	got := map[string]place{}
	for _, m := range countryRow.FindAllStringSubmatch(src, -1) {
		lat, _ := strconv.ParseFloat(m[3], 64)
		lon, _ := strconv.ParseFloat(m[4], 64)
		if _, dup := got[m[1]]; dup {
			t.Errorf("country %s is listed twice", m[1])
		}
		if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			t.Errorf("country %s has an impossible position %v, %v", m[1], lat, lon)
		}
		got[m[1]] = place{lat, lon}
	}
	if rows := strings.Count(src, "\n  [\""); rows != len(got) {
		t.Errorf("countries.js has %d rows but %d parse", rows, len(got))
	}
	if len(got) < 195 {
		t.Errorf("countries.js has %d countries, want all sovereign states (at least 195)", len(got))
	}
	// Rough boxes around each country that must be placed right: [latMin, latMax, lonMin, lonMax].
	boxes := map[string][4]float64{
		"US": {25, 49, -125, -67}, "GB": {50, 59, -8, 2}, "FR": {42, 51, -5, 8}, "DE": {47, 55, 6, 15},
		"JP": {30, 45, 129, 146}, "BR": {-33, 5, -74, -35}, "IN": {8, 35, 68, 97}, "NG": {4, 14, 3, 15},
		"MX": {15, 32, -117, -87}, "KR": {33, 39, 125, 130}, "CN": {20, 50, 75, 130}, "CA": {43, 70, -140, -55},
		"AU": {-39, -12, 114, 153}, "IT": {37, 47, 7, 18}, "ES": {36, 44, -9, 3}, "NL": {51, 53.5, 3, 7},
		"SE": {55, 69, 11, 24}, "NO": {58, 71, 4, 31}, "RU": {45, 75, 30, 180}, "ZA": {-35, -22, 16, 33},
		"AR": {-55, -22, -73, -53}, "EG": {22, 32, 25, 36}, "KE": {-5, 5, 34, 42}, "ID": {-11, 6, 95, 141},
		"TR": {36, 42, 26, 45},
	}
	for code, b := range boxes {
		p, ok := got[code]
		if !ok {
			t.Errorf("countries.js has no %s", code)
			continue
		}
		if p.lat < b[0] || p.lat > b[1] || p.lon < b[2] || p.lon > b[3] {
			t.Errorf("%s is placed at %v, %v, outside %v", code, p.lat, p.lon, b)
		}
	}
}

// nodeDir copies the scripts into a temporary ES-module package for Node, or
// skips the test when Node is not installed.
func nodeDir(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir = t.TempDir()
	for name, src := range scripts(t) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return node, dir
}

func TestScriptSyntax(t *testing.T) {
	node, dir := nodeDir(t)
	for name := range scripts(t) {
		out, err := exec.Command(node, "--check", filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
}

// The pure helpers (no DOM) run under Node.
func TestScriptUnits(t *testing.T) {
	node, dir := nodeDir(t)
	test := filepath.Join(dir, "units.test.js")
	if err := os.WriteFile(test, []byte(unitTests), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, test)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "units ok") {
		t.Fatalf("unit tests failed: %v\n%s", err, out)
	}
}

const unitTests = `
import assert from 'node:assert/strict';
import * as u from './util.js';
import * as apiURLs from './api.js';
import { COUNTRIES, countryName } from './countries.js';

// routing
let r = u.parseHash('#/topics/3?page=2');
assert.deepEqual(r.segments, ['topics', '3']);
assert.equal(r.query.get('page'), '2');
assert.deepEqual(u.parseHash('').segments, []);
assert.deepEqual(u.parseHash('#/').segments, []);
assert.deepEqual(u.parseHash('#/?q=a%20b').segments, []);
assert.equal(u.parseHash('#/?q=a%20b').query.get('q'), 'a b');
assert.deepEqual(u.parseHash('#/item/a%2Fb').segments, ['item', 'a/b']);
assert.deepEqual(u.parseHash('#/item/%E0%A4%A').segments, ['item', '%E0%A4%A']);
assert.equal(u.itemHash('tt0133093'), '#/item/tt0133093');
assert.equal(u.itemHash('a/b c'), '#/item/a%2Fb%20c');
assert.equal(u.hashFor(['pipeline', 'catalog.items']), '#/pipeline/catalog.items');
assert.equal(u.hashFor(['topics', 3], { page: '2' }), '#/topics/3?page=2');
assert.equal(u.positiveInt('3'), 3);
assert.equal(u.positiveInt('-1'), 1);
assert.equal(u.positiveInt('x', 7), 7);

// decades
assert.deepEqual(u.decadeRange('1990s'), { from: 1990, to: 1999 });
assert.deepEqual(u.decadeRange('2000s'), { from: 2000, to: 2009 });
assert.equal(u.decadeRange('199s'), null);
assert.equal(u.decadeRange('1995s'), null);
assert.equal(u.decadeRange(''), null);
assert.equal(u.decadeOf(1990, 1999), '1990s');
assert.equal(u.decadeOf(1990, 2000), '');
assert.equal(u.decadeOf(0, 0), '');
assert.equal(u.decadeFilterable('1990s'), true);
assert.equal(u.decadeFilterable('1780s'), false);

// search state
const st = u.searchStateFrom('q=%20matrix%20&type=movie&page=2&genre=Drama&genre=Sci-Fi&genre=Drama&medium=Oil&year_from=1990&year_to=1999');
assert.equal(st.q, 'matrix');
assert.equal(st.type, 'movie');
assert.equal(st.page, 2);
assert.deepEqual(st.filters, { genre: ['Drama', 'Sci-Fi'], medium: ['Oil'], nationality: [] });
assert.equal(st.yearFrom, 1990);
assert.equal(st.yearTo, 1999);
assert.deepEqual(u.searchStateFrom(u.searchParamsOf(st)), st);
assert.equal(u.activeFilterCount(st), 4);
assert.equal(u.searchStateFrom('type=toString').type, '');
assert.equal(u.searchStateFrom('page=0').page, 1);
assert.equal(u.searchStateFrom('year_from=1200').yearFrom, 0);
const bad = u.searchStateFrom('year_from=2000&year_to=1990');
assert.equal(bad.yearFrom + bad.yearTo, 0);
assert.equal(u.searchParamsOf(u.searchStateFrom('page=3')).toString(), '');
const api = new URL(u.searchAPIURL(st, 20), 'http://localhost/');
assert.equal(api.pathname, '/api/search');
assert.equal(api.searchParams.get('q'), 'matrix');
assert.equal(api.searchParams.get('type'), 'movie');
assert.equal(api.searchParams.get('limit'), '20');
assert.equal(api.searchParams.get('offset'), '20');
assert.equal(api.searchParams.get('year_from'), '1990');
assert.equal(api.searchParams.get('year_to'), '1999');
assert.deepEqual(api.searchParams.getAll('genre'), ['Drama', 'Sci-Fi']);
assert.deepEqual(api.searchParams.getAll('medium'), ['Oil']);
assert.equal(api.searchParams.get('facets'), 'type,decade,genre,medium,nationality');
assert.equal(api.searchParams.has('page'), false);

// safety
const base = 'http://localhost/';
assert.ok(u.isSafeURL('https://example.com/a.jpg', base));
assert.ok(u.isSafeURL('/relative', base));
assert.ok(!u.isSafeURL('javascript:alert(1)', base));
assert.ok(!u.isSafeURL(' JaVaScRiPt:alert(1)', base));
assert.ok(!u.isSafeURL('data:text/html,<b>x</b>', base));
assert.ok(!u.isSafeURL('', base));
assert.ok(!u.isSafeURL(undefined, base));
assert.ok(!u.isSafeURL({}, base));

// highlights
assert.deepEqual(u.markSegments('The Matrix', [[4, 10]]), [{ text: 'The ', mark: false }, { text: 'Matrix', mark: true }]);
assert.deepEqual(u.markSegments('😀ab', [[1, 2]]).map((s) => s.text), ['😀', 'a', 'b']);
assert.deepEqual(u.markSegments('abc', [[2, 1], [0, 9], [-1, 1], 'x', [1.5, 2]]), [{ text: 'abc', mark: false }]);
assert.deepEqual(u.markSegments('abc', [[0, 2], [1, 3]]).map((s) => s.mark), [true, false]);
assert.deepEqual(u.markSegments('', null), [{ text: '', mark: false }]);
assert.equal(u.truncate('short'), 'short');
assert.ok(u.truncate('word '.repeat(100), 50).endsWith('…'));
assert.ok(Array.from(u.truncate('word '.repeat(100), 50)).length <= 51);

// live trend
const from = Date.parse('2026-11-23T10:00:00Z');
const b = u.bucketTrend([
  { t: '2026-11-23T10:00:05Z', total: 3, counts: { view: 2, collect: 1 } },
  { t: '2026-11-23T10:00:07Z', total: 1, counts: { view: 1 } },
  { t: '2026-11-23T10:14:55Z', total: 4, counts: { view: 4 } },
  { t: '2026-11-23T10:15:00Z', total: 100 },
  { t: '2026-11-23T09:59:55Z', total: 100 },
  { t: 'not a time', total: 1 },
  { t: '2026-11-23T10:01:00Z', total: -1 },
], from, 180, 5000);
assert.equal(b.values.length, 180);
assert.equal(b.total, 8);
assert.equal(b.drawn, 3);
assert.equal(b.values[1], 4);
assert.equal(b.values[179], 4);
assert.equal(b.byType.get('view'), 7);
assert.equal(b.byType.get('collect'), 1);
assert.deepEqual(u.bucketTrend(null, from, 3, 5000).values, [0, 0, 0]);
assert.deepEqual(u.sumGroups([1, 2, 3, 4, 5], 2), [3, 7, 5]);
assert.equal(u.alignUp(12001, 5000), 15000);
assert.equal(u.alignUp(15000, 5000), 15000);
assert.equal(u.isoSeconds(Date.parse('2026-11-23T10:00:05.123Z')), '2026-11-23T10:00:05Z');

// uploads per day
assert.deepEqual(u.dayRange('2026-11-20', '2026-11-23'), ['2026-11-20', '2026-11-21', '2026-11-22']);
assert.deepEqual(u.dailyTotals({ from: '2026-11-21', to: '2026-11-23', days: [
  { day: '2026-11-22', country: 'US', count: 5 }, { day: '2026-11-22', country: 'GB', count: 2 }, { day: 'bad', count: 9 },
] }), [['2026-11-21', 0], ['2026-11-22', 7]]);

// formatting
assert.equal(u.formatCount(1234), '1,234');
assert.equal(u.plural(1, 'event'), '1 event');
assert.equal(u.plural(2, 'event'), '2 events');
assert.equal(u.plural(2, 'country', 'countries'), '2 countries');
assert.equal(u.windowLabel('5m0s'), '5 minutes');
assert.equal(u.windowLabel('1h0m0s'), 'hour');
assert.equal(u.windowLabel('24h0m0s'), '24 hours');
assert.equal(u.windowLabel('1m'), 'minute');
const now = Date.parse('2026-11-23T10:00:00Z');
assert.equal(u.relativeTime(now - 5 * 60000, now), '5 minutes ago');
assert.equal(u.relativeTime(now - 3 * 3600000, now), '3 hours ago');
assert.equal(u.relativeTime(now - 2000, now), 'just now');
assert.equal(u.relativeTime('garbage', now), '');
assert.equal(u.formatDuration(850), '850 ms');
assert.equal(u.formatDuration(65000), '1 min 5 s');

// pipeline
assert.equal(u.temporalRunURL({ temporal_ui_url: 'http://127.0.0.1:8233/' }, 'wf/1', 'run-1'),
  'http://127.0.0.1:8233/namespaces/default/workflows/wf%2F1/run-1/history');
assert.equal(u.temporalRunURL({ temporal_ui_url: 'http://t:8233', temporal_namespace: 'curio' }, 'wf', 'r'),
  'http://t:8233/namespaces/curio/workflows/wf/r/history');
assert.equal(u.temporalRunURL({ temporal_ui_url: '' }, 'wf', 'r'), '');
assert.equal(u.temporalRunURL({}, 'wf', 'r'), '');
assert.equal(u.temporalRunURL({ temporal_ui_url: 'javascript:alert(1)' }, 'wf', 'r'), '');
assert.equal(u.temporalRunURL({ temporal_ui_url: 'http://t' }, '', 'r'), '');
assert.deepEqual(u.newestFirst([{ partition: '2026-11-23T09' }, { partition: '2026-11-23T10' }, { partition: '2026-11-22T23' }]).map((p) => p.partition),
  ['2026-11-23T10', '2026-11-23T09', '2026-11-22T23']);

// lineage: layers are the longest path from a source; rows follow the upstreams
const graph = [
  { name: 'events', upstreams: [] },
  { name: 'pages', upstreams: [] },
  { name: 'catalog', upstreams: ['pages'] },
  { name: 'index', upstreams: ['catalog'] },
  { name: 'ads', upstreams: ['events', 'catalog', 'elsewhere'] },
  { name: 'serving', upstreams: ['index', 'pages'] },
  { name: 'loop', upstreams: ['loop2'] },
  { name: 'loop2', upstreams: ['loop'] },
  { upstreams: ['events'] },
];
const lay = u.lineageLayout(graph);
assert.deepEqual(lay.columns, [['events', 'pages', 'loop2'], ['catalog', 'loop'], ['ads', 'index'], ['serving']]);
// Edges that skip columns pass through a waypoint (a row of its own) in each column between.
assert.equal(lay.routes.get('pages\u2192serving').length, 2);
assert.equal(lay.routes.get('catalog\u2192index').length, 0);
assert.equal(lay.slots[1].length, 4);
assert.deepEqual(lay.routes.get('events\u2192ads').map((id) => lay.row.get(id)), [0]);
assert.equal(lay.layer.get('serving'), 3);
assert.equal(lay.layer.get('ads'), 2);
assert.ok(lay.edges.some(([f, t]) => f === 'pages' && t === 'serving'));
assert.ok(!lay.edges.some(([f]) => f === 'elsewhere'));
assert.equal(lay.edges.filter(([f, t]) => f.startsWith('loop') && t.startsWith('loop')).length, 1);
assert.deepEqual(u.lineageLayout(null).columns, []);
const crossing = u.lineageLayout([{ name: 'a' }, { name: 'b' }, { name: 'x', upstreams: ['b'] }, { name: 'y', upstreams: ['a'] }]);
assert.deepEqual(crossing.columns[1], ['y', 'x']);

// asset states
assert.equal(u.assetState({ partition_counts: { missing: 1 } }).status, 'never');
assert.equal(u.assetState({ partition_counts: { missing: 1 } }).text, 'never built');
assert.equal(u.assetState({ partition_counts: { materialized: 1 }, last_success: 't' }).text, 'materialized');
assert.equal(u.assetState({ partitioning: 'hour', partition_counts: { materialized: 20, failed: 1, missing: 3 }, last_success: 't' }).status, 'failed');
assert.equal(u.assetState({ partitioning: 'hour', partition_counts: { materialized: 20, failed: 1, missing: 3 } }).text, '20/24 ok · 1 failed · 3 missing');
assert.equal(u.assetState({ partitioning: 'hour', partition_counts: { materialized: 2, stale: 1 } }).status, 'stale');
assert.equal(u.assetState({ partitioning: 'hour', partition_counts: { materialized: 2, missing: 1 } }).status, 'missing');
assert.equal(u.assetState({ partitioning: 'hour', partition_counts: { missing: 5 } }).status, 'never');
assert.equal(u.assetState({ partitioning: 'day', partition_counts: {} }).text, 'no partitions yet');
assert.equal(u.assetState({ partitioning: 'hour', partition_counts: { materialized: 'x', failed: -1 } }).total, 0);
assert.equal(u.assetState(null).status, 'never');
assert.deepEqual(u.ASSET_STATES.map(([s]) => s), ['failed', 'stale', 'missing', 'materialized', 'never']);

// runs
assert.equal(u.describeTrigger('manual:web:model.similar'), 'Started by hand from the web app for model.similar');
assert.equal(u.describeTrigger('manual:api'), 'Started by hand from the admin API');
assert.equal(u.describeTrigger('schedule:similarity-nightly'), 'Started by schedule similarity-nightly');
assert.equal(u.describeTrigger('eager:catalog.items@v3'), 'Started because upstream catalog.items@v3 changed');
assert.equal(u.describeTrigger('sensor:new-files:/in/a.csv'), 'Started by sensor new-files:/in/a.csv');
assert.equal(u.describeTrigger(''), 'Started without a recorded reason');
assert.equal(u.describeTrigger('odd'), 'Started by odd');
assert.equal(u.runDuration({ started_at: '2026-11-23T10:00:00Z', closed_at: '2026-11-23T10:01:05Z' }), '1 min 5 s');
assert.equal(u.runDuration({ started_at: '2026-11-23T10:00:00Z' }, Date.parse('2026-11-23T10:00:02Z')), '2.0 s');
assert.equal(u.runDuration({}), '');
assert.equal(u.RUN_STATUSES.get('Failed'), 'failed');

// API URLs
assert.equal(apiURLs.assetURL('a/b'), '/api/assets/a%2Fb');
assert.equal(apiURLs.assetHistoryURL('model.similar'), '/api/assets/model.similar/history?limit=50');
assert.equal(apiURLs.assetHistoryURL('x', { partition: '2026-11-23T10', limit: 5 }), '/api/assets/x/history?limit=5&partition=2026-11-23T10');
assert.equal(apiURLs.runsURL({ job: 'BuildSimilarity', status: 'Running' }), '/api/runs?limit=50&job=BuildSimilarity&status=Running');
assert.equal(apiURLs.runsURL(), '/api/runs?limit=50');

// map
assert.equal(u.circleRadius(0, 100), 0);
assert.ok(Math.abs(u.circleRadius(25, 100, 12, 0) / u.circleRadius(100, 100, 12, 0) - 0.5) < 1e-9);
assert.equal(u.circleRadius(1, 1e9, 12, 1.2), 1.2);
assert.deepEqual(u.project(0, 0), { x: 180, y: 90 });
assert.deepEqual(u.project(90, -180), { x: 0, y: 0 });
assert.deepEqual(u.project(-90, 180), { x: 360, y: 180 });
assert.ok(COUNTRIES.size >= 195);
assert.equal(countryName('us'), 'United States');
assert.equal(countryName('ZZ'), 'ZZ');
for (const [code, c] of COUNTRIES) {
  assert.match(code, /^[A-Z]{2}$/);
  assert.ok(c.name && Number.isFinite(c.lat) && Number.isFinite(c.lon), code);
}
console.log('units ok');
`
