package doctor

import (
	"fmt"

	"schulhof/store"
)

// checkDatabase runs bbolt's consistency check.
func checkDatabase(st *store.Store) Finding {
	const check = "database"
	errs := st.Check()
	if len(errs) == 0 {
		v, _ := st.Schema()
		return finding(check, OK, "db.ok", v)
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return finding(check, Fail, "db.broken", len(errs), list(msgs, 3), fmt.Sprintf("%s/schulhof.db", st.Dir()))
}
