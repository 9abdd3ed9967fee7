module github.com/clasifica/clasifica

go 1.26.0

require (
	github.com/yalue/onnxruntime_go v1.27.0
	golang.org/x/image v0.48.0
	gonum.org/v1/gonum v0.17.0
	google.golang.org/protobuf v1.36.12
)
