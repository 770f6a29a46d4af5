package services

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/kafka"
)

func TestListenAddrs(t *testing.T) {
	for _, tc := range []struct {
		host, t, ui, k, err string
	}{
		{host: "10.0.0.5", t: "10.0.0.5:7233", ui: "10.0.0.5:8233", k: "10.0.0.5:9092"},
		{host: "fd00::5", t: "[fd00::5]:7233", ui: "[fd00::5]:8233", k: "[fd00::5]:9092"},
		{host: "[fd00::5]", t: "[fd00::5]:7233", ui: "[fd00::5]:8233", k: "[fd00::5]:9092"},
		{host: "0.0.0.0", err: "unspecified"},
		{host: "::", err: "unspecified"},
		{host: "10.0.0.5:7233", err: "has a port"},
		{host: "", err: "empty"},
	} {
		gt, gui, gk, err := ListenAddrs(tc.host, "127.0.0.1:7233", "127.0.0.1:8233", "127.0.0.1:9092")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ListenAddrs(%q) error %v, want one saying %q", tc.host, err, tc.err)
			}
			continue
		}
		if err != nil || gt != tc.t || gui != tc.ui || gk != tc.k {
			t.Errorf("ListenAddrs(%q) = %s %s %s %v, want %s %s %s", tc.host, gt, gui, gk, err, tc.t, tc.ui, tc.k)
		}
	}
}

// TestAdvertisedAddresses starts the services on 127.0.0.2 (another address of this host,
// as a remote client would see it) and checks that clients are told that address: Kafka's
// metadata names it, not 127.0.0.1 or 0.0.0.0, and Temporal answers there with the
// namespace registered.
func TestAdvertisedAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{TemporalAddr: "127.0.0.2:0", UIAddr: "127.0.0.2:0", KafkaAddr: "127.0.0.2:0",
		DataDir: t.TempDir(), Namespace: "curio-remote", TemporalLogLevel: "error"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	kc, err := sarama.NewClient(s.KafkaBrokers, kafka.Config("services-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	if err := kc.RefreshMetadata(); err != nil {
		t.Fatal(err)
	}
	for _, b := range kc.Brokers() {
		if host, _, _ := net.SplitHostPort(b.Addr()); host != "127.0.0.2" {
			t.Errorf("kafka advertises broker %s, want 127.0.0.2", b.Addr())
		}
	}
	if host, _, _ := net.SplitHostPort(s.TemporalHostPort); host != "127.0.0.2" || !strings.HasPrefix(s.UIURL, "http://127.0.0.2:") {
		t.Errorf("temporal %s, ui %s: want both on 127.0.0.2", s.TemporalHostPort, s.UIURL)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: s.TemporalHostPort, Namespace: "curio-remote"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "curio-remote"}); err != nil {
		t.Errorf("namespace curio-remote not registered: %v", err)
	}
	env := strings.Join(s.Env("curio-remote"), "\n")
	for _, want := range []string{"CURIO_TEMPORAL_HOSTPORT=" + s.TemporalHostPort, "CURIO_KAFKA_BROKERS=" + s.KafkaBrokers[0],
		"CURIO_TEMPORAL_NAMESPACE=curio-remote"} {
		if !strings.Contains(env, want) {
			t.Errorf("Env() lacks %s:\n%s", want, env)
		}
	}
}
