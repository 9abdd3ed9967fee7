package ui

// step names a screen of the window, in the order people go through them.
type step int

const (
	stepData step = iota
	stepTrain
	stepResults
	stepClassify
	numSteps
)

// stepTitles are the screens' names in the sidebar and the View menu.
var stepTitles = [numSteps]string{"Data", "Train", "Results", "Classify"}
