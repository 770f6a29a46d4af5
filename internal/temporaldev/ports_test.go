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
	// Other tests (other packages) open ports meanwhile: a derived port other than the one
	// taken here may be busy too, so a frontend whose check trips on another port is skipped.
	var last error
	for range 20 { // a frontend port whose history port we can take
		p, err := freePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		busy, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+historyOffset)))
		if err != nil {
			continue
		}
		_, last = fixedPorts("127.0.0.1", p)
		busy.Close()
		if last == nil || !strings.Contains(last.Error(), "CURIO_TEMPORAL_ADDR") {
			t.Fatalf("fixedPorts with the history port taken: %v", last)
		}
		if strings.Contains(last.Error(), "history gRPC") {
			return
		}
	}
	t.Fatalf("fixedPorts never named the taken history port: %v", last)
}

func TestFixedPortsOutOfRange(t *testing.T) {
	for _, p := range []int{100, 65533} {
		if _, err := fixedPorts("127.0.0.1", p); err == nil || !strings.Contains(err.Error(), "CURIO_TEMPORAL_ADDR") {
			t.Errorf("fixedPorts(%d): %v", p, err)
		}
	}
}

func TestRandomPortsAreDistinctAndOutsideTheEphemeralRange(t *testing.T) {
	eph := ephemeralLow()
	for range 50 {
		front, err := freePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		l, err := randomPorts("127.0.0.1", front)
		if err != nil {
			t.Fatal(err)
		}
		ports := l.ports()
		seen := map[int]bool{}
		for _, p := range ports {
			if seen[p] {
				t.Fatalf("port %d twice in %v", p, ports)
			}
			seen[p] = true
			if eph-lowPort >= minPortSpan && (p < lowPort || p >= eph) {
				t.Errorf("port %d outside [%d, %d): the kernel may hand it to an outgoing connection", p, lowPort, eph)
			}
		}
	}
}
