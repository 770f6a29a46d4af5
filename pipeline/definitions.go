package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Definitions are every job and asset of a Curio deployment: the built-in ones and the
// user's. Build them with New, which checks that they agree.
type Definitions struct {
	jobs   []Job
	job    map[string]int
	assets []Asset // upstreams before downstreams
	asset  map[string]int
}

// ErrInvalid wraps every problem New finds in definitions.
var ErrInvalid = errors.New("invalid definitions")

// New builds definitions from jobs and checks them: names unique and set, every job with
// a workflow and an input that `{}` decodes into, every upstream declared, no cycles,
// partition mappings that fit, every partitioned asset backfillable (PartitionInput), and
// every schedule naming a real job with an input that decodes.
func New(jobs ...Job) (*Definitions, error) {
	d := &Definitions{job: map[string]int{}, asset: map[string]int{}}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var all []Asset
	for _, j := range jobs {
		switch {
		case j.Name == "":
			bad("a job has no name")
			continue
		case d.hasJob(j.Name):
			bad("job %s: declared twice", j.Name)
			continue
		case j.Workflow == nil:
			bad("job %s: no workflow", j.Name)
		case j.Input == nil:
			bad("job %s: no input (Input returns a pointer to its input struct)", j.Name)
		}
		j.Assets = slices.Clone(j.Assets)
		for i := range j.Assets {
			j.Assets[i].Job = j.Name
			all = append(all, j.Assets[i])
		}
		d.job[j.Name] = len(d.jobs)
		d.jobs = append(d.jobs, j)
	}
	byName := map[string]Asset{}
	var names []string // sorted below: no map iteration, so New is deterministic (workflows call it)
	for _, a := range all {
		switch {
		case a.Name == "":
			bad("job %s: an asset has no name", a.Job)
		case byName[a.Name].Name != "":
			bad("asset %s: declared by %s and %s", a.Name, byName[a.Name].Job, a.Job)
		default:
			byName[a.Name] = a
			names = append(names, a.Name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		a := byName[name]
		a.Upstreams = slices.Clone(a.Upstreams) // resolved below: never write into the caller's jobs
		errs = append(errs, checkAsset(a, byName)...)
		errs = append(errs, checkAutomation(a)...)
		for i, up := range a.Upstreams { // resolve default mappings
			if up.Mapping == "" {
				if u, ok := byName[up.Asset]; ok && sameAxis(a.Partitioning, u.Partitioning) {
					a.Upstreams[i].Mapping = Identity
				} else {
					a.Upstreams[i].Mapping = AllPartitions
				}
			}
		}
		byName[name] = a
	}
	order, err := topoSort(names, byName)
	if err != nil {
		errs = append(errs, err)
	}
	for _, name := range order {
		d.asset[name] = len(d.assets)
		d.assets = append(d.assets, byName[name])
	}
	for ji, j := range d.jobs { // share the resolved assets with the jobs
		for i, a := range j.Assets {
			if k, ok := d.asset[a.Name]; ok {
				d.jobs[ji].Assets[i] = d.assets[k]
			}
		}
	}
	errs = append(errs, d.checkJobs()...)
	sensors := map[string]string{}
	for _, j := range d.jobs {
		errs = append(errs, checkSensors(j, sensors)...)
	}
	errs = append(errs, checkPools(d.jobs)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return d, nil
}

func (d *Definitions) hasJob(name string) bool { _, ok := d.job[name]; return ok }

func sameAxis(a, b Partitioning) bool {
	return a.Kind == b.Kind && slices.Equal(a.Keys, b.Keys)
}

func checkAsset(a Asset, byName map[string]Asset) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("asset %s: "+format, append([]any{a.Name}, args...)...))
	}
	switch a.Partitioning.Kind {
	case Unpartitioned, Hourly, Daily:
		if len(a.Partitioning.Keys) > 0 {
			bad("only static partitionings list keys")
		}
	case Static:
		if len(a.Partitioning.Keys) == 0 {
			bad("static partitioning without keys")
		}
		seen := map[string]bool{}
		for _, k := range a.Partitioning.Keys {
			if k == "" || seen[k] {
				bad("static partition key %q empty or repeated", k)
			}
			seen[k] = true
		}
	default:
		bad("unknown partitioning %q", a.Partitioning.Kind)
	}
	if a.Partitioning.Partitioned() && a.PartitionInput == nil {
		bad("partitioned but not backfillable: set PartitionInput")
	}
	checks := map[string]bool{}
	for _, c := range a.Checks {
		if c.Name == "" || checks[c.Name] {
			bad("check %q unnamed or declared twice", c.Name)
		}
		checks[c.Name] = true
	}
	for _, up := range a.Upstreams {
		u, ok := byName[up.Asset]
		if !ok {
			bad("upstream %q is not declared by any job", up.Asset)
			continue
		}
		switch up.Mapping {
		case "", AllPartitions:
		case Identity:
			if !sameAxis(a.Partitioning, u.Partitioning) {
				bad("identity mapping to %s needs the same partitioning (%q vs %q)", u.Name, a.Partitioning.Kind, u.Partitioning.Kind)
			}
		case TimeWindow:
			if !a.Partitioning.TimeBased() || !u.Partitioning.TimeBased() || up.Window <= 0 {
				bad("time-window mapping to %s needs time partitions on both sides and a positive window", u.Name)
			}
		default:
			bad("upstream %s: unknown mapping %q", u.Name, up.Mapping)
		}
	}
	return errs
}

// topoSort orders assets (names, sorted) upstreams first, ties by name, or reports a cycle.
func topoSort(names []string, byName map[string]Asset) ([]string, error) {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("cycle: %s", strings.Join(append(path, name), " → "))
		}
		state[name] = visiting
		a := byName[name]
		ups := make([]string, 0, len(a.Upstreams))
		for _, u := range a.Upstreams {
			if _, ok := byName[u.Asset]; ok {
				ups = append(ups, u.Asset)
			}
		}
		slices.Sort(ups)
		for _, u := range ups {
			if err := visit(u, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func (d *Definitions) checkJobs() []error {
	var errs []error
	ids := map[string]string{}
	for _, j := range d.jobs {
		if j.Input == nil {
			continue
		}
		if _, err := d.DecodeInput(j.Name, []byte("{}")); err != nil {
			errs = append(errs, fmt.Errorf("job %s: {} does not decode: %w", j.Name, err))
		}
		for _, s := range j.Schedules {
			if other, dup := ids[s.ID]; s.ID == "" || dup {
				errs = append(errs, fmt.Errorf("job %s: schedule id %q empty or also used by %s", j.Name, s.ID, other))
			}
			ids[s.ID] = j.Name
			if len(strings.Fields(s.Cron)) != 5 {
				errs = append(errs, fmt.Errorf("schedule %s: cron %q: want five fields (minute hour day month weekday)", s.ID, s.Cron))
			}
			if !slices.Contains(OverlapPolicies(), cmpOr(s.Overlap, "skip")) {
				errs = append(errs, fmt.Errorf("schedule %s: overlap %q: want one of %v", s.ID, s.Overlap, OverlapPolicies()))
			}
			raw, err := ScheduleInput(s)
			if err == nil {
				_, err = d.DecodeInput(j.Name, raw)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("schedule %s: input: %w", s.ID, err))
			}
		}
		for _, a := range j.Assets {
			if a.PartitionInput == nil || !a.Partitioning.Partitioned() {
				continue
			}
			key := sampleKey(a.Partitioning)
			in, err := a.PartitionInput(key)
			if err == nil {
				var raw []byte
				if raw, err = json.Marshal(in); err == nil {
					_, err = d.DecodeInput(j.Name, raw)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("asset %s: PartitionInput(%q) does not give %s an input: %w", a.Name, key, j.Name, err))
			}
		}
	}
	return errs
}

func sampleKey(p Partitioning) string {
	if p.Kind == Static {
		if len(p.Keys) == 0 {
			return ""
		}
		return p.Keys[0]
	}
	t, _ := p.ParseTime("2026-01-01T00")
	return p.Key(t)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// OverlapPolicies are the values Schedule.Overlap takes.
func OverlapPolicies() []string {
	return []string{"skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"}
}

// ScheduleInput is s's input as JSON ({} when unset).
func ScheduleInput(s Schedule) ([]byte, error) {
	if s.Input == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(s.Input)
	if err != nil {
		return nil, fmt.Errorf("schedule %s input: %w", s.ID, err)
	}
	return b, nil
}

// Jobs returns every job in declaration order.
func (d *Definitions) Jobs() []Job { return slices.Clone(d.jobs) }

// Job returns the job called name.
func (d *Definitions) Job(name string) (Job, bool) {
	i, ok := d.job[name]
	if !ok {
		return Job{}, false
	}
	return d.jobs[i], true
}

// JobNames lists the jobs users can start (not Internal ones), sorted.
func (d *Definitions) JobNames() []string {
	var out []string
	for _, j := range d.jobs {
		if !j.Internal {
			out = append(out, j.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Assets returns every asset, upstreams before downstreams.
func (d *Definitions) Assets() []Asset { return slices.Clone(d.assets) }

// Asset returns the asset called name.
func (d *Definitions) Asset(name string) (Asset, bool) {
	i, ok := d.asset[name]
	if !ok {
		return Asset{}, false
	}
	return d.assets[i], true
}

// AssetNames lists every asset, upstreams first.
func (d *Definitions) AssetNames() []string {
	out := make([]string, len(d.assets))
	for i, a := range d.assets {
		out[i] = a.Name
	}
	return out
}

// Downstream returns every asset that depends on name, directly or not, in graph order.
func (d *Definitions) Downstream(name string) []string {
	reached := map[string]bool{name: true}
	var out []string
	for _, a := range d.assets { // topological: an asset's upstreams come first
		for _, u := range a.Upstreams {
			if reached[u.Asset] && !reached[a.Name] {
				reached[a.Name] = true
				out = append(out, a.Name)
			}
		}
	}
	return out
}

// UnknownJobError is returned for a job name no definition declares.
type UnknownJobError struct {
	Name  string
	Known []string
}

func (e *UnknownJobError) Error() string {
	return fmt.Sprintf("unknown workflow %q: known workflows are %s", e.Name, strings.Join(e.Known, ", "))
}

// DecodeInput decodes a job's JSON input strictly (unknown fields and trailing data are
// errors) over its defaults; empty input is the defaults.
func (d *Definitions) DecodeInput(job string, raw []byte) (any, error) {
	j, ok := d.Job(job)
	if !ok {
		return nil, &UnknownJobError{Name: job, Known: d.JobNames()}
	}
	in := j.Input()
	if len(bytes.TrimSpace(raw)) == 0 {
		return in, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return nil, fmt.Errorf("workflow input for %s: %w", job, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("workflow input for %s: trailing data after the JSON object", job)
	}
	return in, nil
}

// Field is one field of a job's input, for `curio run --list`.
type Field struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default string `json:"default,omitempty"`
}

// InputFields lists the JSON fields of a job's input with their Go types and defaults
// (fields of embedded structs included).
func (d *Definitions) InputFields(job string) []Field {
	j, ok := d.Job(job)
	if !ok {
		return nil
	}
	v := reflect.ValueOf(j.Input())
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return fieldsOf(v)
}

func fieldsOf(v reflect.Value) []Field {
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, fieldsOf(v.Field(i))...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		fd := Field{Name: name, Type: f.Type.String()}
		if fv := v.Field(i); !fv.IsZero() {
			if b, err := json.Marshal(fv.Interface()); err == nil {
				fd.Default = string(b)
			}
		}
		out = append(out, fd)
	}
	return out
}

// PartitionRun returns the job, and its input, that materializes one partition of asset:
// PartitionInput's for a partitioned asset, the job's defaults otherwise.
func (d *Definitions) PartitionRun(asset, key string) (string, any, error) {
	a, ok := d.Asset(asset)
	if !ok {
		return "", nil, fmt.Errorf("unknown asset %q", asset)
	}
	if !a.Partitioning.Valid(key) {
		return "", nil, fmt.Errorf("asset %s has no partition %q", asset, key)
	}
	if a.PartitionInput == nil {
		in, err := d.DecodeInput(a.Job, nil)
		return a.Job, in, err
	}
	in, err := a.PartitionInput(key)
	if err != nil {
		return "", nil, fmt.Errorf("asset %s partition %s: %w", asset, key, err)
	}
	return a.Job, in, nil
}

// Schedules returns every job's schedules with the job they start.
func (d *Definitions) Schedules() []JobSchedule {
	var out []JobSchedule
	for _, j := range d.jobs {
		for _, s := range j.Schedules {
			out = append(out, JobSchedule{Job: j.Name, Schedule: s})
		}
	}
	return out
}

// JobSchedule is a schedule and the job it starts.
type JobSchedule struct {
	Job string
	Schedule
}

// Register adds every job's workflow and activities to a worker. res is handed to the
// jobs' Activities functions.
func (d *Definitions) Register(r worker.Registry, res Resources) {
	for _, j := range d.jobs {
		r.RegisterWorkflowWithOptions(j.Workflow, workflow.RegisterOptions{Name: j.Name})
		if j.Activities == nil {
			continue
		}
		for _, a := range j.Activities(res) {
			if reflect.TypeOf(a).Kind() == reflect.Func {
				r.RegisterActivity(a)
			} else {
				r.RegisterActivityWithOptions(a, activity.RegisterOptions{})
			}
		}
	}
}

// ChecksInput names the partition whose checks RunChecks evaluates.
type ChecksInput struct {
	Asset     string `json:"asset"`
	Partition string `json:"partition,omitempty"`
}

// RunChecks evaluates the declared checks (those with Run) of one asset partition; the
// platform's record activity calls it for every job.
func (d *Definitions) RunChecks(ctx context.Context, res Resources, in ChecksInput) ([]CheckResult, error) {
	a, ok := d.Asset(in.Asset)
	if !ok {
		return nil, fmt.Errorf("unknown asset %q", in.Asset)
	}
	var out []CheckResult
	for _, c := range a.Checks {
		if c.Run == nil {
			continue
		}
		r, err := c.Run(ctx, res, in.Partition)
		if err != nil {
			return nil, fmt.Errorf("check %s of %s: %w", c.Name, a.Name, err)
		}
		r.Name, r.Blocking = c.Name, c.Blocking
		out = append(out, r)
	}
	return out, nil
}
