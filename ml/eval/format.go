package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON writes the report in the documented shape of
// `clasifica eval --format json`:
//
//	{"n":…, "accuracy":…, "top_k":…, "k":…, "labels":[…],
//	 "per_class":{label:{"precision":…,"recall":…,"f1":…,"support":…}, …},
//	 "macro":{"precision":…,"recall":…,"f1":…,"support":…},
//	 "confusion":[[…], …],
//	 "mistakes":[{"index":…,"truth":…,"predicted":…,"confidence":…}, …]}
//
// per_class lists the classes in label order (a Go map would sort them);
// confusion rows are true classes and columns predicted ones; mistakes give
// class indices into labels.
func (r Report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	var err error
	put := func(sep, key string, v any) {
		if err != nil {
			return
		}
		b.WriteString(sep)
		var data []byte
		// Labels are arbitrary text: quote them as JSON, not as Go.
		if data, err = json.Marshal(key); err != nil {
			return
		}
		b.Write(data)
		b.WriteByte(':')
		if data, err = json.Marshal(v); err == nil {
			b.Write(data)
		}
	}
	put("{", "n", r.N)
	put(",", "accuracy", r.Accuracy)
	put(",", "top_k", r.TopK)
	put(",", "k", r.K)
	put(",", "labels", r.Labels)
	b.WriteString(`,"per_class":`)
	for i, l := range r.Labels {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		var m ClassMetrics
		if i < len(r.PerClass) {
			m = r.PerClass[i]
		}
		put(sep, l, m)
	}
	if len(r.Labels) == 0 {
		b.WriteByte('{')
	}
	b.WriteByte('}')
	put(",", "macro", r.Macro)
	put(",", "confusion", r.Confusion)
	mistakes := r.Mistakes
	if mistakes == nil {
		mistakes = []Mistake{}
	}
	put(",", "mistakes", mistakes)
	b.WriteByte('}')
	if err != nil {
		return nil, fmt.Errorf("eval: encoding report: %w", err)
	}
	return b.Bytes(), nil
}

// WriteTable writes the report as plain text for a terminal: the sample
// count and accuracies, a per-class table with the macro averages, and the
// confusion matrix with true classes as rows and predicted classes as
// numbered columns. The mistakes are left to the caller, who knows the
// samples' file names.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "samples %d   accuracy %.4f   top-%d accuracy %.4f\n\n", r.N, r.Accuracy, r.K, r.TopK)

	const macro = "macro avg"
	width := utf8.RuneCountInString(macro)
	for _, l := range r.Labels {
		width = max(width, utf8.RuneCountInString(l))
	}
	// fmt's widths count runes, so accented labels align too.
	fmt.Fprintf(bw, "%-*s  %9s  %9s  %9s  %7s\n", width, "class", "precision", "recall", "f1", "support")
	row := func(name string, m ClassMetrics) {
		fmt.Fprintf(bw, "%-*s  %9.4f  %9.4f  %9.4f  %7d\n", width, name, m.Precision, m.Recall, m.F1, m.Support)
	}
	for i, l := range r.Labels {
		row(l, r.PerClass[i])
	}
	row(macro, r.Macro)

	// Column numbers keep the matrix narrow however long the labels are.
	fmt.Fprintf(bw, "\nconfusion (rows: true class, columns: predicted class)\n")
	idx := len(strconv.Itoa(len(r.Labels) - 1))
	cell := idx
	for _, counts := range r.Confusion {
		for _, v := range counts {
			cell = max(cell, len(strconv.Itoa(v)))
		}
	}
	fmt.Fprintf(bw, "%*s  %*s", idx, "", width, "")
	for j := range r.Labels {
		fmt.Fprintf(bw, "  %*d", cell, j)
	}
	bw.WriteByte('\n')
	for i, l := range r.Labels {
		fmt.Fprintf(bw, "%*d  %-*s", idx, i, width, l)
		for _, v := range r.Confusion[i] {
			fmt.Fprintf(bw, "  %*d", cell, v)
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("eval: writing report table: %w", err)
	}
	return nil
}
