package search

import (
	"bytes"
	"strings"
	"testing"
)

// TestSegmentBuilderMatchesBuildSegment checks that streaming documents into a
// SegmentBuilder, reusing the People and Text memory and the Tags map between
// documents as Add allows, encodes to the same bytes as BuildSegment.
func TestSegmentBuilderMatchesBuildSegment(t *testing.T) {
	docs := synthCorpus(3000, 7)
	synthTags(docs, 7)
	docs = append(docs, codecDocs()...)
	want, err := BuildSegment(docs).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, hint := range []int{0, 10, len(docs)} {
		b := NewSegmentBuilder(hint)
		var people []string
		var text []byte
		tags := map[string][]string{}
		for i := range docs {
			d := docs[i]
			people = append(people[:0], d.People...)
			d.People = people
			text = append(text[:0], d.Text...)
			d.Text = string(text)
			clear(tags)
			for k, v := range d.Tags {
				tags[k] = v
			}
			d.Tags = tags
			b.Add(&d)
			for j := range people {
				people[j] = strings.Repeat("x", j%3) // scribble over what Add was given
			}
		}
		if b.Len() != len(docs) {
			t.Fatalf("hint %d: Len = %d, want %d", hint, b.Len(), len(docs))
		}
		got, err := b.Build().MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("hint %d: builder segment differs from BuildSegment's (%d vs %d bytes)", hint, len(got), len(want))
		}
	}
	empty, err := NewSegmentBuilder(0).Build().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := BuildSegment(nil).MarshalBinary(); !bytes.Equal(empty, want) {
		t.Fatalf("empty builder: %x, want %x", empty, want)
	}
}
