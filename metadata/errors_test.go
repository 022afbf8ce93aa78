package metadata_test

import (
	"errors"
	"testing"

	"github.com/connectkit/connect/metadata"
)

func TestValueError(t *testing.T) {
	err := error(&metadata.ValueError{Input: "workspace", Err: metadata.ErrMissing})
	if got, want := err.Error(), "metadata: workspace: value required"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, metadata.ErrMissing) || errors.Is(err, metadata.ErrInvalidValue) {
		t.Errorf("errors.Is(ErrMissing, ErrInvalidValue) = %v, %v; want true, false",
			errors.Is(err, metadata.ErrMissing), errors.Is(err, metadata.ErrInvalidValue))
	}
}
