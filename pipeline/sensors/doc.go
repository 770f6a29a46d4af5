// Package sensors holds Curio's built-in sensors: ready-made pipeline.Sensor values that
// start a job when something outside the asset graph happens.
//
//   - Files: a new file appears in a directory.
//   - URL: the object at an HTTP(S) URL changes.
//   - Kafka: enough new messages have arrived on a topic.
//   - RunStatus: a run of another job ends with a given status (failed, timed out, ...).
//
// Declare them on the job they start (pipeline.Job.Sensors). Each constructor fills in
// Name, a Description and a default Interval; the result is a plain struct, so change a
// field to override it:
//
//	s := sensors.Files("landing-csv", "/data/landing", "*.csv", nil)
//	s.Interval = 5 * time.Minute
//
// # Keys and cursors
//
// Curio starts at most one run per (sensor, RunRequest.Key), ever, so every sensor here
// returns a key that names what it reacted to (a file version, an object version, a
// range of offsets, a run) and is the same each time it sees the same thing. The cursor
// a sensor returns is stored by the platform and handed to its next evaluation: it saves
// rescanning and holds the state change detection needs, but no sensor relies on it to
// avoid duplicate runs. A cursor a sensor cannot read (say, the sensor's kind changed
// under the same name) is treated as a first evaluation, which is safe for the same
// reason.
//
// The input functions the constructors take build the job's input from what fired; a nil
// function, or one returning nil, runs the job with its default input.
//
// # Custom sensors
//
// A sensor is just a function: anything not covered here is a pipeline.Sensor with an
// Evaluate of its own (see the package example).
package sensors
