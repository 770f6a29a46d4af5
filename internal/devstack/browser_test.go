package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/terms"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/workflows"
)

// chromium finds the browser; CI must have it (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CURIO_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: install the Debian package chromium (CURIO_CHROMIUM names another binary)")
	}
	t.Skip("no chromium on PATH; install the Debian package chromium to run the browser tests")
	return ""
}

// TestBrowser drives the web app in headless Chromium against the whole embedded stack:
// type a query, see results, open the detail page, watch the live popularity chart pick
// up new events, see trending terms, the map and the pipeline page, at desktop and phone
// widths. Screenshots go to the test's artifact directory (go test -artifacts keeps them).
func TestBrowser(t *testing.T) {
	browser := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	run, err := stack.RunCatalogPipeline(ctx, "browser-catalog", workflows.CatalogPipelineInput{
		Demo: catalogjob.ImportDemoInput{Movies: 200, Artworks: 100}, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.StartIngest(ctx, workflows.IngestEventsInput{}); err != nil {
		t.Fatal(err)
	}
	var movieID, title string
	if err := stack.PG.Pool().QueryRow(ctx, `SELECT id, title FROM movies WHERE source = 'demo' ORDER BY id LIMIT 1`).Scan(&movieID, &title); err != nil {
		t.Fatal(err)
	}
	waitReady(t, stack.APIURL)

	out := t.ArtifactDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 900))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	// The first action starts the browser on bctx itself: started on a derived context with a
	// timeout, the browser would close when that context ends.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(out, name+".png"), buf, 0o644)
		})
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 45*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(sel, chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	attr := func(sel, name string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 45*time.Second)
		defer cancel()
		r, err := chromedp.Run(sctx, chromedp.AttributeValue(sel, name))
		if err != nil {
			t.Fatalf("attribute %s of %s: %v", name, sel, err)
		}
		return r.Value
	}

	// Search as you type: results appear without pressing Enter.
	step("search", chromedp.Navigate(stack.APIURL+"/#/"), chromedp.WaitVisible("#q"),
		chromedp.SendKeys("#q", title),
		chromedp.WaitVisible(`#results a[href="#/item/`+movieID+`"]`), shot("search"))
	first := text("#results li")
	if !strings.Contains(first, title) {
		t.Errorf("first result %q does not show %q", first, title)
	}
	// Detail page with the live chart.
	step("detail", chromedp.Click(`#results a[href="#/item/`+movieID+`"]`),
		chromedp.WaitVisible("#item-title"), chromedp.WaitVisible("#trend-chart[data-total]"))
	heading, total := text("#item-title"), attr("#trend-chart", "data-total")
	if heading != title || total != "0" {
		t.Errorf("detail page: heading %q (want %q), chart total %q (want 0 before any event)", heading, title, total)
	}
	prod, err := ingest.NewProducer(stack.KafkaBrokers, "browser")
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	// The trending page shows the hour containing now: do not send the events in the last
	// minute of an hour, or they may fall in the hour before the one the page asks for.
	if left := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); left < time.Minute {
		time.Sleep(left + time.Second)
	}
	now := time.Now().UTC()
	var evs []events.Event
	for i := range 5 {
		evs = append(evs, events.Event{ID: fmt.Sprint("browser-view-", i), Type: events.TypeView, UserID: fmt.Sprint("u", i), Time: now, ItemID: movieID, ItemType: "movie"})
	}
	evs = append(evs, events.Event{ID: "browser-search", Type: events.TypeSearch, UserID: "u9", Time: now, Query: "zeppelin lighthouse", Category: "Drama"},
		events.Event{ID: "browser-upload", Type: events.TypeUpload, UserID: "u8", Time: now, ItemID: movieID, ItemType: "movie", Country: "JP"})
	if err := ingest.Send(prod, ingest.TopicEvents, evs); err != nil {
		t.Fatal(err)
	}
	// The chart polls: without a reload its total reaches the 6 events of this item.
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; n < 6; n, _ = strconv.Atoi(total) {
		if time.Now().After(deadline) {
			t.Fatalf("chart total stuck at %s", total)
		}
		time.Sleep(time.Second)
		total = attr("#trend-chart", "data-total")
	}
	caption := text("#trend-chart figcaption")
	step("detail shot", shot("detail"))
	if !strings.Contains(caption, "6") {
		t.Errorf("chart caption %q does not say 6 events", caption)
	}
	// Trending terms show the search's words; the map shows the upload.
	var termsText string
	deadline = time.Now().Add(60 * time.Second)
	step("trending", chromedp.Navigate(stack.APIURL+"/#/trending?terms=1h"), chromedp.WaitVisible("#terms-chart"))
	for !strings.Contains(termsText, "zeppelin") {
		if time.Now().After(deadline) {
			t.Fatalf("terms chart never showed the searched words: %q", termsText)
		}
		step("terms", chromedp.Reload(), chromedp.WaitVisible("#terms-chart"), chromedp.Sleep(500*time.Millisecond))
		termsText = text("#terms-chart")
	}
	// The viewed title's words are new this hour, counted 5 times: they are rising.
	words := terms.Words(title)
	if rising := text("#terms-rising"); len(words) == 0 || !strings.Contains(rising, words[len(words)-1]) {
		t.Errorf("rising terms %q lack the viewed title's words %q", rising, words)
	}
	step("trending shot", shot("trending"))
	step("map", chromedp.Navigate(stack.APIURL+"/#/map"), chromedp.WaitVisible(`#uploads-map circle[data-country="JP"]`),
		chromedp.WaitNotVisible("#q"), shot("map")) // a fresh load of another page hides the search form
	step("pipeline", chromedp.Navigate(stack.APIURL+"/#/pipeline"), chromedp.WaitVisible(`#assets tr[data-asset="catalog.items"]`), shot("pipeline"))
	materializeFromTheWebApp(t, bctx, stack, step, text, shot)
	// Topics: fit a small model, list the topics, open one and see its items.
	tr, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "browser-topics", TaskQueue: cfg.TaskQueue},
		workflows.BuildTopicsName, workflows.BuildTopicsInput{K: 4, Iterations: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Get(ctx, nil); err != nil {
		t.Fatalf("BuildTopics: %v", err)
	}
	step("topics", chromedp.Navigate(stack.APIURL+"/#/topics"), chromedp.WaitVisible(`#topics li[data-topic] a`), shot("topics"),
		chromedp.Click(`#topics li[data-topic] a`), chromedp.WaitVisible(`#topic-items li a[href^="#/item/"]`), shot("topic"))
	// Phone width: every page fits without sideways scrolling, and the search still works.
	fits := func(page string) {
		t.Helper()
		fctx, fcancel := context.WithTimeout(bctx, 10*time.Second)
		defer fcancel()
		ok, err := chromedp.Run(fctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("the %s page scrolls sideways at 360 px", page)
		}
	}
	step("phone", chromedp.EmulateViewport(360, 740), chromedp.Navigate(stack.APIURL+"/#/?q="+url.QueryEscape(title)),
		chromedp.WaitVisible(`#results a[href="#/item/`+movieID+`"]`), shot("search-phone"))
	fits("search")
	for _, p := range []struct{ name, hash, ready string }{
		{"item", "#/item/" + movieID, "#trend-chart[data-total]"},
		{"trending", "#/trending", "#terms-chart"},
		{"map", "#/map", "#uploads-map"},
		{"topics", "#/topics", "#topics li[data-topic]"},
		{"pipeline", "#/pipeline", `#lineage a[data-asset="catalog.items"]`},
		{"asset", "#/pipeline/" + assets.SimilarItems, "#history-table"},
		{"runs", "#/runs", `#runs tr[data-trigger]`},
	} {
		step(p.name+" on a phone", chromedp.Navigate(stack.APIURL+"/"+p.hash), chromedp.WaitVisible(p.ready), chromedp.Sleep(300*time.Millisecond), shot(p.name+"-phone"))
		fits(p.name)
	}
	t.Logf("screenshots in %s", out)
}

// materializeFromTheWebApp walks the pipeline pages as a user would: the lineage graph has
// a box per asset, each a link (Enter on a focused box opens it, so does a click); the
// asset page's Materialize button asks for the admin token once, starts the run, and the
// runs list shows it with its trigger. The token is kept in sessionStorage, never in the
// address.
func materializeFromTheWebApp(t *testing.T, bctx context.Context, stack *Stack,
	step func(string, ...chromedp.Action[chromedp.Void]), text func(string) string, shot func(string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	eval := func(expr string) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return n
	}
	node := func(asset string) string { return `#lineage a[data-asset="` + asset + `"]` }
	step("lineage", chromedp.Navigate(stack.APIURL+"/#/pipeline"), chromedp.WaitVisible(node(assets.SimilarItems)))
	if got, want := eval(`document.querySelectorAll('#lineage a[data-asset]').length`), len(stack.Definitions.Assets()); got != want {
		t.Errorf("the lineage graph has %d asset boxes, want one per asset (%d)", got, want)
	}
	if n := eval(`document.querySelectorAll('#lineage .lineage-edge').length`); n == 0 {
		t.Error("the lineage graph draws no edges")
	}
	// Keyboard: a focused box opens its asset with Enter.
	step("lineage by keyboard", chromedp.Focus(node(assets.CatalogItems)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible("#history-table"), shot("asset-keyboard"))
	if h := text("#asset-title"); h != assets.CatalogItems {
		t.Errorf("Enter on the %s box opened %q", assets.CatalogItems, h)
	}
	step("lineage click", chromedp.Navigate(stack.APIURL+"/#/pipeline"), chromedp.WaitVisible(node(assets.SimilarItems)),
		shot("lineage"), chromedp.Click(node(assets.SimilarItems)), chromedp.WaitVisible("#materialize"))
	if h := text("#asset-title"); h != assets.SimilarItems {
		t.Fatalf("clicking the %s box opened %q", assets.SimilarItems, h)
	}
	step("materialize", chromedp.Click("#materialize"), chromedp.WaitVisible("#admin-token"), shot("token-dialog"),
		chromedp.SendKeys("#admin-token", e2eToken), chromedp.Click("#token-submit"),
		chromedp.WaitVisible(`#action-result a[href^="#/runs"]`), shot("materialized"))
	if done := text("#action-result"); !strings.Contains(done, "manual:web:"+assets.SimilarItems) {
		t.Errorf("the action result %q does not name the trigger", done)
	}
	if eval(`location.href.includes(`+strconv.Quote(e2eToken)+`) ? 1 : 0`) != 0 ||
		eval(`sessionStorage.getItem('curio.adminToken') === `+strconv.Quote(e2eToken)+` ? 1 : 0`) != 1 {
		t.Error("the admin token must be kept in sessionStorage and never in the address")
	}
	row := `#runs tr[data-trigger="manual:web:` + assets.SimilarItems + `"]`
	step("runs", chromedp.Click(`#action-result a[href^="#/runs"]`), chromedp.WaitVisible(row), shot("runs"))
	if r := text(row); !strings.Contains(r, workflows.BuildSimilarityName) || !strings.Contains(r, "from the web app") {
		t.Errorf("runs list row %q lacks the job or the trigger's reason", r)
	}
	// A second Materialize while the first run may still be going either starts a new run
	// or says it is already running; either way the token is not asked for again.
	step("materialize again", chromedp.Navigate(stack.APIURL+"/#/pipeline/"+assets.SimilarItems), chromedp.WaitVisible("#materialize"),
		chromedp.Click("#materialize"), chromedp.WaitVisible(chromedp.CSS(`#action-result a, #action-error:not([hidden])`)))
	if eval(`document.getElementById('token-dialog')?.open ? 1 : 0`) != 0 {
		t.Error("the token dialog opened again although a token is kept")
	}
	actx, acancel := context.WithTimeout(bctx, 10*time.Second)
	defer acancel()
	again, err := chromedp.Run(actx, chromedp.Evaluate[string](`document.getElementById('action-result').textContent + document.getElementById('action-error').textContent`))
	if err != nil || !strings.Contains(again, "Started BuildSimilarity") && !strings.Contains(again, "already running") {
		t.Errorf("a second Materialize says %q (%v), want a started run or an already-running conflict", again, err)
	}
	// A refused token is forgotten, and the page says so.
	eval(`sessionStorage.setItem('curio.adminToken', 'not-the-token'), 1`)
	step("refused token", chromedp.Click("#materialize"), chromedp.WaitVisible("#action-error"), shot("token-refused"))
	if msg := text("#action-error"); !strings.Contains(msg, "refused") {
		t.Errorf("a refused token says %q", msg)
	}
	if eval(`sessionStorage.getItem('curio.adminToken') === null ? 1 : 0`) != 1 {
		t.Error("a refused token was kept")
	}
}

func waitReady(t *testing.T, api string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("API never became ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
