package pools_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/pipeline"
)

type jobInput struct {
	Fail bool `json:"fail"`
	Wait bool `json:"wait"` // block until cancelled
}

func work(context.Context) error { return nil }

func jobWorkflow(ctx workflow.Context, in jobInput) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteActivity(ctx, work).Get(ctx, nil); err != nil {
		return "", err
	}
	if in.Wait {
		if err := workflow.Sleep(ctx, time.Hour); err != nil {
			return "", err
		}
	}
	if in.Fail {
		return "", temporal.NewNonRetryableApplicationError("job failed", "JobFailed", nil)
	}
	return "done", nil
}

func testDefs(t *testing.T) *pipeline.Definitions {
	t.Helper()
	job := func(name string, ps ...pipeline.Pool) pipeline.Job {
		return pipeline.Job{Name: name, Workflow: jobWorkflow, Input: func() any { return &jobInput{} }, Pools: ps}
	}
	defs, err := pipeline.New(
		job("Pooled", pipeline.Pool{Name: "scrape", Limit: 2}, pipeline.Pool{Name: "mysql-publish", Limit: 1}),
		job("Free"),
	)
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// newEnv returns a test environment with the pools interceptor and records the activities
// that ran, in order.
func newEnv(t *testing.T, acquireErr error) (*testsuite.TestWorkflowEnvironment, *[]string, *[]pools.SlotsInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{pools.NewInterceptor(testDefs(t))}})
	for _, name := range []string{"Pooled", "Free"} {
		env.RegisterWorkflowWithOptions(jobWorkflow, workflow.RegisterOptions{Name: name})
	}
	var a *pools.Activities
	env.RegisterActivity(a)
	env.RegisterActivity(work)
	var ran []string
	var inputs []pools.SlotsInput
	env.OnActivity(a.AcquirePoolSlots, mock.Anything, mock.Anything).Return(func(_ context.Context, in pools.SlotsInput) error {
		ran, inputs = append(ran, "acquire"), append(inputs, in)
		return acquireErr
	})
	env.OnActivity(a.ReleasePoolSlots, mock.Anything, mock.Anything).Return(func(_ context.Context, in pools.SlotsInput) error {
		ran, inputs = append(ran, "release"), append(inputs, in)
		return nil
	})
	env.OnActivity(work, mock.Anything).Return(func(context.Context) error {
		ran = append(ran, "work")
		return nil
	})
	return env, &ran, &inputs
}

func TestInterceptor(t *testing.T) {
	t.Run("a job with pools holds them while it runs", func(t *testing.T) {
		env, ran, inputs := newEnv(t, nil)
		env.ExecuteWorkflow("Pooled", jobInput{})
		var res string
		if err := env.GetWorkflowResult(&res); err != nil || res != "done" {
			t.Fatalf("result %q, %v", res, err)
		}
		if want := []string{"acquire", "work", "release"}; !slices.Equal(*ran, want) {
			t.Errorf("ran %v, want %v", *ran, want)
		}
		in := (*inputs)[0]
		want := []pipeline.Pool{{Name: "mysql-publish", Limit: 1}, {Name: "scrape", Limit: 2}} // sorted by name
		if in.Job != "Pooled" || in.WorkflowID == "" || in.RunID == "" || !slices.Equal(in.Pools, want) {
			t.Errorf("acquire input %+v, want the run and pools %v", in, want)
		}
		if rel := (*inputs)[1]; rel.RunID != in.RunID || !slices.Equal(rel.Pools, want) {
			t.Errorf("release input %+v", rel)
		}
	})

	t.Run("a failed run releases its slots", func(t *testing.T) {
		env, ran, _ := newEnv(t, nil)
		env.ExecuteWorkflow("Pooled", jobInput{Fail: true})
		if err := env.GetWorkflowError(); err == nil {
			t.Fatal("the job's failure was lost")
		}
		if want := []string{"acquire", "work", "release"}; !slices.Equal(*ran, want) {
			t.Errorf("ran %v, want %v", *ran, want)
		}
	})

	t.Run("a cancelled run releases its slots", func(t *testing.T) {
		env, ran, _ := newEnv(t, nil)
		env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
		env.ExecuteWorkflow("Pooled", jobInput{Wait: true})
		var canceled *temporal.CanceledError
		if err := env.GetWorkflowError(); !errors.As(err, &canceled) {
			t.Fatalf("error %v, want cancelled", err)
		}
		if want := []string{"acquire", "work", "release"}; !slices.Equal(*ran, want) {
			t.Errorf("ran %v, want %v", *ran, want)
		}
	})

	t.Run("the job does not run without its slots", func(t *testing.T) {
		env, ran, _ := newEnv(t, temporal.NewNonRetryableApplicationError("bad", pools.ErrTypeBadPools, nil))
		env.ExecuteWorkflow("Pooled", jobInput{})
		if err := env.GetWorkflowError(); err == nil {
			t.Fatal("ran without its slots")
		}
		if want := []string{"acquire", "release"}; !slices.Equal(*ran, want) {
			t.Errorf("ran %v, want %v", *ran, want)
		}
	})

	t.Run("a job without pools is left alone", func(t *testing.T) {
		env, ran, _ := newEnv(t, nil)
		env.ExecuteWorkflow("Free", jobInput{})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		if want := []string{"work"}; !slices.Equal(*ran, want) {
			t.Errorf("ran %v, want %v", *ran, want)
		}
	})
}
