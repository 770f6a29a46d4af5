package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/activities/ingestjob"
	"github.com/curiodata/curio/activities/termsjob"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/internal/testsite"
	"github.com/curiodata/curio/workflows"
)

const e2eToken = "e2e-admin-token-0123456789"

// postAdmin sends an admin request with the token and decodes the answer.
func postAdmin(t *testing.T, u, body string, wantStatus int, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s = %d, want %d: %s", u, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func testConfig(t *testing.T, dataDir string, pgDSN, myDSN string) config.Config {
	t.Helper()
	env := map[string]string{
		"CURIO_DATA_DIR":           dataDir,
		"CURIO_HTTP_ADDR":          "127.0.0.1:0",
		"CURIO_TEMPORAL_ADDR":      "127.0.0.1:0",
		"CURIO_KAFKA_ADDR":         "127.0.0.1:0",
		"CURIO_POSTGRES_DSN":       pgDSN,
		"CURIO_MYSQL_DSN":          myDSN,
		"CURIO_TEMPORAL_LOG_LEVEL": "error",
		"CURIO_LOG_LEVEL":          "warn",
		"CURIO_SCRAPE_DELAY":       "10ms",
		"CURIO_ADMIN_TOKEN":        e2eToken,
		"CURIO_AUTOMATION":         "false", // tests that want it start it themselves
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func getJSON(t *testing.T, u string, wantStatus int, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", u, resp.StatusCode, wantStatus, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", u, err, body)
		}
	}
}

type searchResponse struct {
	Total   int    `json:"total"`
	Version string `json:"version"`
	Results []struct {
		ID, Type, Title string
		Year            int
		Score           float64
	} `json:"results"`
}

// TestEndToEnd starts the embedded stack (Temporal with SQLite, kfake, three workers, the
// API) on real PostgreSQL and MariaDB, runs CatalogPipeline, searches through the HTTP
// API, then restarts the stack on the same data dir and checks history survived.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pgDSN, myDSN := testdb.Postgres(t), testdb.MySQL(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir, pgDSN, myDSN)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	stack, err := Start(ctx, cfg, logger, Options{NoUI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stack.Close() }()

	// Before any publish the API answers, but is not ready.
	getJSON(t, stack.APIURL+"/healthz", http.StatusServiceUnavailable, nil)

	run, err := stack.RunCatalogPipeline(ctx, "e2e-catalog", workflows.CatalogPipelineInput{
		Demo: catalogjob.ImportDemoInput{Movies: 400, Artworks: 300}, Shards: 6,
	})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.CatalogPipelineResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	counts, err := stack.PG.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Movies != 400 || counts.Artworks != 300 || counts.Artists < 1000 {
		t.Fatalf("warehouse counts = %+v", counts)
	}
	if res.Shards != 6 || res.Docs != 700 {
		t.Fatalf("result = %+v", res)
	}
	done := 0
	for _, n := range res.ShardsByWorker {
		done += n
	}
	if done != 6 || len(res.ShardsByWorker) == 0 {
		t.Fatalf("shards by worker = %v", res.ShardsByWorker)
	}
	t.Logf("pipeline: version %s, shards by worker %v", res.Version, res.ShardsByWorker)

	// The API loads the published version (announced over Kafka, or found by polling).
	waitReady(t, stack.APIURL)

	// Known-item search: a movie's exact title finds it first.
	var movie domain.Movie
	err = stack.PG.ShardMovies(ctx, postgres.Shard{Index: 0, Of: 1}, func(m domain.Movie) error {
		if movie.ID == "" && len(strings.Fields(m.Title)) >= 3 {
			movie = m
		}
		return nil
	})
	if err != nil || movie.ID == "" {
		t.Fatalf("pick a movie: %v", err)
	}
	var sr searchResponse
	getJSON(t, stack.APIURL+"/api/search?type=movie&limit=5&q="+url.QueryEscape(movie.Title), http.StatusOK, &sr)
	if sr.Total == 0 || len(sr.Results) == 0 || sr.Version != res.Version {
		t.Fatalf("search %q: %+v", movie.Title, sr)
	}
	found := false
	for _, r := range sr.Results {
		found = found || r.ID == movie.ID
		if r.Type != "movie" || r.Title == "" {
			t.Errorf("result %+v", r)
		}
	}
	if !found {
		t.Errorf("search %q: %s not in top 5: %+v", movie.Title, movie.ID, sr.Results)
	}
	// Filters and facets over the published index; typo tolerance; suggestions.
	var faceted struct {
		Total  int
		Facets map[string][]struct {
			Value string
			Count int
		}
	}
	getJSON(t, stack.APIURL+"/api/search?type=movie&facets=genre,decade&genre="+url.QueryEscape(movie.Genres[0])+"&q="+url.QueryEscape(movie.Title), http.StatusOK, &faceted)
	if faceted.Total == 0 || len(faceted.Facets["genre"]) == 0 || len(faceted.Facets["decade"]) == 0 {
		t.Errorf("faceted search: %+v", faceted)
	}
	var sg struct{ Suggestions []struct{ ID, Title string } }
	getJSON(t, stack.APIURL+"/api/suggest?type=movie&q="+url.QueryEscape(string([]rune(movie.Title)[:len([]rune(movie.Title))-2])), http.StatusOK, &sg)
	if len(sg.Suggestions) == 0 {
		t.Errorf("no suggestions for %q", movie.Title)
	}
	// Artworks are searchable by artist.
	getJSON(t, stack.APIURL+"/api/search?type=artwork&q=oil+canvas", http.StatusOK, &sr)
	for _, r := range sr.Results {
		if r.Type != "artwork" {
			t.Errorf("type filter leaked %+v", r)
		}
	}
	// Bad parameters get a 400 with a JSON error.
	for _, q := range []string{"", "q=", "q=x&limit=0", "q=x&limit=abc", "q=x&type=book", "q=x&offset=-1", "q=" + strings.Repeat("a", 300)} {
		var e struct{ Error string }
		getJSON(t, stack.APIURL+"/api/search?"+q, http.StatusBadRequest, &e)
		if e.Error == "" {
			t.Errorf("%q: empty error message", q)
		}
	}
	// The web app is served at /.
	resp, err := http.Get(stack.APIURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="q"`) {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}

	// Crawl a (fake) IMDb through Temporal: the scraped titles are published and searchable.
	site := testsite.IMDb()
	defer site.Close()
	c, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-scrape", TaskQueue: cfg.TaskQueue},
		workflows.ScrapeCatalogName, workflows.ScrapeCatalogInput{Search: []string{"harbor"}, BaseURL: site.URL, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	var scraped workflows.ScrapeCatalogResult
	if err := c.Get(ctx, &scraped); err != nil {
		t.Fatal(err)
	}
	if scraped.Totals.Records != 4 || scraped.Totals.FetchFailed != 1 || scraped.Totals.ParseFailed != 1 || scraped.Publish == nil {
		t.Fatalf("scrape result = %+v", scraped)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, stack.APIURL+"/api/search?type=movie&q="+url.QueryEscape("harbor of glass"), http.StatusOK, &sr)
		if len(sr.Results) > 0 && sr.Results[0].ID == "tt9000001" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scraped title not served: %+v", sr)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Events: the supervised consumers land them exactly once and keep popularity windows.
	if _, err := stack.StartIngest(ctx, workflows.IngestEventsInput{}); err != nil {
		t.Fatal(err)
	}
	prod, err := ingest.NewProducer(stack.KafkaBrokers, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	now := time.Now().UTC()
	evs := []events.Event{
		{ID: "e2e-1", Type: events.TypeView, UserID: "u1", Time: now, ItemID: movie.ID, ItemType: "movie"},
		{ID: "e2e-2", Type: events.TypeView, UserID: "u2", Time: now, ItemID: movie.ID, ItemType: "movie"},
		{ID: "e2e-3", Type: events.TypeUpload, UserID: "u3", Time: now, ItemID: movie.ID, ItemType: "movie", Country: "FR"},
		{ID: "e2e-4", Type: events.TypeSearch, UserID: "u4", Time: now, Query: "haunted lighthouse #Noir", Category: "Drama"},
	}
	if err := ingest.Send(prod, ingest.TopicEvents, evs); err != nil {
		t.Fatal(err)
	}
	// Poison: malformed JSON, a NUL in user_id, and a producer's retry of e2e-1 (must not
	// count twice in the popularity figures below).
	for _, v := range []string{"{not json",
		`{"event_id":"e2e-nul","type":"view","user_id":"u\u0000x","ts":"` + now.Format(time.RFC3339) + `","item_id":"m","item_type":"movie"}`} {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: ingest.TopicEvents, Value: sarama.StringEncoder(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ingest.Send(prod, ingest.TopicEvents, evs[:1]); err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Landed      int64            `json:"landed_events"`
		DeadLetters map[string]int64 `json:"dead_letters_by_reason"`
		Stream      int64            `json:"stream_events"`
		Lag         int64            `json:"lag"`
		Partitions  []struct {
			Consumer string `json:"consumer"`
			Lag      int64  `json:"lag"`
		} `json:"partitions"`
	}
	deadline = time.Now().Add(60 * time.Second)
	for stats.Landed < 4 || stats.Stream < 3 || stats.DeadLetters["malformed_json"] < 1 || stats.DeadLetters["invalid_field"] < 1 ||
		stats.DeadLetters["duplicate_event_id"] < 1 || len(stats.Partitions) == 0 || stats.Lag != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("events not ingested: %+v", stats)
		}
		time.Sleep(200 * time.Millisecond)
		getJSON(t, stack.APIURL+"/api/ingest/stats", http.StatusOK, &stats)
	}
	if stats.Landed != 4 {
		t.Errorf("landed %d events, want 4 (the repeated event_id once)", stats.Landed)
	}
	var ready struct {
		Status string
		Ingest struct {
			Lag             *int64 `json:"lag"`
			StuckPartitions int    `json:"stuck_partitions"`
		}
	}
	getJSON(t, stack.APIURL+"/readyz", http.StatusOK, &ready)
	if ready.Status != "ok" || ready.Ingest.Lag == nil || ready.Ingest.StuckPartitions != 0 {
		t.Errorf("/readyz = %+v, want ok with the ingest lag", ready)
	}
	if resp, err := http.Get(stack.APIURL + "/metrics"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range []string{`curio_ingest_consumer_lag{consumer="curio-lander",partition="0"}`, `curio_ingest_partition_stuck{consumer="curio-stream"`} {
			if !strings.Contains(string(body), m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	}
	var trending struct {
		Items []struct {
			ID    string
			Count int64
		}
	}
	getJSON(t, stack.APIURL+"/api/trending?type=movie&window=10m", http.StatusOK, &trending)
	if len(trending.Items) == 0 || trending.Items[0].ID != movie.ID || trending.Items[0].Count != 3 {
		t.Errorf("trending = %+v", trending)
	}
	var trend struct{ Points []struct{ Total int64 } }
	getJSON(t, stack.APIURL+"/api/items/"+movie.ID+"/trend", http.StatusOK, &trend)
	if len(trend.Points) != 1 || trend.Points[0].Total != 3 {
		t.Errorf("trend = %+v", trend)
	}
	var uploads struct{ Countries []struct{ Country string } }
	getJSON(t, stack.APIURL+"/api/uploads/map", http.StatusOK, &uploads)
	if len(uploads.Countries) != 1 || uploads.Countries[0].Country != "FR" {
		t.Errorf("uploads = %+v", uploads)
	}
	// Trending terms: the search's words and tags, and the viewed title's words.
	var terms struct {
		Terms, Tags []struct {
			Term  string
			Count int64
		}
	}
	getJSON(t, stack.APIURL+"/api/terms/trending?window=1m&at="+now.Format(time.RFC3339), http.StatusOK, &terms)
	termCounts := map[string]int64{}
	for _, tc := range append(terms.Terms, terms.Tags...) {
		termCounts[tc.Term] = tc.Count
	}
	titleWord := search.Tokenize(movie.Title)[0]
	if termCounts["haunted"] != 1 || termCounts["#noir"] != 1 || termCounts["#drama"] != 1 || termCounts[titleWord] < 2 {
		t.Errorf("trending terms %+v (want haunted, #noir, #drama once and %q at least twice)", terms, titleWord)
	}
	getJSON(t, stack.APIURL+"/api/terms/trending?window=1d", http.StatusBadRequest, nil)
	getJSON(t, stack.APIURL+"/api/trending?window=forever", http.StatusBadRequest, nil)
	getJSON(t, stack.APIURL+"/api/items/x/trend?from=yesterday", http.StatusBadRequest, nil)
	// The current hour's partition is recorded as an asset (grace 0: the test does not wait).
	lr, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-land", TaskQueue: cfg.TaskQueue},
		workflows.LandEventsName, workflows.LandEventsInput{Hour: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var hr ingestjob.HourResult
	if err := lr.Get(ctx, &hr); err != nil {
		t.Fatal(err)
	}

	// Batch jobs fan out over the workers and publish for the API.
	runJob := func(name string, in any) workflows.BatchResult {
		t.Helper()
		r, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-" + name, TaskQueue: cfg.TaskQueue}, name, in)
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.BatchResult
		if err := r.Get(ctx, &res); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	sim := runJob(workflows.BuildSimilarityName, workflows.BuildSimilarityInput{BatchOptions: workflows.BatchOptions{Shards: 4}})
	if sim.Items != int(counts.Movies+counts.Artworks)+4 || sim.Publish == nil { // + the 4 scraped titles
		t.Errorf("similarity %+v", sim)
	}
	var similarRes struct {
		Similar []struct{ ID, Type string }
	}
	getJSON(t, stack.APIURL+"/api/movies/"+movie.ID+"/similar", http.StatusOK, &similarRes)
	if len(similarRes.Similar) == 0 || similarRes.Similar[0].Type != "movie" || similarRes.Similar[0].ID == movie.ID {
		t.Errorf("similar = %+v", similarRes)
	}
	getJSON(t, stack.APIURL+"/api/artworks/"+movie.ID+"/similar", http.StatusNotFound, nil)
	up := runJob(workflows.AggregateUploadsName, workflows.HourlyInput{})
	if up.Shards != 1 || up.Items != 1 {
		t.Errorf("uploads job %+v", up)
	}
	var daily struct{ Days []struct{ Country string } }
	getJSON(t, stack.APIURL+"/api/uploads/daily", http.StatusOK, &daily)
	if len(daily.Days) != 1 || daily.Days[0].Country != "FR" {
		t.Errorf("uploads daily %+v", daily)
	}

	// Topics: LDA fitted over the workers, published for the API.
	tr, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-topics", TaskQueue: cfg.TaskQueue},
		workflows.BuildTopicsName, workflows.BuildTopicsInput{BatchOptions: workflows.BatchOptions{Shards: 3}, K: 6, Iterations: 15})
	if err != nil {
		t.Fatal(err)
	}
	var topicsRes workflows.BuildTopicsResult
	if err := tr.Get(ctx, &topicsRes); err != nil {
		t.Fatalf("BuildTopics: %v", err)
	}
	if q := topicsRes.Quality; q.Topics != 6 || q.Perplexity <= 0 || q.Perplexity >= q.UniformPPL || topicsRes.Publish == nil {
		t.Errorf("topics %+v", topicsRes)
	}
	var topicList struct {
		Topics []struct {
			ID    int
			Words []struct{ Word string }
			Items int
		}
	}
	getJSON(t, stack.APIURL+"/api/topics", http.StatusOK, &topicList)
	if len(topicList.Topics) != 6 || len(topicList.Topics[0].Words) == 0 {
		t.Errorf("topics %+v", topicList)
	}
	var mix struct{ Topics []struct{ Topic int } }
	getJSON(t, stack.APIURL+"/api/movies/"+movie.ID+"/topics", http.StatusOK, &mix)
	if len(mix.Topics) == 0 {
		t.Fatalf("no topics for %s", movie.ID)
	}
	var members struct {
		Total int
		Items []struct{ ID string }
	}
	getJSON(t, stack.APIURL+fmt.Sprintf("/api/topics/%d/items?limit=100", mix.Topics[0].Topic), http.StatusOK, &members)
	if members.Total == 0 || len(members.Items) == 0 {
		t.Errorf("topic %d items %+v", mix.Topics[0].Topic, members)
	}
	getJSON(t, stack.APIURL+"/api/topics/x/items", http.StatusBadRequest, nil)
	getJSON(t, stack.APIURL+"/api/topics/999/items", http.StatusNotFound, nil)
	// Terms rollup: the current hour's 1h window equals its 1m windows.
	rr, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-terms", TaskQueue: cfg.TaskQueue},
		workflows.TermsRollupName, workflows.TermsRollupInput{From: now.Truncate(time.Hour), To: now.Truncate(time.Hour).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var rolled []termsjob.TermsRollupResult
	if err := rr.Get(ctx, &rolled); err != nil || len(rolled) != 1 || !rolled[0].Consistent || rolled[0].Tokens == 0 {
		t.Errorf("terms rollup %+v %v", rolled, err)
	}

	// Assets: lineage of the runs above, with partition status.
	var graph struct {
		Assets []struct {
			Name   string
			Counts map[string]int `json:"partition_counts"`
		}
	}
	getJSON(t, stack.APIURL+"/api/assets", http.StatusOK, &graph)
	counts2 := map[string]map[string]int{}
	for _, a := range graph.Assets {
		counts2[a.Name] = a.Counts
	}
	for _, name := range []string{assets.CatalogItems, assets.SearchIndex, assets.ServingCatalog, assets.SimilarItems, assets.ScrapedPages,
		assets.TopicModel, assets.TermsTrending} {
		if counts2[name]["materialized"] != 1 {
			t.Errorf("asset %s: %v", name, counts2[name])
		}
	}
	var detail struct {
		Partitions []struct{ Partition, Status string }
	}
	getJSON(t, stack.APIURL+"/api/assets/"+assets.UploadsHourly, http.StatusOK, &detail)
	if len(detail.Partitions) == 0 || detail.Partitions[len(detail.Partitions)-1].Status != "materialized" {
		t.Errorf("upload partitions %+v", detail)
	}
	getJSON(t, stack.APIURL+"/api/assets/no.such", http.StatusNotFound, nil)
	// Schedules: applying twice leaves one schedule each, updated in place.
	sc, err := schedules.FromDefinitions(stack.Definitions)
	if err != nil {
		t.Fatal(err)
	}
	created, err := schedules.Apply(ctx, stack.Temporal, sc, cfg.TaskQueue)
	if err != nil || len(created) != len(sc.Schedules) {
		t.Fatalf("apply: %v %v", created, err)
	}
	for _, r := range created {
		if r.Action != "created" {
			t.Errorf("first apply: %s %s, want created", r.ID, r.Action)
		}
	}
	// The second apply goes through the token-guarded admin API.
	var applied struct{ Schedules []schedules.Result }
	postAdmin(t, stack.APIURL+"/api/admin/schedules/apply", "", http.StatusOK, &applied)
	if len(applied.Schedules) != len(sc.Schedules) {
		t.Errorf("admin apply: %+v", applied)
	}
	for _, r := range applied.Schedules {
		if r.Action != "updated" {
			t.Errorf("second apply: %s %s, want updated", r.ID, r.Action)
		}
	}
	var started struct{ WorkflowID, RunID string }
	postAdmin(t, stack.APIURL+"/api/admin/runs", `{"workflow":"NoopBatch","input":{"shards":2},"id":"e2e-admin-noop"}`, http.StatusAccepted, &started)
	var noop workflows.BatchResult
	if err := stack.Temporal.GetWorkflow(ctx, "e2e-admin-noop", "").Get(ctx, &noop); err != nil || noop.Shards != 2 {
		t.Errorf("run started through the admin API: %+v %v", noop, err)
	}
	sd, err := stack.Temporal.ScheduleClient().GetHandle(ctx, "land-events-hourly").Describe(ctx)
	if err != nil || len(sd.Info.NextActionTimes) == 0 || sd.Info.NextActionTimes[0].Minute() != 5 ||
		sd.Schedule.Policy.Overlap != enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE {
		t.Errorf("describe schedule land-events-hourly: %+v %v", sd, err)
	}
	// Backfill, dry run: lists the missing hour partitions of the events asset.
	br, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-backfill", TaskQueue: cfg.TaskQueue},
		workflows.BackfillName, workflows.BackfillInput{Asset: assets.RawEvents, From: now.Add(-3 * time.Hour).Format(time.RFC3339),
			To: now.Add(time.Hour).Format(time.RFC3339), Only: []string{"missing"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var bp workflows.BackfillProgress
	if err := br.Get(ctx, &bp); err != nil || len(bp.Partitions) != 3 {
		t.Errorf("backfill dry run %+v %v (want the 3 hours without a LandEvents record)", bp, err)
	}

	// Restart on the same data dir: Temporal history is persisted in SQLite.
	stack.Close()
	stack, err = Start(ctx, cfg, logger, Options{NoUI: true})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	desc, err := stack.Temporal.DescribeWorkflowExecution(ctx, "e2e-catalog", "")
	if err != nil {
		t.Fatalf("history after restart: %v", err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("status after restart = %v", s)
	}
}
