package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/mysql"
)

// maxTopics bounds topic ids. The topic models themselves (BuildTopics) are defined in
// package published: Topics, ItemTopics and TopicItems.
const maxTopics = 1000

// TopicWord is one word of a topic with its probability in the topic.
type TopicWord = published.TopicWord

// Topic is one entry of GET /api/topics: a published topic as it is stored.
type Topic = published.Topic

// ItemTopic is one topic of an item's mix.
type ItemTopic struct {
	Topic  int      `json:"topic"`
	Weight float64  `json:"weight"`
	Words  []string `json:"words,omitempty"`
}

// TopicItem is one item of GET /api/topics/:id/items.
type TopicItem struct {
	ID       string  `json:"id"`
	Type     string  `json:"type"`
	Title    string  `json:"title"`
	Year     int     `json:"year,omitempty"`
	Subtitle string  `json:"subtitle,omitempty"`
	Weight   float64 `json:"weight"`
}

func (h *handlers) registerTopics(r *gin.Engine) {
	r.GET("/api/topics", h.topics)
	r.GET("/api/topics/:id/items", h.topicItems)
	r.GET("/api/movies/:id/topics", h.itemTopics("movie"))
	r.GET("/api/artworks/:id/topics", h.itemTopics("artwork"))
}

const noTopicsNote = "no topic model published yet: run BuildTopics"

// loadTopics reads every published topic, by id.
func (h *handlers) loadTopics(c *gin.Context) (map[int]Topic, []Topic, error) {
	rows, err := published.Topics.Top(c.Request.Context(), h.d.Models, maxTopics)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int]Topic{}
	list := make([]Topic, 0, len(rows))
	for _, r := range rows {
		byID[r.Value.ID] = r.Value
		list = append(list, r.Value)
	}
	return byID, list, nil
}

func (h *handlers) topics(c *gin.Context) {
	_, list, err := h.loadTopics(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	body := gin.H{"topics": list}
	if len(list) == 0 {
		body["note"] = noTopicsNote
	}
	c.JSON(http.StatusOK, body)
}

func (h *handlers) topicItems(c *gin.Context) {
	param, err := pathID(c, "id", "topic id")
	if err != nil {
		h.fail(c, err)
		return
	}
	id, err := strconv.Atoi(param)
	if err != nil || id < 0 || id >= maxTopics {
		h.fail(c, badRequest{"topic id must be an integer from 0 to " + strconv.Itoa(maxTopics-1) + ", got " + strconv.Quote(param)})
		return
	}
	limit, err := intQuery(c, "limit", 1, MaxLimit, 20)
	if err != nil {
		h.fail(c, err)
		return
	}
	offset, err := intQuery(c, "offset", 0, MaxOffset, 0)
	if err != nil {
		h.fail(c, err)
		return
	}
	byID, _, err := h.loadTopics(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	topic, ok := byID[id]
	if !ok {
		h.fail(c, fmt.Errorf("topic %d %w in the published model", id, domain.ErrNotFound))
		return
	}
	members, err := published.TopicItems.Get(c.Request.Context(), h.d.Models, published.TopicKey(id))
	if err != nil && !errors.Is(err, domain.ErrNotFound) { // no row: the topic has no items
		h.fail(c, err)
		return
	}
	total := len(members)
	page := members[min(offset, total):min(offset+limit, total)]
	ids := make([]string, len(page))
	for i, m := range page {
		ids[i] = m.ID
	}
	details, err := h.d.Items.ItemsByID(c.Request.Context(), ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]TopicItem, 0, len(page))
	for _, m := range page {
		if it, ok := details[m.ID]; ok {
			out = append(out, TopicItem{ID: it.ID, Type: it.Type, Title: it.Title, Year: it.Year, Subtitle: it.Subtitle, Weight: m.Weight})
		}
	}
	c.JSON(http.StatusOK, gin.H{"topic": topic, "total": total, "items": out})
}

func (h *handlers) itemTopics(typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id", typ+" id")
		if err != nil {
			h.fail(c, err)
			return
		}
		if _, ok := h.requireItem(c, id, typ); !ok {
			return
		}
		shares, err := published.ItemTopics.Get(c.Request.Context(), h.d.Models, id)
		if errors.Is(err, domain.ErrNotFound) {
			c.JSON(http.StatusOK, gin.H{"id": id, "topics": []ItemTopic{}, "note": noTopicsNote})
			return
		}
		if err != nil {
			h.fail(c, err)
			return
		}
		byID, _, err := h.loadTopics(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		mix := make([]ItemTopic, len(shares))
		for i, sh := range shares {
			mix[i] = ItemTopic{Topic: sh.Topic, Weight: sh.Weight}
			words := byID[sh.Topic].Words
			for _, w := range words[:min(5, len(words))] {
				mix[i].Words = append(mix[i].Words, w.Word)
			}
		}
		c.JSON(http.StatusOK, gin.H{"id": id, "topics": mix})
	}
}

// requireItem loads a published item of the given type ("" for any), answering 404 (a
// domain.ErrNotFound through fail) when there is none. id comes from pathID.
func (h *handlers) requireItem(c *gin.Context, id, typ string) (mysql.Item, bool) {
	items, err := h.d.Items.ItemsByID(c.Request.Context(), []string{id})
	if err != nil {
		h.fail(c, err)
		return mysql.Item{}, false
	}
	it, ok := items[id]
	if !ok || (typ != "" && it.Type != typ) {
		what := typ
		if what == "" {
			what = "item"
		}
		h.fail(c, fmt.Errorf("%s %s %w", what, strconv.Quote(id), domain.ErrNotFound))
		return mysql.Item{}, false
	}
	return it, true
}

func (h *handlers) item(c *gin.Context) {
	id, err := pathID(c, "id", "item id")
	if err != nil {
		h.fail(c, err)
		return
	}
	if it, ok := h.requireItem(c, id, ""); ok {
		c.JSON(http.StatusOK, it)
	}
}
