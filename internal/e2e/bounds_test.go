package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"schulhof/policy"
)

// TestEveryBoundIsTested holds policy.BoundTable against the tests: every
// bound must be named by at least one test outside policy, the test that
// sends more than the bound allows — by its constant (policy.MIMEParts, to
// read or set the number) or by its key in a string (the refusal names it:
// "(mime_parts)"). A new row without such a test fails here.
func TestEveryBoundIsTested(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()

	// The constant names of the keys, from policy's own source.
	src, err := parser.ParseFile(fset, filepath.Join(root, "policy", "bounds.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keyOf := map[string]policy.BoundKey{} // constant name → key
	for _, d := range src.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "BoundKey" || len(vs.Values) != 1 {
				continue
			}
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				keyOf[vs.Names[0].Name] = policy.BoundKey(strings.Trim(lit.Value, `"`))
			}
		}
	}
	if len(keyOf) != len(policy.BoundTable) {
		t.Fatalf("found %d key constants in policy/bounds.go, the table has %d rows", len(keyOf), len(policy.BoundTable))
	}

	tested := map[policy.BoundKey][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "third_party" || d.Name() == ".git" || path == filepath.Join(root, "policy")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				for _, k := range keyOf {
					if strings.Contains(lit.Value, string(k)) {
						tested[k] = append(tested[k], path)
					}
				}
			}
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "policy" {
					if k, ok := keyOf[sel.Sel.Name]; ok {
						tested[k] = append(tested[k], path)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range policy.BoundTable {
		if len(tested[b.Key]) == 0 {
			t.Errorf("bound %s (%s) is named by no test outside policy: write the test that sends more than it allows", b.Key, b.Rule)
		}
	}
}
