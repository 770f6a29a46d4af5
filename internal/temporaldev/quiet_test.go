package temporaldev

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestQuietLogger checks which of the server's lines quietLogger demotes to debug: only the
// frontend's "not healthy yet" while starting, and every warning and error once stopping.
func TestQuietLogger(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	var starting, stopping atomic.Bool
	l := quietLogger{Logger: log.NewZapLogger(zap.New(core)).Skip(1), starting: &starting, stopping: &stopping}
	notHealthy := tag.Error(errors.New("failed reaching server: " + notHealthyYet))
	other := tag.Error(errors.New("Not enough hosts to serve the request"))

	steps := []struct {
		name               string
		starting, stopping bool
		log                func(log.Logger)
		want               zapcore.Level
	}{
		{"running: error", false, false, func(l log.Logger) { l.Error("e", other) }, zapcore.ErrorLevel},
		{"running: warn", false, false, func(l log.Logger) { l.Warn("w", other) }, zapcore.WarnLevel},
		{"running: not healthy yet is an error", false, false, func(l log.Logger) { l.Error("e", notHealthy) }, zapcore.ErrorLevel},
		{"starting: not healthy yet", true, false, func(l log.Logger) { l.Error("e", notHealthy) }, zapcore.DebugLevel},
		{"starting: other error", true, false, func(l log.Logger) { l.Error("e", other) }, zapcore.ErrorLevel},
		{"stopping: error", false, true, func(l log.Logger) { l.Error("e", other) }, zapcore.DebugLevel},
		{"stopping: warn", false, true, func(l log.Logger) { l.Warn("w") }, zapcore.DebugLevel},
		{"stopping: info stays", false, true, func(l log.Logger) { l.Info("i") }, zapcore.InfoLevel},
		{"stopping: through With", false, true, func(l log.Logger) { log.With(l, tag.ComponentMatchingEngine).Error("e", other) }, zapcore.DebugLevel},
		{"stopping: through Skip", false, true, func(l log.Logger) { l.(log.SkipLogger).Skip(0).Error("e", other) }, zapcore.DebugLevel},
	}
	for _, s := range steps {
		starting.Store(s.starting)
		stopping.Store(s.stopping)
		s.log(l)
		got := logs.TakeAll()
		if len(got) != 1 || got[0].Level != s.want {
			t.Errorf("%s: logged %+v, want one entry at %s", s.name, got, s.want)
			continue
		}
		// The caller recorded is the code that logged, not the wrapper.
		for _, f := range got[0].Context {
			if f.Key == tag.LoggingCallAtKey && !strings.Contains(f.String, "quiet_test.go") {
				t.Errorf("%s: logging-call-at %s, want quiet_test.go", s.name, f.String)
			}
		}
	}
}
