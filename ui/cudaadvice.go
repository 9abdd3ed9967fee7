package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
)

// cudaAdvice is the part of Settings' provider list for a computer with an
// NVIDIA card that cannot use CUDA: what CUDA would give, measured, and
// the steps to get it. The steps are selectable text, since they hold a
// file name, an address and a command to copy.
func cudaAdvice(adv *app.CUDAAdvice) fyne.CanvasObject {
	title := widgets.Bold(fmt.Sprintf("Your %s could do more with CUDA", adv.GPU))
	gain := widgets.Caption(adv.Gain)
	gain.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(title, gain)
	for i, s := range adv.Steps {
		step := widget.NewLabel(fmt.Sprintf("%d. %s", i+1, s))
		step.Wrapping = fyne.TextWrapWord
		step.Selectable = true
		box.Add(step)
	}
	return box
}
