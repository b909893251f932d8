package ivr

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(DefaultXML), "1")
	f.Add([]byte(seed002), "1#")
	f.Add([]byte(`<dialplan name="a"><menu name="m" maxDigits="3"><play>{{code}}</play><keypress pressed="12*"><goto>m</goto></keypress></menu><play name="p">x</play><goto>p</goto></dialplan>`), "12*")
	f.Add([]byte(`<dialplan name="a"><amd><live><goto>m</goto></live></amd><menu name="m"><keypress pressed="timeout"><goto>m</goto></keypress></menu></dialplan>`), "")
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x><dialplan/>`), "9")
	f.Fuzz(func(t *testing.T, src []byte, input string) {
		d, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if se.Line < 0 || se.Line > bytes.Count(src, []byte{'\n'})+1 || se.Msg == "" {
				t.Fatalf("bad error %+v for %d lines", se, bytes.Count(src, []byte{'\n'})+1)
			}
			return
		}
		for _, by := range []string{"human", "machine"} {
			s := d.Start(map[string]string{VarCode: input, VarApp: input})
			check := func(acts []Action) {
				for i, a := range acts {
					last := i == len(acts)-1
					if (a.Kind != Say) != last {
						t.Fatalf("action %d of %d is %+v", i, len(acts), a)
					}
				}
				if len(acts) == 0 && !s.Done() {
					t.Fatal("no actions while the session goes on")
				}
			}
			// twin is rebuilt from a snapshot before every step and must act
			// as s does.
			twin := d.Start(nil)
			resume := func() {
				t.Helper()
				var err error
				if twin, err = d.Resume(twin.Snapshot(), map[string]string{VarCode: input, VarApp: input}); err != nil {
					t.Fatalf("Resume(%q): %v", twin.Snapshot(), err)
				}
			}
			step := func(acts, twinActs []Action) {
				t.Helper()
				check(acts)
				if !reflect.DeepEqual(acts, twinActs) {
					t.Fatalf("resumed session did %+v, original %+v", twinActs, acts)
				}
			}
			resume()
			step(s.Answered(by), twin.Answered(by))
			// Each step answers a Gather; MaxGathers bounds them.
			for i := 0; i <= MaxGathers+1 && !s.Done(); i++ {
				resume()
				if i%3 == 2 {
					step(s.Timeout(), twin.Timeout())
				} else {
					step(s.Digits(input), twin.Digits(input))
				}
			}
			if !s.Done() {
				t.Fatalf("session still running after %d inputs", MaxGathers+2)
			}
		}
	})
}
