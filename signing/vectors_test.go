package signing

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// GB/T 32905-2016 Appendix A.
func TestSM3KnownAnswers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732"},
	} {
		got := SM3([]byte(tc.in))
		if !bytes.Equal(got[:], unhex(t, tc.want)) {
			t.Errorf("SM3(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}

// GB/T 32907-2016 Appendix A.1: one block, plaintext = key.
func TestSM4KnownAnswer(t *testing.T) {
	key := unhex(t, "0123456789abcdeffedcba9876543210")
	c, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	var ct, pt [16]byte
	c.Encrypt(ct[:], key)
	if want := unhex(t, "681edf34d206965e86b3e94f536e4246"); !bytes.Equal(ct[:], want) {
		t.Fatalf("SM4 encrypt = %x, want %x", ct, want)
	}
	c.Decrypt(pt[:], ct[:])
	if !bytes.Equal(pt[:], key) {
		t.Fatalf("SM4 decrypt = %x, want %x", pt, key)
	}
}

// GB/T 32907-2016 Appendix A.2: the same block encrypted 1,000,000 times.
func TestSM4MillionIterations(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 SM4 encryptions; TestSM4KnownAnswer covers the one-block vector")
	}
	key := unhex(t, "0123456789abcdeffedcba9876543210")
	c, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	var b [16]byte
	copy(b[:], key)
	for range 1_000_000 {
		c.Encrypt(b[:], b[:])
	}
	if want := unhex(t, "595298c7c6fd271f0402f804c33d3f66"); !bytes.Equal(b[:], want) {
		t.Fatalf("SM4^1e6 = %x, want %x", b, want)
	}
}

// RFC 8998 Appendix A.1, through the exact AEAD construction Seal uses.
func TestSM4GCMRFC8998(t *testing.T) {
	aead, err := newSealAEAD(unhex(t, katGCMKey))
	if err != nil {
		t.Fatal(err)
	}
	nonce, ad, pt := unhex(t, katGCMNonce), unhex(t, katGCMAD), unhex(t, katGCMPT)
	want := unhex(t, katGCMCT)
	got := aead.Seal(nil, nonce, pt, ad)
	if !bytes.Equal(got, want) {
		t.Fatalf("SM4-GCM seal =\n%x\nwant\n%x", got, want)
	}
	back, err := aead.Open(nil, nonce, want, ad)
	if err != nil || !bytes.Equal(back, pt) {
		t.Fatalf("SM4-GCM open: %v", err)
	}
	bad := append([]byte(nil), want...)
	bad[0] ^= 1
	if _, err := aead.Open(nil, nonce, bad, ad); err == nil {
		t.Fatal("SM4-GCM opened altered ciphertext")
	}
}

// The GB/T 32918.5-2017 (GM/T 0003.5-2012) Appendix A signature example on the
// recommended curve, with ID "1234567812345678". Values cross-checked in
// several independent public implementations (GmSSL, Tongsuo, BouncyCastle
// ports); the nonce k lets this test recompute r and s with math/big.
var annexA = struct {
	d, xA, yA, id, msg, za, e, k, x1, r, s string
}{
	d:   "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8",
	xA:  "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
	yA:  "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
	id:  "1234567812345678",
	msg: "message digest",
	za:  "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3",
	e:   "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640",
	k:   "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21",
	x1:  "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73",
	r:   "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
	s:   "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
}

func annexAKey(t testing.TB) (*PrivateKey, *PublicKey) {
	t.Helper()
	priv, err := PrivateKeyFromBytes(unhex(t, annexA.d))
	if err != nil {
		t.Fatal(err)
	}
	pubBytes := append([]byte{4}, append(unhex(t, annexA.xA), unhex(t, annexA.yA)...)...)
	pub, err := PublicKeyFromBytes(pubBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Public().Equal(pub) {
		t.Fatalf("d·G = %x, want the published key %x", priv.Public().Bytes(), pubBytes)
	}
	return priv, pub
}

func TestSM2AnnexA(t *testing.T) {
	_, pub := annexAKey(t)
	msg := []byte(annexA.msg)
	sig := append(unhex(t, annexA.r), unhex(t, annexA.s)...)

	// Z_A computed here from its definition, independently of gmsm:
	// SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA).
	params := sm2.P256().Params()
	a := new(big.Int).Sub(params.P, big.NewInt(3))
	var zin []byte
	zin = append(zin, 0x00, 0x80) // 16 bytes = 128 bits
	zin = append(zin, annexA.id...)
	for _, v := range []*big.Int{a, params.B, params.Gx, params.Gy} {
		zin = append(zin, v.FillBytes(make([]byte, 32))...)
	}
	zin = append(zin, pub.Bytes()[1:]...)
	za := SM3(zin)
	if !bytes.Equal(za[:], unhex(t, annexA.za)) {
		t.Fatalf("Z_A = %x, want %s", za, annexA.za)
	}
	gmsmZA, err := sm2.CalculateZA(pub.k, []byte(annexA.id))
	if err != nil || !bytes.Equal(gmsmZA, za[:]) {
		t.Fatalf("gmsm Z_A = %x (%v), want %x", gmsmZA, err, za)
	}
	e := SM3(append(za[:], msg...))
	if !bytes.Equal(e[:], unhex(t, annexA.e)) {
		t.Fatalf("e = %x, want %s", e, annexA.e)
	}

	// (x1, y1) = [k]G; r = (e + x1) mod n; s = (1+d)^-1 (k - r·d) mod n.
	n := params.N
	k := new(big.Int).SetBytes(unhex(t, annexA.k))
	x1, _ := sm2.P256().ScalarBaseMult(k.Bytes())
	if x1.Cmp(new(big.Int).SetBytes(unhex(t, annexA.x1))) != 0 {
		t.Fatalf("x1 = %x, want %s", x1, annexA.x1)
	}
	r := new(big.Int).Add(new(big.Int).SetBytes(e[:]), x1)
	r.Mod(r, n)
	d := new(big.Int).SetBytes(unhex(t, annexA.d))
	s := new(big.Int).Mul(r, d)
	s.Sub(k, s)
	s.Mul(s, new(big.Int).ModInverse(new(big.Int).Add(d, big.NewInt(1)), n))
	s.Mod(s, n)
	if got := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...); !bytes.Equal(got, sig) {
		t.Fatalf("recomputed (r, s) = %x, want %x", got, sig)
	}

	// The published signature verifies with the default ID...
	if !Verify(pub, msg, sig) {
		t.Fatal("published Annex A signature does not verify")
	}
	if !VerifyWithID(pub, []byte(DefaultID), msg, sig) {
		t.Fatal("published Annex A signature does not verify with the explicit default ID")
	}
	// ...and with nothing else.
	for _, id := range []string{"ALICE123@YAHOO.COM", "1234567812345679", "123456781234567"} {
		if VerifyWithID(pub, []byte(id), msg, sig) {
			t.Errorf("Annex A signature verified with ID %q", id)
		}
	}
	if VerifyWithID(pub, nil, msg, sig) {
		t.Error("Annex A signature verified with an empty ID")
	}
	if Verify(pub, []byte("message digesT"), sig) {
		t.Error("Annex A signature verified a different message")
	}
	// The digest trap: treating the message as e (no Z_A) must not verify.
	der, _ := RawToDER(sig)
	if sm2.VerifyASN1(pub.k, msg, der) {
		t.Error("Annex A signature verified without Z_A")
	}
	if !sm2.VerifyASN1(pub.k, e[:], der) {
		t.Error("Annex A signature does not verify as a signature of e")
	}
}

// Our Sign must include Z_A: its output must verify as a signature of
// e = SM3(Z_A ‖ M) and must not verify as a signature of M taken as a digest.
func TestSignIncludesZA(t *testing.T) {
	priv, pub := annexAKey(t)
	for _, msg := range [][]byte{[]byte(annexA.msg), {}, bytes.Repeat([]byte{0xa5}, 1000)} {
		sig, err := Sign(rand.Reader, priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != SignatureSize {
			t.Fatalf("len(sig) = %d", len(sig))
		}
		der, err := RawToDER(sig)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := sm2.CalculateSM2Hash(pub.k, msg, []byte(DefaultID))
		if !sm2.VerifyASN1(pub.k, e, der) {
			t.Errorf("len(msg)=%d: signature is not over SM3(Z_A || M)", len(msg))
		}
		if len(msg) > 0 && sm2.VerifyASN1(pub.k, msg, der) {
			t.Errorf("len(msg)=%d: signature verifies over M as a digest", len(msg))
		}
		if !Verify(pub, msg, sig) {
			t.Errorf("len(msg)=%d: own signature does not verify", len(msg))
		}
	}

	id := []byte("ALICE123@YAHOO.COM")
	sig, err := SignWithID(rand.Reader, priv, id, []byte(annexA.msg))
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyWithID(pub, id, []byte(annexA.msg), sig) {
		t.Error("SignWithID signature does not verify with its ID")
	}
	if Verify(pub, []byte(annexA.msg), sig) {
		t.Error("SignWithID signature verifies with the default ID")
	}
	if _, err := SignWithID(rand.Reader, priv, nil, []byte("m")); err == nil {
		t.Error("SignWithID accepted an empty ID")
	}
	if _, err := SignWithID(rand.Reader, priv, make([]byte, MaxIDLen+1), []byte("m")); err == nil {
		t.Error("SignWithID accepted an ID longer than ENTL can describe")
	}
}

func TestSelfTest(t *testing.T) {
	start := time.Now()
	if err := SelfTest(); err != nil {
		t.Fatal(err)
	}
	// Speed is measured by BenchmarkSelfTest; this only reports it.
	t.Logf("SelfTest took %v", time.Since(start))
}
