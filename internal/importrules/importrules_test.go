package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/clasifica/clasifica"

// frontEnds are the packages that face people: their code may use ml/ only
// as vocabulary. The command line's path is one constant so that moving it
// changes one line.
var frontEnds = []string{module + "/ui/...", cliPath + "/..."}

// cliPath is the command line's package.
const cliPath = module + "/cli"

// vocabulary are the ml/ packages whose types the front ends may name:
// what a job takes (options), reports (events) and returns (results). The
// others (graph builders, weight readers, the runtime's innards) are
// machinery that only app and ml/ itself use.
var vocabulary = map[string]bool{
	"backbone": true, "dataset": true, "decisions": true, "doctor": true,
	"eval": true, "explain": true, "features": true, "finetune": true,
	"model": true, "onnxrt": true, "photo": true, "selective": true, "train": true,
}

// pure are the functions and methods of ml/ that the front ends may call:
// they compute from their arguments and receiver alone, reading no file,
// writing none and running no model (eval.Report.WriteTable formats to the
// writer it is given). Anything else, a new call included, is an action
// and belongs behind an app entry point. Methods are written
// package.Type.Method.
var pure = map[string]bool{
	"dataset.Count":                 true,
	"dataset.DefaultOptions":        true,
	"dataset.Dataset.Counts":        true,
	"dataset.Dataset.Summary":       true,
	"dataset.Dataset.WithChanges":   true,
	"dataset.LayoutError.Error":     true,
	"dataset.Split.String":          true,
	"dataset.SplitCounts.Total":     true,
	"decisions.ParseHash":           true,
	"doctor.NearCopy.Contradiction": true,
	"doctor.NearCopy.CrossSplit":    true,
	"eval.Report.WriteTable":        true,
	"explain.HeatImage":             true,
	"explain.LayerNamed":            true,
	"explain.Map.Grid":              true,
	"model.Threshold.Point":         true,
	"selective.Measure":             true,
	"features.Progress.Rate":        true,
	"features.Progress.Remaining":   true,
	"onnxrt.AutoOrder":              true,
	"onnxrt.ParseProvider":          true,
	"onnxrt.Provider.String":        true,
	"onnxrt.Session.FallbackReason": true,
	"train.DefaultOptions":          true,
	"train.Options.Validate":        true,
}

// listed is what the test reads of go list's report on a package.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string // tests and files that import "C" left out
	CgoFiles   []string
	Export     string // the compiled export data
	Error      *struct{ Err string }
}

// goList runs go list -export -deps -json on patterns: every package the
// front ends build on, with the compiled export data their types come from.
func goList(t *testing.T, patterns ...string) []listed {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-json"}, patterns...)...)
	cmd.Dir = "../.." // the module's root, whatever the patterns
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", patterns, err)
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// frontEnd reports whether the package at path is one of the front ends.
func frontEnd(path string) bool {
	for _, f := range frontEnds {
		base := strings.TrimSuffix(f, "/...")
		if path == base || strings.HasPrefix(path, base+"/") {
			return true
		}
	}
	return false
}

// exportImporter imports packages from the export data go list reported.
func exportImporter(pkgs []listed) types.Importer {
	exports := map[string]string{}
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
	}
	return importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
}

// check type-checks the files of the package at path and returns a line
// for each ml/ package outside the vocabulary that it imports, and for
// each function or method of ml/ that it uses (calls or takes as a value)
// and that is not known to be pure. Types, constants, variables and
// fields are vocabulary and pass.
func check(path string, fset *token.FileSet, files []*ast.File, imp types.Importer) ([]string, error) {
	var problems []string
	for _, f := range files {
		for _, spec := range f.Imports {
			ip := strings.Trim(spec.Path.Value, `"`)
			if name, ok := strings.CutPrefix(ip, module+"/ml/"); ok && !vocabulary[name] {
				problems = append(problems, fmt.Sprintf("%s: imports %s, which is machinery, not vocabulary", fset.Position(spec.Pos()), ip))
			}
		}
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check(path, fset, files, info); err != nil {
		return nil, fmt.Errorf("type-check %s: %w", path, err)
	}
	for id, obj := range info.Uses {
		fn, ok := obj.(*types.Func)
		if !ok || fn.Pkg() == nil {
			continue
		}
		name, ok := strings.CutPrefix(fn.Pkg().Path(), module+"/ml/")
		if !ok {
			continue
		}
		key := name + "." + fn.Name()
		if recv := fn.Signature().Recv(); recv != nil {
			rt := recv.Type()
			if ptr, ok := rt.(*types.Pointer); ok {
				rt = ptr.Elem()
			}
			if named, ok := rt.(*types.Named); ok {
				key = name + "." + named.Obj().Name() + "." + fn.Name()
			}
		}
		if !pure[key] {
			problems = append(problems, fmt.Sprintf("%s: uses %s, an action: call it through app", fset.Position(id.Pos()), key))
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// TestFrontEndsUseMLAsVocabulary checks the front ends' code (tests left
// out: they may build what they check) with check.
func TestFrontEndsUseMLAsVocabulary(t *testing.T) {
	pkgs := goList(t, frontEnds...)
	imp := exportImporter(pkgs)
	checked := 0
	for _, p := range pkgs {
		if !frontEnd(p.ImportPath) {
			continue
		}
		checked++
		if len(p.CgoFiles) > 0 {
			t.Fatalf("%s: the check type-checks pure Go files only, not %v", p.ImportPath, p.CgoFiles)
		}
		fset := token.NewFileSet()
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		problems, err := check(p.ImportPath, fset, files, imp)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	if checked == 0 {
		t.Fatalf("no front-end package among %v", frontEnds)
	}
}

// TestCheckFindsActions shows that check catches what it is for: an
// action called directly, one reached through a method, one taken as a
// value, and an import of machinery, while vocabulary passes.
func TestCheckFindsActions(t *testing.T) {
	const src = `package front

import (
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnx"
)

var _ = onnx.Opset

func info(dir string, p features.Progress, m *model.Model) (int, error) {
	_ = p.Rate()
	_ = m.Labels
	c, err := features.OpenCache(dir)
	if err != nil {
		return 0, err
	}
	n, _, err := c.Stats()
	read := model.ReadFile
	_ = read
	return n, err
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "front.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := check("front", fset, []*ast.File{f}, exportImporter(goList(t, module+"/ml/features", module+"/ml/model", module+"/ml/onnx")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"front.go:6:2: imports " + module + "/ml/onnx, which is machinery, not vocabulary",
		"front.go:14:21: uses features.OpenCache, an action: call it through app",
		"front.go:18:17: uses features.Cache.Stats, an action: call it through app",
		"front.go:19:16: uses model.ReadFile, an action: call it through app",
	}
	sort.Strings(want)
	if strings.Join(problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("check found\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}
