package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// cmdHealthcheck probes URL (container health checks run it: the runtime image has no
// curl). It exits 0 on a 2xx answer within the timeout.
func cmdHealthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: curio healthcheck URL: %w", errUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", args[0], err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck %s: %s: %s", args[0], resp.Status, body)
	}
	fmt.Fprintf(stdout, "%s %s\n", resp.Status, body)
	return nil
}

// healthState is what a worker or generator reports at CURIO_HEALTH_ADDR.
type healthState struct {
	lastErr atomic.Pointer[string]
}

func (h *healthState) set(err error) {
	if err == nil {
		h.lastErr.Store(nil)
		return
	}
	s := err.Error()
	h.lastErr.Store(&s)
}

// serveHealth serves /livez, /readyz (503 while the process reports an error) and
// /metrics (Go and process metrics) at addr until ctx ends; empty addr serves nothing.
func serveHealth(ctx context.Context, addr, role string, h *healthState, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "alive") })
	ready := func(w http.ResponseWriter, _ *http.Request) {
		if e := h.lastErr.Load(); e != nil {
			http.Error(w, role+" unhealthy: "+*e, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, role+" ok")
	}
	mux.HandleFunc("GET /readyz", ready)
	mux.HandleFunc("GET /healthz", ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on CURIO_HEALTH_ADDR=%s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("health server stopped", "err", err)
		}
	}()
	logger.Info("health endpoints listening", "addr", ln.Addr().String())
	return nil
}
