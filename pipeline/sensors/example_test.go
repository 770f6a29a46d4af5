package sensors_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/pipeline/sensors"
)

// ImportInput is the input of the example's job.
type ImportInput struct {
	Path string `json:"path"`
}

func importWorkflow(workflow.Context, ImportInput) error { return nil }

// A job declares the sensors that start it: built-in ones, tuned by changing the fields of
// the pipeline.Sensor they return, and custom ones, which are just an Evaluate function.
func Example() {
	landing := sensors.Files("landing-csv", "/data/landing", "*.csv", func(path string) any {
		return ImportInput{Path: path}
	})
	landing.Interval = 5 * time.Minute // the default is 30 s

	// A custom sensor: fire once per day, after 06:00 UTC. The key (the date) makes it
	// once per day however often the sensor is evaluated.
	morning := pipeline.Sensor{
		Name:        "import-mornings",
		Description: "once a day after 06:00 UTC",
		Interval:    time.Minute,
		Evaluate: func(_ context.Context, env pipeline.SensorEnv, _ string) (pipeline.SensorResult, error) {
			now := env.Now.UTC()
			if now.Hour() < 6 {
				return pipeline.SensorResult{Skip: "before 06:00"}, nil
			}
			day := now.Format(time.DateOnly)
			return pipeline.SensorResult{Runs: []pipeline.RunRequest{{Key: day, Reason: "morning of " + day}}}, nil
		},
	}

	defs, err := pipeline.New(pipeline.Job{
		Name:     "import",
		Input:    func() any { return &ImportInput{} },
		Workflow: importWorkflow,
		Sensors: []pipeline.Sensor{
			landing,
			sensors.URL("catalog-export", "https://example.com/exports/catalog.csv", nil),
			sensors.Kafka("events-1000", "events", 1000, nil),
			sensors.RunStatus("retry-failed-etl", "etl", nil, nil),
			morning,
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range defs.Sensors() {
		fmt.Printf("%s starts %s: %s, every %s\n", s.Name, s.Job, s.Description, s.Interval)
	}

	res, _ := morning.Evaluate(context.Background(), pipeline.SensorEnv{Now: time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)}, "")
	fmt.Println(res.Runs[0].Key, res.Runs[0].Reason)
	// Output:
	// landing-csv starts import: new files matching *.csv in /data/landing, every 5m0s
	// catalog-export starts import: changes to https://example.com/exports/catalog.csv, every 1m0s
	// events-1000 starts import: every 1000 new messages on Kafka topic events, every 15s
	// retry-failed-etl starts import: runs of etl that end Failed or TimedOut, every 15s
	// import-mornings starts import: once a day after 06:00 UTC, every 1m0s
	// 2026-12-01 morning of 2026-12-01
}

// Each file starts one run; evaluating again with the cursor the platform stored finds
// nothing new.
func ExampleFiles() {
	dir, err := os.MkdirTemp("", "landing")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"a.csv", "b.csv", "notes.txt", ".c.csv.part"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(name), 0o644); err != nil {
			fmt.Println(err)
			return
		}
	}

	s := sensors.Files("landing-csv", dir, "*.csv", func(path string) any { return ImportInput{Path: path} })
	env := pipeline.SensorEnv{Now: time.Now().Add(time.Minute)} // the files are settled by then
	res, err := s.Evaluate(context.Background(), env, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Runs {
		fmt.Println(filepath.Base(r.Input.(ImportInput).Path), strings.HasPrefix(r.Key, r.Input.(ImportInput).Path+"@"))
	}
	res, _ = s.Evaluate(context.Background(), env, res.Cursor)
	fmt.Println(len(res.Runs), "runs:", strings.HasPrefix(res.Skip, "no new files"))
	// Output:
	// a.csv true
	// b.csv true
	// 0 runs: true
}
