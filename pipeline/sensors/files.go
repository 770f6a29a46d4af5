package sensors

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// MaxFilesPerEvaluation is the most runs one evaluation of a Files sensor requests. The
// oldest files (by modification time) go first; the rest wait for the next evaluation.
const MaxFilesPerEvaluation = 100

// FileQuietPeriod is how long a file must go unmodified before a Files sensor takes it:
// a file modified more recently is assumed to be still being written. Two seconds covers
// file systems that keep modification times to the second or two.
const FileQuietPeriod = 2 * time.Second

// Files returns a sensor that starts its job once for each new file in dir whose name
// matches the glob pattern (filepath.Match syntax; "" means "*"). It checks every 30
// seconds.
//
// Only dir itself is scanned, not its subdirectories. Hidden files (a name starting with
// ".") and anything that is not a regular file (after following symlinks) are ignored,
// and so is a file modified in the last FileQuietPeriod, which is taken to be still being
// written. A writer that takes longer than that between two writes should write to a
// hidden name in the same directory and rename the file when it is complete.
//
// A file is identified by its path, modification time and size, so a file replaced by
// (or rewritten into) a new version triggers again, while one merely left in place does
// not. The run's key is "PATH@MTIME_NS:SIZE", where PATH is dir joined with the file name
// (so use an absolute dir for keys that do not depend on the worker's working directory).
// At most MaxFilesPerEvaluation files are taken per evaluation, oldest first.
//
// input builds the job's input from the file's path; nil runs the job with its default
// input. The cursor remembers a short hash of each file already taken that is still in
// the directory, so it grows with the number of matching files kept there (about 11
// bytes each): move or delete processed files if the directory holds many thousands.
// Files that arrive with an old modification time (mv, rsync -t, tar) are still seen.
// A missing or unreadable dir makes the evaluation fail.
func Files(name, dir, pattern string, input func(path string) any) pipeline.Sensor {
	if pattern == "" {
		pattern = "*"
	}
	_, patternErr := filepath.Match(pattern, "")
	return pipeline.Sensor{
		Name:        name,
		Description: fmt.Sprintf("new files matching %s in %s", pattern, dir),
		Interval:    30 * time.Second,
		Evaluate: func(ctx context.Context, env pipeline.SensorEnv, cursor string) (pipeline.SensorResult, error) {
			if patternErr != nil {
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: pattern %q: %w", name, pattern, patternErr)
			}
			if dir == "" {
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: no directory to watch", name)
			}
			return evaluateFiles(ctx, env, name, dir, pattern, input, cursor)
		},
	}
}

// filesCursor is a Files sensor's state.
type filesCursor struct {
	// Taken holds fileHash of each file already requested that was still in the
	// directory at the last evaluation, sorted; files that disappear drop out.
	Taken []byte `json:"taken"`
}

// fileHashLen is how much of a key's SHA-256 the cursor keeps: 64 bits make a collision
// among even a million files very unlikely (about 1 in 37 million).
const fileHashLen = 8

func fileHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return string(sum[:fileHashLen])
}

type newFile struct {
	path, key, hash string
	mtime           time.Time
	size            int64
}

func evaluateFiles(ctx context.Context, env pipeline.SensorEnv, name, dir, pattern string, input func(string) any, cursor string) (pipeline.SensorResult, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return pipeline.SensorResult{}, fmt.Errorf("sensor %s: directory %s: %w", name, dir, err)
	}
	prev, readable := readCursor[filesCursor](env, name, cursor)
	taken := make(map[string]bool, len(prev.Taken)/fileHashLen)
	for b := prev.Taken; len(b) >= fileHashLen; b = b[fileHashLen:] {
		taken[string(b[:fileHashLen])] = true
	}

	settled := now(env).Add(-FileQuietPeriod)
	var (
		still   []string // hashes of files taken earlier and still present
		fresh   []newFile
		writing int
	)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return pipeline.SensorResult{}, err
		}
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if ok, _ := filepath.Match(pattern, e.Name()); !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Stat(path) // follows symlinks, unlike e.Info
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed since ReadDir, or a dangling symlink
		case err != nil:
			return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, err)
		case !info.Mode().IsRegular():
			continue
		case info.ModTime().After(settled):
			writing++
			continue
		}
		f := newFile{path: path, mtime: info.ModTime(), size: info.Size()}
		f.key = fmt.Sprintf("%s@%d:%d", path, f.mtime.UnixNano(), f.size)
		f.hash = fileHash(f.key)
		if taken[f.hash] {
			still = append(still, f.hash)
			continue
		}
		fresh = append(fresh, f)
	}

	slices.SortFunc(fresh, func(a, b newFile) int {
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	waiting := max(len(fresh)-MaxFilesPerEvaluation, 0)
	fresh = fresh[:len(fresh)-waiting]

	var res pipeline.SensorResult
	for _, f := range fresh {
		reason := fmt.Sprintf("new file %s (%d bytes, modified %s)", f.path, f.size, f.mtime.UTC().Format(time.RFC3339))
		if waiting > 0 {
			reason += fmt.Sprintf("; %d more wait for the next evaluation (at most %d per evaluation)", waiting, MaxFilesPerEvaluation)
		}
		var in any
		if input != nil {
			in = input(f.path)
		}
		res.Runs = append(res.Runs, pipeline.RunRequest{Key: f.key, Input: in, Reason: reason})
		still = append(still, f.hash)
	}
	if len(res.Runs) == 0 {
		res.Skip = fmt.Sprintf("no new files matching %s in %s", pattern, dir)
		if writing > 0 {
			res.Skip += fmt.Sprintf("; %d still being written", writing)
		}
	}

	slices.Sort(still) // a stable cursor for the same directory contents
	next := filesCursor{Taken: []byte(strings.Join(still, ""))}
	if readable && bytes.Equal(next.Taken, prev.Taken) {
		return res, nil // "" keeps the previous cursor
	}
	if res.Cursor, err = writeCursor(name, next); err != nil {
		return pipeline.SensorResult{}, err
	}
	return res, nil
}
