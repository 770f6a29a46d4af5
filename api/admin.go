package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/workflows"
)

// Admin enables the state-changing endpoints under /api/admin. They require
// "Authorization: Bearer <Token>"; with no token configured they answer 503.
type Admin struct {
	Token     string
	Temporal  client.Client
	TaskQueue string
}

func (h *handlers) registerAdmin(r *gin.Engine) {
	g := r.Group("/api/admin", h.requireAdmin)
	g.POST("/runs", h.startRun)
	g.POST("/backfills", h.startBackfill)
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

// readJSON decodes the request body strictly into v.
func readJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return badRequest{"request body too large"}
		}
		return badRequest{"could not read the request body"}
	}
	if err := decodeStrict(body, v); err != nil {
		return badRequest{"invalid JSON body: " + err.Error()}
	}
	return nil
}

func (h *handlers) startRun(c *gin.Context) {
	var req RunRequest
	if err := readJSON(c, &req); err != nil {
		h.fail(c, err)
		return
	}
	h.start(c, req)
}

func (h *handlers) start(c *gin.Context, req RunRequest) {
	in, err := workflows.DecodeInput(req.Workflow, req.Input)
	if err != nil {
		h.fail(c, badRequest{err.Error()})
		return
	}
	if len(req.ID) > 200 {
		h.fail(c, badRequest{"id must be at most 200 characters"})
		return
	}
	id := req.ID
	if id == "" {
		id = strings.ToLower(req.Workflow) + "-" + time.Now().UTC().Format("20060102T150405.000Z")
	}
	run, err := h.d.Admin.Temporal.ExecuteWorkflow(c.Request.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: h.d.Admin.TaskQueue}, req.Workflow, in)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.d.Logger.Info("run started through the admin API", "workflow", req.Workflow, "workflow_id", run.GetID(), "run_id", run.GetRunID(), "client", c.ClientIP())
	body := gin.H{"workflow": req.Workflow, "workflow_id": run.GetID(), "run_id": run.GetRunID()}
	if h.d.TemporalUIURL != "" {
		body["temporal_ui"] = h.d.TemporalUIURL + "/namespaces/" + url.PathEscape(h.d.TemporalNamespace) + "/workflows/" + url.PathEscape(run.GetID()) + "/" + run.GetRunID() + "/history"
	}
	c.JSON(http.StatusAccepted, body)
}

func (h *handlers) startBackfill(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		h.fail(c, badRequest{"could not read the request body"})
		return
	}
	var in workflows.BackfillInput
	if err := decodeStrict(body, &in); err != nil {
		h.fail(c, badRequest{"invalid backfill: " + err.Error()})
		return
	}
	if _, ok := assets.Lookup(in.Asset); !ok {
		h.fail(c, badRequest{"unknown asset " + `"` + in.Asset + `"`})
		return
	}
	h.start(c, RunRequest{Workflow: workflows.BackfillName, ID: "backfill-" + in.Asset + "-" + time.Now().UTC().Format("20060102T150405.000Z"), Input: body})
}

func (h *handlers) applySchedules(c *gin.Context) {
	cfg, err := schedules.Default()
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
