//go:build !linux

package artifact

import "errors"

// exchange reports that atomic exchange is not available on this system.
func exchange(a, b string) error { return errors.ErrUnsupported }
