package server

import (
	"context"
	"log/slog"

	"github.com/ringgate/ringgate/internal/ivr"
)

// warnUnspeakableDialplans logs, at start, each app whose dialplan (set
// before this configuration) a carrier could not speak: a SIP trunk with
// media and no tts_command, given free text. Setting such a plan is
// refused (verify.Config.CheckDialplan); one already stored is refused at
// call time, and the operator hears of it now rather than then.
func (s *Server) warnUnspeakableDialplans(ctx context.Context) {
	apps, err := s.op.Apps(ctx)
	if err != nil {
		s.log.Warn("checking the apps' dialplans", slog.Any("err", err))
		return
	}
	for _, a := range apps {
		if a.Settings.DialplanXML == "" {
			continue
		}
		d, err := ivr.Parse([]byte(a.Settings.DialplanXML))
		if err != nil {
			continue // refused when set; cannot be stored
		}
		if err := s.carriers.CheckDialplan(d); err != nil {
			s.log.Warn("an app's voice dialplan cannot be spoken: its voice_otp calls on that trunk will be refused",
				slog.String("app", a.ID), slog.Any("err", err))
		}
	}
}
