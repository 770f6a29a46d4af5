package sensors

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// readCursor decodes a cursor this package wrote. ok is false for the first evaluation
// ("") and for a cursor that does not decode, which is logged: every sensor here then
// starts afresh, which is safe because the platform dedupes runs by key.
func readCursor[T any](env pipeline.SensorEnv, sensor, cursor string) (c T, ok bool) {
	if cursor == "" {
		return c, false
	}
	if err := json.Unmarshal([]byte(cursor), &c); err != nil {
		if env.Logger != nil {
			env.Logger.Warn("sensor cursor unreadable; starting afresh", "sensor", sensor, "err", err)
		}
		var zero T
		return zero, false
	}
	return c, true
}

// writeCursor encodes a cursor.
func writeCursor(sensor string, c any) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sensor %s: encode cursor: %w", sensor, err)
	}
	return string(b), nil
}

// now is the evaluation's time: env.Now, or the clock when the platform leaves it unset.
func now(env pipeline.SensorEnv) time.Time {
	if env.Now.IsZero() {
		return time.Now()
	}
	return env.Now
}
