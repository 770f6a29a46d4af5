package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/alerting"
	"github.com/curiodata/curio/activities/automationjob"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/activities/eventjobs"
	"github.com/curiodata/curio/activities/ingestjob"
	"github.com/curiodata/curio/activities/similarity"
	"github.com/curiodata/curio/activities/termsjob"
	"github.com/curiodata/curio/activities/topicmodel"
	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/automation"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/workflows"
)

// recordQueue and recordIdentity appear in the recorded histories; fixed so that
// re-recording changes only what the workflows changed (and ids and timestamps).
const (
	recordQueue    = "curio-record"
	recordIdentity = "curio-recorder"
)

// recording is one workflow run to record.
type recording struct {
	name  string // workflow type; the history goes to NAME.json
	input any
	// continued: the run continues as new once; its first run goes to NAME.json and the
	// run it completes in to NAME-continued.json.
	continued bool
	// endless: the run continues as new forever (a supervisor); its first run is recorded
	// and the workflow terminated.
	endless bool
}

// recordings runs every workflow worker.Register registers with a small input, against
// the fake activities below. now is the recording's wall clock.
func recordings(now time.Time) []recording {
	hour := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	thisHour := now.UTC().Truncate(time.Hour)
	return []recording{
		{name: workflows.CatalogPipelineName, input: workflows.CatalogPipelineInput{Shards: 3, MaxParallel: 2,
			Datasets: []catalogjob.DatasetInput{{Format: "movies-csv", Paths: []string{"/data/movie_metadata.csv"}}}}},
		{name: workflows.ScrapeCatalogName, input: workflows.ScrapeCatalogInput{Seeds: []string{"tt0133093"}, Limit: 3, BatchSize: 2}},
		{name: workflows.IngestEventsName, input: workflows.IngestEventsInput{Turn: time.Second}, endless: true},
		// The previous hour, two seconds before its grace ends: one short timer, then the work.
		{name: workflows.LandEventsName, input: workflows.LandEventsInput{Hour: thisHour.Add(-time.Hour),
			Grace: now.Sub(thisHour) + 2*time.Second}},
		{name: workflows.BuildSimilarityName, input: workflows.BuildSimilarityInput{BatchOptions: workflows.BatchOptions{Shards: 2}, K: 5}},
		{name: workflows.AggregateUploadsName, input: workflows.HourlyInput{From: hour, To: hour.Add(2 * time.Hour)}},
		{name: workflows.ClickstreamPageRankName, input: workflows.HourlyInput{From: hour, To: hour.Add(2 * time.Hour)}},
		{name: workflows.TargetAdsName, input: workflows.TargetAdsInput{BatchOptions: workflows.BatchOptions{Shards: 2}}},
		{name: workflows.RunShardsName, input: workflows.RunShardsInput{Activity: "NoopShard", Job: workflows.NoopBatchName,
			Version: "record", From: 0, To: 3, Shards: 3, MaxParallel: 2, Heartbeat: 20 * time.Second, Params: json.RawMessage(`{}`)}},
		{name: workflows.NoopBatchName, input: workflows.BatchOptions{Shards: 3, MaxParallel: 2}},
		// One partition a run: the first run plans and continues as new, the second finishes.
		{name: workflows.BackfillName, input: workflows.BackfillInput{Asset: assets.RawEvents, From: "2026-01-01T10", To: "2026-01-01T12",
			PartitionsPerRun: 1}, continued: true},
		{name: workflows.BuildTopicsName, input: workflows.BuildTopicsInput{BatchOptions: workflows.BatchOptions{Shards: 2}, K: 4,
			Iterations: 3, RoundsPerRun: 2}, continued: true},
		{name: workflows.TermsRollupName, input: workflows.TermsRollupInput{From: hour, To: hour.Add(2 * time.Hour)}},
		{name: workflows.AutomationName, input: workflows.AutomationInput{Interval: 100 * time.Millisecond, TicksPerRun: 2}, endless: true},
	}
}

// fakeActivities stand in for activities.Activities and the activity structs of the
// pipelines' own packages (which need the databases and Kafka), by method name: each
// takes and returns the real method's types.
func fakeActivities() map[string]any {
	shard := func(ctx context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
		return activities.BatchShardResult{Shard: in.Shard, Items: 10, Worker: recordIdentity, Attempt: int(activity.GetInfo(ctx).Attempt)}, nil
	}
	publish := func(name string) func(context.Context, activities.ModelPublishInput) (activities.ModelPublishResult, error) {
		return func(_ context.Context, in activities.ModelPublishInput) (activities.ModelPublishResult, error) {
			return activities.ModelPublishResult{Model: name, Version: in.Version, Rows: 20}, nil
		}
	}
	return map[string]any{
		"RecordRun":             func(context.Context, catalogjob.RunStatus) error { return nil },
		"RecordMaterialization": func(context.Context, activities.MaterializeInput) error { return nil },
		"AutomationTick": func(_ context.Context, in automationjob.TickInput) (automation.Summary, error) {
			return automation.Summary{Started: []automation.Started{{Job: workflows.BuildSimilarityName, Trigger: "eager:catalog.items@v1",
				WorkflowID: "auto-BuildSimilarity-0", RunID: "r"}}}, nil
		},
		"EvaluateAlerts": func(context.Context, alerting.EvaluateAlertsInput) ([]alerts.Delivery, error) {
			return []alerts.Delivery{{ID: 1, IncidentID: 1, Webhook: "generic-0", State: "open",
				Incident: alerts.Incident{Key: "run_failed:BuildTopics", Kind: "run_failed", Summary: "BuildTopics failed"}}}, nil
		},
		"DeliverAlert": func(context.Context, alerts.Delivery) error { return nil },
		"ImportDemoCatalog": func(context.Context, catalogjob.ImportDemoInput) (catalogjob.ImportResult, error) {
			return catalogjob.ImportResult{ImportID: "demo-1", Dataset: "demo", OK: 30}, nil
		},
		"ImportDataset": func(_ context.Context, in catalogjob.DatasetInput) (catalogjob.ImportResult, error) {
			return catalogjob.ImportResult{ImportID: "ds-1", Dataset: in.Format, OK: 20, Failed: 1}, nil
		},
		"CheckCatalog": func(context.Context, catalogjob.CheckInput) ([]assets.CheckResult, error) {
			return []assets.CheckResult{{Name: "no_empty_titles", Blocking: true, Passed: true}}, nil
		},
		"CheckIndex": func(context.Context, catalogjob.CheckInput) ([]assets.CheckResult, error) {
			return []assets.CheckResult{{Name: "row_count_within_bounds", Blocking: true, Passed: true}}, nil
		},
		"PlanIndex": func(_ context.Context, in catalogjob.PlanIndexInput) (catalogjob.IndexPlan, error) {
			return catalogjob.IndexPlan{Version: in.Version, Shards: max(in.Shards, 2), Movies: 30, Artworks: 20}, nil
		},
		"BuildIndexShard": func(_ context.Context, in catalogjob.ShardInput) (catalogjob.ShardResult, error) {
			return catalogjob.ShardResult{Shard: in.Shard, Docs: 10, Bytes: 100, Worker: recordIdentity}, nil
		},
		"PublishCatalog": func(_ context.Context, in catalogjob.PublishInput) (catalogjob.PublishResult, error) {
			return catalogjob.PublishResult{Version: in.Version, Docs: 50, Shards: 3}, nil
		},
		"ScrapePages": func(_ context.Context, in catalogjob.ScrapeInput) (catalogjob.ScrapeOutput, error) {
			out := catalogjob.ScrapeOutput{Fetched: len(in.URLs), Records: len(in.URLs)}
			for i := range in.URLs {
				out.Next = append(out.Next, fmt.Sprintf("%s/title/tt%07d/", in.BaseURL, 100+i))
			}
			return out, nil
		},
		"RunConsumer": func(_ context.Context, in ingestjob.ConsumeInput) (ingestjob.ConsumeResult, error) {
			return ingestjob.ConsumeResult{Role: in.Role}, nil
		},
		"MaterializeHour": func(_ context.Context, in ingestjob.HourInput) (ingestjob.HourResult, error) {
			return ingestjob.HourResult{Hour: in.Hour, Partition: assets.PartitionKey(in.Hour), Events: 42}, nil
		},
		"EventHours": func(_ context.Context, in eventjobs.HoursInput) (eventjobs.HoursParams, error) {
			return eventjobs.HoursParams{Hours: []time.Time{in.From, in.From.Add(time.Hour)}}, nil
		},
		"PlanBackfill": func(_ context.Context, in activities.BackfillPlanInput) ([]string, error) {
			return assets.Hours(in.From, in.To), nil
		},
		"RollupTerms": func(_ context.Context, in termsjob.TermsRollupInput) (termsjob.TermsRollupResult, error) {
			return termsjob.TermsRollupResult{Hour: in.Hour, Terms: 5, Tokens: 12, Consistent: true}, nil
		},
		"PrepareTopics": func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsPlan, error) {
			return topicmodel.TopicsPlan{RunID: p.RunID, Docs: 90, Heldout: 10, Vocab: 50, Tokens: 900, Shards: p.Shards}, nil
		},
		"FinishTopics": func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsQuality, error) {
			return topicmodel.TopicsQuality{RunID: p.RunID, Topics: p.K, Items: 100, Perplexity: 30, UniformPPL: 50}, nil
		},
		"ComputePageRank": func(_ context.Context, in activities.ModelPublishInput) (eventjobs.PageRankResult, error) {
			return eventjobs.PageRankResult{ModelPublishResult: activities.ModelPublishResult{Model: "pagerank", Version: in.Version, Rows: 20},
				Iterations: 12, Converged: true, Edges: 40}, nil
		},
		"PrepareSimilarity": func(_ context.Context, _ similarity.PrepareInput) (similarity.PrepareResult, error) {
			return similarity.PrepareResult{Items: 100, Parts: 1, Bytes: 4096}, nil
		},
		"PublishSimilarity": publish("similar"),
		"PublishAds":        publish("ads"),
		"PublishTopics":     publish("topics"),
		"SimilarityShard":   shard,
		"UploadsShard":      shard,
		"ClickEdgesShard":   shard,
		"AdsShard":          shard,
		"NoopShard":         shard,
		"TopicsSweep":       shard,
	}
}

// TestRecordHistories records one history per workflow type into testdata/histories, for
// TestReplayHistories. It starts the embedded Temporal server (in memory) and a worker
// with every workflow worker.Register registers and fake activities, so it needs no
// database. Run it after a deliberate change to a workflow's commands (guarded by
// workflow.GetVersion), or for a new workflow, and commit the files:
//
//	CURIO_RECORD_HISTORIES=1 go test ./workflows -run TestRecordHistories -count=1
func TestRecordHistories(t *testing.T) {
	if os.Getenv("CURIO_RECORD_HISTORIES") == "" {
		t.Skip("set CURIO_RECORD_HISTORIES=1 to re-record testdata/histories")
	}
	wfs := registeredWorkflows(t)
	recs := recordings(time.Now())
	byName := map[string]bool{}
	for _, r := range recs {
		if wfs[r.name] == nil {
			t.Fatalf("recording for %s, which worker.Register does not register", r.name)
		}
		byName[r.name] = true
	}
	for _, name := range sortedNames(wfs) {
		if !byName[name] {
			t.Fatalf("workflow %s has no recording: add one to recordings()", name)
		}
	}
	fakes := fakeActivities()
	checkFakes(t, fakes)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := temporaldev.Start(temporaldev.Options{LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	}()
	c, err := srv.Dial(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := sdkworker.New(c, recordQueue, sdkworker.Options{Identity: recordIdentity})
	for _, name := range sortedNames(wfs) {
		w.RegisterWorkflowWithOptions(wfs[name], workflow.RegisterOptions{Name: name})
	}
	for name, fn := range fakes {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	if err := os.MkdirAll(historiesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		// Inputs are built just before each run: LandEvents' timer is sized from the clock.
		r := recordings(time.Now())[i]
		t.Run(r.name, func(t *testing.T) { record(ctx, t, c, r) })
	}
}

// record runs one recording to its end and writes its history file(s).
func record(ctx context.Context, t *testing.T, c client.Client, r recording) {
	id := "record-" + r.name
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: recordQueue,
		WorkflowExecutionTimeout: 2 * time.Minute}, r.name, r.input)
	if err != nil {
		t.Fatal(err)
	}
	first := run.GetRunID()
	if r.endless {
		last := waitClosed(ctx, t, c, id, first)
		if last.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
			t.Fatalf("%s ended with %v, want continue-as-new", r.name, last.GetEventType())
		}
		if err := c.TerminateWorkflow(ctx, id, "", "recorded"); err != nil {
			t.Fatal(err)
		}
		writeHistory(ctx, t, c, id, first, r.name+".json")
		return
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	writeHistory(ctx, t, c, id, first, r.name+".json")
	if r.continued {
		desc, err := c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		final := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		if final == first {
			t.Fatalf("%s did not continue as new", r.name)
		}
		writeHistory(ctx, t, c, id, final, r.name+"-continued.json")
	}
}

// waitClosed waits for a run to close and returns its close event.
func waitClosed(ctx context.Context, t *testing.T, c client.Client, id, runID string) *historypb.HistoryEvent {
	it := c.GetWorkflowHistory(ctx, id, runID, true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	var last *historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		last = e
	}
	return last
}

// writeHistory writes a run's full history as the JSON that
// WorkflowReplayer.ReplayWorkflowHistoryFromJSONFile (and `temporal workflow show
// --output json`) reads.
func writeHistory(ctx context.Context, t *testing.T, c client.Client, id, runID, file string) {
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	raw, err := protojson.Marshal(&historypb.History{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	path := filepath.Join(historiesDir, file)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d events", path, len(events))
}

// fakedStructs are the activity structs the fakes stand in for: activities.Activities and
// those of the pipelines with their own package under activities/ (app.Slices).
var fakedStructs = []any{&activities.Activities{}, &automationjob.Activities{}, &alerting.Activities{}, &catalogjob.Activities{}, &eventjobs.Activities{}, &ingestjob.Activities{}, &topicmodel.Activities{}, &similarity.Activities{}, &termsjob.Activities{}}

// checkFakes fails when a fake does not name a method of one of fakedStructs or does not
// take and return that method's types (the payloads would then differ from production's).
func checkFakes(t *testing.T, fakes map[string]any) {
	t.Helper()
	for name, fn := range fakes {
		var m reflect.Method
		ok := false
		for _, s := range fakedStructs {
			if m, ok = reflect.TypeOf(s).MethodByName(name); ok {
				break
			}
		}
		if !ok {
			t.Errorf("fake activity %s: no activity struct has such a method", name)
			continue
		}
		want, got := m.Type, reflect.TypeOf(fn)
		same := want.NumIn()-1 == got.NumIn() && want.NumOut() == got.NumOut()
		for i := 0; same && i < got.NumIn(); i++ {
			same = want.In(i+1) == got.In(i)
		}
		for i := 0; same && i < got.NumOut(); i++ {
			same = want.Out(i) == got.Out(i)
		}
		if !same {
			t.Errorf("fake activity %s is %v, the real one %v", name, got, want)
		}
	}
}
