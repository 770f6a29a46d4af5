package sensors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// writeFile writes a file modified at mtime.
func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// evaluate runs a sensor and fails the test on error; it returns the result and the
// cursor the platform would store (the previous one when the result leaves it empty).
func evaluate(t *testing.T, s pipeline.Sensor, env pipeline.SensorEnv, cursor string) (pipeline.SensorResult, string) {
	t.Helper()
	res, err := s.Evaluate(context.Background(), env, cursor)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	if res.Cursor != "" {
		cursor = res.Cursor
	}
	return res, cursor
}

func keys(res pipeline.SensorResult) []string {
	var out []string
	for _, r := range res.Runs {
		out = append(out, r.Key)
	}
	return out
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	env := pipeline.SensorEnv{Now: now}
	s := Files("landing", dir, "*.csv", func(path string) any { return map[string]string{"path": path} })
	if s.Interval != 30*time.Second || s.Description == "" {
		t.Errorf("defaults: interval %s, description %q", s.Interval, s.Description)
	}
	old := now.Add(-time.Hour)
	writeFile(t, filepath.Join(dir, "b.csv"), "b", old.Add(2*time.Second))
	writeFile(t, filepath.Join(dir, "a.csv"), "a", old.Add(1*time.Second))
	writeFile(t, filepath.Join(dir, "c.csv"), "cc", old.Add(3*time.Second))
	writeFile(t, filepath.Join(dir, ".d.csv"), "hidden: being uploaded", old)
	writeFile(t, filepath.Join(dir, "notes.txt"), "no match", old)
	if err := os.Mkdir(filepath.Join(dir, "sub.csv"), 0o755); err != nil {
		t.Fatal(err)
	}

	var cursor string
	var first pipeline.SensorResult
	t.Run("three new files, oldest first", func(t *testing.T) {
		first, cursor = evaluate(t, s, env, "")
		if len(first.Runs) != 3 {
			t.Fatalf("runs %v, want a.csv, b.csv, c.csv", keys(first))
		}
		for i, name := range []string{"a.csv", "b.csv", "c.csv"} {
			r := first.Runs[i]
			path := filepath.Join(dir, name)
			if !strings.HasPrefix(r.Key, path+"@") {
				t.Errorf("run %d key %q, want %s@...", i, r.Key, path)
			}
			if in, _ := r.Input.(map[string]string); in["path"] != path {
				t.Errorf("run %d input %v, want path %s", i, r.Input, path)
			}
			if !strings.Contains(r.Reason, name) {
				t.Errorf("run %d reason %q does not name the file", i, r.Reason)
			}
		}
		if cursor == "" {
			t.Fatal("no cursor")
		}
	})

	t.Run("nothing new with the cursor", func(t *testing.T) {
		res, _ := evaluate(t, s, env, cursor)
		if len(res.Runs) != 0 || res.Skip == "" {
			t.Errorf("runs %v, skip %q: want none and a reason", keys(res), res.Skip)
		}
	})

	t.Run("without the cursor the keys are the same", func(t *testing.T) {
		res, _ := evaluate(t, s, env, "")
		if fmt.Sprint(keys(res)) != fmt.Sprint(keys(first)) {
			t.Errorf("keys %v, want %v", keys(res), keys(first))
		}
	})

	t.Run("a replaced file is a new file", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "b.csv"), "b, version 2", old.Add(10*time.Second))
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, cursor)
		if len(res.Runs) != 1 || !strings.HasPrefix(res.Runs[0].Key, filepath.Join(dir, "b.csv")+"@") {
			t.Fatalf("runs %v, want b.csv again", keys(res))
		}
		if res.Runs[0].Key == first.Runs[1].Key {
			t.Errorf("replaced file has its old key %q", res.Runs[0].Key)
		}
	})

	t.Run("a file moved in with an old mtime", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "e.csv"), "from an archive", now.Add(-24*time.Hour))
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, cursor)
		if len(res.Runs) != 1 || !strings.Contains(res.Runs[0].Key, "e.csv") {
			t.Fatalf("runs %v, want e.csv", keys(res))
		}
	})

	t.Run("a file being written waits", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "f.csv"), "half", now.Add(-time.Second/2))
		res, _ := evaluate(t, s, env, cursor)
		if len(res.Runs) != 0 || !strings.Contains(res.Skip, "1 still being written") {
			t.Fatalf("runs %v, skip %q: want f.csv left for later", keys(res), res.Skip)
		}
		later := pipeline.SensorEnv{Now: now.Add(FileQuietPeriod)}
		res, cursor = evaluate(t, s, later, cursor)
		if len(res.Runs) != 1 || !strings.Contains(res.Runs[0].Key, "f.csv") {
			t.Fatalf("runs %v, want f.csv once it is quiet", keys(res))
		}
	})

	t.Run("a deleted file leaves the cursor", func(t *testing.T) {
		before := len(mustCursor(t, cursor).Taken)
		if err := os.Remove(filepath.Join(dir, "a.csv")); err != nil {
			t.Fatal(err)
		}
		res, next := evaluate(t, s, pipeline.SensorEnv{Now: now.Add(FileQuietPeriod)}, cursor)
		if len(res.Runs) != 0 {
			t.Errorf("runs %v, want none", keys(res))
		}
		if after := len(mustCursor(t, next).Taken); after != before-fileHashLen {
			t.Errorf("cursor holds %d bytes, want %d", after, before-fileHashLen)
		}
	})
}

func mustCursor(t *testing.T, cursor string) filesCursor {
	t.Helper()
	c, ok := readCursor[filesCursor](pipeline.SensorEnv{}, "test", cursor)
	if !ok {
		t.Fatalf("cursor %q does not decode", cursor)
	}
	return c
}

func TestFilesCapsRunsPerEvaluation(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	const n = MaxFilesPerEvaluation + 5
	for i := range n {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%03d", i)), "x", old.Add(time.Duration(i)*time.Second))
	}
	s := Files("many", dir, "", nil)
	env := pipeline.SensorEnv{Now: time.Now()}
	res, cursor := evaluate(t, s, env, "")
	if len(res.Runs) != MaxFilesPerEvaluation {
		t.Fatalf("%d runs, want %d", len(res.Runs), MaxFilesPerEvaluation)
	}
	if !strings.Contains(res.Runs[0].Key, "f000") || !strings.Contains(res.Runs[0].Reason, "5 more wait") {
		t.Errorf("first run %+v: want the oldest file and a note on the 5 waiting", res.Runs[0])
	}
	if res.Runs[0].Input != nil {
		t.Errorf("input %v, want nil (the job's defaults)", res.Runs[0].Input)
	}
	res, _ = evaluate(t, s, env, cursor)
	if len(res.Runs) != 5 || !strings.Contains(res.Runs[4].Key, fmt.Sprintf("f%03d", n-1)) {
		t.Errorf("second evaluation %v, want the 5 newest", keys(res))
	}
}

func TestFilesErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	_, err := Files("gone", missing, "*", nil).Evaluate(context.Background(), pipeline.SensorEnv{}, "")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing dir: %v, want not-exist naming %s", err, missing)
	}
	_, err = Files("bad", t.TempDir(), "[", nil).Evaluate(context.Background(), pipeline.SensorEnv{}, "")
	if !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("bad pattern: %v, want ErrBadPattern", err)
	}
}
