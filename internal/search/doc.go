// Package search implements Curio's catalog full-text search.
//
// The index is built in shards: each shard turns its documents into a
// Segment with BuildSegment and serializes it with MarshalBinary. The API
// process loads every serialized segment of the current index version with
// UnmarshalSegment and combines them with NewIndex, which answers queries.
//
// Scoring is BM25F over three fields (title, people, text) and always uses
// global statistics (document count, document frequencies and average field
// lengths summed over all segments), so a corpus split into one segment or
// into many produces the same hits with the same scores.
//
// An Index is immutable once built and safe for concurrent use by any number
// of goroutines.
package search
