package activities

import "github.com/curiodata/curio/internal/published"

// Model names of published batch outputs; the models themselves are defined once, in
// package published.
const (
	ModelSimilar  = published.SimilarName
	ModelPageRank = published.PageRankName
	ModelAds      = published.AdsName
)

// ModelPublishInput names a model version to publish.
type ModelPublishInput struct {
	Version string `json:"version"`
}

// ModelPublishResult reports a published model version.
type ModelPublishResult struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Rows    int64  `json:"rows"`
}
