package store

// Privacy provider "homework". A pupil's hand-ins (files and the feedback
// given on them) are her data: erased with her, content whose last
// reference goes is removed like a file's. A task is the group's: it
// stays when its teacher is erased, only her name as its creator goes
// (ErasedName); so does her name on feedback she gave, the feedback text
// stays with the pupil it was written for.

import (
	"encoding/json"
	"fmt"
	"io"
)

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "homework",
		Buckets:    [][]byte{bucketHomeworkTasks, bucketHomeworkHandins, bucketHomeworkGroups}, // hwgroups: ids only
		Categories: []int{CategoryTeaching},
		Keeps: "Hausaufgaben: Aufgaben (Gruppe, Titel, Text, Anhänge, Abgabetermin, wer sie gestellt hat, " +
			"Bestätigung der Ankündigung im Unterricht), Abgaben (Dateien mit Zeitpunkt, verspätet ja/nein), " +
			"Rückmeldungen der Lehrkraft",
		Retention: "Abgaben und Rückmeldungen bis zum Widerruf der Einwilligung oder dem Ende der Schulzeit der " +
			"Schülerin oder des Schülers; Aufgaben gehören der Gruppe, der Name der Lehrkraft wird bei ihrer " +
			"Löschung entfernt",
		Erase: eraseHomework,
	})
	registerExport("homework", exportHomework)
}

func eraseHomework(s *Store, account string, r *ErasureReport) error {
	err := s.eraseScan(r, "homework", bucketHomeworkHandins, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var h Handin
		if err := json.Unmarshal(v, &h); err != nil {
			return nil, false, err
		}
		if h.Pupil == account {
			for _, f := range h.Files {
				if err := t.unrefBlob(f.Hash); err != nil {
					return nil, false, err
				}
			}
			return nil, true, nil
		}
		if h.FeedbackBy != account {
			return nil, false, nil
		}
		h.FeedbackBy = ErasedName
		nv, err := json.Marshal(h)
		return nv, false, err
	})
	if err != nil {
		return err
	}
	return s.eraseScan(r, "homework", bucketHomeworkTasks, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var task Task
		if err := json.Unmarshal(v, &task); err != nil {
			return nil, false, err
		}
		if task.Creator != account {
			return nil, false, nil
		}
		task.Creator = ErasedName
		nv, err := json.Marshal(task)
		return nv, false, err
	})
}

// exportHomework writes the tasks the person set and her hand-ins with
// their files and feedback.
func exportHomework(s *Store, account string, out ExportSink) error {
	var tasks []Task
	var handins []Handin
	err := s.view(func(t *Tx) error {
		if err := t.bucket(bucketHomeworkTasks).ForEach(func(k, v []byte) error {
			var task Task
			if err := json.Unmarshal(v, &task); err != nil {
				return err
			}
			if task.Creator == account {
				tasks = append(tasks, task)
			}
			return nil
		}); err != nil {
			return err
		}
		return t.bucket(bucketHomeworkHandins).ForEach(func(k, v []byte) error {
			var h Handin
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			if h.Pupil == account {
				handins = append(handins, h)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(tasks) > 0 {
		w, err := out.Create("hausaufgaben/gestellt.json", tasks[len(tasks)-1].Created)
		if err != nil {
			return err
		}
		if err := json.NewEncoder(w).Encode(tasks); err != nil {
			return err
		}
	}
	for _, h := range handins {
		dir := fmt.Sprintf("hausaufgaben/abgaben/%d/", h.Task)
		w, err := out.Create(dir+"abgabe.json", h.FeedbackAt)
		if err != nil {
			return err
		}
		if err := json.NewEncoder(w).Encode(h); err != nil {
			return err
		}
		for _, f := range h.Files {
			if err := exportContent(s, out, dir+f.Name, f); err != nil {
				return err
			}
		}
	}
	return nil
}

func exportContent(s *Store, out ExportSink, name string, f HomeworkFile) error {
	c, err := s.OpenHomeworkContent(f.Hash)
	if err != nil {
		return err
	}
	defer c.Close()
	w, err := out.Create(name, f.Added)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, c)
	return err
}
