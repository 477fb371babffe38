package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// download is one file to fetch: its address and the MD5 to check (of the archive, or for FashionMNIST of the
// decompressed content).
type download struct {
	url, md5 string
}

// The official sources. Tests point them at a local server.
var (
	fashionBase = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	cifarSource = map[string]download{
		CIFAR10:  {"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"},
		CIFAR100: {"https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"},
	}
	cifarExtras = map[string][]string{
		CIFAR10:  {"batches.meta.txt"},
		CIFAR100: {"fine_label_names.txt", "coarse_label_names.txt"},
	}
)

// Datasets lists the names Fetch knows.
func Datasets() []string { return []string{FashionMNIST, CIFAR10, CIFAR100} }

// Fetch downloads a data set into dir (normally Dir()), checks its MD5, and for CIFAR extracts only the
// expected files of the archive. Nothing already in place is downloaded again. Progress lines go to log.
func Fetch(ctx context.Context, name, dir string, log io.Writer) error {
	switch name {
	case FashionMNIST:
		return fetchFashion(ctx, filepath.Join(dir, FashionMNIST), log)
	case CIFAR10, CIFAR100:
		return fetchCIFAR(ctx, name, dir, log)
	}
	return fmt.Errorf("fetch: unknown data set %q; known: %s", name, strings.Join(Datasets(), ", "))
}

func fetchFashion(ctx context.Context, dir string, log io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	for _, split := range []string{"train", "test"} {
		for _, f := range fashionFiles[split] {
			dst := filepath.Join(dir, f.name+".gz")
			if raw, err := readMaybeGzip(dst); err == nil && md5Hex(raw) == f.md5 {
				fmt.Fprintf(log, "fetch: %s is already in place\n", dst)
				continue
			}
			tmp, err := get(ctx, fashionBase+f.name+".gz", dir, log)
			if err != nil {
				return err
			}
			raw, err := readMaybeGzip(tmp + ".gz")
			if err != nil {
				err = fmt.Errorf("fetch: %s%s.gz: not the gzip file expected (truncated, or a page instead of the "+
					"file): %v; run the command again", fashionBase, f.name, errors.Unwrap(err))
			} else if md5Hex(raw) != f.md5 {
				err = fmt.Errorf("fetch: %s%s.gz: MD5 of the content is %s, expected %s: the download is corrupted; "+
					"run the command again", fashionBase, f.name, md5Hex(raw), f.md5)
			}
			if err != nil {
				os.Remove(tmp + ".gz")
				return err
			}
			if err := os.Rename(tmp+".gz", dst); err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
		}
	}
	return nil
}

func fetchCIFAR(ctx context.Context, name, dir string, log io.Writer) error {
	layout, src := cifarLayouts[name], cifarSource[name]
	out := filepath.Join(dir, layout.dir)
	if m, err := readManifest(out); err == nil && m != nil {
		fmt.Fprintf(log, "fetch: %s is already in place (delete it to fetch again)\n", out)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	tmp, err := get(ctx, src.url, dir, log)
	if err != nil {
		return err
	}
	archive := tmp + ".gz"
	defer os.Remove(archive)
	if sum, err := fileMD5(archive); err != nil || sum != src.md5 {
		return fmt.Errorf("fetch: %s: MD5 %s, expected %s: the download is corrupted or truncated; run the command "+
			"again", src.url, sum, src.md5)
	}
	want := slices.Concat(layout.splits["train"], layout.splits["test"], cifarExtras[name])
	manifest, err := extract(archive, layout.dir, want, out)
	if err != nil {
		return err
	}
	if err := writeManifest(out, manifest); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}

// maxCIFARFile is the size of the largest file of the CIFAR archives (CIFAR-100's train.bin: 50 000 records of 2
// label bytes and 3 072 pixels): extract refuses a larger entry before writing any of it.
const maxCIFARFile = 50000 * (2 + 3072)

// extract copies the listed files of the tar.gz archive's folder prefix into out, refusing anything else (other
// names, links, paths that leave the folder), and returns their MD5s. It fails unless every listed file was found.
func extract(archive, prefix string, names []string, out string) (map[string]string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("fetch: %s is not a gzip archive: %w", archive, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	manifest := map[string]string{}
	tr := tar.NewReader(z)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fetch: reading %s: %w", archive, err)
		}
		clean := path.Clean(h.Name)
		dir, base := path.Split(clean)
		if path.Clean(dir) != prefix || !slices.Contains(names, base) || h.Typeflag != tar.TypeReg {
			continue // not one of the expected files: never written
		}
		if h.Size > maxCIFARFile {
			return nil, fmt.Errorf("fetch: %s: %s would be %d bytes, more than the %d of CIFAR's largest file: not "+
				"the expected archive (nothing of it was written)", archive, base, h.Size, maxCIFARFile)
		}
		dst := filepath.Join(out, base)
		tmp := dst + ".part"
		w, err := os.Create(tmp)
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		hash := md5.New()
		_, err = io.Copy(io.MultiWriter(w, hash), io.LimitReader(tr, h.Size))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, dst)
		}
		if err != nil {
			os.Remove(tmp)
			return nil, fmt.Errorf("fetch: extracting %s: %w", base, err)
		}
		manifest[base] = hex.EncodeToString(hash.Sum(nil))
	}
	for _, n := range names {
		if _, ok := manifest[n]; !ok {
			return nil, fmt.Errorf("fetch: %s lacks %s/%s: not the expected archive", archive, prefix, n)
		}
	}
	return manifest, nil
}

// Limits of a download. A stalled, trickling or endless server must not hang a fetch or fill the disk:
// connecting and getting the response's headers each have a deadline, the body must keep arriving (no gap longer
// than stallTimeout) at a useful rate (at least minRate bytes per second over each slowWindow: a server sending a
// byte every few seconds would otherwise never end), and it may not exceed maxDownload — every real file is below
// 170 MB, which at minRate would take about 4 hours. Tests shorten them.
var (
	connectTimeout = 30 * time.Second
	headerTimeout  = 60 * time.Second
	stallTimeout   = 60 * time.Second
	slowWindow     = 2 * time.Minute
	minRate        = int64(10 << 10)
	maxDownload    = int64(512 << 20)
)

// tempPrefix names the files a download is written to before it is checked; leftovers of a killed fetch are
// removed by the next fetch into the same directory.
const tempPrefix = ".download-"

// client is the HTTP client of downloads, with the connection deadlines above.
func client() *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout}
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, DialContext: dialer.DialContext, TLSHandshakeTimeout: connectTimeout,
		ResponseHeaderTimeout: headerTimeout,
	}}
}

// removeLeftovers removes the temporary files of fetches into dir that were killed: those no download has
// written to for longer than a stalled download would be allowed to wait.
func removeLeftovers(dir string) {
	leftovers, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, p := range leftovers {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 2*stallTimeout {
			os.Remove(p)
		}
	}
}

// get downloads url into a new file in dir (readable by all, as the data files are) and returns its name without
// the ".gz" suffix it was given. Cancelling ctx (e.g. on SIGTERM), a stall, an oversized body or a web page
// instead of the file stop it with an error naming url, and the partial file is removed.
func get(ctx context.Context, url, dir string, log io.Writer) (string, error) {
	removeLeftovers(dir)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("fetch: %w", err)
	}
	resp, err := client().Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch: downloading %s: %w (is this machine online?)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch: downloading %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
		return "", fmt.Errorf("fetch: %s answered with a web page (%s), not the data file: the address may have "+
			"moved or a proxy may need a login; download the file by hand into %s (see datasets/README.md)", url, ct, dir)
	}
	if resp.ContentLength > maxDownload {
		return "", fmt.Errorf("fetch: %s is %d bytes, more than the %d a data file can be: not the expected file",
			url, resp.ContentLength, maxDownload)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("fetch: %w", err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", err
	}
	stall := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	start, last := time.Now(), time.Now()
	var n int64
	windowStart, windowBytes := start, int64(0) // the rate check's window: since when, and n then
	buf := make([]byte, 1<<20)
	for {
		k, rerr := resp.Body.Read(buf)
		if w := time.Since(windowStart); w >= slowWindow {
			if got := n + int64(k) - windowBytes; float64(got) < float64(minRate)*w.Seconds() {
				return fail(fmt.Errorf("fetch: downloading %s: too slow, %d bytes in the last %s (less than %d "+
					"bytes/s) after %d bytes; run the command again later, or download the file by hand into %s "+
					"(see datasets/README.md)", url, got, w.Round(time.Second), minRate, n, dir))
			}
			windowStart, windowBytes = time.Now(), n+int64(k)
		}
		if k > 0 {
			stall.Reset(stallTimeout)
			if n += int64(k); n > maxDownload {
				return fail(fmt.Errorf("fetch: %s sent more than %d bytes, more than a data file can be: not the "+
					"expected file", url, maxDownload))
			}
			if _, err := f.Write(buf[:k]); err != nil {
				return fail(fmt.Errorf("fetch: writing %s: %w", url, err))
			}
			if time.Since(last) > 5*time.Second {
				last = time.Now()
				fmt.Fprintf(log, "fetch: %s: %.0f MB of %.0f MB\n", url, float64(n)/1e6, float64(resp.ContentLength)/1e6)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if cause := context.Cause(ctx); cause != nil {
				rerr = cause
			}
			return fail(fmt.Errorf("fetch: downloading %s: %w after %d bytes", url, rerr, n))
		}
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(fmt.Errorf("fetch: %w", err))
	}
	if err := f.Close(); err != nil {
		return fail(fmt.Errorf("fetch: %w", err))
	}
	fmt.Fprintf(log, "fetch: %s: %.1f MB in %s\n", url, float64(n)/1e6, time.Since(start).Round(time.Second))
	if err := os.Rename(name, name+".gz"); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("fetch: %w", err)
	}
	return name, nil
}

// errStalled is the cause of a download cancelled because its server stopped sending.
var errStalled = fmt.Errorf("the server sent nothing for %s (stalled); run the command again", stallTimeout)

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func fileMD5(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
