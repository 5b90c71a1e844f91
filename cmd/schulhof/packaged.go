package main

import "os"

// packagedConfig is the config file of the Debian package, set by
// packaging/build-deb.sh (-X main.packagedConfig=/etc/schulhof/schulhof.toml):
// the installed binary reads it when no --config is given, so that
// `schulhof user add ...` reaches the installed server. A build from source
// leaves it empty and runs on the embedded defaults.
var packagedConfig string

func packagedConfigFile() string {
	if packagedConfig == "" {
		return ""
	}
	if _, err := os.Stat(packagedConfig); err != nil {
		return "" // package removed, config deleted: the defaults, as from source
	}
	return packagedConfig
}
