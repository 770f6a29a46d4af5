package cluster

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proxy forwards TCP connections from a listen address to a target, in the test process.
// It brings the loopback-only databases to the cluster's hosts (cut closes its listener and
// its connections: that host has lost the database) and, with a delay, adds latency.
type proxy struct {
	addr, target string
	// delay, when set, holds back every chunk the target sends by delay ± jitter (in order),
	// like netem on the target's host.
	delay, jitter time.Duration

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func startProxy(t *testing.T, addr, target string, delay, jitter time.Duration) *proxy {
	t.Helper()
	p := &proxy{addr: addr, target: target, delay: delay, jitter: jitter, conns: map[net.Conn]struct{}{}}
	if err := p.listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) listen() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return nil
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *proxy) serve(client net.Conn) {
	if !p.track(client) {
		_ = client.Close()
		return
	}
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		_ = server.Close()
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() {
		if p.delay > 0 {
			p.copyDelayed(client, server)
		} else {
			_, _ = io.Copy(client, server)
		}
		done <- struct{}{}
	}()
	<-done // either side closing ends both
}

// copyDelayed copies src to dst, delivering each chunk delay ± jitter after it was read,
// never before an earlier chunk.
func (p *proxy) copyDelayed(dst, src net.Conn) {
	type chunk struct {
		b   []byte
		due time.Time
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		var last time.Time
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				d := p.delay
				if p.jitter > 0 {
					d += time.Duration(rand.Int64N(int64(2*p.jitter))) - p.jitter
				}
				due := time.Now().Add(d)
				if due.Before(last) {
					due = last
				}
				last = due
				ch <- chunk{buf[:n], due}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			_ = src.Close()
			for range ch { // let the reader finish
			}
			return
		}
	}
}

// cut closes the listener and every proxied connection: new connections are refused.
func (p *proxy) cut() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
}

// restore listens again on the same address.
func (p *proxy) restore(t *testing.T) {
	t.Helper()
	var err error
	for range 50 { // the closed listener's port may take a moment to be free again
		if err = p.listen(); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
}
