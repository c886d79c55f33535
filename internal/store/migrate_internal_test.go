package store

import (
	"reflect"
	"testing"
)

func TestSplitStatementsDriver(t *testing.T) {
	got := splitStatements(`-- a comment
CREATE TABLE a (x BIGINT);
-- driver: sqlite
CREATE TABLE b (x INTEGER PRIMARY KEY) WITHOUT ROWID;

-- driver: postgres
-- what it does
CREATE TABLE b (
    x BIGINT PRIMARY KEY
);
INSERT INTO a (x) VALUES (1)`)
	want := []statement{
		{"CREATE TABLE a (x BIGINT)", ""},
		{"CREATE TABLE b (x INTEGER PRIMARY KEY) WITHOUT ROWID", "sqlite"},
		{"CREATE TABLE b (\n    x BIGINT PRIMARY KEY\n)", "postgres"},
		{"INSERT INTO a (x) VALUES (1)", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("splitStatements:\n got %q\nwant %q", got, want)
	}
}
