package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/workflows"
)

// Admin enables the state-changing endpoints under /api/admin. They require
// "Authorization: Bearer <Token>"; with no token configured they answer 503.
type Admin struct {
	Token     string
	Temporal  client.Client
	TaskQueue string
	// MaxBackfillPartitions caps the partitions one backfill may plan
	// (CURIO_BACKFILL_MAX_PARTITIONS); 0: assets.DefaultMaxBackfillPartitions.
	MaxBackfillPartitions int
}

func (h *handlers) registerAdmin(r *gin.Engine) {
	g := r.Group("/api/admin", h.requireAdmin)
	g.POST("/runs", h.startRun)
	g.POST("/backfills", h.startBackfill)
	g.POST("/materialize", h.materialize)
	g.POST("/schedules/apply", h.applySchedules)
}

// requireAdmin checks the bearer token in constant time (hashes first, so the length
// leaks nothing either).
func (h *handlers) requireAdmin(c *gin.Context) {
	if h.d.Admin == nil || h.d.Admin.Token == "" || h.d.Admin.Temporal == nil {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "admin endpoints are disabled: set CURIO_ADMIN_TOKEN (or CURIO_ADMIN_TOKEN_FILE) on the API"})
		return
	}
	got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	want := sha256.Sum256([]byte(h.d.Admin.Token))
	have := sha256.Sum256([]byte(strings.TrimSpace(got)))
	if !ok || subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="curio-admin"`)
		h.d.Logger.Warn("admin request refused", "path", c.Request.URL.Path, "client", c.ClientIP(), "had_token", ok)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "missing or wrong admin token: send Authorization: Bearer <CURIO_ADMIN_TOKEN>"})
		return
	}
}

// RunRequest is the body of POST /api/admin/runs.
type RunRequest struct {
	Workflow string          `json:"workflow"`
	ID       string          `json:"id,omitempty"`
	Input    json.RawMessage `json:"input,omitempty"`
}

// readBody reads the request body (already capped by limitBody).
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, badRequest{"request body too large"}
		}
		return nil, badRequest{"could not read the request body"}
	}
	return body, nil
}

func (h *handlers) startRun(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var req RunRequest
	if err := decodeStrict(body, &req); err != nil {
		h.fail(c, badRequest{"invalid JSON body: " + err.Error()})
		return
	}
	in, err := h.d.Definitions.DecodeInput(req.Workflow, req.Input)
	if err != nil {
		h.fail(c, badRequest{err.Error()})
		return
	}
	h.start(c, req.Workflow, req.ID, in, triggerOf(c))
}

func (h *handlers) startBackfill(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	in, err := h.d.Definitions.DecodeInput(workflows.BackfillName, body)
	if err != nil {
		h.fail(c, badRequest{err.Error()})
		return
	}
	bf := in.(*workflows.BackfillInput)
	a, ok := h.d.Definitions.Asset(bf.Asset)
	if !ok {
		h.fail(c, badRequest{"unknown asset " + strconv.Quote(bf.Asset)})
		return
	}
	// The server's limit, whatever the body says; checked here with the workflow's own rules,
	// so a bad or oversized range is a 400 now, not a failed run later.
	bf.MaxPartitions = h.d.Admin.MaxBackfillPartitions
	bf.State = nil // a continued run's carried plan is the workflow's own, never a caller's
	if _, err := assets.ParseBackfillRange(a, bf.From, bf.To, time.Now(), bf.MaxPartitions); err != nil {
		h.fail(c, badRequest{err.Error()})
		return
	}
	h.start(c, workflows.BackfillName, "backfill-"+bf.Asset+"-"+time.Now().UTC().Format("20060102T150405.000Z"), bf,
		triggerOf(c)+":"+bf.Asset)
}

// MaterializeRequest is the body of POST /api/admin/materialize.
type MaterializeRequest struct {
	Asset     string `json:"asset"`
	Partition string `json:"partition,omitempty"` // required for a partitioned asset
}

// materialize starts the job that materializes one partition of an asset. Its workflow id
// names the asset and partition, so a second request while that run is going is a 409.
func (h *handlers) materialize(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var req MaterializeRequest
	if err := decodeStrict(body, &req); err != nil {
		h.fail(c, badRequest{"invalid JSON body: " + err.Error()})
		return
	}
	a, ok := h.d.Definitions.Asset(req.Asset)
	if !ok {
		h.fail(c, badRequest{"unknown asset " + strconv.Quote(req.Asset) + ": assets are " + strings.Join(h.d.Definitions.AssetNames(), ", ")})
		return
	}
	if a.Partitioning.Partitioned() && req.Partition == "" {
		h.fail(c, badRequest{"asset " + a.Name + " is partitioned: name a partition (" + partitionForm(a.Partitioning) + ")"})
		return
	}
	if err := validPartition(a, req.Partition); err != nil {
		h.fail(c, err)
		return
	}
	job, in, err := h.d.Definitions.PartitionRun(a.Name, req.Partition)
	if err != nil {
		h.fail(c, badRequest{err.Error()})
		return
	}
	id, trigger := "materialize-"+a.Name, triggerOf(c)+":"+a.Name
	if req.Partition != "" {
		id += "-" + req.Partition
		trigger += "[" + req.Partition + "]"
	}
	h.start(c, job, id, in, trigger)
}

// Trigger sources of admin requests: the web app says it is the caller with the
// X-Curio-Client header; anything else is "api".
const (
	triggerWeb = "manual:web"
	triggerCLI = "manual:cli"
	triggerAPI = "manual:api"
)

// triggerOf is the trigger of runs started by an admin request, by who sent it.
func triggerOf(c *gin.Context) string {
	switch c.GetHeader("X-Curio-Client") {
	case "web":
		return triggerWeb
	case "cli":
		return triggerCLI
	}
	return triggerAPI
}

// start starts workflow with its decoded input and trigger; an empty id gets one from the
// name and time.
func (h *handlers) start(c *gin.Context, workflow, id string, in any, trigger string) {
	if len(id) > 200 {
		h.fail(c, badRequest{"id must be at most 200 characters"})
		return
	}
	if id == "" {
		id = strings.ToLower(workflow) + "-" + time.Now().UTC().Format("20060102T150405.000Z")
	}
	// runs.Start refuses an id that is running (rather than answering with the running run);
	// an id whose run has closed may start again.
	run, err := runs.Start(c.Request.Context(), h.d.Admin.Temporal, runs.StartOptions{ID: id, TaskQueue: h.d.Admin.TaskQueue,
		Job: workflow, Input: in, Trigger: trigger, ReuseCompleted: true})
	var running *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &running) {
		err = conflict{msg: "workflow " + strconv.Quote(id) + " is already running (run " + running.RunId + "): nothing was started; " +
			"wait for it to finish or choose another id", workflowID: id, runID: running.RunId}
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.d.Logger.Info("run started through the admin API", "workflow", workflow, "workflow_id", run.GetID(), "run_id", run.GetRunID(),
		"trigger", trigger, "client", c.ClientIP())
	body := gin.H{"workflow": workflow, "workflow_id": run.GetID(), "run_id": run.GetRunID(), "trigger": trigger}
	if u := h.temporalRunURL(run.GetID(), run.GetRunID()); u != "" {
		body["temporal_ui"] = u
	}
	c.JSON(http.StatusAccepted, body)
}

func (h *handlers) applySchedules(c *gin.Context) {
	cfg, err := schedules.FromDefinitions(h.d.Definitions)
	if err != nil {
		h.fail(c, err)
		return
	}
	res, err := schedules.Apply(c.Request.Context(), h.d.Admin.Temporal, cfg, h.d.Admin.TaskQueue)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.d.Logger.Info("schedules applied through the admin API", "schedules", len(res), "client", c.ClientIP())
	c.JSON(http.StatusOK, gin.H{"schedules": res})
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
