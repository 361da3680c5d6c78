package ident

// usccAlphabet is the GB 32100 character set: digits and upper-case letters
// without I, O, Z, S and V. A character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100 weights 3^i mod 31 for positions 1..17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue maps a byte to its value in usccAlphabet, or -1.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		t[usccAlphabet[i]] = int8(i)
	}
	return t
}()

// USCCLen is the length of a unified social credit code.
const USCCLen = 18

// ValidateUSCC reports whether s is a valid 统一社会信用代码 (unified social
// credit code, GB 32100-2015): 18 characters from
// 0123456789ABCDEFGHJKLMNPQRTUWXY whose last character is the MOD 31 check
// character of the first 17. Lower case is rejected (code "charset"), not
// folded: callers that want to accept it must upper-case the input
// themselves and store the canonical form.
func ValidateUSCC(s string) error {
	return validateUSCC(s, "unified social credit code")
}

// USCCCheckChar returns the check character (the 18th) for the first 17
// characters of a unified social credit code.
func USCCCheckChar(first17 string) (byte, error) {
	const what = "first 17 characters of a unified social credit code"
	if len(first17) != USCCLen-1 {
		return 0, errorf(CodeLength, "The %s must be 17 characters long, not %d.", what, len(first17))
	}
	if err := usccCharset(first17, what); err != nil {
		return 0, err
	}
	return usccCheck(first17), nil
}

// validateUSCC validates s, naming it what in error details.
func validateUSCC(s, what string) error {
	if len(s) != USCCLen {
		return errorf(CodeLength, "The %s must be 18 characters long, not %d.", what, len(s))
	}
	if err := usccCharset(s, what); err != nil {
		return err
	}
	if want := usccCheck(s[:USCCLen-1]); s[USCCLen-1] != want {
		return errorf(CodeCheckCharacter, "The %s has check character \"%c\", but its first 17 characters give \"%c\"; it has probably been mistyped.",
			what, s[USCCLen-1], want)
	}
	return nil
}

func usccCharset(s, what string) error {
	for i := 0; i < len(s); i++ {
		if usccValue[s[i]] < 0 {
			return errorf(CodeCharset, "Character %d of the %s (%s) is not allowed: only digits and the upper-case letters A-Y except I, O, S, V may be used.%s",
				i+1, what, quoteByte(s[i]), upperHint(s[i]))
		}
	}
	return nil
}

// usccCheck computes the check character of 17 characters already known to
// be in usccAlphabet.
func usccCheck(first17 string) byte {
	sum := 0
	for i, w := range usccWeights {
		sum += int(usccValue[first17[i]]) * w
	}
	return usccAlphabet[(31-sum%31)%31]
}
