package operator_test

import (
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
)

// The console's figures: conversion counts ended verifications only, the
// median is of start-to-verified times, cost is attempts × price over
// users verified, and each start lands in its time bucket.
func TestAggregate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	row := func(ch verify.Channel, st verify.Status, at, took time.Duration) verify.StatRow {
		r := verify.StatRow{Channel: ch, Country: "GB", Status: st, CreatedAt: t0.Add(at)}
		if st != verify.StatusPending {
			r.CompletedAt = r.CreatedAt.Add(took)
		}
		return r
	}
	rows := []verify.StatRow{
		row(verify.ChannelMissedCall, verify.StatusVerified, 0, 4*time.Second),
		row(verify.ChannelMissedCall, verify.StatusVerified, 10*time.Minute, 8*time.Second),
		row(verify.ChannelMissedCall, verify.StatusVerified, 70*time.Minute, 30*time.Second),
		row(verify.ChannelMissedCall, verify.StatusExpired, 75*time.Minute, time.Minute),
		row(verify.ChannelMissedCall, verify.StatusPending, 80*time.Minute, 0),
		row(verify.ChannelSMSOTP, verify.StatusVerified, 5*time.Minute, 20*time.Second),
		row(verify.ChannelSMSOTP, verify.StatusFailed, 6*time.Minute, 0),
		row(verify.ChannelSMSOTP, verify.StatusVerified, -time.Minute, time.Second), // before the window
	}
	price := map[verify.Channel]float64{verify.ChannelMissedCall: 0.001, verify.ChannelSMSOTP: 0.05}
	st := operator.Aggregate(rows, operator.StatsQuery{
		Since: t0, Until: t0.Add(2 * time.Hour), Bucket: time.Hour,
		Price: func(ch verify.Channel, _ string) float64 { return price[ch] },
	})
	if len(st.Channels) != 2 || len(st.Series) != 2 {
		t.Fatalf("channels %v, %d points", st.Channels, len(st.Series))
	}
	mc, sms := st.Channels[0], st.Channels[1]
	if mc.Channel != verify.ChannelMissedCall || mc.Started != 5 || mc.Verified != 3 || mc.Pending != 1 || mc.Conversion != 0.75 || mc.MedianSeconds != 8 {
		t.Errorf("missed call: %+v", mc)
	}
	if d := mc.CostPerVerified - 0.005/3; d > 1e-12 || d < -1e-12 {
		t.Errorf("missed call cost per verified %v, want %v", mc.CostPerVerified, 0.005/3)
	}
	if sms.Started != 2 || sms.Verified != 1 || sms.Conversion != 0.5 || sms.MedianSeconds != 20 || sms.CostPerVerified != 0.1 {
		t.Errorf("sms: %+v", sms)
	}
	if p := st.Series[0]; p.Started[verify.ChannelMissedCall] != 2 || p.Started[verify.ChannelSMSOTP] != 2 || p.Verified[verify.ChannelSMSOTP] != 1 {
		t.Errorf("first hour: %+v", p)
	}
	if p := st.Series[1]; p.Started[verify.ChannelMissedCall] != 3 || p.Verified[verify.ChannelMissedCall] != 1 {
		t.Errorf("second hour: %+v", p)
	}
}

// The time chart's buckets come from the data: ten minutes of traffic in a
// 24-hour window are one-minute points from the first verification on,
// not 24 hourly points mostly empty; sandbox rows are counted apart.
func TestAutoBucketAndSandbox(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var rows []verify.StatRow
	for i := range 10 {
		rows = append(rows, verify.StatRow{AppID: "a", Channel: verify.ChannelSMSOTP, Status: verify.StatusVerified,
			CreatedAt: now.Add(-time.Duration(10-i) * time.Minute), CompletedAt: now.Add(-time.Duration(10-i)*time.Minute + time.Second), Sandbox: i%2 == 0})
	}
	since, bucket := operator.AutoBucket(rows, now.Add(-24*time.Hour), now)
	if bucket != time.Minute || !since.Equal(now.Add(-10*time.Minute)) {
		t.Fatalf("bucket %v from %v", bucket, since)
	}
	if _, b := operator.AutoBucket(rows[:1], now.Add(-30*24*time.Hour), now.Add(20*24*time.Hour)); b != 12*time.Hour { // 480 h in 40 points
		t.Fatalf("a 20-day span: bucket %v", b)
	}
	live := operator.Aggregate(rows, operator.StatsQuery{Since: since, Until: now, Bucket: bucket})
	if live.SandboxRows != 5 || live.Channels[0].Started != 5 || live.Channels[0].Ended != 5 {
		t.Fatalf("live only: %+v", live)
	}
	all := operator.Aggregate(rows, operator.StatsQuery{Since: since, Until: now, Bucket: bucket, Sandbox: true})
	if all.Channels[0].Started != 10 || !all.Sandbox || len(all.Series) != 10 {
		t.Fatalf("with sandbox: %+v", all)
	}
}
