package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database at path to dst (which
// must not exist) with VACUUM INTO: it reads one snapshot of the WAL-mode
// database, so it is safe while ringgate runs and writes, and the copy is
// a compact database file that Open can use as it is.
func Backup(ctx context.Context, path, dst string) error {
	if err := checkPath(path); err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("backup: %s exists; give a new file", dst)
	}
	db, err := sql.Open("sqlite", path+"?"+commonParams)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	return nil
}
