package catalogjob

import (
	"context"
	"fmt"

	"github.com/curiodata/curio/internal/assets"
)

// CheckInput names what a catalog check looks at.
type CheckInput struct {
	Version string `json:"version,omitempty"` // index version, for row-count bounds
	// MinRatio: a new index with fewer than MinRatio × the previous published docs fails;
	// default 0.5.
	MinRatio float64 `json:"min_ratio,omitempty"`
}

// CheckCatalog runs catalog.items' checks on the warehouse: no empty titles and no id used
// by two item types. Both block downstream assets when they fail.
func (a *Activities) CheckCatalog(ctx context.Context, _ CheckInput) ([]assets.CheckResult, error) {
	q, err := a.Store.CatalogQuality(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog checks: %w", err)
	}
	return []assets.CheckResult{
		{Name: "no_empty_titles", Passed: q.EmptyTitles == 0, Blocking: true, Detail: fmt.Sprintf("%d items without a title", q.EmptyTitles)},
		{Name: "no_duplicate_ids", Passed: q.DuplicateIDs == 0, Blocking: true, Detail: fmt.Sprintf("%d ids used by both a movie and an artwork", q.DuplicateIDs)},
	}, nil
}

// CheckIndex runs search.index's check: its document count must be within bounds of the
// version served now (a sudden drop means a broken import, not a smaller catalog).
func (a *Activities) CheckIndex(ctx context.Context, in CheckInput) ([]assets.CheckResult, error) {
	if in.MinRatio <= 0 {
		in.MinRatio = 0.5
	}
	docs, prev, err := a.Serving.IndexDocs(ctx, in.Version)
	if err != nil {
		return nil, fmt.Errorf("index checks: %w", err)
	}
	ok := prev == 0 || float64(docs) >= in.MinRatio*float64(prev)
	return []assets.CheckResult{{Name: "row_count_within_bounds", Passed: ok && docs > 0, Blocking: true,
		Detail: fmt.Sprintf("%d documents; the served version has %d (minimum ratio %.2f)", docs, prev, in.MinRatio)}}, nil
}
