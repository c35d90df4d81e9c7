// A Go program built with cgo (dynamically linked, so LD_PRELOAD applies):
// goroutines, a TCP echo over loopback, sleeps, a child process, a signal
// to itself, and a call into C. Under the library it must run exactly as
// without it (the library recognises Go and stays out of the way).
package main

// #include <unistd.h>
import "C"

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	fmt.Println("cgo getpid matches:", int(C.getpid()) == os.Getpid())

	var wg sync.WaitGroup
	sum := make([]int, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Millisecond)
			sum[i] = i * i
		}(i)
	}
	wg.Wait()
	total := 0
	for _, v := range sum {
		total += v
	}
	fmt.Println("goroutines:", total)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(line))
				}
			}(c)
		}
	}()
	var ewg sync.WaitGroup
	good := make([]bool, 20)
	for k := 0; k < 20; k++ {
		ewg.Add(1)
		go func(k int) {
			defer ewg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			ok := true
			for j := 0; j < 50; j++ {
				msg := fmt.Sprintf("client %d message %d\n", k, j)
				c.Write([]byte(msg))
				got, err := r.ReadString('\n')
				ok = ok && err == nil && got == msg
			}
			good[k] = ok
		}(k)
	}
	ewg.Wait()
	n := 0
	for _, g := range good {
		if g {
			n++
		}
	}
	fmt.Println("echo clients ok:", n)

	out, err := exec.Command("sh", "-c", "echo child says hi; exit 3").Output()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	fmt.Printf("child: %q exit %d\n", string(out), code)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case s := <-sigs:
		fmt.Println("signal:", s)
	case <-time.After(5 * time.Second):
		fmt.Println("signal: not received")
	}
	os.Exit(4)
}
