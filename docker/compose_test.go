package docker

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/curiodata/curio/internal/config"
)

// testEnv is the environment the tests load compose.yaml with (never the process environment or a
// developer's docker/.env, so the result does not depend on the machine).
var testEnv = map[string]string{"CURIO_ADMIN_TOKEN": "test-token-not-a-secret"}

// secretVars are compose variables that carry secrets; each must reach the services only through
// interpolation (TestSecretsComeFromEnvironment).
var secretVars = []string{"CURIO_ADMIN_TOKEN", "CURIO_PG_PASSWORD", "CURIO_MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "TEMPORAL_PG_PASSWORD",
	"CURIO_ALERT_WEBHOOKS", "CURIO_ALERT_HMAC_SECRET"}

var (
	oneShots     = []string{"temporal-schema", "temporal-namespace", "kafka-init", "migrate", "schedules", "ingest", "automation", "catalog-pipeline"}
	longRunning  = []string{"postgres", "mysql", "temporal-postgres", "temporal", "temporal-ui", "kafka", "worker-1", "worker-2", "worker-3", "api", "events-generator"}
	workers      = []string{"worker-1", "worker-2", "worker-3"}
	dataServices = map[string]string{ // service -> where its state lives
		"postgres":          "/var/lib/postgresql/data",
		"temporal-postgres": "/var/lib/postgresql/data",
		"mysql":             "/var/lib/mysql",
		"kafka":             "/var/lib/kafka/data",
	}
)

const curioBinary = "/usr/local/bin/curio"

func load(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithWorkingDirectory("."),
		cli.WithName("curio"),
		cli.WithEnv(list),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	return opts.LoadProject(context.Background())
}

func mustLoad(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	p, err := load(t, env)
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("service %q missing", name)
	}
	return s
}

func env(s types.ServiceConfig) map[string]string {
	m := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			m[k] = *v
		}
	}
	return m
}

// curioServices are the services that run the curio image.
func curioServices(t *testing.T, p *types.Project) []types.ServiceConfig {
	t.Helper()
	img := service(t, p, "api").Image
	var out []types.ServiceConfig
	for _, name := range sortedNames(p) {
		if s := p.Services[name]; s.Image == img {
			out = append(out, s)
		}
	}
	if len(out) < 8 {
		t.Fatalf("only %d services run the curio image %q", len(out), img)
	}
	return out
}

func sortedNames(p *types.Project) []string {
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func splitHostPort(t *testing.T, what, hp string) (string, int) {
	t.Helper()
	h, ps, err := net.SplitHostPort(hp)
	if err != nil {
		t.Fatalf("%s %q: %v", what, hp, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		t.Fatalf("%s %q: bad port", what, hp)
	}
	return h, port
}

func TestServicesExist(t *testing.T) {
	p := mustLoad(t, testEnv)
	want := append(slices.Clone(oneShots), longRunning...)
	for _, name := range want {
		service(t, p, name)
	}
	for _, name := range sortedNames(p) {
		if !slices.Contains(want, name) {
			t.Errorf("service %q is not known to this test: classify it as one-shot or long-running", name)
		}
	}
	for _, name := range oneShots {
		if r := p.Services[name].Restart; r != types.RestartPolicyNo {
			t.Errorf("one-shot %s: restart %q, want \"no\" (service_completed_successfully needs one exit)", name, r)
		}
	}
	for _, name := range longRunning {
		if r := p.Services[name].Restart; r != types.RestartPolicyUnlessStopped {
			t.Errorf("%s: restart %q, want unless-stopped", name, r)
		}
	}
}

func TestPublishedPorts(t *testing.T) {
	p := mustLoad(t, testEnv)
	want := map[string][2]string{ // service -> {published, target}
		"api":         {"8080", "8080"},
		"temporal-ui": {"8233", "8080"},
		"temporal":    {"7233", "7233"},
		"kafka":       {"9094", "9094"},
	}
	for _, name := range sortedNames(p) {
		s := p.Services[name]
		w, ok := want[name]
		if !ok {
			if len(s.Ports) > 0 {
				t.Errorf("%s publishes %v; only %v are meant to", name, s.Ports, want)
			}
			continue
		}
		if len(s.Ports) != 1 || s.Ports[0].Published != w[0] || strconv.Itoa(int(s.Ports[0].Target)) != w[1] {
			t.Errorf("%s ports %+v, want %s:%s", name, s.Ports, w[0], w[1])
		}
	}
	// Unauthenticated control planes stay on the host's loopback.
	for _, name := range []string{"temporal", "temporal-ui", "kafka"} {
		if ip := p.Services[name].Ports[0].HostIP; ip != "127.0.0.1" {
			t.Errorf("%s is published on %q, want 127.0.0.1", name, ip)
		}
	}
	// The API's published port is the one it listens on.
	_, port := splitHostPort(t, "api CURIO_HTTP_ADDR", env(p.Services["api"])["CURIO_HTTP_ADDR"])
	if strconv.Itoa(port) != want["api"][1] {
		t.Errorf("api listens on %d but publishes target %s", port, want["api"][1])
	}
}

func TestDependsOn(t *testing.T) {
	p := mustLoad(t, testEnv)
	platform := map[string]string{
		"postgres":           types.ServiceConditionHealthy,
		"mysql":              types.ServiceConditionHealthy,
		"migrate":            types.ServiceConditionCompletedSuccessfully,
		"temporal":           types.ServiceConditionHealthy,
		"temporal-namespace": types.ServiceConditionCompletedSuccessfully,
		"kafka":              types.ServiceConditionHealthy,
		"kafka-init":         types.ServiceConditionCompletedSuccessfully,
	}
	expect := map[string]map[string]string{
		"temporal-schema":    {"temporal-postgres": types.ServiceConditionHealthy},
		"temporal":           {"temporal-postgres": types.ServiceConditionHealthy, "temporal-schema": types.ServiceConditionCompletedSuccessfully},
		"temporal-namespace": {"temporal": types.ServiceConditionHealthy},
		"temporal-ui":        {"temporal": types.ServiceConditionHealthy},
		"kafka-init":         {"kafka": types.ServiceConditionHealthy},
		"migrate":            {"postgres": types.ServiceConditionHealthy, "mysql": types.ServiceConditionHealthy},
		"schedules":          {"temporal-namespace": types.ServiceConditionCompletedSuccessfully},
		"worker-1":           platform,
		"worker-2":           platform,
		"worker-3":           platform,
		"api":                platform,
		"ingest":             platform,
		"automation":         platform,
		"events-generator": {
			"postgres": types.ServiceConditionHealthy, "kafka": types.ServiceConditionHealthy,
			"kafka-init": types.ServiceConditionCompletedSuccessfully, "catalog-pipeline": types.ServiceConditionCompletedSuccessfully,
		},
	}
	cp := map[string]string{}
	for k, v := range platform {
		cp[k] = v
	}
	for _, w := range workers {
		cp[w] = types.ServiceConditionStarted
	}
	expect["catalog-pipeline"] = cp

	for name, deps := range expect {
		got := service(t, p, name).DependsOn
		for dep, cond := range deps {
			d, ok := got[dep]
			if !ok {
				t.Errorf("%s does not depend on %s", name, dep)
				continue
			}
			if d.Condition != cond {
				t.Errorf("%s -> %s: condition %q, want %q", name, dep, d.Condition, cond)
			}
		}
		for dep := range got {
			if _, ok := deps[dep]; !ok {
				t.Errorf("%s has an unexpected dependency on %s", name, dep)
			}
		}
	}
	// Conditions must be satisfiable: healthy needs a healthcheck, completed needs a one-shot.
	for _, name := range sortedNames(p) {
		for dep, d := range p.Services[name].DependsOn {
			target := service(t, p, dep)
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
					t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if !slices.Contains(oneShots, dep) {
					t.Errorf("%s waits for %s to complete, which is not a one-shot", name, dep)
				}
			}
		}
	}
}

func TestHealthchecks(t *testing.T) {
	p := mustLoad(t, testEnv)
	for _, name := range longRunning {
		hc := service(t, p, name).HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 || hc.Test[0] == "NONE" {
			t.Errorf("%s has no healthcheck", name)
			continue
		}
		if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil {
			t.Errorf("%s healthcheck: set interval, timeout and retries", name)
		}
	}
	for _, name := range oneShots {
		if hc := p.Services[name].HealthCheck; hc != nil && !hc.Disable && len(hc.Test) > 0 {
			t.Errorf("one-shot %s has a healthcheck", name)
		}
	}
	// Curio services probe through the binary in the image (distroless has no curl), on the
	// address they actually serve.
	for _, s := range curioServices(t, p) {
		if slices.Contains(oneShots, s.Name) {
			continue
		}
		test := s.HealthCheck.Test
		if len(test) != 4 || test[0] != "CMD" || test[1] != curioBinary || test[2] != "healthcheck" {
			t.Errorf("%s healthcheck %q, want [CMD %s healthcheck URL]", s.Name, test, curioBinary)
			continue
		}
		addrVar := "CURIO_HEALTH_ADDR"
		if s.Name == "api" {
			addrVar = "CURIO_HTTP_ADDR"
		}
		addr, ok := env(s)[addrVar]
		if !ok {
			t.Errorf("%s: healthcheck needs %s", s.Name, addrVar)
			continue
		}
		_, port := splitHostPort(t, s.Name+" "+addrVar, addr)
		want := "http://127.0.0.1:" + strconv.Itoa(port) + "/readyz" // readiness, not mere liveness
		if test[3] != want {
			t.Errorf("%s probes %s but serves on %s=%s (want %s)", s.Name, test[3], addrVar, addr, want)
		}
	}
	if b, err := os.ReadFile("../cli/cli.go"); err == nil && !strings.Contains(string(b), `"healthcheck"`) {
		t.Errorf("compose probes run `curio healthcheck URL`, which the curio command line (cli) does not implement")
	}
}

func TestVolumes(t *testing.T) {
	p := mustLoad(t, testEnv)
	used := map[string]bool{}
	for _, name := range sortedNames(p) {
		for _, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeVolume {
				t.Errorf("%s mounts %s %q: use named volumes", name, v.Type, v.Source)
				continue
			}
			if _, ok := p.Volumes[v.Source]; !ok {
				t.Errorf("%s mounts undeclared volume %q", name, v.Source)
			}
			used[v.Source] = true
		}
	}
	for v := range p.Volumes {
		if !used[v] {
			t.Errorf("volume %q is declared but unused", v)
		}
	}
	for name, target := range dataServices {
		found := false
		for _, v := range service(t, p, name).Volumes {
			found = found || (v.Type == types.VolumeTypeVolume && v.Target == target)
		}
		if !found {
			t.Errorf("%s keeps its state in %s, which is not on a named volume", name, target)
		}
	}
	// Kafka must write where its volume is.
	if got := env(p.Services["kafka"])["KAFKA_LOG_DIRS"]; got != dataServices["kafka"] {
		t.Errorf("KAFKA_LOG_DIRS=%q, want the volume %s", got, dataServices["kafka"])
	}
}

// goConst returns the value of the string constant name declared in the Go package in dir. It
// reads the source, so it works while other packages are mid-edit.
func goConst(t *testing.T, dir, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			continue
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						return v
					}
				}
			}
		}
	}
	t.Fatalf("const %s not found in %s", name, dir)
	return ""
}

func TestKafka(t *testing.T) {
	p := mustLoad(t, testEnv)
	init := env(service(t, p, "kafka-init"))
	if init["PARTITIONS"] != "3" {
		t.Errorf("kafka-init PARTITIONS=%q, want 3", init["PARTITIONS"])
	}
	if got := env(p.Services["kafka"])["KAFKA_NUM_PARTITIONS"]; got != "3" {
		t.Errorf("KAFKA_NUM_PARTITIONS=%q, want 3", got)
	}
	script := strings.Join(p.Services["kafka-init"].Command, " ")
	for _, want := range []string{`--partitions "$PARTITIONS"`, `--topic "$topic"`, `--bootstrap-server "$BOOTSTRAP"`, "--if-not-exists"} {
		if !strings.Contains(script, want) {
			t.Errorf("kafka-init script lacks %s:\n%s", want, script)
		}
	}
	topics := strings.Fields(init["TOPICS"])
	for _, want := range []string{
		goConst(t, "../internal/ingest", "TopicEvents"),
		goConst(t, "../internal/ingest", "TopicDeadLetters"),
		goConst(t, "../internal/kafka", "TopicCatalogVersions"),
	} {
		if !slices.Contains(topics, want) {
			t.Errorf("kafka-init does not create %q (topics %v)", want, topics)
		}
	}

	// Listeners: containers use the advertised inter-broker listener, which must name the service.
	k := env(p.Services["kafka"])
	advertised := map[string]string{}
	for _, l := range strings.Split(k["KAFKA_ADVERTISED_LISTENERS"], ",") {
		name, addr, ok := strings.Cut(l, "://")
		if !ok {
			t.Fatalf("bad advertised listener %q", l)
		}
		advertised[name] = addr
	}
	internal := advertised[k["KAFKA_INTER_BROKER_LISTENER_NAME"]]
	if host, _ := splitHostPort(t, "kafka internal listener", internal); host != "kafka" {
		t.Errorf("internal listener advertises %q, want the service name kafka", internal)
	}
	if init["BOOTSTRAP"] != internal {
		t.Errorf("kafka-init BOOTSTRAP=%q, want %q", init["BOOTSTRAP"], internal)
	}
	for _, l := range strings.Split(k["KAFKA_LISTENERS"], ",") {
		name, addr, _ := strings.Cut(l, "://")
		if _, ok := advertised[name]; ok {
			_, lp := splitHostPort(t, "listener", addr)
			_, ap := splitHostPort(t, "advertised listener", advertised[name])
			if lp != ap {
				t.Errorf("listener %s listens on %d but advertises %d", name, lp, ap)
			}
		}
	}
	if _, hp := splitHostPort(t, "host listener", advertised["HOST"]); strconv.Itoa(hp) != p.Services["kafka"].Ports[0].Published {
		t.Errorf("HOST listener advertises port %d, published %s", hp, p.Services["kafka"].Ports[0].Published)
	}
	for _, s := range curioServices(t, p) {
		e := env(s)
		c, err := config.FromLookup(lookup(e))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.KafkaBrokers) != 1 || c.KafkaBrokers[0] != internal {
			t.Errorf("%s: CURIO_KAFKA_BROKERS=%q, want %q", s.Name, e["CURIO_KAFKA_BROKERS"], internal)
		}
	}
}

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestCurioEnvKnownToConfig checks that every CURIO_* variable set on a curio service is one the
// binary reads, and that the whole environment parses.
func TestCurioEnvKnownToConfig(t *testing.T) {
	p := mustLoad(t, testEnv)
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
	}
	for _, s := range curioServices(t, p) {
		e := env(s)
		for k := range e {
			switch {
			case known[k]:
			case strings.HasPrefix(k, "CURIO_"):
				t.Errorf("%s sets %s, which internal/config does not read (typo?)", s.Name, k)
			default:
				t.Errorf("%s sets %s: curio reads only CURIO_* variables", s.Name, k)
			}
		}
		c, err := config.FromLookup(lookup(e))
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		// Distributed roles must never fall back to embedded services.
		if c.TemporalHostPort == "" || len(c.KafkaBrokers) == 0 || c.PostgresDSN == "" || c.MySQLDSN == "" {
			t.Errorf("%s would start embedded services: %+v", s.Name, c)
		}
		if c.LogFormat != "json" {
			t.Errorf("%s: log format %q, want json", s.Name, c.LogFormat)
		}
	}
	// Non-curio services must not carry curio configuration by accident.
	img := p.Services["api"].Image
	for _, name := range sortedNames(p) {
		if s := p.Services[name]; s.Image != img {
			for k := range s.Environment {
				if strings.HasPrefix(k, "CURIO_") {
					t.Errorf("%s (not a curio service) sets %s", name, k)
				}
			}
		}
	}
}

// TestCurioEnvPointsAtServices checks that the addresses and credentials curio services get are the
// ones the other services provide. It runs with every secret set to a sentinel, so a literal secret
// anywhere would not match.
func TestCurioEnvPointsAtServices(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"defaults", testEnv},
		{"secrets from env", sentinelEnv()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustLoad(t, tc.env)
			pg := env(service(t, p, "postgres"))
			my := env(service(t, p, "mysql"))
			tpg := env(service(t, p, "temporal-postgres"))
			ns := env(service(t, p, "temporal-namespace"))["NAMESPACE"]

			for _, s := range curioServices(t, p) {
				c, err := config.FromLookup(lookup(env(s)))
				if err != nil {
					t.Fatalf("%s: %v", s.Name, err)
				}
				host, port := splitHostPort(t, "CURIO_TEMPORAL_HOSTPORT", c.TemporalHostPort)
				if _, ok := p.Services[host]; !ok || host != "temporal" || port != 7233 {
					t.Errorf("%s: CURIO_TEMPORAL_HOSTPORT=%q, want temporal:7233", s.Name, c.TemporalHostPort)
				}
				if c.TemporalNamespace != ns {
					t.Errorf("%s: namespace %q, but temporal-namespace creates %q", s.Name, c.TemporalNamespace, ns)
				}

				pc, err := pgconn.ParseConfig(c.PostgresDSN)
				if err != nil {
					t.Fatalf("%s: CURIO_POSTGRES_DSN: %v", s.Name, err)
				}
				if pc.Host != "postgres" || pc.Port != 5432 || pc.User != pg["POSTGRES_USER"] ||
					pc.Password != pg["POSTGRES_PASSWORD"] || pc.Database != pg["POSTGRES_DB"] {
					t.Errorf("%s: CURIO_POSTGRES_DSN is %s@%s:%d/%s (password match %v); postgres creates %s/%s",
						s.Name, pc.User, pc.Host, pc.Port, pc.Database, pc.Password == pg["POSTGRES_PASSWORD"], pg["POSTGRES_USER"], pg["POSTGRES_DB"])
				}

				mc, err := mysql.ParseDSN(c.MySQLDSN)
				if err != nil {
					t.Fatalf("%s: CURIO_MYSQL_DSN: %v", s.Name, err)
				}
				if mc.Net != "tcp" || mc.Addr != "mysql:3306" || mc.User != my["MARIADB_USER"] ||
					mc.Passwd != my["MARIADB_PASSWORD"] || mc.DBName != my["MARIADB_DATABASE"] {
					t.Errorf("%s: CURIO_MYSQL_DSN is %s@%s(%s)/%s (password match %v); mysql creates %s/%s",
						s.Name, mc.User, mc.Net, mc.Addr, mc.DBName, mc.Passwd == my["MARIADB_PASSWORD"], my["MARIADB_USER"], my["MARIADB_DATABASE"])
				}
			}

			// Temporal's persistence: server and schema job use temporal-postgres's credentials and
			// the same databases.
			ts := env(service(t, p, "temporal"))
			if ts["DB"] != "postgres12" || ts["POSTGRES_SEEDS"] != "temporal-postgres" || ts["DB_PORT"] != "5432" ||
				ts["POSTGRES_USER"] != tpg["POSTGRES_USER"] || ts["POSTGRES_PWD"] != tpg["POSTGRES_PASSWORD"] {
				t.Errorf("temporal persistence env does not match temporal-postgres: %v", ts)
			}
			sj := env(service(t, p, "temporal-schema"))
			if sj["SQL_PLUGIN"] != ts["DB"] || sj["SQL_HOST"] != ts["POSTGRES_SEEDS"] || sj["SQL_PORT"] != ts["DB_PORT"] ||
				sj["SQL_USER"] != ts["POSTGRES_USER"] || sj["SQL_PASSWORD"] != ts["POSTGRES_PWD"] {
				t.Errorf("temporal-schema env does not match the server's persistence: %v", sj)
			}
			script := strings.Join(p.Services["temporal-schema"].Command, " ")
			for _, db := range []string{ts["DBNAME"], ts["VISIBILITY_DBNAME"]} {
				if db == "" || !strings.Contains(script, "--db "+db+" create-database") || !strings.Contains(script, "--db "+db+" update-schema") {
					t.Errorf("temporal-schema does not create and migrate database %q", db)
				}
			}
			for _, name := range []string{"temporal-ui", "temporal-namespace"} {
				if a := env(p.Services[name])["TEMPORAL_ADDRESS"]; a != "temporal:7233" {
					t.Errorf("%s TEMPORAL_ADDRESS=%q, want temporal:7233", name, a)
				}
			}

			if tc.name == "secrets from env" {
				checkNoLiteralSecrets(t, p, tc.env)
			}
		})
	}
}

func sentinelEnv() map[string]string {
	m := map[string]string{}
	for _, v := range secretVars {
		m[v] = "sentinel-" + strings.ToLower(strings.ReplaceAll(v, "_", "-"))
	}
	m["CURIO_ALERT_WEBHOOKS"] = "generic=https://" + m["CURIO_ALERT_WEBHOOKS"] + ".example/hook" // must parse
	return m
}

// checkNoLiteralSecrets: with every secret variable set to a sentinel, every secret-looking value in
// the project must be one of the sentinels.
func checkNoLiteralSecrets(t *testing.T, p *types.Project, sentinels map[string]string) {
	t.Helper()
	isSentinel := func(v string) bool {
		for _, s := range sentinels {
			if v == s {
				return true
			}
		}
		return false
	}
	secretKey := regexp.MustCompile(`(PASSWORD|PWD|TOKEN|SECRET)$`)
	for _, name := range sortedNames(p) {
		s := p.Services[name]
		for k, v := range env(s) {
			if secretKey.MatchString(k) && !isSentinel(v) {
				t.Errorf("%s: %s is not taken from the environment", name, k)
			}
		}
		e := env(s)
		if dsn, ok := e["CURIO_POSTGRES_DSN"]; ok {
			if pc, err := pgconn.ParseConfig(dsn); err != nil || !isSentinel(pc.Password) {
				t.Errorf("%s: CURIO_POSTGRES_DSN password is not taken from the environment", name)
			}
		}
		if dsn, ok := e["CURIO_MYSQL_DSN"]; ok {
			if mc, err := mysql.ParseDSN(dsn); err != nil || !isSentinel(mc.Passwd) {
				t.Errorf("%s: CURIO_MYSQL_DSN password is not taken from the environment", name)
			}
		}
	}
	if got := env(p.Services["api"])["CURIO_ADMIN_TOKEN"]; got != sentinels["CURIO_ADMIN_TOKEN"] {
		t.Errorf("api CURIO_ADMIN_TOKEN=%q, want it from the environment", got)
	}
}

func TestAdminTokenRequired(t *testing.T) {
	for _, e := range []map[string]string{{}, {"CURIO_ADMIN_TOKEN": ""}} {
		_, err := load(t, e)
		if err == nil || !strings.Contains(err.Error(), "CURIO_ADMIN_TOKEN") {
			t.Errorf("env %v: want an error naming CURIO_ADMIN_TOKEN, got %v", e, err)
		}
	}
}

func TestWorkers(t *testing.T) {
	p := mustLoad(t, testEnv)
	ids := map[string]string{}
	for _, name := range workers {
		s := service(t, p, name)
		cmd := s.Command
		if len(cmd) != 3 || cmd[0] != "worker" || cmd[1] != "--identity" || cmd[2] == "" {
			t.Errorf("%s command %q, want [worker --identity NAME]", name, cmd)
			continue
		}
		if other, dup := ids[cmd[2]]; dup {
			t.Errorf("%s and %s share identity %q", name, other, cmd[2])
		}
		ids[cmd[2]] = name
		c, err := config.FromLookup(lookup(env(s)))
		if err != nil {
			t.Fatal(err)
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= c.ShutdownGrace {
			t.Errorf("%s: stop_grace_period %v must exceed CURIO_SHUTDOWN_GRACE %v, or docker kills in-flight shards", name, s.StopGracePeriod, c.ShutdownGrace)
		}
		if c.TaskQueue != "curio-batch" {
			t.Errorf("%s: task queue %q", name, c.TaskQueue)
		}
	}
	// The one-shots use subcommands and flags the binary has.
	wantCmd := map[string][]string{
		"migrate":   {"migrate"},
		"schedules": {"schedules", "apply"},
		"api":       {"api"},
	}
	for name, want := range wantCmd {
		if got := p.Services[name].Command; !slices.Equal(got, want) {
			t.Errorf("%s command %q, want %q", name, got, want)
		}
	}
	if c := p.Services["ingest"].Command; len(c) < 2 || c[0] != "run" || c[1] != "IngestEvents" || !slices.Contains(c, "--no-wait") {
		t.Errorf("ingest command %q", c)
	}
	if c := p.Services["catalog-pipeline"].Command; len(c) < 2 || c[0] != "run" || c[1] != "CatalogPipeline" {
		t.Errorf("catalog-pipeline command %q", c)
	}
	if c := p.Services["events-generator"].Command; len(c) < 2 || c[0] != "events" || c[1] != "generate" {
		t.Errorf("events-generator command %q", c)
	} else {
		for i := 2; i+1 < len(c); i += 2 {
			if v, err := strconv.ParseFloat(c[i+1], 64); err != nil || v <= 0 || !slices.Contains([]string{"--rate", "--users"}, c[i]) {
				t.Errorf("events-generator flag %s %s", c[i], c[i+1])
			}
		}
	}
}

// TestExampleEnvCoversVariables: every variable compose.yaml interpolates is documented in
// example.env, and example.env ships no secret values.
func TestExampleEnvCoversVariables(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("example.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented, err := dotenv.ParseWithLookup(f, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("example.env: %v", err)
	}
	// ${VAR...} not preceded by another $ ($$ escapes).
	re := regexp.MustCompile(`(^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)`)
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		seen[m[2]] = true
		if _, ok := documented[m[2]]; !ok {
			t.Errorf("compose.yaml uses ${%s}, which example.env does not document", m[2])
		}
	}
	for k := range documented {
		if !seen[k] {
			t.Errorf("example.env documents %s, which compose.yaml does not use", k)
		}
	}
	// Defaults live in compose.yaml only; example.env documents them in comments.
	for k, v := range documented {
		if v != "" {
			t.Errorf("example.env sets %s=%q; leave it empty (the default is in compose.yaml)", k, v)
		}
	}
	for _, k := range secretVars {
		if !seen[k] {
			t.Errorf("secret variable %s is not used by compose.yaml", k)
		}
		if documented[k] != "" {
			t.Errorf("example.env sets a value for secret %s", k)
		}
	}
	// A copy of example.env as it ships must not satisfy the required token.
	if _, err := load(t, documented); err == nil {
		t.Error("compose.yaml loads with example.env's empty CURIO_ADMIN_TOKEN")
	}
}

// dockerfileStage is one FROM ... stage with its instructions (continuations joined).
type dockerfileStage struct {
	from, name string
	instrs     []string
}

func parseDockerfile(t *testing.T, path string) []dockerfileStage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerfileStage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		fields := strings.Fields(line)
		if strings.EqualFold(fields[0], "FROM") {
			st := dockerfileStage{}
			args := fields[1:]
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				args = args[1:]
			}
			if len(args) > 0 {
				st.from = args[0]
			}
			if len(args) == 3 && strings.EqualFold(args[1], "AS") {
				st.name = args[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			return // ARG before FROM
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, line)
	}
	for _, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func instr(st dockerfileStage, name string) []string {
	var out []string
	for _, i := range st.instrs {
		if f := strings.Fields(i); len(f) > 0 && strings.EqualFold(f[0], name) {
			out = append(out, strings.TrimSpace(i[len(f[0]):]))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// Build stage: golang image whose version matches go.mod's go line.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)\s*$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("no go line in go.mod")
	}
	goVersion := string(m[1])
	img, tag, _ := strings.Cut(build.from, ":")
	if img != "golang" && img != "docker.io/library/golang" {
		t.Fatalf("build stage FROM %s, want golang", build.from)
	}
	tagVersion, _, _ := strings.Cut(tag, "-")
	majorMinor := strings.Join(strings.Split(goVersion, ".")[:2], ".")
	if tagVersion != goVersion && tagVersion != majorMinor {
		t.Errorf("build stage uses Go %q, go.mod says go %s", tagVersion, goVersion)
	}
	buildText := strings.Join(build.instrs, "\n")
	if !strings.Contains(buildText, "CGO_ENABLED=0") {
		t.Error("build stage does not set CGO_ENABLED=0, but the runtime image is static")
	}
	if !strings.Contains(buildText, "--mount=type=cache,target=/go/pkg/mod") {
		t.Error("build stage does not cache the module download")
	}
	if !strings.Contains(buildText, "./cmd/curio") {
		t.Error("build stage does not build ./cmd/curio")
	}

	// Final stage: the curio binary is the entrypoint, copied from the build stage, run as non-root.
	ep := instr(final, "ENTRYPOINT")
	if len(ep) != 1 || ep[0] != `["`+curioBinary+`"]` {
		t.Errorf("final ENTRYPOINT %s, want [%q]", strings.Join(ep, " | "), curioBinary)
	}
	copied := false
	for _, c := range instr(final, "COPY") {
		f := strings.Fields(c)
		copied = copied || (slices.Contains(f, "--from="+build.name) && f[len(f)-1] == curioBinary)
	}
	if build.name == "" || !copied {
		t.Errorf("final stage does not COPY --from=%s the binary to %s", build.name, curioBinary)
	}
	users := instr(final, "USER")
	if len(users) == 0 {
		t.Error("final stage runs as root (no USER)")
	} else if u, _, _ := strings.Cut(users[len(users)-1], ":"); u == "root" || u == "0" {
		t.Errorf("final stage USER %s is root", users[len(users)-1])
	}

	// The exposed port is the API's port in the image and in compose.
	expose := instr(final, "EXPOSE")
	p := mustLoad(t, testEnv)
	_, apiPort := splitHostPort(t, "api CURIO_HTTP_ADDR", env(p.Services["api"])["CURIO_HTTP_ADDR"])
	if len(expose) != 1 || expose[0] != strconv.Itoa(apiPort) {
		t.Errorf("EXPOSE %q, want %d (the API's port)", expose, apiPort)
	}
	if e := strings.Join(instr(final, "ENV"), " "); !strings.Contains(e, "CURIO_HTTP_ADDR=0.0.0.0:"+strconv.Itoa(apiPort)) {
		t.Errorf("image ENV %q does not listen on 0.0.0.0:%d", e, apiPort)
	}
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
	}
	for _, e := range instr(final, "ENV") {
		for _, kv := range strings.Fields(e) {
			if k, _, ok := strings.Cut(kv, "="); ok && !known[k] {
				t.Errorf("image sets %s, which internal/config does not read", k)
			}
		}
	}

	// Compose builds this Dockerfile from the module root.
	for _, s := range curioServices(t, p) {
		if s.Build == nil {
			t.Errorf("%s has no build section", s.Name)
			continue
		}
		if _, err := os.Stat(filepath.Join(s.Build.Context, "go.mod")); err != nil {
			t.Errorf("%s builds from %s, which is not the module root", s.Name, s.Build.Context)
		}
		df := s.Build.Dockerfile
		if !filepath.IsAbs(df) {
			df = filepath.Join(s.Build.Context, df)
		}
		if abs, _ := filepath.Abs("Dockerfile"); filepath.Clean(df) != abs {
			t.Errorf("%s builds %s, want docker/Dockerfile", s.Name, df)
		}
		if len(s.Entrypoint) > 0 {
			t.Errorf("%s overrides the curio entrypoint with %q", s.Name, s.Entrypoint)
		}
	}
}

// TestDockerignoreKeepsSources: the build context filter must not drop what the build needs.
func TestDockerignoreKeepsSources(t *testing.T) {
	b, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		pat := strings.TrimPrefix(strings.TrimSpace(line), "/")
		if pat == "" || strings.HasPrefix(pat, "#") || strings.HasPrefix(pat, "!") {
			continue
		}
		for _, keep := range []string{"go.mod", "go.sum", "cmd", "cmd/curio", "cli", "pipeline", "internal", "frontend", "api", "worker", "workflows", "activities", "scrapers"} {
			if ok, _ := filepath.Match(pat, keep); ok || pat == keep {
				t.Errorf("Dockerfile.dockerignore pattern %q excludes %s", line, keep)
			}
		}
	}
}
