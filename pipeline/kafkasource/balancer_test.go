package kafkasource

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// TestCoPartitionBalancer feeds the balancer partitions in a different
// shuffled order per topic (as metadata lists them) and checks that every
// member owns the same partition numbers of every topic, every partition
// is owned exactly once, and the numbers are spread evenly.
func TestCoPartitionBalancer(t *testing.T) {
	topics := []string{"sync.exchange-connector", "sync.engine", "sync.c4cc-connector"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ members, partitions int }{{1, 3}, {2, 3}, {3, 3}, {2, 12}, {5, 12}, {4, 3}} {
		t.Run(fmt.Sprintf("%dmembers_%dpartitions", tc.members, tc.partitions), func(t *testing.T) {
			var parts []kafka.Partition
			for _, tp := range topics {
				for _, p := range r.Perm(tc.partitions) {
					parts = append(parts, kafka.Partition{Topic: tp, ID: p})
				}
			}
			var members []kafka.GroupMember
			for _, i := range r.Perm(tc.members) {
				members = append(members, kafka.GroupMember{ID: fmt.Sprintf("member-%d", i), Topics: topics})
			}
			got := coPartitionBalancer{}.AssignGroups(members, parts)
			owned := map[string]int{}
			counts := map[int]bool{}
			for id, byTopic := range got {
				var first []int
				for i, tp := range topics {
					if i == 0 {
						first = byTopic[tp]
					}
					require.Equal(t, first, byTopic[tp], "%s: same partition numbers of every topic", id)
					for _, p := range byTopic[tp] {
						owned[fmt.Sprintf("%s/%d", tp, p)]++
					}
				}
				counts[len(first)] = true
			}
			require.Len(t, owned, len(parts), "every partition assigned")
			for p, n := range owned {
				require.Equal(t, 1, n, "%s assigned once", p)
			}
			lo, hi := tc.partitions/tc.members, (tc.partitions+tc.members-1)/tc.members
			for n := range counts {
				require.True(t, n == lo || n == hi, "a member owns %d partition numbers, want %d or %d", n, lo, hi)
			}
		})
	}
}

// TestCoPartitionBalancerMixedSubscriptions: a member that does not
// subscribe a topic never gets its partitions.
func TestCoPartitionBalancerMixedSubscriptions(t *testing.T) {
	members := []kafka.GroupMember{
		{ID: "a", Topics: []string{"x", "y"}},
		{ID: "b", Topics: []string{"x"}},
	}
	parts := []kafka.Partition{{Topic: "x", ID: 0}, {Topic: "x", ID: 1}, {Topic: "y", ID: 1}, {Topic: "y", ID: 0}}
	got := coPartitionBalancer{}.AssignGroups(members, parts)
	require.Equal(t, map[string][]int{"x": {0}, "y": {0, 1}}, got["a"])
	require.Equal(t, map[string][]int{"x": {1}}, got["b"])
}
