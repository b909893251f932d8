package logsample

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFloodIsBoundedAndSuppressedLinesAreReported(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), 1, 3)
	now := time.Unix(1000, 0)
	written := 0
	for i := 0; i < 20000; i++ {
		if l.logAt(context.Background(), now, slog.LevelWarn, "refused") {
			written++
		}
	}
	if written != 3 {
		t.Fatalf("20,000 refusals in one instant wrote %d lines, want the burst of 3", written)
	}
	if !l.logAt(context.Background(), now.Add(time.Second), slog.LevelWarn, "refused") {
		t.Fatal("a line a second later was not written")
	}
	if !strings.Contains(buf.String(), "suppressed=19997") {
		t.Fatalf("the next line does not report what was suppressed:\n%s", buf.String())
	}
}

func TestDisabledLevelIsNotCounted(t *testing.T) {
	l := New(slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError})), 1, 1)
	l.Log(context.Background(), slog.LevelDebug, "x")
	if l.Suppressed() != 0 {
		t.Fatal("a disabled level counted as suppressed")
	}
}
