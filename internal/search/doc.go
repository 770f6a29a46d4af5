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
// Besides ranked full-text matching, an Index offers:
//
//   - Filters and facet counts (Query.Filters, Query.Facets): documents
//     carry facet values (Doc.Tags, plus the built-in "type" and "decade"),
//     interned per Index into dense ids so that filtering and counting are
//     integer operations over the matching documents.
//   - Typo tolerance: a query word missing from the dictionary matches the
//     terms within one typo (words of 4 to 7 letters) or two (8 or more)
//     that start with the same letter, at a reduced weight, found by walking
//     a trie of the dictionary (see MaxTypoTerms).
//   - Search-as-you-type title completion (Index.Suggest) and match
//     highlighting (Highlight).
//
// An Index is immutable once built and safe for concurrent use by any number
// of goroutines.
package search
