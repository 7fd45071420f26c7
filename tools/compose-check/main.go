// compose-check validates compose files with compose-go, the library `docker compose` itself uses:
// schema validation, interpolation and normalisation, as `docker compose config` does. Variables the
// file interpolates are given placeholder values, since a Portainer stack gets them from its env list.
//
//	compose-check <compose.yaml> [<compose.yaml> ...]
package main

import (
	"context"
	"fmt"
	"os"
	"regexp"

	"github.com/compose-spec/compose-go/v2/cli"
)

var variable = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func check(file string) error {
	content, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	env := []string{}
	for _, m := range variable.FindAllStringSubmatch(string(content), -1) {
		env = append(env, m[1]+"=placeholder")
	}
	options, err := cli.NewProjectOptions([]string{file}, cli.WithName("compose-check"), cli.WithEnv(env))
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	for name, service := range project.Services {
		if service.Build != nil {
			return fmt.Errorf("service %q has a build section: a Portainer stack must reference registry images", name)
		}
	}
	fmt.Printf("compose-check: %s ok (%d services)\n", file, len(project.Services))
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <compose.yaml> ...")
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[1:] {
		if err := check(file); err != nil {
			fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", file, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
