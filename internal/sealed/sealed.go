// Package sealed closes an interface that spans packages to code outside
// this module. An unexported method seals an interface to one package;
// an exported method whose argument is a type from this internal package
// seals it to the module, since only the module's packages can import it
// and so write the method.
package sealed

// Token is the argument of the JobEvent method that marks the events of a
// training job: ml/train's (the run's phases, epochs and end) and app's
// (the scan of the folder before the run), which app.Event holds alike.
type Token struct{}
