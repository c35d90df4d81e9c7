// The Go peer of scripts/bench-peers: the same servers and micro-benchmarks
// as the C and tokio ones, written the usual Go way (a goroutine per
// connection, blocking calls on net.Conn). Standard library only.
//
//	peers-go echo         echo server: a goroutine per connection reads up to
//	                      4 KiB and writes it back
//	peers-go http         HTTP/1.1 keep-alive "hello" server: a goroutine per
//	                      connection reads up to 4 KiB, counts the header ends
//	                      ("\r\n\r\n", state carried across reads) and answers
//	                      them with one write of as many fixed responses, as
//	                      bench/peers/http_server.c does (not net/http: every
//	                      server of the suite does the same minimal work)
//	peers-go spawn N      N x (go f() + WaitGroup.Wait), one after the other
//	peers-go yield N      two goroutines each call runtime.Gosched N times
//	                      (GOMAXPROCS=1); ns per round trip A->B->A
//
// Servers listen on 127.0.0.1 on a port the kernel picks, print one line
// "LISTEN port=P pid=N mode=go" and run until killed (they exit by
// themselves after ECHO_SERVER_LIFETIME seconds, default 600). Go sets
// TCP_NODELAY on every connection by default. The micro-benchmarks print
// one line "RESULT key=value ...". GOMAXPROCS is taken from the environment
// (the suite sets 2).
package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
const batch = 64

var responses = bytes.Repeat([]byte(response), batch)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// countRequests counts the header ends in b, carrying the match state.
func countRequests(b []byte, state *int) int {
	const end = "\r\n\r\n"
	s, k := *state, 0
	for _, ch := range b {
		if ch == end[s] {
			s++
			if s == 4 {
				k++
				s = 0
			}
		} else if ch == '\r' {
			s = 1
		} else {
			s = 0
		}
	}
	*state = s
	return k
}

func hello(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	state := 0
	for {
		n, err := c.Read(buf)
		for k := countRequests(buf[:n], &state); k > 0; {
			b := k
			if b > batch {
				b = batch
			}
			if _, werr := c.Write(responses[:b*len(response)]); werr != nil {
				return
			}
			k -= b
		}
		if err != nil {
			return
		}
	}
}

func serve(handler func(net.Conn)) {
	life := 600
	if v, err := strconv.Atoi(os.Getenv("ECHO_SERVER_LIFETIME")); err == nil {
		life = v
	}
	time.AfterFunc(time.Duration(life)*time.Second, func() { os.Exit(1) })
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers-go: listen:", err)
		os.Exit(1)
	}
	fmt.Printf("LISTEN port=%d pid=%d mode=go\n", ln.Addr().(*net.TCPAddr).Port, os.Getpid())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			// out of fds and the like: Go's own http server backs off too
			fmt.Fprintln(os.Stderr, "peers-go: accept:", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go handler(c)
	}
}

func spawn(n int) {
	var wg sync.WaitGroup
	warm := n / 10
	if warm > 1000 {
		warm = 1000
	}
	var t0 time.Time
	for i := -warm; i < n; i++ {
		if i == 0 {
			t0 = time.Now()
		}
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
	dt := time.Since(t0)
	fmt.Printf("RESULT mode=spawn n=%d total_ns=%d ns_each=%.1f gomaxprocs=%d\n",
		n, dt.Nanoseconds(), float64(dt.Nanoseconds())/float64(n), runtime.GOMAXPROCS(0))
}

func yield(n int) {
	runtime.GOMAXPROCS(1)
	var last int32
	var wg sync.WaitGroup
	misses := make([]int, 3)
	pinger := func(me int32) {
		defer wg.Done()
		for i := 0; i < n; i++ {
			last = me
			runtime.Gosched()
			if last == me {
				misses[me]++
			}
		}
	}
	t0 := time.Now()
	wg.Add(2)
	go pinger(1)
	go pinger(2)
	wg.Wait()
	dt := time.Since(t0)
	fmt.Printf("RESULT mode=yield n=%d total_ns=%d ns_per_roundtrip=%.2f not_alternating=%d\n",
		n, dt.Nanoseconds(), float64(dt.Nanoseconds())/float64(n), misses[1]+misses[2])
}

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	n := 0
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	switch {
	case mode == "echo":
		serve(echo)
	case mode == "http":
		serve(hello)
	case mode == "spawn" && n > 0:
		spawn(n)
	case mode == "yield" && n > 0:
		yield(n)
	default:
		fmt.Fprintln(os.Stderr, "usage: peers-go echo | http | spawn N | yield N")
		os.Exit(2)
	}
}
