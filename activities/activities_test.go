package activities_test

import (
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/teststores"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

func setup(t *testing.T) (*activities.Activities, *testsuite.TestActivityEnvironment) {
	t.Helper()
	pg, _, _ := teststores.Open(t)
	a := &activities.Activities{PG: pg, Identity: "test-worker", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Assets: builtinDefs(t)}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, env
}

// builtinDefs are the built-in job and asset definitions.
func builtinDefs(t *testing.T) *pipeline.Definitions {
	t.Helper()
	defs, err := workflows.Definitions()
	if err != nil {
		t.Fatal(err)
	}
	return defs
}
