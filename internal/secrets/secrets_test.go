package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, err := LoadOrCreate(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAEXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "wJalr") {
		t.Fatalf("sealed value contains the plaintext: %s", sealed)
	}
	got, err := s.Open(sealed, "AKIAEXAMPLE")
	if err != nil || got != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "AKIAOTHER"); err == nil {
		t.Fatal("a sealed secret opened under another key ID")
	}
	other, _ := New(make([]byte, 32))
	if _, err := other.Open(sealed, "AKIAEXAMPLE"); err == nil {
		t.Fatal("a sealed secret opened with another master key")
	}
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:abcd", "v1:YWJj"} {
		if _, err := s.Open(bad, "AKIAEXAMPLE"); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreate(dir, "")
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("second load gave another key (%v)", err)
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, ""); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
	// The environment wins over the file.
	env := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	k3, err := LoadOrCreate(dir, env)
	if err != nil || k3[31] != 31 {
		t.Fatalf("env key: %v", err)
	}
	for _, bad := range []string{"short", "AAEC", "not base64!!"} {
		if _, err := LoadOrCreate(dir, bad); err == nil {
			t.Errorf("LoadOrCreate(env=%q) succeeded", bad)
		}
	}
}
