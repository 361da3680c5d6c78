package ident_test

import (
	"errors"
	"fmt"

	"github.com/suishen/suishen/ident"
)

func ExampleValidateUSCC() {
	fmt.Println(ident.ValidateUSCC("91350100M000100Y43"))

	err := ident.ValidateUSCC("91350100M000100Y44")
	var e *ident.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code)
		fmt.Println(e.Detail)
	}

	err = ident.ValidateUSCC("91350100m000100Y43")
	if errors.As(err, &e) {
		fmt.Println(e.Code)
	}
	// Output:
	// <nil>
	// check_character
	// The unified social credit code has check character "4", but its first 17 characters give "3"; it has probably been mistyped.
	// charset
}

func ExampleNewCertificateID() {
	id, err := ident.NewCertificateID("11100000000013338W032", "11220000013544541J", "2430599", 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id)

	changed, err := id.WithVersion(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(changed)
	// Output:
	// 1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F
	// 1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.002.D
}

func ExampleParseCertificateID() {
	id, err := ident.ParseCertificateID("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.TypeCode, id.IssuerCode, id.Serial, id.Version, string(id.Check))

	_, err = ident.ParseCertificateID("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V")
	var e *ident.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code)
	}
	// Output:
	// 11100000000013338W011 11430000006122244L 20230000403 001 U
	// check_character
}

func ExampleMaskName() {
	for _, name := range []string{"张三", "李小明", "欧阳娜娜"} {
		fmt.Println(ident.MaskName(name))
	}
	fmt.Println(ident.MaskCitizenID("11010519491231002X"))
	// Output:
	// 张*
	// 李**
	// 欧**
	// 110105********002X
}
