package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// f32 is the float64 value of x rounded to float32, as a confidence read
// from float32 probabilities is.
func f32(x float64) float64 { return float64(float32(x)) }

func TestCompute(t *testing.T) {
	tests := []struct {
		name      string
		labels    []string
		truth     []int
		probs     []float32
		k         int
		want      Report
		wantMacro ClassMetrics
	}{
		{
			// Bird is never predicted: its precision is 0/0 = 0.
			name:   "three classes",
			labels: []string{"cat", "dog", "bird"},
			truth:  []int{0, 0, 1, 1, 2, 0},
			probs: []float32{
				0.7, 0.2, 0.1, // cat ✓
				0.4, 0.5, 0.1, // cat → dog (0.5), cat second
				0.1, 0.8, 0.1, // dog ✓
				0.6, 0.3, 0.1, // dog → cat (0.6), dog second
				0.2, 0.7, 0.1, // bird → dog (0.7), bird third
				0.9, 0.05, 0.05, // cat ✓
			},
			k: 2,
			want: Report{
				N: 6, Accuracy: 0.5, TopK: 5.0 / 6, K: 2,
				PerClass: []ClassMetrics{
					{Precision: 2.0 / 3, Recall: 2.0 / 3, F1: 2.0 / 3, Support: 3},
					{Precision: 1.0 / 3, Recall: 0.5, F1: 0.4, Support: 2},
					{Precision: 0, Recall: 0, F1: 0, Support: 1},
				},
				Confusion: [][]int{{2, 1, 0}, {1, 1, 0}, {0, 1, 0}},
				Mistakes: []Mistake{
					{Index: 4, Truth: 2, Predicted: 1, Confidence: f32(0.7)},
					{Index: 3, Truth: 1, Predicted: 0, Confidence: f32(0.6)},
					{Index: 1, Truth: 0, Predicted: 1, Confidence: f32(0.5)},
				},
			},
			wantMacro: ClassMetrics{Precision: 1.0 / 3, Recall: 7.0 / 18, F1: 16.0 / 45, Support: 6},
		},
		{
			// c has no sample but is predicted once: recall 0/0 = 0, and it
			// counts in the macro averages.
			name:   "class without support",
			labels: []string{"a", "b", "c"},
			truth:  []int{0, 1, 0},
			probs: []float32{
				0.9, 0.05, 0.05, // a ✓
				0.1, 0.2, 0.7, // b → c
				0.3, 0.6, 0.1, // a → b
			},
			k: 1,
			want: Report{
				N: 3, Accuracy: 1.0 / 3, TopK: 1.0 / 3, K: 1,
				PerClass: []ClassMetrics{
					{Precision: 1, Recall: 0.5, F1: 2.0 / 3, Support: 2},
					{Precision: 0, Recall: 0, F1: 0, Support: 1},
					{Precision: 0, Recall: 0, F1: 0, Support: 0},
				},
				Confusion: [][]int{{1, 1, 0}, {0, 0, 1}, {0, 0, 0}},
				Mistakes: []Mistake{
					{Index: 1, Truth: 1, Predicted: 2, Confidence: f32(0.7)},
					{Index: 2, Truth: 0, Predicted: 1, Confidence: f32(0.6)},
				},
			},
			wantMacro: ClassMetrics{Precision: 1.0 / 3, Recall: 1.0 / 6, F1: 2.0 / 9, Support: 3},
		},
		{
			// c neither occurs nor is predicted: it does not drag the
			// macro averages down.
			name:   "absent class",
			labels: []string{"a", "b", "c"},
			truth:  []int{0, 1},
			probs:  []float32{0.8, 0.1, 0.1, 0.2, 0.7, 0.1},
			k:      5,
			want: Report{
				N: 2, Accuracy: 1, TopK: 1, K: 3,
				PerClass: []ClassMetrics{
					{Precision: 1, Recall: 1, F1: 1, Support: 1},
					{Precision: 1, Recall: 1, F1: 1, Support: 1},
					{},
				},
				Confusion: [][]int{{1, 0, 0}, {0, 1, 0}, {0, 0, 0}},
			},
			wantMacro: ClassMetrics{Precision: 1, Recall: 1, F1: 1, Support: 2},
		},
		{
			name:   "single class",
			labels: []string{"only"},
			truth:  []int{0, 0},
			probs:  []float32{1, 1},
			k:      3,
			want: Report{
				N: 2, Accuracy: 1, TopK: 1, K: 1,
				PerClass:  []ClassMetrics{{Precision: 1, Recall: 1, F1: 1, Support: 2}},
				Confusion: [][]int{{2}},
			},
			wantMacro: ClassMetrics{Precision: 1, Recall: 1, F1: 1, Support: 2},
		},
		{
			// Ties go to the first class, for the prediction and the
			// ranking alike, so top-1 agrees with accuracy.
			name:   "ties",
			labels: []string{"a", "b", "c"},
			truth:  []int{1, 0},
			probs:  []float32{0.4, 0.4, 0.2, 0.3, 0.3, 0.4},
			k:      2,
			want: Report{
				N: 2, Accuracy: 0, TopK: 1, K: 2,
				PerClass: []ClassMetrics{
					{Precision: 0, Recall: 0, F1: 0, Support: 1},
					{Precision: 0, Recall: 0, F1: 0, Support: 1},
					{},
				},
				Confusion: [][]int{{0, 0, 1}, {1, 0, 0}},
				Mistakes: []Mistake{
					{Index: 0, Truth: 1, Predicted: 0, Confidence: f32(0.4)},
					{Index: 1, Truth: 0, Predicted: 2, Confidence: f32(0.4)},
				},
			},
			wantMacro: ClassMetrics{Support: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compute(tt.labels, tt.truth, tt.probs, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Labels = tt.labels
			want.Macro = tt.wantMacro
			if len(want.Confusion) < len(tt.labels) {
				want.Confusion = append(want.Confusion, make([]int, len(tt.labels)))
			}
			if got.N != want.N || got.K != want.K {
				t.Errorf("N, K = %d, %d; want %d, %d", got.N, got.K, want.N, want.K)
			}
			near(t, "accuracy", got.Accuracy, want.Accuracy)
			near(t, "top-k", got.TopK, want.TopK)
			if !slices.Equal(got.Labels, want.Labels) {
				t.Errorf("labels %q, want %q", got.Labels, want.Labels)
			}
			if len(got.PerClass) != len(want.PerClass) {
				t.Fatalf("%d per-class entries, want %d", len(got.PerClass), len(want.PerClass))
			}
			for c := range want.PerClass {
				metrics(t, want.Labels[c], got.PerClass[c], want.PerClass[c])
			}
			metrics(t, "macro", got.Macro, want.Macro)
			if !slices.EqualFunc(got.Confusion, want.Confusion, slices.Equal) {
				t.Errorf("confusion %v, want %v", got.Confusion, want.Confusion)
			}
			if !slices.Equal(got.Mistakes, want.Mistakes) {
				t.Errorf("mistakes %+v, want %+v", got.Mistakes, want.Mistakes)
			}
		})
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func metrics(t *testing.T, class string, got, want ClassMetrics) {
	t.Helper()
	near(t, class+" precision", got.Precision, want.Precision)
	near(t, class+" recall", got.Recall, want.Recall)
	near(t, class+" f1", got.F1, want.F1)
	if got.Support != want.Support {
		t.Errorf("%s support = %d, want %d", class, got.Support, want.Support)
	}
}

func TestComputeErrors(t *testing.T) {
	ab := []string{"a", "b"}
	tests := []struct {
		name   string
		labels []string
		truth  []int
		probs  []float32
		k      int
		want   string
	}{
		{"no samples", ab, nil, nil, 1, "no samples"},
		{"no labels", nil, []int{0}, []float32{1}, 1, "no class labels"},
		{"duplicate labels", []string{"a", "b", "a"}, []int{0}, []float32{1, 0, 0}, 1, `classes 0 and 2 are both labelled "a"`},
		{"short probabilities", ab, []int{0, 1}, []float32{1, 0, 0}, 1, "3 probabilities for 2 samples of 2 classes, want 4"},
		{"class out of range", ab, []int{0, 2}, []float32{1, 0, 0, 1}, 1, "sample 1 has class 2"},
		{"negative class", ab, []int{-1}, []float32{1, 0}, 1, "sample 0 has class -1"},
		{"NaN probability", ab, []int{0, 1}, []float32{1, 0, float32(math.NaN()), 1}, 1, "sample 1 class 0 has probability NaN"},
		{"k of 0", ab, []int{0}, []float32{1, 0}, 0, "k = 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compute(tt.labels, tt.truth, tt.probs, tt.k)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compute() = %v, %v; want an error containing %q", r, err, tt.want)
			}
		})
	}
	if _, err := Compute(ab, nil, nil, 1); !errors.Is(err, ErrNoSamples) {
		t.Errorf("Compute with no samples = %v, want ErrNoSamples", err)
	}
}

func TestComputeCopiesLabels(t *testing.T) {
	labels := []string{"a", "b"}
	r, err := Compute(labels, []int{0}, []float32{0.9, 0.1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	labels[0] = "changed"
	if r.Labels[0] != "a" {
		t.Errorf("the report aliases the caller's labels")
	}
}

func TestJSON(t *testing.T) {
	// Labels out of alphabetical order: per_class keeps their order.
	r, err := Compute([]string{"b", "a"}, []int{0, 1}, []float32{0.75, 0.25, 0.5, 0.5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"n":2,"accuracy":0.5,"top_k":0.5,"k":1,"labels":["b","a"],` +
		`"per_class":{"b":{"precision":0.5,"recall":1,"f1":0.6666666666666666,"support":1},` +
		`"a":{"precision":0,"recall":0,"f1":0,"support":1}},` +
		`"macro":{"precision":0.25,"recall":0.5,"f1":0.3333333333333333,"support":2},` +
		`"confusion":[[1,0],[1,0]],` +
		`"mistakes":[{"index":1,"truth":1,"predicted":0,"confidence":0.5}]}`
	if string(got) != want {
		t.Errorf("JSON:\n%s\nwant\n%s", got, want)
	}
	// A value marshals the same as a pointer.
	if byValue, _ := json.Marshal(*r); !bytes.Equal(byValue, got) {
		t.Errorf("marshalling a Report value gives\n%s", byValue)
	}

	// The documented keys are there with the documented types, and labels
	// that need escaping stay valid JSON keys.
	labels := []string{`say "cheese"`, "ctrl\x01", "café", "<b>"}
	r, err = Compute(labels, []int{0, 1, 2, 3}, []float32{
		1, 0, 0, 0,
		0, 1, 0, 0,
		0, 0, 1, 0,
		0, 0, 0, 1,
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		N         *int                    `json:"n"`
		Accuracy  *float64                `json:"accuracy"`
		TopK      *float64                `json:"top_k"`
		K         *int                    `json:"k"`
		Labels    []string                `json:"labels"`
		PerClass  map[string]ClassMetrics `json:"per_class"`
		Confusion [][]int                 `json:"confusion"`
		Mistakes  []Mistake               `json:"mistakes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	if doc.N == nil || *doc.N != 4 || doc.Accuracy == nil || *doc.Accuracy != 1 || doc.TopK == nil || doc.K == nil || *doc.K != 3 {
		t.Errorf("n, accuracy, top_k, k missing or wrong in %s", data)
	}
	if !slices.Equal(doc.Labels, labels) {
		t.Errorf("labels %q, want %q", doc.Labels, labels)
	}
	for _, l := range labels {
		if m, ok := doc.PerClass[l]; !ok || m != (ClassMetrics{Precision: 1, Recall: 1, F1: 1, Support: 1}) {
			t.Errorf("per_class[%q] = %+v, %v", l, m, ok)
		}
	}
	if len(doc.Confusion) != 4 || doc.Mistakes == nil || len(doc.Mistakes) != 0 {
		t.Errorf("confusion %v and mistakes %v, want 4 rows and an empty list", doc.Confusion, doc.Mistakes)
	}
}

func TestWriteTable(t *testing.T) {
	r, err := Compute([]string{"cat", "dog", "bird"}, []int{0, 0, 1, 1, 2, 0}, []float32{
		0.7, 0.2, 0.1,
		0.4, 0.5, 0.1,
		0.1, 0.8, 0.1,
		0.6, 0.3, 0.1,
		0.2, 0.7, 0.1,
		0.9, 0.05, 0.05,
	}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `samples 6   accuracy 0.5000   top-2 accuracy 0.8333

class      precision     recall         f1  support
cat           0.6667     0.6667     0.6667        3
dog           0.3333     0.5000     0.4000        2
bird          0.0000     0.0000     0.0000        1
macro avg     0.3333     0.3889     0.3556        6

confusion (rows: true class, columns: predicted class)
              0  1  2
0  cat        2  1  0
1  dog        1  1  0
2  bird       0  1  0
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", b.String(), want)
	}

	// Accented and long labels keep the columns aligned.
	r, err = Compute([]string{"crème brûlée", "x"}, []int{0, 1}, []float32{0.9, 0.1, 0.2, 0.8}, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	width := len([]rune(lines[2]))
	for _, l := range lines[3:6] {
		if n := len([]rune(l)); n != width {
			t.Errorf("line %q is %d runes wide, the header %d", l, n, width)
		}
	}

	if err := r.WriteTable(failingWriter{}); err == nil {
		t.Errorf("WriteTable to a failing writer returned nil")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
