package train

import (
	"fmt"
	"os"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/probes"
)

// addProbes lists the shipped probe photos after the dataset's rows, so
// that they go through the backbone in the run's one extraction (and, for
// a fine-tuned model, through its tuned blocks): strangers measures them
// against the classes.
func (r *runner) addProbes() error {
	dir, err := os.MkdirTemp("", "clasifica-probes-")
	if err != nil {
		return fmt.Errorf("train: probe photos: %w", err)
	}
	r.probeDir = dir
	photos, items, err := probes.Items(dir)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.probes = photos
	r.probeRow = len(r.items)
	r.items = append(r.items, items...)
	return nil
}

// strangers keeps in m what answers "not one of its kinds" (see
// doctor.Profile): the classes' centres and spreads in the features the
// head reads, measured on the training photos, once the probe photos show
// that the backbone sets unrelated photos apart; otherwise the reason it
// cannot. tuned says whether fine-tuned blocks make the features.
func (r *runner) strangers(m *model.Model, tuned bool) error {
	train := r.samples[dataset.Train]
	all := append([]sample(nil), train...)
	var probeNames []string
	for i, p := range r.probes {
		if row := r.probeRow + i; r.feats.Errs[row] == nil {
			all = append(all, sample{rows: []int{row}})
			probeNames = append(probeNames, p.Name)
		}
	}
	var x []float32
	if tuned {
		var err error
		if x, err = r.acts.splitFeatures(r.ctx, r.job.Engine, r.weights, r.o.BatchSize, all); err != nil {
			return err
		}
	} else {
		// The rows were centred for the head; the profile reads what
		// classify computes, the raw features.
		x = make([]float32, 0, len(all)*features.Dim)
		for _, s := range all {
			for j, v := range r.feats.Row(s.rows[0]) {
				x = append(x, v+r.std.mean[j])
			}
		}
	}
	n := len(train) * features.Dim
	prof, err := doctor.NewProfile(x[:n], features.Dim, labelsOf(train), len(r.d.Classes))
	if err != nil {
		m.Strangers = &model.Strangers{Reason: fmt.Sprintf("The training photos give no measure of their kinds' spread (%v)", err)}
		return nil
	}
	pr := make([]doctor.Probe, len(probeNames))
	for i, name := range probeNames {
		pr[i] = doctor.Probe{Name: name, Features: x[n+i*features.Dim : n+(i+1)*features.Dim]}
	}
	j := prof.Judge(pr, r.d.Classes)
	if len(pr) == 0 {
		j = doctor.Judgement{Reason: "The photos that test whether this image model can tell strangers could not be read"}
	}
	if !j.Judged {
		m.Strangers = &model.Strangers{Reason: j.Reason}
		return nil
	}
	s := &model.Strangers{Judged: true, Classes: make([]model.ClassSpread, len(r.d.Classes))}
	for c := range s.Classes {
		s.Classes[c] = model.ClassSpread{Centre: prof.Centres[c], Median: prof.Median[c], Spread: prof.Spread[c]}
	}
	m.Strangers = s
	return nil
}

// Profile returns the stranger profile m keeps, or nil when m does not
// answer "not one of its kinds" (no statistics, or turned off at
// training).
func Profile(m *model.Model) (*doctor.Profile, error) {
	s := m.Strangers
	if s == nil || !s.Judged {
		return nil, nil
	}
	p := &doctor.Profile{Centres: make([][]float32, len(s.Classes)), Median: make([]float64, len(s.Classes)), Spread: make([]float64, len(s.Classes))}
	for c, cs := range s.Classes {
		if len(cs.Centre) > 0 {
			p.Centres[c] = cs.Centre
		}
		p.Median[c], p.Spread[c] = cs.Median, cs.Spread
	}
	if err := p.Validate(features.Dim, len(m.Labels)); err != nil {
		return nil, err
	}
	return p, nil
}
