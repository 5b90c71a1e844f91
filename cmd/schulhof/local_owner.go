package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// checkLocalUser refuses root opening a data directory that belongs to
// another user (the packaged /var/lib/schulhof belongs to schulhof) when
// no server runs: files root creates there could not be written by the
// service afterwards. Over the admin socket root is fine: the server
// writes, as itself.
func checkLocalUser(dataDir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return nil // missing: store.Open creates it, or says why not
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	owner := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	return fmt.Errorf("%s gehört dem Benutzer %s, und kein Server läuft: als root angelegte Dateien könnte der Dienst nicht mehr schreiben. Bitte als dieser Benutzer aufrufen: sudo -u %s schulhof ... (oder den Server starten: systemctl start schulhof)", dataDir, owner, owner)
}
