// Package published defines the batch models Curio publishes to the serving store (MySQL's
// model_rows and model_current) once each: a model's name, the Go type of its rows' JSON
// and typed functions to write them (the publishing activities) and read them (the API).
//
// The writer and the reader share these definitions, so renaming a model or changing a
// row's shape is one edit, and a mismatch between them is a compile error.
package published

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/curiodata/curio/internal/storage/mysql"
)

// Names of the published models: the model column of model_rows and model_current, and
// of the warehouse's model_versions.
const (
	SimilarName    = "similar"
	PageRankName   = "pagerank"
	AdsName        = "ads"
	TopicsName     = "topics"
	ItemTopicsName = "item_topics"
	TopicItemsName = "topic_items"
)

// The published models.
var (
	// Similar holds each item's most similar items, best first, keyed by item id
	// (BuildSimilarity).
	Similar = Model[[]Neighbor]{name: SimilarName}
	// PageRank holds each clicked item's PageRank, keyed by item id, ranked 1 (highest)
	// upwards (ClickstreamPageRank).
	PageRank = Model[RankedItem]{name: PageRankName}
	// Ads holds each targeted user's ad targets, latest search first, keyed by user id
	// (TargetAds).
	Ads = Model[[]AdTarget]{name: AdsName}
	// Topics holds every topic, keyed by topic id with rank = id (BuildTopics).
	Topics = Model[Topic]{name: TopicsName}
	// ItemTopics holds each item's topic mix, strongest first, keyed by item id (BuildTopics).
	ItemTopics = Model[[]TopicShare]{name: ItemTopicsName}
	// TopicItems holds each topic's items, strongest first, keyed by topic id (BuildTopics).
	TopicItems = Model[[]TopicMember]{name: TopicItemsName}
)

// Neighbor is one similar item of a Similar row.
type Neighbor struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// RankedItem is a PageRank row.
type RankedItem struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
}

// AdTarget is one ad target of an Ads row: a category the user searched repeatedly
// without buying, and products to show.
type AdTarget struct {
	Category   string    `json:"category"`
	Searches   int       `json:"searches"`
	LastSearch time.Time `json:"last_search"`
	Products   []string  `json:"products"`
}

// TopicWord is one word of a topic with its probability in the topic.
type TopicWord struct {
	Word   string  `json:"word"`
	Weight float64 `json:"weight"`
}

// Topic is a Topics row. The API serves it as it is stored.
type Topic struct {
	ID    int         `json:"id"`
	Words []TopicWord `json:"words"`
	Items int         `json:"items"` // items whose strongest topic this is
}

// TopicShare is one topic of an ItemTopics row: the topic and its weight in the item.
type TopicShare struct {
	Topic  int     `json:"topic"`
	Weight float64 `json:"weight"`
}

// TopicMember is one item of a TopicItems row: the item and the topic's weight in it.
type TopicMember struct {
	ID     string  `json:"id"`
	Weight float64 `json:"weight"`
}

// Writer stores model rows and switches the served version (*mysql.Store).
type Writer interface {
	PutModelRows(ctx context.Context, model, version string, rows []mysql.ModelRow) error
	SwitchModel(ctx context.Context, model, version string) (int64, error)
}

// Reader reads the served version's model rows (*mysql.Store). ModelRow fails with an
// error matching domain.ErrNotFound when the row is absent.
type Reader interface {
	ModelRow(ctx context.Context, model, key string) ([]byte, error)
	TopModelRows(ctx context.Context, model string, limit int) ([]mysql.ModelRow, error)
}

// Model is a published model whose rows each hold one JSON-encoded V. The values above
// are the only ones; the zero Model names no model.
type Model[V any] struct{ name string }

// Name is the model's name in the serving store.
func (m Model[V]) Name() string { return m.name }

// Row is one typed row of a model.
type Row[V any] struct {
	Key   string
	Rank  int
	Value V
}

// Put writes rows of version, which is not served until Switch (idempotent: a retry
// overwrites the rows it wrote).
func (m Model[V]) Put(ctx context.Context, w Writer, version string, rows []Row[V]) error {
	if len(rows) == 0 {
		return nil
	}
	enc := make([]mysql.ModelRow, len(rows))
	for i, r := range rows {
		b, err := json.Marshal(r.Value)
		if err != nil {
			return fmt.Errorf("encode %s row %q: %w", m.name, r.Key, err)
		}
		enc[i] = mysql.ModelRow{Key: r.Key, Rank: r.Rank, Payload: b}
	}
	return w.PutModelRows(ctx, m.name, version, enc)
}

// Switch makes version the served one and returns its number of rows.
func (m Model[V]) Switch(ctx context.Context, w Writer, version string) (int64, error) {
	return w.SwitchModel(ctx, m.name, version)
}

// Get reads the served row of key. When there is none the error matches
// domain.ErrNotFound.
func (m Model[V]) Get(ctx context.Context, r Reader, key string) (V, error) {
	var v V
	raw, err := r.ModelRow(ctx, m.name, key)
	if err != nil {
		return v, err // the store names the model and key
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decode %s row %q: %w", m.name, key, err)
	}
	return v, nil
}

// Top reads the served rows with the lowest ranks, at most limit, by rank then key.
func (m Model[V]) Top(ctx context.Context, r Reader, limit int) ([]Row[V], error) {
	raw, err := r.TopModelRows(ctx, m.name, limit)
	if err != nil {
		return nil, err // the store names the model
	}
	out := make([]Row[V], len(raw))
	for i, row := range raw {
		out[i] = Row[V]{Key: row.Key, Rank: row.Rank}
		if err := json.Unmarshal(row.Payload, &out[i].Value); err != nil {
			return nil, fmt.Errorf("decode %s row %q: %w", m.name, row.Key, err)
		}
	}
	return out, nil
}

// TopicKey is the row key of topic id in Topics and TopicItems.
func TopicKey(id int) string { return strconv.Itoa(id) }
