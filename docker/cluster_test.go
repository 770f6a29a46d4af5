package docker

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/curiodata/curio/internal/config"
)

// TestClusterComposeMirrorsTheClusterTest loads compose.cluster.yaml and checks it is the
// topology internal/cluster runs in network namespaces: the same hosts and addresses, the
// same commands, every curio service pointed at svc's Temporal and broker, and its
// environment one internal/config accepts.
func TestClusterComposeMirrorsTheClusterTest(t *testing.T) {
	var list []string
	for k, v := range testEnv {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{"compose.cluster.yaml"}, cli.WithWorkingDirectory("."),
		cli.WithName("curio-cluster"), cli.WithEnv(list), cli.WithInterpolation(true), cli.WithNormalization(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load compose.cluster.yaml: %v", err)
	}
	// Host, address and command, as internal/cluster starts them.
	want := map[string]struct {
		ip  string
		cmd []string
	}{
		"svc": {"10.77.0.2", []string{"server", "--listen", "10.77.0.2"}},
		"w1":  {"10.77.0.11", []string{"worker", "--identity", "w1"}},
		"w2":  {"10.77.0.12", []string{"worker", "--identity", "w2"}},
		"w3":  {"10.77.0.13", []string{"worker", "--identity", "w3"}},
		"api": {"10.77.0.20", []string{"api"}},
	}
	for name, w := range want {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if !slices.Equal(s.Command, types.ShellCommand(w.cmd)) {
			t.Errorf("%s: command %q, want %q", name, s.Command, w.cmd)
		}
		if n := s.Networks["cluster"]; n == nil || n.Ipv4Address != w.ip {
			t.Errorf("%s: address %+v, want %s on network cluster", name, n, w.ip)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no health check", name)
		}
	}
	for _, name := range []string{"w1", "w2", "w3", "api", "migrate", "automation", "catalog-pipeline"} {
		s := p.Services[name]
		vars := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				vars[k] = *v
			}
		}
		if vars["CURIO_TEMPORAL_HOSTPORT"] != "10.77.0.2:7233" || vars["CURIO_KAFKA_BROKERS"] != "10.77.0.2:9092" {
			t.Errorf("%s: Temporal %q, Kafka %q: want svc's 10.77.0.2:7233 and :9092", name, vars["CURIO_TEMPORAL_HOSTPORT"], vars["CURIO_KAFKA_BROKERS"])
		}
		if _, err := config.FromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
			t.Errorf("%s: configuration: %v", name, err)
		}
		for k := range vars {
			if strings.HasPrefix(k, "CURIO_") && !slices.ContainsFunc(config.Vars(), func(v config.Var) bool { return v.Name == k }) {
				t.Errorf("%s sets %s, which internal/config does not read", name, k)
			}
		}
	}
	if api := p.Services["api"]; !slices.ContainsFunc(api.Ports, func(pc types.ServicePortConfig) bool { return pc.Published == "8080" }) {
		t.Errorf("api does not publish 8080: %+v", api.Ports)
	}
}
