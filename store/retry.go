package store

import "time"

// RetrySchedule lists the delays before each automatic retry: the delay
// after attempt n (1-based) is element n-1; once the list is exhausted the
// run fails for good, so a schedule of length k allows k+1 attempts.
type RetrySchedule []time.Duration

// DefaultRetrySchedule returns Mechanic's automatic retry delays: 4 retries
// (5 attempts) after about 0:30, 1:16, 2:32 and 5:08.
func DefaultRetrySchedule() RetrySchedule {
	return RetrySchedule{30 * time.Second, 76 * time.Second, 152 * time.Second, 308 * time.Second}
}

// Next returns the delay before the retry that follows the given attempt,
// and false when no retry is left.
func (s RetrySchedule) Next(attempt int) (time.Duration, bool) {
	if attempt < 1 || attempt > len(s) {
		return 0, false
	}
	return s[attempt-1], true
}

// MaxAttempts returns how many attempts the schedule allows.
func (s RetrySchedule) MaxAttempts() int { return len(s) + 1 }
