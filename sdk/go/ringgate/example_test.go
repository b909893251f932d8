package ringgate_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
)

func ExampleClient_Start() {
	ctx := context.Background()
	c := ringgate.New("rg_live_…", ringgate.WithBaseURL("https://verify.example.com"))
	v, err := c.Start(ctx, ringgate.StartRequest{Phone: "+442079460018", Channel: ringgate.MissedCall, ClientIP: "203.0.113.7"})
	var pe *ringgate.Error
	switch {
	case errors.As(err, &pe) && pe.Code == ringgate.CodeInvalidPhone:
		fmt.Println("ask for the number again:", pe.Detail)
		return
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("ask the user to call", v.DialNumber)
}

func ExampleClient_List() {
	c := ringgate.New("rg_live_…")
	for v, err := range c.List(context.Background(), ringgate.ListVerificationsParams{Status: ringgate.StatusFailed}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v.ID, v.Reason)
	}
}

func ExampleClient_Events() {
	c := ringgate.New("rg_live_…")
	s := c.Events(context.Background(), "vf_…")
	defer s.Close()
	for s.Next() {
		fmt.Println(s.Event().Type)
	}
	if err := s.Err(); err != nil {
		log.Fatal(err)
	}
}
