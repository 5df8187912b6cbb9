// Package cdp is a small Chrome DevTools Protocol client over
// --remote-debugging-pipe, for tests: enough to watch a page change over
// time (--dump-dom sees one moment). Chromium reads CDP messages, each
// ended by a NUL byte, on its fd 3 and writes its replies and events on
// fd 4.
package cdp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// RequireChromium returns the chromium binary: a test skips on a
// developer's machine without it and fails in CI (CI=true), where .ci/run
// installs it (as cmd/replay's report test does).
func RequireChromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is not installed; .ci/run should have installed it")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping")
	}
	return p
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Browser is a headless Chromium driven over the pipe.
type Browser struct {
	cmd    *exec.Cmd
	out    *os.File // its fd 3
	stderr syncBuffer
	read   chan struct{} // closed when fd 4 ends

	mu         sync.Mutex
	next       int
	pending    map[int]chan cdpMessage
	exceptions []string // uncaught exceptions of the pages' scripts
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start starts Chromium; it is closed when the test ends.
func Start(t *testing.T, bin string) *Browser {
	t.Helper()
	toChrome, ourEnd, err := os.Pipe() // chromium reads toChrome (its fd 3)
	require.NoError(t, err)
	fromChrome, theirEnd, err := os.Pipe() // chromium writes theirEnd (its fd 4)
	require.NoError(t, err)
	b := &Browser{out: ourEnd, read: make(chan struct{}), pending: map[int]chan cdpMessage{}}
	b.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
		"--user-data-dir="+t.TempDir(), "--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-sync", "--hide-scrollbars", "--mute-audio",
		"--window-size=1280,900", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toChrome, theirEnd}
	b.cmd.Stderr = &b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers too end with it
	require.NoError(t, b.cmd.Start())
	toChrome.Close()
	theirEnd.Close()
	go b.readLoop(fromChrome)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.call(ctx, "", "Browser.close", nil, nil)
		exited := make(chan struct{})
		go func() { b.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) // the group this test started
			<-exited
		}
		ourEnd.Close()
		fromChrome.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", b.stderr.String())
		}
	})
	return b
}

func (b *Browser) readLoop(f *os.File) {
	defer close(b.read)
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if c := b.pending[m.ID]; c != nil {
				delete(b.pending, m.ID)
				c <- m
			}
		} else if m.Method == "Runtime.exceptionThrown" {
			var p struct {
				ExceptionDetails struct {
					Text      string `json:"text"`
					Exception struct {
						Description string `json:"description"`
					} `json:"exception"`
				} `json:"exceptionDetails"`
			}
			json.Unmarshal(m.Params, &p)
			b.exceptions = append(b.exceptions, p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		}
		b.mu.Unlock()
	}
}

// call sends method with params (to a page's session, or to the browser
// with session "") and decodes its result into result.
func (b *Browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	c := make(chan cdpMessage, 1)
	b.pending[id] = c
	b.mu.Unlock()
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	if params == nil {
		p = []byte("{}")
	}
	msg, err := json.Marshal(cdpMessage{ID: id, Method: method, Params: p, SessionID: session})
	if err != nil {
		return err
	}
	if _, err := b.out.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-c:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-b.read:
		return fmt.Errorf("%s: chromium closed the pipe", method)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Exceptions are the uncaught exceptions of the pages' scripts so far.
func (b *Browser) Exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.exceptions...)
}

// Tab is a page target attached with a flat session.
type Tab struct {
	t       *testing.T
	b       *Browser
	session string
}

// NewTab opens a page with a viewport of width x height CSS pixels (a
// phone's, with mobile).
func (b *Browser) NewTab(t *testing.T, width, height int, mobile bool) *Tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var target struct {
		TargetID string `json:"targetId"`
	}
	require.NoError(t, b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	var att struct {
		SessionID string `json:"sessionId"`
	}
	require.NoError(t, b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att))
	tb := &Tab{t: t, b: b, session: att.SessionID}
	tb.Do("Page.enable", nil, nil)
	tb.Do("Runtime.enable", nil, nil)
	tb.Do("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}, nil)
	return tb
}

// Do calls method on the page, failing the test on an error.
func (tb *Tab) Do(method string, params, result any) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(tb.t, tb.b.call(ctx, tb.session, method, params, result))
}

// Navigate loads url in the page.
func (tb *Tab) Navigate(url string) {
	tb.t.Helper()
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	tb.Do("Page.navigate", map[string]any{"url": url}, &nav)
	require.Empty(tb.t, nav.ErrorText, url)
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value into out.
func (tb *Tab) Eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := tb.b.call(ctx, tb.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return errors.New(expr + ": " + r.ExceptionDetails.Text)
	}
	if len(r.Result.Value) == 0 {
		return errors.New(expr + ": no value")
	}
	return json.Unmarshal(r.Result.Value, out)
}

// Value evaluates expr, failing the test on an error.
func Value[T any](tb *Tab, expr string) T {
	tb.t.Helper()
	var v T
	require.NoError(tb.t, tb.Eval(expr, &v))
	return v
}

// WaitFor polls expr, a boolean expression, until it is true; it returns
// how long that took, or fails the test after timeout.
func (tb *Tab) WaitFor(expr string, timeout time.Duration) time.Duration {
	tb.t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		var ok bool
		if last = tb.Eval(expr, &ok); last == nil && ok {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.t.Fatalf("not true after %v: %s (last error: %v)", timeout, expr, last)
	return 0
}

// Screenshot captures the whole page as a PNG.
func (tb *Tab) Screenshot() []byte {
	tb.t.Helper()
	var m struct {
		CSSContentSize struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	tb.Do("Page.getLayoutMetrics", nil, &m)
	var shot struct {
		Data string `json:"data"`
	}
	tb.Do("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.CSSContentSize.Width, "height": m.CSSContentSize.Height, "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	require.NoError(tb.t, err)
	return png
}
