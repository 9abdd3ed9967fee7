package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"
)

// Opset is the ONNX operator set version Graph emits. Opset 13 is supported
// by every execution provider Clasifica uses (CPU, CUDA, DirectML, CoreML).
const Opset = 13

// Graph accumulates nodes and initializers of one ONNX graph. Names of
// values must be unique; Graph does not invent them, so that a graph read
// back (or shown in a viewer such as Netron) carries the Keras layer names.
type Graph struct {
	g *GraphProto
}

// NewGraph starts an empty graph with the given name.
func NewGraph(name string) *Graph {
	return &Graph{g: &GraphProto{Name: proto.String(name)}}
}

// WrapGraph returns a Graph that adds to g, an existing graph (such as
// one read from a file).
func WrapGraph(g *GraphProto) *Graph { return &Graph{g: g} }

// Input declares a float32 graph input. A negative dimension is symbolic and
// named "batch" (the only dynamic dimension Clasifica uses).
func (g *Graph) Input(name string, dims ...int64) {
	g.g.Input = append(g.g.Input, valueInfo(name, dims))
}

// Output declares a float32 graph output.
func (g *Graph) Output(name string, dims ...int64) {
	g.g.Output = append(g.g.Output, valueInfo(name, dims))
}

func valueInfo(name string, dims []int64) *ValueInfoProto {
	shape := &TensorShapeProto{}
	for _, d := range dims {
		dim := &TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &TensorShapeProto_Dimension_DimParam{DimParam: "batch"}
		} else {
			dim.Value = &TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	elem := int32(TensorProto_FLOAT)
	return &ValueInfoProto{
		Name: proto.String(name),
		Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{
			ElemType: &elem,
			Shape:    shape,
		}}},
	}
}

// Float adds a float32 initializer (a constant tensor) and returns its name.
func (g *Graph) Float(name string, data []float32, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	if n != int64(len(data)) {
		panic(fmt.Sprintf("onnx: initializer %s: %d values for shape %v", name, len(data), dims))
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return g.initializer(name, TensorProto_FLOAT, raw, dims)
}

func (g *Graph) initializer(name string, t TensorProto_DataType, raw []byte, dims []int64) string {
	dt := int32(t)
	g.g.Initializer = append(g.g.Initializer, &TensorProto{
		Name:     proto.String(name),
		Dims:     dims,
		DataType: &dt,
		RawData:  raw,
	})
	return name
}

// Attr is a node attribute; build one with Ints, Int, or FloatAttr.
type Attr = *AttributeProto

// Ints is an integer-list attribute.
func Ints(name string, v ...int64) Attr {
	t := AttributeProto_INTS
	return &AttributeProto{Name: proto.String(name), Type: &t, Ints: v}
}

// Int is an integer attribute.
func Int(name string, v int64) Attr {
	t := AttributeProto_INT
	return &AttributeProto{Name: proto.String(name), Type: &t, I: proto.Int64(v)}
}

// FloatAttr is a float attribute.
func FloatAttr(name string, v float32) Attr {
	t := AttributeProto_FLOAT
	return &AttributeProto{Name: proto.String(name), Type: &t, F: proto.Float32(v)}
}

// Node appends a node computing output from inputs with the operator op and
// returns output, so that calls chain.
func (g *Graph) Node(op, output string, inputs []string, attrs ...Attr) string {
	g.g.Node = append(g.g.Node, &NodeProto{
		Name:      proto.String(output),
		OpType:    proto.String(op),
		Input:     inputs,
		Output:    []string{output},
		Attribute: attrs,
	})
	return output
}

// Model wraps the graph in a model with the given producer and metadata.
// The metadata appears in ONNX Runtime's ModelMetadata and in viewers.
func (g *Graph) Model(producer, doc string, metadata map[string]string, keys []string) *ModelProto {
	m := &ModelProto{
		IrVersion:    proto.Int64(int64(Version_IR_VERSION)),
		ProducerName: proto.String(producer),
		DocString:    proto.String(doc),
		Graph:        g.g,
		OpsetImport:  []*OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ModelVersion: proto.Int64(1),
	}
	for _, k := range keys {
		m.MetadataProps = append(m.MetadataProps, &StringStringEntryProto{Key: proto.String(k), Value: proto.String(metadata[k])})
	}
	return m
}

// Int64 adds an int64 initializer (shapes, axes and split sizes, which
// ONNX operators take as tensors) and returns its name.
func (g *Graph) Int64(name string, data []int64, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	if n != int64(len(data)) {
		panic(fmt.Sprintf("onnx: initializer %s: %d values for shape %v", name, len(data), dims))
	}
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return g.initializer(name, TensorProto_INT64, raw, dims)
}

// NodeN appends a node with several outputs, such as Split, and returns
// its outputs.
func (g *Graph) NodeN(op string, outputs, inputs []string, attrs ...Attr) []string {
	g.g.Node = append(g.g.Node, &NodeProto{
		Name:      proto.String(outputs[0]),
		OpType:    proto.String(op),
		Input:     inputs,
		Output:    outputs,
		Attribute: attrs,
	})
	return outputs
}

// Proto returns the graph being built, for reading it back.
func (g *Graph) Proto() *GraphProto { return g.g }
