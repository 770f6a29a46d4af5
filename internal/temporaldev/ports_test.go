package temporaldev

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestDerivePortsMatchesTemporalDefaults(t *testing.T) {
	got := derivePorts(7233)
	want := portLayout{
		frontend: servicePort{7233, 6933},
		history:  servicePort{7234, 6934},
		matching: servicePort{7235, 6935},
		worker:   servicePort{7239, 6939},
	}
	if got != want {
		t.Fatalf("derivePorts(7233) = %+v, want %+v", got, want)
	}
}

func TestFixedPortsInUse(t *testing.T) {
	var frontend int
	var busy net.Listener
	for range 20 { // a frontend port whose history port we can take
		p, err := freePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if busy, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+historyOffset))); err == nil {
			frontend = p
			break
		}
	}
	if busy == nil {
		t.Fatal("no port to occupy")
	}
	defer busy.Close()
	_, err := fixedPorts("127.0.0.1", frontend)
	if err == nil || !strings.Contains(err.Error(), "CURIO_TEMPORAL_ADDR") || !strings.Contains(err.Error(), "history gRPC") {
		t.Fatalf("fixedPorts with the history port taken: %v", err)
	}
}

func TestFixedPortsOutOfRange(t *testing.T) {
	for _, p := range []int{100, 65533} {
		if _, err := fixedPorts("127.0.0.1", p); err == nil || !strings.Contains(err.Error(), "CURIO_TEMPORAL_ADDR") {
			t.Errorf("fixedPorts(%d): %v", p, err)
		}
	}
}
