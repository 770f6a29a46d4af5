package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/storage/mysql"
)

// Published topic models (BuildTopics): "topics" rows are keyed by topic id (rank = id),
// "item_topics" by item id, "topic_items" by topic id.
const (
	ModelTopics     = "topics"
	ModelItemTopics = "item_topics"
	ModelTopicItems = "topic_items"
	maxTopics       = 1000
)

// TopicWord is one word of a topic with its probability in the topic.
type TopicWord struct {
	Word   string  `json:"word"`
	Weight float64 `json:"weight"`
}

// Topic is one entry of GET /api/topics.
type Topic struct {
	ID    int         `json:"id"`
	Words []TopicWord `json:"words"`
	Items int         `json:"items"` // items whose strongest topic this is
}

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
	rows, err := h.d.Models.TopModelRows(c.Request.Context(), ModelTopics, maxTopics)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int]Topic{}
	list := make([]Topic, 0, len(rows))
	for _, r := range rows {
		var t Topic
		if err := json.Unmarshal(r.Payload, &t); err != nil {
			return nil, nil, err
		}
		byID[t.ID] = t
		list = append(list, t)
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
		c.JSON(http.StatusNotFound, gin.H{"error": "no topic " + strconv.Itoa(id) + " in the published model"})
		return
	}
	raw, err := h.d.Models.ModelRow(c.Request.Context(), ModelTopicItems, strconv.Itoa(id))
	var members []struct {
		ID     string  `json:"id"`
		Weight float64 `json:"weight"`
	}
	switch {
	case errors.Is(err, mysql.ErrNotFound):
	case err != nil:
		h.fail(c, err)
		return
	default:
		if err := json.Unmarshal(raw, &members); err != nil {
			h.fail(c, err)
			return
		}
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
		raw, err := h.d.Models.ModelRow(c.Request.Context(), ModelItemTopics, id)
		if errors.Is(err, mysql.ErrNotFound) {
			c.JSON(http.StatusOK, gin.H{"id": id, "topics": []ItemTopic{}, "note": noTopicsNote})
			return
		}
		if err != nil {
			h.fail(c, err)
			return
		}
		var mix []ItemTopic
		if err := json.Unmarshal(raw, &mix); err != nil {
			h.fail(c, err)
			return
		}
		byID, _, err := h.loadTopics(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		for i := range mix {
			for _, w := range byID[mix[i].Topic].Words[:min(5, len(byID[mix[i].Topic].Words))] {
				mix[i].Words = append(mix[i].Words, w.Word)
			}
		}
		c.JSON(http.StatusOK, gin.H{"id": id, "topics": mix})
	}
}

// requireItem loads a published item of the given type ("" for any), answering 404 when
// there is none. id comes from pathID.
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
		c.JSON(http.StatusNotFound, gin.H{"error": "no " + what + " with id " + strconv.Quote(id)})
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
