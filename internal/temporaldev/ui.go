package temporaldev

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

// UI is the Temporal Web UI served in-process.
type UI struct {
	srv *uiserver.Server
	url string
}

// StartUI serves the Temporal Web UI on addr (host:port), talking to the frontend at
// temporalHostPort. It returns once the UI answers HTTP.
func StartUI(addr, temporalHostPort string) (*UI, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("temporal ui address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("temporal ui address %q: bad port: %w", addr, err)
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	}
	// The UI server exits the process when it cannot listen, so check first.
	if err := checkFree(host, port); err != nil {
		return nil, fmt.Errorf("temporal ui address %s:%d is in use (set CURIO_TEMPORAL_UI_ADDR): %w", host, port, err)
	}
	cfg := &uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: temporalHostPort,
		EnableUI:            true,
		DefaultNamespace:    "default",
		HideLogs:            true,
		DisableNewsFetch:    true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
	}
	srv := uiserver.NewServer(server_options.WithConfigProvider(cfg))
	go func() { _ = srv.Start() }()
	u := &UI{srv: srv, url: "http://" + net.JoinHostPort(host, strconv.Itoa(port))}
	hc := &http.Client{Timeout: time.Second}
	for range 100 {
		resp, err := hc.Get(u.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return u, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Stop()
	return nil, fmt.Errorf("temporal ui did not start on %s", u.url)
}

// URL is the base URL of the UI.
func (u *UI) URL() string { return u.url }

// Stop closes the UI's HTTP server.
func (u *UI) Stop() { u.srv.Stop() }
