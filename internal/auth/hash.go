package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's cost parameters. They are written into every
// hash (PHC string form), so raising them later only affects new hashes.
type HashParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// UserParams hash passwords people choose: OWASP's argon2id setting
// (19 MiB, 2 passes, 1 lane) — about 30 ms here, bounded memory per login.
var UserParams = HashParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// OneTimeParams hash the random one-time passwords Schulhof generates
// (about 70 bits of entropy, changed at first login). Their strength is in
// the randomness, so a cheap hash is safe and keeps a 3,000-pupil import
// fast.
var OneTimeParams = HashParams{MemoryKiB: 1024, Time: 1, Threads: 1}

// hashSlots bounds concurrent argon2 runs so a burst of logins cannot use
// more than NumCPU×19 MiB or starve other work.
var hashSlots = make(chan struct{}, runtime.NumCPU())

const saltLen, keyLen = 16, 32

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id PHC string for a password.
func HashPassword(pw string, p HashParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := derive([]byte(pw), salt, p, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func derive(pw, salt []byte, p HashParams, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, n)
}

var errBadHash = errors.New("malformed password hash")

// CheckPassword compares a password with a PHC string in constant time.
func CheckPassword(pw, phc string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.MemoryKiB > 1<<20 || p.Time > 16 || p.Time == 0 || p.Threads == 0 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errBadHash
	}
	got := derive([]byte(pw), salt, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when an account does not exist, so the
// answer takes as long as for a wrong password.
var dummyHash, _ = HashPassword("dummy password for timing", UserParams)

// One-time passwords avoid characters that are easy to misread on a
// printed letter (0/O, 1/l/I).
const (
	otUpper = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	otLower = "abcdefghijkmnopqrstuvwxyz"
	otDigit = "23456789"
)

// GenerateOneTime returns a random password such as "Kp7w-Rm4z-Xa9d": three
// blocks of upper, digit, lower letters joined by "-", which satisfies
// PW-STRENGTH and reads well on a password letter.
func GenerateOneTime() string {
	var b strings.Builder
	for block := 0; block < 3; block++ {
		if block > 0 {
			b.WriteByte('-')
		}
		b.WriteByte(pick(otUpper))
		b.WriteByte(pick(otLower))
		b.WriteByte(pick(otDigit))
		b.WriteByte(pick(otLower + otUpper + otDigit))
	}
	return b.String()
}

// pick returns a uniformly random byte of set (rejection sampling).
func pick(set string) byte {
	limit := 256 - 256%len(set)
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
		if int(b[0]) < limit {
			return set[int(b[0])%len(set)]
		}
	}
}
