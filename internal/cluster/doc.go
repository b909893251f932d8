// Package cluster holds the multi-node test: three real ringgate processes
// on one PostgreSQL schema, behind no load balancer, driven over HTTP. It
// has no code of its own; the nodes' cooperation lives in server (NOTIFY
// and LISTEN) and store/sqldb (locks, SKIP LOCKED, leases).
package cluster
