package devstack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Endpoints are the addresses of a running stack's services, written to the data dir so
// other curio commands on the same machine can find them.
type Endpoints struct {
	PostgresDSN      string   `json:"postgres_dsn"`
	MySQLDSN         string   `json:"mysql_dsn"`
	KafkaBrokers     []string `json:"kafka_brokers"`
	TemporalHostPort string   `json:"temporal_hostport"`
	TemporalUIURL    string   `json:"temporal_ui_url,omitempty"`
	APIURL           string   `json:"api_url"`
}

const endpointsFile = "endpoints.json"

// Endpoints returns the stack's service addresses.
func (s *Stack) Endpoints() Endpoints {
	return Endpoints{PostgresDSN: s.pgDSN, MySQLDSN: s.myDSN, KafkaBrokers: s.KafkaBrokers,
		TemporalHostPort: s.hostPort, TemporalUIURL: s.TemporalUIURL, APIURL: s.APIURL}
}

// WriteEndpoints records e under dataDir (readable by the owner only: DSNs may hold secrets).
func WriteEndpoints(dataDir string, e Endpoints) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("encode endpoints: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, endpointsFile), b, 0o600); err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	return nil
}

// ReadEndpoints reads what WriteEndpoints wrote.
func ReadEndpoints(dataDir string) (Endpoints, error) {
	var e Endpoints
	b, err := os.ReadFile(filepath.Join(dataDir, endpointsFile))
	if err != nil {
		return e, fmt.Errorf("read endpoints: %w", err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("decode endpoints: %w", err)
	}
	return e, nil
}
