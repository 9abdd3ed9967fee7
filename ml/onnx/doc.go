// Package onnx holds the ONNX protobuf types, generated from the official
// onnx.proto (ONNX 1.12, IR version 8, as shipped by Debian's libonnx-dev),
// and a small Graph builder for the operators Clasifica emits.
//
// Regenerate the types with:
//
//	protoc --proto_path=ml/onnx --go_out=ml/onnx --go_opt=paths=source_relative \
//	  --go_opt=Monnx.proto=github.com/clasifica/clasifica/ml/onnx ml/onnx/onnx.proto
package onnx

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/clasifica/clasifica/ml/onnx onnx.proto
