package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shortLimits makes stalls and sizes quick to reach, for the duration of a test.
func shortLimits(t *testing.T) {
	t.Helper()
	saved := [4]time.Duration{connectTimeout, headerTimeout, stallTimeout, slowWindow}
	savedMax, savedRate := maxDownload, minRate
	t.Cleanup(func() {
		connectTimeout, headerTimeout, stallTimeout, slowWindow = saved[0], saved[1], saved[2], saved[3]
		maxDownload, minRate = savedMax, savedRate
	})
	connectTimeout, headerTimeout, stallTimeout, maxDownload = time.Second, time.Second, 300*time.Millisecond, 1<<20
	slowWindow, minRate = 600*time.Millisecond, 1000
}

// noTemporaries fails if a download left a temporary file in dir.
func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Faulty servers stop a download with an error naming the address, never a hang, a full disk or a temporary
// file: one that stalls after a few bytes (it hung for 10+ minutes), one that never answers, one that streams
// forever (it filled the disk), one that trickles a byte at a time, never stalling (it never ended), one that
// announces too much, a web page instead of the file, and a download cancelled as SIGTERM cancels `revsgd fetch`
// (it left a .download-* file).
func TestDownloadFaults(t *testing.T) {
	shortLimits(t)
	endless := bytes.Repeat([]byte{7}, 64<<10)
	handlers := map[string]http.HandlerFunc{
		"/stall": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("some bytes"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		"/silent": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"/endless": func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				if _, err := w.Write(endless); err != nil {
					return
				}
			}
		},
		"/huge": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000000000")
			w.Write([]byte("x"))
		},
		"/page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><p>Please log in</p>"))
		},
		"/trickle": func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				w.Write([]byte("x"))
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond) // within the stall deadline, far below the rate
			}
		},
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				w.Write([]byte("x"))
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
			}
		},
	}
	mux := http.NewServeMux()
	for p, h := range handlers {
		mux.HandleFunc(p, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, c := range []struct {
		path, want string
		cancel     bool
	}{
		{"/stall", "stalled", false},
		{"/silent", "timeout awaiting response headers", false},
		{"/endless", "more than 1048576 bytes", false},
		{"/huge", "more than the 1048576 a data file can be", false},
		{"/page", "answered with a web page", false},
		{"/trickle", "too slow", false},
		{"/slow", "context canceled", true},
	} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		if c.cancel {
			time.AfterFunc(200*time.Millisecond, cancel)
		}
		start := time.Now()
		_, err := get(ctx, srv.URL+c.path, dir, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), srv.URL+c.path) {
			t.Errorf("%s: %v, want an error naming the address and containing %q", c.path, err, c.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %s", c.path, d)
		}
		noTemporaries(t, dir)
	}
}

// A truncated gzip file or a page served as a file is refused with an error naming the address, not a temporary
// file that is already deleted.
func TestFetchFashionNamesTheAddressOfABadFile(t *testing.T) {
	shortLimits(t)
	var full bytes.Buffer
	z := gzip.NewWriter(&full)
	z.Write(bytes.Repeat([]byte("idx"), 10000))
	z.Close()
	for _, body := range [][]byte{full.Bytes()[:full.Len()/2], []byte("<html>moved</html>")} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(body)
		}))
		saved := fashionBase
		fashionBase = srv.URL + "/"
		dir := t.TempDir()
		err := Fetch(context.Background(), FashionMNIST, dir, io.Discard)
		fashionBase = saved
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), srv.URL+"/train-images-idx3-ubyte.gz") || strings.Contains(err.Error(), tempPrefix) {
			t.Errorf("%d bytes: %v, want an error naming the address and no temporary file", len(body), err)
		}
		noTemporaries(t, filepath.Join(dir, FashionMNIST))
	}
}

// The temporary files of a fetch that was killed are removed by the next fetch into the directory; those of a
// download in progress elsewhere (written to recently) are left alone.
func TestKilledFetchLeftoversAreRemoved(t *testing.T) {
	shortLimits(t)
	dir := t.TempDir()
	old, fresh := filepath.Join(dir, tempPrefix+"killed"), filepath.Join(dir, tempPrefix+"running")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-time.Hour)
	os.Chtimes(old, long, long)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("data")) }))
	defer srv.Close()
	name, err := get(context.Background(), srv.URL+"/f.gz", dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(name + ".gz")
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the killed fetch's file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a running download's file was removed: %v", err)
	}
}
