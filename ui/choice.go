package ui

import "fyne.io/fyne/v2/widget"

// choice is one option of a Settings select: the value kept in the
// settings and the words the select shows for it.
type choice[T ~string] struct {
	value T
	label string
}

// newChoiceSelect returns a select of the choices' words with current's
// chosen, or the first choice where current is none of them.
func newChoiceSelect[T ~string](choices []choice[T], current T) *widget.Select {
	labels := make([]string, len(choices))
	chosen := choices[0].label
	for i, c := range choices {
		labels[i] = c.label
		if c.value == current {
			chosen = c.label
		}
	}
	s := widget.NewSelect(labels, nil)
	s.SetSelected(chosen)
	return s
}

// chosenValue returns the value of the choice s shows, or fallback when it
// shows none.
func chosenValue[T ~string](s *widget.Select, choices []choice[T], fallback T) T {
	if i := s.SelectedIndex(); i >= 0 && i < len(choices) {
		return choices[i].value
	}
	return fallback
}
