package task

import "testing"

func TestKnownTopic(t *testing.T) {
	tests := []struct {
		topic string
		known bool
	}{
		{"user/orders/new", true},
		{"user/anything/goes", true},
		{"shopify/orders/create", true},
		{"shopify/products/update", true},
		{"shopify/orders/created", false},
		{"shopify/nonsense/happened", false},
		{"mechanic/user/trigger", true},
		{"mechanic/scheduler/daily", true},
		{"mechanic/scheduler/sunday", true},
		{"mechanic/scheduler/yearly", false},
		{"mechanic/shopify/bulk_operation", true},
		{"mechanic/actions/perform", true},
		{"mechanic/errors/task", true},
		{"Bad Topic", false},
	}
	for _, tc := range tests {
		if got := KnownTopic(tc.topic); got != tc.known {
			t.Errorf("KnownTopic(%q) = %v, want %v", tc.topic, got, tc.known)
		}
	}
}
