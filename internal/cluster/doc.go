// Package cluster holds Curio's multi-host tests: each host is a Linux network namespace
// with its own address on a bridge (svc runs `curio server --listen`, w1..w3 run
// `curio worker`, api runs `curio api`), PostgreSQL and MariaDB are reached through TCP
// proxies the test controls, and a host is cut off by taking its link down. The tests
// need root and `ip netns`; elsewhere they skip. Run them with
//
//	go test ./internal/cluster -v
//
// There is no code outside the tests: the package exists for them.
package cluster
