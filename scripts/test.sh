#!/usr/bin/env bash
# The project's test command (README "Tests"): static checks, then every package's tests
# against the real PostgreSQL and MariaDB named by CURIO_TEST_POSTGRES_DSN /
# CURIO_TEST_MYSQL_DSN (defaults: the local servers), then the race detector on the
# packages that run concurrent code.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.curio/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...

echo "== staticcheck"
SC="$(go env GOPATH)/bin/staticcheck"
[ -x "$SC" ] || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
"$SC" ./...

echo "== workflowcheck (non-deterministic calls in workflow code)"
WC_VERSION=v0.6.0
WC="$(go env GOPATH)/bin/workflowcheck"
go version -m "$WC" 2>/dev/null | grep -q "workflowcheck[[:space:]]*$WC_VERSION" ||
  go install "go.temporal.io/sdk/contrib/tools/workflowcheck@$WC_VERSION"
"$WC" -config scripts/workflowcheck.yaml ./workflows/... ./internal/pools/...

echo "== go test"
go test -count=1 -timeout 20m ./...

echo "== go test -race (concurrent packages)"
go test -race -count=1 -timeout 20m ./api/... ./activities/... ./internal/search/... ./internal/serving/... \
  ./internal/kafka/... ./internal/ingest/... ./internal/storage/... ./internal/importer/... ./internal/demo/... \
  ./internal/similar/... ./internal/pagerank/... ./internal/adtarget/... ./internal/topics/... ./internal/terms/... \
  ./scrapers/... ./cmd/... ./cli/... ./pipeline/... ./internal/automation/... ./internal/alerts/... ./internal/pools/... \
  ./internal/runs/... ./internal/drain/...
