package filters

import (
	"time"

	"github.com/sprocketrun/sprocket/liquid/filter"
)

// Strftime formats t as Ruby's Time#strftime does, through the standard
// date filter's implementation. Mechanic's times are ActiveSupport
// TimeWithZone values, for which UTC is a zone like any other: %-z is
// "+0000", not the "-0000" of a bare Ruby UTC Time.
func Strftime(t time.Time, format string) (string, error) {
	if t.Location() == time.UTC {
		t = t.In(time.FixedZone("UTC", 0))
	}
	return filter.Strftime(t, format)
}
