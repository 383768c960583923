package artifact

import (
	"io"
	"os"
)

// LinkOrCopy makes dst, which must not exist, a hard link to src, or a copy
// of it where links are not possible (another file system). It is how a
// staging folder takes a file of a committed artifact without rewriting it.
func LinkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
