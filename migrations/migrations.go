// Package migrations holds Suishen's database schema as goose SQL migrations,
// embedded in the binary: one directory per dialect, with the same version
// numbers in both, so a version names the same schema on either backend.
//
// The backends (store/postgres, store/sqlite) run them with goose's Provider
// API; nothing here runs on import.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations under the directory "postgres".
//
//go:embed postgres/*.sql
var Postgres embed.FS

// SQLite holds the SQLite migrations under the directory "sqlite".
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Directory names inside the embedded file systems, for fs.Sub.
const (
	PostgresDir = "postgres"
	SQLiteDir   = "sqlite"
)
