package pipeline

import "strconv"

// Assigned lists the partitions ("topic/partition") of the current
// consumer-group generation, or nil between generations. The consumer
// declares them as sources of the reorder stage up front, so that a
// partition that has delivered nothing yet still holds the watermark back
// (until it is idle). Safe for concurrent use.
func (s *KafkaSource) Assigned() []string {
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.parts))
	for _, p := range g.parts {
		out = append(out, p.topic+"/"+strconv.Itoa(p.partition))
	}
	return out
}
