// Package keras holds the weights of a Keras model as Keras itself orders
// them: a list of layers, in the order of the model's layers, each with its
// weight arrays in the order the layer creates them.
//
// Keras loads a weight file by zipping the file's layers that have weights
// with the model's layers that have weights, in order, and checking every
// shape; layer names are not used because they change between Keras
// versions ("conv2d_1" in Keras 2.2, "conv2d" in Keras 2.3 and later). The
// readers in this module (TensorFlow.js layers folders and Keras .h5 files)
// produce this list so that one matching step serves every format.
package keras

import (
	"fmt"
	"strings"
)

// Array is one named weight array of a layer, in row-major order.
type Array struct {
	// Name is the weight's name with the layer prefix and any ":0" suffix
	// removed: "kernel", "bias", "gamma", "beta", "moving_mean",
	// "moving_variance".
	Name  string
	Shape []int
	Data  []float32
}

// Size reports the number of elements the shape describes.
func (a *Array) Size() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Layer is a layer that has weights.
type Layer struct {
	// Name is the layer's name as the file gives it.
	Name string
	// Class is the Keras layer class ("Conv2D", "BatchNormalization"),
	// when the file records it; empty otherwise.
	Class   string
	Weights []Array
}

// Weight returns the layer's array with the given short name, or nil.
func (l *Layer) Weight(name string) *Array {
	for i := range l.Weights {
		if l.Weights[i].Name == name {
			return &l.Weights[i]
		}
	}
	return nil
}

// ShortName turns a stored weight name such as "conv2d_1/kernel:0" or
// "batch_normalization_3/moving_mean" into its short form ("kernel",
// "moving_mean").
func ShortName(stored string) string {
	s := stored
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

// CheckShape reports an error when a's shape is not want.
func (a *Array) CheckShape(want ...int) error {
	if len(a.Shape) != len(want) {
		return fmt.Errorf("weight %s has shape %v, want %v", a.Name, a.Shape, want)
	}
	for i := range want {
		if a.Shape[i] != want[i] {
			return fmt.Errorf("weight %s has shape %v, want %v", a.Name, a.Shape, want)
		}
	}
	if len(a.Data) != a.Size() {
		return fmt.Errorf("weight %s has %d values for shape %v", a.Name, len(a.Data), a.Shape)
	}
	return nil
}
