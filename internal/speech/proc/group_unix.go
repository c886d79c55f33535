//go:build unix

package proc

import (
	"os/exec"
	"syscall"
)

// setGroup starts the tool in its own process group and makes the
// timeout kill the whole group (a tool's children die with it).
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
