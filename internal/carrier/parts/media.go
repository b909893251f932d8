package parts

import (
	"fmt"
	"net/netip"

	"github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/media/amd"
	"github.com/ringgate/ringgate/internal/prompts"
)

// sipMedia builds a SIP carrier's media side from its config (nil when
// rtp_ports is not set): the port range, the advertised address, the
// prompt set with the operator's recordings and TTS command, the AMD
// thresholds.
func sipMedia(c config.Carrier) (*sip.Media, error) {
	lo, hi, on, err := c.SIP.RTPRange()
	if err != nil || !on {
		return nil, err
	}
	addr, err := c.SIP.MediaAddr()
	if err != nil {
		return nil, err
	}
	bind := netip.IPv4Unspecified()
	if c.SIP.MediaBind != "" {
		if bind, err = netip.ParseAddr(c.SIP.MediaBind); err != nil {
			return nil, fmt.Errorf("media_bind: %w", err)
		}
	}
	ports, err := media.NewPorts(bind, lo, hi)
	if err != nil {
		return nil, err
	}
	var tts prompts.TTS
	if len(c.SIP.TTSCommand) > 0 {
		tts = prompts.Command{Argv: c.SIP.TTSCommand}
	}
	set, err := prompts.Load(c.SIP.Prompts, tts)
	if err != nil {
		return nil, err
	}
	a := c.SIP.AMD
	return &sip.Media{
		Ports: ports, Address: addr, Prompts: set, InBand: c.SIP.InBandDTMF, MaxDuration: c.SIP.MaxCallDuration,
		AMD:   amd.Config{Level: a.Level, InitialSilence: a.InitialSilence, MaxGreeting: a.MaxGreeting, Silence: a.Silence, Total: a.Total},
		Stats: &media.Stats{},
	}, nil
}
