//go:build !unix

package proc

import "os/exec"

// setGroup: without process groups the timeout kills the tool itself.
func setGroup(cmd *exec.Cmd) {}
