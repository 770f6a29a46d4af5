package topics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// MaxTopics is the largest number of topics: topic ids are stored as uint16.
const MaxTopics = 65535

// MaxCells is the largest K*V that MarshalBinary and UnmarshalBinary accept
// (2^26 cells, 256 MiB of counts): the sparse encoding of mostly-zero counts
// is tiny, so without a bound a few corrupt header bytes could make
// UnmarshalBinary allocate gigabytes.
const MaxCells = 1 << 26

// Counts are topic-word counts: the global model state, or one shard's share
// of it.
type Counts struct {
	K, V       int
	TopicWord  []int32 // K*V, row-major by topic: TopicWord[k*V+w]
	TopicTotal []int64 // K: TopicTotal[k] is the sum of row k
}

// NewCounts returns zero counts for k topics over a vocabulary of v words.
// It panics if k or v is negative.
func NewCounts(k, v int) *Counts {
	if k < 0 || v < 0 {
		panic(fmt.Sprintf("topics: NewCounts(%d, %d): negative size", k, v))
	}
	return &Counts{K: k, V: v, TopicWord: make([]int32, k*v), TopicTotal: make([]int64, k)}
}

// Clone returns a deep copy of c.
func (c *Counts) Clone() *Counts {
	return &Counts{
		K: c.K, V: c.V,
		TopicWord:  append([]int32(nil), c.TopicWord...),
		TopicTotal: append([]int64(nil), c.TopicTotal...),
	}
}

// Validate checks that c is well formed: 1 <= K <= MaxTopics, V >= 1, the
// slices have the right lengths, no count is negative and every TopicWord row
// sums to its TopicTotal.
func (c *Counts) Validate() error {
	if c == nil {
		return errors.New("topics: nil counts")
	}
	if c.K < 1 || c.K > MaxTopics {
		return fmt.Errorf("topics: counts: K=%d out of range [1, %d]", c.K, MaxTopics)
	}
	if c.V < 1 {
		return fmt.Errorf("topics: counts: V=%d, want >= 1", c.V)
	}
	if err := c.checkShape(); err != nil {
		return err
	}
	for k := range c.K {
		var sum int64
		for w, n := range c.row(k) {
			if n < 0 {
				return fmt.Errorf("topics: counts: negative count %d for topic %d word %d", n, k, w)
			}
			sum += int64(n)
		}
		if sum != c.TopicTotal[k] {
			return fmt.Errorf("topics: counts: topic %d words sum to %d, total says %d", k, sum, c.TopicTotal[k])
		}
	}
	return nil
}

// checkShape checks that the slice lengths match K and V.
func (c *Counts) checkShape() error {
	if c.K < 0 || c.V < 0 || len(c.TopicWord) != c.K*c.V || len(c.TopicTotal) != c.K {
		return fmt.Errorf("topics: counts: malformed: K=%d V=%d but %d word cells and %d totals",
			c.K, c.V, len(c.TopicWord), len(c.TopicTotal))
	}
	return nil
}

// row returns the counts of topic k, indexed by word.
func (c *Counts) row(k int) []int32 { return c.TopicWord[k*c.V : (k+1)*c.V] }

// Add adds o to c cell by cell. It returns an error, leaving c unchanged, if
// the shapes differ.
func (c *Counts) Add(o *Counts) error {
	if o == nil {
		return errors.New("topics: Add: nil counts")
	}
	if c.K != o.K || c.V != o.V {
		return fmt.Errorf("topics: Add: shape %dx%d, other is %dx%d", c.K, c.V, o.K, o.V)
	}
	if err := c.checkShape(); err != nil {
		return err
	}
	if err := o.checkShape(); err != nil {
		return err
	}
	for i, n := range o.TopicWord {
		c.TopicWord[i] += n
	}
	for k, n := range o.TopicTotal {
		c.TopicTotal[k] += n
	}
	return nil
}

// Sum returns the cell-wise sum of parts: the merge step that turns shard
// counts into global counts. All parts must have the same shape; at least
// one is required.
func Sum(parts ...*Counts) (*Counts, error) {
	if len(parts) == 0 || parts[0] == nil {
		return nil, errors.New("topics: Sum: no counts")
	}
	if err := parts[0].checkShape(); err != nil {
		return nil, err
	}
	out := NewCounts(parts[0].K, parts[0].V)
	for i, p := range parts {
		if err := out.Add(p); err != nil {
			return nil, fmt.Errorf("topics: Sum: part %d: %w", i, err)
		}
	}
	return out, nil
}

// Binary encodings. Both end with a CRC-32C of everything before it, so
// corruption is reported rather than decoded into wrong numbers.
var (
	countsMagic = [4]byte{'L', 'D', 'A', 'C'}
	assignMagic = [4]byte{'L', 'D', 'A', 'Z'}
	crcTable    = crc32.MakeTable(crc32.Castagnoli)
)

const codecVersion = 1

// ErrCorrupt is returned (wrapped) by the UnmarshalBinary methods for input
// that is truncated, corrupt or not an encoding of the expected type.
var ErrCorrupt = errors.New("corrupt topics encoding")

// MarshalBinary encodes c compactly: a header (magic, version, K, V), the K
// topic totals, and the non-zero cells only, each as a varint gap from the
// previous non-zero cell followed by a zigzag varint count, then a CRC-32C.
// Sparse counts therefore take a few bytes per non-zero cell instead of
// 4*K*V bytes. It returns an error if c is malformed (see Validate; negative
// counts are allowed and round-trip).
func (c *Counts) MarshalBinary() ([]byte, error) {
	if err := c.checkShape(); err != nil {
		return nil, err
	}
	if c.K > MaxTopics || c.K*c.V > MaxCells {
		return nil, fmt.Errorf("topics: counts: %dx%d exceeds the encodable size (K <= %d, K*V <= %d)", c.K, c.V, MaxTopics, MaxCells)
	}
	nnz := 0
	for k := range c.K {
		var sum int64
		for _, n := range c.row(k) {
			if n != 0 {
				nnz++
				sum += int64(n)
			}
		}
		if sum != c.TopicTotal[k] {
			return nil, fmt.Errorf("topics: counts: topic %d words sum to %d, total says %d", k, sum, c.TopicTotal[k])
		}
	}
	b := make([]byte, 0, 16+c.K*4+nnz*3+4)
	b = append(b, countsMagic[:]...)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(c.K))
	b = binary.AppendUvarint(b, uint64(c.V))
	for _, t := range c.TopicTotal {
		b = binary.AppendVarint(b, t)
	}
	b = binary.AppendUvarint(b, uint64(nnz))
	prev := -1
	for i, n := range c.TopicWord {
		if n == 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(i-prev-1))
		b = binary.AppendVarint(b, int64(n))
		prev = i
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable)), nil
}

// UnmarshalBinary decodes an encoding made by MarshalBinary into c. Truncated
// or corrupt input yields an error wrapping ErrCorrupt, and c is left
// unchanged; it never panics.
func (c *Counts) UnmarshalBinary(b []byte) error {
	payload, err := checkFrame(b, countsMagic, "counts")
	if err != nil {
		return err
	}
	out, err := decodeCounts(payload)
	if err != nil {
		return err
	}
	*c = *out
	return nil
}

// checkFrame verifies the magic, version and checksum of an encoding and
// returns the bytes between the header and the checksum.
func checkFrame(b []byte, magic [4]byte, what string) ([]byte, error) {
	const head = len(magic) + 1
	if len(b) < head+4 {
		return nil, fmt.Errorf("topics: decoding %s: %d bytes is too short: %w", what, len(b), ErrCorrupt)
	}
	if [4]byte(b[:4]) != magic {
		return nil, fmt.Errorf("topics: decoding %s: bad magic %q: %w", what, b[:4], ErrCorrupt)
	}
	if b[4] != codecVersion {
		return nil, fmt.Errorf("topics: decoding %s: unsupported version %d: %w", what, b[4], ErrCorrupt)
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, crcTable), binary.LittleEndian.Uint32(b[len(b)-4:]); got != want {
		return nil, fmt.Errorf("topics: decoding %s: checksum mismatch (truncated or corrupt): %w", what, ErrCorrupt)
	}
	return body[head:], nil
}

// decoder reads varints from a byte slice, remembering the first error.
type decoder struct {
	b    []byte
	off  int
	err  error
	what string
}

func (d *decoder) failf(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("topics: decoding %s at byte %d: %s: %w", d.what, d.off, fmt.Sprintf(format, args...), ErrCorrupt)
	}
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.failf("bad or truncated %s", field)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.failf("bad or truncated %s", field)
		return 0
	}
	d.off += n
	return v
}

// count reads a uvarint that must not exceed limit.
func (d *decoder) count(field string, limit uint64) int {
	v := d.uvarint(field)
	if d.err == nil && v > limit {
		d.failf("%s %d exceeds limit %d", field, v, limit)
		return 0
	}
	return int(v)
}

func (d *decoder) finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.failf("%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}

// decodeCounts decodes the payload of a counts encoding (after the header,
// before the checksum). It validates everything itself and does not rely on
// the checksum.
func decodeCounts(p []byte) (*Counts, error) {
	d := &decoder{b: p, what: "counts"}
	k := d.count("K", MaxTopics)
	v := d.count("V", MaxCells)
	if d.err == nil && k > 0 && v > MaxCells/k {
		d.failf("K*V = %d*%d exceeds limit %d", k, v, MaxCells)
	}
	if d.err == nil && k > d.remaining() {
		d.failf("%d topic totals but %d bytes left", k, d.remaining())
	}
	if d.err != nil {
		return nil, d.err
	}
	c := NewCounts(k, v)
	for i := range k {
		c.TopicTotal[i] = d.varint("topic total")
	}
	nnz := d.count("non-zero cell count", uint64(k*v))
	if d.err == nil && nnz > d.remaining()/2 {
		d.failf("%d non-zero cells but %d bytes left", nnz, d.remaining())
	}
	sums := make([]int64, k)
	pos := -1
	for range nnz {
		gap := d.uvarint("cell gap")
		n := d.varint("cell count")
		if d.err != nil {
			break
		}
		if gap >= uint64(k*v-pos-1) {
			d.failf("cell index past %d cells", k*v)
			break
		}
		if n < -1<<31 || n > 1<<31-1 {
			d.failf("cell count %d overflows int32", n)
			break
		}
		pos += int(gap) + 1
		c.TopicWord[pos] = int32(n)
		sums[pos/v] += n
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	for i := range k {
		if sums[i] != c.TopicTotal[i] {
			d.failf("topic %d words sum to %d, total says %d", i, sums[i], c.TopicTotal[i])
			return nil, d.err
		}
	}
	return c, nil
}

// Assignments are the topic of every token of a shard's documents, parallel
// to the docs: Assignments[d][i] is the topic of docs[d][i].
type Assignments [][]uint16

// MarshalBinary encodes a: a header, the number of documents, then per
// document its length and its topics as varints (one byte each for topics
// below 128), then a CRC-32C.
func (a Assignments) MarshalBinary() ([]byte, error) {
	n := 0
	for _, z := range a {
		n += len(z)
	}
	b := make([]byte, 0, 16+len(a)*2+n+4)
	b = append(b, assignMagic[:]...)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(len(a)))
	for _, z := range a {
		b = binary.AppendUvarint(b, uint64(len(z)))
		for _, t := range z {
			b = binary.AppendUvarint(b, uint64(t))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable)), nil
}

// UnmarshalBinary decodes an encoding made by MarshalBinary into a.
// Truncated or corrupt input yields an error wrapping ErrCorrupt, and a is
// left unchanged; it never panics.
func (a *Assignments) UnmarshalBinary(b []byte) error {
	payload, err := checkFrame(b, assignMagic, "assignments")
	if err != nil {
		return err
	}
	out, err := decodeAssignments(payload)
	if err != nil {
		return err
	}
	*a = out
	return nil
}

// decodeAssignments decodes the payload of an assignments encoding.
func decodeAssignments(p []byte) (Assignments, error) {
	d := &decoder{b: p, what: "assignments"}
	nd := d.count("document count", uint64(len(p)))
	if d.err != nil {
		return nil, d.err
	}
	out := make(Assignments, nd)
	for i := range out {
		n := d.count("document length", uint64(d.remaining()))
		if d.err != nil {
			break
		}
		z := make([]uint16, n)
		for j := range z {
			z[j] = uint16(d.count("topic", MaxTopics))
		}
		out[i] = z
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return out, nil
}
