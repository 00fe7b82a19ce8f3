package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawConn is a minimal keep-alive HTTP/1.1 client for POST requests to
// one URL, in the manner of wrk: the request head is built once and the
// response is parsed only as far as needed, so the load generator costs
// little of the CPU the service shares with it.
type rawConn struct {
	addr string
	head []byte // request line and headers up to "Content-Length: "
	body []byte // default body
	buf  []byte
	c    net.Conn
	r    *bufio.Reader
}

// newRawConn prepares POST requests to rawURL (http only), by default with body.
func newRawConn(rawURL string, body []byte) (*rawConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return nil, fmt.Errorf("raw client: bad URL %q", rawURL)
	}
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: ", u.RequestURI(), u.Host)
	return &rawConn{addr: u.Host, head: head, body: body}, nil
}

func (rc *rawConn) close() {
	if rc.c != nil {
		_ = rc.c.Close()
		rc.c, rc.r = nil, nil
	}
}

// post sends the default body and returns the latency; a non-2xx status
// or a broken connection is an error (the connection is then re-dialled).
func (rc *rawConn) post() (time.Duration, error) { return rc.postBody(rc.body) }

// postBody sends body and returns the latency, as post does.
func (rc *rawConn) postBody(body []byte) (time.Duration, error) {
	start := time.Now()
	rc.buf = append(rc.buf[:0], rc.head...)
	rc.buf = strconv.AppendInt(rc.buf, int64(len(body)), 10)
	rc.buf = append(rc.buf, "\r\n\r\n"...)
	rc.buf = append(rc.buf, body...)
	status, err := rc.roundTrip()
	if err != nil {
		rc.close()
		return 0, err
	}
	if status/100 != 2 {
		return 0, fmt.Errorf("status %d", status)
	}
	return time.Since(start), nil
}

func (rc *rawConn) roundTrip() (int, error) {
	if rc.c == nil {
		c, err := net.Dial("tcp", rc.addr)
		if err != nil {
			return 0, fmt.Errorf("dial: %w", err)
		}
		rc.c, rc.r = c, bufio.NewReaderSize(c, 4096)
	}
	if _, err := rc.c.Write(rc.buf); err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, closeAfter := 0, false
	for {
		h, err := rc.r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("read header: %w", err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			return 0, errors.New("chunked responses are not supported")
		case bytes.EqualFold(k, []byte("Connection")) && bytes.EqualFold(v, []byte("close")):
			closeAfter = true
		}
	}
	if length > 0 {
		if _, err := rc.r.Discard(length); err != nil {
			return 0, fmt.Errorf("read body: %w", err)
		}
	}
	if closeAfter {
		rc.close()
	}
	return status, nil
}
