package ident

import "time"

// CitizenIDLen is the length of a second-generation citizen ID number.
const CitizenIDLen = 18

// citizenWeights are the GB 11643 weights 2^(17-i) mod 11 for positions 1..17.
var citizenWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// citizenCheckChars maps the weighted sum mod 11 to the check character.
const citizenCheckChars = "10X98765432"

// minBirthYear is the earliest birth year accepted.
const minBirthYear = 1900

// ValidateCitizenID reports whether s is a valid 18-character 公民身份号码
// (citizen ID number, GB 11643-1999):
//
//   - 17 digits followed by a check character, a digit or upper-case X
//     (lower-case x is rejected with code "charset");
//   - the first 6 digits are a plausible administrative area code: the first
//     digit is 1-8 (which also excludes 000000). 81/82/83 are accepted so
//     residence permits for people from Hong Kong, Macao and Taiwan pass;
//   - digits 7-14 are a real calendar date (YYYYMMDD, leap years counted) in
//     1900 or later and not after now's calendar date in China Standard Time
//     (UTC+8), whatever now's own location;
//   - the check character is "10X98765432"[Σ mod 11] with weights
//     7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
//
// now is the caller's clock, injected so tests can fix it. The 15-digit
// first-generation numbers are not accepted.
func ValidateCitizenID(s string, now time.Time) error {
	y, m, d, err := parseCitizenID(s)
	if err != nil {
		return err
	}
	ty, tm, td := now.In(chinaZone).Date()
	if dateKey(y, m, d) > dateKey(ty, int(tm), td) {
		return errorf(CodeDateFuture, "The birth date in the citizen ID number is after today (%04d-%02d-%02d, China Standard Time).", ty, tm, td)
	}
	return nil
}

// CitizenIDCheckChar returns the check character (the 18th) for the first 17
// digits of a citizen ID number.
func CitizenIDCheckChar(first17 string) (byte, error) {
	if len(first17) != CitizenIDLen-1 {
		return 0, errorf(CodeLength, "The first part of a citizen ID number must be 17 digits long, not %d.", len(first17))
	}
	for i := 0; i < len(first17); i++ {
		if !isDigit(first17[i]) {
			return 0, errorf(CodeCharset, "Character %d of the citizen ID number must be a digit.", i+1)
		}
	}
	return citizenCheck(first17), nil
}

// BirthDate returns the birth date in a citizen ID number, at midnight China
// Standard Time (UTC+8). It validates id as ValidateCitizenID does, except
// that it has no clock and so does not reject a date in the future.
func BirthDate(id string) (time.Time, error) {
	y, m, d, err := parseCitizenID(id)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, chinaZone), nil
}

// parseCitizenID checks everything but the future date and returns the
// birth date.
func parseCitizenID(s string) (y, m, d int, err error) {
	if len(s) != CitizenIDLen {
		return 0, 0, 0, errorf(CodeLength, "A citizen ID number must be 18 characters long, not %d.", len(s))
	}
	for i := 0; i < CitizenIDLen-1; i++ {
		if !isDigit(s[i]) {
			return 0, 0, 0, errorf(CodeCharset, "Character %d of the citizen ID number must be a digit.", i+1)
		}
	}
	switch c := s[CitizenIDLen-1]; {
	case isDigit(c) || c == 'X':
	case c == 'x':
		return 0, 0, 0, errorf(CodeCharset, "The last character of the citizen ID number must be a digit or X. Use upper-case X.")
	default:
		return 0, 0, 0, errorf(CodeCharset, "The last character of the citizen ID number must be a digit or X.")
	}
	if s[0] < '1' || s[0] > '8' {
		return 0, 0, 0, errorf(CodeAreaCode, "The citizen ID number does not start with a valid area code: the first digit must be 1-8.")
	}
	y, m, d = atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
	if y < minBirthYear {
		return 0, 0, 0, errorf(CodeDateInvalid, "The birth date in the citizen ID number is before %d.", minBirthYear)
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, errorf(CodeDateInvalid, "The birth date in the citizen ID number (characters 7-14) is not a real calendar date.")
	}
	if want := citizenCheck(s[:CitizenIDLen-1]); s[CitizenIDLen-1] != want {
		return 0, 0, 0, errorf(CodeCheckCharacter, "The check character of the citizen ID number does not match its first 17 digits; it has probably been mistyped.")
	}
	return y, m, d, nil
}

// citizenCheck computes the check character of 17 digits.
func citizenCheck(first17 string) byte {
	sum := 0
	for i, w := range citizenWeights {
		sum += int(first17[i]-'0') * w
	}
	return citizenCheckChars[sum%11]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi converts a short string of digits already checked by isDigit.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func dateKey(y, m, d int) int { return y*10000 + m*100 + d }
