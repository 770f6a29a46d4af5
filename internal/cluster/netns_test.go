package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Names every run's network objects start with, so a later run finds the leftovers of a
// crashed one: namespaces "curioc-<id>-<host>", links "cuc<id>br" (the bridge),
// "cuc<id>h<n>" (a host's veth, bridge side) and "cuc<id>n<n>" (its namespace side).
const (
	nsPrefix   = "curioc-"
	linkPrefix = "cuc"
	subnet     = "10.77.0"
	bridgeIP   = subnet + ".1"
	lockFile   = "/run/curio-cluster-test.lock"
)

// host is one machine of the test cluster: a network namespace with one address.
type host struct {
	name     string // svc, w1, w2, w3, api
	ns       string // network namespace
	ip       string
	vethHost string // bridge side: set down to cut the host off
	vethNS   string // namespace side
}

// network is a bridge in the root namespace and one namespace per host attached to it.
type network struct {
	id     string
	bridge string
	hosts  map[string]*host
}

// ipCmd runs `ip args...` and returns its combined output.
func ipCmd(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// canNetns reports why namespaces cannot be made here, "" when they can.
func canNetns() string {
	if os.Geteuid() != 0 {
		return "needs root to create network namespaces"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "needs the ip command (iproute2)"
	}
	probe := nsPrefix + "probe-" + strconv.Itoa(os.Getpid())
	if _, err := ipCmd("netns", "add", probe); err != nil {
		return "cannot create a network namespace: " + err.Error()
	}
	_, _ = ipCmd("netns", "del", probe)
	return ""
}

// lockRuns serialises cluster test runs on this machine (they share the subnet), which also
// makes everything with the run prefixes at start a leftover of a dead run.
func lockRuns(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("another cluster test run holds %s", lockFile)
		}
		time.Sleep(time.Second)
	}
	t.Cleanup(func() { _ = f.Close() }) // closing releases the lock
}

// removeLeftovers kills the processes in, and deletes, the namespaces and links of earlier
// runs (only called with the run lock held, so their runs are over).
func removeLeftovers(t *testing.T) {
	out, _ := ipCmd("netns", "list")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix) {
			continue
		}
		killNamespace(f[0])
		if _, err := ipCmd("netns", "del", f[0]); err != nil {
			t.Logf("leftover namespace %s: %v", f[0], err)
		} else {
			t.Logf("removed leftover namespace %s", f[0])
		}
	}
	out, _ = ipCmd("-o", "link", "show")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if strings.HasPrefix(name, linkPrefix) {
			if _, err := ipCmd("link", "del", name); err == nil {
				t.Logf("removed leftover link %s", name)
			}
		}
	}
}

// killNamespace SIGKILLs every process left in namespace ns.
func killNamespace(ns string) {
	out, _ := ipCmd("netns", "pids", ns)
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// newNetwork creates the bridge (bridgeIP/24) and one namespace per named host, with the
// given last octets. Cleanup deletes everything, whatever state the test left.
func newNetwork(t *testing.T, hosts []string, octets []int) *network {
	t.Helper()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	n := &network{id: hex.EncodeToString(b), hosts: map[string]*host{}}
	n.bridge = linkPrefix + n.id + "br"
	t.Cleanup(n.destroy)
	must := func(args ...string) {
		t.Helper()
		if _, err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	must("link", "add", n.bridge, "type", "bridge")
	must("addr", "add", bridgeIP+"/24", "dev", n.bridge)
	must("link", "set", n.bridge, "up")
	for i, name := range hosts {
		h := &host{name: name, ns: nsPrefix + n.id + "-" + name, ip: fmt.Sprintf("%s.%d", subnet, octets[i]),
			vethHost: fmt.Sprintf("%s%sh%d", linkPrefix, n.id, i), vethNS: fmt.Sprintf("%s%sn%d", linkPrefix, n.id, i)}
		n.hosts[name] = h
		must("netns", "add", h.ns)
		must("-n", h.ns, "link", "set", "lo", "up")
		must("link", "add", h.vethHost, "type", "veth", "peer", "name", h.vethNS, "netns", h.ns)
		must("link", "set", h.vethHost, "master", n.bridge)
		must("link", "set", h.vethHost, "up")
		must("-n", h.ns, "addr", "add", h.ip+"/24", "dev", h.vethNS)
		must("-n", h.ns, "link", "set", h.vethNS, "up")
	}
	return n
}

// destroy kills what runs in the namespaces and deletes them, their links and the bridge.
func (n *network) destroy() {
	for _, h := range n.hosts {
		killNamespace(h.ns)
		_, _ = ipCmd("netns", "del", h.ns) // deleting a namespace deletes its veth pair
		_, _ = ipCmd("link", "del", h.vethHost)
	}
	_, _ = ipCmd("link", "del", n.bridge)
}

// cut takes h's link down: packets to and from it are dropped (TCP stalls, nothing is
// refused), as when a machine drops off the network.
func (n *network) cut(t *testing.T, h *host) {
	t.Helper()
	if _, err := ipCmd("link", "set", h.vethHost, "down"); err != nil {
		t.Fatal(err)
	}
}

// heal brings h's link back.
func (n *network) heal(t *testing.T, h *host) {
	t.Helper()
	if _, err := ipCmd("link", "set", h.vethHost, "up"); err != nil {
		t.Fatal(err)
	}
}

// netem adds delay±jitter to everything h sends, when the kernel has the netem qdisc; it
// returns a function removing it, or an error (this kernel: "Specified qdisc kind is
// unknown"), in which case callers fall back to a delaying proxy.
func (n *network) netem(h *host, delay, jitter time.Duration) (func(), error) {
	args := []string{"netns", "exec", h.ns, "tc", "qdisc", "add", "dev", h.vethNS, "root", "netem",
		"delay", fmt.Sprintf("%dms", delay.Milliseconds()), fmt.Sprintf("%dms", jitter.Milliseconds())}
	if _, err := exec.LookPath("tc"); err != nil {
		return nil, fmt.Errorf("tc: %w", err)
	}
	if _, err := ipCmd(args...); err != nil {
		return nil, err
	}
	return func() { _, _ = ipCmd("netns", "exec", h.ns, "tc", "qdisc", "del", "dev", h.vethNS, "root") }, nil
}
