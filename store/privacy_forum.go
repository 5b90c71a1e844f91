package store

// Privacy provider "forum": posts are the author's data (Nutzungsordnung,
// Daten aus System-Modulen). Erased, the person's posts become tombstones
// without name and text (a thread keeps its shape and the others' posts
// their places, as in the chat); a thread they opened loses its title and
// their name; their read marks go; their name leaves the moderator lists
// and the moderation marks. The export lists the person's posts as JSON.

import (
	"encoding/json"
	"slices"
	"time"
)

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "forum",
		Buckets:    [][]byte{bucketForums, bucketForumThreads, bucketForumList, bucketForumPosts, bucketForumPostIdx, bucketForumRead},
		Categories: []int{CategoryModules, CategoryAutomatic},
		Keeps: "Forum: Foren der Gruppen und schulweite Foren (Titel, benannte Moderatoren), Themen und Beiträge " +
			"mit Verfasser, Text, Zeitstempel und Zitatbezug, Moderationsvermerke (wer, Grund), Lesemarken",
		Retention: "bis zum Widerruf der Einwilligung (auch nur der für E-Mail und Chat: für Foren gelten die Regeln der E-Mail) oder dem Ende der Schulzeit; gelöschte Beiträge bleiben als " +
			"Platzhalter mit dem Grund, beim Löschen der Person ohne Namen und Text",
		Comms: true,
		Erase: eraseForum,
	})
	registerExport("forum", exportForum)
}

func eraseForum(s *Store, account string, r *ErasureReport) error {
	if err := s.eraseScan(r, "forum", bucketForumPosts, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var p ForumPost
		if json.Unmarshal(v, &p) != nil || (p.Author != account && p.ModBy != account) {
			return nil, false, nil
		}
		if p.Author == account {
			p.Author, p.Text, p.Deleted, p.Hidden, p.Reason = "", "", true, false, ""
		}
		if p.ModBy == account {
			p.ModBy = ""
		}
		nv, _ := json.Marshal(p)
		return nv, false, nil
	}); err != nil {
		return err
	}
	if err := s.eraseScan(r, "forum", bucketForumThreads, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var th ForumThread
		if json.Unmarshal(v, &th) != nil || (th.Author != account && th.LastAuthor != account && th.LockedBy != account) {
			return nil, false, nil
		}
		if th.Author == account {
			th.Author, th.Title = "", ""
		}
		if th.LastAuthor == account {
			th.LastAuthor = ""
		}
		if th.LockedBy == account {
			th.LockedBy = ""
		}
		nv, _ := json.Marshal(th)
		return nv, false, nil
	}); err != nil {
		return err
	}
	if err := s.eraseScan(r, "forum", bucketForums, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var f Forum
		if json.Unmarshal(v, &f) != nil || (!f.IsNamedModerator(account) && f.CreatedBy != account) {
			return nil, false, nil
		}
		if i, ok := slices.BinarySearch(f.Moderators, account); ok {
			f.Moderators = slices.Delete(f.Moderators, i, i+1)
		}
		if f.CreatedBy == account {
			f.CreatedBy = ""
		}
		nv, _ := json.Marshal(f)
		return nv, false, nil
	}); err != nil {
		return err
	}
	return s.eraseLoop(r, "forum", func(t *Tx) (int, bool, error) {
		n, err := t.deletePrefix(bucketForumRead, []byte(account+"\x00"), eraseChunk)
		return n, n < eraseChunk, err
	})
}

// exportForum writes forum.json: every post the person wrote,
// with its forum and thread title.
func exportForum(s *Store, account string, out ExportSink) error {
	type item struct {
		ForumPost
		ThreadTitle string `json:"thread_title"`
	}
	var posts []item
	if err := s.view(func(t *Tx) error {
		return t.bucket(bucketForumPosts).ForEach(func(k, v []byte) error {
			var p ForumPost
			if json.Unmarshal(v, &p) != nil || p.Author != account {
				return nil
			}
			it := item{ForumPost: p}
			if th, err := t.ForumThread(p.Thread); err == nil {
				it.ThreadTitle = th.Title
			}
			posts = append(posts, it)
			return nil
		})
	}); err != nil {
		return err
	}
	if posts == nil {
		posts = []item{}
	}
	return writeJSONAt(out, "forum.json", time.Now().UTC(), posts)
}
