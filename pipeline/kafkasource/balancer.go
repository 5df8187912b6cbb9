package kafkasource

import (
	"cmp"
	"slices"

	"github.com/segmentio/kafka-go"
)

// coPartitionBalancer is the consumer group balancer of syncwatch's
// members: it gives partition number p of every log topic to the same
// member. Detection needs all three producers' entries of a mailbox in one
// place; producers key their messages by tenant/mailbox with the same
// partitioner and the topics have the same partition count, so a mailbox
// is on the same partition number of each topic, and this balancer keeps
// those partitions together.
//
// kafka-go's RangeGroupBalancer looks like it does the same but ranges over
// the partitions in the order the metadata lists them, which differs from
// topic to topic (segmentio/kafka-go#838; seen against kfake: one member
// got sync.engine 1 and 2 but sync.c4cc-connector 0 and 2).
//
// Members are ordered by id and partition numbers ascending; member i of n
// gets the numbers in [i*P/n, (i+1)*P/n), as a range assignor does. A
// partition number a member's subscription lacks goes to a subscribed
// member instead (members normally share one subscription).
type coPartitionBalancer struct{}

// ProtocolName implements kafka.GroupBalancer.
func (coPartitionBalancer) ProtocolName() string { return "syncwatch-copartition" }

// UserData implements kafka.GroupBalancer.
func (coPartitionBalancer) UserData() ([]byte, error) { return nil, nil }

// AssignGroups implements kafka.GroupBalancer.
func (coPartitionBalancer) AssignGroups(members []kafka.GroupMember, partitions []kafka.Partition) kafka.GroupMemberAssignments {
	out := kafka.GroupMemberAssignments{}
	if len(members) == 0 {
		return out
	}
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b kafka.GroupMember) int { return cmp.Compare(a.ID, b.ID) })
	var nums []int
	for _, p := range partitions {
		nums = append(nums, p.ID)
	}
	slices.Sort(nums)
	nums = slices.Compact(nums)
	owner := make(map[int]int, len(nums)) // partition number -> member index
	for i := range members {
		out[members[i].ID] = map[string][]int{}
		for _, n := range nums[i*len(nums)/len(members) : (i+1)*len(nums)/len(members)] {
			owner[n] = i
		}
	}
	sorted := slices.Clone(partitions)
	slices.SortFunc(sorted, func(a, b kafka.Partition) int {
		if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return a.ID - b.ID
	})
	for _, p := range sorted {
		m := members[owner[p.ID]]
		if !slices.Contains(m.Topics, p.Topic) {
			var subs []kafka.GroupMember
			for _, x := range members {
				if slices.Contains(x.Topics, p.Topic) {
					subs = append(subs, x)
				}
			}
			if len(subs) == 0 {
				continue
			}
			m = subs[p.ID%len(subs)]
		}
		out[m.ID][p.Topic] = append(out[m.ID][p.Topic], p.ID)
	}
	return out
}
